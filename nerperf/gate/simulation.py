"""The gate's rule vectorized over simulated gates: its false-alarm rate, power and cost in seconds.

A real gate costs minutes, so what a rule does over thousands of gates is simulated: a gate is ``m``
comparisons (its cases' latency, then their throughput), each a stream of pair log ratios, judged after
every pair from the first look to the last as :func:`nerperf.gate.speed.judge` judges them, the
comparisons of a measure sharing their variance. The tests hold :func:`speed.judge` to these functions
verdict by verdict (``tests/test_moderation.py``), so a rule measured here is the gate's rule;
``benches/gate_noise.py trimmed`` compares rules with them.

The pairs' noise is normal with each comparison's spread, plus, where asked, single pairs far out: now
and then one process of a pair runs slower *as a whole*, which moves every comparison of that pair the
same way (what held two 2-case checks to their last pairs: docs/gate.md, "What it measured").
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from nerperf.gate import moderation, sequential

GATES = 10_000
UNDECIDED = "undecided"
# sd of the pair log ratios (%), latency then throughput per case, of two recorded same-revision gates of the six
# calibration cases (AMD EPYC, AVX-512 VNNI, 2026-12-02): calib-base-01 (quiet) and -02 (loaded)
QUIET_SPREADS = (1.9, 0.9, 1.1, 1.0, 1.3, 2.8, 1.9, 2.0, 1.8, 2.6, 3.9, 2.2)
LOADED_SPREADS = (2.7, 4.1, 1.6, 3.2, 3.9, 1.5, 5.4, 7.2, 4.0, 4.0, 10.3, 5.7)


def measures_of(m: int) -> list[str]:
    """The measure of each of a gate's ``m`` comparisons: its cases' latency, then their throughput.

    >>> measures_of(4)
    ['latency', 'latency', 'throughput', 'throughput']
    """
    return ["latency"] * (m // 2) + ["throughput"] * (m - m // 2)


def streams(
    spreads: Sequence[float],
    seed: int,
    effects: Sequence[float] | None = None,
    last: int = sequential.LAST_LOOK,
    gates: int = GATES,
    outliers: float = 0.0,
    outlier_size: float = 0.0,
) -> np.ndarray:
    """Pair log ratios, shaped (gates, comparisons, pairs): normal with the ``spreads`` (sd, %) about the
    log of ``effects`` (ratios; none: no change); with ``outliers``, each pair's chance that one of its
    processes (either side, alike) ran ``outlier_size`` percent slower as a whole, every comparison of
    that pair moved by it."""
    generator = np.random.default_rng(seed)
    sd = np.asarray(spreads, dtype=float) / 100
    theta = generator.standard_normal((gates, len(sd), last)) * sd[None, :, None]
    if effects is not None:
        theta += np.log(np.asarray(effects, dtype=float))[None, :, None]
    if outliers > 0:
        hit = generator.random((gates, 1, last)) < outliers
        side = np.where(generator.random((gates, 1, last)) < 0.5, 1.0, -1.0)  # head slower: +, base slower: -
        theta += hit * side * math.log1p(outlier_size / 100)
    return theta


@dataclass(frozen=True)
class Simulated:
    """Per gate (axis 0) and comparison (axis 1): the verdict of the first look that decided, and that look
    (the last look where undecided)."""

    verdicts: np.ndarray
    looks: np.ndarray

    def pairs(self, last: int = sequential.LAST_LOOK) -> np.ndarray:
        """Per gate, the pairs it ran: until its last comparison was decided, or ``last``."""
        decided = np.where(self.verdicts == UNDECIDED, last, self.looks)
        return decided.max(axis=1)


def _judged(
    x: np.ndarray, k: int, slower: sequential.Plan, same: sequential.Plan, prior_df: float, shared: bool,
    slower_effect: float, same_effect: float,
) -> np.ndarray:  # fmt: skip
    """The verdicts at look ``k`` of the comparisons ``x`` (gates, comparisons, k pairs), as
    :func:`sequential.decide` gives them."""
    found = sequential.fit(x, trim=slower.trim)
    variance = moderation.moderated(found.variance, found.freedom, prior_df) if shared else found.variance
    error = np.sqrt(variance / found.weight)
    with np.errstate(divide="ignore", invalid="ignore"):
        t = found.mean / error
    high = found.mean + same.bound(k) * error
    return np.where(
        (t > slower.bound(k)) & (found.mean >= math.log1p(slower_effect)),
        "slower",
        np.where(high < -math.log1p(same_effect), "faster",
                 np.where(high < math.log1p(same_effect), "same", UNDECIDED)),
    )  # fmt: skip


def first_verdicts(
    theta: np.ndarray,
    prior_df: float,
    min_effect: float = 0.02,
    first: int = sequential.FIRST_LOOK,
    shared_order: bool = sequential.SHARED_ORDER,
    trim: float = sequential.TRIM,
    last: int | None = None,
) -> Simulated:
    """Every simulated gate judged as :func:`speed.judge` judges a gate that times every case at every pair
    (``--every-measure``): the comparisons of a measure share their variance (``prior_df``; from
    :data:`moderation.MIN_SHARED` of them) and, with ``shared_order``, one order effect; ``trim``: the
    trimmed t (:func:`sequential.fit`). ``last``: the gate's last look (default: the pairs simulated)."""
    gates, m, pairs = theta.shape
    last = last or pairs
    family = sequential.ALPHA / m
    found = np.full((gates, m), UNDECIDED, dtype=object)
    looks = np.full((gates, m), last)
    measures = measures_of(m)
    for measure in sorted(set(measures)):
        columns = [i for i in range(m) if measures[i] == measure]
        shared = prior_df > 0 and len(columns) >= moderation.MIN_SHARED
        group = len(columns) if shared or shared_order else 1
        d0 = prior_df if shared else 0.0
        slower = sequential.plan(first, last, family, d0, group, False, shared_order, trim)
        same = sequential.plan(first, last, sequential.SAME_ALPHA, d0, group, False, shared_order, trim)
        for k in range(first, pairs + 1):
            x = theta[:, columns, :k]
            if shared_order:
                x = sequential.remove_shared_order(x)
            verdict = _judged(x, k, slower, same, prior_df, shared, min_effect, min_effect)
            block, at = found[:, columns], looks[:, columns]
            open_ = (block == UNDECIDED) & (verdict != UNDECIDED)
            block[open_], at[open_] = verdict[open_], k
            found[:, columns], looks[:, columns] = block, at
    return Simulated(found, looks)


def narrowed_first_verdicts(
    theta: np.ndarray,
    prior_df: float,
    same_effect: float = 0.02,
    slower_effect: float = 0.0,
    last: int = sequential.LAST_LOOK,
    shared_order: bool = sequential.SHARED_ORDER,
    trim: float = sequential.TRIM,
) -> Simulated:
    """As :func:`first_verdicts`, but as the gate narrows: after each look a case whose comparisons are all
    decided gets no more pairs, so at look k each measure's group is the comparisons still timed, sharing
    their variance among themselves with the boundaries for their number (their own below
    :data:`moderation.MIN_SHARED`). ``slower`` asks ``slower_effect`` (by default none: the strictest test of
    the false-alarm rate), ``same`` asks ``same_effect``."""
    gates, m, pairs = theta.shape  # the pairs so far, of a gate of at most ``last``
    cases = m // 2
    case_of = [i % cases for i in range(m)]
    measures = measures_of(m)
    family, first = sequential.ALPHA / m, sequential.FIRST_LOOK
    found = np.full((gates, m), UNDECIDED, dtype=object)
    looks = np.full((gates, m), last)
    timed = np.ones((gates, cases), dtype=bool)
    for k in range(first, pairs + 1):
        for measure in ("latency", "throughput"):
            columns = [i for i in range(m) if measures[i] == measure]
            active = timed[:, [case_of[i] for i in columns]]
            verdict = np.full((gates, len(columns)), UNDECIDED, dtype=object)
            for mask in {tuple(row) for row in active}:
                rows = np.all(active == mask, axis=1)
                present = [j for j, on in enumerate(mask) if on]
                if not present:
                    continue
                shared = prior_df > 0 and len(present) >= moderation.MIN_SHARED
                grouped = shared_order and len(present) >= sequential.MIN_ORDER_GROUP
                d0, n = (prior_df, len(present)) if shared else (0.0, len(present) if grouped else 1)
                slower = sequential.plan(first, last, family, d0, n, False, grouped, trim)
                same = sequential.plan(first, last, sequential.SAME_ALPHA, d0, n, False, grouped, trim)
                x = theta[rows][:, [columns[j] for j in present], :k]
                if grouped:
                    x = sequential.remove_shared_order(x)
                judged = verdict[rows]
                judged[:, present] = _judged(x, k, slower, same, prior_df, shared, slower_effect, same_effect)
                verdict[rows] = judged
            block, at = found[:, columns], looks[:, columns]
            open_ = (block == UNDECIDED) & active & (verdict != UNDECIDED)
            block[open_], at[open_] = verdict[open_], k
            found[:, columns], looks[:, columns] = block, at
        for case in range(cases):
            timed[:, case] &= ~np.all(found[:, [i for i in range(m) if case_of[i] == case]] != UNDECIDED, axis=1)
    return Simulated(found, looks)
