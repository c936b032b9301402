"""What the plugin needs of pytest-benchmark beyond its public hooks and options, each checked where used.

pytest-benchmark's public surface covers timing and metadata: the ``benchmark`` fixture (``pedantic``,
``extra_info``, ``group``), the hook ``pytest_benchmark_update_machine_info`` and the option
``--benchmark-only``. Three things nerperf needs have no public way:

- its F1 floors, tests without the ``benchmark`` fixture, kept under ``--benchmark-only``, where
  pytest-benchmark marks every such test ``skip`` with a reason nerperf recognises and takes off;
- its JSON files written atomically: :func:`wrap_pytest_benchmark` replaces ``BenchmarkSession.save_json``
  and ``FileStorage.save`` with :mod:`nerperf.atomic`'s writer (no hook writes the file);
- the raw timing of every round, for the gate's pairs: ``benchmark.stats.stats.data`` and ``.total``.

Each is checked where it is used, in runs that use nerperf only. Where the installed pytest-benchmark no
longer has one, the run stops with :class:`Unsupported`, naming its version and the range nerperf declares,
instead of going on without floors, durable files or samples.
"""

from __future__ import annotations

from importlib import metadata
from pathlib import Path
from typing import Any

import pytest

from nerperf.atomic import WriterChanged, replace_writer, write_atomic

# The reason pytest-benchmark gives the skip mark it puts on tests without its fixture under --benchmark-only.
BENCHMARK_ONLY_SKIP = "(--benchmark-only active)"


class Unsupported(pytest.UsageError):
    """The installed pytest-benchmark lacks something nerperf relies on; the message names both."""

    def __init__(self, what: str) -> None:
        super().__init__(
            f"nerperf: pytest-benchmark {installed_version()} {what}. nerperf supports pytest-benchmark "
            f"{declared_range()}: install a release in that range (pip install 'pytest-benchmark{declared_range()}')"
        )


def installed_version() -> str:
    try:
        return metadata.version("pytest-benchmark")
    except metadata.PackageNotFoundError:
        return "(not installed)"


def declared_range() -> str:
    """The pytest-benchmark range in nerperf's installed metadata, e.g. ``>=5.3.1``."""
    from packaging.requirements import Requirement  # pytest's own dependency

    try:
        requirements = [Requirement(r) for r in metadata.requires("nerperf") or []]
    except metadata.PackageNotFoundError:
        requirements = []
    found = [str(r.specifier) for r in requirements if r.name.lower().replace("_", "-") == "pytest-benchmark"]
    return found[0] if found else "(see nerperf's pyproject.toml)"


def keep_under_benchmark_only(config: pytest.Config, item: pytest.Item) -> None:
    """Take pytest-benchmark's ``--benchmark-only`` skip off ``item`` (an F1 floor); where the run is under
    ``--benchmark-only`` and no such mark is there, pytest-benchmark skips some other way: stop."""
    if not _benchmark_only(config):
        return
    kept = [m for m in item.own_markers if not _is_benchmark_only_skip(m)]
    if len(kept) == len(item.own_markers):
        raise Unsupported(
            f"did not mark {item.nodeid} skip(reason='...{BENCHMARK_ONLY_SKIP}') under --benchmark-only, "
            "so nerperf cannot keep its F1 floors in this run"
        )
    item.own_markers[:] = kept


def round_timings(benchmark: Any) -> tuple[list[float], float]:
    """Every timed round's seconds, in order, and their total, as pytest-benchmark recorded them."""
    stats = getattr(getattr(benchmark, "stats", None), "stats", None)
    data, total = getattr(stats, "data", None), getattr(stats, "total", None)
    if not isinstance(data, list) or not isinstance(total, int | float):
        raise Unsupported("has no benchmark.stats.stats.data and .total (each round's seconds and their sum)")
    return list(data), float(total)


def make_history_durable() -> None:
    """pytest-benchmark's two JSON writers made atomic (:mod:`nerperf.atomic`), or stop."""
    try:
        wrap_pytest_benchmark()
    except WriterChanged as error:
        raise Unsupported(f"{error}, so an interrupted run could truncate its saved benchmarks") from None


def _benchmark_only(config: pytest.Config) -> bool:
    return bool(config.pluginmanager.hasplugin("benchmark") and config.getoption("benchmark_only", False))


def _is_benchmark_only_skip(mark: pytest.Mark) -> bool:
    return mark.name == "skip" and BENCHMARK_ONLY_SKIP in str(mark.kwargs.get("reason", ""))


def wrap_pytest_benchmark() -> list[str]:
    """Make pytest-benchmark's two JSON writers atomic; returns what was wrapped."""
    from pytest_benchmark import session, utils
    from pytest_benchmark.storage import file

    def save_json(self: Any, output_json: Any) -> None:
        write_atomic(Path(self.json), utils.safe_dumps(output_json, ensure_ascii=True, indent=4).encode())
        self.logger.info(f"Wrote benchmark data in: {self.json}", purple=True)

    def save(self: Any, output_json: Any, save: str) -> None:
        output_file = self.get(f"{self._next_num}_{save}.json")
        if output_file.exists():
            raise FileExistsError(f"{output_file} exists; pytest-benchmark never overwrites a saved run")
        write_atomic(output_file, utils.safe_dumps(output_json, ensure_ascii=True, indent=4).encode())
        self.logger.info(f"Saved benchmark data in: {output_file}")

    for owner, used in ((utils, "safe_dumps"), (file.FileStorage, "get"), (file.FileStorage, "_next_num")):
        if not hasattr(owner, used):  # what the two writers below call, as pytest-benchmark's own do
            raise WriterChanged(f"has no {getattr(owner, '__qualname__', owner.__name__)}.{used}")
    return [
        replace_writer(session.BenchmarkSession, "save_json", ["self", "output_json"], save_json),
        replace_writer(file.FileStorage, "save", ["self", "output_json", "save"], save),
    ]
