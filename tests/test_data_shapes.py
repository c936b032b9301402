"""Any NER data a user has: columns, separators, comments, encodings, tag schemes and label maps, read
into the same IOB2 entities; and the SemEval schemes equal to nervaluate called directly."""

from __future__ import annotations

from pathlib import Path

import pytest
from nervaluate import Evaluator

from nerperf.data import semeval
from nerperf.data.conll import DataError, DataFormat, load_corpus, read_conll
from nerperf.data.labels import LabelError, LabelMap
from nerperf.data.schemes import gold_spans, split_tag
from nerperf.data.type_map import TypeMap, TypeMapError
from nerperf.evaluation import Outputs, Timing, evaluate
from nerperf.models.checkpoints import Checkpoint, load_checkpoint

# One sentence, "New York Times reporter Ann Lee visited Paris", in IOB2: what every shape must give.
WORDS = ("New York Times", "reporter", "Ann", "Lee", "visited", "Paris", "#")
IOB2 = ("B-ORG", "O", "B-PER", "I-PER", "O", "B-LOC", "O")


def write(tmp: Path, text: str | bytes, name: str = "data.tsv") -> Path:
    path = tmp / name
    path.write_bytes(text.encode("utf-8") if isinstance(text, str) else text)
    return path


def test_tab_separated_keeps_spaces_inside_a_word_and_hash_words_are_data(tmp_path: Path) -> None:
    text = "".join(f"{w}\t{t}\n" for w, t in zip(WORDS, IOB2, strict=True))
    corpus = read_conll(write(tmp_path, text))
    assert corpus.sentences[0].words == WORDS  # "New York Times" one word; "#" a word, tagged O
    assert corpus.sentences[0].tags == IOB2
    assert corpus.comments == 0


def test_space_separated_splits_on_runs_of_spaces(tmp_path: Path) -> None:
    text = "EU   NNP B-ORG\nrejects  VBZ O\nGerman JJ  B-MISC\n"
    corpus = read_conll(write(tmp_path, text, "data.txt"))
    assert corpus.sentences[0].words == ("EU", "rejects", "German")
    assert corpus.sentences[0].tags == ("B-ORG", "O", "B-MISC")


GERMEVAL = (
    "#\tsource\t[2009-10-23]\t\n"
    "1\tSchartau\tB-PER\tO\n"
    "2\tsagte\tO\tO\n"
    "3\tdem\tO\tO\n"
    "4\tBerliner\tB-ORGpart\tB-LOCderiv\n"
    "5\tTagesspiegel\tI-ORGpart\tO\n"
    "6\t#\tO\tO\n"
    "\n"
    "#\tsource\t[2009-10-24]\t\n"
    "1\tKöln\tB-LOC\tO\n"
    "2\tund\tO\tO\n"
    "3\tOTHer\tB-OTH\tO\n"
)


def test_index_column_comments_and_nested_tags(tmp_path: Path) -> None:
    path = write(tmp_path, GERMEVAL)
    with pytest.raises(DataError, match=r"data\.tsv:1: tag '\[2009-10-23\]' is not O.*set --comment-prefix"):
        read_conll(path)  # without the comment option the comment is read as a token (its trailing tab dropped)
    outer = read_conll(path, data_format=DataFormat(word_column=1, tag_column=2, comment_prefix="#"))
    assert outer.comments == 2
    assert [s.words for s in outer.sentences] == [
        ("Schartau", "sagte", "dem", "Berliner", "Tagesspiegel", "#"),  # "6 # O O" is a token, not a comment
        ("Köln", "und", "OTHer"),
    ]
    assert outer.sentences[0].tags == ("B-PER", "O", "O", "B-ORGpart", "I-ORGpart", "O")
    assert outer.sentences[1].line == 10
    inner = read_conll(path, data_format=DataFormat(word_column=1, tag_column=-1, comment_prefix="#"))
    assert inner.sentences[0].tags == ("O", "O", "O", "B-LOCderiv", "O", "O")
    # the user's map: -part and -deriv to MISC, OTH dropped (counted), as a file
    mapping = write(tmp_path, "# GermEval to CoNLL\nORGpart=MISC\nLOCderiv=MISC\nOTH=O\n", "map.txt")
    mapped = read_conll(
        path,
        data_format=DataFormat(word_column=1, tag_column=2, comment_prefix="#", type_map=TypeMap.parse([str(mapping)])),
    )
    assert mapped.sentences[0].tags[3:5] == ("B-MISC", "I-MISC")
    assert mapped.sentences[1].tags == ("B-LOC", "O", "O")
    assert mapped.dropped_gold == {"OTH": 1}
    assert mapped.original_types == {"PER", "ORGpart", "LOC", "OTH"}
    assert mapped.entity_types == {"PER", "MISC", "LOC"}


def test_comment_prefix_needs_whitespace_or_the_line_end(tmp_path: Path) -> None:
    text = "# a comment\n#\n#hashtag\tO\nParis\tB-LOC\n"
    corpus = read_conll(write(tmp_path, text), data_format=DataFormat(comment_prefix="#"))
    assert corpus.comments == 2
    assert corpus.sentences[0].words == ("#hashtag", "Paris")


def test_column_out_of_range_names_file_line_and_count(tmp_path: Path) -> None:
    path = write(tmp_path, "1\tParis\tB-LOC\n")
    with pytest.raises(DataError, match=r"data\.tsv:1: the tag column 3 is out of range: the line has 3 columns"):
        read_conll(path, data_format=DataFormat(tag_column=3))
    with pytest.raises(DataError, match="the word column -4 is out of range"):
        read_conll(path, data_format=DataFormat(word_column=-4))
    with pytest.raises(DataError, match="are the same column"):
        read_conll(path, data_format=DataFormat(word_column=2, tag_column=-1))


def test_latin1_with_its_encoding(tmp_path: Path) -> None:
    path = write(tmp_path, "São B-LOC\nPaulo I-LOC\n".encode("latin-1"), "esp.testa")
    with pytest.raises(DataError, match=r"esp\.testa:1: not valid UTF-8.*--encoding"):
        read_conll(path)
    corpus = read_conll(path, data_format=DataFormat(encoding="latin-1"))
    assert corpus.sentences[0].words == ("São", "Paulo")
    with pytest.raises(DataError, match="unknown encoding 'latin-9000'"):
        DataFormat(encoding="latin-9000")


SCHEME_FILES = {
    "iob1": ("I-ORG", "O", "I-PER", "I-PER", "O", "I-LOC", "O"),
    "ioe1": ("I-ORG", "O", "I-PER", "I-PER", "O", "I-LOC", "O"),
    "ioe2": ("E-ORG", "O", "I-PER", "E-PER", "O", "E-LOC", "O"),
    "bioes": ("S-ORG", "O", "B-PER", "E-PER", "O", "S-LOC", "O"),
    "bilou": ("U-ORG", "O", "B-PER", "L-PER", "O", "U-LOC", "O"),
}


@pytest.mark.parametrize("scheme", SCHEME_FILES)
def test_each_scheme_file_gives_the_iob2_entities(tmp_path: Path, scheme: str) -> None:
    text = "".join(f"{w}\t{t}\n" for w, t in zip(WORDS, SCHEME_FILES[scheme], strict=True))
    path = write(tmp_path, text)
    given = read_conll(path, scheme=scheme)
    assert given.sentences[0].tags == IOB2
    assert given.scheme.given and scheme.upper() in given.scheme.describe()
    assert read_conll(path).sentences[0].tags == IOB2  # detected (IOE1/IOB1 read the same here)


def test_a_tag_of_another_scheme_names_its_line(tmp_path: Path) -> None:
    path = write(tmp_path, "Ann\tB-PER\nLee\tE-PER\n\nParis\tU-LOC\n")
    with pytest.raises(DataError, match=r"mix BILOU's L-/U- prefixes with BIOES's E-/S-"):
        read_conll(path)
    with pytest.raises(DataError, match=r"data\.tsv:4: tag 'U-LOC' has prefix U-, which BIOES does not use"):
        read_conll(path, scheme="bioes")


def test_label_map_renames_merges_drops_and_never_joins_entities(tmp_path: Path) -> None:
    text = "Acme\tB-corporation\nBand\tI-group\nmet\tO\nAnn\tB-person\nin\tO\nRome\tB-location\n!\tB-emoji\n"
    type_map = TypeMap.parse(["person=PER,location=LOC", "corporation=ORG", "group=ORG", "emoji=O"])
    corpus = read_conll(write(tmp_path, text), data_format=DataFormat(type_map=type_map))
    # B-corporation I-group: the type changes, so two entities (IOB1 reading); renamed, still two
    assert corpus.sentences[0].tags == ("B-ORG", "B-ORG", "O", "B-PER", "O", "B-LOC", "O")
    assert corpus.dropped_gold == {"emoji": 1}
    assert type_map.unused({"person"}, {"PER"}) == ["location", "corporation", "group", "emoji"]


def test_label_map_entries_and_files_are_checked(tmp_path: Path) -> None:
    with pytest.raises(TypeMapError, match="is not FROM=TO"):
        TypeMap.parse(["person=PER=X"])
    with pytest.raises(TypeMapError, match="person is mapped to both PER"):
        TypeMap.parse(["person=PER", "person=LOC"])
    bad = write(tmp_path, "person=PER\nnonsense\n", "map.txt")
    with pytest.raises(TypeMapError, match=r"neither FROM=TO nor an existing file|map\.txt:2: 'nonsense'"):
        TypeMap.parse([str(bad)])


def test_label_map_applies_to_hub_class_labels(tmp_path: Path) -> None:
    import datasets

    names = ["O", "B-person", "I-person", "B-location", "I-location"]
    features = datasets.Features(
        {
            "tokens": datasets.Sequence(datasets.Value("string")),
            "ner_tags": datasets.Sequence(datasets.ClassLabel(names=names)),
        }
    )
    table = datasets.Dataset.from_dict(
        {"tokens": [["Ann", "Lee", "in", "Rome"]], "ner_tags": [[1, 2, 0, 3]]}, features=features
    )
    (tmp_path / "data").mkdir()
    table.to_parquet(str(tmp_path / "data" / "test-00000-of-00001.parquet"))
    corpus = load_corpus(tmp_path, "test", data_format=DataFormat(type_map=TypeMap.parse(["person=PER,location=LOC"])))
    assert corpus.sentences[0].tags == ("B-PER", "I-PER", "O", "B-LOC")


def test_model_labels_in_bioes_and_renamed_types() -> None:
    id2label = {0: "O", 1: "S-PERSON", 2: "B-PERSON", 3: "I-PERSON", 4: "E-PERSON", 5: "S-GPE"}
    labels = LabelMap.build(id2label, {"PER", "LOC"}, "bioes-model", TypeMap.parse(["PERSON=PER"]))
    assert labels.scheme == "bioes" and labels.dropped_types == {"GPE"}
    assert labels.decode([2, 4, 0, 1, 5]) == ["B-PER", "I-PER", "O", "B-PER", "O"]
    # an unfinished entity: read as conlleval does, dropped in the strict mode
    assert labels.decode([2, 0]) == ["B-PER", "O"]
    assert labels.decode([2, 0], mode="strict") == ["O", "O"]


def test_semeval_figures_equal_nervaluate_called_directly() -> None:
    gold = [["B-PER", "I-PER", "O", "B-LOC", "O", "B-ORG", "I-ORG", "O", "B-MISC"], ["B-LOC", "O"]]
    predicted = [["B-PER", "I-PER", "O", "B-ORG", "O", "B-ORG", "O", "B-LOC", "O"], ["B-LOC", "B-PER"]]
    ours = semeval.score(gold, predicted)
    direct = Evaluator(gold, predicted, tags=["LOC", "MISC", "ORG", "PER"], loader="list").evaluate()
    for name, theirs in semeval.NERVALUATE_NAMES.items():
        result = direct["overall"][theirs]
        assert (ours.schemes[name].precision, ours.schemes[name].recall, ours.schemes[name].f1) == (
            result.precision,
            result.recall,
            result.f1,
        )
        for entity_type, per in direct["entities"].items():
            assert ours.schemes[name].per_type[entity_type].f1 == per[theirs].f1
    # the worked example of docs/data.md: one of each kind, plus a second sentence's right LOC and stray PER
    assert ours.errors.correct == 2 and ours.errors.incorrect == 1 and ours.errors.partial == 1
    assert ours.errors.missed == 1 and ours.errors.spurious == 2
    assert ours.errors.gold == sum(len(gold_spans(g, "iob2")) for g in gold)
    assert ours.errors.predicted == sum(len(gold_spans(p, "iob2")) for p in predicted)
    assert ours.errors.partial == direct["overall"]["partial"].partial


@pytest.fixture(scope="module")
def minilm_l3(shared: Path) -> Checkpoint:
    return load_checkpoint(shared / "models/minilm-l3-conll03")


def _bioes(tags: list[str]) -> list[str]:
    out = list(tags)
    for i, tag in enumerate(tags):
        prefix, entity_type = split_tag(tag)
        if prefix == "O":
            continue
        ends = i + 1 == len(tags) or tags[i + 1] != "I-" + entity_type
        out[i] = ("S-" if ends else "B-") + entity_type if prefix == "B" else ("E-" if ends else "I-") + entity_type
    return out


def test_bioes_and_reordered_copies_of_valid_give_the_iob2_figures(
    shared: Path, minilm_l3: Checkpoint, tmp_path: Path
) -> None:
    """A BIOES copy of valid.txt, and a copy with the tag first and the word third, written here from the
    IOB2 file: the same sentences and tags, and the same figures, seqeval's and nervaluate's."""
    valid = shared / "data/conll2003/valid.txt"
    bioes, reordered = [], []
    for line in valid.read_text(encoding="utf-8").splitlines():
        fields = line.split()
        bioes.append(line)
        if not fields:
            reordered.append(line)
            continue
        reordered.append(f"{fields[-1]} {fields[1]} {fields[0]} {fields[2]}")
    # rewrite the tags sentence by sentence as BIOES
    sentences, current = [], []
    for index, line in enumerate(bioes):
        if line.split() and not line.startswith("-DOCSTART-"):
            current.append(index)
        elif current:
            sentences.append(current)
            current = []
    if current:
        sentences.append(current)
    for rows in sentences:
        tags = _bioes([bioes[i].split()[-1] for i in rows])
        for i, tag in zip(rows, tags, strict=True):
            bioes[i] = " ".join([*bioes[i].split()[:-1], tag])
    (tmp_path / "bioes.txt").write_text("\n".join(bioes) + "\n", encoding="utf-8")
    (tmp_path / "reordered.txt").write_text("\n".join(reordered) + "\n", encoding="utf-8")

    original = read_conll(valid)
    as_bioes = read_conll(tmp_path / "bioes.txt")
    as_reordered = read_conll(tmp_path / "reordered.txt", data_format=DataFormat(word_column=2, tag_column=0))
    assert as_bioes.scheme.scheme == "bioes"
    assert any(t.startswith("S-") for line in bioes for t in line.split()[-1:])
    for corpus in (as_bioes, as_reordered):
        assert [(s.words, s.tags) for s in corpus.sentences] == [(s.words, s.tags) for s in original.sentences]

    kept: list[list[str]] = []
    figures = [
        evaluate(
            minilm_l3,
            corpus,
            limit=150,
            timing=Timing(warmup=False),
            outputs=Outputs(on_predictions=lambda _, tags: kept.extend(tags)),
        )
        for corpus in (original, as_bioes, as_reordered)
    ]
    assert figures[0].f1 > 0.7
    # the schemes are nervaluate's own figures on the same predictions
    gold = [list(s.tags) for s in original.sentences[:150]]
    direct = Evaluator(gold, kept[:150], tags=["LOC", "MISC", "ORG", "PER"], loader="list").evaluate()
    assert figures[0].schemes is not None
    for name, theirs in semeval.NERVALUATE_NAMES.items():
        assert figures[0].schemes[name].f1 == direct["overall"][theirs].f1
    for other in figures[1:]:
        assert other.scores == figures[0].scores
        assert other.schemes == figures[0].schemes and other.errors == figures[0].errors


def test_evaluate_records_the_data_format_and_the_map(shared: Path, minilm_l3: Checkpoint, tmp_path: Path) -> None:
    """The WNUT-style case: a data type named `person`, mapped to the model's PER; the map is recorded."""
    text = "".join(f"{w}\t{t.replace('PER', 'person')}\n" for w, t in zip(WORDS, IOB2, strict=True))
    path = write(tmp_path, text)
    with pytest.raises(LabelError, match=r"share none with the data's \(person\).*--label-map FROM=TO"):
        evaluate(minilm_l3, read_conll(path, data_format=DataFormat(type_map=TypeMap.parse(["ORG=O", "LOC=O"]))))
    data_format = DataFormat(type_map=TypeMap.parse(["person=PER", "OTH=MISC"]))
    result = evaluate(minilm_l3, path, data_format=data_format, timing=Timing(warmup=False))
    assert result.data_format == {"label_map": {"person": "PER", "OTH": "MISC"}}
    assert result.coverage.unused_label_map == ("OTH",)
    assert result.scores is not None and set(result.scores.per_type) >= {"PER"}
    assert result.errors is not None and result.errors.gold == 3


def test_the_docs_worked_example() -> None:
    """Ann Lee / Paris / New York Times / German / Reuters: one entity of each kind (docs/data.md, "Scoring
    schemes and error kinds")."""
    gold = [["B-PER", "I-PER", "O", "B-LOC", "O", "B-ORG", "I-ORG", "I-ORG", "O", "B-MISC", "O", "O"]]
    predicted = [["B-PER", "I-PER", "O", "B-ORG", "O", "B-ORG", "O", "O", "O", "O", "O", "B-LOC"]]
    found = semeval.score(gold, predicted)
    kinds = found.errors
    assert (kinds.correct, kinds.incorrect, kinds.partial, kinds.missed, kinds.spurious) == (1, 1, 1, 1, 1)
    assert {name: found.schemes[name].f1 for name in semeval.SCHEMES} == {
        "strict": 0.25,
        "exact": 0.5,
        "partial": 0.625,
        "type": 0.5,
    }


@pytest.mark.parametrize(("label", "read_as"), [("S-PERSON", "B-PER"), ("U-PERSON", "B-PER"), ("E-PERSON", "B-PER")])
def test_a_model_with_bioes_or_bilou_labels_end_to_end(tmp_path: Path, label: str, read_as: str) -> None:
    """A checkpoint whose labels are BIOES (or BILOU) with its own type names, always predicting ``label``:
    every word is a one-word entity of the renamed type, scored as seqeval scores that IOB2."""
    from seqeval.metrics import f1_score
    from tiny import SENTENCES, save_always_predicting, write_conll

    prefixes = "BIES" if label[0] in "SE" else "BILU"
    names = ("O", *(f"{p}-{t}" for t in ("PERSON", "LOC") for p in prefixes))
    model = save_always_predicting(tmp_path / "model", label, names)
    data = write_conll(tmp_path / "data.txt", SENTENCES)
    result = evaluate(
        model, data, data_format=DataFormat(type_map=TypeMap.parse(["PERSON=PER"])), timing=Timing(warmup=False)
    )
    gold = [[t for _, t in s] for s in SENTENCES]
    assert result.f1 == pytest.approx(f1_score(gold, [[read_as] * len(s) for s in gold]))
    assert result.f1 > 0 and result.coverage.unused_label_map == ()
    one_word_people = sum(1 for s in gold for a, b, t in gold_spans(s, "iob2") if t == "PER" and b - a == 1)
    assert result.errors is not None and result.errors.correct == one_word_people
