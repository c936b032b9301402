"""nerperf's built-in suite as a user runs it: F1 floors, latency and throughput per checkpoint × variant.

The plugin parametrizes these over the settings (pyproject.toml, and the offline defaults of the
repository's conftest.py): the study's checkpoints, skipped with their reason where their weights
cannot be had, and the offline checkpoints in ../shared/models. ``pytest --benchmark-only`` runs them.
"""

from nerperf.suite import test_f1_floor, test_latency, test_throughput

__all__ = ["test_f1_floor", "test_latency", "test_throughput"]
