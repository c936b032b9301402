"""``nerperf parallel N``: the suite in N pytest processes on one machine, each pinned to its own cores.

Why not pytest-xdist: pytest-benchmark turns itself off under xdist ("Benchmarks cannot be performed
reliably in a parallelized environment") and refuses ``--benchmark-only`` with it, so ``pytest -n N
--benchmark-only`` cannot time anything. Here each part is an ordinary pytest run of its shard
(``--nerperf-shard K/N``: whole checkpoints, so each loads in one process) with pytest-benchmark as usual,
started with its CPU affinity set to a disjoint set of cores and its threads to their number, so that no
two parts compute on the same core while timing. Caches and memory bandwidth are still shared: README,
"Parts of the suite on several machines", measures what that costs.

Each part writes ``OUT/part-K/`` (pytest.log, results.json, summary.md, benchmark.json); when all have
finished, their results are merged into ``OUT/report/`` (:mod:`nerperf.report.pages`) and every floor
any part checked is printed. Each part evaluates the baseline once for its own floors.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from nerperf.errors import NerperfInputError


@dataclass(frozen=True)
class Part:
    number: int  # 1-based, as --nerperf-shard counts
    cores: tuple[int, ...]
    directory: Path


def plan(parts: int, cores: Sequence[int], out: Path) -> list[Part]:
    """Disjoint, equal sets of ``cores`` for ``parts`` processes (the remainder left idle).

    >>> [p.cores for p in plan(2, [0, 1, 2, 3, 4], Path("o"))]
    [(0, 1), (2, 3)]
    """
    if parts < 1:
        raise NerperfInputError(f"nerperf parallel: {parts} parts; give at least 1")
    if parts > len(cores):
        raise NerperfInputError(
            f"nerperf parallel: {parts} parts but {len(cores)} cores available to this process: parts would share "
            f"cores and time each other; give at most {len(cores)}, or spread the parts over machines with "
            "--nerperf-shard"
        )
    each = len(cores) // parts
    return [Part(k + 1, tuple(cores[k * each : (k + 1) * each]), out / f"part-{k + 1}") for k in range(parts)]


def available_cores() -> list[int]:
    """The cores this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return sorted(os.sched_getaffinity(0))
    return list(range(os.cpu_count() or 1))


def run(parts: int, out: Path, pytest_args: Sequence[str], say: Callable[[str], None] = print) -> int:
    """Run the parts, wait for all, merge their results; the exit status is the worst part's."""
    from nerperf.report.tables import summary_table
    from nerperf.results import read

    planned = plan(parts, available_cores(), out)
    started = []
    for part in planned:
        part.directory.mkdir(parents=True, exist_ok=True)
        command = [sys.executable, "-m", "pytest", "--benchmark-only", f"--nerperf-shard={part.number}/{parts}"]
        command += [f"--nerperf-report={part.directory}", f"--benchmark-json={part.directory / 'benchmark.json'}"]
        command += list(pytest_args)
        environment = {**os.environ, "NERPERF_THREADS": os.environ.get("NERPERF_THREADS") or str(len(part.cores))}
        log = (part.directory / "pytest.log").open("w")
        pin = _pin(part.cores)
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=environment, preexec_fn=pin)
        started.append((part, log, process))
        say(f"nerperf parallel: part {part.number}/{parts} on cores {_cores(part.cores)}: {part.directory}/pytest.log")
    codes = {}
    for part, log, process in started:
        codes[part.number] = process.wait()
        log.close()
        say(f"nerperf parallel: part {part.number}/{parts} exited {codes[part.number]}")
    results = [p.directory / "results.json" for p in planned if (p.directory / "results.json").exists()]
    if not results:
        say("nerperf parallel: no part wrote results; see the parts' pytest.log")
        return max(codes.values()) or 1
    from nerperf.report import pages

    found = read(results)
    pages.write(found, out / "report")
    say(summary_table(pages.summarize(found)))
    for line in _floors(results):
        say(line)
    say(f"nerperf parallel: merged {len(results)} parts into {out / 'report'}")
    return max(codes.values())


def _pin(cores: tuple[int, ...]) -> Callable[[], None] | None:
    """Run in the child before pytest starts: its CPU affinity (Linux; elsewhere the parts run unpinned)."""
    if not hasattr(os, "sched_setaffinity"):
        return None
    return lambda: os.sched_setaffinity(0, cores)


def _cores(cores: tuple[int, ...]) -> str:
    return ",".join(map(str, cores))


def _floors(paths: Sequence[Path]) -> list[str]:
    """Every floor the parts checked, as the plugin's summary words them."""
    import json

    from nerperf.floors import Floor

    lines = []
    for path in paths:
        for floor in json.loads(path.read_text(encoding="utf-8")).get("floors", []):
            fields = {k: v for k, v in floor.items() if k in Floor.__dataclass_fields__}
            lines.append(Floor(**fields).describe())
    return lines
