"""The configurations ``nerperf tune`` measures, and the order it searches them in.

The space is small (a handful of variants, 1..cores threads, five batch sizes, five token budgets), and
each trial is seconds to a minute, so a documented hand order is used rather than a sampler such as
optuna's TPE: its first trials would be random, and a 20-minute budget is spent before a model of the
space pays. The order, with its pruning:

1. **Screening**: every variant at the defaults (all cores; throughput at batch 32 and 1,024 tokens,
   latency at batch 1), fp32 first: its F1 is the reference. A variant whose F1 is below the floor for an
   objective is not timed again for it (dynamic int8's F1 moves with the batching, so this is per
   objective).
2. **Threads**: the variants left, at each other thread count. A count slower than all cores for every
   variant is dropped; otherwise each variant goes on at its fastest count.
3. **Batching** (throughput only), for the :data:`LEADERS` fastest variants: the batch size is walked
   from 32 up (64, 128) while it gets faster, else down (16, 8); then, at that size, the token budget
   from 1,024 up (2,048, 4,096, none) while faster, else down (512). A step below the floor, or slower,
   ends its direction.

:func:`search` runs this order against any ``measure`` function, so the pruning is tested on
synthetic trials (``tests/test_tune.py``); :mod:`nerperf.tune.command` gives it real ones.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

LATENCY, THROUGHPUT = "latency", "throughput"
OBJECTIVES = (LATENCY, THROUGHPUT)
DEFAULT_BATCH, DEFAULT_TOKENS = 32, 1024  # nerperf's own defaults: what tune must beat
BATCH_SIZES = (8, 16, 32, 64, 128)
TOKEN_BUDGETS: tuple[int | None, ...] = (512, 1024, 2048, 4096, None)
LEADERS = 3


@dataclass(frozen=True)
class Config:
    """One configuration: a variant, its threads, and its batching (batch 1 for the latency objective)."""

    variant: str
    threads: int
    batch_size: int = 1
    max_tokens: int | None = None

    @property
    def objective(self) -> str:
        return LATENCY if self.batch_size == 1 else THROUGHPUT

    @property
    def key(self) -> str:
        tokens = "none" if self.max_tokens is None else self.max_tokens
        return f"{self.variant} threads={self.threads} batch={self.batch_size} tokens={tokens}"


@dataclass(frozen=True)
class Measured:
    """What a trial found: F1 on the sample, and speed (higher is better: sentences/s, or 1 / p50 latency);
    either None when the trial failed."""

    f1: float | None
    speed: float | None


Measure = Callable[[Config], Measured]


def default(variant: str, threads: int, objective: str) -> Config:
    if objective == LATENCY:
        return Config(variant, threads)
    return Config(variant, threads, DEFAULT_BATCH, DEFAULT_TOKENS)


def search(
    variants: Sequence[str],
    cores: int,
    measure: Measure,
    floor_points: float,
    objectives: Sequence[str] = OBJECTIVES,
) -> dict[Config, Measured]:
    """Every configuration measured, in the order above. ``variants`` must hold ``fp32`` (the reference);
    ``floor_points`` is in F1 points (1.0 = 0.01). ``measure`` may raise to stop the search (a budget
    spent, Ctrl-C): what was measured is the caller's to keep, trial by trial."""
    if "fp32" not in variants:
        raise ValueError("the search needs fp32, the reference its F1 floor is taken from")
    found: dict[Config, Measured] = {}

    def trial(config: Config) -> Measured:
        if config not in found:
            found[config] = measure(config)
        return found[config]

    ordered = ["fp32", *(v for v in variants if v != "fp32")]
    reference = trial(default("fp32", cores, objectives[0])).f1
    if reference is None:
        return found  # fp32 itself failed: nothing is within a floor of nothing

    def within(m: Measured) -> bool:
        return m.f1 is not None and m.speed is not None and m.f1 >= reference - floor_points / 100 - 1e-12

    for objective in objectives:
        alive = [v for v in ordered if within(trial(default(v, cores, objective)))]
        best = {v: default(v, cores, objective) for v in alive}
        for threads in range(cores - 1, 0, -1):
            for variant in alive:
                measured = trial(default(variant, threads, objective))
                if within(measured) and _speed(measured) > _speed(found[best[variant]]):
                    best[variant] = default(variant, threads, objective)
        if objective == THROUGHPUT:
            leaders = sorted(alive, key=lambda v: -_speed(found[best[v]]))[:LEADERS]
            for variant in leaders:
                start = best[variant]
                batched = _walk(start, "batch_size", BATCH_SIZES, trial, within)
                _walk(batched, "max_tokens", TOKEN_BUDGETS, trial, within)
    return found


def _walk(
    start: Config,
    field: str,
    values: Sequence[int | None],
    trial: Callable[[Config], Measured],
    within: Callable[[Measured], bool],
) -> Config:
    """From ``start``, change ``field`` one value at a time up while it gets faster, else down; the best."""
    from dataclasses import replace

    best, index = start, values.index(getattr(start, field))
    for direction in (1, -1):
        moved = False
        position = index + direction
        while 0 <= position < len(values):
            candidate = replace(best, **{field: values[position]})
            measured = trial(candidate)
            if not (within(measured) and _speed(measured) > _speed(trial(best))):
                break
            best, moved, position = candidate, True, position + direction
        if moved:
            break  # up paid: no need to look down
    return best


def _speed(measured: Measured) -> float:
    return measured.speed if measured.speed is not None else float("-inf")
