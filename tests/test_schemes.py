"""Tag schemes: every scheme read as the entities seqeval's strict mode reads for it, detected where the
prefixes decide, and ill-formed gold tags refused with their position."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from seqeval.metrics.sequence_labeling import get_entities
from seqeval.scheme import BILOU, IOB1, IOB2, IOBES, IOE1, IOE2, Entities
from tiny import encode

from nerperf.data.schemes import (
    READ_SCHEMES,
    SchemeError,
    TagError,
    canonical_scheme,
    detect_scheme,
    gold_spans,
    iob1_to_iob2,
    lenient_spans,
    spans_to_iob2,
    split_tag,
    starts_with_inside,
)

SEQEVAL = {"iob1": IOB1, "iob2": IOB2, "ioe1": IOE1, "ioe2": IOE2, "bioes": IOBES, "bilou": BILOU}


@st.composite
def flat_spans(draw: st.DrawFn) -> tuple[int, list[tuple[int, int, str]]]:
    """A sentence length and non-overlapping entities in it, adjacent ones of the same type included."""
    spans, position = [], draw(st.integers(0, 2))
    for _ in range(draw(st.integers(0, 5))):
        size = draw(st.integers(1, 4))
        spans.append((position, position + size, draw(st.sampled_from(["PER", "LOC", "DATE-TIME"]))))
        position += size + draw(st.integers(0, 2))
    return position + draw(st.integers(0, 2)), spans


def seqeval_strict(tags: list[str], scheme: str) -> list[tuple[int, int, str]]:
    return [(e.start, e.end, e.tag) for e in Entities([tags], SEQEVAL[scheme]).entities[0]]


@pytest.mark.parametrize("scheme", READ_SCHEMES)
@given(flat_spans())
def test_each_scheme_reads_the_entities_seqeval_strict_reads(scheme: str, sentence: tuple) -> None:
    length, spans = sentence
    tags = encode(length, spans, scheme)
    assert gold_spans(tags, scheme) == spans
    if scheme != "ioe1":  # seqeval's IOE1 misses some entities (its own TODO): see the next test
        assert seqeval_strict(tags, scheme) == spans
    assert spans_to_iob2(length, gold_spans(tags, scheme)) == encode(length, spans, "iob2")
    if spans:  # detection picks a scheme that reads the same entities
        assert gold_spans(tags, detect_scheme([tags]).scheme) == spans


IOE1_CASES = {
    "run-then-end-before-same-type": (["I-PER", "E-PER", "I-PER", "O"], [(0, 2, "PER"), (2, 3, "PER")]),
    "type-change-ends": (["I-PER", "I-LOC", "O"], [(0, 1, "PER"), (1, 2, "LOC")]),
    "plain-run": (["O", "I-LOC", "I-LOC"], [(1, 3, "LOC")]),
}


@pytest.mark.parametrize(("tags", "spans"), IOE1_CASES.values(), ids=IOE1_CASES.keys())
def test_ioe1_agrees_with_seqeval_where_seqeval_reads_it(tags: list[str], spans: list) -> None:
    assert gold_spans(tags, "ioe1") == spans == seqeval_strict(tags, "ioe1")


def test_ioe1_single_token_entity_before_same_type_seqeval_misses() -> None:
    tags = ["O", "E-PER", "I-PER", "O"]  # "Ann" then "Bob Smith": E- marks the end before a same-type entity
    assert gold_spans(tags, "ioe1") == [(1, 2, "PER"), (2, 3, "PER")]
    assert seqeval_strict(tags, "ioe1") == [(2, 3, "PER")]  # seqeval's IOE1 drops the first


CONVERSIONS = {
    "already-iob2": (["B-PER", "I-PER", "O", "B-LOC"], ["B-PER", "I-PER", "O", "B-LOC"]),
    "i-start": (["I-PER", "I-PER", "O"], ["B-PER", "I-PER", "O"]),
    "adjacent-same-type": (["I-LOC", "B-LOC", "I-LOC"], ["B-LOC", "B-LOC", "I-LOC"]),
    "type-change": (["I-ORG", "I-LOC"], ["B-ORG", "B-LOC"]),
    "after-o": (["O", "I-MISC", "O", "I-MISC"], ["O", "B-MISC", "O", "B-MISC"]),
    "b-after-o-kept": (["O", "B-MISC", "I-MISC"], ["O", "B-MISC", "I-MISC"]),  # the eng.train quirk
    "all-outside": (["O", "O"], ["O", "O"]),
    "empty": ([], []),
}


@pytest.mark.parametrize(("iob1", "iob2"), CONVERSIONS.values(), ids=CONVERSIONS.keys())
def test_iob1_to_iob2(iob1: list[str], iob2: list[str]) -> None:
    assert iob1_to_iob2(iob1) == iob2
    # seqeval's conlleval-style reading finds the same entities before and after conversion
    assert get_entities(iob1) == get_entities(iob2)
    assert iob1_to_iob2(iob2) == iob2  # idempotent: IOB2 input is left alone


DETECTIONS = {
    "iob2": ([["B-PER", "I-PER"], ["O", "B-LOC"]], "iob2"),
    "iob1": ([["I-PER", "O"], ["O", "I-LOC", "I-LOC"]], "iob1"),
    "ioe2": ([["I-PER", "E-PER"], ["E-LOC"]], "ioe2"),
    "ioe1": ([["I-PER", "I-PER", "O"], ["E-LOC", "I-LOC"]], "ioe1"),
    "bioes": ([["B-PER", "E-PER", "O"]], "bioes"),
    "bioes-singles-only": ([["S-PER", "O", "S-LOC"]], "bioes"),
    "bilou": ([["B-PER", "L-PER"], ["U-LOC"]], "bilou"),
}


@pytest.mark.parametrize(("sequences", "scheme"), DETECTIONS.values(), ids=DETECTIONS.keys())
def test_detection(sequences: list[list[str]], scheme: str) -> None:
    assert detect_scheme(sequences).scheme == scheme


def test_detection_counts_its_evidence() -> None:
    assert detect_scheme([["I-PER", "O"], ["O", "I-LOC", "I-LOC"]]).inside_starts == 2
    assert detect_scheme([["I-PER", "I-PER", "O"], ["E-LOC", "I-LOC"]]).open_ends == 2
    assert "2 entities start with I-" in detect_scheme([["I-PER", "O"], ["O", "I-LOC"]]).describe()
    assert starts_with_inside(["B-PER", "I-LOC"]) == [1]


def test_bilou_and_bioes_prefixes_together_are_refused() -> None:
    with pytest.raises(TagError, match="mix BILOU's L-/U- prefixes with BIOES's E-/S-"):
        detect_scheme([["B-PER", "L-PER"], ["S-LOC"]])


ILL_FORMED = {
    "bioes-begin-never-ends": (["O", "B-PER", "O"], "bioes", 1, "not a well-formed BIOES entity"),
    "bioes-inside-alone": (["O", "I-PER"], "bioes", 1, "not a well-formed BIOES entity"),
    "bilou-prefix-of-bioes": (["S-PER"], "bilou", 0, "has prefix S-, which BILOU does not use"),
    "ioe2-run-without-end": (["I-PER", "I-PER", "O"], "ioe2", 0, "not a well-formed IOE2 entity"),
    "iob2-inside-start": (["O", "I-PER"], "iob2", 1, "the data looks IOB1"),
    "iob-with-end-prefix": (["B-PER", "E-PER"], "iob2", 1, "has prefix E-, which IOB2 does not use"),
}


@pytest.mark.parametrize(("tags", "scheme", "position", "message"), ILL_FORMED.values(), ids=ILL_FORMED.keys())
def test_ill_formed_gold_names_the_position(tags: list[str], scheme: str, position: int, message: str) -> None:
    with pytest.raises(SchemeError, match=message) as error:
        gold_spans(tags, scheme)
    assert error.value.position == position


def test_predictions_are_read_leniently_as_conlleval_does() -> None:
    # an unfinished BIOES entity still counts in the conlleval mode; BILOU's L/U read as E/S
    assert lenient_spans(["B-PER", "O", "U-LOC", "B-ORG", "L-ORG"]) == [(0, 1, "PER"), (2, 3, "LOC"), (3, 5, "ORG")]


@pytest.mark.parametrize("tag", ["PER", "B-", "b-PER", "X-LOC", "", "B_PER", "BI-PER"])
def test_bad_tags_are_named(tag: str) -> None:
    with pytest.raises(TagError, match="is not O or PREFIX-TYPE"):
        split_tag(tag)


def test_types_may_contain_hyphens() -> None:
    assert split_tag("B-DATE-TIME") == ("B", "DATE-TIME")
    assert split_tag("E-DATE-TIME") == ("E", "DATE-TIME")


def test_scheme_names() -> None:
    assert canonical_scheme("IOBES") == "bioes"
    with pytest.raises(TagError, match="unknown tag scheme 'bio'"):
        canonical_scheme("bio")
