"""Two processes taking turns (nerperf.processes.lockstep): start-ups side by side, timed calls one at a time.

The two sides are threads here, each with its end of a socket pair as the gate hands them to its
processes; each "call" sleeps, and the intervals each side spent are compared.
"""

from __future__ import annotations

import itertools
import socket
import threading
import time
from dataclasses import dataclass, field

import pytest

from nerperf.processes.lockstep import Lockstep

START_UP_S = 0.3
CALL_S = 0.02


@dataclass
class Side:
    name: str
    step: Lockstep
    calls: int
    old_protocol: bool = False  # an older nerperf: meets its partner as its session starts
    start_up: tuple[float, float] = (0.0, 0.0)
    timed: list[tuple[float, float, str]] = field(default_factory=list)
    finished: float = 0.0

    def run(self) -> None:
        if self.old_protocol:
            self.step.start()
        begun = time.perf_counter()
        time.sleep(START_UP_S)  # imports, loading, the first evaluation: untimed
        self.start_up = (begun, time.perf_counter())
        for _ in range(self.calls):
            self.step.turn()
            begun = time.perf_counter()
            time.sleep(CALL_S)
            self.timed.append((begun, time.perf_counter(), self.name))
            self.step.clock.timed += self.timed[-1][1] - begun  # as the plugin adds pytest-benchmark's timings
        self.step.finish()
        self.finished = time.perf_counter()


def _pair(calls: tuple[int, int] = (5, 5), old: tuple[bool, bool] = (False, False)) -> tuple[Side, Side, float]:
    ours, theirs = socket.socketpair()
    first = Side("first", Lockstep(ours, first=True), calls[0], old[0])
    second = Side("second", Lockstep(theirs, first=False), calls[1], old[1])
    threads = [threading.Thread(target=side.run) for side in (first, second)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert not any(thread.is_alive() for thread in threads), "the two sides deadlocked"
    return first, second, time.perf_counter() - started


def _one_at_a_time(first: Side, second: Side) -> list[str]:
    """Who timed, in order; fails where two timed calls overlapped."""
    calls = sorted(first.timed + second.timed)
    for (_, end, _), (begin, _, _) in itertools.pairwise(calls):
        assert begin >= end, "two timed calls overlapped"
    return [name for _, _, name in calls]


def test_start_ups_run_side_by_side_and_timed_calls_take_turns() -> None:
    """Nothing is timed before both sides reach their first timed call, so their start-ups overlap (a pair
    costs one start-up, not two); from there the calls alternate, the first side first, never overlapping."""
    first, second, seconds = _pair()
    assert seconds < 2 * START_UP_S  # side by side: serial start-ups would take at least twice one
    assert max(first.start_up[0], second.start_up[0]) < min(first.start_up[1], second.start_up[1])
    assert _one_at_a_time(first, second) == ["first", "second"] * 5
    latest_start_up = max(first.start_up[1], second.start_up[1])
    assert min(begin for begin, _, _ in first.timed + second.timed) >= latest_start_up
    assert first.step.lost_at is None and second.step.lost_at is None


@pytest.mark.parametrize("old", [(True, False), (False, True), (True, True)])
def test_a_side_on_an_older_nerperf_still_takes_turns(old: tuple[bool, bool]) -> None:
    """An older nerperf meets its partner as its session starts: the pair still alternates, one call at a
    time, only its start-up no longer overlapping its partner's."""
    first, second, _ = _pair(old=old)
    assert _one_at_a_time(first, second) == ["first", "second"] * 5
    assert first.step.lost_at is None and second.step.lost_at is None


@pytest.mark.parametrize("calls", [(0, 3), (3, 0), (0, 0), (2, 4)])
def test_sides_that_time_unequally_finish_and_say_so(calls: tuple[int, int]) -> None:
    """A side whose tests time nothing (all skipped) or fewer calls still meets its partner and leaves it
    alone at the end; the partner's calls past that are recorded as unpaired, none overlapping."""
    first, second, _ = _pair(calls=calls)
    order = _one_at_a_time(first, second)
    assert sorted(order) == sorted(["first"] * calls[0] + ["second"] * calls[1])
    if calls[0] != calls[1]:
        longer, shorter = sorted((first, second), key=lambda side: side.calls, reverse=True)
        assert longer.step.lost_at is not None, "its unpaired calls were not recorded"
        # counted from the calls around which the partner's last message came: the first unpaired or two
        assert min(calls) <= longer.step.lost_at <= min(calls) + 2
        assert shorter.step.lost_at is None


def test_each_side_says_where_its_time_went() -> None:
    """The clock's parts add up to the session's time: the start-up until the partner is met, the timed
    calls, the pauses before each handover (10 ms, four of five calls), the partner's turns waited for;
    little else, since these sides do nothing untimed with the baton."""
    first, second, _ = _pair()
    for side, partner in ((first, second), (second, first)):
        clock = side.step.clock
        assert START_UP_S <= clock.start_up < START_UP_S + 0.2
        assert clock.timed == pytest.approx(sum(end - begin for begin, end, _ in side.timed))
        assert 4 * 0.01 <= clock.paused < 4 * 0.01 + 0.1
        assert clock.waiting >= 0.9 * sum(end - begin for begin, end, _ in partner.timed)  # the partner's calls
        assert clock.other < 0.05
        spent = clock.start_up + clock.timed + clock.paused + clock.waiting + clock.other
        assert spent == pytest.approx(side.finished - clock.opened, abs=0.01)
        assert set(clock.to_dict()) == {"start_up", "timed", "paused", "waiting", "other"}


def test_evaluations_beside_the_partner_use_half_the_cpus_until_met(monkeypatch: pytest.MonkeyPatch) -> None:
    """Two start-ups side by side, each with as many threads as CPUs, oversubscribe them (OpenMP's barriers
    spin against a descheduled thread): half each, at most the threads setting, until the partner is met."""
    monkeypatch.setattr("os.sched_getaffinity", lambda pid: {0, 1, 2, 3})
    ours, theirs = socket.socketpair()
    step = Lockstep(ours, first=False)
    assert [step.threads_beside_partner(configured) for configured in (None, 1, 2, 8)] == [2, 1, 2, 2]
    monkeypatch.setattr("os.sched_getaffinity", lambda pid: {3})
    assert step.threads_beside_partner(None) == 1  # one CPU: still one thread
    theirs.sendall(b"G")  # the partner's go: met
    step.start()
    assert step.threads_beside_partner(None) is None and step.threads_beside_partner(1) is None
    ours.close()
    theirs.close()
