"""pytest-benchmark's and asv's JSON files, written atomically like nerperf's own (:mod:`nerperf.atomic`).

Both libraries write their history in place (``open(path, "w")``, then ``json.dump``). A run killed
while writing leaves a truncated file: pytest-benchmark's ``--benchmark-json`` loses the previous
report, and a truncated asv results file loses that commit's history and stops ``asv publish``. Until
they write atomically themselves, nerperf wraps the three writers, each keeping its library's format
byte for byte:

- pytest-benchmark's ``BenchmarkSession.save_json`` and ``FileStorage.save``: by nerperf's pytest
  plugin, in runs that use nerperf (:mod:`nerperf.plugin.benchmark_internals`);
- asv's ``util.write_json``: by asv itself, which imports the modules that ``asv.conf.json`` lists in
  ``"plugins"`` (``".nerperf.durable_history"``) and calls their ``setup()``.

A library whose writer is not where this module expects (a new version) raises :class:`WriterChanged`,
naming the writer and the library's version: the run stops rather than write history that an
interruption could truncate.
"""

from __future__ import annotations

import functools
import inspect
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from nerperf.atomic import replacing, write_atomic

_WRAPPED = "__nerperf_atomic__"


class WriterChanged(RuntimeError):
    """A library's JSON writer is not the one nerperf makes atomic (a version nerperf does not support)."""


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
        _replace(session.BenchmarkSession, "save_json", ["self", "output_json"], save_json),
        _replace(file.FileStorage, "save", ["self", "output_json", "save"], save),
    ]


def wrap_asv() -> list[str]:
    """Make asv's ``util.write_json`` (results, benchmarks.json, machine files, published pages) atomic."""
    from asv import util

    original = getattr(util, "write_json", None)
    if original is None:
        raise WriterChanged("has no asv.util.write_json")

    @functools.wraps(original)
    def write_json(path: str, data: Any, api_version: int | None = None, compact: bool = False) -> None:
        with replacing(Path(os.path.abspath(path))) as temporary:
            original(str(temporary), data, api_version=api_version, compact=compact)

    return [_replace(util, "write_json", ["path", "data", "api_version", "compact"], write_json)]


def setup() -> None:
    """asv's plugin hook: called once when asv imports this module from ``asv.conf.json``'s plugins."""
    from importlib.metadata import version

    try:
        wrap_asv()
    except WriterChanged as error:
        said = f"nerperf: asv {version('asv')} {error}; install the asv release that nerperf[history] names"
        raise WriterChanged(said) from None


def _replace(owner: Any, attribute: str, parameters: list[str], replacement: Callable[..., Any]) -> str:
    """Put ``replacement`` in place of ``owner.attribute``, which must have the expected parameters."""
    owner_name = owner.__name__ if inspect.ismodule(owner) else f"{owner.__module__}.{owner.__qualname__}"
    name = f"{owner_name}.{attribute}"
    current = getattr(owner, attribute, None)
    if getattr(current, _WRAPPED, False):
        return name
    found = None if current is None else list(inspect.signature(current).parameters)
    if found != parameters:
        has = "has no such writer" if found is None else f"has {name}{tuple(found)}"
        raise WriterChanged(f"{has}, not the writer nerperf makes atomic, {name}{tuple(parameters)}")
    setattr(replacement, _WRAPPED, True)
    setattr(owner, attribute, replacement)
    return name
