"""What nerperf's cache directory holds, and removing what has not been used for a while (``nerperf cache``).

Beside the variant entries (:mod:`nerperf.variants.cache`) the root holds ``nerperf gate``'s work, whose
layout is named here so that this layer need not import the gate's.

The cache grows by gigabytes and nothing else removes its entries: a built variant (an ONNX export, a
quantized graph) for every checkpoint, recipe and library version met, and a gate work directory (the
sides' checkouts and their environments) for every repository gated. Each part is judged by its last use:
a variant entry's by its manifest, touched whenever it is reused (:mod:`nerperf.variants.cache`); a gate
work directory's by its environments' key files, touched whenever a gate reuses one. An entry a process
holds locked (building it) is never removed. A removed gate work directory's git worktrees are pruned
from their repository by its next gate (``git worktree prune``).
"""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from nerperf.variants import cache

# Where nerperf gate keeps its work under the same root (one directory per repository), and the file that
# holds each of its environments' keys, touched whenever a gate reuses the environment: declared here,
# below the gate, which uses them (nerperf.gate.command, nerperf.gate.checkouts).
GATE = "gate"
GATE_KEY_FILE = "nerperf-gate-key"
DAY_S = 86_400.0


@dataclass(frozen=True)
class Held:
    """One part of the cache: a built variant, a gate work directory, or what a killed build left."""

    kind: str  # "variant", "gate", "leftover"
    path: Path
    size_bytes: int
    last_used: float  # seconds since the epoch

    def unused_days(self, now: float) -> float:
        return max(0.0, (now - self.last_used) / DAY_S)


def survey(root: Path) -> list[Held]:
    """Every part of the cache under ``root``, largest first; empty where there is no cache yet."""
    if not root.is_dir():
        return []
    found = []
    for path in sorted(root.iterdir()):
        if path.name == GATE and path.is_dir():
            found += [_gate_work(work) for work in sorted(path.iterdir()) if work.is_dir()]
        elif path.is_dir() and path.name.startswith("."):
            found.append(Held("leftover", path, _size(path), path.stat().st_mtime))
        elif path.is_dir():
            found.append(Held("variant", path, _size(path), cache.last_used(path)))
    return sorted(found, key=lambda held: held.size_bytes, reverse=True)


def remove_unused(root: Path, days: float, now: float | None = None) -> tuple[list[Held], list[Held]]:
    """Remove every part unused for at least ``days`` days, at least one (a gate at work holds no lock on its
    directory, but none runs for a day): (removed, kept because a process holds it)."""
    if days < 1:
        raise ValueError(f"{days:g} days: remove what has been unused for at least 1 day")
    now = time.time() if now is None else now
    removed, busy = [], []
    for held in survey(root):
        if held.unused_days(now) < days:
            continue
        if held.kind == "variant":
            done = cache.remove_entry(held.path)
        elif held.kind == "leftover":
            done = cache.remove_leftover(held.path)
        else:
            shutil.rmtree(held.path, ignore_errors=True)
            done = True
        (removed if done else busy).append(held)
    return removed, busy


def _gate_work(work: Path) -> Held:
    stamps = [stamp.stat().st_mtime for stamp in work.glob(f"envs/*/{GATE_KEY_FILE}")]
    return Held(GATE, work, _size(work), max([work.stat().st_mtime, *stamps]))


def _size(directory: Path) -> int:
    """Bytes of the files under ``directory``, links not followed (a gate environment links its Python)."""
    total = 0
    for path in directory.rglob("*"):
        try:
            if path.is_file() and not path.is_symlink():
                total += path.stat().st_size
        except OSError:  # removed while being counted
            continue
    return total
