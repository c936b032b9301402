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

from nerperf.gate import moderation, sequential, simulation, speed

GATES = 10_000
QUIET, LOADED = list(simulation.QUIET_SPREADS), list(simulation.LOADED_SPREADS)
MEASURES = ["latency"] * 6 + ["throughput"] * 6


def first_verdicts(theta: np.ndarray, prior_df: float, **options: object) -> np.ndarray:
    return simulation.first_verdicts(theta, prior_df, **options).verdicts  # type: ignore[arg-type]


def streams(spreads: list[float], seed: int, effects: list[float] | None = None, last: int = 10) -> np.ndarray:
    return simulation.streams(spreads, seed, effects, last, GATES)


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


@pytest.mark.parametrize("trim", [0.0, 0.2], ids=["plain", "trimmed"])
def test_the_gates_judge_gives_the_simulated_rules_verdicts(trim: float) -> None:
    """The vectorized rule (:mod:`nerperf.gate.simulation`) is the gate's: speed.judge on 200 of the same
    gates agrees verdict by verdict, with the plain t and with the trimmed one (some pairs far out)."""
    theta = simulation.streams(QUIET, 17, [1.0, 1.0, 1.05] * 4, gates=200, outliers=0.1, outlier_size=6.0)
    expected = first_verdicts(theta, moderation.PRIOR_DF, trim=trim)
    for gate, want in zip(theta, expected, strict=True):
        comparisons = [
            speed.SpeedComparison(f"case-{i % 6}", MEASURES[i], 1.0, 1.0, 1.0, 10, tuple(np.exp(gate[i])))
            for i in range(12)
        ]
        got = [c.verdict or "undecided" for c in speed.judge(comparisons, 0.02, trim=trim)]
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


def narrowed_first_verdicts(theta: np.ndarray, prior_df: float, **options: object) -> np.ndarray:
    return simulation.narrowed_first_verdicts(theta, prior_df, **options).verdicts  # type: ignore[arg-type]


@pytest.mark.parametrize("spreads", [QUIET, LOADED], ids=["quiet", "loaded"])
def test_narrowing_by_case_keeps_the_false_alarm_rate_at_most_nominal(spreads: list[float]) -> None:
    """10,000 same-revision gates whose decided cases stop being timed, the open ones sharing their variance
    among themselves: 'slower' anywhere at most 5% of the time, plus three Monte-Carlo standard errors."""
    found = narrowed_first_verdicts(streams(spreads, 19), moderation.PRIOR_DF)
    assert (found == "same").any()  # cases were decided, and so dropped, along the way
    alarms = (found == "slower").any(axis=1)
    error = math.sqrt(sequential.ALPHA * (1 - sequential.ALPHA) / GATES)
    assert alarms.mean() <= sequential.ALPHA + 3 * error, f"{alarms.mean():.4f}"


def test_narrowed_and_trimmed_the_false_alarm_rate_stays_at_most_nominal() -> None:
    """The same with the trimmed t on the loaded spreads, a tenth of the pairs carrying a process 6% slower
    as a whole (either side): 'slower' anywhere at most 5% of the time, plus three Monte-Carlo standard errors."""
    theta = simulation.streams(LOADED, 31, gates=GATES, outliers=0.1, outlier_size=6.0)
    found = narrowed_first_verdicts(theta, moderation.PRIOR_DF, trim=0.2)
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
