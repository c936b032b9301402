"""Settings: command line over environment over ini over default, and errors that say where."""

from __future__ import annotations

from pathlib import Path

import pytest

from nerperf.settings import OPTIONS, Settings, SettingsError


def test_defaults_are_the_studys() -> None:
    settings = Settings.resolve({}, {}, {})
    assert (settings.sentences, settings.baseline, settings.split) == (1000, "bert-base-ner", "validation")
    assert (settings.f1_tolerance, settings.variant_tolerance) == (5.0, 1.0)
    assert {settings.where(o.name) for o in OPTIONS} == {"default"}


@pytest.mark.parametrize(
    ("command_line", "environment", "ini", "expected", "origin"),
    [
        ({}, {}, {"nerperf_sentences": "5"}, 5, "nerperf_sentences in pyproject.toml"),
        ({}, {"NERPERF_SENTENCES": "7"}, {"nerperf_sentences": "5"}, 7, "NERPERF_SENTENCES"),
        ({"sentences": 9}, {"NERPERF_SENTENCES": "7"}, {"nerperf_sentences": "5"}, 9, "--nerperf-sentences"),
        ({}, {"NERPERF_SENTENCES": "all"}, {}, None, "NERPERF_SENTENCES"),
    ],
    ids=["ini", "environment-over-ini", "command-line-over-all", "all-sentences"],
)
def test_first_source_found_wins(
    command_line: dict, environment: dict, ini: dict, expected: int | None, origin: str
) -> None:
    settings = Settings.resolve(command_line, environment, ini, "pyproject.toml")
    assert settings.sentences == expected
    assert settings.where("sentences") == origin


@pytest.mark.parametrize(
    ("environment", "ini", "message"),
    [
        ({"NERPERF_SENTENCES": "abc"}, {}, "NERPERF_SENTENCES: 'abc' is not a whole number"),
        ({}, {"nerperf_f1_tolerance": "-1"}, "nerperf_f1_tolerance in tox.ini: '-1' is not between 0 and 100"),
        ({"NERPERF_TOLERANCES": "bert-base-ner"}, {}, "NERPERF_TOLERANCES: 'bert-base-ner' is not KEY=POINTS"),
        ({}, {"nerperf_random_weights": "maybe"}, "nerperf_random_weights in tox.ini: 'maybe' is not true or false"),
    ],
    ids=["not-a-number", "negative-tolerance", "tolerance-without-points", "not-a-boolean"],
)
def test_bad_values_name_their_source(environment: dict, ini: dict, message: str) -> None:
    with pytest.raises(SettingsError, match=message.replace("(", r"\(")):
        Settings.resolve({}, environment, ini, "tox.ini")


def test_lists_take_commas_lines_and_repeats(tmp_path: Path) -> None:
    from_ini = Settings.resolve({}, {}, {"nerperf_variants": ["fp32, int8", "onnx"]})
    assert from_ini.variants == ("fp32", "int8", "onnx")
    repeated = Settings.resolve({"tolerances": ["a=1,b-int8=2.5", "c=3"]}, {}, {})
    assert repeated.tolerances == (("a", 1.0), ("b-int8", 2.5), ("c", 3.0))
    assert repeated.tolerance_for("b-int8") == 2.5 and repeated.tolerance_for("d") is None


def test_ini_paths_are_relative_to_the_ini_file(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    ini = {"nerperf_checkpoint_dirs": ["models"], "nerperf_data": "data", "nerperf_report": "out"}
    settings = Settings.resolve({}, {}, ini, "pytest.ini", tmp_path)
    assert settings.checkpoint_dirs == (str(tmp_path / "models"),)
    assert settings.data == str(tmp_path / "data") and settings.report == str(tmp_path / "out")
    hub = Settings.resolve({}, {}, {"nerperf_data": "eriktks/conll2003"}, "pytest.ini", tmp_path)
    assert hub.data == "eriktks/conll2003"  # not a path there: a hub id, kept as given


def test_a_projects_defaults_fill_only_what_nobody_set() -> None:
    settings = Settings.resolve({}, {"NERPERF_SENTENCES": "7"}, {})
    filled = settings.with_defaults("conftest.py", sentences=3, split="test")
    assert (filled.sentences, filled.where("sentences")) == (7, "NERPERF_SENTENCES")
    assert (filled.split, filled.where("split")) == ("test", "conftest.py")
