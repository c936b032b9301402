"""Calibrated quantizers run in a child process: a crash there is retried once, then reported with the signal;
a quantizer's error names the variant; a failed build leaves nothing in the cache; the batches arrive whole."""

from __future__ import annotations

import os
from pathlib import Path

import numpy
import pytest
from misbehaving_quantizers import always_crashes, crashes_once, fails, is_killed

from nerperf.variants import cache
from nerperf.variants.isolated_build import BuildCrashed, quantize_in_child

BATCHES = [
    {"input_ids": numpy.array([[101, 7, 102]], dtype=numpy.int64), "attention_mask": numpy.ones((1, 3), numpy.int64)},
    {"input_ids": numpy.array([[101, 102, 0]], dtype=numpy.int64), "attention_mask": numpy.array([[1, 1, 0]])},
]


@pytest.fixture(autouse=True)
def importable_quantizers(monkeypatch: pytest.MonkeyPatch) -> None:
    """The child imports the quantizer by module name: from this directory, as pytest imported it."""
    here = str(Path(__file__).parent)
    monkeypatch.setenv("PYTHONPATH", here + os.pathsep + os.environ.get("PYTHONPATH", ""))


def test_a_crash_is_built_again_in_a_fresh_process_with_a_warning(tmp_path: Path) -> None:
    source, directory = tmp_path / "source", tmp_path / "staging"
    source.mkdir()
    directory.mkdir()
    with pytest.warns(RuntimeWarning, match=r"int8 of tiny: .* killed by SIGSEGV; building it once more"):
        details = quantize_in_child(crashes_once, source, directory, BATCHES, "int8 of tiny")
    assert details["found_in_directory"] == []  # the crashed child's half-written file was cleared first
    assert sorted(p.name for p in directory.iterdir()) == ["model.bin"]
    assert details["batches"] == [
        {name: [str(value.dtype), value.tolist()] for name, value in batch.items()} for batch in BATCHES
    ]


def test_a_build_that_crashes_every_time_is_an_error_and_nothing_is_cached(tmp_path: Path) -> None:
    def build(directory: Path) -> dict:
        return quantize_in_child(always_crashes, tmp_path, directory, BATCHES, "openvino-int8 of tiny")

    with (
        pytest.warns(RuntimeWarning, match="once more"),
        pytest.raises(BuildCrashed, match=r"openvino-int8 of tiny: .* killed by SIGSEGV in each of 2 attempts"),
    ):
        cache.get_or_build(tmp_path / "cache", "tiny-openvino-int8", {"key": "1"}, build)
    assert [p.name for p in (tmp_path / "cache").iterdir()] == [p.name for p in (tmp_path / "cache").glob("*.lock")]


def test_a_quantizers_error_names_the_variant_and_quotes_the_error_once_tried(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="onnx-int8-static of tiny: no calibration range for tensor x") as raised:
        quantize_in_child(fails, tmp_path, tmp_path, BATCHES, "onnx-int8-static of tiny")
    assert "the quantizer's own output" in str(raised.value) and "ValueError" in str(raised.value)
    assert not isinstance(raised.value, BuildCrashed)


def test_a_process_killed_otherwise_than_by_a_crash_is_not_built_again(tmp_path: Path) -> None:
    with pytest.raises(BuildCrashed, match=r"int8 of tiny: .* killed by SIGKILL; nothing was cached"):
        quantize_in_child(is_killed, tmp_path, tmp_path, BATCHES, "int8 of tiny")
    assert (tmp_path / "attempts").read_text() == "1"


def test_the_child_imports_the_parents_nerperf_and_an_installed_one_keeps_its_place(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """From a checkout the child is pointed at the checkout's nerperf; an installed nerperf's site-packages
    is not put before the standard library."""
    import site

    import nerperf
    from nerperf.variants import isolated_build

    root = str(Path(nerperf.__file__).resolve().parent.parent)
    monkeypatch.setenv("PYTHONPATH", "elsewhere")
    assert isolated_build._environment()["PYTHONPATH"] == root + os.pathsep + "elsewhere"
    monkeypatch.setattr(site, "getsitepackages", lambda: [root])
    assert isolated_build._environment()["PYTHONPATH"] == "elsewhere"
