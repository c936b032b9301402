"""Loading checkpoints: the three tokenizer families, safe weights, and refusals that say what to do."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from tiny import copy_checkpoint, save_checkpoint

from nerperf.data.hub import HubUnreachable
from nerperf.models.checkpoints import CheckpointError, load_checkpoint


def test_loads_each_family(tiny_checkpoint: Path) -> None:
    checkpoint = load_checkpoint(tiny_checkpoint)
    assert checkpoint.tokenizer.is_fast
    assert checkpoint.max_length == 64  # position embeddings, less RoBERTa's two offset positions
    assert checkpoint.weights == "safetensors"
    assert not checkpoint.model.training
    # byte-level BPE was saved without a prefix space; pre-split words need one
    assert getattr(checkpoint.tokenizer, "add_prefix_space", True) is True
    words = ["Peter", "lives"]
    assert checkpoint.tokenizer(words, is_split_into_words=True)["input_ids"]


def test_pickled_weights_load_with_weights_only(bert_checkpoint: Path, tmp_path: Path) -> None:
    import torch
    from safetensors.torch import load_file

    target = copy_checkpoint(bert_checkpoint, tmp_path / "pickled", skip=("model.safetensors",))
    torch.save(load_file(bert_checkpoint / "model.safetensors"), target / "pytorch_model.bin")
    checkpoint = load_checkpoint(target)
    assert checkpoint.weights == "pickle (weights_only)"
    reference = load_checkpoint(bert_checkpoint).model.classifier.weight
    assert torch.equal(checkpoint.model.classifier.weight, reference)


@pytest.mark.parametrize("with_config_class", [True, False], ids=["auto-config", "model-only"])
def test_remote_code_is_refused(bert_checkpoint: Path, tmp_path: Path, with_config_class: bool) -> None:
    target = copy_checkpoint(bert_checkpoint, tmp_path / "remote")
    (target / "modeling_mine.py").write_text("raise SystemExit('remote code ran')\n")
    config = json.loads((target / "config.json").read_text())
    config["model_type"] = "my-own-ner"
    config["auto_map"] = {"AutoModelForTokenClassification": "modeling_mine.MyModel"}
    if with_config_class:
        config["auto_map"]["AutoConfig"] = "modeling_mine.MyConfig"
    (target / "config.json").write_text(json.dumps(config))
    with pytest.raises(CheckpointError, match="refused: it needs custom code"):
        load_checkpoint(target)


def test_hub_id_fails_fast_when_unreachable(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))  # an empty cache
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    started = time.perf_counter()
    with pytest.raises(
        HubUnreachable, match="no local directory 'dslim/bert-base-NER' either: give --model a checkpoint directory"
    ):
        load_checkpoint("dslim/bert-base-NER")
    assert time.perf_counter() - started < 10


def test_saving_helper_builds_three_families(tmp_path: Path) -> None:
    for family in ("wordpiece", "bpe", "unigram"):
        assert (save_checkpoint(tmp_path / family, family) / "tokenizer.json").is_file()
