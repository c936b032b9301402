"""A model's labels mapped onto the data's entity types, by name and never by position.

Checkpoints order ``id2label`` as they like (the offline MiniLM checkpoints differ from the hub dataset
on purpose), and some predict types the data lacks (a multilingual model's DATE) or lack types the data
has (MISC). Scoring stays honest: a prediction of a type the data lacks becomes ``O`` and is counted; a
data type the model cannot predict stays in the score as misses. Both are reported, never hidden.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from nerperf.errors import NerperfInputError
from nerperf.schemes import OUTSIDE, TagError, split_tag

_GENERIC_LABEL = re.compile(r"^LABEL_\d+$")


class LabelError(NerperfInputError):
    """A checkpoint's labels cannot be mapped onto the data; the message names the checkpoint."""


@dataclass(frozen=True)
class LabelMap:
    """``tags[i]`` is the data-space IOB2 tag for model label id ``i`` (``O`` for dropped types)."""

    checkpoint: str
    model_labels: tuple[str, ...]
    tags: tuple[str, ...]
    dropped_types: frozenset[str]  # the model predicts them, the data has none: predictions -> O
    unpredictable_types: frozenset[str]  # the data has them, the model cannot predict them

    @classmethod
    def build(cls, id2label: Mapping[int, str], data_types: Iterable[str], checkpoint: str) -> LabelMap:
        """Validate ``id2label`` and map it onto ``data_types``; raises :class:`LabelError`."""
        data_types = frozenset(data_types)
        ids = sorted(int(i) for i in id2label)
        if ids != list(range(len(ids))) or not ids:
            raise LabelError(f"checkpoint {checkpoint}: config.id2label ids must be 0..N-1, found {ids[:10]}")
        labels = tuple(id2label[i] if i in id2label else id2label[str(i)] for i in ids)  # type: ignore[index]
        if all(_GENERIC_LABEL.match(label) for label in labels):
            raise LabelError(
                f"checkpoint {checkpoint}: config.id2label has only generic names ({labels[0]}, ...); "
                "nerperf maps labels by name, so add the real names (O, B-PER, I-PER, ...) to its "
                "config.json id2label"
            )
        model_types = set()
        for label_id, label in enumerate(labels):
            try:
                model_types.add(split_tag(label)[1])
            except TagError:
                raise LabelError(
                    f"checkpoint {checkpoint}: config.json id2label[{label_id}] is {label!r}, not O, B-TYPE or "
                    "I-TYPE; nerperf scores IOB tags, so the model's labels must be IOB1 or IOB2 "
                    "(a model with plain or BIOES labels needs its predictions converted first)"
                ) from None
        model_types.discard("")
        if not model_types & data_types:
            raise LabelError(
                f"checkpoint {checkpoint}: its entity types ({', '.join(sorted(model_types))}) share none "
                f"with the data's ({', '.join(sorted(data_types))}); check that model and data match"
            )
        dropped = frozenset(model_types - data_types)
        tags = tuple(OUTSIDE if split_tag(label)[1] in dropped else label for label in labels)
        return cls(checkpoint, labels, tags, dropped, frozenset(data_types - model_types))

    def to_tags(self, label_ids: Sequence[int]) -> list[str]:
        return [self.tags[i] for i in label_ids]

    def dropped_counts(self, label_ids: Iterable[int]) -> Counter[str]:
        """How many predictions, by model type, were turned into ``O`` because the data lacks the type."""
        counts: Counter[str] = Counter()
        for label_id in label_ids:
            if self.tags[label_id] == OUTSIDE and self.model_labels[label_id] != OUTSIDE:
                counts[split_tag(self.model_labels[label_id])[1]] += 1
        return counts
