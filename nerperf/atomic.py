"""Writing a file so that a crash, a Ctrl-C or a full disk never leaves half of one.

Every file nerperf writes (results, reports, cached variants' manifests) goes to a temporary file beside
its target, is flushed to disk, and is renamed over the target: readers see the old file or the new
one, never a mixture. A process killed outright (SIGKILL, out of memory) can leave the temporary file,
named ``.NAME.*.tmp``; it is never read and can be deleted.
pytest-benchmark and asv write their history in place (``open(path, "w")``, then ``json.dump``): a run
killed while writing leaves a truncated file, which loses pytest-benchmark's previous report, or a
commit's asv history and ``asv publish`` with it. Until they write atomically themselves, this module
wraps their three writers, each keeping its library's format byte for byte:

- pytest-benchmark's ``BenchmarkSession.save_json`` and ``FileStorage.save``: by nerperf's pytest
  plugin, in runs that use nerperf (:mod:`nerperf.plugin.benchmark_internals`, with :func:`replace_writer`);
- asv's ``util.write_json``: by asv itself, which imports the modules that ``asv.conf.json`` lists in
  ``"plugins"`` (``".nerperf.atomic"``) and calls their ``setup()``.

A library whose writer is not where this module expects (a new version) raises :class:`WriterChanged`,
naming the writer and the library's version: the run stops rather than write history that an
interruption could truncate.
"""

from __future__ import annotations

import functools
import inspect
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

TEMPORARY_SUFFIX = ".tmp"


def _temporary_beside(path: Path) -> str:
    """A new empty file ``.NAME.*.tmp`` in ``path``'s directory (created with its parents)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=TEMPORARY_SUFFIX)
    os.close(handle)
    return temporary


@contextmanager
def replacing(path: Path) -> Iterator[Path]:
    """A temporary path beside ``path`` to write; renamed over ``path`` only if the block completes."""
    temporary = _temporary_beside(path)
    try:
        yield Path(temporary)
        with open(temporary, "rb+") as stream:
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def write_atomic(path: Path, content: str | bytes) -> None:
    """Write ``content`` (text as UTF-8) to ``path`` through :func:`replacing`."""
    with replacing(path) as temporary:
        temporary.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)


def check_writable(path: Path) -> None:
    """Raise ``OSError`` now, before any work, if ``path`` cannot be written later (creates its directory)."""
    os.unlink(_temporary_beside(path))
    if path.is_dir():
        raise IsADirectoryError(21, "is a directory", str(path))


_WRAPPED = "__nerperf_atomic__"


class WriterChanged(RuntimeError):
    """A library's JSON writer is not the one nerperf makes atomic (a version nerperf does not support)."""


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

    return [replace_writer(util, "write_json", ["path", "data", "api_version", "compact"], write_json)]


def setup() -> None:
    """asv's plugin hook: called once when asv imports this module from ``asv.conf.json``'s plugins."""
    from importlib.metadata import version

    try:
        wrap_asv()
    except WriterChanged as error:
        said = f"nerperf: asv {version('asv')} {error}; install the asv release that nerperf[history] names"
        raise WriterChanged(said) from None


def replace_writer(owner: Any, attribute: str, parameters: list[str], replacement: Callable[..., Any]) -> str:
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
