"""Study architectures with random weights: their facts, FLOPs counting, and results marked as random."""

from __future__ import annotations

import itertools
import json
import shutil
from pathlib import Path

import pytest

from nerperf.cli import main
from nerperf.evaluation import Preparation, evaluate
from nerperf.models.architectures import ARCHITECTURES, get_architecture, matmul_flops, random_checkpoint
from nerperf.models.checkpoints import CheckpointError, load_checkpoint
from nerperf.report.tables import notes, per_type, table5
from nerperf.results import EvalResult

# (name, parameters in millions with 9 labels): a check on the facts, independent of how they are typed in.
PARAMETERS = [
    ("bert-base", 107.7),
    ("distilbert", 66.4),
    ("distilroberta", 81.5),
    ("mbert", 177.3),
]


@pytest.mark.parametrize("name", list(ARCHITECTURES))
def test_each_architecture_builds_its_config(name: str) -> None:
    architecture = ARCHITECTURES[name]
    config = architecture.config()
    assert config.model_type == architecture.model_type
    assert (config.num_hidden_layers, config.hidden_size, config.num_attention_heads) == (
        architecture.layers,
        architecture.hidden,
        architecture.heads,
    )
    assert config.vocab_size == architecture.vocab and config.num_labels == len(architecture.labels)
    assert get_architecture(architecture.hub_id) is architecture


@pytest.mark.parametrize(("name", "millions"), PARAMETERS, ids=[p[0] for p in PARAMETERS])
def test_parameter_counts_match_the_published_sizes(name: str, millions: float) -> None:
    import torch
    from transformers import AutoModelForTokenClassification

    with torch.device("meta"):  # no memory, no time: shapes only
        model = AutoModelForTokenClassification.from_config(ARCHITECTURES[name].config())
    assert sum(p.numel() for p in model.parameters()) / 1e6 == pytest.approx(millions, abs=0.1)


def test_unknown_architecture_gets_a_suggestion() -> None:
    with pytest.raises(CheckpointError, match="no registered architecture 'bert-bsae': did you mean 'bert-base'"):
        get_architecture("bert-bsae")


def test_matmul_flops_by_hand() -> None:
    config = ARCHITECTURES["bert-base"].config()
    h, i, layers = 768, 3072, 12
    per_token = layers * (8 * h * h + 4 * h * i + 4 * 10 * h) + 2 * h * 9
    assert matmul_flops(config, [(2, 10)]) == 2 * 10 * per_token
    assert matmul_flops(config, [(2, 10), (1, 5)]) > matmul_flops(config, [(2, 10)])
    distil = ARCHITECTURES["distilbert"].config()  # names its intermediate size hidden_dim
    assert matmul_flops(distil, [(1, 10)]) == 10 * (6 * (8 * h * h + 4 * h * i + 4 * 10 * h) + 2 * h * 9)


def test_without_its_tokenizer_offline_a_stand_in_is_required() -> None:
    with pytest.raises(CheckpointError, match=r"bert-base: its tokenizer \(dslim/bert-base-NER\) .*--tokenizer"):
        random_checkpoint("bert-base")


def test_random_weights_are_timed_not_scored(bert_checkpoint: Path, conll_file: Path, tmp_path: Path) -> None:
    checkpoint = random_checkpoint(bert_checkpoint)
    assert checkpoint.weights == "random" and checkpoint.tokenizer_source == ""
    result = evaluate(checkpoint, conll_file, preparation=Preparation(cache_dir=tmp_path))
    assert result.weights == "random" and result.scores is None and result.f1 is None and result.f1_ci95 is None
    assert result.speed.samples_per_s > 0 and result.speed.matmul_gflop > 0
    assert "(random weights)" in table5([result])
    assert "random weights" in per_type(result)
    assert any("random weights: timed only, no accuracy figures" in line for line in notes(result))
    assert EvalResult.from_json(result.to_json()) == result


def test_random_weights_are_seeded(bert_checkpoint: Path) -> None:
    import torch

    first, again, other = (random_checkpoint(bert_checkpoint, seed=s) for s in (0, 0, 1))
    torch.testing.assert_close(first.model.classifier.weight, again.model.classifier.weight)
    assert not torch.equal(first.model.classifier.weight, other.model.classifier.weight)
    assert first.fingerprint == again.fingerprint != other.fingerprint


def test_a_stand_in_tokenizer_is_recorded_and_fitted(tiny_checkpoint: Path, tmp_path: Path, conll_file: Path) -> None:
    """A registered architecture whose tokenizer is not cached: inputs it does not take are dropped."""
    checkpoint = random_checkpoint("distilbert", tokenizer=tiny_checkpoint)
    assert checkpoint.tokenizer_source == str(tiny_checkpoint)
    assert "token_type_ids" not in checkpoint.tokenizer.model_input_names  # DistilBERT takes none
    assert checkpoint.model.config.vocab_size == 30522  # the stand-in's ids all fit
    result = evaluate(checkpoint, conll_file, limit=2, preparation=Preparation(cache_dir=tmp_path))
    assert result.tokenizer == str(tiny_checkpoint)
    assert any(f"stand-in tokenizer: {tiny_checkpoint}" in line for line in notes(result))


def test_the_embedding_grows_to_take_a_larger_stand_in_vocabulary(bert_checkpoint: Path, tmp_path: Path) -> None:
    small = Path(shutil.copytree(bert_checkpoint, tmp_path / "small"))
    config = json.loads((small / "config.json").read_text())
    vocabulary = config["vocab_size"]
    config["vocab_size"] = 10
    (small / "config.json").write_text(json.dumps(config))
    assert random_checkpoint(small).model.config.vocab_size == vocabulary
    assert len(load_checkpoint(bert_checkpoint).tokenizer) == vocabulary


def test_cli_random_weights(bert_checkpoint: Path, conll_file: Path, tmp_path: Path, capsys) -> None:
    code = main(
        ["eval", "--model", str(bert_checkpoint), "--data", str(conll_file), "--random-weights"]
        + ["--variant", "onnx", "--cache-dir", str(tmp_path)]
    )
    out = capsys.readouterr().out
    assert code == 0
    assert "(random weights)" in out and "onnx" in out and "no accuracy figures" in out


def test_random_weights_have_no_constant_tensor_as_a_trained_checkpoint_has_none(bert_checkpoint: Path) -> None:
    """Equal tensors are merged by the exporters, and a variant's graph would be one no trained model has."""
    model = random_checkpoint(bert_checkpoint).model
    constant = [n for n, p in model.named_parameters() if p.numel() > 1 and p.min() == p.max()]
    assert constant == []
    norms = [p for n, p in model.named_parameters() if n.endswith("LayerNorm.weight")]
    assert len(norms) > 1 and not any(a.equal(b) for a, b in itertools.pairwise(norms))
