"""What this machine is and what the process holds: CPU model and flags, library versions, peak memory.

What moves the timings is recorded with every result and benchmark from here. Peak memory is Linux's
``VmHWM`` (the resident high-water mark), which ``/proc/self/clear_refs`` can reset, so that one
evaluation's peak is not hidden by an earlier, bigger one in the same process. The measured
matrix-multiply peaks serve only the variant table and live with it (``benches/peaks.py``).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

_PROC_STATUS = Path("/proc/self/status")
_CLEAR_REFS = Path("/proc/self/clear_refs")


def cpu_flags() -> frozenset[str]:
    """The CPU's instruction-set flags as the kernel names them (``avx512_vnni``, ``amx_tile``), read by
    py-cpuinfo; empty where it cannot tell."""
    return frozenset(_cpu_info().get("flags", ()))


def cpu_model() -> str:
    """The CPU's brand string (``Intel(R) Xeon(R) Processor``), or the platform's word for it."""
    import platform

    return str(_cpu_info().get("brand_raw") or platform.processor() or platform.machine())


def cpu_vendor() -> str:
    """The CPU's vendor as the processor reports it (``GenuineIntel``, ``AuthenticAMD``); empty if unknown."""
    return str(_cpu_info().get("vendor_id_raw", ""))


@functools.cache
def _cpu_info() -> dict[str, Any]:
    """py-cpuinfo's reading (a fraction of a second, in a child process of its own), once per process."""
    import cpuinfo

    return dict(cpuinfo.get_cpu_info())


def cpu_kind(flags: Iterable[str] | None = None) -> str:
    """A CPU's kind in one word, for records kept per kind: amx, avx512-vnni or avx2; this machine's, or that
    of recorded ``flags`` (a gate records ``amx_int8`` among its flags, not ``amx_tile``)."""
    found = cpu_flags() if flags is None else frozenset(flags)
    return "amx" if found & {"amx_tile", "amx_int8"} else "avx512-vnni" if "avx512_vnni" in found else "avx2"


# The instruction-set flags that decide which variant wins (docs/measurements.md).
DECISIVE_FLAGS = {
    "AVX2": ("avx2",),
    "AVX-512": ("avx512f",),
    "VNNI": ("avx512_vnni", "avx_vnni"),
    "BF16": ("avx512_bf16", "amx_bf16"),
    "AMX": ("amx_tile",),
}


def cpu_numbers(listed: str) -> tuple[int, ...]:
    """A CPU list as Linux writes one (``0-1``, ``0,2``, ``0-3,6``), sorted; ValueError where it is not one.

    >>> cpu_numbers("0-2,5")
    (0, 1, 2, 5)
    """
    cpus: set[int] = set()
    for part in listed.split(","):
        low, dash, high = part.strip().partition("-")
        cpus.update(range(int(low), int(high if dash else low) + 1))
    return tuple(sorted(cpus))


# With OpenMP's threads bound (the gate's --bind-threads) the gate passes the process's CPU set in this variable:
# the plugin lets the main thread start up on all of it and times on its first core
# (nerperf.processes.setup), and onnxruntime binds its workers to the others
# (nerperf.variants.onnx_variants.worker_affinities). Here, below both, so that the plugin can read it as
# it loads without importing the variants.
BOUND_CPUS = "NERPERF_BOUND_CPUS"


def one_cpu_per_core(cpus: Iterable[int]) -> tuple[int, ...]:
    """The first of ``cpus`` on each physical core, in order (Linux's topology; elsewhere, or unreadable, every
    CPU counts as a core of its own): where to bind one thread per core.

    >>> one_cpu_per_core([])
    ()
    """
    found: dict[tuple[str, str], int] = {}
    for cpu in sorted(cpus):
        topology = Path(f"/sys/devices/system/cpu/cpu{cpu}/topology")
        try:
            package, core = ((topology / name).read_text().strip() for name in ("physical_package_id", "core_id"))
        except OSError:
            package, core = f"cpu{cpu}", ""
        found.setdefault((package, core), cpu)
    return tuple(found.values())


def bound_cpus() -> tuple[int, ...]:
    """The CPU set the gate bound this process's threads within (:data:`BOUND_CPUS`); empty where it did not."""
    import os

    listed = os.environ.get(BOUND_CPUS)
    return cpu_numbers(listed) if listed else ()


def timing_cpu(cpus: Iterable[int]) -> int:
    """The CPU of a bound set that the main thread times on: the first of :func:`one_cpu_per_core`, where the
    gate's CPU list puts torch's first OpenMP thread, so that its other threads and onnxruntime's workers
    take the rest.

    >>> timing_cpu([3])
    3
    """
    return one_cpu_per_core(cpus)[0]


def usable_cpus() -> tuple[int, ...]:
    """The CPUs this process may run on (its affinity where the OS has one), sorted."""
    import os

    if hasattr(os, "sched_getaffinity"):
        return tuple(sorted(os.sched_getaffinity(0)))
    return tuple(range(os.cpu_count() or 1))


def machine_label() -> str:
    """The CPU model, the flags that decide the variants, and the cores: what every published figure names.

    For example "AMD EPYC; AVX2 yes, AVX-512 no, VNNI no, BF16 no, AMX no; 2 cores".
    """
    flags = cpu_flags()
    found = ", ".join(f"{name} {'yes' if flags & set(names) else 'no'}" for name, names in DECISIVE_FLAGS.items())
    return f"{cpu_model()}; {found}; {len(usable_cpus())} cores"


def short_machine(label: str) -> str:
    """A :func:`machine_label` in a few words, for table rows: "AMD EPYC, AVX2, 2 cores".

    >>> short_machine("AMD EPYC; AVX2 yes, AVX-512 yes, VNNI yes, BF16 yes, AMX no; 2 cores")
    'AMD EPYC, AVX2 AVX-512 VNNI BF16, 2 cores'
    >>> short_machine("a machine named by hand")
    'a machine named by hand'
    """
    parts = label.split("; ")
    if len(parts) != 3:
        return label
    model, flags, cores = parts
    present = [flag.rsplit(" ", 1)[0] for flag in flags.split(", ") if flag.endswith(" yes")]
    return f"{model}, {' '.join(present) or 'none of ' + '/'.join(DECISIVE_FLAGS)}, {cores}"


def native_bf16() -> bool:
    """Whether the CPU multiplies bfloat16 in hardware (AVX512-BF16 or AMX), not by conversion."""
    return bool(cpu_flags() & {"avx512_bf16", "amx_bf16"})


def installed_version(package: str) -> str:
    """The installed version of ``package``, or "not installed": recorded with results, keys the cache."""
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


@dataclass(frozen=True)
class MemoryProbe:
    """The process's resident memory when the probe started; ``peak()`` is the high-water mark since."""

    start_bytes: int
    method: str

    @classmethod
    def start(cls) -> MemoryProbe:
        try:
            _CLEAR_REFS.write_text("5")  # resets VmHWM to the current RSS (Linux >= 4.0)
            method = "VmHWM, reset at the start"
        except OSError:
            method = "ru_maxrss: the process's lifetime peak (could not reset it)"
        return cls(_status_bytes("VmRSS") or 0, method)

    def peak(self) -> int:
        found = _status_bytes("VmHWM")
        if found is not None:
            return found
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _status_bytes(field: str) -> int | None:
    try:
        for line in _PROC_STATUS.read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024  # reported in kB
    except (OSError, ValueError):
        pass
    return None
