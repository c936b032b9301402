"""The registry of checkpoints: the study's by name, users' own, one name per checkpoint × variant."""

from __future__ import annotations

from pathlib import Path

import pytest

from nerperf.models.architectures import ARCHITECTURES
from nerperf.models.registry import STUDY, RegistryError, build, from_directory, lookup, param_id, parse_entry, slug


def test_the_studys_checkpoints_are_registered_with_their_hub_ids() -> None:
    assert STUDY["bert-base-ner"].source == "dslim/bert-base-NER"
    assert STUDY["xlm-roberta-large-ner"].source == "FacebookAI/xlm-roberta-large-finetuned-conll03-english"
    assert {s.source for s in STUDY.values()} == {a.hub_id for a in ARCHITECTURES.values()}
    assert all(s.architecture in ARCHITECTURES for s in STUDY.values())


def test_param_ids_are_readable_and_unique() -> None:
    ids = [param_id(name, variant) for name in STUDY for variant in ("fp32", "int8", "onnx-int8")]
    assert "bert-base-ner-int8" in ids and len(set(ids)) == len(ids)


@pytest.mark.parametrize(
    ("entry", "name", "source"),
    [
        ("mine=./checkpoints/ner", "mine", "./checkpoints/ner"),
        (" mine = org/Model ", "mine", "org/Model"),
        ("org/My_Model", "my_model", "org/My_Model"),
        ("../shared/models/minilm-l6-conll03", "minilm-l6-conll03", "../shared/models/minilm-l6-conll03"),
    ],
)
def test_entries(entry: str, name: str, source: str) -> None:
    spec = parse_entry(entry, "--nerperf-checkpoints")
    assert (spec.name, spec.source) == (name, source)


@pytest.mark.parametrize("entry", ["Mine=x", "mine=", "=x"])
def test_malformed_entries_say_what_to_write(entry: str) -> None:
    with pytest.raises(RegistryError, match="NAME=SOURCE"):
        parse_entry(entry, "nerperf_checkpoints in pyproject.toml")


def test_directories_register_each_checkpoint_folder(tmp_path: Path) -> None:
    for folder in ("a-model", "b-model", "not-a-model"):
        (tmp_path / folder).mkdir()
    for folder in ("a-model", "b-model"):
        (tmp_path / folder / "config.json").write_text("{}")
    assert [s.name for s in from_directory(tmp_path, "dirs")] == ["a-model", "b-model"]
    with pytest.raises(RegistryError, match="does not exist"):
        from_directory(tmp_path / "missing", "dirs")


def test_a_local_copy_of_a_study_checkpoint_keeps_its_architecture() -> None:
    registry = build([parse_entry("bert-base-ner=/copies/bert", "ini")])
    assert registry["bert-base-ner"].source == "/copies/bert"
    assert registry["bert-base-ner"].architecture == "bert-base"


def test_one_name_for_two_sources_is_refused() -> None:
    with pytest.raises(RegistryError, match="given twice"):
        build([parse_entry("x=/a", "ini"), parse_entry("x=/b", "command line")])


def test_unknown_names_get_a_suggestion() -> None:
    with pytest.raises(RegistryError, match="did you mean 'bert-base-ner'"):
        lookup(STUDY, "bert-bse-ner", "--nerperf-baseline")
    assert lookup(STUDY, "dslim/bert-base-NER", "x").name == "bert-base-ner"
    assert slug("dslim/bert-base-NER") == "bert-base-ner"


def test_the_studys_table5_is_published_with_its_inconsistencies_flagged() -> None:
    from nerperf.models.registry import PUBLISHED, STUDY, Published, published_remarks

    assert STUDY["bert-base-ner"].published == PUBLISHED["bert-base-ner"]
    assert (PUBLISHED["bert-base-ner"].f1, PUBLISHED["bert-base-ner"].total_s) == (0.9598, 126.17)
    assert set(PUBLISHED) == set(STUDY) - {"bert-large-ner"}  # BERT-large is cited, not measured
    assert all("LUT University, 2022" in p.source and "Table 5" in p.source for p in PUBLISHED.values())
    flagged = {name: " | ".join(p.remarks) for name, p in PUBLISHED.items()}
    assert "F1 95.98 lies outside its precision 96.60 and recall 96.36" in flagged["bert-base-ner"]
    assert "F1 92.10 is not the harmonic mean of its precision 90.41 and recall 94.85" in flagged["distilbert-ner"]
    assert "slower than BERT-base" in flagged["distilbert-ner"]
    assert "token accuracy 87.26 is far below F1 97.50" in flagged["xlm-roberta-large-ner"]
    assert flagged["mbert-ner-hrl"] == ""  # its figures agree with each other
    # a consistent row has no remark; a row whose samples/s is not sentences / total time has one
    assert published_remarks(Published(0.99, 0.9, 0.9, 0.9, 100.0, 10.0, 0.1)) == []
    assert published_remarks(Published(0.99, 0.9, 0.9, 0.9, 100.0, 20.0, 0.1)) == [
        "1000 sentences in 100.0 s is not 20.0 samples/s"
    ]
