"""Which results a report shows: results of several files and machines merged into one set of rows.

The policy, in one place (the files themselves are read by :func:`nerperf.results.read_files`):

- The same case on the same machine found twice (the parts of a sharded run, a run read again): the later
  file's result stands, except that a result timed at batch size 1 is never replaced by an untimed one
  (a part that evaluated the baseline only for its floors).
- Results of more than one machine are kept apart: their keys become ``ID @ MACHINE`` and
  :attr:`Inputs.machines` names each key's machine, so a case measured on two machines is two rows, never
  one replacing the other. Results of one machine keep their plain ids.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nerperf.results import EvalResult, Found, read_files


@dataclass
class Inputs:
    """Results gathered from result files, by key (checkpoint-variant id, or ``ID @ MACHINE``), in the
    order first seen."""

    results: dict[str, EvalResult] = field(default_factory=dict)
    latency: dict[str, dict[int, float]] = field(default_factory=dict)  # key -> batch-1 percentiles (s)
    baseline: str | None = None  # as a plugin run recorded it
    machine: dict[str, Any] = field(default_factory=dict)
    sources: list[str] = field(default_factory=list)
    machines: dict[str, str] = field(default_factory=dict)  # key -> the machine that measured it
    case_ids: dict[str, str] = field(default_factory=dict)  # key -> its checkpoint-variant id


def read(paths: Sequence[Path], labels: Sequence[str | None] | None = None) -> Inputs:
    """Every result in ``paths`` (``labels[i]`` naming file i's machine where given), merged."""
    return merge(read_files(paths, labels))


def merge(found: Found) -> Inputs:
    """The results as the report shows them (the module's policy)."""
    standing: dict[tuple[str, str], tuple[EvalResult, Any]] = {}
    for case_id, machine, result, latency in found.entries:
        earlier = standing.get((case_id, machine))
        if earlier is not None and earlier[1] and not latency:
            continue  # an untimed evaluation never replaces a timed one
        standing[(case_id, machine)] = (result, latency)
    several = len({machine for _, machine in standing}) > 1
    merged = Inputs(machine=found.machine, sources=list(found.sources))
    for (case_id, machine), (result, latency) in standing.items():
        key = f"{case_id} @ {machine}" if several else case_id
        merged.results[key] = result
        merged.machines[key], merged.case_ids[key] = machine, case_id
        if latency:
            merged.latency[key] = {int(p): float(v) for p, v in latency.items()}
    if found.baseline is not None:
        first_machine = next(iter(standing))[1]
        merged.baseline = f"{found.baseline} @ {first_machine}" if several else found.baseline
    return merged
