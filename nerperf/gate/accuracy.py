"""What the head predicts differently: every changed entity, by sentence and words, and ΔF1 with its interval.

Both sides' predictions of the same sentences are compared sentence by sentence, as entities (seqeval's
``get_entities``, the conlleval reading the floors use). A head entity the base lacks is *retyped* when
the base has one over the same words with another type, *re-bounded* when the base has one overlapping
it but over other words, else *gained*; a base entity left unmatched is *lost*. Each change says
whether the gold data has that entity, so a reviewer sees a fix from a break. ΔF1 (head minus base)
gets a 95% interval from a paired bootstrap over sentences (``scipy.stats.bootstrap``): the same
resampled sentences score both sides.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from nerperf.data.metrics import entity_counts, f1_from_counts, sentence_bootstrap

KINDS = ("gained", "lost", "retyped", "re-bounded")
RESAMPLES = 2000
SEED = 0

Entity = tuple[str, int, int]  # type, first word, last word (inclusive), as seqeval gives them


@dataclass(frozen=True)
class Change:
    sentence: int  # index in the sample
    kind: str  # one of KINDS
    base: dict[str, object] | None  # {"type", "start", "end", "words", "in_gold"}; None when gained
    head: dict[str, object] | None  # likewise; None when lost

    def describe(self) -> str:
        def show(side: dict[str, object] | None) -> str:
            if side is None:
                return "-"
            verdict = "correct" if side["in_gold"] else "wrong"
            return f'{side["type"]} "{side["words"]}" ({verdict})'

        return f"sentence {self.sentence + 1}: {self.kind}: {show(self.base)} -> {show(self.head)}"


@dataclass(frozen=True)
class AccuracyDiff:
    case: str
    sentences: int
    f1_base: float
    f1_head: float
    delta_f1_ci95: tuple[float, float]
    changed_sentences: int
    changed_words: int
    changes: list[Change] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return self.changed_words > 0


def diff(
    case: str,
    words: Sequence[Sequence[str]],
    gold: Sequence[Sequence[str]],
    base: Sequence[Sequence[str]],
    head: Sequence[Sequence[str]],
) -> AccuracyDiff:
    """Compare two sides' predictions of the same sentences (raises ValueError if they are not the same)."""
    from seqeval.metrics.sequence_labeling import get_entities

    if not (len(words) == len(gold) == len(base) == len(head)) or any(
        not (len(w) == len(g) == len(b) == len(h)) for w, g, b, h in zip(words, gold, base, head, strict=True)
    ):
        raise ValueError(f"{case}: the two sides' samples are not the same sentences; were the settings the same?")
    changes: list[Change] = []
    changed_sentences = changed_words = 0
    for index, (sentence, truth, before, after) in enumerate(zip(words, gold, base, head, strict=True)):
        moved = sum(b != a for b, a in zip(before, after, strict=True))
        if not moved:
            continue
        changed_sentences += 1
        changed_words += moved
        gold_entities = set(get_entities(list(truth)))
        changes += _changes(
            index, sentence, set(get_entities(list(before))), set(get_entities(list(after))), gold_entities
        )
    base_counts, head_counts = entity_counts(gold, base), entity_counts(gold, head)
    f1_base = float(f1_from_counts(base_counts.sum(axis=0)))
    f1_head = float(f1_from_counts(head_counts.sum(axis=0)))
    interval = _delta_interval(base_counts, head_counts) if changed_sentences else (0.0, 0.0)
    return AccuracyDiff(case, len(words), f1_base, f1_head, interval, changed_sentences, changed_words, changes)


def _changes(
    index: int, words: Sequence[str], before: set[Entity], after: set[Entity], gold: set[Entity]
) -> list[Change]:
    def side(entity: Entity) -> dict[str, object]:
        kind, start, end = entity
        return {
            "type": kind,
            "start": start,
            "end": end,
            "words": " ".join(words[start : end + 1]),
            "in_gold": entity in gold,
        }

    only_before, only_after = sorted(before - after, key=_position), sorted(after - before, key=_position)
    matched: set[Entity] = set()
    found = []
    for new in only_after:
        same_words = [old for old in only_before if old[1:] == new[1:] and old not in matched]
        overlapping = [old for old in only_before if _overlap(old, new) and old not in matched]
        old = (same_words or overlapping or [None])[0]
        if old is None:
            found.append(Change(index, "gained", None, side(new)))
            continue
        matched.add(old)
        found.append(Change(index, "retyped" if same_words else "re-bounded", side(old), side(new)))
    found += [Change(index, "lost", side(old), None) for old in only_before if old not in matched]
    return sorted(found, key=lambda c: _position(_entity(c.base or c.head)))


def _entity(side: dict[str, object] | None) -> Entity:
    assert side is not None
    return (str(side["type"]), int(side["start"]), int(side["end"]))  # type: ignore[call-overload]


def _position(entity: Entity) -> tuple[int, int, str]:
    return entity[1], entity[2], entity[0]


def _overlap(a: Entity, b: Entity) -> bool:
    return a[1] <= b[2] and b[1] <= a[2]


def _delta_interval(base_counts: np.ndarray, head_counts: np.ndarray) -> tuple[float, float]:
    """95% interval of F1(head) − F1(base), resampling sentences (the same ones for both sides)."""

    def delta(rows: np.ndarray) -> np.ndarray:
        return f1_from_counts(head_counts[rows].sum(axis=-2)) - f1_from_counts(base_counts[rows].sum(axis=-2))

    return sentence_bootstrap(delta, len(base_counts), RESAMPLES, seed=SEED)
