"""Entity-level scores from seqeval, a bootstrap interval for F1, and latency percentiles.

Two matching modes, always explicit and recorded with the result:

- ``conlleval`` (the default): seqeval's default mode, which reproduces the CoNLL ``conlleval`` script
  and is what the study, ``evaluate``'s seqeval metric and the offline checkpoints' READMEs report. An
  ``I-X`` that follows ``O`` starts an entity.
- ``strict``: seqeval's strict mode with the IOB2 scheme passed explicitly (without the scheme seqeval
  silently falls back to lenient matching). An entity must start with ``B-X``.

Gold data is IOB2 by then (:mod:`nerperf.data.conll`), so the modes differ only on ill-formed predictions.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

MODES = ("conlleval", "strict")
PERCENTILES = (50, 90, 99)


@dataclass(frozen=True)
class TypeScore:
    precision: float
    recall: float
    f1: float
    support: int


@dataclass(frozen=True)
class Scores:
    """seqeval's figures: token accuracy, micro precision/recall/F1 over entities, and per type."""

    accuracy: float
    precision: float
    recall: float
    f1: float
    per_type: dict[str, TypeScore]
    mode: str
    scheme: str = "IOB2"


def _seqeval_options(mode: str) -> dict[str, Any]:
    if mode == "conlleval":
        return {}
    if mode == "strict":
        from seqeval.scheme import IOB2

        return {"mode": "strict", "scheme": IOB2}
    raise ValueError(f"unknown matching mode {mode!r}; use one of {', '.join(MODES)}")


def score(gold: Sequence[Sequence[str]], predicted: Sequence[Sequence[str]], mode: str = "conlleval") -> Scores:
    """Score IOB2 ``predicted`` tags against ``gold`` tags, sentence by sentence, with seqeval."""
    from seqeval.metrics import accuracy_score, classification_report

    options = _seqeval_options(mode)
    gold, predicted = [list(s) for s in gold], [list(s) for s in predicted]
    if len(gold) != len(predicted) or any(len(g) != len(p) for g, p in zip(gold, predicted, strict=True)):
        raise ValueError("gold and predicted tags must have one tag per word in every sentence")
    if all(tag == "O" for sentence in gold for tag in sentence):
        raise ValueError("the gold tags hold no entity, so precision, recall and F1 are undefined")
    report = classification_report(gold, predicted, output_dict=True, zero_division=0, **options)
    micro = report.pop("micro avg")
    per_type = {
        name: TypeScore(float(row["precision"]), float(row["recall"]), float(row["f1-score"]), int(row["support"]))
        for name, row in sorted(report.items())
        if not name.endswith(" avg")
    }
    return Scores(
        accuracy=float(accuracy_score(gold, predicted)),
        precision=float(micro["precision"]),
        recall=float(micro["recall"]),
        f1=float(micro["f1-score"]),
        per_type=per_type,
        mode=mode,
    )


def entity_counts(
    gold: Sequence[Sequence[str]], predicted: Sequence[Sequence[str]], mode: str = "conlleval"
) -> np.ndarray:
    """Per sentence: (true positives, predicted entities, gold entities), with seqeval's entity rules."""
    if mode == "strict":
        from seqeval.scheme import IOB2, Entities

        def entities(tags: Sequence[str]) -> set[tuple[Any, ...]]:
            return {e.to_tuple()[1:] for e in Entities([list(tags)], IOB2).entities[0]}
    else:
        _seqeval_options(mode)
        from seqeval.metrics.sequence_labeling import get_entities

        def entities(tags: Sequence[str]) -> set[tuple[Any, ...]]:
            return set(get_entities(list(tags)))

    counts = np.zeros((len(gold), 3), dtype=np.int64)
    for row, (g, p) in enumerate(zip(gold, predicted, strict=True)):
        true, pred = entities(g), entities(p)
        counts[row] = (len(true & pred), len(pred), len(true))
    return counts


def f1_from_counts(counts: np.ndarray) -> np.ndarray:
    """Micro F1 from summed (tp, predicted, gold) counts along the last axis; 0 where undefined."""
    tp, predicted, gold = counts[..., 0], counts[..., 1], counts[..., 2]
    total = predicted + gold
    return np.divide(2 * tp, total, out=np.zeros(tp.shape, dtype=float), where=total > 0)


def bootstrap_f1(
    gold: Sequence[Sequence[str]],
    predicted: Sequence[Sequence[str]],
    mode: str = "conlleval",
    samples: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
) -> tuple[float, float]:
    """Percentile bootstrap interval for F1, resampling sentences with replacement."""
    counts = entity_counts(gold, predicted, mode)
    return sentence_bootstrap(
        lambda rows: f1_from_counts(counts[rows].sum(axis=-2)), len(counts), samples, confidence, seed
    )


def sentence_bootstrap(
    statistic: Callable[[np.ndarray], Any], sentences: int, samples: int, confidence: float = 0.95, seed: int = 0
) -> tuple[float, float]:
    """Percentile interval of ``statistic(rows)`` over sentences resampled with replacement, by
    ``scipy.stats.bootstrap``: the one resampler of an F1 (:func:`bootstrap_f1`) and of a paired ΔF1
    (:mod:`nerperf.gate.accuracy`). ``statistic`` takes an array of row indices, any leading axes being
    resamples; NaN, NaN when every resample is degenerate (one sentence, say)."""
    from scipy import stats

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a degenerate resample (every draw alike)
        found = stats.bootstrap(
            (np.arange(sentences),),
            lambda rows, axis=-1: statistic(rows),
            n_resamples=samples,
            vectorized=True,
            method="percentile",
            confidence_level=confidence,
            rng=np.random.default_rng(seed),
        )
    low, high = float(found.confidence_interval.low), float(found.confidence_interval.high)
    return (low, high) if not (math.isnan(low) or math.isnan(high)) else (math.nan, math.nan)


def percentiles(values: Sequence[float], points: Sequence[int] = PERCENTILES) -> dict[int, float]:
    """``{50: p50, 90: p90, 99: p99}`` of ``values`` (linear interpolation, as numpy does)."""
    if not len(values):
        return {p: float("nan") for p in points}
    return {p: float(v) for p, v in zip(points, np.percentile(np.asarray(values, dtype=float), points), strict=True)}
