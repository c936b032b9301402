"""Refusing a checkpoint that will not fit in memory, before its weights are loaded and the machine swaps.

The estimate is the model's parameters, counted on PyTorch's meta device (no memory, about 0.1 s, exact
for any architecture transformers knows), as fp32 bytes times :data:`LOAD_FACTOR`, what loading costs beyond
the weights themselves (docs/bad-input-and-faults.md has the measurement). What is available
is the smallest of Linux's ``MemAvailable``, the cgroup's limit less its working set (containers and
CI runners, where ``MemAvailable`` shows the host's memory), and the ``memory_limit`` setting
(``NERPERF_MEMORY_LIMIT``, for example ``4GiB``), a cap a user may set. Activations are not in the
estimate: they grow with the batch size and the model window, not with the number of sentences
(``benches/test_resources.py`` measures this).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nerperf.settings import BY_NAME, environment_value

LOAD_FACTOR = 2.0
_MEMINFO = Path("/proc/meminfo")
_CGROUP_V2 = Path("/sys/fs/cgroup")
_CGROUP_V1 = Path("/sys/fs/cgroup/memory")


@dataclass(frozen=True)
class Available:
    bytes: int
    source: str  # which limit was the smallest


def available(limit: int | None = None) -> Available | None:
    """The memory a new allocation can use without swapping, or ``None`` where nothing says.

    ``limit``: the ``memory_limit`` setting's value; None reads its variable, ``NERPERF_MEMORY_LIMIT``.
    """
    found: list[Available] = []
    meminfo = _meminfo_available()
    if meminfo is not None:
        found.append(Available(meminfo, "MemAvailable in /proc/meminfo"))
    cgroup = _cgroup_headroom()
    if cgroup is not None:
        found.append(cgroup)
    if limit is None:
        limit = environment_value("memory_limit")
    if limit is not None:
        found.append(Available(limit, f"the memory_limit setting: {BY_NAME['memory_limit'].env}"))
    return min(found, key=lambda a: a.bytes) if found else None


def parameter_count(config: Any) -> int:
    """Parameters of the token-classification model ``config`` describes, without allocating them."""
    import torch
    from transformers import AutoModelForTokenClassification

    with torch.device("meta"):
        model = AutoModelForTokenClassification.from_config(config, trust_remote_code=False)
    return sum(p.numel() for p in model.parameters())


def shortfall(name: str, config: Any, limit: int | None = None) -> str | None:
    """Why ``name`` will not fit here (a message that says what to do), or ``None`` when it will."""
    room = available(limit)
    if room is None:
        return None
    try:
        parameters = parameter_count(config)
    except ValueError:
        return None  # no token-classification model for this config: the loader says so
    needed = int(parameters * 4 * LOAD_FACTOR)
    if needed <= room.bytes:
        return None
    return (
        f"checkpoint {name}: refused before loading: its {parameters / 1e6:.0f}M parameters need about "
        f"{_gib(needed)} to load ({LOAD_FACTOR:g} x their fp32 size), but only {_gib(room.bytes)} is "
        f"available ({room.source}); free memory, use a machine with more, or choose a smaller checkpoint"
    )


def _gib(size: int) -> str:
    return f"{size / (1 << 30):.2f} GiB"


def _meminfo_available() -> int | None:
    try:
        for line in _MEMINFO.read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def _cgroup_headroom() -> Available | None:
    """The cgroup's memory limit less its working set (v2, else v1); ``None`` without a limit.

    The working set is the usage less the inactive file cache, which the kernel reclaims before it
    swaps (as the kubelet and ``docker stats`` count it).
    """
    for directory, limit_name, usage_name, inactive_name in (
        (_CGROUP_V2, "memory.max", "memory.current", "inactive_file"),
        (_CGROUP_V1, "memory.limit_in_bytes", "memory.usage_in_bytes", "total_inactive_file"),
    ):
        try:
            limit_text = (directory / limit_name).read_text().strip()
            if limit_text == "max" or int(limit_text) >= 1 << 60:  # v1 writes a huge number for "no limit"
                return None
            usage = int((directory / usage_name).read_text())
            stat = dict(line.split() for line in (directory / "memory.stat").read_text().splitlines())
            working_set = max(0, usage - int(stat.get(inactive_name, 0)))
            return Available(max(0, int(limit_text) - working_set), f"the cgroup limit ({directory / limit_name})")
        except (OSError, ValueError):
            continue
    return None
