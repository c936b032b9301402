"""Public NER files as they come: a trailing tab on one line, a word that is a lone space or empty, and
an evaluation that says how many of the file's sentences it scored."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from seqeval.metrics import f1_score
from tiny import SENTENCES

from nerperf.cli import main
from nerperf.data.conll import DataError, DataFormat, read_conll
from nerperf.evaluation import Outputs, Timing, evaluate
from nerperf.report.tables import notes


def tab_file(path: Path, sentences: list[list[tuple[str, str]]], trailing_at: int | None = None) -> Path:
    """``IDX WORD OUTER INNER`` lines, tab-separated (GermEval's shape); ``trailing_at``: the token line
    (0-based, over the whole file) that ends with a tab."""
    lines, token = [], 0
    for sentence in sentences:
        for index, (word, tag) in enumerate(sentence, start=1):
            lines.append(f"{index}\t{word}\t{tag}\tO" + ("\t" if token == trailing_at else ""))
            token += 1
        lines.append("")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_a_trailing_tab_in_the_middle_reads_as_the_file_without_it(tmp_path: Path, bert_checkpoint: Path) -> None:
    clean = tab_file(tmp_path / "clean.tsv", SENTENCES)
    glitch = tab_file(tmp_path / "glitch.tsv", SENTENCES, trailing_at=9)
    assert glitch.read_text().splitlines()[10].endswith("\tO\t")  # the 10th token line, in the second sentence
    outer = DataFormat(word_column=1, tag_column=2)
    corpus, reference = read_conll(glitch, data_format=outer), read_conll(clean, data_format=outer)
    assert corpus.trailing_separators == 1 and reference.trailing_separators == 0
    assert [(s.words, s.tags) for s in corpus.sentences] == [(s.words, s.tags) for s in reference.sentences]
    with_glitch = evaluate(bert_checkpoint, corpus, timing=Timing(warmup=False))
    without = evaluate(bert_checkpoint, reference, timing=Timing(warmup=False))
    assert with_glitch.f1 == without.f1 and with_glitch.scores == without.scores
    assert with_glitch.coverage.trailing_separators == 1 and without.coverage.trailing_separators == 0
    assert "1 token lines ended in empty fields (a trailing tab), read as absent fields" in notes(with_glitch)


def test_a_line_whose_inner_field_is_missing_is_still_refused(tmp_path: Path) -> None:
    path = tab_file(tmp_path / "x.tsv", SENTENCES[:1])
    lines = path.read_text().splitlines()
    lines[2] = "3\tlives\tO\t\t"  # INNER empty, then a trailing tab: the line has 3 of 4 fields once it is dropped
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(DataError, match=r"x\.tsv:3: the tag column \(-1\) is empty"):
        read_conll(path)


# A tweet-like WORD<TAB>TAG file: a lone-space word inside an entity, an empty word in an entity-free stretch.
BLANKS = (
    "Peter\tB-PER\n \tI-PER\nBlackburn\tI-PER\nlives\tO\n\tO\nin\tO\nBrussels\tB-LOC\n.\tO\n\nEU\tB-ORG\nrejects\tO\n"
)
BLANK_AT = {(0, 1), (0, 4)}  # (sentence, word)


def test_blank_words_are_words_scored_as_a_reference_without_their_sub_tokens_would(
    tmp_path: Path, bert_checkpoint: Path
) -> None:
    """A blank word yields no sub-token, so the model sees the sentence as if it were not there: the
    reference is the file without the blank words, with O predicted in their places, scored by seqeval."""
    path = tmp_path / "blanks.tsv"
    path.write_text(BLANKS, encoding="utf-8")
    corpus = read_conll(path)
    assert corpus.sentences[0].words[1] == "" and corpus.sentences[0].words[4] == ""
    assert corpus.sentences[0].tags[:3] == ("B-PER", "I-PER", "I-PER")  # the gold entity is not moved
    kept: list[list[str]] = []
    result = evaluate(
        bert_checkpoint,
        corpus,
        timing=Timing(warmup=False),
        outputs=Outputs(on_predictions=lambda _, tags: kept.extend(tags)),
    )
    assert result.coverage.blank_words == 2 and result.coverage.unaligned_words >= 2
    assert all(kept[s][w] == "O" for s, w in BLANK_AT)

    without = tmp_path / "without.tsv"
    without.write_text(BLANKS.replace(" \tI-PER\n", "").replace("\n\tO\n", "\n"), encoding="utf-8")
    reference_tags: list[list[str]] = []
    evaluate(
        bert_checkpoint,
        read_conll(without),
        timing=Timing(warmup=False),
        outputs=Outputs(on_predictions=lambda _, t: reference_tags.extend(t)),
    )
    for sentence, word in sorted(BLANK_AT):
        reference_tags[sentence].insert(word, "O")
    gold = [list(s.tags) for s in corpus.sentences]
    assert kept == reference_tags
    assert result.f1 == pytest.approx(f1_score(gold, reference_tags))
    assert any("empty or only whitespace in the data" in line for line in notes(result))


def test_predictions_of_a_file_with_blank_words_are_written_tab_separated(
    tmp_path: Path, bert_checkpoint: Path
) -> None:
    path = tmp_path / "blanks.tsv"
    path.write_text(BLANKS, encoding="utf-8")
    written = tmp_path / "predictions.txt"
    evaluate(bert_checkpoint, path, timing=Timing(warmup=False), outputs=Outputs(predictions_to=written))
    back = read_conll(written)
    assert back.sentences[0].words == read_conll(path).sentences[0].words


def test_eval_scores_the_whole_file_and_says_n_of_m(
    bert_checkpoint: Path, conll_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    total = len(SENTENCES)
    assert (
        main(["eval", "--model", str(bert_checkpoint), "--data", str(conll_file), "--json", str(tmp_path / "a")]) == 0
    )
    assert f", {total} of {total} sentences, " in capsys.readouterr().out
    assert main(["eval", "--model", str(bert_checkpoint), "--data", str(conll_file), "--sentences", "2"]) == 0
    assert f", 2 of {total} sentences (the first; --sentences N or all sets how many), " in capsys.readouterr().out
    recorded = json.loads((tmp_path / "a").read_text())
    assert recorded["sentences"] == recorded["sentences_in_data"] == total
    with pytest.raises(SystemExit):
        main(["eval", "--help"])
    assert "(default: all: the whole file or split" in " ".join(capsys.readouterr().out.split())
