"""Two processes taking turns, one timed call each, so that both see the machine in the same state.

``nerperf gate`` runs the base and the head side by side, each in its own fresh pytest process, and
makes them alternate: base times sentence 1, head times sentence 1, base times sentence 2, and so on
(which side goes first alternates between pairs of processes). A sentence's two timings are then
milliseconds apart instead of minutes, so the machine's drift, which moves whole runs minutes apart
(docs/gate.md), cancels from their ratio.

Only one process times at a time: from its first timed call on, a process holds the baton for all its
work, timed or not, and hands it over just before each timed call (``turn``), then waits for it to come
back. Before that both start up side by side (imports, loading, the first case's evaluation: nothing is
timed yet, and a pair costs one start-up, not two); at its first timed call the second process says it
is ready and waits for the baton, and the first waits for it to be ready, so that neither's start-up
overlaps the other's timings. A process whose tests are done hands the baton over and waits
until its partner's are done too; a process whose partner has gone carries on alone. Before handing over,
a process pauses, so that its worker threads (torch's OpenMP pool) have stopped spinning when the partner's
timing starts, since a partner's spinning threads slow the timed call (docs/gate.md, "Waiting between turns"):
10 ms, longer than libgomp's default spin (``--wait pause``), or 1 ms or 2 ms with its threads told to spin
only a fraction of that (``GOMP_SPINCOUNT``, ``--wait short-spin`` and ``ms-spin``; :data:`WAITS`), or, with
``--wait asleep``, only until none of its other threads runs any more (:func:`wait_until_asleep`), at most the
10 ms; the default per CPU vendor is :func:`default_wait`. ONNX Runtime's threads are told not to spin at all
under the gate (:mod:`nerperf.variants.onnx_variants`). The gate passes one end of a socket pair to each
process in the variable :data:`VARIABLE` (``FD,first`` or ``FD,second``); without it nothing here does
anything.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from dataclasses import asdict, dataclass, field

from nerperf.processes.setup import bind_main_thread, release_main_thread

VARIABLE = "NERPERF_GATE_LOCKSTEP"
SETTLE_S = 0.010  # before handing over: the process's own worker threads stop spinning (torch's OpenMP)
# The gate's --wait sets it: 1 or 2 ms with a short spin, 0 when OpenMP's threads sleep at once (PASSIVE).
# A variable of its own, which a side running an older nerperf ignores, so the protocol stays compatible.
SETTLE_VARIABLE = "NERPERF_GATE_SETTLE_S"
# The gate's --wait asleep sets it: rather than pausing the whole settle time, hand over as soon as none
# of the process's other threads is running or runnable (Linux's /proc/self/task/*/stat), the settle time
# being the most it waits. A side on an older nerperf ignores it and pauses.
ASLEEP_VARIABLE = "NERPERF_GATE_SETTLE_ASLEEP"
POLL_S = 0.00025  # how often --wait asleep looks at the threads: reading them takes tens of µs
# How a process lets the CPU go before its partner's timed call (the gate's --wait; what each cost and
# gained where measured: docs/gate.md, "Waiting between turns"): libgomp's default spin and a 10 ms pause;
# a short spin (libgomp's GOMP_SPINCOUNT at 10,000 iterations, about 0.3 ms) and a 1 ms pause; a spin of
# about 0.9 ms (30,000), which bridges the gaps between a torch int8 call's operations, and a 2 ms pause;
# OpenMP's passive waiting (threads sleep at once, even inside a call) and no pause; or libgomp's default
# spin and a pause that ends as soon as the process's other threads are asleep, so the partner starts as it
# would after 10 ms.
WAITS = {
    "pause": {},
    "short-spin": {"GOMP_SPINCOUNT": "10000", SETTLE_VARIABLE: "0.001"},
    "ms-spin": {"GOMP_SPINCOUNT": "30000", SETTLE_VARIABLE: "0.002"},
    "passive": {"OMP_WAIT_POLICY": "PASSIVE", SETTLE_VARIABLE: "0"},
    "asleep": {ASLEEP_VARIABLE: "1"},
}
DEFAULT_WAIT = "pause"  # where the CPU's vendor has no measured default of its own
# The default per CPU vendor, where the noise runs chose another (docs/gate.md, "Waiting between turns"):
# on Intel Xeon with AMX the pause let a process's threads run into its partner's timed calls, and
# passive waiting spread the pairs no wider and halved the gate's time; on AMD EPYC it doubled the spread.
VENDOR_WAITS = {"GenuineIntel": "passive"}
# The same with OpenMP's threads bound (--bind-threads), where measured: on AMD EPYC a spin of about 1 ms cost
# 0.63 of the pause's pair, its latency spread as the unbound defaults', its throughput's 0.59 of their variance.
BOUND_WAITS = {"AuthenticAMD": "ms-spin"}


def default_wait(bound: bool = False) -> str:
    """The gate's ``--wait`` when none is given: this CPU vendor's measured choice for processes whose threads
    are ``bound`` or not, else :data:`DEFAULT_WAIT`."""
    from nerperf.machine import cpu_vendor

    vendor = cpu_vendor()
    if bound and vendor in BOUND_WAITS:
        return BOUND_WAITS[vendor]
    return VENDOR_WAITS.get(vendor, DEFAULT_WAIT)


_READY, _GO = b"R", b"G"


@dataclass
class Clock:
    """Where a process's time under the gate went, in seconds: what a pair costs, and what could be cut.

    From the session's start: ``start_up`` until the partner is met (imports, loading, the first
    evaluation, side by side with the partner's); then, until the partner's tests are done too,
    ``timed`` (the timed calls, added by the plugin), ``paused`` (before handing over), ``waiting`` (for
    the baton: the partner's turns, and its last tests) and ``other`` (the rest, with the baton: untimed
    calls such as warm-ups, each later case's loading and evaluation, the benchmarks' own bookkeeping).
    """

    opened: float  # time.perf_counter() as the session started
    start_up: float = 0.0
    timed: float = 0.0
    paused: float = 0.0
    waiting: float = 0.0
    other: float = 0.0

    def met(self) -> None:
        self.start_up = time.perf_counter() - self.opened

    def finished(self) -> None:
        spent = time.perf_counter() - self.opened - self.start_up
        self.other = max(0.0, spent - self.timed - self.paused - self.waiting)

    def to_dict(self) -> dict[str, float]:
        return {name: round(value, 3) for name, value in asdict(self).items() if name != "opened"}


@dataclass
class Lockstep:
    connection: socket.socket | None
    first: bool
    calls: int = 0  # turns taken: the order of a sentence's two timings alternates with the pair
    alone: bool = False  # the partner has gone: no more waiting
    finishing: bool = False  # past the tests: the partner leaving now is expected
    lost_at: int | None = None  # the partner went before the tests were done: timed calls taken until then
    settle_s: float = SETTLE_S  # the pause before handing over (with ``until_asleep``, the most it waits)
    until_asleep: bool = False  # hand over once the process's other threads sleep, not after the whole pause
    started: bool = False  # met the partner (at the first timed call, or at the end if there was none)
    clock: Clock = field(default_factory=lambda: Clock(time.perf_counter()))  # where this process's time went

    @classmethod
    def from_environment(cls) -> Lockstep | None:
        value = os.environ.get(VARIABLE, "")
        if not value:
            return None
        descriptor, _, role = value.partition(",")
        if role not in {"first", "second"} or not descriptor.isdigit():
            raise ValueError(f"{VARIABLE}={value!r} is not FD,first or FD,second (set by nerperf gate only)")
        settle = float(os.environ.get(SETTLE_VARIABLE, SETTLE_S))
        asleep = os.environ.get(ASLEEP_VARIABLE) == "1" and others_running() is not None
        return cls(socket.socket(fileno=int(descriptor)), role == "first", settle_s=settle, until_asleep=asleep)

    def start(self) -> None:
        """The first waits until the second is ready; the second says so, then waits for the baton.

        Called by the first :meth:`turn` (or by :meth:`finish`, for a process that timed nothing), not as
        the session starts: a side on an older nerperf that meets here at its session's start still pairs,
        its start-up only no longer overlapping its partner's. Under ``--bind-threads`` the main thread,
        which ran anywhere in the process's CPU set during the start-up, goes back to its core here.
        """
        bind_main_thread()
        self.started = True
        if self.first:
            self._receive(_READY)
        else:
            self._send(_READY)
            self._receive(_GO)
        self.clock.met()

    def threads_beside_partner(self, configured: int | None) -> int | None:
        """Threads for untimed work (evaluations) while the partner starts up on the same CPUs: half of them,
        at most ``configured``; None once met, when the partner waits and the configured count is used.

        Each start-up with as many threads as CPUs would put four OpenMP threads on two cores, whose barriers
        then spin against a descheduled partner: measured on 2 cores, start-ups of 7-15 s (19-35 with the
        floors) against 5.5-6.3 (9.9) at one thread each (docs/gate.md, "What a gate does").
        """
        if self.started:
            return None
        from nerperf.machine import usable_cpus

        half = max(1, len(usable_cpus()) // 2)
        return half if configured is None else min(configured, half)

    def turn(self) -> None:
        """Just before a timed call: the first meets the partner; the others hand the baton over and wait
        for it to come back."""
        if not self.started:
            self.start()
        elif self.calls > 0 and not self.alone:  # start() called before any call (0.9's plugin did): no handover
            paused = time.perf_counter()
            if self.until_asleep:
                wait_until_asleep(self.settle_s)
            elif self.settle_s > 0:
                time.sleep(self.settle_s)
            self.clock.paused += time.perf_counter() - paused
            self._send(_GO)
            self._receive(_GO)
        self.calls += 1

    def finish(self) -> None:
        """The session's tests are done: let the partner finish its own, then both go on alone.

        Waiting for the partner keeps this process's last work (its summary, its files) out of the
        partner's last timings; that work then runs side by side with the partner's, the main thread off
        its timing core under ``--bind-threads``.
        """
        if not self.started:
            self.start()
        self.finishing = True
        self._send(_GO)
        self._receive(_GO)
        if self.connection is not None:
            self.connection.close()
            self.connection = None
        self.alone = True
        self.clock.finished()
        release_main_thread()

    def _send(self, message: bytes) -> None:
        if self.alone or self.connection is None:
            return
        try:
            self.connection.sendall(message)
        except OSError:
            self._partner_gone()

    def _receive(self, expected: bytes) -> None:
        if self.alone or self.connection is None:
            return
        waiting = time.perf_counter()
        try:
            got = self.connection.recv(1)
        except OSError:
            got = b""
        if self.clock.start_up:  # met: waiting for the baton; before, it is the start-up's
            self.clock.waiting += time.perf_counter() - waiting
        if got != expected:  # the partner closed (its session ended) or sent nonsense: carry on alone
            self._partner_gone()

    def _partner_gone(self) -> None:
        """Carry on alone; before :meth:`finish`, the timings from here on are unpaired, and recorded so."""
        self.alone = True
        if not self.finishing and self.lost_at is None:
            self.lost_at = self.calls


def others_running() -> int | None:
    """How many of this process's threads other than the calling one are running or runnable (state R in
    /proc/self/task/TID/stat); None where there is no such file (not Linux): then nothing can be watched."""
    try:
        tasks = os.listdir("/proc/self/task")
    except OSError:
        return None
    me = str(threading.get_native_id())
    running = 0
    for task in tasks:
        if task == me:
            continue
        try:
            with open(f"/proc/self/task/{task}/stat", "rb") as stat:
                line = stat.read()
        except OSError:  # the thread ended between the listing and the read
            continue
        name_end = line.rindex(b")")  # the state follows "(name) "
        running += line[name_end + 2 : name_end + 3] == b"R"
    return running


def wait_until_asleep(most_s: float) -> float:
    """Wait until no other thread of this process runs (an OpenMP worker spinning after its last work is
    running; one that sleeps on its futex is not), at most ``most_s``; the seconds waited.

    torch's libgomp workers fall asleep some milliseconds after a call and ONNX Runtime's (told not to
    spin) at once, so a turn waits less than the pause's 10 ms, and the partner's timing still starts with
    this process's threads asleep, as after the pause.
    """
    start = time.perf_counter()
    while others_running():
        if time.perf_counter() - start >= most_s:
            break
        time.sleep(POLL_S)
    return time.perf_counter() - start
