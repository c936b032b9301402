"""Properties of the core, for any input hypothesis can make: CoNLL files round-trip, IOB1 and IOB2 name
the same entities, gold scored against itself is perfect, and nerperf's scores are seqeval's.

Examples per property: 40 by default (CI), 1,000 with ``HYPOTHESIS_PROFILE=thorough`` (tests/conftest.py).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from nerperf.data.conll import DOCSTART, DataError, Sentence, format_conll, read_conll
from nerperf.data.metrics import score
from nerperf.data.schemes import iob1_to_iob2

TYPES = st.sampled_from(["PER", "LOC", "ORG", "MISC", "B-X", "DATE-TIME"])  # types may hold hyphens


@st.composite
def entity_spans(draw: st.DrawFn, max_words: int = 12) -> tuple[int, list[tuple[str, int, int]]]:
    """A sentence length and non-overlapping ``(type, start, end)`` entities, ``end`` exclusive."""
    length = draw(st.integers(1, max_words))
    spans, position = [], 0
    while position < length:
        if draw(st.booleans()):
            end = draw(st.integers(position + 1, length))
            spans.append((draw(TYPES), position, end))
            position = end
        else:
            position += 1
    return length, spans


def iob2_tags(length: int, spans: list[tuple[str, int, int]]) -> list[str]:
    tags = ["O"] * length
    for kind, start, end in spans:
        tags[start:end] = [f"B-{kind}"] + [f"I-{kind}"] * (end - start - 1)
    return tags


def iob1_tags(length: int, spans: list[tuple[str, int, int]]) -> list[str]:
    """IOB1: ``I-`` throughout, ``B-`` only where an entity directly follows one of its type."""
    tags = ["O"] * length
    previous_end, previous_kind = -1, ""
    for kind, start, end in spans:
        first = "B" if start == previous_end and kind == previous_kind else "I"
        tags[start:end] = [f"{first}-{kind}"] + [f"I-{kind}"] * (end - start - 1)
        previous_end, previous_kind = end, kind
    return tags


def entities(tags: list[str]) -> set[tuple[str, int, int]]:
    from seqeval.metrics.sequence_labeling import get_entities

    return {(kind, start, end + 1) for kind, start, end in get_entities(tags)}


@given(entity_spans())
def test_iob1_converts_to_iob2_with_the_same_entities(sentence: tuple[int, list[tuple[str, int, int]]]) -> None:
    length, spans = sentence
    converted = iob1_to_iob2(iob1_tags(length, spans))
    assert converted == iob2_tags(length, spans)
    assert entities(converted) == set(spans)
    assert iob1_to_iob2(converted) == converted  # IOB2 is left as it is


# Any Unicode a word may hold in a column file: everything but the separators and NUL (binary files' mark).
WORDS = st.text(st.characters(blacklist_characters=" \t\n\x00", blacklist_categories=("Cs",)), min_size=1, max_size=12)
SENTENCES = st.lists(
    entity_spans(8).flatmap(lambda s: st.tuples(st.lists(WORDS, min_size=s[0], max_size=s[0]), st.just(iob2_tags(*s)))),
    min_size=1,
    max_size=5,
)


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(SENTENCES, st.booleans())
def test_conll_files_round_trip(tmp_path: Path, sentences: list[tuple[list[str], list[str]]], three: bool) -> None:
    assume(all(word != DOCSTART for words, _ in sentences for word in words))
    written = [Sentence(tuple(words), tuple(tags)) for words, tags in sentences]
    predicted = [["O"] * len(s.words) for s in written] if three else None
    path = tmp_path / "round-trip.txt"
    path.write_text(format_conll(written, predicted), encoding="utf-8")
    corpus = read_conll(path, scheme="iob2")
    assert [s.words for s in corpus.sentences] == [s.words for s in written]
    expected = predicted if predicted is not None else [s.tags for s in written]  # the last column is read
    assert [list(s.tags) for s in corpus.sentences] == [list(tags) for tags in expected]


# Words a tab-separated file holds too: empty (a lone space or an empty field, read as empty) and inner spaces.
TAB_WORDS = st.one_of(st.just(""), st.tuples(WORDS, WORDS).map(" ".join))


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.lists(st.one_of(WORDS, TAB_WORDS), min_size=1, max_size=6), min_size=1, max_size=4))
def test_empty_words_and_inner_spaces_round_trip_as_tab_separated(tmp_path: Path, sentences: list[list[str]]) -> None:
    assume(all(word != DOCSTART for words in sentences for word in words))
    written = [Sentence(tuple(words), ("O",) * len(words)) for words in sentences]
    path = tmp_path / "tabbed.txt"
    path.write_text(format_conll(written, [["O"] * len(s.words) for s in written]), encoding="utf-8")
    assert [s.words for s in read_conll(path).sentences] == [s.words for s in written]


@given(st.sampled_from(["tab\there", "new\nline", "nul\x00", " padded", "padded ", DOCSTART]))
def test_words_a_column_cannot_hold_are_refused(word: str) -> None:
    with pytest.raises(DataError, match="cannot be a CoNLL column"):
        format_conll([Sentence(("Peter", word), ("B-PER", "O"))])


TAGS = st.sampled_from(["O", "O", "O", "B-PER", "I-PER", "B-LOC", "I-LOC", "B-ORG", "I-ORG"])
# Gold is well-formed IOB2 (nerperf converts all data to it); predictions are anything, I- after O included.
PAIRS = st.lists(
    entity_spans().flatmap(lambda s: st.tuples(st.just(iob2_tags(*s)), st.lists(TAGS, min_size=s[0], max_size=s[0]))),
    min_size=1,
    max_size=8,
)


@pytest.mark.parametrize("mode", ["conlleval", "strict"])
@given(st.lists(entity_spans(), min_size=1, max_size=6))
def test_gold_against_itself_scores_one(mode: str, sentences: list[tuple[int, list]]) -> None:
    gold = [iob2_tags(length, spans) for length, spans in sentences]
    assume(any(spans for _, spans in sentences))
    scores = score(gold, gold, mode)
    assert (scores.accuracy, scores.precision, scores.recall, scores.f1) == (1.0, 1.0, 1.0, 1.0)
    assert all(t.f1 == 1.0 for t in scores.per_type.values())


@pytest.mark.parametrize("mode", ["conlleval", "strict"])
@given(PAIRS)
def test_scores_are_seqevals(mode: str, pairs: list[tuple[list[str], list[str]]]) -> None:
    """Random predictions, ill-formed ones (``I-`` after ``O``) included, against seqeval called directly."""
    import warnings

    from seqeval.metrics import accuracy_score, classification_report, f1_score, precision_score, recall_score
    from seqeval.scheme import IOB2

    gold, predicted = [g for g, _ in pairs], [p for _, p in pairs]
    assume(any(tag != "O" for tags in gold for tag in tags))  # without gold entities, score() refuses
    options = {"mode": "strict", "scheme": IOB2} if mode == "strict" else {}
    ours = score(gold, predicted, mode)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # seqeval warns when a score is undefined (no entities); it gives 0
        expected = (
            accuracy_score(gold, predicted),
            precision_score(gold, predicted, zero_division=0, **options),
            recall_score(gold, predicted, zero_division=0, **options),
            f1_score(gold, predicted, zero_division=0, **options),
        )
        report = classification_report(gold, predicted, output_dict=True, zero_division=0, **options)
    assert (ours.accuracy, ours.precision, ours.recall, ours.f1) == pytest.approx(expected)
    for kind, row in ours.per_type.items():
        assert (row.precision, row.recall, row.f1, row.support) == pytest.approx(
            (report[kind]["precision"], report[kind]["recall"], report[kind]["f1-score"], report[kind]["support"])
        )


FILLER = st.text(st.sampled_from("abcXYZ0123-_"), min_size=1, max_size=4)  # POS, chunk, index columns


@st.composite
def layouts(draw: st.DrawFn) -> dict:
    """A column layout a user's file may have: separator, column count and positions, comments, encoding,
    tag scheme."""
    columns = draw(st.integers(2, 5))
    word_at, tag_at = draw(st.permutations(range(columns)))[:2]
    return {
        "tab": draw(st.booleans()),
        "columns": columns,
        "word": word_at,
        "tag": tag_at,
        "word_option": draw(st.sampled_from([word_at, word_at - columns])),  # 0-based or from the end
        "tag_option": draw(st.sampled_from([tag_at, tag_at - columns])),
        "comments": draw(st.booleans()),
        "latin1": draw(st.booleans()),
        "scheme": draw(st.sampled_from(["iob1", "iob2", "ioe1", "ioe2", "bioes", "bilou"])),
    }


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(layouts(), st.lists(entity_spans(6), min_size=1, max_size=4), st.data())
def test_any_layout_reads_back_the_same_words_and_entities(
    tmp_path: Path, layout: dict, spans: list[tuple[int, list]], data: st.DataObject
) -> None:
    """Written in any layout, separator, encoding and scheme, with comments anywhere: read back with the
    matching options, the same words and the same IOB2 tags."""
    from tiny import encode

    from nerperf.data.conll import DataFormat

    latin1 = layout["latin1"]
    alphabet = st.characters(
        blacklist_characters="\t\n\r\x00\x85\x1c\x1d\x1e\x1f\x0b\x0c\u2028\u2029",
        blacklist_categories=("Cs", "Zs"),
        max_codepoint=0xFF if latin1 else 0x10FFFF,
    )
    word = st.text(alphabet, min_size=1, max_size=8)
    tab, word_last = layout["tab"], layout["word"] == layout["columns"] - 1
    if tab:  # a tab-separated file keeps inner spaces
        word = st.tuples(word, st.sampled_from(["", " York"])).map("".join)
    if tab and not word_last:  # and has words that are empty or a lone space (an empty last field is a trailing tab)
        word = st.one_of(word, st.sampled_from(["", " ", "  "]))
    lines, expected = [], []
    for length, entity_spans_ in spans:
        words = data.draw(st.lists(word, min_size=length, max_size=length))
        assume(all(w != DOCSTART for w in words))
        tags = encode(length, [(s, e, t) for t, s, e in entity_spans_], layout["scheme"])
        if layout["comments"]:
            lines.append(data.draw(st.sampled_from(["#", "# source", "#\tsource\t[2009]\t"])))
        for w, t in zip(words, tags, strict=True):
            row = [data.draw(FILLER) for _ in range(layout["columns"])]
            row[layout["word"]], row[layout["tag"]] = w, t
            trailing = (
                data.draw(st.sampled_from(["", "", "\t", "\t\t", " "])) if tab else ""
            )  # hand-made TSV's glitches
            lines.append(("\t" if tab else " ").join(row) + trailing)
        lines.append("")
        expected.append((tuple(w.strip(" ") for w in words), tuple(iob2_tags(length, entity_spans_))))
    if layout["comments"]:  # a line starting "# " is a comment: keep the first column from looking like one
        assume(all(not line.startswith("#") or line in {"#", "# source", "#\tsource\t[2009]\t"} for line in lines))
    path = tmp_path / "any.txt"
    path.write_bytes("\n".join(lines).encode("latin-1" if latin1 else "utf-8"))
    data_format = DataFormat(
        word_column=layout["word_option"],
        tag_column=layout["tag_option"],
        comment_prefix="#" if layout["comments"] else None,
        encoding="latin-1" if latin1 else "utf-8",
    )
    corpus = read_conll(path, data_format=data_format)
    assert [(s.words, s.tags) for s in corpus.sentences] == expected
    if any(entity_spans_ for _, entity_spans_ in spans):
        given_scheme = read_conll(path, scheme=layout["scheme"], data_format=data_format)
        assert [(s.words, s.tags) for s in given_scheme.sentences] == expected
