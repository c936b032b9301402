"""Is the head slower? Ratios paired by input, pairs of processes as the units, a minimum effect, a sequential rule.

For one case and one measure (batch-1 latency, paired by sentence; batched throughput, paired by
batch), each pair of processes (:mod:`nerperf.gate.rounds`, run in lockstep) timed every input once on
each side, milliseconds apart. Pair k's figure is the median over its inputs of log(head time / base
time); the case's ratio is the exponential of the mean of the pairs' figures (which side went first
alternates between pairs; fitting it instead, :func:`nerperf.gate.sequential.fit`, is a replay's option).

The pairs are the units: each pair of processes has an offset of its own (memory layout, which side
ran first), which moves all its inputs alike, so the inputs are not independent and an interval over
them would be too narrow. With the few pairs a gate can afford, the statistic is Student's t over the
pairs' log ratios rather than a bootstrap over pairs, which is too narrow over six pairs (docs/gate.md,
"Why t over pairs" has the same-revision comparison it called slower). The bootstrap (``scipy.stats.bootstrap``) is kept
for ΔF1, over hundreds of sentences (:mod:`.accuracy`).

The verdict comes from the gate's sequential rule (:mod:`nerperf.gate.sequential`), replayed over the
looks the gate took (one after every pair from the first look on): ``slower`` (significant at the
family's level over every comparison and look, and at least the minimum effect), ``same`` (no slowdown
of the minimum effect), ``faster`` (a description), undecided (look again) or, at the last look,
``inconclusive``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from nerperf.gate import moderation, sequential

Times = Sequence[float | None]  # one round's time per input, by input index (None: not timed)


@dataclass(frozen=True)
class SpeedComparison:
    case: str
    measure: str  # "latency" (batch 1, per sentence) or "throughput" (batched)
    base: float  # latency: median ms per sentence; throughput: sentences per second
    head: float
    ratio: float  # head's time over base's: above 1 is slower
    pairs: int  # pairs of rounds that timed the case on both sides
    pair_ratios: tuple[float, ...] = ()  # each pair's ratio, in the order run
    verdict: sequential.Verdict = sequential.UNDECIDED  # until judged, and while undecided before the last look
    bounds: tuple[float, float] = (math.nan, math.nan)  # repeated lower and upper bounds of the ratio
    t: float = math.nan  # the t statistic at the look that decided (or the last)
    critical_t: float = math.nan  # the boundary it was held to there
    decided_at: int = 0  # the pairs at that look


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
    """The ratio and each pair's ratio, not yet judged (:func:`judge` does that, over all comparisons).

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
    return SpeedComparison(case, measure, base, head, mean_ratio(theta), len(theta), tuple(math.exp(v) for v in theta))


def mean_ratio(
    log_ratios: Sequence[float] | np.ndarray, fit_order: bool = sequential.FIT_ORDER, trim: float = sequential.TRIM
) -> float:
    """A comparison's ratio over its pairs, in the order run: the exponential of the mean of their log ratios
    (with ``fit_order``, of the two orders' means; with ``trim``, of the middle ones':
    :func:`nerperf.gate.sequential.fit`; nan for no pairs), the estimate the verdict judges.

    >>> round(mean_ratio([0.03, -0.01, 0.03]), 4), round(mean_ratio([0.03, -0.01, 0.03], fit_order=True), 4)
    (1.0168, 1.0101)
    >>> round(mean_ratio([0.0, 0.01, -0.01, 0.0, 0.08], trim=0.2), 4)  # +8% and -1% trimmed
    1.0033
    """
    if not len(log_ratios):
        return math.nan
    return math.exp(float(sequential.fit(np.asarray(log_ratios, dtype=float), fit_order, trim).mean))


def judge(
    comparisons: Sequence[SpeedComparison],
    min_effect: float,
    first: int = sequential.FIRST_LOOK,
    last: int = sequential.LAST_LOOK,
    prior_df: float = moderation.PRIOR_DF,
    same_alpha: float = sequential.SAME_ALPHA,
    fit_order: bool = sequential.FIT_ORDER,
    shared_order: bool = sequential.SHARED_ORDER,
    trim: float = sequential.TRIM,
) -> list[SpeedComparison]:
    """Every comparison with its verdict by the sequential rule over looks ``first`` .. ``last`` pairs, the
    family being these comparisons; ``min_effect`` as a fraction (0.02). A comparison's verdict is the
    first look's that decided it, replayed over its pairs in the order run. At each look, the comparisons of
    one measure timed at least that often share their variance (:mod:`nerperf.gate.moderation`, ``prior_df``
    0: they do not), with the boundaries for their number: a case the gate stopped timing leaves the group.
    ``same_alpha``: the ``same`` bound's level; ``shared_order``: the group judged less one order effect
    fitted over it (:func:`nerperf.gate.sequential.remove_shared_order`; the ratios too), ``fit_order``: less
    one per comparison (others than the gate's only to replay recorded gates by another rule); ``trim``: the
    share of each comparison's pairs trimmed from each end (the trimmed t; the ratios too)."""
    family = sequential.ALPHA / max(1, len(comparisons))
    thetas = [np.log(np.asarray(c.pair_ratios, dtype=float)) for c in comparisons]
    groups: dict[str, list[int]] = {}
    for index, c in enumerate(comparisons):
        groups.setdefault(c.measure, []).append(index)
    shared_order = shared_order and not fit_order
    trim = 0.0 if fit_order else trim

    def plans(prior: float, count: int, grouped: bool) -> tuple[sequential.Plan, sequential.Plan]:
        return (
            sequential.plan(first, last, family, prior, count, fit_order, grouped, trim),
            sequential.plan(first, last, same_alpha, prior, count, fit_order, grouped, trim),
        )

    judged = list(comparisons)
    for members in groups.values():
        decisions: list[sequential.Decision | None] = [None] * len(members)
        looked = [0] * len(members)
        means: list[float | None] = [None] * len(members)  # the mean log ratio less the order, at the last look
        for k in range(first, max(len(thetas[i]) for i in members) + 1):
            # At look k the group is the comparisons timed that often: a case the gate stopped timing (every
            # comparison of it decided) leaves the group, and the rest share their order effect and variance.
            present = [row for row, i in enumerate(members) if len(thetas[i]) >= k]
            grouped = shared_order and len(present) >= sequential.MIN_ORDER_GROUP
            sharing = prior_df > 0 and len(present) >= moderation.MIN_SHARED
            own = plans(0.0, len(present) if grouped else 1, grouped)
            pooled = plans(prior_df, len(present), grouped) if sharing else own
            stacked = np.stack([thetas[members[row]][:k] for row in present])
            if grouped:
                stacked = sequential.remove_shared_order(stacked)
            variances = _shared_variances(stacked, prior_df, fit_order, trim) if sharing else [None] * len(present)
            for position, (row, variance) in enumerate(zip(present, variances, strict=True)):
                means[row] = float(sequential.fit(stacked[position], trim=trim).mean) if grouped or trim else None
                if decisions[row] is not None and decisions[row].verdict:
                    continue
                slower, same = own if variance is None else pooled
                decisions[row] = sequential.decide(stacked[position], slower, same, min_effect, variance)
                looked[row] = k
        for row, index in enumerate(members):
            decision = decisions[row] or sequential.Decision("", math.nan, math.inf, 0.0, math.inf)
            mean = means[row]
            judged[index] = replace(
                comparisons[index],
                ratio=comparisons[index].ratio if mean is None else math.exp(mean),
                verdict=decision.verdict,
                bounds=(decision.lower, decision.upper),
                t=decision.t,
                critical_t=decision.bound,
                decided_at=looked[row],
            )
    return judged


def finished(comparisons: Sequence[SpeedComparison], min_effect: float, measure: str | None = None) -> bool:
    """Whether the gate may stop at this look: every comparison (of ``measure``, for a bisect step) decided;
    or the gate already failing (a comparison ``slower``) and no undecided one looking like a slowdown (its
    ratio so far below ``1 + min_effect``): those could not change the outcome, and a pull request that
    fails is fixed and gated again anyway. Stopping sooner never adds a false alarm (no look is added)."""
    watched = [c for c in comparisons if measure in (None, c.measure)]
    if all(c.verdict for c in watched):
        return True
    failing = measure is None and any(c.verdict == sequential.SLOWER for c in comparisons)  # a step waits on its own
    return failing and all(c.verdict or c.ratio < 1 + min_effect for c in watched)


def undecided_measures(comparisons: Sequence[SpeedComparison], measure: str | None = None) -> tuple[str, ...]:
    """The measures the next pair must time: those with a comparison undecided (of ``measure`` alone, for a
    bisect step); empty where that is every measure compared (the next pair times them all, floors too).
    A measure is dropped whole, never a case: its comparisons keep sharing their variance over the same pairs
    (:mod:`nerperf.gate.moderation`), and a case left out would leave its partners in other processes.

    >>> undecided_measures([SpeedComparison("x", "latency", 1, 1, 1, 3, verdict="same"),
    ...                     SpeedComparison("x", "throughput", 1, 1, 1, 3)])
    ('throughput',)
    """
    compared = {c.measure for c in comparisons}
    open_ = tuple(sorted({c.measure for c in comparisons if not c.verdict and measure in (None, c.measure)}))
    return () if set(open_) == compared else open_


def _shared_variances(theta: np.ndarray, prior_df: float, fit_order: bool, trim: float) -> list[float | None]:
    """The moderated variance of each row's pair log ratios (about their order's mean, as fitted, or
    Winsorized where trimmed); rows whose pairs agree exactly (no spread to share) keep their own, and share
    nothing with the others."""
    fitted = sequential.fit(theta, fit_order, trim)
    variances = fitted.variance
    spread = variances > 0
    found: list[float | None] = [None] * len(variances)
    if spread.sum() >= moderation.MIN_SHARED:
        shrunk = moderation.moderated(variances[spread], fitted.freedom, prior_df)
        for row, value in zip(np.flatnonzero(spread), shrunk, strict=True):
            found[int(row)] = float(value)
    return found
