"""Is the head slower? Ratios paired by input, an interval over pairs of processes, a minimum effect, Holm.

For one case and one measure (batch-1 latency, paired by sentence; batched throughput, paired by
batch), each pair of processes (:mod:`nerperf.gate.rounds`, run in lockstep) timed every input once on
each side, milliseconds apart. Pair k's figure is the median over its inputs of log(head time / base
time); the case's ratio is the exponential of the mean of the pairs' figures.

The interval and p-value treat the pairs as the units: each pair of processes has an offset of its own
(memory layout, which side ran first), which moves all its inputs alike, so the inputs are not
independent and an interval over them would be too narrow. With the few pairs a gate can afford, the
interval is Student's t (``scipy.stats.ttest_1samp``) rather than a bootstrap over pairs: measured on a
same-revision gate of six pairs, a throughput comparison whose pairs read 1.009, 1.089, 1.011, 1.038,
1.031 and 0.997 got p = 0.0004 from the bootstrap (a false "slower") and p = 0.09 from t. The
bootstrap (``scipy.stats.bootstrap``) is kept for ΔF1, over hundreds of sentences (:mod:`.accuracy`).

The verdict needs both significance and size: ``slower`` when the ratio is significantly above 1 after
Holm's correction for every case and measure compared at once, and at least the minimum effect;
``faster`` likewise below; ``same`` when the whole interval lies within the minimum effect either way;
else ``inconclusive``, with the number of pairs that would likely decide it. The minimum effect is
about the widest ratio same-revision gates showed, never significant (README, "Gating a pull request").
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

VERDICTS = ("slower", "faster", "same", "inconclusive")
ALPHA = 0.05
MOST_PAIRS = 100  # "inconclusive": more pairs than this are not worth suggesting

Times = Sequence[float | None]  # one round's time per input, by input index (None: not timed)


@dataclass(frozen=True)
class SpeedComparison:
    case: str
    measure: str  # "latency" (batch 1, per sentence) or "throughput" (batched)
    base: float  # latency: median ms per sentence; throughput: sentences per second
    head: float
    ratio: float  # head's time over base's: above 1 is slower
    ci95: tuple[float, float]
    p_value: float
    pairs: int  # pairs of rounds that timed the case on both sides
    pair_ratios: tuple[float, ...] = ()  # each pair's ratio, in the order run
    p_adjusted: float = math.nan
    verdict: str = ""
    rounds_needed: int | None = None  # for an inconclusive verdict: pairs of rounds likely to decide it


def pair_log_ratios(pairs: Sequence[tuple[Times, Times]]) -> np.ndarray:
    """Per pair of rounds, the median over inputs timed on both sides of log(head time / base time)."""
    found = []
    for base, head in pairs:
        both = [math.log(h / b) for b, h in zip(base, head, strict=True) if b and h and b > 0 and h > 0]
        if both:
            found.append(float(np.median(both)))
    return np.asarray(found)


def compare(
    case: str, measure: str, pairs: Sequence[tuple[Times, Times]], sentences: int | None = None
) -> SpeedComparison:
    """The ratio, its interval and its p-value (not yet corrected: :func:`judge` does that).

    ``pairs``: each pair of rounds' base and head times, input by input. ``sentences``: for throughput,
    the sentences every round ran (its figures are then sentences per second).
    """
    theta = pair_log_ratios(pairs)
    if sentences is None:
        base = 1000 * float(np.median([t for b, _ in pairs for t in b if t]))
        head = 1000 * float(np.median([t for _, h in pairs for t in h if t]))
    else:
        base = sentences / float(np.median([sum(t for t in b if t) for b, _ in pairs]))
        head = sentences / float(np.median([sum(t for t in h if t) for _, h in pairs]))
    ratio = math.exp(float(np.mean(theta))) if len(theta) else math.nan
    each = tuple(math.exp(v) for v in theta)
    if len(theta) < 2:
        nan = (math.nan, math.nan)
        return SpeedComparison(case, measure, base, head, ratio, nan, math.nan, len(theta), each)
    low, high, p = _interval(theta)
    interval = (math.exp(low), math.exp(high))
    return SpeedComparison(case, measure, base, head, ratio, interval, p, len(theta), each)


def _interval(theta: np.ndarray) -> tuple[float, float, float]:
    """95% t interval of the mean log ratio over pairs, and its two-sided p-value."""
    from scipy import stats

    if np.ptp(theta) == 0:  # every pair agrees exactly: no spread to estimate
        value = float(theta[0])
        return value, value, 1.0 if value == 0 else 0.0
    test = stats.ttest_1samp(theta, 0.0)
    interval = test.confidence_interval(1 - ALPHA)
    return float(interval.low), float(interval.high), float(test.pvalue)


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm's step-down adjusted p-values (family-wise error over every comparison); nan stays nan.

    >>> [round(p, 3) for p in holm([0.01, 0.04, 0.03])]
    [0.03, 0.06, 0.06]
    """
    indexed = sorted((p, i) for i, p in enumerate(p_values) if not math.isnan(p))
    adjusted = [math.nan] * len(p_values)
    running = 0.0
    for rank, (p, i) in enumerate(indexed):
        running = max(running, min(1.0, (len(indexed) - rank) * p))
        adjusted[i] = running
    return adjusted


def judge(comparisons: Sequence[SpeedComparison], min_effect: float) -> list[SpeedComparison]:
    """Every comparison with its Holm-adjusted p-value and verdict; ``min_effect`` as a fraction (0.02)."""
    adjusted = holm([c.p_value for c in comparisons])
    return [_verdict(replace(c, p_adjusted=p), min_effect) for c, p in zip(comparisons, adjusted, strict=True)]


def _verdict(c: SpeedComparison, min_effect: float) -> SpeedComparison:
    bound = math.log1p(min_effect)
    if math.isnan(c.ci95[0]):  # fewer than two pairs of rounds timed it on both sides
        return replace(c, verdict="inconclusive", rounds_needed=2)
    theta, low, high = math.log(c.ratio), math.log(c.ci95[0]), math.log(c.ci95[1])
    significant = c.p_adjusted < ALPHA
    if significant and theta >= bound:
        return replace(c, verdict="slower")
    if significant and theta <= -bound:
        return replace(c, verdict="faster")
    if -bound <= low and high <= bound:
        return replace(c, verdict="same")
    # The interval shrinks about as 1/sqrt(pairs): how many would make it decide either way.
    half = (high - low) / 2
    room = bound - abs(theta) if abs(theta) < bound else abs(theta)
    needed = c.pairs * (half / room) ** 2 if room > 0 else math.inf
    return replace(c, verdict="inconclusive", rounds_needed=max(c.pairs + 1, math.ceil(min(needed, MOST_PAIRS))))
