"""The built-in tests, where users import them from: ``from nerperf.suite import test_f1_floor, ...``.

They live in :mod:`nerperf.plugin.builtin_tests`; this module keeps the import (and ``pytest --pyargs
nerperf.suite``) working.
"""

from nerperf.plugin.builtin_tests import test_f1_floor, test_latency, test_throughput

__all__ = ["test_f1_floor", "test_latency", "test_throughput"]
