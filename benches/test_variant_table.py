"""Every variant against fp32, measured in one run: the variant table of docs/measurements.md.

Offline checkpoints (real weights) on the test split: F1 and batched throughput (batch 32) over all of
it, per-sentence latency (batch 1) over its first 1,000 sentences (the study's sample size; the whole
split at batch 1 would double the benchmark's time for the same ratio). The int8 variants may lose at
most 1.0 F1 point, onnx and openvino (fp32 in another runtime) at most 0.05.
The study's architectures with random weights (no F1) on the first 1,000 validation sentences: opt in
with ``NERPERF_STUDY=all`` or a list such as ``NERPERF_STUDY=bert-base,distilbert`` (BERT-base takes
about 10 minutes on 2 cores, XLM-RoBERTa-large about 25). Sequence lengths for those come from the
stand-in tokenizer of ``minilm-l6-conll03`` (uncased WordPiece) where a checkpoint's own is not cached.

Results go to ``.benchmarks/variants/`` (one JSON per run and ``variants.md``, rewritten after each
run); timings are recorded, never asserted.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from peaks import Peaks, matmul_peaks, model_shapes, share
from variant_markdown import variant_table

from nerperf.data.conll import read_conll
from nerperf.evaluation import Preparation, Timing, evaluate
from nerperf.machine import machine_label
from nerperf.models.architectures import ARCHITECTURES, random_checkpoint
from nerperf.models.checkpoints import Checkpoint, load_checkpoint
from nerperf.results import EvalResult
from nerperf.study import SENTENCES as STUDY_SENTENCES
from nerperf.variants import VARIANTS

THREADS = 2
OUTPUT = Path(".benchmarks/variants")
OFFLINE = ("minilm-l6-conll03", "minilm-l3-conll03")
INT8_MAX_LOSS = 0.010
ONNX_MAX_DIFFERENCE = 0.0005
STUDY = [n for n in os.environ.get("NERPERF_STUDY", "").replace("all", ",".join(ARCHITECTURES)).split(",") if n]
# BERT-base, the baseline, through every variant; the others through fp32, ONNX Runtime fp32 and int8.
STUDY_VARIANTS = {"bert-base": tuple(VARIANTS)}
OTHER_STUDY_VARIANTS = ("fp32", "onnx", "onnx-int8")
# XLM-RoBERTa-large is 3.5x BERT-base per token: fp32 and the best int8 variant only.
STUDY_VARIANTS["xlm-roberta-large"] = ("fp32", "onnx-int8")

runs: dict[tuple[str, str], tuple[EvalResult, EvalResult]] = {}


@pytest.fixture(scope="module")
def peaks() -> Peaks:
    """Per data type, at the square and at the shapes of the models this run measures."""
    sizes = {(384, 1536)}  # both offline MiniLM checkpoints
    sizes |= {(ARCHITECTURES[name].hidden, ARCHITECTURES[name].intermediate) for name in STUDY}
    return matmul_peaks(THREADS, [shape for size in sorted(sizes) for shape in model_shapes(*size)])


def test_the_table_compares_each_variant_with_its_fp32(shared: Path) -> None:
    """The table's cells, on 20 sentences of a real checkpoint and its architecture with random weights."""
    path = shared / "models" / "minilm-l3-conll03"
    data = read_conll(shared / "data/conll2003/valid.txt").head(20)
    models = (load_checkpoint(path), random_checkpoint(path))
    pairs = [
        (evaluate(model, data, variant=v, timing=Timing(batch_size=1)), evaluate(model, data, variant=v))
        for model in models
        for v in ("fp32", "onnx-int8")
    ]
    peaks = Peaks({"fp32": {"square": 1.0}, "int8": {"square": 2.0}}, threads=1, method="test")
    table = variant_table(pairs, peaks).splitlines()
    assert len(table) == 2 + 4
    fp32, int8, random_fp32, random_int8 = (row.split(" | ") for row in table[2:])
    assert fp32[1:4] == ["fp32", f"{pairs[0][1].f1:.4f}", "+0.00"] and fp32[5] == fp32[7] == "1.00"
    assert int8[1] == "onnx-int8" and float(int8[3]) == pytest.approx(100 * (pairs[1][1].f1 - pairs[0][1].f1), abs=0.01)
    assert random_fp32[0].endswith("(random weights)") and random_fp32[2:4] == ["-", "-"]
    assert float(random_int8[5]) == pytest.approx(
        pairs[3][1].speed.samples_per_s / pairs[2][1].speed.samples_per_s, abs=0.01
    )


def test_matmul_peaks_are_measured_per_data_type_and_shape() -> None:
    from nerperf.machine import native_bf16

    peaks = matmul_peaks(threads=1, shapes=model_shapes(64, 128), repeats=1)
    assert peaks.threads == 1 and set(peaks.rates) == ({"fp32", "int8", "bf16"} if native_bf16() else {"fp32", "int8"})
    assert len(peaks.rates["fp32"]) == 2 * 5  # torch and onnxruntime (the test extra), the square and 4 shapes
    assert "32x64x128 (onnxruntime MatMulInteger)" in peaks.rates["int8"]
    assert peaks.of_variant("onnx") == ("fp32", peaks.peak("fp32")) and peaks.of_variant("onnx-int8")[0] == "int8"
    assert share(50, 100) == "50%" and share(101, 100) == "beat the peak" and share(1, None) == "-"


@pytest.fixture(scope="module", params=OFFLINE)
def offline(request: pytest.FixtureRequest, shared: Path) -> Checkpoint:
    return load_checkpoint(shared / "models" / request.param)


def measure(benchmark: Any, checkpoint: Checkpoint, data: Path, variant: str, limit: int | None, peaks: Peaks) -> None:
    reason = VARIANTS[variant].unavailable()
    if reason:
        pytest.skip(f"{variant}: {reason}")
    # The calibrated variants read the training split beside the evaluated file (train.txt by test.txt).
    preparation = Preparation(calibration_data=str(data.parent))
    single = evaluate(
        checkpoint,
        data,
        variant=variant,
        limit=limit or STUDY_SENTENCES,
        timing=Timing(batch_size=1, threads=THREADS),
        preparation=preparation,
    )
    options = dict(limit=limit, variant=variant, timing=Timing(threads=THREADS), preparation=preparation)
    benchmark.group = f"variants-{Path(checkpoint.name).name}"
    batched = benchmark.pedantic(evaluate, args=(checkpoint, data), kwargs=options, rounds=1, iterations=1)
    benchmark.extra_info.update(variant=variant, weights=batched.weights, f1=batched.f1)
    name = Path(checkpoint.name).name
    runs[(name, variant)] = (single, batched)
    OUTPUT.mkdir(parents=True, exist_ok=True)
    single.save(OUTPUT / f"{name}-{variant}-batch1.json")
    batched.save(OUTPUT / f"{name}-{variant}-batched.json")
    write_table(peaks)


def write_table(peaks: Peaks) -> None:
    """Rewrite variants.md from every pair of result files in OUTPUT, so separate runs add up."""
    from nerperf.atomic import write_atomic

    pairs = []
    for single_file in OUTPUT.glob("*-batch1.json"):
        batched_file = single_file.with_name(single_file.name.replace("-batch1.json", "-batched.json"))
        if batched_file.exists():
            pairs.append(tuple(EvalResult.from_json(f.read_text()) for f in (single_file, batched_file)))
    order = list(VARIANTS)
    pairs.sort(key=lambda p: (p[0].weights != "real", p[0].checkpoint, order.index(p[0].variant)))
    header = (
        f"{machine_label()}, {peaks.threads} threads. Measured matmul peaks per data type: {peaks.describe()} "
        f"({peaks.method}).\n\n"
    )
    write_atomic(OUTPUT / "variants.md", header + variant_table(pairs, peaks) + "\n")


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_offline_variant(benchmark: Any, shared: Path, offline: Checkpoint, variant: str, peaks: Peaks) -> None:
    if variant != "fp32" and (Path(offline.name).name, "fp32") not in runs:
        pytest.skip("its fp32 reference did not run")
    measure(benchmark, offline, shared / "data/conll2003/test.txt", variant, None, peaks)
    name = Path(offline.name).name
    f1, reference = runs[(name, variant)][1].f1, runs[(name, "fp32")][1].f1
    assert f1 is not None and reference is not None
    if "int8" in variant:
        assert reference - f1 <= INT8_MAX_LOSS, f"{name} {variant}: F1 {f1:.4f}, fp32 {reference:.4f}"
    elif variant in ("onnx", "openvino"):  # fp32 in another runtime
        assert abs(reference - f1) <= ONNX_MAX_DIFFERENCE, f"{name} {variant}: F1 {f1:.4f}, fp32 {reference:.4f}"


def study_cases() -> list[Any]:
    if not STUDY:
        return [pytest.param("", "", marks=pytest.mark.skip(reason="opt in with NERPERF_STUDY=all (about an hour)"))]
    return [
        pytest.param(name, variant, id=f"{name}-{variant}")
        for name in STUDY
        for variant in STUDY_VARIANTS.get(name, OTHER_STUDY_VARIANTS)
    ]


@pytest.fixture(scope="module")
def random_models() -> dict[str, Checkpoint]:
    return {}


@pytest.mark.parametrize(("architecture", "variant"), study_cases())
def test_study_architecture(
    benchmark: Any, shared: Path, random_models: dict[str, Checkpoint], architecture: str, variant: str, peaks: Peaks
) -> None:
    if architecture not in random_models:
        random_models.clear()  # one architecture in memory at a time
        stand_in = shared / "models" / "minilm-l6-conll03"
        random_models[architecture] = random_checkpoint(architecture, tokenizer=stand_in)
    checkpoint = random_models[architecture]
    measure(benchmark, checkpoint, shared / "data/conll2003/valid.txt", variant, STUDY_SENTENCES, peaks)
