"""Entity tag schemes: IOB1, IOB2, IOE1, IOE2, BIOES (IOBES) and BILOU read as entity spans, written as IOB2.

nerperf scores IOB2 (:mod:`nerperf.data.metrics`), so gold data of any scheme and the predictions of a model
whose labels use another scheme are read here as spans ``(start, end, type)`` and written back as IOB2.
Reading files is :mod:`nerperf.data.conll`'s job; renaming types, :mod:`nerperf.data.type_map`'s.

How each scheme is read, and why:

- **IOB1, IOB2**: as ``conlleval`` and seqeval's default mode read them (seqeval's ``get_entities``): an
  ``I-X`` that does not continue an ``X`` starts one. IOB1 needs that; the original CoNLL-2003 release
  also has ``B-`` after ``O``, which conlleval reads as a start, so nerperf does too. ``iob2`` given
  explicitly refuses an entity that starts with ``I-`` (the data is then IOB1).
- **IOE2, BIOES, BILOU**: seqeval's strict mode with that scheme (``seqeval.scheme.Entities``), and gold
  data must be well formed: a tag that no entity covers (``B-PER`` then ``O`` in BIOES) is an error
  naming its position. Predictions are read leniently in the ``conlleval`` mode (``L``/``U`` read as
  ``E``/``S``) and strictly (ill-formed entities dropped, as seqeval does) in the ``strict`` mode.
- **IOE1**: IOB1 mirrored (reversed, ``E`` for ``B``), since seqeval's IOE1 misses some entities.

Detection (``auto``) uses the prefixes present: ``L``/``U`` BILOU; ``S``, or ``E`` with ``B``, BIOES;
``E`` without ``B`` IOE2, or IOE1 if an entity ends without ``E-``; ``B``/``I`` only IOB2, or IOB1 if an
entity starts with ``I-``. Where two schemes fit, they read the same entities. ``L``/``U`` with ``E``/``S``
is ambiguous and refused.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

Scheme = Literal["iob1", "iob2", "ioe1", "ioe2", "bioes", "bilou"]
READ_SCHEMES: tuple[Scheme, ...] = ("iob1", "iob2", "ioe1", "ioe2", "bioes", "bilou")
SCHEMES: tuple[str, ...] = ("auto", *READ_SCHEMES)
ALIASES = {"iobes": "bioes"}
OUTSIDE = "O"
PREFIXES = "BIESLU"
ALLOWED: dict[str, str] = {
    "iob1": "BI",
    "iob2": "BI",
    "ioe1": "IE",
    "ioe2": "IE",
    "bioes": "BIES",
    "bilou": "BILU",
}
Span = tuple[int, int, str]  # start, end (exclusive), entity type


class TagError(ValueError):
    """A tag that is not ``O`` or ``PREFIX-TYPE``."""


class SchemeError(TagError):
    """A tag the scheme does not allow where it stands; ``position`` is its index in the sentence."""

    def __init__(self, message: str, position: int) -> None:
        super().__init__(message)
        self.position = position


def canonical_scheme(name: str) -> str:
    """``iobes`` -> ``bioes``; a name nerperf does not read raises :class:`TagError`."""
    name = ALIASES.get(name.strip().lower(), name.strip().lower())
    if name not in SCHEMES:
        raise TagError(f"unknown tag scheme {name!r}; use one of {', '.join(SCHEMES)} (iobes means bioes)")
    return name


def split_tag(tag: str) -> tuple[str, str]:
    """Split ``"B-PER"`` into ``("B", "PER")``; ``"O"`` gives ``("O", "")``.

    >>> split_tag("I-MISC"), split_tag("S-DATE-TIME")
    (('I', 'MISC'), ('S', 'DATE-TIME'))
    """
    if tag == OUTSIDE:
        return OUTSIDE, ""
    prefix, sep, entity_type = tag.partition("-")
    if not sep or len(prefix) != 1 or prefix not in PREFIXES or not entity_type:
        raise TagError(
            f"tag {tag!r} is not O or PREFIX-TYPE with a prefix B, I, E, S, L or U "
            "(nerperf reads IOB1, IOB2, IOE1, IOE2, BIOES and BILOU)"
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
    return spans_to_iob2(len(tags), lenient_spans(tags))


def spans_to_iob2(length: int, spans: Iterable[Span]) -> list[str]:
    """IOB2 tags for ``length`` words holding ``spans``.

    >>> spans_to_iob2(4, [(0, 2, "PER"), (2, 3, "PER")])
    ['B-PER', 'I-PER', 'B-PER', 'O']
    """
    tags = [OUTSIDE] * length
    for start, end, entity_type in spans:
        tags[start] = "B-" + entity_type
        for position in range(start + 1, end):
            tags[position] = "I-" + entity_type
    return tags


def lenient_spans(tags: Sequence[str]) -> list[Span]:
    """Entities as conlleval (seqeval's default mode) reads them; BILOU's ``L``/``U`` read as ``E``/``S``.

    >>> lenient_spans(["O", "I-PER", "E-PER", "U-LOC"])
    [(1, 3, 'PER'), (3, 4, 'LOC')]
    """
    from seqeval.metrics.sequence_labeling import get_entities

    renamed = [_BILOU_AS_BIOES.get(tag[:2], tag[:2]) + tag[2:] if tag != OUTSIDE else tag for tag in tags]
    return [(start, end + 1, entity_type) for entity_type, start, end in get_entities(renamed)]


_BILOU_AS_BIOES = {"L-": "E-", "U-": "S-"}


def strict_spans(tags: Sequence[str], scheme: Scheme) -> list[Span]:
    """Entities seqeval's strict mode reads with ``scheme``; ill-formed ones are dropped, as seqeval does."""
    if scheme == "ioe1":
        return _ioe1_spans(tags)
    from seqeval.scheme import Entities

    entities = Entities([list(tags)], _seqeval_scheme(scheme)).entities[0]
    return [(e.start, e.end, e.tag) for e in entities]


def gold_spans(tags: Sequence[str], scheme: Scheme) -> list[Span]:
    """The entities of gold ``tags`` in ``scheme``; a tag that breaks the scheme raises :class:`SchemeError`."""
    for position, tag in enumerate(tags):
        prefix = split_tag(tag)[0]
        if prefix != OUTSIDE and prefix not in ALLOWED[scheme]:
            raise SchemeError(
                f"tag {tag!r} has prefix {prefix}-, which {scheme.upper()} does not use "
                f"(it uses {', '.join(ALLOWED[scheme])} and O)",
                position,
            )
    if scheme in ("iob1", "iob2"):
        if scheme == "iob2":
            inside = starts_with_inside(tags)
            if inside:
                raise SchemeError(
                    f"{tags[inside[0]]} starts an entity, which IOB2 does not allow; "
                    "the data looks IOB1: pass scheme 'iob1' or 'auto'",
                    inside[0],
                )
        return lenient_spans(tags)
    spans = strict_spans(tags, scheme)
    covered = {position for start, end, _ in spans for position in range(start, end)}
    for position, tag in enumerate(tags):
        if tag != OUTSIDE and position not in covered:
            raise SchemeError(
                f"tag {tag!r} is not a well-formed {scheme.upper()} entity here "
                f"(context: {' '.join(tags[max(0, position - 2) : position + 3])}); check the tags or the "
                "scheme (auto-detect, or pass the data's scheme)",
                position,
            )
    return spans


def _ioe1_spans(tags: Sequence[str]) -> list[Span]:
    """IOE1 read as IOB1 backwards: reverse, ``E-`` as ``B-``, read, and map the spans back."""
    reversed_tags = ["B-" + t[2:] if t.startswith("E-") else t for t in reversed(tags)]
    n = len(tags)
    return sorted((n - end, n - start, entity_type) for start, end, entity_type in lenient_spans(reversed_tags))


def _seqeval_scheme(scheme: str) -> type:
    from seqeval import scheme as seqeval_schemes

    return {
        "iob1": seqeval_schemes.IOB1,
        "iob2": seqeval_schemes.IOB2,
        "ioe2": seqeval_schemes.IOE2,
        "bioes": seqeval_schemes.IOBES,
        "bilou": seqeval_schemes.BILOU,
    }[scheme]


def scheme_of_prefixes(prefixes: set[str]) -> Scheme | None:
    """The scheme family a set of prefixes belongs to: iob2, ioe2, bioes or bilou (None: ambiguous).

    IOB1/IOB2 and IOE1/IOE2 share prefixes; telling them apart needs the sequences (:func:`detect_scheme`).
    """
    if prefixes & {"L", "U"}:
        return None if prefixes & {"E", "S"} else "bilou"
    if "S" in prefixes or {"B", "E"} <= prefixes:
        return "bioes"
    if "E" in prefixes:
        return "ioe2"
    return "iob2"


@dataclass(frozen=True)
class Detection:
    """Which scheme a corpus is in, and the evidence."""

    scheme: Scheme
    inside_starts: int = 0  # IOB: entities starting with I- (only IOB1 has them)
    given: bool = False  # named by the user rather than detected
    open_ends: int = 0  # IOE: entities ending without E- (only IOE1 has them)

    def describe(self) -> str:
        """E.g. ``IOB2``, ``IOB1 (3 entities start with I-), converted to IOB2``, ``BIOES (given), converted ...``."""
        evidence = []
        if self.given:
            evidence.append("given")
        if self.scheme == "iob1" and self.inside_starts:
            evidence.append(f"{self.inside_starts} entities start with I-")
        if self.scheme == "ioe1" and self.open_ends:
            evidence.append(f"{self.open_ends} entities end without E-")
        name = self.scheme.upper() + (f" ({'; '.join(evidence)})" if evidence else "")
        return name if self.scheme == "iob2" else f"{name}, converted to IOB2"


def detect_scheme(sequences: Sequence[Sequence[str]]) -> Detection:
    """The scheme of ``sequences`` from the prefixes they use (see the module's docstring)."""
    prefixes = {split_tag(tag)[0] for tags in sequences for tag in tags} - {OUTSIDE}
    family = scheme_of_prefixes(prefixes)
    if family is None:
        raise TagError("the tags mix BILOU's L-/U- prefixes with BIOES's E-/S-; name the data's scheme (--tag-scheme)")
    if family == "iob2":
        inside_starts = sum(len(starts_with_inside(tags)) for tags in sequences)
        return Detection("iob1" if inside_starts else "iob2", inside_starts)
    if family == "ioe2":
        open_ends = sum(
            1 for tags in sequences for start, end, _ in lenient_spans(tags) if not tags[end - 1].startswith("E-")
        )
        return Detection("ioe1" if open_ends else "ioe2", open_ends=open_ends)
    return Detection(family)
