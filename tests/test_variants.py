"""Variants: each builds and predicts on a tiny model; onnx agrees with fp32; the cache is reused or rebuilt."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import onnx as onnx_format
import pytest
import torch
from tiny import SENTENCES

from nerperf import variants
from nerperf.evaluation import Preparation, evaluate
from nerperf.models.alignment import encode
from nerperf.models.checkpoints import Checkpoint, load_checkpoint
from nerperf.models.runner import UNALIGNED, pad, predict
from nerperf.variants import VARIANTS, Context, VariantError, VariantUnavailable, cache, onnx_variants

WORDS = [[word for word, _ in sentence] for sentence in SENTENCES]


def context(root: Path) -> Context:
    return Context(root, threads=1)


@pytest.mark.parametrize(
    "name", [n for n, v in VARIANTS.items() if not v.calibrated]
)  # those: test_calibrated_variants
def test_every_variant_builds_and_predicts_every_word(name: str, bert_checkpoint: Path, tmp_path: Path) -> None:
    checkpoint = load_checkpoint(bert_checkpoint)
    prepared = VARIANTS[name].prepare(checkpoint, context(tmp_path))  # bypasses availability: bf16 runs anyway
    run = predict(checkpoint, WORDS, batch_size=2, forward=prepared.forward)
    labels = checkpoint.id2label
    assert [len(row) for row in run.label_ids] == [len(words) for words in WORDS]
    assert all(i in labels for row in run.label_ids for i in row if i != UNALIGNED)
    assert prepared.size_bytes > 0
    assert prepared.variant == name


def test_onnx_logits_and_predictions_match_fp32(tiny_checkpoint: Path, tmp_path: Path) -> None:
    checkpoint = load_checkpoint(tiny_checkpoint)
    onnx = VARIANTS["onnx"].prepare(checkpoint, context(tmp_path))
    _assert_logits_match_fp32(checkpoint, onnx.forward)
    fp32 = predict(checkpoint, WORDS, batch_size=3)
    assert predict(checkpoint, WORDS, batch_size=3, forward=onnx.forward).label_ids == fp32.label_ids
    assert not checkpoint.model.training  # exporting left the torch model in eval mode (dropout off)
    assert onnx.details["fusions"]  # onnxruntime's optimizer fused something on the eager export
    # Every layer norm is in the form onnxruntime runs fastest (nerperf.variants.onnx_layer_norms): two a layer,
    # and the embeddings' where the optimizer left it apart (RoBERTa's).
    assert onnx.details["layer_norms_rewritten"] >= 2 * checkpoint.model.config.num_hidden_layers
    (entry,) = [p for p in tmp_path.iterdir() if p.is_dir()]
    graph = onnx_format.load(str(entry / onnx_variants.MODEL_FILE)).graph
    assert not {n.op_type for n in graph.node} & {"LayerNormalization", "SkipLayerNormalization"}


def _assert_logits_match_fp32(checkpoint: Checkpoint, forward: Callable[[dict], torch.Tensor]) -> None:
    encoded = encode(checkpoint.tokenizer, WORDS, checkpoint.max_length)
    tensors = pad(encoded.windows, checkpoint.tokenizer.pad_token_id)
    with torch.inference_mode():
        expected = checkpoint.model(**tensors).logits
    real = tensors["attention_mask"].bool()  # padding positions are never read, and runtimes differ there
    torch.testing.assert_close(forward(tensors)[real], expected[real], atol=1e-4, rtol=1e-4)


def test_onnx_int8_reuses_the_cached_onnx_export(bert_checkpoint: Path, tmp_path: Path) -> None:
    checkpoint = load_checkpoint(bert_checkpoint)
    first = VARIANTS["onnx"].prepare(checkpoint, context(tmp_path))
    int8 = VARIANTS["onnx-int8"].prepare(checkpoint, context(tmp_path))
    assert not first.from_cache and not int8.from_cache
    assert int8.details["quantization"] == onnx_variants.QUANTIZATION
    assert int8.size_bytes < first.size_bytes
    entries = sorted(p.name for p in tmp_path.iterdir() if p.is_dir())
    assert len(entries) == 2  # one export, one quantized graph: the export was not redone


def test_a_model_past_protobufs_limit_keeps_its_weights_beside_the_graph(
    bert_checkpoint: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The study's XLM-RoBERTa-large (2.2 GB in fp32) is past protobuf's 2 GB: its export keeps the weights
    in ``model.onnx.data``, which the cache's manifest must cover, and quantizing reads them from there."""
    monkeypatch.setattr(onnx_variants, "_PROTOBUF_LIMIT", 0)  # this tiny model counts as large
    checkpoint = load_checkpoint(bert_checkpoint)
    exported = VARIANTS["onnx"].prepare(checkpoint, context(tmp_path))
    (entry,) = [p for p in tmp_path.iterdir() if p.is_dir()]
    weights = entry / (onnx_variants.MODEL_FILE + ".data")
    assert weights.stat().st_size > (entry / onnx_variants.MODEL_FILE).stat().st_size
    assert exported.size_bytes >= weights.stat().st_size  # the size reported counts the weights file
    assert exported.details["layer_norms_rewritten"] >= 2 * checkpoint.model.config.num_hidden_layers
    _assert_logits_match_fp32(checkpoint, exported.forward)
    int8 = VARIANTS["onnx-int8"].prepare(checkpoint, context(tmp_path))
    assert predict(checkpoint, WORDS, batch_size=2, forward=int8.forward).label_ids
    weights.write_bytes(weights.read_bytes()[:-1] + b"\1")  # a damaged weights file is seen, not trusted
    assert not VARIANTS["onnx"].prepare(checkpoint, context(tmp_path)).from_cache


def test_a_new_export_recipe_rebuilds_what_was_quantized_from_the_export(
    bert_checkpoint: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import dataclasses

    checkpoint = load_checkpoint(bert_checkpoint)
    VARIANTS["onnx-int8"].prepare(checkpoint, context(tmp_path))
    assert VARIANTS["onnx-int8"].prepare(checkpoint, context(tmp_path)).from_cache
    monkeypatch.setitem(VARIANTS, "onnx", dataclasses.replace(VARIANTS["onnx"], recipe="onnx/another-recipe"))
    assert not VARIANTS["onnx-int8"].prepare(checkpoint, context(tmp_path)).from_cache
    assert len([p for p in tmp_path.iterdir() if p.is_dir()]) == 4  # both exports, both quantized graphs


def test_a_cached_entry_is_reused_without_rebuilding(
    bert_checkpoint: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    checkpoint = load_checkpoint(bert_checkpoint)
    first = VARIANTS["onnx"].prepare(checkpoint, context(tmp_path))

    def refuse(*args: object) -> None:
        raise AssertionError("rebuilt a valid cache entry")

    monkeypatch.setattr(onnx_variants, "export", refuse)
    again = VARIANTS["onnx"].prepare(checkpoint, context(tmp_path))
    assert again.from_cache and again.build_s == first.build_s and again.size_bytes == first.size_bytes


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda d: (d / onnx_variants.MODEL_FILE).write_bytes(b"\0" * 100), id="truncated-model"),
        pytest.param(lambda d: _flip_last_byte(d / onnx_variants.MODEL_FILE), id="corrupted-model"),
        pytest.param(lambda d: (d / cache.MANIFEST).unlink(), id="no-manifest"),
        pytest.param(lambda d: (d / cache.MANIFEST).write_text("{"), id="bad-manifest"),
        pytest.param(lambda d: (d / "stray.bin").write_bytes(b"x"), id="extra-file"),
    ],
)
def test_a_damaged_entry_is_rebuilt(damage: object, bert_checkpoint: Path, tmp_path: Path) -> None:
    checkpoint = load_checkpoint(bert_checkpoint)
    VARIANTS["onnx"].prepare(checkpoint, context(tmp_path))
    (entry,) = [p for p in tmp_path.iterdir() if p.is_dir()]
    damage(entry)  # type: ignore[operator]
    rebuilt = VARIANTS["onnx"].prepare(checkpoint, context(tmp_path))
    assert not rebuilt.from_cache
    assert [p for p in tmp_path.iterdir() if p.is_dir()] == [entry]  # rebuilt in place, nothing left over
    assert predict(checkpoint, WORDS, forward=rebuilt.forward).label_ids == predict(checkpoint, WORDS).label_ids


def _flip_last_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[-1] ^= 0xFF
    path.write_bytes(bytes(data))


def test_an_entry_built_by_other_library_versions_is_not_trusted(
    bert_checkpoint: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    checkpoint = load_checkpoint(bert_checkpoint)
    VARIANTS["onnx"].prepare(checkpoint, context(tmp_path))
    real_version = variants.installed_version
    monkeypatch.setattr(variants, "installed_version", lambda p: "99.0" if p == "onnxruntime" else real_version(p))
    other = VARIANTS["onnx"].prepare(checkpoint, context(tmp_path))
    assert not other.from_cache
    assert len([p for p in tmp_path.iterdir() if p.is_dir()]) == 2


def test_a_changed_checkpoint_gets_a_new_entry(bert_checkpoint: Path, tmp_path: Path) -> None:
    import shutil

    copy = Path(shutil.copytree(bert_checkpoint, tmp_path / "copy"))
    cache_root = tmp_path / "cache"
    VARIANTS["onnx"].prepare(load_checkpoint(copy), context(cache_root))
    config = copy / "config.json"
    config.write_text(config.read_text().replace('"I-MISC"', '"I-MISC" '))  # same model, different bytes
    assert not VARIANTS["onnx"].prepare(load_checkpoint(copy), context(cache_root)).from_cache


def test_a_failed_build_leaves_nothing(bert_checkpoint: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(checkpoint: Checkpoint, directory: Path) -> None:
        (directory / onnx_variants.MODEL_FILE).write_bytes(b"half")
        raise KeyboardInterrupt

    monkeypatch.setattr(onnx_variants, "export", fail)
    with pytest.raises(KeyboardInterrupt):
        VARIANTS["onnx"].prepare(load_checkpoint(bert_checkpoint), context(tmp_path))
    assert [p.name for p in tmp_path.iterdir() if not p.name.endswith(".lock")] == []


def test_unknown_variant_gets_a_suggestion(bert_checkpoint: Path, conll_file: Path) -> None:
    with pytest.raises(VariantError, match=r"unknown variant 'onnx-int9': did you mean 'onnx-int8'\? available: fp32"):
        evaluate(bert_checkpoint, conll_file, variant="onnx-int9")


def test_bf16_is_unavailable_without_native_support(
    bert_checkpoint: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from nerperf import machine

    checkpoint = load_checkpoint(bert_checkpoint)
    monkeypatch.setattr(machine, "cpu_flags", lambda: frozenset({"avx2", "fma"}))
    with pytest.raises(VariantUnavailable, match="bf16 of .*: unavailable: this CPU has no native bfloat16"):
        variants.prepare("bf16", checkpoint, context(tmp_path))
    monkeypatch.setattr(machine, "cpu_flags", lambda: frozenset({"avx2", "avx512_bf16"}))
    assert variants.prepare("bf16", checkpoint, context(tmp_path)).variant == "bf16"


def test_missing_onnxruntime_is_a_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None if name == "onnxruntime" else real(name))
    assert VARIANTS["onnx-int8"].unavailable() == "onnxruntime not installed: pip install 'nerperf[onnx]'"


def test_a_library_version_the_extra_excludes_is_a_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    """onnxruntime 1.20-1.30 run the export unfused (their optimizer does not know transformers 5's graph):
    not the documented recipe, so the variants say so rather than time it. The bounds are the wheel's own."""
    real = variants.installed_version
    monkeypatch.setattr(variants, "installed_version", lambda m: "1.20.0" if m == "onnxruntime" else real(m))
    assert VARIANTS["onnx-int8"].unavailable() == (
        "onnxruntime 1.20.0 is installed, nerperf needs onnxruntime>=1.31: pip install 'nerperf[onnx]'"
    )
    assert VARIANTS["openvino"].unavailable() is None  # another extra's libraries
    monkeypatch.setattr(variants, "installed_version", lambda m: "1.31.0" if m == "onnxruntime" else real(m))
    assert VARIANTS["onnx-int8"].unavailable() is None
    # transformers 5.4-5.8: torch's exporter fails in their mask code, for OpenVINO's conversion too
    monkeypatch.setattr(variants, "installed_version", lambda m: "5.6.2" if m == "transformers" else real(m))
    for name in ("onnx", "openvino-int8"):
        assert "transformers 5.6.2 is installed, nerperf needs transformers" in (VARIANTS[name].unavailable() or "")
    assert VARIANTS["fp32"].unavailable() is None


def test_evaluate_records_the_variant(bert_checkpoint: Path, conll_file: Path, tmp_path: Path) -> None:
    fp32 = evaluate(bert_checkpoint, conll_file, preparation=Preparation(cache_dir=tmp_path))
    result = evaluate(bert_checkpoint, conll_file, variant="onnx", preparation=Preparation(cache_dir=tmp_path))
    assert result.variant == "onnx" and fp32.variant == "fp32"
    assert result.f1 == pytest.approx(fp32.f1)
    assert result.build.size_bytes > 0 and not result.build.from_cache
    assert result.memory.peak_bytes >= result.memory.start_bytes > 0
    assert result.speed.matmul_gflop == pytest.approx(fp32.speed.matmul_gflop) and fp32.speed.matmul_gflop > 0
    assert result.environment["onnxruntime"] != "not installed"
