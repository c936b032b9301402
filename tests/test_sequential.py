"""The gate's stopping rule on simulated streams of pair ratios (:mod:`nerperf.gate.sequential`).

A simulated gate is a stream of pair log ratios, normal with a spread like the ones measured here (a
pair's own offset of a few percent), looked at after every pair from the first look to the last. With
no change, 20,000 simulated gates must cry wolf at no more than the nominal level plus its Monte-Carlo
error; the same streams judged by fixed-level re-testing at every look must not (that is what the
boundaries are for, and what this test would catch if they were replaced by a fixed quantile).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from nerperf.gate import sequential

GATES = 20_000
SPREAD = 0.03  # sd of a pair's log ratio: about what same-revision throughput pairs showed (README)


def first_slower_look(
    theta: np.ndarray, bounds: list[float], first: int, min_effect: float, fit_order: bool = False
) -> np.ndarray:
    """Per simulated gate (row), whether any look from ``first`` on called it slower under ``bounds``."""
    alarmed = np.zeros(len(theta), dtype=bool)
    for index, bound in enumerate(bounds):
        k = first + index
        t = sequential.t_statistic(theta[:, :k], fit_order)
        alarmed |= (t > bound) & (sequential.fit(theta[:, :k], fit_order).mean >= math.log1p(min_effect))
    return alarmed


def null_streams(seed: int, last: int) -> np.ndarray:
    return np.random.default_rng(seed).normal(0.0, SPREAD, (GATES, last))


def test_the_first_boundary_is_students_quantile_exactly() -> None:
    plan = sequential.plan(3, 10, 0.05)
    spent_first = sequential.spent(3 / 10, 0.05)
    assert plan.bounds[0] == pytest.approx(stats.t.ppf(1 - spent_first, 2))
    assert all(b > 0 for b in plan.bounds) and len(plan.bounds) == 8


@pytest.mark.parametrize(("first", "last", "alpha"), [(3, 10, 0.05), (3, 10, 0.05 / 12), (2, 6, 0.10)])
def test_with_no_change_the_false_alarm_rate_is_at_most_nominal_over_all_looks(
    first: int, last: int, alpha: float
) -> None:
    """Fresh streams (another seed than the plan's own): the rate of 'slower' ever, with no minimum effect
    to help, is within the nominal level plus three Monte-Carlo standard errors."""
    plan = sequential.plan(first, last, alpha)
    alarms = first_slower_look(null_streams(7, last), list(plan.bounds), first, 0.0).mean()
    error = math.sqrt(alpha * (1 - alpha) / GATES)
    assert alarms <= alpha + 3 * error, f"{alarms:.4f} against the nominal {alpha}"
    assert alarms >= alpha / 3  # and the level is spent, not wasted: the rule is not needlessly blunt


def test_with_the_order_fitted_the_false_alarm_rate_is_at_most_nominal_whatever_the_order_does() -> None:
    """The rule with which side went first fitted (``table --fit-order``; not the gate's): its first boundary
    is Student's quantile on n - 2 degrees of freedom, and on streams whose base-first pairs read 3% apart
    from the head-first ones (the order's effect fitted out) it cries wolf at most at the nominal level."""
    first, last, alpha = 3, 10, 0.05
    plan = sequential.plan(first, last, alpha, fit_order=True)
    assert plan.bounds[0] == pytest.approx(stats.t.ppf(1 - sequential.spent(3 / 10, alpha), 1))
    theta = null_streams(7, last) + np.where(sequential.base_first(last), -0.015, 0.015)
    alarms = first_slower_look(theta, list(plan.bounds), first, 0.0, fit_order=True).mean()
    assert alpha / 3 <= alarms <= alpha + 3 * math.sqrt(alpha * (1 - alpha) / GATES), f"{alarms:.4f}"


def test_with_one_order_effect_per_measure_the_false_alarm_rate_is_at_most_nominal() -> None:
    """The rule with one order effect fitted over a measure's comparisons (``table --shared-order``; not yet
    the gate's): two comparisons of unequal spreads whose first-running side is slower by unequal amounts
    (1% and 4%, the slow morning's range), no change otherwise: 'slower' in either, at the family's level
    per comparison, at most the nominal 5% plus three Monte-Carlo standard errors."""
    first, last, m = 3, 10, 2
    plan = sequential.plan(first, last, sequential.ALPHA / m, 0.0, m, shared_order=True)
    assert plan.shared_order and plan.shared == m
    generator = np.random.default_rng(31)
    spreads, effects = np.array([0.02, 0.04]), np.array([0.01, 0.04])
    signs = np.where(sequential.base_first(last), -1.0, 1.0)
    theta = generator.standard_normal((GATES, m, last)) * spreads[:, None] + effects[:, None] * signs
    alarmed = np.zeros(GATES, dtype=bool)
    for index, bound in enumerate(plan.bounds):
        x = sequential.remove_shared_order(theta[:, :, : first + index])
        alarmed |= (sequential.t_statistic(x, False) > bound).any(axis=1)
    error = math.sqrt(sequential.ALPHA * (1 - sequential.ALPHA) / GATES)
    assert alarmed.mean() <= sequential.ALPHA + 3 * error, f"{alarmed.mean():.4f}"


def test_fixed_level_re_testing_at_every_look_would_exceed_the_nominal_rate() -> None:
    """The test above would fail if the boundaries were each look's fixed-sample quantile."""
    first, last, alpha = 3, 10, 0.05
    fixed = [float(stats.t.ppf(1 - alpha, k - 1)) for k in range(first, last + 1)]
    alarms = first_slower_look(null_streams(7, last), fixed, first, 0.0).mean()
    assert alarms > alpha + 3 * math.sqrt(alpha * (1 - alpha) / GATES)  # measured: about 2.5× nominal
    assert [round(b, 2) for b in sequential.plan(first, last, alpha).bounds[1:]] != [round(b, 2) for b in fixed[1:]]


def ever_said_same(theta: np.ndarray, bounds: list[float], first: int, min_effect: float) -> np.ndarray:
    """Per simulated gate (row), whether the upper bound (mean + bound x standard error) was below the
    minimum effect at any look: the gate would have called it ``same`` there, if nothing before."""
    said = np.zeros(len(theta), dtype=bool)
    for index, bound in enumerate(bounds):
        k = first + index
        x = theta[:, :k]
        said |= x.mean(axis=1) + bound * x.std(axis=1, ddof=1) / math.sqrt(k) < math.log1p(min_effect)
    return said


def test_a_slowdown_of_exactly_the_minimum_effect_is_called_same_at_most_at_the_same_level() -> None:
    """The ``same`` bound is a repeated confidence bound too: over all looks, a 2% slowdown (the minimum
    effect) is called ``same`` in at most SAME_ALPHA of 20,000 gates (80% power there), plus three
    Monte-Carlo standard errors; the same bound taken at a fixed level at every look would miss it more."""
    first, last, level = 3, 10, sequential.SAME_ALPHA
    theta = np.random.default_rng(23).normal(math.log(1.02), SPREAD, (GATES, last))
    missed = ever_said_same(theta, list(sequential.plan(first, last, level).bounds), first, 0.02).mean()
    error = math.sqrt(level * (1 - level) / GATES)
    assert level / 2 <= missed <= level + 3 * error, f"{missed:.4f} against {level}"
    fixed = [float(stats.t.ppf(1 - level, k - 1)) for k in range(first, last + 1)]
    assert ever_said_same(theta, fixed, first, 0.02).mean() > level + 3 * error


def run_gate(stream: np.ndarray, min_effect: float = 0.02, comparisons: int = 1) -> sequential.Decision:
    """Look after every pair, as the gate does; the decision at the first look that decides."""
    slower = sequential.plan(3, 10, sequential.ALPHA / comparisons)
    same = sequential.plan(3, 10, sequential.SAME_ALPHA)
    for pairs in range(3, 11):
        decision = sequential.decide(stream[:pairs], slower, same, min_effect)
        if decision.verdict:
            return decision
    raise AssertionError("the last look always decides")


def test_it_stops_early_when_the_effect_is_large_or_absent() -> None:
    rng = np.random.default_rng(11)
    big = [run_gate(rng.normal(math.log(1.20), 0.01, 10)) for _ in range(50)]
    none = [run_gate(rng.normal(0.0, 0.002, 10)) for _ in range(50)]
    assert all(d.verdict == "slower" for d in big) and np.mean([d.lower > 1 for d in big]) == 1
    assert all(d.verdict == "same" for d in none)
    # both decided at the first looks, far from the most pairs
    assert max(_pairs_used(rng, math.log(1.20), 0.01) for _ in range(20)) <= 4
    assert max(_pairs_used(rng, 0.0, 0.002) for _ in range(20)) <= 4


def _pairs_used(rng: np.random.Generator, effect: float, spread: float) -> int:
    stream = rng.normal(effect, spread, 10)
    slower, same = sequential.plan(3, 10, sequential.ALPHA), sequential.plan(3, 10, sequential.SAME_ALPHA)
    return next(k for k in range(3, 11) if sequential.decide(stream[:k], slower, same, 0.02).verdict)


def test_a_small_effect_in_much_noise_runs_to_the_last_look_and_is_inconclusive() -> None:
    rng = np.random.default_rng(5)
    decisions = [run_gate(rng.normal(math.log(1.02), 0.05, 10)) for _ in range(30)]
    assert sum(d.verdict == "inconclusive" for d in decisions) >= 20


def test_an_improvement_is_described_as_faster_and_never_fails() -> None:
    decision = run_gate(np.random.default_rng(3).normal(math.log(0.8), 0.01, 10))
    assert decision.verdict == "faster" and decision.upper < 1 / 1.02


def test_boundaries_are_cached_and_reproducible() -> None:
    assert sequential.plan(3, 10, 0.05) is sequential.plan(3, 10, 0.05)
    sequential.plan.cache_clear()
    again = sequential.plan(3, 10, 0.05)
    assert again.bounds == sequential.plan(3, 10, 0.05).bounds
    with pytest.raises(ValueError, match="the first needs at least 2 pairs"):
        sequential.plan(1, 10, 0.05)


def test_one_pairs_estimate_is_its_ratio_without_a_spread() -> None:
    """A comparison timed in one pair (a narrowed gate's latency before its first look) has a ratio and no
    spread, without numpy's warning about zero degrees of freedom (which the tests turn into an error)."""
    found = sequential.fit(np.array([0.01]))
    assert float(found.mean) == 0.01 and math.isnan(float(found.variance)) and found.freedom == 0


# -- the trimmed t: one pair whose process ran slower as a whole ------------------------------------------
def test_the_trimmed_fit_is_tukey_and_mclaughlins_trimmed_mean_and_standard_error() -> None:
    """Against scipy's own trimmed mean and Winsorizing, at every pair count a gate looks at."""
    from scipy.stats import mstats

    rng = np.random.default_rng(5)
    for pairs in range(3, 11):
        x = rng.normal(0.0, 0.02, pairs)
        found = sequential.fit(x, trim=0.2)
        g = int(0.2 * pairs)
        h = pairs - 2 * g
        assert float(found.mean) == pytest.approx(stats.trim_mean(x, 0.2))
        winsorized = np.asarray(mstats.winsorize(x, limits=(0.2, 0.2)))
        error = math.sqrt((pairs - 1) * winsorized.var(ddof=1) / (h * (h - 1)))
        assert math.sqrt(float(found.variance) / found.weight) == pytest.approx(error)
        assert found.freedom == h - 1 == sequential.fit_freedom(pairs, trim=0.2)


@pytest.mark.parametrize("outliers", [0.0, 0.15], ids=["normal", "one-process-outliers"])
def test_trimmed_the_false_alarm_rate_stays_at_most_nominal(outliers: float) -> None:
    """Boundaries simulated for the trimmed t on normal pairs hold on fresh normal streams, and on streams
    where 15% of the pairs carry a whole process 6% slower (either side): 'slower' at most at the level plus
    three Monte-Carlo standard errors, with no minimum effect to help."""
    alpha, first, last = 0.05, 3, 10
    plan = sequential.plan(first, last, alpha, trim=0.2)
    theta = null_streams(11, last)
    rng = np.random.default_rng(13)
    theta += (rng.random(theta.shape) < outliers) * rng.choice([-1.0, 1.0], theta.shape) * math.log(1.06)
    alarmed = np.zeros(len(theta), dtype=bool)
    for index, bound in enumerate(plan.bounds):
        k = first + index
        alarmed |= sequential.t_statistic(theta[:, :k], trim=0.2) > bound
    error = math.sqrt(alpha * (1 - alpha) / GATES)
    assert alarmed.mean() <= alpha + 3 * error, f"{alarmed.mean():.4f}"


def test_one_pair_far_out_holds_the_plain_t_and_not_the_trimmed_one() -> None:
    """A recorded 2-case gate's fp32 latency (Intel AMX, 2026-12-06): its third pair read +6.2%, the process
    slower as a whole; the plain t decided 'same' at 9 pairs, the trimmed t sooner, on the same ratios."""
    ratios = [0.9895, 1.0035, 1.0620, 1.0175, 0.9843, 1.0009, 1.0154, 1.0003, 0.9880]
    family = 0.05 / 4  # the 2-case gate's 4 comparisons

    def decided_at(trim: float) -> int:
        slower = sequential.plan(3, 10, family, trim=trim)
        same = sequential.plan(3, 10, sequential.SAME_ALPHA, trim=trim)
        for k in range(3, len(ratios) + 1):
            if sequential.decide(np.log(ratios[:k]), slower, same, 0.02).verdict:
                return k
        return 0

    plain, trimmed = decided_at(0.0), decided_at(0.2)
    assert plain == 9
    assert 0 < trimmed < plain, (plain, trimmed)


def test_trimming_and_fitting_the_order_per_comparison_do_not_mix() -> None:
    with pytest.raises(ValueError, match="trimmed or their order fitted"):
        sequential.plan(3, 10, 0.05, fit_order=True, trim=0.2)
    with pytest.raises(ValueError, match="below 0.5"):
        sequential.plan(3, 10, 0.05, trim=0.5)
