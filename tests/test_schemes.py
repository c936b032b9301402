"""Tag schemes: IOB1 -> IOB2 as a table of cases, checked against seqeval's own entity extraction."""

from __future__ import annotations

import pytest
from seqeval.metrics.sequence_labeling import get_entities

from nerperf.schemes import TagError, detect_scheme, iob1_to_iob2, split_tag, starts_with_inside

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


def test_detection_counts_inside_starts() -> None:
    assert detect_scheme([["I-PER", "O"], ["O", "I-LOC", "I-LOC"]]).scheme == "iob1"
    assert detect_scheme([["I-PER", "O"], ["O", "I-LOC", "I-LOC"]]).inside_starts == 2
    assert detect_scheme([["B-PER", "I-PER"], ["O"]]).scheme == "iob2"
    assert starts_with_inside(["B-PER", "I-LOC"]) == [1]


@pytest.mark.parametrize("tag", ["PER", "S-PER", "B-", "b-PER", "E-LOC", "", "B_PER"])
def test_bad_tags_are_named(tag: str) -> None:
    with pytest.raises(TagError, match="is not O, B-TYPE or I-TYPE"):
        split_tag(tag)


def test_types_may_contain_hyphens() -> None:
    assert split_tag("B-DATE-TIME") == ("B", "DATE-TIME")
