"""When the gate may stop: group-sequential boundaries for the paired t statistic, looked at after every pair.

The gate looks at its comparisons after every pair of processes, from :data:`FIRST_LOOK` pairs to
:data:`LAST_LOOK`, and stops as soon as every comparison is decided. Testing at a fixed level at each
look would raise the false-alarm rate with every look (Pinpoint's weakness: a naive test repeated over
30 looks gives about 30% false positives at a nominal 5%). Instead each look has its own critical value,
from an alpha-spending function (Lan & DeMets 1983, the Pocock-type ``α·ln(1 + (e - 1)·t)``, where ``t``
is the share of the most pairs reached): under no change, the chance that the statistic ever crosses its
boundary, over all the looks together, is the family's level.

The statistic is a comparison's one-sample t over its pairs' log ratios (:mod:`nerperf.gate.speed`): a
pair of processes is the unit, since its own offset moves all its inputs alike. Under no change, with
pair figures independent and normal, the joint law of the t statistics at the successive looks does not
depend on their spread (the t statistic is scale-free), so one simulation of that law, seeded and cached
(:func:`plan`), gives boundaries that hold for every gate. The first boundary is exactly Student's
quantile (a test checks it); later ones are conditional quantiles, computed on 400,000 simulated paths.

Which side went first alternates from pair to pair (base first in the first pair), and the side that
goes first runs slower (docs/gate.md, "Which side ran first"): by about 1.6% on AMX, by 4-8% on a slow
morning, much alike across a measure's comparisons. Alternation cancels it from the mean at even pairs,
but it adds to the spread the t statistic divides by, and leans the mean at odd pairs. Two fits of it
exist, neither the gate's yet (the notebook, "Which side went first, fitted"): :func:`fit`, an order
effect per comparison, which costs the early looks a degree of freedom each and replayed no sooner
(``gate_error_rates.py table --fit-order``); and :func:`remove_shared_order`, one order effect per
measure over all that measure's comparisons still timed, from 4 pairs, judged by boundaries simulated with
the same fit in each simulated gate (``table --shared-order``): replayed, it halved the undecided
comparisons of the slow morning's gate and stopped another AMX gate at 4 pairs instead of 10, but over
every same-revision gate recorded to 10 pairs it stopped no sooner (8.16 pairs against 8.12)
(:data:`SHARED_ORDER`: not the gate's until a calibration shows it).

Two one-sided bounds per comparison, each a repeated confidence bound (Jennison & Turnbull: mean ±
boundary × standard error, valid at every look at once), and ``δ`` the minimum effect:

- ``slower``: the lower bound, at the family's level ``α / m`` for ``m`` comparisons (Bonferroni: the
  family of cases × measures keeps its level whatever each comparison's stopping time), is above 1 (the
  t statistic crosses the look's boundary; one-sided: only a slowdown fails a gate), and the ratio is at
  least ``1 + δ``. This is the false alarm the gate's level bounds.
- ``same``: the upper bound, at :data:`SAME_ALPHA` per comparison, is below ``1 + δ``: no slowdown of
  ``δ`` or more. Stopping here wrongly misses a slowdown of that one comparison (a matter of power, never
  a false alarm), so its rate is per comparison and not divided by ``m``. ``faster`` is the same with the
  upper bound below ``1 / (1 + δ)``: a description, never a test of its own, so it costs the slowdown
  test nothing.
- otherwise undecided; at the last look, ``inconclusive``.
A decided comparison keeps its verdict (the sequential test stops for it).

With a shared variance (:mod:`nerperf.gate.moderation`, the default where a measure has at least
:data:`~nerperf.gate.moderation.MIN_SHARED` comparisons), the standard error is the moderated one and the
boundaries are simulated for it: each comparison's variance drawn from the prior (``d0`` degrees of
freedom), the group's common scale estimated at every look as the gate does, so the boundaries hold for
the moderated statistic as they hold for the plain one (the first look's too: no exact quantile there).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from nerperf.gate import moderation

FIRST_LOOK = 3  # pairs before the first look: a t statistic needs 2 degrees of freedom to be of use
LAST_LOOK = 10  # the most pairs: a gate that has not decided by then says inconclusive
ALPHA = 0.05  # the family's false-alarm level (one-sided), over every comparison and every look
# Per comparison: the most chance, over all looks, of calling a slowdown of exactly the minimum effect "same"
# (80% power there, the usual design): at a stricter level the noisiest throughput holds a same-revision gate
# to its last look (docs/gate.md, "The stopping rule"). It cannot raise a false alarm: only slower fails.
SAME_ALPHA = 0.20
PATHS = 400_000  # simulated null paths for the boundaries after the first look
SEED = 20261201
FIT_ORDER = False  # fit which side went first per comparison (below; replayed and not adopted: the notebook)
ORDER_FIT_FROM = 3  # pairs: with fewer, no degree of freedom would be left for the spread
SHARED_ORDER = False  # one order effect per measure (:func:`remove_shared_order`): replayed, not yet adopted
MIN_ORDER_GROUP = 2  # comparisons of a measure needed to fit it: a bisect step's one comparison fits none
SHARED_ORDER_FROM = 4  # pairs: at 3 (two base-first, one head-first) the fit cost the first look more than it gave
# The share of pairs trimmed from each end (Tukey and McLaughlin's trimmed t, :func:`fit`), against single pairs
# far out: simulated and replayed, it cost power and saved no pairs, and the recorded pairs are no heavier-tailed
# than normal ones (the notebook, "Trimming single pairs"); 0, the plain mean and t, is the gate's.
TRIM = 0.0


def spent(fraction: float, alpha: float) -> float:
    """The Pocock-type alpha-spending function: the level spent once ``fraction`` of the looks is reached.

    >>> round(spent(1.0, 0.05), 6)
    0.05
    """
    return alpha * math.log(1 + (math.e - 1) * min(1.0, fraction))


@dataclass(frozen=True)
class Plan:
    """The boundaries of one gate: a critical t for each look from ``first`` to ``last`` pairs."""

    first: int
    last: int
    alpha: float  # one-sided, per comparison
    bounds: tuple[float, ...]
    prior_df: float = 0.0  # the shared variance's prior degrees of freedom (0: each comparison's own)
    shared: int = 1  # the comparisons sharing it
    fit_order: bool = FIT_ORDER  # the statistic's: the pairs' order fitted per comparison (:func:`fit`)
    shared_order: bool = False  # one order effect fitted over the ``shared`` comparisons (:func:`remove_shared_order`)
    trim: float = 0.0  # the statistic's: the share of pairs trimmed from each end (:func:`fit`)

    def bound(self, pairs: int) -> float:
        """The critical t at ``pairs`` pairs (looks before the first have none: infinity)."""
        if pairs < self.first:
            return math.inf
        return self.bounds[min(pairs, self.last) - self.first]


@functools.lru_cache(maxsize=64)
def plan(
    first: int = FIRST_LOOK,
    last: int = LAST_LOOK,
    alpha: float = ALPHA,
    prior_df: float = 0.0,
    shared: int = 1,
    fit_order: bool = FIT_ORDER,
    shared_order: bool = False,
    trim: float = 0.0,
) -> Plan:
    """Boundaries spending ``alpha`` over the looks at ``first`` .. ``last`` pairs (one-sided), for the plain
    t statistic or, with ``prior_df`` and ``shared`` comparisons, the moderated one; the pairs' order fitted
    per comparison (``fit_order``, :func:`fit`), or once over the ``shared`` comparisons of a measure
    (``shared_order``, from :data:`MIN_ORDER_GROUP` of them; :func:`remove_shared_order`), or not at all; with
    ``trim``, for the trimmed t (:func:`fit`), every look's boundary simulated (Student's law is only
    approximate for it)."""
    from scipy import stats

    if not 2 <= first <= last:
        raise ValueError(f"looks from {first} to {last} pairs: the first needs at least 2 pairs, the last no fewer")
    if fit_order and shared_order:
        raise ValueError("the order is fitted per comparison or once per measure, not both")
    if trim and fit_order:
        raise ValueError("the pairs are trimmed or their order fitted per comparison, not both")
    if not 0 <= trim < 0.5:
        raise ValueError(f"trim {trim}: the share trimmed from each end must be at least 0 and below 0.5")
    looks = list(range(first, last + 1))
    levels = [spent(k / last, alpha) for k in looks]
    grouped = shared_order and shared >= MIN_ORDER_GROUP
    moderated = prior_df > 0 and shared >= moderation.MIN_SHARED
    if moderated or grouped or trim:
        prior_df = prior_df if moderated else 0.0
        shared = shared if moderated or grouped else 1
        statistics = _null_statistics_in_gates(looks, prior_df, shared, fit_order, grouped, trim)
        bounds = [_highest(statistics[:, 0], int(round(levels[0] * len(statistics))))]
    else:
        prior_df, shared = 0.0, 1
        # the first look: Student's quantile, exactly
        bounds = [float(stats.t.ppf(1 - levels[0], fit_freedom(first, fit_order)))]
        statistics = _null_statistics(looks, fit_order) if len(looks) > 1 else np.empty((0, 1))
    if len(looks) > 1:
        alive = statistics[:, 0] <= bounds[0]
        for index in range(1, len(looks)):
            crossing = levels[index] - levels[index - 1]  # the level spent at this look
            column = statistics[:, index]
            bounds.append(_highest(column[alive], int(round(crossing * len(column)))))
            alive &= column <= bounds[-1]
    return Plan(first, last, alpha, tuple(bounds), prior_df, shared, fit_order, grouped, trim)


def _highest(candidates: np.ndarray, count: int) -> float:
    """The boundary that exactly ``count`` of the simulated ``candidates`` cross (are above); with none to
    cross, just above them all."""
    ordered = np.sort(candidates)[::-1]
    return float(ordered[count - 1]) if count >= 1 else float(ordered[0]) + 1e-9


def _null_statistics(looks: Sequence[int], fit_order: bool) -> np.ndarray:
    """The t statistic at each look, for :data:`PATHS` simulated gates with no change (standard normal pairs)."""
    generator = np.random.default_rng(SEED)
    draws = generator.standard_normal((PATHS, looks[-1]))
    return np.stack([t_statistic(draws[:, :k], fit_order) for k in looks], axis=1)


def _null_statistics_in_gates(
    looks: Sequence[int], prior_df: float, shared: int, fit_order: bool, shared_order: bool = False, trim: float = 0.0
) -> np.ndarray:
    """The gate's t (moderated, order-fitted or trimmed) at each look, for about :data:`PATHS` simulated
    comparisons with no change, in gates of ``shared`` comparisons whose variances are drawn from the prior
    (its scale 1: the statistic is scale-free) and whose common scale is estimated at every look, as the
    gate does (:func:`moderation.moderated`); with ``prior_df`` 0, each comparison's own variance, all alike.
    With ``shared_order`` the gate's order effect is fitted over each simulated gate's comparisons first
    (none is drawn: the fit removes any); with ``trim``, the statistic is the trimmed t (:func:`fit`)."""
    generator = np.random.default_rng(SEED)
    gates = PATHS // shared
    spreads = np.sqrt(prior_df / generator.chisquare(prior_df, (gates, shared, 1))) if prior_df > 0 else 1.0
    draws = generator.standard_normal((gates, shared, looks[-1])) * spreads
    columns = []
    for k in looks:
        theta = remove_shared_order(draws[:, :, :k]) if shared_order else draws[:, :, :k]
        found = fit(theta, fit_order, trim)
        variance = moderation.moderated(found.variance, found.freedom, prior_df) if prior_df > 0 else found.variance
        with np.errstate(divide="ignore", invalid="ignore"):
            columns.append((found.mean / np.sqrt(variance / found.weight)).reshape(-1))
    return np.stack(columns, axis=1)


def remove_shared_order(theta: np.ndarray) -> np.ndarray:
    """``theta`` (comparisons of one measure on the second last axis, their pairs in the order run on the
    last) less one order effect for them all: the mean over the comparisons of half the difference between
    their base-first pairs' mean and their head-first pairs' mean, added to the head-first pairs and taken
    from the base-first ones. Fewer than :data:`MIN_ORDER_GROUP` comparisons, or fewer than
    :data:`SHARED_ORDER_FROM` pairs: unchanged.

    >>> theta = np.array([[0.03, -0.01, 0.03, -0.01], [0.01, -0.01, 0.01, -0.01]])  # base first reads higher
    >>> remove_shared_order(theta).round(4).tolist()
    [[0.015, 0.005, 0.015, 0.005], [-0.005, 0.005, -0.005, 0.005]]
    """
    pairs = theta.shape[-1]
    if pairs < SHARED_ORDER_FROM or theta.shape[-2] < MIN_ORDER_GROUP:
        return theta
    first = base_first(pairs)
    half = (theta[..., first].mean(axis=-1) - theta[..., ~first].mean(axis=-1)) / 2
    effect = half.mean(axis=-1, keepdims=True)[..., None]
    return theta - effect * np.where(first, 1.0, -1.0)


@dataclass(frozen=True)
class Fit:
    """Each row's estimate of the log ratio and what its standard error is made of (arrays over the rows)."""

    mean: np.ndarray  # the log ratio: with the order fitted, the mean of the two orders' means
    variance: np.ndarray  # of one pair's log ratio about its order's mean (or the mean), on ``freedom``
    freedom: int  # degrees of freedom: pairs - 2 with the order fitted, else pairs - 1
    weight: float  # the estimate's variance is ``variance / weight``: the pairs, or fewer at an odd count


def trimmed_count(pairs: int, trim: float) -> int:
    """The pairs trimmed from each end of ``pairs`` at the share ``trim`` (none where it rounds down to 0).

    >>> [trimmed_count(n, 0.2) for n in range(3, 11)]
    [0, 0, 1, 1, 1, 1, 1, 2]
    """
    return int(math.floor(trim * pairs + 1e-9))


def fit_freedom(pairs: int, fit_order: bool = FIT_ORDER, trim: float = 0.0) -> int:
    """The degrees of freedom left for the spread at ``pairs`` pairs."""
    if fit_order and pairs >= ORDER_FIT_FROM:
        return pairs - 2
    return pairs - 2 * trimmed_count(pairs, trim) - 1


def base_first(pairs: int) -> np.ndarray:
    """Whether the base went first in each pair, as the gate alternates them (:func:`nerperf.gate.rounds.order`).

    >>> base_first(3).tolist()
    [True, False, True]
    """
    return np.arange(pairs) % 2 == 0


def fit(theta: np.ndarray, fit_order: bool = FIT_ORDER, trim: float = 0.0) -> Fit:
    """The estimate over the last axis of ``theta`` (pair log ratios, in the order run). With ``fit_order``
    and at least :data:`ORDER_FIT_FROM` pairs, the model is ``theta_k = mu + o * s_k + e_k`` (``s_k`` +1
    where the base went first, -1 where the head did): ``mu`` the mean of the two orders' means, the
    residuals taken about each order's own mean. With ``trim`` and at least one pair to trim from each end
    (:func:`trimmed_count`), Tukey and McLaughlin's (1963) trimmed t: the mean of the ``h`` middle
    pairs, and the Winsorized variance ``s_w²`` (each end's pairs set to the nearest kept one) scaled so
    that ``variance / weight`` is the squared standard error ``(n - 1)·s_w² / (h·(h - 1))`` (Yuen's, of one
    sample), on ``h - 1`` degrees of freedom. Otherwise the plain mean and spread.

    >>> found = fit(np.array([0.0, 0.01, -0.01, 0.0, 0.08]), trim=0.2)  # 5 pairs, one trimmed from each end
    >>> round(float(found.mean), 6), round(float(found.variance / found.weight), 8), found.freedom
    (0.003333, 2e-05, 2)

    >>> found = fit(np.array([0.03, -0.01, 0.03, -0.01, 0.03]), fit_order=True)  # the order alone: +2% base first
    >>> round(float(found.mean), 6), float(found.variance), found.freedom, round(found.weight, 3)
    (0.01, 0.0, 3, 4.8)
    """
    pairs = theta.shape[-1]
    cut = 0 if fit_order else trimmed_count(pairs, trim)
    if cut:
        ordered = np.sort(theta, axis=-1)
        kept = pairs - 2 * cut
        winsorized = np.clip(ordered, ordered[..., cut : cut + 1], ordered[..., pairs - cut - 1 : pairs - cut])
        spread = winsorized.var(axis=-1, ddof=1) * pairs * (pairs - 1) / (kept * (kept - 1))
        return Fit(ordered[..., cut : pairs - cut].mean(axis=-1), spread, kept - 1, float(pairs))
    if fit_freedom(pairs, fit_order) == pairs - 1:
        spread = theta.var(axis=-1, ddof=1) if pairs > 1 else np.full(theta.shape[:-1], np.nan)  # one pair: none
        return Fit(theta.mean(axis=-1), spread, pairs - 1, float(pairs))
    first = base_first(pairs)
    ahead, behind = theta[..., first], theta[..., ~first]
    means = ahead.mean(axis=-1, keepdims=True), behind.mean(axis=-1, keepdims=True)
    squares = ((ahead - means[0]) ** 2).sum(axis=-1) + ((behind - means[1]) ** 2).sum(axis=-1)
    counts = int(first.sum()), int((~first).sum())
    weight = 4 / (1 / counts[0] + 1 / counts[1])  # var((m1 + m2) / 2) = sigma^2 (1/n1 + 1/n2) / 4
    mean = (means[0][..., 0] + means[1][..., 0]) / 2
    return Fit(mean, squares / (pairs - 2), pairs - 2, weight)


def t_statistic(theta: np.ndarray, fit_order: bool = FIT_ORDER, trim: float = 0.0) -> np.ndarray:
    """The t of the rows of ``theta`` (the last axis: pairs, :func:`fit`); where the pairs agree exactly
    (about their order's mean), +/- inf, or 0 where the estimate is 0."""
    return _t(fit(theta, fit_order, trim))


def _t(found: Fit) -> np.ndarray:
    """:func:`t_statistic` of an estimate already fitted."""
    spread = np.sqrt(found.variance)
    with np.errstate(divide="ignore", invalid="ignore"):
        t = found.mean / (spread / math.sqrt(found.weight))
        exact = np.where(found.mean == 0, 0.0, np.copysign(np.inf, found.mean))
    return np.where(spread > 0, t, exact)


# A comparison's state, one type for the gate, bisect and the summaries (JSON and Markdown keep these words).
Verdict = Literal["", "slower", "same", "faster", "inconclusive"]
UNDECIDED: Verdict = ""  # look again
SLOWER: Verdict = "slower"  # fails the gate
SAME: Verdict = "same"  # no slowdown of the minimum effect
FASTER: Verdict = "faster"
INCONCLUSIVE: Verdict = "inconclusive"  # undecided at the last look
DECIDED: frozenset[str] = frozenset({SLOWER, SAME, FASTER})


@dataclass(frozen=True)
class Decision:
    verdict: Verdict
    t: float
    bound: float  # the critical t for "slower" at this look
    lower: float  # the repeated lower bound of the ratio, at the family's level ("slower" when above 1)
    upper: float  # the repeated upper bound, at SAME_ALPHA ("same" when below 1 + the minimum effect)


def decide(
    theta: Sequence[float], slower: Plan, same: Plan, min_effect: float, variance: float | None = None
) -> Decision:
    """The verdict at this look on a comparison's pair log ratios ``theta`` (:mod:`nerperf.gate.speed`),
    ``slower`` and ``same`` being the two bounds' plans (the order fitted as theirs is); ``variance``: the
    moderated variance of a pair's log ratio, where the plans are for it (:mod:`nerperf.gate.moderation`),
    else the pairs' own."""
    values = np.asarray(theta, dtype=float)
    pairs = len(values)
    if pairs < slower.first:
        return Decision(UNDECIDED, math.nan, math.inf, 0.0, math.inf)
    found = fit(values, slower.fit_order, slower.trim)
    mean = float(found.mean)
    own = float(_t(found))
    if variance is None:
        error = math.sqrt(float(found.variance) / found.weight)
        t = own
    else:
        error = math.sqrt(variance / found.weight)
        t = mean / error if error > 0 else own
    c = slower.bound(pairs)
    low, high = mean - c * error, mean + same.bound(pairs) * error
    effect = math.log1p(min_effect)
    verdict: Verdict
    if t > c and mean >= effect:
        verdict = SLOWER
    elif high < -effect:
        verdict = FASTER
    elif high < effect:
        verdict = SAME
    else:
        verdict = INCONCLUSIVE if pairs >= slower.last else UNDECIDED
    return Decision(verdict, t, c, math.exp(low), math.exp(high))
