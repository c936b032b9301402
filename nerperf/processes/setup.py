"""How the gate's child processes are set up, the same for both sides: sources of noise between processes
that can be removed without changing what is timed.

Two processes of the same code still differ: Python randomises its string hashes per process (dict and
set layouts, hence memory layouts), and the OS places each process and each of its threads on whichever
CPU is free. ``hash_seed`` fixes the first (``PYTHONHASHSEED``), ``cpus`` pins every process of both sides
to one CPU set (the threads of torch, onnxruntime and OpenVINO inherit it), and ``bind_threads`` binds
OpenMP's threads (torch's, MKL's) one to a core within it: ``GOMP_CPU_AFFINITY`` lists a CPU of each
core and ``OMP_NUM_THREADS`` counts them. Not ``OMP_PLACES=cores``: each OpenMP runtime a process loads
derives such places from the CPUs its thread may use when it loads, and scikit-learn's (which seqeval
imports) loads first and binds the main thread to the first core, so torch's then saw one core, took one
thread, and put any second one on that core too (0.12 and before: the `pinned` setups timed one thread where
the defaults time two). An explicit list holds whoever loads first. The runtime that loads first must also be
torch's (:func:`bind_torch_first`): each runtime counts the CPUs it may use as it loads, and one that finds
the main thread already bound to a core counts one, and then spins only briefly between parallel regions
(libgomp's throttled spin, for more threads than CPUs): torch's batch-1 latency 1.3-1.9× slower. The main
thread, bound to the first core, runs on the whole set during the start-up and goes back to that core at
the first timed call (:func:`bind_main_thread`); onnxruntime's workers, which would inherit the main
thread's affinity, are bound to the set's other cores (``BOUND_CPUS``,
:func:`nerperf.variants.onnx_variants.worker_affinities`), so that its pool is not squeezed onto one.
Each is off by default until measured, and binding is on by default on AMD CPUs (0.14, :func:`default_setup`):
docs/gate.md, "Setting up the processes", has the spread of pair ratios per setup and what each changes in
the timings themselves.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass

from nerperf.machine import BOUND_CPUS, bound_cpus, cpu_numbers, one_cpu_per_core, timing_cpu, usable_cpus


@dataclass(frozen=True)
class ProcessSetup:
    """What every child process of a gate is given beside its settings."""

    hash_seed: int | None = None  # PYTHONHASHSEED; None: Python's own, random per process
    cpus: tuple[int, ...] | None = None  # the CPU set every process is pinned to; None: the OS chooses
    bind_threads: bool = False  # OpenMP's threads bound to cores (torch's and MKL's pools)

    def environment(self) -> dict[str, str]:
        """The variables both sides' processes get."""
        variables = {}
        if self.hash_seed is not None:
            variables["PYTHONHASHSEED"] = str(self.hash_seed)
        if self.bind_threads:
            cpus = self.cpus or usable_cpus()
            cores = one_cpu_per_core(cpus)
            variables |= {
                "GOMP_CPU_AFFINITY": " ".join(str(cpu) for cpu in cores),
                "OMP_NUM_THREADS": str(len(cores)),
                BOUND_CPUS: cpu_list(cpus),
            }
        return variables

    def describe(self) -> str:
        """One line for the gate's summary.

        >>> ProcessSetup(0, (0, 1), True).describe()
        'PYTHONHASHSEED=0; pinned to CPUs 0-1; OpenMP threads bound to cores'
        >>> ProcessSetup().describe()
        "Python's random hash seed per process; on any CPU; OpenMP threads unbound"
        """
        return "; ".join(
            (
                f"PYTHONHASHSEED={self.hash_seed}"
                if self.hash_seed is not None
                else "Python's random hash seed per process",
                f"pinned to CPUs {cpu_list(self.cpus)}" if self.cpus else "on any CPU",
                "OpenMP threads bound to cores" if self.bind_threads else "OpenMP threads unbound",
            )
        )

    def to_dict(self) -> dict[str, object]:
        return {
            "hash_seed": self.hash_seed,
            "cpus": list(self.cpus) if self.cpus else None,
            "bind_threads": self.bind_threads,
        }


DEFAULT = ProcessSetup()  # nothing fixed: how a user's own processes run
# The CPU vendors whose gates bind threads unless told not to: where the noise runs and the calibration chose
# it (docs/gate.md, "Setting up the processes"); elsewhere it is unmeasured (Intel's binding runs timed one
# thread, before 0.13).
BOUND_VENDORS = frozenset({"AuthenticAMD"})


def default_setup() -> ProcessSetup:
    """The gate's setup when no option says otherwise: threads bound on the vendors that measured it best."""
    from nerperf.machine import cpu_vendor

    return ProcessSetup(bind_threads=cpu_vendor() in BOUND_VENDORS)


def bind_torch_first() -> None:
    """In a process the gate set up with ``--bind-threads``, load torch (its OpenMP runtime) now, as pytest
    loads the plugin, before anything else loads another runtime (scikit-learn's, through seqeval); elsewhere
    nothing, so that pytest stays as quick for those who never time a model.

    Then let the main thread, which torch's runtime binds to the set's first core as it loads, run on the whole
    set again until the first timed call (:func:`bind_main_thread`): both sides start up side by side, and
    with both main threads on one core each start-up took 12.9 s against 7.8 (docs/gate.md). The runtime is
    loaded, and the main thread released, ahead of the rest of torch (:func:`_load_torch_openmp`), whose
    import then runs side by side with the partner's too (0.75-0.85 s against 1.4-1.6 on 2 cores). The
    runtime's worker threads keep their own cores, and no runtime loaded later binds the main thread again:
    the list it would read leaves the environment once torch's has read it.
    """
    import os

    if bound_cpus():
        _load_torch_openmp()
        release_main_thread()
        import torch  # noqa: F401

        os.environ.pop("GOMP_CPU_AFFINITY", None)
        release_main_thread()  # again: where nothing was loaded ahead, torch's import bound it


def _load_torch_openmp() -> None:
    """torch's own OpenMP runtime (``torch/lib/libgomp*.so*``, as pip's wheels ship it), loaded globally before
    torch, which then uses this copy (the same file, the same name); with none or several there, nothing: torch
    loads its runtime itself, binding the main thread for the rest of its import."""
    import contextlib
    import ctypes
    import importlib.util
    from pathlib import Path

    spec = importlib.util.find_spec("torch")
    if spec is None or not spec.submodule_search_locations:
        return
    found = sorted(Path(next(iter(spec.submodule_search_locations)), "lib").glob("libgomp*.so*"))
    if len(found) == 1:
        with contextlib.suppress(OSError):  # not loadable here: torch's own import says why, if it fails too
            ctypes.CDLL(str(found[0]), mode=ctypes.RTLD_GLOBAL)


def release_main_thread() -> None:
    """In a process set up with ``--bind-threads``, the main thread free to run anywhere in the bound set: during
    the start-up, and once the last timed call is done (:meth:`nerperf.processes.lockstep.Lockstep.finish`), when
    both sides write their summaries and files and exit side by side. Left on the one core both time on, those
    ends took 5.4 s of a 2-case pair against 2.3 for a process alone (the gate records' notebook); elsewhere nothing."""
    import os

    if (cpus := bound_cpus()) and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, cpus)


def bind_main_thread() -> None:
    """At the first timed call of a process set up with ``--bind-threads``, the calling (main) thread back
    on the core torch's runtime bound it to (:func:`nerperf.machine.timing_cpu`), where it times; elsewhere
    nothing. Its workers are on the set's other cores, one each (onnxruntime's:
    :func:`nerperf.variants.onnx_variants.worker_affinities`)."""
    import os

    if (cpus := bound_cpus()) and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, [timing_cpu(cpus)])


def parse_cpus(text: str) -> tuple[int, ...]:
    """A CPU list as Linux writes one (``0-1``, ``0,2``, ``0-3,6``), each CPU one this process may use.

    >>> parse_cpus("0")
    (0,)
    """
    try:
        cpus = cpu_numbers(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: a CPU list such as 0-1 or 0,2") from None
    usable = set(usable_cpus())
    if not cpus or not set(cpus) <= usable:
        raise argparse.ArgumentTypeError(
            f"{text!r}: this process may use CPUs {cpu_list(tuple(sorted(usable)))} only; choose among them"
        )
    return cpus


def cpu_list(cpus: tuple[int, ...]) -> str:
    """``(0, 1, 2, 5)`` as ``0-2,5``.

    >>> cpu_list((0, 1, 2, 5))
    '0-2,5'
    """
    runs: list[list[int]] = []
    for cpu in sorted(cpus):
        if runs and cpu == runs[-1][-1] + 1:
            runs[-1].append(cpu)
        else:
            runs.append([cpu])
    return ",".join(f"{r[0]}-{r[-1]}" if len(r) > 1 else str(r[0]) for r in runs)
