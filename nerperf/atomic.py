"""Writing a file so that a crash, a Ctrl-C or a full disk never leaves half of one.

Every file nerperf writes (results, reports, cached variants' manifests) goes to a temporary file beside
its target, is flushed to disk, and is renamed over the target: readers see the old file or the new
one, never a mixture. A process killed outright (SIGKILL, out of memory) can leave the temporary file,
named ``.NAME.*.tmp``; it is never read and can be deleted. :mod:`nerperf.durable_history` applies the
same rule to pytest-benchmark's and asv's JSON files.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

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
