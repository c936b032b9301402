"""``evaluate()``: a checkpoint on a CoNLL split -> :class:`EvalResult`. The one entry point.

It only wires the parts together: data (:mod:`nerperf.data.conll`), checkpoint (:mod:`nerperf.models.checkpoints`),
labels by name (:mod:`nerperf.data.labels`), the variant (:mod:`nerperf.variants`), inference and timing
(:mod:`nerperf.models.runner`), scores (:mod:`nerperf.data.metrics`). The command line, the pytest plugin (through
:mod:`nerperf.case_runner`), the asv suite and the benchmarks all call it.
"""

from __future__ import annotations

import platform
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from nerperf import study, variants
from nerperf.data import semeval
from nerperf.data.conll import DEFAULT_FORMAT, Corpus, DataError, DataFormat, Sentence, load_corpus, write_conll
from nerperf.data.labels import LabelMap
from nerperf.data.metrics import bootstrap_f1, percentiles, score
from nerperf.machine import MemoryProbe, installed_version, machine_label
from nerperf.models.architectures import matmul_flops
from nerperf.models.checkpoints import Checkpoint, load_checkpoint
from nerperf.models.runner import UNALIGNED, one_batch, predict
from nerperf.progress import SILENT, Status
from nerperf.results import Build, Coverage, EvalResult, Memory, Speed
from nerperf.settings import CALIBRATION_SENTENCES, MAX_TOKENS
from nerperf.variants import cache
from nerperf.variants.calibration import Calibration, for_evaluation

if TYPE_CHECKING:
    from nerperf.settings import Settings

# Called with the evaluated sentences and each one's predicted tags, one per word.
PredictionsHook = Callable[[Sequence[Sentence], list[list[str]]], None]


@dataclass(frozen=True)
class Timing:
    """How the sentences are batched and timed: at most ``batch_size`` windows and ``max_tokens`` padded
    sub-tokens a batch (:func:`nerperf.models.batching.plan_batches`), on ``threads`` (default: torch's),
    after one untimed pass over every padded shape (``warmup``)."""

    batch_size: int = 32
    max_tokens: int | None = MAX_TOKENS
    threads: int | None = None
    warmup: bool = True

    @classmethod
    def from_settings(cls, settings: Settings) -> Timing:
        """As the command line, the plugin and asv configure it: one reading of the settings."""
        return cls(settings.batch_size, settings.max_tokens, settings.threads)


@dataclass(frozen=True)
class Scoring:
    """How predictions are scored: seqeval's ``mode`` (:data:`nerperf.data.metrics.MODES`), and a 95%
    interval for F1 from ``bootstrap`` resamples of sentences (0: none), drawn with ``seed``."""

    mode: str = "conlleval"
    bootstrap: int = 0
    seed: int = 0


@dataclass(frozen=True)
class Preparation:
    """How the checkpoint is loaded and its variant built: the variants' cache (default:
    :func:`nerperf.variants.cache.default_root`), the memory limit checked before loading
    (:func:`nerperf.models.checkpoints.load_checkpoint`), and what the statically quantized variants
    calibrate on (:mod:`nerperf.variants.calibration`; by default the evaluated data's training split).
    ``prepared``: the variant already built for this checkpoint (the plugin reuses it for its
    benchmarks); its build is then not in the peak memory."""

    cache_dir: str | Path | None = None
    memory_limit: int | None = None
    calibration_data: str | None = None
    calibration_sentences: int = CALIBRATION_SENTENCES
    prepared: variants.Prepared | None = None

    @classmethod
    def from_settings(cls, settings: Settings, prepared: variants.Prepared | None = None) -> Preparation:
        """As the command line, the plugin and asv configure it: one reading of the settings."""
        return cls(
            settings.cache_dir,
            settings.memory_limit,
            settings.calibration_data,
            settings.calibration_sentences,
            prepared,
        )


@dataclass(frozen=True)
class Outputs:
    """What an evaluation tells besides its result: what it is doing (``status``,
    :mod:`nerperf.progress`), and each sentence's predicted tags, to a hook (``on_predictions``: the
    plugin keeps them for ``nerperf gate``) or as ``WORD GOLD PREDICTED`` lines in a file
    (``predictions_to``: ``conlleval``'s input, for error analysis)."""

    status: Status = SILENT
    on_predictions: PredictionsHook | None = None
    predictions_to: str | Path | None = None


def evaluate(
    model: str | Path | Checkpoint,
    data: str | Path | Corpus,
    *,
    variant: str = "fp32",
    limit: int | None = None,
    split: str = study.SPLIT,
    data_format: DataFormat = DEFAULT_FORMAT,
    timing: Timing = Timing(),
    scoring: Scoring = Scoring(),
    preparation: Preparation = Preparation(),
    outputs: Outputs = Outputs(),
) -> EvalResult:
    """Evaluate ``model`` (directory, hub id or loaded checkpoint) on ``data`` (file, directory, hub id).

    ``variant`` names one of :data:`nerperf.variants.VARIANTS`, built on first use (``preparation``).
    ``limit`` keeps the first N sentences of ``split``. ``data_format``: which columns, comments,
    encoding, tag scheme and label map the data is read with (:class:`nerperf.data.conll.DataFormat`, the
    one place for the tag scheme); a loaded ``Corpus`` carries its own. The label map renames the model's
    types too. A checkpoint with random weights (:func:`nerperf.models.architectures.random_checkpoint`)
    is timed but not scored. The options objects group the rest, each built the same way by every caller
    (``Timing.from_settings``, ``Preparation.from_settings``).
    """
    variants.get_variant(variant)  # an unknown name fails before any loading
    corpus = data if isinstance(data, Corpus) else load_corpus(data, split, data_format=data_format)
    type_map = corpus.data_format.type_map
    data_types = corpus.entity_types  # of the whole split: a type absent from the sample is not "extra"
    if not data_types:
        raise DataError(
            f"{corpus.source}: no entities (every tag is O), so precision, recall and F1 are undefined; "
            "check --data and --split"
        )
    corpus = corpus.head(limit)
    if not corpus.entity_types:
        raise DataError(
            f"{corpus.source}: the first {len(corpus.sentences)} sentences hold no entity, so precision, recall "
            "and F1 are undefined; evaluate more sentences (the sentences setting: --sentences, NERPERF_SENTENCES)"
        )
    status = outputs.status
    memory = MemoryProbe.start()
    if not isinstance(model, Checkpoint):
        status.show(f"loading {model}")
    checkpoint = model if isinstance(model, Checkpoint) else load_checkpoint(model, preparation.memory_limit)
    labels = LabelMap.build(checkpoint.id2label, data_types, checkpoint.name, type_map)
    unused = tuple(type_map.unused(corpus.original_types, labels.model_types))  # a WARNING note, not an error
    prepared, threads = preparation.prepared, timing.threads
    if prepared is None:
        status.show(f"building {variant} (or reading it from the cache)")
        evaluated = None if isinstance(data, Corpus) else str(data)
        sentences = for_evaluation(
            evaluated, split, preparation.calibration_data, preparation.calibration_sentences, corpus.data_format
        )
        prepared = variants.prepare(variant, checkpoint, context(preparation.cache_dir, threads, calibration=sentences))
    elif prepared.variant != variant:
        raise ValueError(f"prepared variant {prepared.variant!r} given for variant {variant!r}")

    words = [s.words for s in corpus.sentences]
    status.show(f"evaluating {len(words)} sentences, batch size {timing.batch_size}")
    run = predict(checkpoint, words, timing.batch_size, threads, timing.warmup, prepared.forward, timing.max_tokens)
    built = dict(prepared.details)
    if prepared.kernels is not None:  # after the timed passes: one more small batch, reported
        built["kernels"] = prepared.kernels(one_batch(checkpoint, words, threads, prepared.forward)).to_dict()
    status.clear()
    peak = memory.peak()
    random = checkpoint.weights == "random"
    gold = [s.tags for s in corpus.sentences]
    mode = scoring.mode
    predicted = [labels.decode(row, mode) for row in run.label_ids]
    scores = None if random else score(gold, predicted, mode)
    partial_credit = None if random else semeval.score(gold, predicted)
    if outputs.predictions_to is not None:
        write_conll(outputs.predictions_to, corpus.sentences, predicted)
    if outputs.on_predictions is not None:
        outputs.on_predictions(corpus.sentences, predicted)
    dropped = {} if random else labels.dropped_counts(i for row in run.label_ids for i in row if i != UNALIGNED)

    timing = run.timing
    n = len(corpus.sentences)
    tail = percentiles(timing.latencies_s)
    return EvalResult(
        checkpoint=checkpoint.name,
        variant=variant,
        data=corpus.source,
        split=corpus.split,
        sentences=n,
        data_scheme=corpus.scheme.describe(),
        scores=scores,
        speed=Speed(
            total_s=timing.total_s,
            tokenize_s=timing.tokenize_s,
            model_s=timing.model_s,
            samples_per_s=n / timing.total_s if timing.total_s > 0 else float("inf"),
            latency_mean_s=timing.total_s / n,
            latency_p50_s=tail[50],
            latency_p90_s=tail[90],
            latency_p99_s=tail[99],
            batch_size=timing.batch_size,
            threads=timing.threads,
            warmup_batches=timing.warmup_batches,
            matmul_gflop=matmul_flops(checkpoint.model.config, timing.shapes) / 1e9,
            max_tokens=timing.max_tokens,
            real_tokens=timing.real_tokens,
            padded_tokens=timing.padded_tokens,
        ),
        coverage=Coverage(
            words=sum(len(s.words) for s in corpus.sentences),
            unaligned_words=run.unaligned,
            windowed_sentences=run.windowed,
            dropped_predictions=dict(sorted(dropped.items())),
            unpredictable_types=tuple(sorted(labels.unpredictable_types)),
            dropped_gold=dict(corpus.dropped_gold),
            unused_label_map=unused,
            blank_words=corpus.blank_words,
            trailing_separators=corpus.trailing_separators,
        ),
        build=Build(prepared.size_bytes, prepared.build_s, prepared.from_cache, built),
        memory=Memory(memory.start_bytes, peak, memory.method),
        f1_ci95=bootstrap_f1(gold, predicted, mode, samples=scoring.bootstrap, seed=scoring.seed)
        if scoring.bootstrap > 0 and not random
        else None,
        weights="random" if random else "real",
        tokenizer=checkpoint.tokenizer_source,
        environment=environment(),
        schemes=partial_credit.schemes if partial_credit else None,
        errors=partial_credit.errors if partial_credit else None,
        data_format=corpus.data_format.to_dict(),
        sentences_in_data=corpus.sentences_in_data,
    )


def environment() -> dict[str, str]:
    """What moves the numbers, recorded with every result: the CPU (model, the flags that decide the
    variants, cores) and the versions of the libraries."""
    found = {"python": platform.python_version(), "machine": platform.machine(), "cpu": machine_label()}
    for package in ("nerperf", "torch", "transformers", "tokenizers", "seqeval", "onnx", "onnxruntime"):
        found[package] = installed_version(package)
    return found


def context(
    cache_dir: str | Path | None, threads: int | None, spin: bool = True, calibration: Calibration | None = None
) -> variants.Context:
    """Where variants are cached, the threads a variant's own runtime (onnxruntime, OpenVINO) uses (torch's),
    and the statically quantized variants' calibration sentences."""
    if threads is None:
        import torch

        threads = torch.get_num_threads()
    return variants.Context(Path(cache_dir) if cache_dir else cache.default_root(), threads, spin, calibration)
