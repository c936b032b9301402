"""nerperf against ``evaluate``'s token-classification evaluator: the study's 1,000 validation sentences.

Both run the same checkpoint over the same words; F1 values and times are recorded side by side in
pytest-benchmark's ``extra_info`` (``pytest benches --benchmark-json=FILE`` keeps them). nerperf's F1
must equal seqeval called directly on nerperf's own predictions, and evaluate's F1 must equal
nerperf's: for a WordPiece checkpoint, joining the words with spaces and re-tokenizing (what the
evaluator does) gives the same sub-tokens, and both score with seqeval's default mode.

The evaluator runs first, then nerperf at batch size 1 and batched (fp32), then every other variant
nerperf can run here at two batch sizes. The last test takes the ratios, all from this one run: the
evaluator's time over nerperf's fp32 batched time, and over the fastest variant whose F1 stays within
0.5 points of fp32's; and it breaks nerperf's fp32 batched time down (tokenizer, padded tensors, matrix
multiplies at the measured fp32 peak, the rest of the forward pass, bookkeeping). Both sides' times are
inference times: the evaluator's ``total_time_in_seconds`` covers its pipeline (tokenization included,
the metric not), nerperf's ``total_s`` likewise. They go to ``.benchmarks/parity/`` (``parity.json``,
``parity.md``), labelled with the machine. The ratios are recorded, not asserted, except that nerperf
batched must beat one-sentence-at-a-time at all.

evaluate 0.4.6 predates transformers 5 (see ../shared/README.md): its evaluator tests
``isinstance(model, transformers.TFPreTrainedModel)``, a class transformers 5 removed, and
``evaluate.load("seqeval")`` fetches code from the hub. So, for this benchmark only, the module that
evaluate's evaluator imported is given stand-in TF/Flax classes, and the metric is a local
``evaluate.Metric`` that calls seqeval.
"""

from __future__ import annotations

import json
import time
import types
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from peaks import VARIANT_TYPES, Peaks, matmul_peaks, model_shapes
from seqeval.metrics import f1_score

from nerperf.data.conll import Corpus, read_conll
from nerperf.data.labels import LabelMap
from nerperf.evaluation import Preparation, Timing, context, evaluate
from nerperf.machine import machine_label
from nerperf.models.checkpoints import Checkpoint, load_checkpoint
from nerperf.models.runner import predict
from nerperf.results import EvalResult
from nerperf.settings import MAX_TOKENS
from nerperf.study import SENTENCES as STUDY_SENTENCES
from nerperf.variants import VARIANTS, get_variant, prepare
from nerperf.variants.calibration import Calibration

pytestmark = [
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
    pytest.mark.filterwarnings("ignore::FutureWarning"),
    pytest.mark.filterwarnings("ignore::UserWarning"),
]
CHECKPOINT = "minilm-l6-conll03"
THREADS = 2  # as the variant table; the evaluator's pipeline runs on torch's default, the same here
WITHIN_F1_POINTS = 0.5  # "the fastest variant that stays within 0.5 F1 points" of fp32
VARIANT_BATCH_SIZES = (8, 32)
OUTPUT = Path(".benchmarks/parity")
measured: dict[str, Any] = {}  # filled in order by the tests below; the last one reads it


@pytest.fixture(scope="module")
def corpus(shared: Path) -> Corpus:
    return read_conll(shared / "data/conll2003/valid.txt", split="validation").head(STUDY_SENTENCES)


@pytest.fixture(scope="module")
def checkpoint(shared: Path) -> Checkpoint:
    return load_checkpoint(shared / "models" / CHECKPOINT)


@pytest.fixture(scope="module")
def training(shared: Path) -> Calibration:
    """The data's train split, which the calibrated variants quantize with (never the evaluated sentences)."""
    return Calibration(str(shared / "data/conll2003"))


def test_evaluate_evaluator(benchmark: Any, checkpoint: Checkpoint, corpus: Corpus) -> None:
    benchmark.group = "evaluate-parity"
    evaluator_module = pytest.importorskip("evaluate")
    dataset = hub_style_dataset(corpus)
    with evaluator_on_transformers_5():
        from transformers import pipeline

        task = evaluator_module.evaluator("token-classification")
        pipe = pipeline("token-classification", model=checkpoint.model, tokenizer=checkpoint.tokenizer, device=-1)
        started = time.perf_counter()
        report = benchmark.pedantic(
            task.compute,
            kwargs={"model_or_pipeline": pipe, "data": dataset, "metric": local_seqeval()},
            rounds=1,
            iterations=1,
        )
        wall_s = time.perf_counter() - started
    measured["evaluator"] = {"f1": report["overall_f1"], "total_s": report["total_time_in_seconds"], "wall_s": wall_s}
    benchmark.extra_info.update(
        tool="evaluate",
        f1=report["overall_f1"],
        batch_size=1,
        total_s=report["total_time_in_seconds"],
        samples_per_s=report["samples_per_second"],
        latency_mean_s=report["latency_in_seconds"],
        wall_s=wall_s,
    )


@pytest.mark.parametrize("batch_size", [1, 32])
def test_nerperf(benchmark: Any, checkpoint: Checkpoint, corpus: Corpus, batch_size: int) -> None:
    benchmark.group = "evaluate-parity"
    started = time.perf_counter()
    result = benchmark.pedantic(
        evaluate,
        args=(checkpoint, corpus),
        kwargs={"timing": Timing(batch_size=batch_size, threads=THREADS)},
        rounds=1,
        iterations=1,
    )
    wall_s = time.perf_counter() - started
    labels = LabelMap.build(checkpoint.id2label, corpus.entity_types, CHECKPOINT)
    run = predict(checkpoint, [s.words for s in corpus.sentences], batch_size=batch_size)
    independent = f1_score([list(s.tags) for s in corpus.sentences], [labels.to_tags(r) for r in run.label_ids])
    assert result.f1 == pytest.approx(independent, abs=1e-12)
    if "evaluator" in measured:
        assert measured["evaluator"]["f1"] == pytest.approx(result.f1, abs=1e-12)
    measured[f"fp32/{batch_size}"] = record(result, wall_s)
    benchmark.extra_info.update(tool="nerperf", seqeval_f1=independent, **measured[f"fp32/{batch_size}"])


@pytest.mark.parametrize("batch_size", VARIANT_BATCH_SIZES)
@pytest.mark.parametrize("variant", [v for v in VARIANTS if v != "fp32"])
def test_nerperf_variant(
    benchmark: Any, training: Calibration, checkpoint: Checkpoint, corpus: Corpus, variant: str, batch_size: int
) -> None:
    reason = get_variant(variant).unavailable()
    if reason:
        pytest.skip(reason)
    benchmark.group = "evaluate-parity"
    prepared = prepare(variant, checkpoint, context(None, THREADS, calibration=training))  # built untimed
    started = time.perf_counter()
    result = benchmark.pedantic(
        evaluate,
        args=(checkpoint, corpus),
        kwargs={
            "variant": variant,
            "timing": Timing(batch_size=batch_size, threads=THREADS),
            "preparation": Preparation(prepared=prepared),
        },
        rounds=1,
        iterations=1,
    )
    measured[f"{variant}/{batch_size}"] = record(result, time.perf_counter() - started)
    benchmark.extra_info.update(tool="nerperf", **measured[f"{variant}/{batch_size}"])


def test_the_ratios_and_where_nerperfs_time_goes(checkpoint: Checkpoint, corpus: Corpus, training: Calibration) -> None:
    if "evaluator" not in measured or "fp32/32" not in measured:
        pytest.skip("the evaluator or nerperf's fp32 batched run did not run in this session")
    evaluator_s = measured["evaluator"]["total_s"]
    runs = {key: value for key, value in measured.items() if key != "evaluator"}
    fp32_f1 = runs["fp32/32"]["f1"]
    same_f1 = [k for k, r in runs.items() if VARIANT_TYPES.get(r["variant"]) == "fp32" and r["f1"] == fp32_f1]
    within = [k for k, r in runs.items() if abs(r["f1"] - fp32_f1) * 100 <= WITHIN_F1_POINTS]
    config = checkpoint.model.config
    peaks = matmul_peaks(THREADS, model_shapes(config.hidden_size, config.intermediate_size))

    def ratio(keys: list[str]) -> dict[str, Any]:
        fastest = min(keys, key=lambda k: runs[k]["total_s"])
        return {"run": fastest, "ratio": evaluator_s / runs[fastest]["total_s"]}

    targets = {
        "torch fp32, batch 32": ratio(["fp32/32"]),
        "fastest fp32 at the same F1": ratio(same_f1),
        f"fastest within {WITHIN_F1_POINTS} F1 points of fp32": ratio(within),
    }
    fastest = dict.fromkeys(t["run"] for t in targets.values())
    breakdowns = {key: breakdown(checkpoint, corpus, key, peaks, training) for key in fastest}
    figures = {
        "machine": machine_label(),
        "threads": THREADS,
        "checkpoint": CHECKPOINT,
        "sentences": len(corpus.sentences),
        "evaluator": measured["evaluator"],
        "runs": runs,
        "ratios": targets,
        "breakdowns": breakdowns,
        "peaks": {t: {"gops": peaks.peak(t), "at": peaks.where(t)} for t in peaks.rates},
    }
    OUTPUT.mkdir(parents=True, exist_ok=True)
    from nerperf.atomic import write_atomic

    write_atomic(OUTPUT / "parity.json", json.dumps(figures, indent=2) + "\n")
    write_atomic(OUTPUT / "parity.md", markdown(figures))
    assert targets["torch fp32, batch 32"]["ratio"] > 1, "nerperf batched was slower than the evaluator"
    for key, parts in breakdowns.items():
        assert sum(p["seconds"] for p in parts["parts"]) == pytest.approx(parts["total_s"], rel=1e-6), key


def record(result: EvalResult, wall_s: float) -> dict[str, Any]:
    s = result.speed
    return {
        "f1": result.f1,
        "variant": result.variant,
        "batch_size": s.batch_size,
        "max_tokens": s.max_tokens,
        "total_s": s.total_s,
        "wall_s": wall_s,
        "samples_per_s": s.samples_per_s,
        "padding_ratio": s.padding_ratio,
        "matmul_gflop": s.matmul_gflop,
    }


def breakdown(checkpoint: Checkpoint, corpus: Corpus, key: str, peaks: Peaks, training: Calibration) -> dict[str, Any]:
    """One more pass of run ``key`` (variant/batch size), its time in parts that add up to its total.

    The matrix multiplies are costed at the measured peak of the variant's data type (the least time
    they could take), split into the real tokens' share and the padding's; what the forward pass took
    beyond that is the rest of it (attention softmax, norms, GELU, quantizing activations, memory
    traffic, kernels below the peak, framework overhead).
    """
    from nerperf.models.alignment import encode
    from nerperf.models.architectures import matmul_flops

    variant, batch_size = key.split("/")
    # The calibrated variants need their training sentences here too: on AVX-512 VNNI the fastest is one.
    forward = prepare(variant, checkpoint, context(None, THREADS, calibration=training)).forward
    words = [s.words for s in corpus.sentences]
    t = predict(checkpoint, words, int(batch_size), THREADS, forward=forward, max_tokens=MAX_TOKENS).timing
    config = checkpoint.model.config
    windows = encode(checkpoint.tokenizer, words, checkpoint.max_length).windows
    real_gflop = matmul_flops(config, [(1, len(w)) for w in windows]) / 1e9
    padding_gflop = matmul_flops(config, t.shapes) / 1e9 - real_gflop
    data_type, peak = peaks.of_variant(variant)
    peak = peak or float("nan")
    real_s, padding_s = real_gflop / peak, padding_gflop / peak
    parts = [
        ("the tokenizer call (every sentence at once)", t.tokenize_s - t.pad_s),
        ("building the padded tensors", t.pad_s),
        (f"matrix multiplies of the real tokens at the {data_type} peak ({real_gflop:.0f} GOP)", real_s),
        (f"matrix multiplies of the padding at the {data_type} peak ({padding_gflop:.0f} GOP)", padding_s),
        ("the rest of the forward pass", t.model_s - real_s - padding_s),
        ("bookkeeping (labels back to words, batching)", t.total_s - t.tokenize_s - t.model_s),
    ]
    return {
        "total_s": t.total_s,
        "peak": {"data_type": data_type, "gops": peak},
        "parts": [{"part": name, "seconds": seconds, "share": seconds / t.total_s} for name, seconds in parts],
    }


def markdown(figures: dict[str, Any]) -> str:
    evaluator = figures["evaluator"]
    lines = [
        f"Measured on {figures['machine']}, {figures['threads']} threads; {figures['checkpoint']}, "
        f"{figures['sentences']} validation sentences. Inference times (scoring excluded), one run.",
        "",
        "| run | F1 | time (s) | sentences/s | evaluator's time / this |",
        "|---|---|---|---|---|",
        f"| `evaluate` evaluator (pipeline, batch 1) | {evaluator['f1']:.4f} | {evaluator['total_s']:.2f} | "
        f"{figures['sentences'] / evaluator['total_s']:.1f} | 1.00 |",
    ]
    for run in sorted(figures["runs"].values(), key=lambda run: run["total_s"], reverse=True):
        budget = f", at most {run['max_tokens']} tokens" if run["max_tokens"] else ""
        lines.append(
            f"| nerperf {run['variant']}, batch {run['batch_size']}{budget} | {run['f1']:.4f} | {run['total_s']:.2f} | "
            f"{run['samples_per_s']:.1f} | {evaluator['total_s'] / run['total_s']:.2f} |"
        )
    lines.append("")
    lines += [f"- {name}: {t['run']}, {t['ratio']:.2f}x the evaluator." for name, t in figures["ratios"].items()]
    for key, found in figures["breakdowns"].items():
        peak = found["peak"]
        lines += [
            "",
            f"Where the time of {key} goes, in one more pass of {found['total_s']:.2f} s "
            f"({peak['data_type']} peak {peak['gops']:.0f} GOP/s):",
            "",
            "| part | seconds | share |",
            "|---|---|---|",
        ]
        lines += [f"| {p['part']} | {p['seconds']:.3f} | {100 * p['share']:.0f}% |" for p in found["parts"]]
    return "\n".join(lines) + "\n"


def hub_style_dataset(corpus: Corpus) -> Any:
    """The corpus as the hub's conll2003 has it: tokens and ClassLabel ner_tags in the hub's order."""
    import datasets

    names = ["O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC", "B-MISC", "I-MISC"]
    features = datasets.Features(
        {
            "tokens": datasets.Sequence(datasets.Value("string")),
            "ner_tags": datasets.Sequence(datasets.ClassLabel(names=names)),
        }
    )
    return datasets.Dataset.from_dict(
        {
            "tokens": [list(s.words) for s in corpus.sentences],
            "ner_tags": [[names.index(t) for t in s.tags] for s in corpus.sentences],
        },
        features=features,
    )


@contextmanager
def evaluator_on_transformers_5() -> Iterator[None]:
    """Give evaluate's evaluator module stand-ins for the TF/Flax classes transformers 5 removed."""
    import transformers
    from evaluate.evaluator import base

    class Missing:  # nothing is an instance of it, as nothing is a TF or Flax model here
        pass

    class Shim(types.ModuleType):
        def __getattr__(self, name: str) -> Any:
            if name.startswith(("TF", "Flax")) and not hasattr(transformers, name):
                return Missing
            return getattr(transformers, name)

    shim = Shim("transformers")
    original = base.transformers
    base.transformers = shim
    try:
        yield
    finally:
        base.transformers = original


def local_seqeval() -> Any:
    """An ``evaluate.Metric`` that calls seqeval in its default mode, as the hub's seqeval metric does."""
    import datasets
    import evaluate

    class Seqeval(evaluate.Metric):
        def _info(self) -> Any:
            return evaluate.MetricInfo(
                description="seqeval, default (conlleval) mode",
                citation="",
                features=datasets.Features(
                    {
                        "predictions": datasets.Sequence(datasets.Value("string")),
                        "references": datasets.Sequence(datasets.Value("string")),
                    }
                ),
            )

        def _compute(self, predictions: list[list[str]], references: list[list[str]]) -> dict[str, float]:
            return {"overall_f1": float(f1_score(references, predictions))}

    return Seqeval()
