"""One way to run child pytest processes: the gate's rounds, ``nerperf parallel``'s parts, the gate's error-rate runs.

A child runs in another directory than its parent (a side's checkout) or with a pinned set of cores, and
a parent can be cancelled at any moment (Ctrl-C, a cancelled CI job's SIGTERM). So every child is
started here, by one rule:

- Every path handed to a child (its directory, its log, each path in its environment, each option that
  names a file) is made absolute first by the caller with :func:`absolute`; :meth:`Children.start`
  refuses a relative ``cwd`` or log, the mistake that sent the gate's samples into the checkout.
- Each child leads its own process group (``start_new_session``), so that what it starts in turn (a
  pip install, a pytest that spawns) is stopped with it, and a terminal's Ctrl-C reaches the parent
  alone, which then stops the children in order.
- CPU affinity is set on the child by the parent right after the start (``os.sched_setaffinity(pid)``),
  never by a ``preexec_fn``, which is unsafe in a process that has threads. The child's threads, created
  when it imports torch, hundreds of milliseconds later, inherit it.
- On leaving the ``with`` block by an exception (KeyboardInterrupt, :class:`Terminated` from SIGTERM,
  any error), every child still running gets SIGTERM to its group, then SIGKILL after
  :data:`GRACE_S`, and is reaped. :attr:`Children.killed` names them, for the outcome's note.
- :func:`stoppable` runs a command's work so: the gate, bisect and ``nerperf parallel`` get back their
  result or an :class:`Interrupted` (exit 130 for Ctrl-C, 143 for SIGTERM, the children it stopped),
  and each only writes its own record of it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

GRACE_S = 3.0  # between SIGTERM and SIGKILL: pytest writes its files and exits well within it


class Terminated(SystemExit):
    """SIGTERM arrived (a cancelled CI job): raised in the main thread so that cleanup runs; exit 143."""

    def __init__(self) -> None:
        super().__init__(128 + signal.SIGTERM)


@dataclass(frozen=True)
class Interrupted:
    """A command cancelled while its children ran: its exit status and what it stopped, for its record."""

    status: int  # 130 for Ctrl-C, 143 for SIGTERM (a cancelled CI job)
    signal: str  # "Ctrl-C" or "SIGTERM"
    stopped: tuple[str, ...]  # the children that had to be stopped, by name

    def reason(self, nothing_running: str = "no child process was running") -> str:
        return f"interrupted by {self.signal}; stopped: {', '.join(self.stopped) or nothing_running}"


Result = TypeVar("Result")


def stoppable(work: Callable[[Children], Result]) -> Result | Interrupted:
    """``work(children)`` with SIGTERM raising :class:`Terminated` and every child stopped on the way out;
    a Ctrl-C or a SIGTERM comes back as an :class:`Interrupted`, any other error goes on up."""
    children = Children()
    try:
        with sigterm_raises(), children:
            return work(children)
    except (KeyboardInterrupt, Terminated) as stop:
        terminated = isinstance(stop, Terminated)
        return Interrupted(143 if terminated else 130, "SIGTERM" if terminated else "Ctrl-C", tuple(children.killed))


def absolute(path: str | os.PathLike[str]) -> Path:
    """``path`` against this process's directory, before it is handed to a child that runs elsewhere."""
    return Path(os.path.abspath(os.fspath(path)))


@contextmanager
def sigterm_raises() -> Iterator[None]:
    """Within the block, SIGTERM raises :class:`Terminated` instead of ending the process on the spot."""
    if threading.current_thread() is not threading.main_thread():
        yield  # signal handlers belong to the main thread; a caller elsewhere keeps the default
        return

    def raise_terminated(signum: int, frame: object) -> None:
        raise Terminated()

    previous = signal.signal(signal.SIGTERM, raise_terminated)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@dataclass
class Child:
    name: str  # as the outcome's note names it: "the base side's pytest, pair 2", "part 1/2"
    process: subprocess.Popen[bytes]
    log: Path


@dataclass
class Children:
    """The children of one command; use as ``with Children() as children:``."""

    running: list[Child] = field(default_factory=list)
    killed: list[str] = field(default_factory=list)  # children that had to be stopped, by name

    def start(
        self,
        name: str,
        command: Sequence[str],
        *,
        cwd: Path,
        log: Path,
        environment: Mapping[str, str] | None = None,
        cores: Sequence[int] | None = None,
        pass_fds: Sequence[int] = (),
        append: bool = False,
    ) -> Child:
        """Start ``command`` in ``cwd`` with its output in ``log`` (or after it); pin it to ``cores`` where given."""
        for what, path in (("directory", cwd), ("log", log)):
            if not Path(path).is_absolute():
                raise ValueError(f"{name}: its {what} {path} is relative; hand children absolute paths (absolute())")
        log.parent.mkdir(parents=True, exist_ok=True)
        with log.open("ab" if append else "wb") as output:  # the child keeps its own copy of the descriptor
            process = subprocess.Popen(
                list(command),
                cwd=cwd,
                env=dict(environment) if environment is not None else None,
                stdout=output,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                pass_fds=tuple(pass_fds),
                start_new_session=True,
            )
        child = Child(name, process, log)
        self.running.append(child)
        if cores is not None and hasattr(os, "sched_setaffinity"):
            try:
                os.sched_setaffinity(process.pid, list(cores))
            except ProcessLookupError:
                pass  # it has already exited: its status says why
        return child

    def wait(self, child: Child) -> int:
        """The child's exit status, once it has ended."""
        returncode = child.process.wait()
        if child in self.running:
            self.running.remove(child)
        return returncode

    def stop_all(self) -> None:
        """SIGTERM to every running child's group, SIGKILL to those still there after the grace; reap all."""
        alive = [c for c in self.running if c.process.poll() is None]
        for child in alive:
            _signal_group(child.process, signal.SIGTERM)
        deadline = time.monotonic() + GRACE_S
        for child in alive:
            try:
                child.process.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                _signal_group(child.process, signal.SIGKILL)
                child.process.wait()
            self.killed.append(child.name)
        for child in self.running:
            _signal_group(child.process, signal.SIGKILL)  # anything its group left behind
            child.process.wait()
        self.running.clear()

    def __enter__(self) -> Children:
        return self

    def __exit__(self, kind: object, error: object, traceback: object) -> None:
        self.stop_all()  # after a normal exit, nothing is running: this only reaps stragglers' groups


def _signal_group(process: subprocess.Popen[bytes], number: int) -> None:
    try:
        os.killpg(process.pid, number)
    except (ProcessLookupError, PermissionError):
        pass
