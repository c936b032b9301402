"""Quantizers that crash or fail, for tests/test_isolated_build.py: its child processes import them by name."""

from __future__ import annotations

import os
import signal
from pathlib import Path
from typing import Any


def crashes_once(source: Path, directory: Path, batches: list[dict[str, Any]]) -> dict[str, Any]:
    """Leaves a file and dies by SIGSEGV the first time for ``source``; the next time reports what it was given."""
    found = sorted(p.name for p in directory.iterdir())
    marker = source / "crashed"
    if not marker.exists():
        marker.touch()
        (directory / "half-written.bin").write_bytes(b"\0" * 10)
        os.kill(os.getpid(), signal.SIGSEGV)
    (directory / "model.bin").write_bytes(b"int8")
    return {
        "found_in_directory": found,
        "batches": [{name: [str(value.dtype), value.tolist()] for name, value in batch.items()} for batch in batches],
    }


def always_crashes(source: Path, directory: Path, batches: list[dict[str, Any]]) -> dict[str, Any]:
    (directory / "half-written.bin").write_bytes(b"\0" * 10)
    os.kill(os.getpid(), signal.SIGSEGV)
    raise AssertionError("not reached")


def fails(source: Path, directory: Path, batches: list[dict[str, Any]]) -> dict[str, Any]:
    print("the quantizer's own output")
    raise ValueError(f"no calibration range for tensor x in {source.name}")


def is_killed(source: Path, directory: Path, batches: list[dict[str, Any]]) -> dict[str, Any]:
    """Dies as the out-of-memory killer ends a process; counts its attempts in ``source``."""
    with (source / "attempts").open("a") as attempts:
        attempts.write("1")
    os.kill(os.getpid(), signal.SIGKILL)
    raise AssertionError("not reached")
