"""The gate's shared variance (:mod:`nerperf.gate.moderation`) on simulated gates.

A simulated gate is 12 comparisons (6 cases' latency, 6 cases' throughput), each a stream of pair log
ratios, judged after every pair from 3 to 10 as :func:`nerperf.gate.speed.judge` does, with the
comparisons of a measure sharing their variance. The spreads are not the model's: they are the
error-rate runs' same-revision gates' own, among them the loaded gate's, whose throughput spreads run from
4 to 10%, the case where shrinking a noisy comparison's variance toward its group's could cry wolf.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from nerperf.gate import moderation, sequential, speed

GATES = 10_000
# sd of the pair log ratios (%), latency then throughput, per case: calib-base-01 (quiet) and -02 (loaded)
QUIET = [1.9, 0.9, 1.1, 1.0, 1.3, 2.8, 1.9, 2.0, 1.8, 2.6, 3.9, 2.2]
LOADED = [2.7, 4.1, 1.6, 3.2, 3.9, 1.5, 5.4, 7.2, 4.0, 4.0, 10.3, 5.7]
MEASURES = ["latency"] * 6 + ["throughput"] * 6


def first_verdicts(
    theta: np.ndarray,
    prior_df: float,
    min_effect: float = 0.02,
    first: int = 3,
    shared_order: bool = sequential.SHARED_ORDER,
) -> np.ndarray:
    """Per simulated gate (axis 0) and comparison (axis 1), the verdict of the first look that decided
    (``slower``, ``same``, ``faster``, or ``undecided``), the comparisons of a measure sharing their variance
    (and with ``shared_order`` one order effect) as the gate's :func:`speed.judge` has them do; vectorized
    over gates."""
    gates, m, last = theta.shape
    family = sequential.ALPHA / m
    found = np.full((gates, m), "undecided", dtype=object)
    effect = math.log1p(min_effect)
    for measure in sorted(set(MEASURES[:m])):
        columns = [i for i in range(m) if MEASURES[i] == measure]
        shared = len(columns) if prior_df > 0 and len(columns) >= moderation.MIN_SHARED else 1
        group = len(columns) if shared_order else shared
        slower = sequential.plan(first, last, family, prior_df if shared > 1 else 0.0, group, False, shared_order)
        same = sequential.plan(
            first, last, sequential.SAME_ALPHA, prior_df if shared > 1 else 0.0, group, False, shared_order
        )
        for k in range(first, last + 1):
            x = theta[:, columns, :k]
            if shared_order:
                x = sequential.remove_shared_order(x)
            mean, variance = x.mean(axis=-1), x.var(axis=-1, ddof=1)
            if shared > 1:
                variance = moderation.moderated(variance, k - 1, prior_df)
            error = np.sqrt(variance / k)
            t = mean / error
            verdict = np.where(
                (t > slower.bound(k)) & (mean >= effect),
                "slower",
                np.where(mean + same.bound(k) * error < -effect, "faster",
                         np.where(mean + same.bound(k) * error < effect, "same", "undecided")),
            )  # fmt: skip
            block = found[:, columns]
            open_ = block == "undecided"
            block[open_] = verdict[open_]
            found[:, columns] = block
    return found


def streams(spreads: list[float], seed: int, effects: list[float] | None = None, last: int = 10) -> np.ndarray:
    generator = np.random.default_rng(seed)
    sd = np.asarray(spreads) / 100
    theta = generator.standard_normal((GATES, len(sd), last)) * sd[None, :, None]
    if effects is not None:
        theta += np.log(np.asarray(effects))[None, :, None]
    return theta


@pytest.mark.parametrize("spreads", [QUIET, LOADED], ids=["quiet", "loaded"])
def test_with_no_change_sharing_keeps_the_false_alarm_rate_at_most_nominal(spreads: list[float]) -> None:
    """10,000 same-revision gates of the error-rate runs' own spreads, no minimum effect to help: 'slower'
    anywhere in a gate at most 5% of the time, plus three Monte-Carlo standard errors."""
    alarms = (first_verdicts(streams(spreads, 7), moderation.PRIOR_DF, min_effect=0.0) == "slower").any(axis=1)
    error = math.sqrt(sequential.ALPHA * (1 - sequential.ALPHA) / GATES)
    assert alarms.mean() <= sequential.ALPHA + 3 * error, f"{alarms.mean():.4f}"


def test_a_prior_weight_far_above_the_measured_ones_would_cry_wolf() -> None:
    """What the test above guards against: with d0 = 30 (the spreads treated as nearly one), the noisiest
    comparisons' variances are shrunk far below their own and the loaded gates' alarms exceed the level."""
    alarms = (first_verdicts(streams(LOADED, 7), 30.0, min_effect=0.0) == "slower").any(axis=1).mean()
    assert alarms > sequential.ALPHA + 3 * math.sqrt(sequential.ALPHA * (1 - sequential.ALPHA) / GATES)


def test_sharing_decides_same_sooner_and_catches_more_small_slowdowns() -> None:
    """On quiet same-revision gates fewer comparisons are left undecided by the fourth pair (at the gate's
    `same` level, 20%: about 15% against 19%; at 5% the gap was 42% against 55%), and a 4% slowdown of two
    cases (both measures) is called 'slower' more often by the last look."""
    theta = streams(QUIET, 11, last=4)
    own, pooled = (first_verdicts(theta, d0) for d0 in (0.0, moderation.PRIOR_DF))
    assert (pooled != "same").mean() < 0.85 * (own != "same").mean()
    slowed = [1.0] * 12
    for index in (2, 5, 8, 11):
        slowed[index] = 1.04
    theta = streams(QUIET, 13, slowed)
    own, pooled = (first_verdicts(theta, d0)[:, [2, 5, 8, 11]] for d0 in (0.0, moderation.PRIOR_DF))
    assert (pooled == "slower").mean() > (own == "slower").mean()


def test_the_gates_judge_gives_the_simulated_rules_verdicts() -> None:
    """The vectorized rule above is the gate's: speed.judge on 200 of the same gates agrees verdict by verdict."""
    theta = streams(QUIET, 17, [1.0, 1.0, 1.05] * 4)[:200]
    expected = first_verdicts(theta, moderation.PRIOR_DF)
    for gate, want in zip(theta, expected, strict=True):
        comparisons = [
            speed.SpeedComparison(f"case-{i % 6}", MEASURES[i], 1.0, 1.0, 1.0, 10, tuple(np.exp(gate[i])))
            for i in range(12)
        ]
        got = [c.verdict or "undecided" for c in speed.judge(comparisons, 0.02)]
        assert [g if g != "inconclusive" else "undecided" for g in got] == list(want)


def order_effects(theta: np.ndarray, effects: list[float]) -> np.ndarray:
    """``theta`` with each comparison's first-running side slower by its effect (%): the head's ratio lower in
    base-first pairs, higher in head-first ones."""
    signs = np.where(sequential.base_first(theta.shape[-1]), -1.0, 1.0)
    return theta + (np.asarray(effects) / 100)[None, :, None] * signs


SLOW_MORNING = [5.1, 5.7, 4.1, 5.3, 7.3, 3.7, 6.2, 4.8, 2.1, 8.5, 3.8, 4.8]  # calib-base-04's order effects (%)


def test_one_order_effect_per_measure_keeps_the_false_alarm_rate_at_most_nominal() -> None:
    """10,000 same-revision gates of the loaded spreads whose comparisons' order effects are the slow
    morning's, unequal (2-8%): with one order effect fitted per measure, 'slower' anywhere at most 5% of
    the time, plus three Monte-Carlo standard errors; and more comparisons decided by the sixth pair than
    with the order left in."""
    theta = order_effects(streams(LOADED, 29), SLOW_MORNING)
    found = first_verdicts(theta, moderation.PRIOR_DF, min_effect=0.0, shared_order=True)
    alarms = (found == "slower").any(axis=1)
    error = math.sqrt(sequential.ALPHA * (1 - sequential.ALPHA) / GATES)
    assert alarms.mean() <= sequential.ALPHA + 3 * error, f"{alarms.mean():.4f}"
    quiet = order_effects(streams(QUIET, 37, last=6), SLOW_MORNING)
    fitted, left = (first_verdicts(quiet, moderation.PRIOR_DF, shared_order=o) for o in (True, False))
    assert (fitted == "same").mean() > (left == "same").mean()


def test_the_gates_judge_fits_one_order_effect_per_measure_as_simulated() -> None:
    """speed.judge with shared_order on 100 of those gates agrees verdict by verdict with the vectorized rule."""
    theta = order_effects(streams(QUIET, 41, [1.0, 1.0, 1.05] * 4), SLOW_MORNING)[:100]
    expected = first_verdicts(theta, moderation.PRIOR_DF, shared_order=True)
    for gate, want in zip(theta, expected, strict=True):
        comparisons = [
            speed.SpeedComparison(f"case-{i % 6}", MEASURES[i], 1.0, 1.0, 1.0, 10, tuple(np.exp(gate[i])))
            for i in range(12)
        ]
        got = [c.verdict or "undecided" for c in speed.judge(comparisons, 0.02, shared_order=True)]
        assert [g if g != "inconclusive" else "undecided" for g in got] == list(want)


def test_too_few_comparisons_of_a_measure_share_nothing() -> None:
    """A bisect step's one case: its measures are judged on their own pairs, as with --prior-df 0."""
    rng = np.random.default_rng(3)
    comparisons = [
        speed.SpeedComparison("case", measure, 1.0, 1.0, 1.0, 6, tuple(np.exp(rng.normal(0.01, 0.02, 6))))
        for measure in ("latency", "throughput")
    ]
    assert speed.judge(comparisons, 0.02) == speed.judge(comparisons, 0.02, prior_df=0.0)


def test_fit_prior_is_limmas_estimate() -> None:
    """One variance for all: d0 infinite (or huge) and the common variance found; variances that truly differ
    (drawn with 4 prior degrees of freedom around 2.0): d0 and the common variance recovered."""
    rng = np.random.default_rng(0)
    one = (rng.chisquare(5, 4000) / 5).tolist()  # each on 5 degrees of freedom, all of variance 1
    d0, s0 = moderation.fit_prior(one, 5)
    assert d0 > 100 and s0 == pytest.approx(1.0, rel=0.05)
    truth = 2.0 * 4 / rng.chisquare(4, 4000)  # scaled inverse chi-square: the prior limma assumes
    sampled = (truth * rng.chisquare(5, 4000) / 5).tolist()
    d0, s0 = moderation.fit_prior(sampled, 5)
    assert 3.0 < d0 < 5.5 and s0 == pytest.approx(2.0, rel=0.15)
    # and with d0 known, the common scale is recovered from a gate-sized group as the gate estimates it
    scales = [moderation.common_scale(np.asarray(sampled[i : i + 6]), 5, 4.0)[0] for i in range(0, 3996, 6)]
    assert float(np.exp(np.mean(np.log(scales)))) == pytest.approx(2.0, rel=0.15)


# -- narrowing by case: a case whose comparisons are all decided stops being timed ------------------------
CASE_OF = [i % 6 for i in range(12)]  # comparison i belongs to case i % 6 (its latency, then its throughput)


def narrowed_first_verdicts(
    theta: np.ndarray,
    prior_df: float,
    same_effect: float = 0.02,
    slower_effect: float = 0.0,
    last: int = 10,
    shared_order: bool = sequential.SHARED_ORDER,
) -> np.ndarray:
    """As :func:`first_verdicts`, but after each look a case whose comparisons are all decided gets no more
    pairs: at look k each measure's group is the comparisons still timed, sharing their variance among
    themselves, with the boundaries for their number (own ones below ``MIN_SHARED``), as ``speed.judge``
    does. ``slower`` asks ``slower_effect`` (by default none: the strictest test of the false-alarm rate);
    ``same`` asks ``same_effect``, so that cases are decided and dropped; ``shared_order``: the open ones
    share one order effect too, as the gate's rule has them."""
    gates, m, pairs = theta.shape  # the pairs so far, of a gate of at most ``last``
    family, first = sequential.ALPHA / m, sequential.FIRST_LOOK
    same_bound = math.log1p(same_effect)
    found = np.full((gates, m), "undecided", dtype=object)
    timed = np.ones((gates, 6), dtype=bool)
    for k in range(first, pairs + 1):
        for measure in ("latency", "throughput"):
            columns = [i for i in range(m) if MEASURES[i] == measure]
            active = timed[:, [CASE_OF[i] for i in columns]]
            verdict = np.full((gates, len(columns)), "undecided", dtype=object)
            for mask in {tuple(row) for row in active}:
                rows = np.all(active == mask, axis=1)
                present = [j for j, on in enumerate(mask) if on]
                if not present:
                    continue
                shared = prior_df > 0 and len(present) >= moderation.MIN_SHARED
                grouped = shared_order and len(present) >= sequential.MIN_ORDER_GROUP
                d0, n = (prior_df, len(present)) if shared else (0.0, len(present) if grouped else 1)
                slower = sequential.plan(first, last, family, d0, n, False, grouped)
                same = sequential.plan(first, last, 0.2, d0, n, False, grouped)
                x = theta[rows][:, [columns[j] for j in present], :k]
                if grouped:
                    x = sequential.remove_shared_order(x)
                mu, v = x.mean(axis=-1), x.var(axis=-1, ddof=1)
                if shared:
                    v = moderation.moderated(v, k - 1, prior_df)
                error = np.sqrt(v / k)
                block = np.where(
                    (mu / error > slower.bound(k)) & (mu >= math.log1p(slower_effect)),
                    "slower",
                    np.where(mu + same.bound(k) * error < -same_bound, "faster",
                             np.where(mu + same.bound(k) * error < same_bound, "same", "undecided")),
                )  # fmt: skip
                judged = verdict[rows]
                judged[:, present] = block
                verdict[rows] = judged
            block = found[:, columns]
            open_ = (block == "undecided") & active
            block[open_] = verdict[open_]
            found[:, columns] = block
        for case in range(6):
            timed[:, case] &= ~np.all(found[:, [i for i in range(m) if CASE_OF[i] == case]] != "undecided", axis=1)
    return found


@pytest.mark.parametrize("spreads", [QUIET, LOADED], ids=["quiet", "loaded"])
def test_narrowing_by_case_keeps_the_false_alarm_rate_at_most_nominal(spreads: list[float]) -> None:
    """10,000 same-revision gates whose decided cases stop being timed, the open ones sharing their variance
    among themselves: 'slower' anywhere at most 5% of the time, plus three Monte-Carlo standard errors."""
    found = narrowed_first_verdicts(streams(spreads, 19), moderation.PRIOR_DF)
    assert (found == "same").any()  # cases were decided, and so dropped, along the way
    alarms = (found == "slower").any(axis=1)
    error = math.sqrt(sequential.ALPHA * (1 - sequential.ALPHA) / GATES)
    assert alarms.mean() <= sequential.ALPHA + 3 * error, f"{alarms.mean():.4f}"


def test_the_gates_judge_gives_the_narrowed_simulations_verdicts() -> None:
    """speed.judge on 120 of the same gates, each comparison cut to the pairs its case was timed, agrees
    verdict by verdict with the vectorized rule above, both at the gate's minimum effect of 2%."""
    theta = streams(QUIET, 23)[:120]
    expected = narrowed_first_verdicts(theta, moderation.PRIOR_DF, slower_effect=0.02)
    dropped = 0
    for gate, want in zip(theta, expected, strict=True):
        decided_at = {}
        for case in range(6):  # the look after which the case's last comparison was decided, by replay
            pairs = 10
            for k in range(sequential.FIRST_LOOK, 11):
                cut = narrowed_first_verdicts(gate[None, :, :k], moderation.PRIOR_DF, slower_effect=0.02)[0]
                if all(cut[i] != "undecided" for i in range(12) if CASE_OF[i] == case):
                    pairs = k
                    break
            decided_at[case] = pairs
            dropped += pairs < 10
        comparisons = [
            speed.SpeedComparison(
                f"case-{CASE_OF[i]}", MEASURES[i], 1.0, 1.0, 1.0, 10, tuple(np.exp(gate[i][: decided_at[CASE_OF[i]]]))
            )
            for i in range(12)
        ]
        got = [c.verdict or "undecided" for c in speed.judge(comparisons, 0.02)]
        assert [g if g != "inconclusive" else "undecided" for g in got] == list(want)
    assert dropped > 120  # cases left the gate before its last pair, more than one a gate
