"""nerperf against ``evaluate``'s token-classification evaluator: the study's 1,000 validation sentences.

Both run the same checkpoint over the same words; F1 values and wall times are recorded side by side
in pytest-benchmark's ``extra_info`` (``pytest benches --benchmark-json=FILE`` keeps them). nerperf's F1
must equal seqeval called directly on nerperf's own predictions, and evaluate's F1 must equal
nerperf's: for a WordPiece checkpoint, joining the words with spaces and re-tokenizing (what the
evaluator does) gives the same sub-tokens, and both score with seqeval's default mode.

evaluate 0.4.6 predates transformers 5 (see ../shared/README.md): its evaluator tests
``isinstance(model, transformers.TFPreTrainedModel)``, a class transformers 5 removed, and
``evaluate.load("seqeval")`` fetches code from the hub. So, for this benchmark only, the module that
evaluate's evaluator imported is given stand-in TF/Flax classes, and the metric is a local
``evaluate.Metric`` that calls seqeval.
"""

from __future__ import annotations

import time
import types
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from seqeval.metrics import f1_score

from nerperf.checkpoints import Checkpoint, load_checkpoint
from nerperf.conll import Corpus, read_conll
from nerperf.evaluation import evaluate
from nerperf.labels import LabelMap
from nerperf.runner import predict
from nerperf.study import SENTENCES as STUDY_SENTENCES

pytestmark = [
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
    pytest.mark.filterwarnings("ignore::FutureWarning"),
    pytest.mark.filterwarnings("ignore::UserWarning"),
]
CHECKPOINT = "minilm-l6-conll03"
measured: dict[str, float] = {}


@pytest.fixture(scope="module")
def corpus(shared: Path) -> Corpus:
    return read_conll(shared / "data/conll2003/valid.txt", split="validation").head(STUDY_SENTENCES)


@pytest.fixture(scope="module")
def checkpoint(shared: Path) -> Checkpoint:
    return load_checkpoint(shared / "models" / CHECKPOINT)


@pytest.mark.parametrize("batch_size", [1, 32])
def test_nerperf(benchmark: Any, checkpoint: Checkpoint, corpus: Corpus, batch_size: int) -> None:
    benchmark.group = "evaluate-parity"
    result = benchmark.pedantic(
        evaluate, args=(checkpoint, corpus), kwargs={"batch_size": batch_size}, rounds=1, iterations=1
    )
    labels = LabelMap.build(checkpoint.id2label, corpus.entity_types, CHECKPOINT)
    run = predict(checkpoint, [s.words for s in corpus.sentences], batch_size=batch_size)
    independent = f1_score([list(s.tags) for s in corpus.sentences], [labels.to_tags(r) for r in run.label_ids])
    assert result.f1 == pytest.approx(independent, abs=1e-12)
    measured[f"nerperf_bs{batch_size}"] = result.f1
    benchmark.extra_info.update(
        tool="nerperf",
        f1=result.f1,
        seqeval_f1=independent,
        batch_size=batch_size,
        total_s=result.speed.total_s,
        samples_per_s=result.speed.samples_per_s,
        latency_mean_s=result.speed.latency_mean_s,
    )


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
    benchmark.extra_info.update(
        tool="evaluate",
        f1=report["overall_f1"],
        batch_size=1,
        total_s=report["total_time_in_seconds"],
        samples_per_s=report["samples_per_second"],
        latency_mean_s=report["latency_in_seconds"],
        wall_s=wall_s,
    )
    ours = measured.get("nerperf_bs1") or evaluate(checkpoint, corpus, batch_size=32).f1
    assert report["overall_f1"] == pytest.approx(ours, abs=1e-12)


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
