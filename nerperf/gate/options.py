"""The gate's options: a typed, frozen record built once from the command line, or by ``nerperf bisect`` for
each of its steps. Everything below the command takes it, so a misspelt option is an error, not a default.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field

from nerperf.gate import checkouts, moderation, sequential
from nerperf.processes import lockstep
from nerperf.processes.setup import ProcessSetup, default_setup

DEFAULT_MIN_EFFECT = 2.0  # percent: the smallest slowdown that fails the gate


@dataclass(frozen=True)
class GateOptions:
    base: str
    head: str = "HEAD"
    out: str = "nerperf-gate"
    json: str | None = None
    min_pairs: int = sequential.FIRST_LOOK
    max_pairs: int = sequential.LAST_LOOK
    min_effect: float = DEFAULT_MIN_EFFECT  # percent
    prior_df: float = moderation.PRIOR_DF
    exact: bool = False
    install: str = checkouts.DEFAULT_INSTALL
    no_install: bool = False
    separate_environments: bool = False  # one environment per side even where their requirements are the same
    work: str | None = None
    wait: str = ""  # how processes hand over (lockstep.WAITS); "": the CPU vendor's measured one for ``setup``
    every_measure: bool = False
    decide_on: str | None = None  # a bisect step waits on its own measure alone
    pytest_args: tuple[str, ...] = ()
    setup: ProcessSetup = field(default_factory=default_setup)  # hash seed, CPUs, binding: both sides alike

    def __post_init__(self) -> None:
        """Without a wait, the one measured for this CPU vendor and ``setup``'s binding (:func:`lockstep.default_wait`),
        whoever built the options: the command line, or ``nerperf bisect`` for a step."""
        if not self.wait:
            object.__setattr__(self, "wait", lockstep.default_wait(self.setup.bind_threads))

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> GateOptions:
        """From ``nerperf gate``'s parsed arguments; ``--rounds N`` is ``--min-pairs N --max-pairs N``."""
        looks = (args.rounds, args.rounds) if args.rounds is not None else (args.min_pairs, args.max_pairs)
        bound = default_setup().bind_threads if args.bind_threads is None else args.bind_threads
        return cls(
            base=args.base,
            head=args.head,
            out=args.out,
            json=args.json,
            min_pairs=looks[0],
            max_pairs=looks[1],
            min_effect=args.min_effect,
            prior_df=args.prior_df,
            exact=args.exact,
            install=args.install,
            no_install=args.no_install,
            separate_environments=args.separate_environments,
            work=args.work,
            wait=args.wait or "",
            every_measure=args.every_measure,
            pytest_args=tuple(args.pytest_args),
            setup=ProcessSetup(args.hash_seed, args.cpus, bound),
        )


@dataclass(frozen=True)
class BisectOptions:
    """``nerperf bisect``'s options, GOOD, BAD and the case resolved (from ``--from-asv`` too)."""

    good: str
    bad: str
    case: str
    measure: str = "latency"  # latency, throughput or accuracy
    min_effect: float | None = None  # speed: percent (the gate's default); accuracy: F1 points (any change)
    min_pairs: int = sequential.FIRST_LOOK
    max_pairs: int = sequential.LAST_LOOK
    json: str | None = None
    out: str = "nerperf-bisect"
    install: str = checkouts.DEFAULT_INSTALL
    no_install: bool = False
    separate_environments: bool = False
    work: str | None = None
    pytest_args: tuple[str, ...] = ()

    def step(self, base: str, head: str, out: str) -> GateOptions:
        """One step's gate: GOOD (or the culprit's parent) against a commit, on the case alone."""
        accuracy = self.measure == "accuracy"  # predictions are deterministic: the fewest pairs the gate takes
        return GateOptions(
            base=base,
            head=head,
            out=out,
            min_pairs=2 if accuracy else self.min_pairs,
            max_pairs=2 if accuracy else self.max_pairs,
            min_effect=DEFAULT_MIN_EFFECT if accuracy or self.min_effect is None else self.min_effect,
            install=self.install,
            no_install=self.no_install,
            separate_environments=self.separate_environments,
            work=self.work,
            decide_on=None if accuracy else self.measure,  # stop once the bisected measure is decided
            pytest_args=(*self.pytest_args, "-k", self.case),
        )
