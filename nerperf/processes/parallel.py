"""``nerperf parallel N``: the suite in N pytest processes on one machine, each pinned to its own cores.

Why not pytest-xdist: pytest-benchmark turns itself off under xdist ("Benchmarks cannot be performed
reliably in a parallelized environment") and refuses ``--benchmark-only`` with it, so ``pytest -n N
--benchmark-only`` cannot time anything. Here each part is an ordinary pytest run of its shard
(``--nerperf-shard K/N``: whole checkpoints, so each loads in one process) with pytest-benchmark as usual,
started (by :mod:`nerperf.processes.children`) with its CPU affinity set to a disjoint set of cores and its threads to
their number, so that no two parts compute on the same core while timing. Caches and memory bandwidth are
still shared: docs/measurements.md ("Parts of one machine") measures what that costs.

Each part writes ``OUT/part-K/`` (pytest.log, results.json, summary.md, benchmark.json); when all have
finished, their results are merged into ``OUT/report/`` (:mod:`nerperf.report.pages`) and every floor
any part checked is printed. Each part evaluates the baseline once for its own floors.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from nerperf.errors import NerperfInputError
from nerperf.machine import usable_cpus
from nerperf.processes.children import Children, Interrupted, absolute, stoppable


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


def run(parts: int, out: Path, pytest_args: Sequence[str], say: Callable[[str], None] = print) -> int:
    """Run the parts, wait for all, merge their results; the exit status is the worst part's.

    Cancelled (Ctrl-C, SIGTERM), it stops every part still running (:mod:`nerperf.processes.children`), says which,
    and exits 130 or 143 without merging.
    """
    out = absolute(out)
    planned = plan(parts, list(usable_cpus()), out)
    codes = stoppable(lambda children: _run_parts(planned, parts, pytest_args, children, say))
    if isinstance(codes, Interrupted):
        say(f"nerperf parallel: {codes.reason('no part was running')}")
        return codes.status
    return _merge(planned, codes, out, say)


def _run_parts(
    planned: Sequence[Part], parts: int, pytest_args: Sequence[str], children: Children, say: Callable[[str], None]
) -> dict[int, int]:
    started = []
    for part in planned:
        command = [sys.executable, "-m", "pytest", "--benchmark-only", f"--nerperf-shard={part.number}/{parts}"]
        command += [f"--nerperf-report={part.directory}", f"--benchmark-json={part.directory / 'benchmark.json'}"]
        command += list(pytest_args)
        environment = {**os.environ, "NERPERF_THREADS": os.environ.get("NERPERF_THREADS") or str(len(part.cores))}
        log = part.directory / "pytest.log"
        name = f"part {part.number}/{parts}"
        started.append(
            (part, children.start(name, command, cwd=absolute("."), log=log, environment=environment, cores=part.cores))
        )
        say(f"nerperf parallel: part {part.number}/{parts} on cores {_cores(part.cores)}: {log}")
    codes = {}
    for part, child in started:
        codes[part.number] = children.wait(child)
        say(f"nerperf parallel: part {part.number}/{parts} exited {codes[part.number]}")
    return codes


def _merge(planned: Sequence[Part], codes: dict[int, int], out: Path, say: Callable[[str], None]) -> int:
    from nerperf.floors import Floor
    from nerperf.report import pages
    from nerperf.report.merge import read
    from nerperf.report.tables import summary_table
    from nerperf.results import read_run_record

    results = [p.directory / "results.json" for p in planned if (p.directory / "results.json").exists()]
    missing = [p.number for p in planned if p.directory / "results.json" not in results]
    if missing:  # its floors and cases would vanish from the merge unseen
        say(f"nerperf parallel: part(s) {', '.join(map(str, missing))} wrote no results.json; see their pytest.log")
    if not results:
        return max(codes.values()) or 1
    found = read(results)
    pages.write(found, out / "report")
    say(summary_table(pages.summarize(found)))
    for path in results:
        for floor in read_run_record(path).floors:
            say(Floor.from_record(floor).describe())
    say(f"nerperf parallel: merged {len(results)} parts into {out / 'report'}")
    return max(codes.values())


def _cores(cores: tuple[int, ...]) -> str:
    return ",".join(map(str, cores))
