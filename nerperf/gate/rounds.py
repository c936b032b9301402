"""Running the two sides in pairs of fresh processes that take turns, each recording its raw samples.

Every round runs the same command, ``pytest --benchmark-only PYTEST_ARGS``, in its side's checkout,
with the same nerperf settings (passed as ``NERPERF_*`` variables), writing its samples and its run
summary (``results.json``: floors, what did not run) to a directory of its own. A pair of rounds is a
base process and a head process started together and run in lockstep (:mod:`nerperf.processes.lockstep`): one
timed call each, in turn, so that each sentence's two timings are milliseconds apart. Rounds run one
after the other differ by the machine's drift between runs minutes apart (docs/gate.md); in lockstep it
cancels. Which side goes first alternates between pairs
(base, head; head, base; ...). A round that pytest could not run (an exit status other than 0, tests
passed, or 1, some failed; or no ``results.json``, since Python exits 1 without pytest too) ends the
gate: nothing is compared. The children are started by :mod:`nerperf.processes.children`. After each pair the
gate looks (``look``): it stops once its sequential rule has decided every comparison; otherwise the next
pairs time only the measures with a comparison still open (the ``measures`` setting, ``NERPERF_MEASURES``)
and only the cases with one (the ``cases`` setting, ``NERPERF_CASES``), for a part of a pair's cost
(docs/gate.md, "What a gate does", 5).
"""

from __future__ import annotations

import os
import shutil
import socket
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from nerperf.gate import import_guard
from nerperf.gate.checkouts import GateError, Side, SideFailed, log_tail, source_roots
from nerperf.processes.children import Child, Children
from nerperf.processes.lockstep import DEFAULT_WAIT, VARIABLE, WAITS
from nerperf.processes.samples import CaseSamples, read_clock, read_directory, read_unpaired
from nerperf.processes.setup import DEFAULT as DEFAULT_SETUP
from nerperf.processes.setup import ProcessSetup
from nerperf.results import RunRecord, read_run_record

PYTEST_RAN = (0, 1)  # all passed; some failed (a floor, say): both leave samples to compare
MEASURES_VARIABLE = "NERPERF_MEASURES"
CASES_VARIABLE = "NERPERF_CASES"


@dataclass(frozen=True)
class Look:
    """What the gate's look after a pair says: stop, or the measures and cases the next pair times (empty:
    all)."""

    stop: bool
    measures: tuple[str, ...] = ()
    cases: tuple[str, ...] = ()


@dataclass(frozen=True)
class Round:
    index: int  # 2 × pair, + 1 for the side that went second
    pair: int
    side: str
    directory: Path
    returncode: int
    seconds: float
    measures: tuple[str, ...] = ()  # the only measures it timed (the gate narrowed it); empty: all
    cases: tuple[str, ...] = ()  # the only cases it timed (the gate narrowed it); empty: all

    @property
    def samples(self) -> dict[str, CaseSamples]:
        return read_directory(self.directory / "samples")

    @property
    def unpaired_after(self) -> int | None:
        """The timed calls taken in turns before the partner went; None when all were (the usual case)."""
        return read_unpaired(self.directory / "samples")

    @property
    def clock(self) -> dict[str, float] | None:
        """Where its process's time went (:class:`nerperf.processes.lockstep.Clock`); None from an older nerperf."""
        return read_clock(self.directory / "samples")

    @property
    def record(self) -> RunRecord:
        """Its run's floors and cases not run; a round that ran pytest but wrote none is a SideFailed,
        since its broken floors would otherwise vanish from the verdict."""
        path = self.directory / "results.json"
        if not path.is_file():
            raise SideFailed(
                f"the {self.side} side's round {self.index:02d} (pair {self.pair + 1}) wrote no results.json, so "
                f"its floors are unknown: did its pytest run a nerperf case? (log: {self.directory / 'pytest.log'})",
                self.side,
                "run",
            )
        return read_run_record(path)


def time_spent(ran: Sequence[Round]) -> dict[str, float]:
    """A pair's mean wall time (``pair``, from both starting to the later one's exit) and, averaged over
    the processes that said, where each process's time went (:class:`nerperf.processes.lockstep.Clock`);
    only ``pair`` where no process said (an older nerperf on both sides)."""
    pairs: dict[int, float] = {}
    for r in ran:
        pairs[r.pair] = max(pairs.get(r.pair, 0.0), r.seconds)
    spent = {"pair": sum(pairs.values()) / len(pairs)} if pairs else {}
    clocks = [c for c in (r.clock for r in ran) if c]
    for name in sorted({name for c in clocks for name in c}):
        spent[name] = sum(c.get(name, 0.0) for c in clocks) / len(clocks)
    return spent


def order(pairs: int) -> list[tuple[int, str]]:
    """(pair, side) with the side that goes first in each pair first: base, head, head, base, ...

    >>> order(2)
    [(0, 'base'), (0, 'head'), (1, 'head'), (1, 'base')]
    """
    return [(k, side) for k in range(pairs) for side in (("base", "head") if k % 2 == 0 else ("head", "base"))]


def run_rounds(
    sides: Mapping[str, Side],
    pairs: int,
    out: Path,
    settings: Mapping[str, str],
    pytest_args: Sequence[str],
    children: Children,
    say: Callable[[str], None] = print,
    look: Callable[[list[Round]], Look] | None = None,
    wait: str = DEFAULT_WAIT,
    setup: ProcessSetup = DEFAULT_SETUP,
) -> list[Round]:
    """Run pairs of rounds until ``look(rounds so far)`` says stop, at most ``pairs``, each pair timing the
    measures the last look named; raise SideFailed, with the log's end, when pytest could not run one.

    ``out`` must be absolute: the rounds run in the sides' checkouts, elsewhere. ``out/rounds`` is this
    gate's alone: a previous gate's rounds there are removed first, since a round directory left over
    (a case that round did not time, a pair this gate did not run) would be read as this gate's samples.
    """
    shutil.rmtree(out / "rounds", ignore_errors=True)
    rounds: list[Round] = []
    schedule = order(pairs)
    measures: tuple[str, ...] = ()
    cases: tuple[str, ...] = ()
    for k in range(pairs):
        first, second = (name for pair, name in schedule if pair == k)
        timing = f", timing {' and '.join(measures)} only" if measures else ""
        timing += f", of {', '.join(cases)} only" if cases else ""
        say(f"nerperf gate: pair {k + 1}/{pairs}: {first} and {second} in turns, {first} first{timing}")
        narrowed = {MEASURES_VARIABLE: ",".join(measures)} if measures else {}
        narrowed |= {CASES_VARIABLE: ",".join(cases)} if cases else {}
        ends = dict(zip((first, second), socket.socketpair(), strict=True))
        started = time.perf_counter()
        running = {}
        for position, name in enumerate((first, second)):
            directory = out / "rounds" / f"{2 * k + position:02d}-{name}"
            directory.mkdir(parents=True, exist_ok=True)
            role = f"{ends[name].fileno()},{'first' if position == 0 else 'second'}"
            variables = {**settings, **WAITS[wait], **setup.environment(), **narrowed}
            child = _start(children, sides[name], k, directory, variables, pytest_args, role, setup.cpus)
            running[name] = (2 * k + position, directory, child)
        for end in ends.values():
            end.close()  # the processes hold their own ends: a process that dies closes its partner's wait
        for name, (index, directory, child) in running.items():
            returncode = children.wait(child)
            seconds = time.perf_counter() - started
            rounds.append(Round(index, k, name, directory, returncode, seconds, measures, cases))
        for r in rounds[-2:]:
            # Exit status 1 is also Python's for "No module named pytest": a round ran only if it reported.
            if r.returncode not in PYTEST_RAN or not (r.directory / "results.json").is_file():
                log = r.directory / "pytest.log"
                reported = "" if r.returncode not in PYTEST_RAN else ", and wrote no nerperf results.json"
                raise SideFailed(
                    f"the {r.side} side's pytest could not run (exit status {r.returncode}{reported}) in pair "
                    f"{k + 1}: {log_tail(log, 4)} (log: {log})",
                    r.side,
                    "run",
                )
            if sides[r.side].foreign:
                _check_own_code(r, sides[r.side])
        if look is not None and k + 1 < pairs:
            seen = look(sorted(rounds, key=lambda r: r.index))
            if seen.stop:
                say(f"nerperf gate: every comparison decided after {k + 1} pairs")
                break
            measures, cases = seen.measures, seen.cases
    return sorted(rounds, key=lambda r: r.index)


def _check_own_code(r: Round, side: Side) -> None:
    """Raise GateError when the round imported code from where its side's must not come (import_guard)."""
    found = import_guard.read(r.directory)
    if found is None:
        raise GateError(
            f"the {r.side} side's round {r.index:02d} wrote no {import_guard.REPORT}, so where its code came from "
            f"is unknown (log: {r.directory / 'pytest.log'})"
        )
    if not found:
        return
    other = side.foreign[0]
    listed = ", ".join(f"{name} ({path})" for name, path in sorted(found.items())[:3])
    more = f" and {len(found) - 3} more" if len(found) > 3 else ""
    if any(path.startswith(os.path.join(str(other), "")) for path in found.values()):
        why = (
            f"the other side's checkout: both sides share one environment (their requirements are the same), "
            f"and the {r.side} side's checkout has no such module where the gate looks first "
            f"({', '.join(str(p) for p in source_roots(side.checkout))}); run the gate with --separate-environments"
        )
    else:
        why = "the repository's working tree, installed in the gate's interpreter; run the gate without --no-install"
    raise GateError(f"the {r.side} side imported {listed}{more} from {why}; nothing was compared")


def _start(
    children: Children,
    side: Side,
    pair: int,
    directory: Path,
    settings: Mapping[str, str],
    pytest_args: Sequence[str],
    role: str,
    cpus: Sequence[int] | None = None,
) -> Child:
    variables = {
        **os.environ,
        **settings,
        "NERPERF_SAMPLES": str(directory / "samples"),
        "NERPERF_REPORT": str(directory),
        "PYTHONDONTWRITEBYTECODE": "1",
        VARIABLE: role,
    }
    variables.pop("VIRTUAL_ENV", None)
    guard = ["-p", import_guard.MODULE] if side.foreign else []
    command = [str(side.python), "-m", "pytest", "--benchmark-only", "-p", "no:cacheprovider", *guard, *pytest_args]
    if side.import_path:
        inherited = [os.environ["PYTHONPATH"]] if os.environ.get("PYTHONPATH") else []
        variables["PYTHONPATH"] = os.pathsep.join([*(str(p) for p in side.import_path), *inherited])
    if side.foreign:
        variables[import_guard.OWN_VARIABLE] = str(side.checkout)
        variables[import_guard.FOREIGN_VARIABLE] = os.pathsep.join(str(p) for p in side.foreign)
    descriptor = int(role.partition(",")[0])
    name = f"the {side.name} side's pytest (pair {pair + 1})"
    return children.start(
        name,
        command,
        cwd=side.checkout,
        log=directory / "pytest.log",
        environment=variables,
        pass_fds=(descriptor,),
        cores=cpus,
    )
