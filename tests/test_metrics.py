"""Scores agree with seqeval called directly; the bootstrap counts reproduce seqeval's F1."""

from __future__ import annotations

import numpy as np
import pytest
from seqeval.metrics import accuracy_score, f1_score, precision_score, recall_score
from seqeval.scheme import IOB2

from nerperf.data.metrics import bootstrap_f1, entity_counts, f1_from_counts, percentiles, score

GOLD = [["B-PER", "I-PER", "O", "B-LOC"], ["O", "B-ORG", "I-ORG"], ["B-MISC", "O"]]
PRED = [["B-PER", "I-PER", "O", "B-ORG"], ["O", "I-ORG", "I-ORG"], ["B-MISC", "O"]]  # I-ORG after O


def test_conlleval_mode_is_seqeval_default() -> None:
    scores = score(GOLD, PRED, "conlleval")
    assert scores.f1 == pytest.approx(f1_score(GOLD, PRED))
    assert scores.precision == pytest.approx(precision_score(GOLD, PRED))
    assert scores.recall == pytest.approx(recall_score(GOLD, PRED))
    assert scores.accuracy == pytest.approx(accuracy_score(GOLD, PRED))
    assert scores.per_type["ORG"].f1 == pytest.approx(2 / 3 * 2 / 2)  # I-ORG I-ORG counts as ORG


def test_strict_mode_passes_the_scheme() -> None:
    scores = score(GOLD, PRED, "strict")
    assert scores.f1 == pytest.approx(f1_score(GOLD, PRED, mode="strict", scheme=IOB2))
    assert scores.f1 < score(GOLD, PRED, "conlleval").f1  # the I- start is not an entity in strict mode
    assert scores.mode == "strict" and scores.scheme == "IOB2"


def test_perfect_and_empty_predictions() -> None:
    assert score(GOLD, GOLD).f1 == 1.0
    nothing = [["O"] * len(s) for s in GOLD]
    assert score(GOLD, nothing).f1 == 0.0  # no UndefinedMetricWarning (warnings are errors here)


def test_misaligned_input_is_refused() -> None:
    with pytest.raises(ValueError, match="one tag per word"):
        score(GOLD, [p[:-1] for p in PRED])
    with pytest.raises(ValueError, match="unknown matching mode"):
        score(GOLD, PRED, "lenient")
    with pytest.raises(ValueError, match="hold no entity"):
        score([["O", "O"]], [["B-PER", "O"]])


@pytest.mark.parametrize("mode", ["conlleval", "strict"])
def test_entity_counts_reproduce_seqeval(mode: str) -> None:
    counts = entity_counts(GOLD, PRED, mode)
    assert f1_from_counts(counts.sum(axis=0)) == pytest.approx(score(GOLD, PRED, mode).f1)


def test_bootstrap_interval_brackets_the_estimate() -> None:
    rng = np.random.default_rng(1)
    types = ["PER", "LOC"]
    gold, pred = [], []
    for _ in range(200):
        tags = [f"B-{rng.choice(types)}" if rng.random() < 0.3 else "O" for _ in range(6)]
        gold.append(tags)
        pred.append([t if rng.random() < 0.8 else "O" for t in tags])
    low, high = bootstrap_f1(gold, pred, samples=500, seed=3)
    assert low < score(gold, pred).f1 < high
    assert (low, high) == bootstrap_f1(gold, pred, samples=500, seed=3)  # seeded: reproducible


def test_percentiles() -> None:
    assert percentiles([1.0, 2.0, 3.0, 4.0, 5.0]) == {50: 3.0, 90: pytest.approx(4.6), 99: pytest.approx(4.96)}
