"""The on-disk cache of built variants (ONNX exports, quantized graphs).

An entry is a directory named by a key: the checkpoint's content fingerprint, the variant's name and
recipe, and the versions of the libraries that built it, so a new checkpoint, recipe or library gives a
new entry instead of trusting an old one. An entry is built in a temporary directory and renamed into
place only when complete, with a manifest of its files' sizes and SHA-256 written last; an entry whose
manifest is missing or does not match its files (an interrupted or corrupted build) is rebuilt. A file
lock keeps two processes from building the same entry at once; the process holding it also deletes
what a killed build of that entry left behind. The lock's empty file (``ENTRY.lock``) stays when its entry
is removed, by design: deleted, a process still waiting on the old file and one that creates a new file
could both hold "the" lock (py-filelock leaves its Unix lock files for the same reason).

Root: the ``cache_dir`` setting (``$NERPERF_CACHE_DIR``), else ``$XDG_CACHE_HOME/nerperf``, else
``~/.cache/nerperf``. ``$NERPERF_CACHE``, its name before nerperf 0.2, still works, with a warning.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import tempfile
import time
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nerperf.settings import BY_NAME, environment_value

MANIFEST = "nerperf-entry.json"
_CHUNK = 1 << 20


OLD_VARIABLE = "NERPERF_CACHE"


def default_root() -> Path:
    configured = environment_value("cache_dir")
    if configured:
        return Path(configured)
    if os.environ.get(OLD_VARIABLE):
        warnings.warn(
            f"${OLD_VARIABLE} is deprecated: set ${BY_NAME['cache_dir'].env} instead (the cache_dir setting)",
            DeprecationWarning,
            stacklevel=2,
        )
        return Path(os.environ[OLD_VARIABLE])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "nerperf"


def file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def directory_fingerprint(directory: Path) -> str:
    """SHA-256 over the names and contents of a directory's files (hidden files and subfolders skipped)."""
    digest = hashlib.sha256()
    for path in sorted(p for p in directory.iterdir() if p.is_file() and not p.name.startswith(".")):
        digest.update(path.name.encode() + b"\0" + file_digest(path).encode() + b"\0")
    return digest.hexdigest()


@dataclass(frozen=True)
class Entry:
    directory: Path
    size_bytes: int  # of the entry's files
    build_s: float  # when it was built (a reused entry keeps its original build time)
    from_cache: bool
    details: dict[str, Any]  # what the builder reported (fusions, quantization options)


def entry_key(parts: Mapping[str, str]) -> str:
    return hashlib.sha256(json.dumps(dict(parts), sort_keys=True).encode()).hexdigest()


def get_or_build(
    root: Path,
    label: str,
    parts: Mapping[str, str],
    build: Callable[[Path], dict[str, Any]],
) -> Entry:
    """The entry for ``parts`` under ``root``, built by ``build(directory) -> details`` when absent or bad.

    ``label`` makes the directory name readable (checkpoint and variant); the key decides identity.
    """
    from filelock import FileLock

    key = entry_key(parts)
    directory = root / f"{_slug(label)}-{key[:16]}"
    root.mkdir(parents=True, exist_ok=True)
    with FileLock(str(directory) + ".lock"):
        _sweep(directory)
        found = _read_valid(directory, key)
        if found is not None:
            _mark_used(directory)
            return found
        _remove(directory)
        staging = Path(tempfile.mkdtemp(dir=root, prefix=f".{directory.name}.", suffix=".building"))
        try:
            started = time.perf_counter()
            details = build(staging)
            build_s = time.perf_counter() - started
            files = {p.name: {"bytes": p.stat().st_size, "sha256": file_digest(p)} for p in _files(staging)}
            if not files:
                raise RuntimeError(f"building {label} wrote no files")
            manifest = {"key": key, "parts": dict(parts), "build_s": build_s, "details": details, "files": files}
            (staging / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
            os.replace(staging, directory)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
    return Entry(directory, sum(f["bytes"] for f in files.values()), build_s, False, details)


def verify(directory: Path) -> Entry | None:
    """The entry in ``directory`` if it is whole (its manifest's files, sizes and digests), else None."""
    try:
        key = json.loads((directory / MANIFEST).read_text())["key"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return _read_valid(directory, key)


def _read_valid(directory: Path, key: str) -> Entry | None:
    """The entry if its manifest is there, is for ``key``, and every file matches it; else None."""
    try:
        manifest = json.loads((directory / MANIFEST).read_text())
        files = manifest["files"]
        if manifest["key"] != key or {p.name for p in _files(directory)} != set(files):
            return None
        for name, expected in files.items():
            path = directory / name
            if path.stat().st_size != expected["bytes"] or file_digest(path) != expected["sha256"]:
                return None
        return Entry(directory, sum(f["bytes"] for f in files.values()), manifest["build_s"], True, manifest["details"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _mark_used(directory: Path) -> None:
    """The manifest's time is the entry's last use, which ``nerperf cache`` removes unused entries by; a
    cache on a read-only disk is still read."""
    with contextlib.suppress(OSError):
        os.utime(directory / MANIFEST)


def last_used(directory: Path) -> float:
    """When the entry was last built or reused (its manifest's time), or its directory's where it has none."""
    try:
        return (directory / MANIFEST).stat().st_mtime
    except OSError:
        return directory.stat().st_mtime


def remove_entry(directory: Path) -> bool:
    """Remove an entry and what a killed build of it left; False, leaving it, while a process holds its lock
    (building it, or reading it in)."""

    def remove() -> None:
        _sweep(directory)
        _remove(directory)

    return _unless_locked(directory, remove)


def remove_leftover(path: Path) -> bool:
    """Remove what a killed build or removal left (``.ENTRY.RANDOM.building`` or ``.stale``), under its
    entry's lock; False, leaving it, while a process holds that lock (the build may be running)."""
    entry = path.parent / path.name[1:].rsplit(".", 2)[0]
    return _unless_locked(entry, lambda: shutil.rmtree(path, ignore_errors=True))


def _unless_locked(entry: Path, action: Callable[[], Any]) -> bool:
    """Run ``action`` holding ``entry``'s lock, at once or not at all (False: another process holds it)."""
    from filelock import FileLock, Timeout

    try:
        with FileLock(str(entry) + ".lock", timeout=0):
            action()
    except Timeout:
        return False
    return True


def _files(directory: Path) -> list[Path]:
    return sorted(p for p in directory.iterdir() if p.is_file() and p.name != MANIFEST)


def _sweep(directory: Path) -> None:
    """Delete what a killed build or removal of this entry left (called under the entry's lock, so no
    other process is using them)."""
    for leftover in directory.parent.glob(f".{directory.name}.*"):
        if leftover.suffix in {".building", ".stale"}:
            shutil.rmtree(leftover, ignore_errors=True)


def _remove(directory: Path) -> None:
    """Move a stale entry aside, then delete it, so no reader ever sees it half-deleted."""
    if not directory.exists():
        return
    doomed = Path(tempfile.mkdtemp(dir=directory.parent, prefix=f".{directory.name}.", suffix=".stale"))
    os.replace(directory, doomed / "entry")
    shutil.rmtree(doomed, ignore_errors=True)


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_")[-80:] or "entry"
