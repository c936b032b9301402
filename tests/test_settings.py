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
        ({"sentences": "all"}, {"NERPERF_SENTENCES": "7"}, {}, None, "--nerperf-sentences"),
    ],
    ids=["ini", "environment-over-ini", "command-line-over-all", "all-sentences", "all-on-the-command-line"],
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


def test_each_setting_is_declared_once() -> None:
    """The Settings fields are the declaration: every option is a field, with its default and help."""
    import dataclasses

    from nerperf.settings import BY_NAME

    fields = {f.name: f.default for f in dataclasses.fields(Settings) if f.name != "origin"}
    assert {o.name: o.default for o in OPTIONS} == fields
    assert all(o.help.endswith(")") and "(default: " in o.help for o in OPTIONS)
    assert BY_NAME["cache_dir"].env == "NERPERF_CACHE_DIR" and BY_NAME["memory_limit"].env == "NERPERF_MEMORY_LIMIT"
    assert Settings().sentences == BY_NAME["sentences"].default == 1000  # the study's sample, written once


def test_the_command_line_takes_its_options_from_the_declaration(monkeypatch: pytest.MonkeyPatch) -> None:
    from nerperf.cli import build_parser
    from nerperf.settings import from_arguments

    monkeypatch.delenv("NERPERF_SENTENCES", raising=False)
    parser = build_parser()
    arguments = parser.parse_args(["eval", "--model", "m", "--sentences", "all", "--random-weights"])
    chosen = from_arguments(arguments)
    assert chosen.sentences is None and chosen.random_weights is True and chosen.batch_size == 32
    assert from_arguments(parser.parse_args(["eval", "--model", "m", "--limit", "7"])).sentences == 7  # old spelling
    monkeypatch.setenv("NERPERF_SENTENCES", "9")
    assert from_arguments(parser.parse_args(["eval", "--model", "m"])).sentences == 9  # the plugin's variable


def test_settings_travel_to_another_process_as_variables(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "germeval.map").write_text("OTH=O\n")
    ini = {
        "nerperf_data": "data",
        "nerperf_variants": "fp32,int8",
        "nerperf_tolerances": "a=1.5",
        "nerperf_label_map": ["person=PER", "germeval.map"],
        "nerperf_comment_prefix": "#",
        "nerperf_tag_column": "-2",
        "nerperf_max_tokens": "none",
    }
    chosen = Settings.resolve({"random_weights": True}, {"NERPERF_SENTENCES": "all"}, ini, "pytest.ini", tmp_path)
    variables = chosen.to_environment()
    assert variables["NERPERF_DATA"] == str(tmp_path / "data") and "NERPERF_SPLIT" not in variables
    # a label-map file travels as an absolute path, its FROM=TO entries as they are
    assert variables["NERPERF_LABEL_MAP"] == f"person=PER,{tmp_path / 'germeval.map'}"
    assert chosen.tag_column == -2 and chosen.comment_prefix == "#"
    assert chosen.max_tokens is None and variables["NERPERF_MAX_TOKENS"] == "none"  # not the default 1024
    again = Settings.resolve({}, variables, {})
    assert [(n, v) for n, v, _ in again.describe()] == [(n, v) for n, v, _ in chosen.describe()]


def test_the_project_ini_file_is_found_upwards_as_pytest_finds_it(tmp_path: Path) -> None:
    from nerperf.ini_file import project_settings

    (tmp_path / "pyproject.toml").write_text('[tool.pytest.ini_options]\nnerperf_sentences = 5\nother = "x"\n')
    (tmp_path / "sub" / "deeper").mkdir(parents=True)
    found = project_settings(tmp_path / "sub" / "deeper")
    assert (found.sentences, found.where("sentences")) == (5, "nerperf_sentences in pyproject.toml")
    (tmp_path / "sub" / "pytest.ini").write_text("[pytest]\nnerperf_batch_size = 3\n")
    nearer = project_settings(tmp_path / "sub" / "deeper")
    assert (nearer.batch_size, nearer.sentences) == (3, 1000)  # the nearer file wins whole, as in pytest
    (tmp_path / "sub" / "pytest.ini").write_text("[pytest]\nnerperf_batch_size = none\n")
    with pytest.raises(SettingsError, match="nerperf_batch_size in pytest.ini: 'none' is not a whole number"):
        project_settings(tmp_path / "sub")


def test_one_variable_for_the_cache_and_the_old_one_warns(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from nerperf.variants.cache import default_root

    monkeypatch.delenv("NERPERF_CACHE_DIR", raising=False)
    monkeypatch.setenv("NERPERF_CACHE", str(tmp_path / "old"))
    with pytest.warns(DeprecationWarning, match=r"\$NERPERF_CACHE is deprecated: set \$NERPERF_CACHE_DIR"):
        assert default_root() == tmp_path / "old"
    monkeypatch.setenv("NERPERF_CACHE_DIR", str(tmp_path / "new"))
    assert default_root() == tmp_path / "new"


@pytest.mark.parametrize("text", ["3/2", "0/2", "1", "a/b", "1/0"])
def test_a_shard_is_k_of_n(text: str) -> None:
    with pytest.raises(SettingsError, match=f"NERPERF_SHARD: '{text}' is not K/N with 1 <= K <= N"):
        Settings.resolve({}, {"NERPERF_SHARD": text}, {})
    assert Settings.resolve({}, {"NERPERF_SHARD": "2/3"}, {}).shard == (2, 3)
    assert Settings.resolve({}, {"NERPERF_SHARD": "2/3"}, {}).to_environment()["NERPERF_SHARD"] == "2/3"
