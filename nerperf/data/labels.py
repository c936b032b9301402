"""A model's labels mapped onto the data's entity types, by name and never by position.

Checkpoints order ``id2label`` as they like (the offline MiniLM checkpoints differ from the hub dataset
on purpose), and some predict types the data lacks (a multilingual model's DATE) or lack types the data
has (MISC). Scoring stays honest: a prediction of a type the data lacks becomes ``O`` and is counted; a
data type the model cannot predict stays in the score as misses. Both are reported, never hidden.

A model's labels may use IOB, IOE, BIOES or BILOU prefixes (:mod:`nerperf.data.schemes`); a label map
(:mod:`nerperf.data.type_map`) renames its types as it renames the data's. :meth:`LabelMap.decode` turns one
sentence's predicted label ids into tags in the data's types: IOB labels word for word, other schemes
read as entities in the model's scheme (leniently in the ``conlleval`` mode, strictly in the ``strict``
mode), renamed, then written as IOB2.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from nerperf.data.schemes import (
    OUTSIDE,
    Scheme,
    TagError,
    lenient_spans,
    scheme_of_prefixes,
    spans_to_iob2,
    split_tag,
    strict_spans,
)
from nerperf.data.type_map import TypeMap
from nerperf.errors import NerperfInputError

_GENERIC_LABEL = re.compile(r"^LABEL_\d+$")
UNALIGNED = -1  # label id of a word that has no sub-token: no prediction, read as O (and counted)


class LabelError(NerperfInputError):
    """A checkpoint's labels cannot be mapped onto the data; the message names the checkpoint."""


@dataclass(frozen=True)
class LabelMap:
    """``tags[i]`` is model label ``i`` with its type renamed into the data's (``O`` for dropped types);
    ``scheme`` is the family of the model's prefixes (iob2, ioe2, bioes or bilou)."""

    checkpoint: str
    model_labels: tuple[str, ...]
    tags: tuple[str, ...]
    dropped_types: frozenset[str]  # the model predicts them, the data has none: predictions -> O
    unpredictable_types: frozenset[str]  # the data has them, the model cannot predict them
    scheme: Scheme = "iob2"
    type_map: TypeMap = field(default_factory=TypeMap)

    @classmethod
    def build(
        cls,
        id2label: Mapping[int, str],
        data_types: Iterable[str],
        checkpoint: str,
        type_map: TypeMap | None = None,
    ) -> LabelMap:
        """Validate ``id2label`` and map it onto ``data_types`` (already renamed); raises :class:`LabelError`."""
        type_map = type_map or TypeMap()
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
        parsed = []
        for label_id, label in enumerate(labels):
            try:
                parsed.append(split_tag(label))
            except TagError:
                raise LabelError(
                    f"checkpoint {checkpoint}: config.json id2label[{label_id}] is {label!r}, not O or "
                    "PREFIX-TYPE; nerperf reads labels with IOB, IOE, BIOES or BILOU prefixes (B-PER, I-PER, "
                    "E-PER, S-PER, ...)"
                ) from None
        scheme = scheme_of_prefixes({prefix for prefix, _ in parsed} - {OUTSIDE})
        if scheme is None:
            raise LabelError(
                f"checkpoint {checkpoint}: its labels mix BILOU's L-/U- prefixes with BIOES's E-/S-, so "
                "nerperf cannot tell how to read its predictions"
            )
        model_types = {type_map.rename(t) for _, t in parsed if t} - {OUTSIDE}
        if not model_types & data_types:
            original = sorted({t for _, t in parsed if t})
            renamed = f" (after the label map: {', '.join(sorted(model_types))})" if type_map else ""
            raise LabelError(
                f"checkpoint {checkpoint}: its entity types ({', '.join(original)}){renamed} share none "
                f"with the data's ({', '.join(sorted(data_types))}); check that model and data match, or "
                "rename types with a label map (--label-map FROM=TO, e.g. person=PER)"
            )
        dropped = frozenset(model_types - data_types)
        tags = tuple(
            OUTSIDE
            if not t or type_map.rename(t) in dropped or type_map.rename(t) == OUTSIDE
            else f"{prefix}-{type_map.rename(t)}"
            for prefix, t in parsed
        )
        return cls(checkpoint, labels, tags, dropped, frozenset(data_types - model_types), scheme, type_map)

    @property
    def model_types(self) -> frozenset[str]:
        """The model's entity types as its config names them, before the label map."""
        return frozenset(split_tag(label)[1] for label in self.model_labels) - {""}

    def decode(self, label_ids: Sequence[int], mode: str = "conlleval") -> list[str]:
        """One sentence's predicted label ids (``UNALIGNED`` for a word without one) as IOB2-scored data tags.

        IOB labels are kept word for word (seqeval reads them in either mode, and the study's token
        accuracy compares them as predicted), with one change: an ``I-`` whose original type differs
        from the word before's but is renamed to the same type starts an entity, since a label map never
        joins entities. Other schemes are read as entities and written as IOB2.
        """
        if self.scheme == "iob2":
            tags = [self.tags[i] if i != UNALIGNED else OUTSIDE for i in label_ids]
            if self.type_map:
                originals = [split_tag(self.model_labels[i])[1] if i != UNALIGNED else "" for i in label_ids]
                for position in range(1, len(tags)):
                    tag, before = tags[position], tags[position - 1]
                    joined = tag.startswith("I-") and before[2:] == tag[2:]
                    if joined and originals[position] != originals[position - 1]:
                        tags[position] = "B-" + tag[2:]
            return tags
        raw = [self.model_labels[i] if i != UNALIGNED else OUTSIDE for i in label_ids]
        spans = lenient_spans(raw) if mode == "conlleval" else strict_spans(raw, self.scheme)
        renamed, _ = self.type_map.apply(spans)
        kept = [span for span in renamed if span[2] not in self.dropped_types]
        return spans_to_iob2(len(raw), kept)

    def to_tags(self, label_ids: Sequence[int]) -> list[str]:
        return self.decode(label_ids)

    def dropped_counts(self, label_ids: Iterable[int]) -> Counter[str]:
        """How many predictions (words), by model type, were turned into ``O`` because the data lacks the
        type or the label map drops it."""
        counts: Counter[str] = Counter()
        for label_id in label_ids:
            if self.tags[label_id] == OUTSIDE and self.model_labels[label_id] != OUTSIDE:
                counts[split_tag(self.model_labels[label_id])[1]] += 1
        return counts
