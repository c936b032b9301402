"""Library messages about what nerperf already handles stay off the terminal; real warnings do not."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from nerperf.evaluation import Timing, evaluate
from nerperf.models.checkpoints import load_checkpoint
from nerperf.models.quiet import no_loading_bar, without_root_warning


def test_loading_a_checkpoint_draws_no_progress_bar_and_restores_the_setting(
    bert_checkpoint: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    from transformers.utils import logging as hf_logging

    assert hf_logging.is_progress_bar_enabled()
    load_checkpoint(bert_checkpoint)
    assert "Loading weights" not in capfd.readouterr().err
    assert hf_logging.is_progress_bar_enabled()  # the user's setting, back as it was
    with no_loading_bar():
        assert not hf_logging.is_progress_bar_enabled()


def test_a_windowed_sentence_brings_no_length_warning(
    shared: Path, tmp_path: Path, capfd: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    long = "".join(f"word{i} O\n" for i in range(600)) + "Paris B-LOC\n"  # past the model's 512 tokens
    (tmp_path / "long.txt").write_text(long)
    result = evaluate(shared / "models/minilm-l3-conll03", tmp_path / "long.txt", timing=Timing(warmup=False))
    assert result.coverage.windowed_sentences == 1  # handled, and counted
    said = capfd.readouterr().err + caplog.text
    assert "sequence length is longer than the specified maximum" not in said


def test_only_the_named_root_warning_is_dropped(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING), without_root_warning("Please consider to run pre-processing"):
        logging.warning("Please consider to run pre-processing before quantization. Refer to example: ...")
        logging.warning("the model has no weights")
    assert [r.getMessage() for r in caplog.records] == ["the model has no weights"]
    logging.warning("Please consider to run pre-processing before quantization.")  # after: not dropped
    assert len(caplog.records) == 2
