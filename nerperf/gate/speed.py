"""Is the head slower? Ratios paired by input, a bootstrap over rounds, a minimum effect, Holm's correction.

For one case and one measure (batch-1 latency, paired by sentence; batched throughput, paired by
batch), every input was timed once per round on each side. Pair k of rounds gives, for each input,
log(head time / base time): the same input on both sides, minutes apart, so that its length cancels,
and the pair's figure is the median of those over the inputs. Rounds alternate (base, head, head,
base, ...) so that the machine's drift cancels over pairs. The case's ratio is the exponential of the
mean of the pairs' figures.

The interval is a bootstrap over pairs of rounds (``scipy.stats.bootstrap``), not over inputs: a
round's process has an offset of its own (its memory layout, the machine's state) that moves all its
inputs alike, so inputs are not independent and an interval over them is far narrower than the truth
(measured: a tiny model's same-revision rounds differ by 20% while each round's sentences agree to 2%).
The p-value is the interval's own: the smallest level at which such an interval excludes a ratio of 1.

The verdict needs both significance and size: ``slower`` when the ratio is significantly above 1 after
Holm's correction for every case and measure compared at once, and at least the minimum effect;
``faster`` likewise below; ``same`` when the whole interval lies within the minimum effect either way;
else ``inconclusive``, with the number of pairs of rounds that would likely decide it. The minimum
effect sits above what same-revision gates show (README, "The gate"): a bootstrap over a few pairs is
narrower than a t interval would be, and order and warm caches leave a bias of about a percent.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

VERDICTS = ("slower", "faster", "same", "inconclusive")
ALPHA = 0.05
RESAMPLES = 9999
SEED = 0  # the same samples give the same interval and verdict

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
    low, high, p = _bootstrap(theta)
    interval = (math.exp(low), math.exp(high))
    return SpeedComparison(case, measure, base, head, ratio, interval, p, len(theta), each)


def _bootstrap(theta: np.ndarray) -> tuple[float, float, float]:
    """95% percentile interval of the mean log ratio, resampling pairs of rounds, and its p-value."""
    from scipy import stats

    if np.ptp(theta) == 0:  # every pair agrees exactly: nothing to resample
        value = float(theta[0])
        return value, value, 1.0 if value == 0 else 1 / (RESAMPLES + 1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # scipy's warnings on few distinct values
        found = stats.bootstrap(
            (theta,),
            np.mean,
            n_resamples=RESAMPLES,
            confidence_level=1 - ALPHA,
            method="percentile",
            rng=np.random.default_rng(SEED),
        )
    spread = found.bootstrap_distribution
    tail = min(np.mean(spread <= 0), np.mean(spread >= 0))
    p = min(1.0, max(2 * float(tail), 1 / (RESAMPLES + 1)))
    return float(found.confidence_interval.low), float(found.confidence_interval.high), p


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
    return replace(c, verdict="inconclusive", rounds_needed=max(c.pairs + 1, math.ceil(min(needed, 1000))))
