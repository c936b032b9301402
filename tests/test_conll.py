"""Reading CoNLL files and hub-style datasets; every malformed input names its file and line."""

from __future__ import annotations

from pathlib import Path

import pytest
from tiny import SENTENCES, write_conll

from nerperf.data.conll import DataError, load_corpus, read_conll


def write(tmp_path: Path, text: str | bytes, name: str = "data.txt") -> Path:
    path = tmp_path / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    return path


@pytest.mark.parametrize("columns", [2, 3, 4])
def test_reads_word_first_and_tag_last(tmp_path: Path, columns: int) -> None:
    corpus = read_conll(write_conll(tmp_path / "x.txt", SENTENCES, columns=columns))
    assert [s.words for s in corpus.sentences] == [tuple(w for w, _ in s) for s in SENTENCES]
    assert [s.tags for s in corpus.sentences] == [tuple(t for _, t in s) for s in SENTENCES]
    assert corpus.docstarts == 1
    assert corpus.entity_types == {"PER", "LOC", "ORG", "MISC"}


LAYOUTS = {
    "docstart-4col": "-DOCSTART- -X- -X- O\n\nEU B-ORG\nrejects O\n\nPeter B-PER\n",
    "docstart-release": "-DOCSTART- -X- O O\n\nEU B-ORG\nrejects O\n\nPeter B-PER\n",
    "docstart-bare-no-blank": "-DOCSTART-\nEU B-ORG\nrejects O\n\nPeter B-PER\n",
    "docstart-mid-sentence-ends-it": "EU B-ORG\nrejects O\n-DOCSTART- -X- -X- O\nPeter B-PER",
    "repeated-and-trailing-blanks": "\n\nEU B-ORG\nrejects O\n\n\n\nPeter B-PER\n\n\n",
    "crlf": "EU B-ORG\r\nrejects O\r\n\r\nPeter B-PER\r\n",
    "tabs": "EU\tB-ORG\nrejects\tO\n\nPeter\tB-PER\n",
    "bom": "\ufeffEU B-ORG\nrejects O\n\nPeter B-PER\n",
    "whitespace-only-separator": "EU B-ORG\nrejects O\n \t \nPeter B-PER\n",
}


@pytest.mark.parametrize("text", LAYOUTS.values(), ids=LAYOUTS.keys())
def test_layouts_give_the_same_sentences(tmp_path: Path, text: str) -> None:
    corpus = read_conll(write(tmp_path, text))
    assert [s.words for s in corpus.sentences] == [("EU", "rejects"), ("Peter",)]
    assert [s.tags for s in corpus.sentences] == [("B-ORG", "O"), ("B-PER",)]


def test_unicode_words_and_line_numbers(tmp_path: Path) -> None:
    corpus = read_conll(write(tmp_path, "\nSão B-LOC\nPaulo I-LOC\n\n東京 B-LOC\n"))
    assert corpus.sentences[0].words == ("São", "Paulo")
    assert [s.line for s in corpus.sentences] == [2, 5]


BAD_FILES = {
    "one-column": ("EU B-ORG\nrejects\n", ":2: expected at least 2 columns"),
    "column-count-changes": ("EU NNP B-ORG\nrejects O\n", ":2: 2 columns where the file's first token line has 3"),
    "unknown-tag-prefix": ("EU B-ORG\nrejects X-ORG\n", ":2: tag 'X-ORG' is not O or PREFIX-TYPE"),
    "mixed-schemes": ("EU B-ORG\nrejects S-ORG\n", ":1: tag 'B-ORG' is not a well-formed BIOES entity"),
    "empty": ("", "no sentences found"),
    "only-docstart": ("-DOCSTART- -X- -X- O\n\n", "no sentences found"),
}


@pytest.mark.parametrize(("text", "message"), BAD_FILES.values(), ids=BAD_FILES.keys())
def test_malformed_files_name_file_and_line(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(DataError, match=str(path).replace(".", r"\.") + ".*") as error:
        read_conll(path)
    assert message in str(error.value)


def test_binary_and_non_utf8_files(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"bin\.txt:2: NUL byte: this is not a text file"):
        read_conll(write(tmp_path, b"EU B-ORG\n\x00\x01\x02", "bin.txt"))
    with pytest.raises(DataError, match=r"latin\.txt:3: not valid UTF-8"):
        read_conll(write(tmp_path, "EU B-ORG\n\nS\xe3o B-LOC\n".encode("latin-1"), "latin.txt"))


def test_missing_file_and_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(DataError, match="no such file or directory"):
        load_corpus(tmp_path / "nope.txt")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(DataError, match="valid.txt: no such file"):  # a bare file name is not a hub id
        load_corpus("valid.txt")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="a directory needs CoNLL files named train.txt"):
        load_corpus(tmp_path / "empty", "validation")
    with pytest.raises(DataError, match="is a directory"):
        read_conll(tmp_path)


def test_scheme_detection_and_override(tmp_path: Path) -> None:
    iob1 = write(tmp_path, "EU I-ORG\nrejects O\nGerman I-MISC\nBritish B-MISC\n")
    corpus = read_conll(iob1)
    assert corpus.sentences[0].tags == ("B-ORG", "O", "B-MISC", "B-MISC")
    assert corpus.scheme.scheme == "iob1" and corpus.scheme.inside_starts == 2
    assert read_conll(iob1, scheme="iob1").sentences == corpus.sentences
    with pytest.raises(DataError, match=r"data\.txt:1: I-ORG starts an entity, which IOB2 does not allow"):
        read_conll(iob1, scheme="iob2")
    with pytest.raises(DataError, match="unknown tag scheme 'bio'"):
        read_conll(iob1, scheme="bio")


def test_head_keeps_the_first_sentences(conll_file: Path) -> None:
    corpus = read_conll(conll_file)
    assert corpus.head(2).sentences == corpus.sentences[:2]
    assert corpus.head(None) is corpus
    assert corpus.head(1000).sentences == corpus.sentences
    with pytest.raises(DataError, match="positive"):
        corpus.head(0)


def test_directory_and_split_names(tmp_path: Path) -> None:
    write_conll(tmp_path / "valid.txt", SENTENCES[:2])
    write_conll(tmp_path / "eng.testb", SENTENCES[2:])
    assert len(load_corpus(tmp_path, "validation").sentences) == 2
    assert len(load_corpus(tmp_path, "dev").sentences) == 2
    assert load_corpus(tmp_path, "test").split == "test"
    assert len(load_corpus(tmp_path, "test").sentences) == 3


def test_hub_dataset_path_maps_class_labels_by_name(tmp_path: Path) -> None:
    """The same datasets.load_dataset call as for a hub id, on a local parquet dataset with ClassLabel
    tags in the hub copy's order and its -DOCSTART- rows."""
    import datasets

    names = ["O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC", "B-MISC", "I-MISC"]
    features = datasets.Features(
        {
            "tokens": datasets.Sequence(datasets.Value("string")),
            "ner_tags": datasets.Sequence(datasets.ClassLabel(names=names)),
        }
    )
    rows = [(["-DOCSTART-"], ["O"])] + [([w for w, _ in s], [t for _, t in s]) for s in SENTENCES]
    table = datasets.Dataset.from_dict(
        {"tokens": [r[0] for r in rows], "ner_tags": [[names.index(t) for t in r[1]] for r in rows]},
        features=features,
    )
    (tmp_path / "data").mkdir()
    table.to_parquet(str(tmp_path / "data" / "validation-00000-of-00001.parquet"))
    corpus = load_corpus(tmp_path, "validation")
    assert corpus.docstarts == 1
    assert [s.tags for s in corpus.sentences] == [tuple(t for _, t in s) for s in SENTENCES]
    same = read_conll(write_conll(tmp_path / "same.txt", SENTENCES))
    assert [(s.words, s.tags) for s in corpus.sentences] == [(s.words, s.tags) for s in same.sentences]


def test_unreachable_hub_dataset_fails_fast(monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    from nerperf.data.hub import HubUnreachable

    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")  # discard port: connection refused at once
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    started = time.perf_counter()
    with pytest.raises(HubUnreachable, match="Point --data at a CoNLL file"):
        load_corpus("someone/conll2003-copy", "validation")
    assert time.perf_counter() - started < 10  # not the ~45 s of retries


def test_real_iob1_release_equals_iob2_split(shared: Path) -> None:
    """eng.testb (IOB1, original release) converts to exactly the sentences of test.txt (IOB2)."""
    iob2 = read_conll(shared / "data/conll2003/test.txt")
    iob1 = read_conll(shared / "data/conll2003/original_iob1/eng.testb")
    assert iob1.scheme.scheme == "iob1" and iob2.scheme.scheme == "iob2"
    assert [(s.words, s.tags) for s in iob1.sentences] == [(s.words, s.tags) for s in iob2.sentences]
    # SOURCE.md's counts
    assert len(iob2.sentences) == 3453
    assert sum(len(s.words) for s in iob2.sentences) == 46435
    assert sum(t.startswith("B-") for s in iob2.sentences for t in s.tags) == 5648
