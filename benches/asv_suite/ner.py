"""asv benchmarks over the pytest suite's checkpoints × variants, through nerperf's own evaluation core.

One parameter, ``case``, named by :func:`nerperf.registry.param_id` (``minilm-l6-conll03-onnx-int8``),
so asv's history and pytest-benchmark's name the same thing the same way. The cases are those of
``pytest --benchmark-only`` here: the study's checkpoints and the offline ones in ``../shared/models``
(the repository's ``conftest.py`` defaults, with ``NERPERF_*`` variables honoured), times every variant.
A case that cannot run here (weights not reachable, variant not supported) raises
``NotImplementedError`` in ``setup``: asv shows it as n/a, not as a failure.

asv reads every number as lower-is-better, so accuracy is tracked as the F1 error, 100 × (1 − F1) in
points: an accuracy drop shows as a regression. Loading is from disk: checkpoints from their
directories, built variants (ONNX exports, quantized graphs) from nerperf's variant cache, built once by
the first process that needs them. Nothing heavy goes through ``setup_cache``'s pickles. Each
benchmark runs in its own process, so ``peakmem_`` is one case's memory alone.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib.util
import itertools
import sys
from pathlib import Path
from typing import Any

# Imported here, not in setup: asv's forkserver (asv.conf.json) imports this module once and forks a
# process per benchmark from it, so torch and transformers are not imported again for each of them
# (about 6 s each here).
import torch  # noqa: F401
import transformers  # noqa: F401

from nerperf.checkpoints import load_checkpoint
from nerperf.conll import load_corpus
from nerperf.evaluation import context, evaluate
from nerperf.hub import HubUnreachable
from nerperf.runner import predict
from nerperf.variants import VariantUnavailable, prepare

ROOT = Path(__file__).resolve().parents[2]
TIMED_SENTENCES = 256  # throughput: the first N sentences of the split, length-sorted batches
LATENCY_SENTENCES = 100  # latency: one sample per sentence, each at batch size 1


def _settings() -> Any:
    """The pytest suite's settings here: ``NERPERF_*`` variables, then the repository's offline defaults."""
    from nerperf.settings import Settings, from_environment

    settings = Settings.resolve({}, from_environment(), {})
    spec = importlib.util.spec_from_file_location("nerperf_repository_conftest", ROOT / "conftest.py")
    if spec is None or spec.loader is None or not (ROOT / "conftest.py").is_file():
        return settings
    conftest = sys.modules[spec.name] = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(conftest)
    if not (conftest.SHARED / "models").is_dir():
        return settings
    return settings.with_defaults("conftest.py (offline default)", **conftest.offline_defaults())


def _session() -> Any:
    from nerperf.session import NerperfSession  # its case list is the pytest suite's

    return NerperfSession(SETTINGS)


SETTINGS = _settings()
SESSION = _session()
CASES = {case.id: case for case in SESSION.cases}
if any(c.variant.startswith("onnx") for c in CASES.values()) and importlib.util.find_spec("onnxruntime"):
    import onnxruntime  # noqa: F401


@functools.lru_cache(maxsize=1)
def _loaded(case_id: str) -> tuple[Any, Any, Any]:
    """The case's checkpoint, prepared variant and data, loaded once per process.

    asv runs ``setup`` again before every sample; loading there would time nothing but reloads.
    """
    case = CASES[case_id]
    reason = SESSION.unavailable_variant(case)
    if reason:
        raise NotImplementedError(f"{case_id}: {reason}")
    try:
        checkpoint = load_checkpoint(case.spec.source)
        where = context(SETTINGS.cache_dir, SETTINGS.threads)  # None: $NERPERF_CACHE or ~/.cache/nerperf
        prepared = prepare(case.variant, checkpoint, where)
    except (HubUnreachable, VariantUnavailable) as why:
        raise NotImplementedError(f"{case_id}: {why}") from None
    return checkpoint, prepared, load_corpus(SETTINGS.data, SETTINGS.split)


class _Case:
    """Setup shared by every benchmark: the case's checkpoint, loaded, and its variant, prepared."""

    params = [list(CASES)]
    param_names = ["case"]
    timeout = 900  # a first ONNX export of a large checkpoint; later runs read it from the cache

    def setup(self, case_id: str) -> None:
        self.checkpoint, self.prepared, self.corpus = _loaded(case_id)
        self.variant = CASES[case_id].variant


class Speed(_Case):
    """Per-sentence latency at batch size 1 and throughput at the suite's batch size."""

    number = 1  # one call per sample: a sample is one sentence (latency) or the whole timed set
    warmup_time = 0.0  # warmed up once per process instead, so every run times the same sentences

    def setup(self, case_id: str) -> None:
        super().setup(case_id)
        self.sentences = _sentences(case_id)

    def time_latency(self, case_id: str) -> None:
        """One sentence at batch size 1, the next sentence each sample: asv's median is the median latency."""
        _run(case_id, next(self.sentences.latency), 1)

    time_latency.repeat = LATENCY_SENTENCES  # type: ignore[attr-defined]

    def time_throughput(self, case_id: str) -> None:
        """The first TIMED_SENTENCES sentences in length-sorted batches: sentences/s = N / this time."""
        _run(case_id, self.sentences.throughput, SETTINGS.batch_size)

    time_throughput.repeat = 3  # type: ignore[attr-defined]


@dataclasses.dataclass
class _Sentences:
    latency: Any  # cycles through the latency sentences, one per sample, across asv's repeated setups
    throughput: list[list[str]]


@functools.lru_cache(maxsize=1)
def _sentences(case_id: str) -> _Sentences:
    """The timed sentences, after one warm-up batch (excluded from every sample)."""
    sentences = [s.words for s in _loaded(case_id)[2].sentences]
    throughput = sentences[:TIMED_SENTENCES]
    _run(case_id, throughput[: SETTINGS.batch_size], SETTINGS.batch_size)
    return _Sentences(itertools.cycle([[w] for w in sentences[:LATENCY_SENTENCES]]), throughput)


def _run(case_id: str, sentences: list[list[str]], batch_size: int) -> None:
    checkpoint, prepared, _ = _loaded(case_id)
    predict(checkpoint, sentences, batch_size, SETTINGS.threads, False, prepared.forward)


class Accuracy(_Case):
    """The study's accuracy figure and the memory it takes, from one evaluation of its sample."""

    def peakmem_evaluate(self, case_id: str) -> None:
        """The process's peak resident memory: the checkpoint, its variant and one batched evaluation."""
        self._evaluate()

    def track_f1_error(self, case_id: str) -> float:
        """100 × (1 − F1) on the study's sample (lower is better, as asv reads it)."""
        result = self._evaluate()
        if result.f1 is None:
            raise NotImplementedError(f"{case_id}: random weights have no F1")
        return 100 * (1 - result.f1)

    track_f1_error.unit = "points"  # type: ignore[attr-defined]

    def _evaluate(self) -> Any:
        return evaluate(
            self.checkpoint,
            self.corpus,
            limit=SETTINGS.sentences,  # the study's 1,000 unless NERPERF_SENTENCES says otherwise
            batch_size=SETTINGS.batch_size,
            threads=SETTINGS.threads,
            variant=self.variant,
            prepared=self.prepared,
        )
