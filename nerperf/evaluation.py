"""``evaluate()``: a checkpoint on a CoNLL split -> :class:`EvalResult`. The one entry point.

It only wires the parts together: data (:mod:`nerperf.data.conll`), checkpoint (:mod:`nerperf.models.checkpoints`),
labels by name (:mod:`nerperf.data.labels`), the variant (:mod:`nerperf.variants`), inference and timing
(:mod:`nerperf.models.runner`), scores (:mod:`nerperf.data.metrics`). The command line, the pytest plugin (through
:mod:`nerperf.case_runner`), the asv suite and the benchmarks all call it.
"""

from __future__ import annotations

import platform
from collections.abc import Callable, Sequence
from pathlib import Path

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

# Called with the evaluated sentences and each one's predicted tags, one per word.
PredictionsHook = Callable[[Sequence[Sentence], list[list[str]]], None]


def evaluate(
    model: str | Path | Checkpoint,
    data: str | Path | Corpus,
    *,
    split: str = study.SPLIT,
    limit: int | None = None,
    batch_size: int = 32,
    max_tokens: int | None = MAX_TOKENS,
    threads: int | None = None,
    data_format: DataFormat = DEFAULT_FORMAT,
    mode: str = "conlleval",
    bootstrap: int = 0,
    seed: int = 0,
    warmup: bool = True,
    variant: str = "fp32",
    cache_dir: str | Path | None = None,
    prepared: variants.Prepared | None = None,
    predictions_to: str | Path | None = None,
    on_predictions: PredictionsHook | None = None,
    memory_limit: int | None = None,
    calibration_data: str | None = None,
    calibration_sentences: int = CALIBRATION_SENTENCES,
    status: Status = SILENT,
) -> EvalResult:
    """Evaluate ``model`` (directory, hub id or loaded checkpoint) on ``data`` (file, directory, hub id).

    ``batch_size`` and ``max_tokens`` limit each batch's windows and padded sub-tokens
    (:func:`nerperf.models.batching.plan_batches`). ``limit`` keeps the first N sentences; ``bootstrap`` > 0 adds a 95%
    interval for F1 from that many resamples of sentences. ``variant`` names one of
    :data:`nerperf.variants.VARIANTS`, built on first use into ``cache_dir`` (default:
    :func:`nerperf.cache.default_root`). A checkpoint with random weights
    (:func:`nerperf.models.architectures.random_checkpoint`) is timed but not scored. ``prepared``: the variant already
    prepared for this checkpoint (the pytest plugin reuses it for its benchmarks); its build is then not in the peak
    memory. ``predictions_to``: also write ``WORD GOLD PREDICTED`` lines there (``conlleval``'s input), for error
    analysis; ``on_predictions(sentences, tags)`` receives them (the plugin keeps them for ``nerperf gate``).
    ``calibration_data`` and ``calibration_sentences``: what the statically quantized variants calibrate on
    (:mod:`nerperf.variants.calibration`; by default ``data``'s training split). ``memory_limit``: see
    :func:`load_checkpoint`. ``data_format``: which columns, comments, encoding, tag scheme
    and label map the data is read with (:class:`nerperf.data.conll.DataFormat`, the one place for the tag scheme); a
    loaded ``Corpus`` carries its own. The label map renames the model's types too. ``status``: where to say what is
    being done (:mod:`nerperf.progress`; ``nerperf eval`` shows it on a terminal).
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
    memory = MemoryProbe.start()
    if not isinstance(model, Checkpoint):
        status.show(f"loading {model}")
    checkpoint = model if isinstance(model, Checkpoint) else load_checkpoint(model, memory_limit)
    labels = LabelMap.build(checkpoint.id2label, data_types, checkpoint.name, type_map)
    unused = tuple(type_map.unused(corpus.original_types, labels.model_types))  # a WARNING note, not an error
    if prepared is None:
        status.show(f"building {variant} (or reading it from the cache)")
        evaluated = None if isinstance(data, Corpus) else str(data)
        sentences = for_evaluation(evaluated, split, calibration_data, calibration_sentences, corpus.data_format)
        prepared = variants.prepare(variant, checkpoint, context(cache_dir, threads, calibration=sentences))
    elif prepared.variant != variant:
        raise ValueError(f"prepared variant {prepared.variant!r} given for variant {variant!r}")

    words = [s.words for s in corpus.sentences]
    status.show(f"evaluating {len(words)} sentences, batch size {batch_size}")
    run = predict(checkpoint, words, batch_size, threads, warmup, prepared.forward, max_tokens)
    built = dict(prepared.details)
    if prepared.kernels is not None:  # after the timed passes: one more small batch, reported
        built["kernels"] = prepared.kernels(one_batch(checkpoint, words, threads, prepared.forward)).to_dict()
    status.clear()
    peak = memory.peak()
    random = checkpoint.weights == "random"
    gold = [s.tags for s in corpus.sentences]
    predicted = [labels.decode(row, mode) for row in run.label_ids]
    scores = None if random else score(gold, predicted, mode)
    partial_credit = None if random else semeval.score(gold, predicted)
    if predictions_to is not None:
        write_conll(predictions_to, corpus.sentences, predicted)
    if on_predictions is not None:
        on_predictions(corpus.sentences, predicted)
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
        f1_ci95=bootstrap_f1(gold, predicted, mode, samples=bootstrap, seed=seed)
        if bootstrap > 0 and not random
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
