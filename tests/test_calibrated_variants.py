"""The OpenVINO and statically quantized variants on a tiny model: they agree with fp32, their calibration
sentences key the cache and never are the evaluation data, and a missing extra says what to install."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from tiny import SENTENCES, write_conll

from nerperf import variants
from nerperf.errors import NerperfInputError
from nerperf.evaluation import Preparation, evaluate
from nerperf.models.alignment import encode
from nerperf.models.checkpoints import load_checkpoint
from nerperf.models.runner import pad, predict
from nerperf.variants import VARIANTS, Context
from nerperf.variants.calibration import Calibration, for_evaluation

WORDS = [[word for word, _ in sentence] for sentence in SENTENCES]
NEW = ("onnx-int8-static", "openvino", "openvino-int8")
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture
def training(tmp_path: Path) -> Path:
    """A training split: the tiny sentences twice over, in another order (never the evaluation file)."""
    (tmp_path / "train").mkdir()
    return write_conll(tmp_path / "train" / "train.txt", [*SENTENCES[::-1], *SENTENCES])


@pytest.mark.parametrize("name", NEW)
def test_each_new_variant_predicts_as_fp32_does(
    name: str, bert_checkpoint: Path, training: Path, tmp_path: Path
) -> None:
    """fp32 in OpenVINO gives fp32's logits; int8 stays within what int8 costs on this random model, whose logits
    are small (sd 0.09) and near ties (median top-2 margin 0.03): onnxruntime's dynamic int8 errs by 17% there,
    a broken calibration (ranges from other data, or none) by far more."""
    checkpoint = load_checkpoint(bert_checkpoint)
    context = Context(tmp_path / "cache", threads=1, calibration=Calibration(str(training), sentences=8))
    prepared = variants.prepare(name, checkpoint, context)
    tensors = pad(encode(checkpoint.tokenizer, WORDS, checkpoint.max_length).windows, checkpoint.tokenizer.pad_token_id)
    with torch.inference_mode():
        expected = checkpoint.model(**tensors).logits
    real = tensors["attention_mask"].bool()  # padding positions are never read, and runtimes differ there
    found = prepared.forward(tensors)[real]
    fp32 = predict(checkpoint, WORDS, batch_size=3).label_ids
    labels = predict(checkpoint, WORDS, batch_size=3, forward=prepared.forward).label_ids
    if name == "openvino":
        torch.testing.assert_close(found, expected[real], atol=1e-4, rtol=1e-4)
        assert labels == fp32
    else:
        # Labels are compared on the real checkpoints (benches/test_variant_table.py): here a tie flips freely.
        assert ((found - expected[real]).norm() / expected[real].norm()).item() < 0.35
        assert len(labels) == len(fp32) and all(len(a) == len(b) for a, b in zip(labels, fp32, strict=True))
        assert prepared.details["calibration"]["sentences"] == 8
        assert prepared.details["calibration"]["data"] == str(training)
    assert prepared.size_bytes > 0 and prepared.variant == name


def test_other_calibration_sentences_build_another_entry(bert_checkpoint: Path, training: Path, tmp_path: Path) -> None:
    checkpoint = load_checkpoint(bert_checkpoint)

    def build(sentences: int) -> variants.Prepared:
        calibration = Calibration(str(training), sentences=sentences)
        return variants.prepare("onnx-int8-static", checkpoint, Context(tmp_path, threads=1, calibration=calibration))

    first, other, again = build(8), build(16), build(8)
    assert not first.from_cache and not other.from_cache and again.from_cache
    assert first.details["calibration"]["sha256"] != other.details["calibration"]["sha256"]
    entries = [p.name for p in tmp_path.iterdir() if p.is_dir() and "static" in p.name]
    assert len(entries) == 2


def test_evaluate_calibrates_on_the_training_split_and_records_it(bert_checkpoint: Path, tmp_path: Path) -> None:
    data = tmp_path / "conll"
    data.mkdir()
    write_conll(data / "valid.txt", SENTENCES)
    write_conll(data / "train.txt", SENTENCES[::-1])
    result = evaluate(
        bert_checkpoint, data, variant="onnx-int8-static", preparation=Preparation(cache_dir=tmp_path / "cache")
    )
    recorded = result.build.details["calibration"]
    assert recorded["split"] == "train" and recorded["data"] == str(data)
    assert recorded["sentences"] == len(SENTENCES)  # all there are, fewer than the default 300


def test_calibrating_on_the_evaluation_data_is_refused(bert_checkpoint: Path, conll_file: Path, tmp_path: Path) -> None:
    with pytest.raises(NerperfInputError, match="is the evaluation data"):
        evaluate(
            bert_checkpoint,
            conll_file,
            variant="openvino-int8",
            preparation=Preparation(cache_dir=tmp_path, calibration_data=str(conll_file)),
        )


def test_a_single_evaluation_file_without_a_training_file_beside_it_says_what_was_looked_for(
    conll_file: Path, tmp_path: Path
) -> None:
    calibration = for_evaluation(str(conll_file), "validation", None, 300, None)
    looked_for = r"looked beside .*tiny\.txt for train\.txt, eng\.train or one \*train\*\.txt file: none is there"
    with pytest.raises(NerperfInputError, match=looked_for + ".*set calibration_data .*--calibration-data"):
        calibration.key()
    named = for_evaluation(
        str(conll_file), "validation", str(write_conll(tmp_path / "t.txt", SENTENCES[:2])), 300, None
    )
    assert named.key()["sentences"] == 2


@pytest.mark.parametrize(
    ("beside", "taken"),
    [
        (["train.txt", "test.txt"], "train.txt"),  # CoNLL-2003's layout (../shared/data/conll2003)
        (["eng.train", "eng.testb"], "eng.train"),  # the original release's names
        (["wnut17train.txt"], "wnut17train.txt"),  # one *train* file of the same suffix
        (["train.txt", "other-train.txt"], "train.txt"),  # the split reader's own name comes first
    ],
)
def test_a_data_files_directory_gives_its_training_file(tmp_path: Path, beside: list[str], taken: str) -> None:
    evaluated = write_conll(tmp_path / "valid.txt", SENTENCES)
    for name in beside:
        write_conll(tmp_path / name, SENTENCES[:2])
    calibration = for_evaluation(str(evaluated), "validation", None, 300, None)
    assert calibration.data == str(tmp_path / taken)
    assert calibration.key()["sentences"] == 2  # read from that file, not the evaluated one


def test_several_training_files_beside_a_data_file_are_named_and_none_is_taken(tmp_path: Path) -> None:
    evaluated = write_conll(tmp_path / "dev.conll", SENTENCES)
    for name in ("a-train.conll", "b-train.conll", "train.txt.bak"):
        write_conll(tmp_path / name, SENTENCES[:2])
    calibration = for_evaluation(str(evaluated), "validation", None, 300, None)
    assert calibration.data is None
    with pytest.raises(NerperfInputError, match=r"found 2 \(a-train\.conll, b-train\.conll\), so none is taken"):
        calibration.key()


def test_evaluating_the_training_file_itself_never_calibrates_on_it(tmp_path: Path) -> None:
    evaluated = write_conll(tmp_path / "train.txt", SENTENCES)
    assert for_evaluation(str(evaluated), "train", None, 300, None).data is None


def test_a_calibrated_result_names_its_calibration_file(bert_checkpoint: Path, tmp_path: Path) -> None:
    from nerperf.report.tables import notes

    evaluated = write_conll(tmp_path / "valid.txt", SENTENCES)
    write_conll(tmp_path / "train.txt", SENTENCES[::-1])
    result = evaluate(
        bert_checkpoint, evaluated, variant="onnx-int8-static", preparation=Preparation(cache_dir=tmp_path / "cache")
    )
    said = [line for line in notes(result) if line.startswith("calibrated on: ")]
    assert said == [f"calibrated on: {len(SENTENCES)} sentences of {tmp_path / 'train.txt'} "
                    f"(sha256 {result.build.details['calibration']['sha256']})"]  # fmt: skip


@pytest.mark.parametrize(
    ("missing", "name", "said"),
    [
        ("openvino", "openvino", "openvino not installed: pip install 'nerperf[openvino]'"),
        ("nncf", "openvino-int8", "nncf not installed: pip install 'nerperf[openvino]'"),
        ("onnxruntime", "onnx-int8-static", "onnxruntime not installed: pip install 'nerperf[onnx]'"),
    ],
)
def test_a_missing_extra_names_what_to_install(
    monkeypatch: pytest.MonkeyPatch, missing: str, name: str, said: str
) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda module: None if module == missing else real(module))
    assert VARIANTS[name].unavailable() == said
    assert VARIANTS["fp32"].unavailable() is None and VARIANTS["int8"].unavailable() is None


def test_openvinos_snippets_go_off_for_bf16_and_int8_only_where_amx_is_usable(monkeypatch: pytest.MonkeyPatch) -> None:
    from nerperf.variants import kernels
    from nerperf.variants.openvino_variants import snippets_on

    monkeypatch.setattr(kernels, "amx_usable", lambda: True)
    assert not snippets_on(low_precision=True) and snippets_on(low_precision=False)
    assert "snippets off: AMX is usable" in VARIANTS["openvino-int8"].here()
    monkeypatch.setattr(kernels, "amx_usable", lambda: False)
    assert snippets_on(low_precision=True) and snippets_on(low_precision=False)
    assert "snippets on (its default): no usable AMX here" in VARIANTS["openvino-int8"].here()


def test_openvino_without_snippets_predicts_the_same_and_the_result_says_so(
    bert_checkpoint: Path, tmp_path: Path
) -> None:
    """The switch is taken by this OpenVINO (it refuses a property it does not know) and changes no logit."""
    from nerperf.variants.openvino_variants import session_forward

    checkpoint = load_checkpoint(bert_checkpoint)
    entry = variants._openvino_model(checkpoint, Context(tmp_path / "cache", threads=1))
    tensors = pad(encode(checkpoint.tokenizer, WORDS, checkpoint.max_length).windows, checkpoint.tokenizer.pad_token_id)
    (on, _, said_on), (off, _, said_off) = (session_forward(entry.directory, 1, snippets=s) for s in (True, False))
    assert (said_on, said_off) == (True, False)
    real = tensors["attention_mask"].bool()
    torch.testing.assert_close(off(tensors)[real], on(tensors)[real], atol=1e-4, rtol=1e-4)
    prepared = variants.prepare("openvino", checkpoint, Context(tmp_path / "cache", threads=1))
    assert prepared.details["snippets"] == "on" and prepared.details["inference_precision"] == "f32"


def test_an_openvino_that_refuses_the_snippets_switch_runs_with_them_on_and_warns(
    bert_checkpoint: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import openvino

    from nerperf.variants.openvino_variants import session_forward

    entry = variants._openvino_model(load_checkpoint(bert_checkpoint), Context(tmp_path / "cache", threads=1))
    compile_model = openvino.Core.compile_model

    def older(self: openvino.Core, model: str, device: str, config: dict) -> openvino.CompiledModel:
        if "SNIPPETS_MODE" in config:
            raise RuntimeError("Exception from src/plugins/intel_cpu: Unsupported property: SNIPPETS_MODE")
        return compile_model(self, model, device, config)

    monkeypatch.setattr(openvino.Core, "compile_model", older)
    with pytest.warns(UserWarning, match="does not take SNIPPETS_MODE: .* runs with snippets on"):
        *_, snippets = session_forward(entry.directory, 1, snippets=False)
    assert snippets is True
