"""Running the two sides in pairs of fresh processes that take turns, each recording its raw samples.

Every round runs the same command, ``pytest --benchmark-only PYTEST_ARGS``, in its side's checkout,
with the same nerperf settings (passed as ``NERPERF_*`` variables), writing its samples and its run
summary (``results.json``: floors, what did not run) to a directory of its own. A pair of rounds is a
base process and a head process started together and run in lockstep (:mod:`nerperf.lockstep`): one
timed call each, in turn, so that each sentence's two timings are milliseconds apart. Rounds run one
after the other, a whole run apart, differ by 10-20% on this project's 2-core virtual machine (README,
"Gating a pull request"); in lockstep the machine's drift cancels. Which side goes first alternates between pairs
(base, head; head, base; ...). A round that pytest could not run (an exit status other than 0, tests
passed, or 1, some failed) ends the gate: nothing is compared.
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from nerperf.gate.checkouts import GateError, Side, log_tail
from nerperf.lockstep import VARIABLE
from nerperf.samples import CaseSamples, read_directory

PYTEST_RAN = (0, 1)  # all passed; some failed (a floor, say): both leave samples to compare


@dataclass(frozen=True)
class Round:
    index: int  # 2 × pair, + 1 for the side that went second
    pair: int
    side: str
    directory: Path
    returncode: int
    seconds: float

    @property
    def samples(self) -> dict[str, CaseSamples]:
        return read_directory(self.directory / "samples")


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
    say: Callable[[str], None] = print,
) -> list[Round]:
    """Run every pair of rounds; raise GateError, with the log's end, when pytest could not run one."""
    rounds: list[Round] = []
    schedule = order(pairs)
    for k in range(pairs):
        first, second = (name for pair, name in schedule if pair == k)
        say(f"nerperf gate: pair {k + 1}/{pairs}: {first} and {second} in turns, {first} first")
        ends = dict(zip((first, second), socket.socketpair(), strict=True))
        started = time.perf_counter()
        running = {}
        for position, name in enumerate((first, second)):
            directory = out / "rounds" / f"{2 * k + position:02d}-{name}"
            directory.mkdir(parents=True, exist_ok=True)
            role = f"{ends[name].fileno()},{'first' if position == 0 else 'second'}"
            running[name] = (2 * k + position, directory, _start(sides[name], directory, settings, pytest_args, role))
        for end in ends.values():
            end.close()  # the processes hold their own ends: a process that dies closes its partner's wait
        for name, (index, directory, process) in running.items():
            returncode = process.wait()
            rounds.append(Round(index, k, name, directory, returncode, time.perf_counter() - started))
        for r in rounds[-2:]:
            if r.returncode not in PYTEST_RAN:
                log = r.directory / "pytest.log"
                raise GateError(
                    f"the {r.side} side's pytest could not run (exit status {r.returncode}) in pair {k + 1}: "
                    f"{log_tail(log, 4)} (log: {log})"
                )
    return sorted(rounds, key=lambda r: r.index)


def _start(
    side: Side, directory: Path, settings: Mapping[str, str], pytest_args: Sequence[str], role: str
) -> subprocess.Popen[bytes]:
    variables = {
        **os.environ,
        **settings,
        "NERPERF_SAMPLES": str(directory / "samples"),
        "NERPERF_REPORT": str(directory),
        "PYTHONDONTWRITEBYTECODE": "1",
        VARIABLE: role,
    }
    variables.pop("VIRTUAL_ENV", None)
    command = [str(side.python), "-m", "pytest", "--benchmark-only", "-p", "no:cacheprovider", *pytest_args]
    descriptor = int(role.partition(",")[0])
    with (directory / "pytest.log").open("wb") as log:  # the child keeps its own copy open
        return subprocess.Popen(
            command, cwd=side.checkout, env=variables, stdout=log, stderr=subprocess.STDOUT, pass_fds=(descriptor,)
        )
