"""Entity tag schemes: parsing ``B-X``/``I-X``/``O`` tags, telling IOB1 from IOB2, converting to IOB2.

nerperf normalizes all gold data to IOB2 before scoring, so that the same entities are scored whatever
scheme a file was released in. Reading files is :mod:`nerperf.conll`'s job; scoring is
:mod:`nerperf.metrics`'s.

IOB1 (the original CoNLL-2003 release) starts an entity with ``I-`` and uses ``B-`` only where an entity
directly follows one of the same type; IOB2 starts every entity with ``B-``. A tag sequence in which an
entity starts with ``I-`` is therefore IOB1, and converting it to IOB2 changes nothing for a sequence
that is already IOB2.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

Scheme = Literal["iob1", "iob2"]
SCHEMES: tuple[str, ...] = ("auto", "iob1", "iob2")
OUTSIDE = "O"
PREFIXES = ("B", "I")


class TagError(ValueError):
    """A tag that is not ``O``, ``B-TYPE`` or ``I-TYPE``."""


def split_tag(tag: str) -> tuple[str, str]:
    """Split ``"B-PER"`` into ``("B", "PER")``; ``"O"`` gives ``("O", "")``.

    >>> split_tag("I-MISC")
    ('I', 'MISC')
    """
    if tag == OUTSIDE:
        return OUTSIDE, ""
    prefix, sep, entity_type = tag.partition("-")
    if not sep or prefix not in PREFIXES or not entity_type:
        raise TagError(
            f"tag {tag!r} is not O, B-TYPE or I-TYPE (nerperf reads IOB1 and IOB2; "
            "convert IOE/BILOU/BIOES data to IOB2 first)"
        )
    return prefix, entity_type


def starts_with_inside(tags: Sequence[str]) -> list[int]:
    """Positions where an entity starts with ``I-``: legal in IOB1, illegal in IOB2.

    >>> starts_with_inside(["O", "I-PER", "I-PER", "I-LOC", "B-LOC"])
    [1, 3]
    """
    found = []
    previous_type = ""
    for position, tag in enumerate(tags):
        prefix, entity_type = split_tag(tag)
        if prefix == "I" and entity_type != previous_type:
            found.append(position)
        previous_type = entity_type
    return found


def iob1_to_iob2(tags: Sequence[str]) -> list[str]:
    """Rewrite an IOB1 sequence as IOB2: every entity then starts with ``B-``.

    >>> iob1_to_iob2(["I-PER", "I-PER", "O", "I-LOC", "B-LOC"])
    ['B-PER', 'I-PER', 'O', 'B-LOC', 'B-LOC']
    """
    converted = list(tags)
    for position in starts_with_inside(tags):
        converted[position] = "B-" + converted[position][2:]
    return converted


@dataclass(frozen=True)
class Detection:
    """Which scheme a corpus is in, and the evidence."""

    scheme: Scheme
    inside_starts: int  # entities starting with I- (only IOB1 has them)

    def describe(self) -> str:
        if self.scheme == "iob1":
            return f"IOB1 ({self.inside_starts} entities start with I-), converted to IOB2"
        return "IOB2"


def detect_scheme(sequences: Sequence[Sequence[str]]) -> Detection:
    """IOB1 if any entity starts with ``I-``, else IOB2 (the two agree on such data)."""
    inside_starts = sum(len(starts_with_inside(tags)) for tags in sequences)
    return Detection("iob1" if inside_starts else "iob2", inside_starts)
