"""asv benchmarks over the pytest suite's checkpoints × variants, through nerperf's own evaluation core.

One parameter, ``case``, named by :func:`nerperf.models.registry.param_id` (``minilm-l6-conll03-onnx-int8``),
so asv's history and pytest-benchmark's name the same thing the same way. The cases are
:func:`nerperf.cases.select`'s for this repository's settings (``NERPERF_*`` variables, then the
``nerperf_*`` keys of its pyproject.toml: the study's checkpoints and the offline ones in
``../shared/models``), times every variant, as ``pytest --benchmark-only`` runs them. A
:class:`~nerperf.case_runner.CaseRunner` loads and prepares them as the plugin does, random-weights
fallback included; a case that cannot run here raises ``NotImplementedError`` in ``setup``: asv shows
it as n/a, not as a failure.

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
from pathlib import Path
from typing import Any

# Imported here, not in setup: asv's forkserver (asv.conf.json) imports this module once and forks a
# process per benchmark from it, so torch and transformers are not imported again for each of them
# (about 6 s each here).
import torch  # noqa: F401
import transformers  # noqa: F401

from nerperf.case_runner import CaseRunner
from nerperf.cases import select
from nerperf.errors import NerperfInputError, Unavailable
from nerperf.ini_file import project_settings
from nerperf.models.runner import predict

ROOT = Path(__file__).resolve().parents[2]
TIMED_SENTENCES = 256  # throughput: the first N sentences of the split, batched by sub-tokens
LATENCY_SENTENCES = 100  # latency: one sample per sentence, each at batch size 1

SETTINGS = project_settings(ROOT)
RUNNER = CaseRunner(SETTINGS, select(SETTINGS))
CASES = {case.id: case for case in RUNNER.selection.cases}
if any(c.variant.startswith("onnx") for c in CASES.values()) and importlib.util.find_spec("onnxruntime"):
    import onnxruntime  # noqa: F401


@functools.lru_cache(maxsize=1)
def _loaded(case_id: str) -> tuple[Any, Any, Any]:
    """The case's checkpoint, prepared variant and data, loaded once per process.

    asv runs ``setup`` again before every sample; loading there would time nothing but reloads.
    """
    try:
        checkpoint, prepared = RUNNER.prepared(CASES[case_id])
        return checkpoint, prepared, RUNNER.corpus()
    except (Unavailable, NerperfInputError) as why:
        raise NotImplementedError(f"{case_id}: {why}") from None


class _Case:
    """Setup shared by every benchmark: the case's checkpoint, loaded, and its variant, prepared."""

    params = [list(CASES)]
    param_names = ["case"]
    timeout = 900  # a first ONNX export of a large checkpoint; later runs read it from the cache

    def setup(self, case_id: str) -> None:
        self.checkpoint, self.prepared, self.corpus = _loaded(case_id)
        self.case_id = case_id


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
        """The first TIMED_SENTENCES sentences, batched by sub-tokens: sentences/s = N / this time."""
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
    predict(checkpoint, sentences, batch_size, SETTINGS.threads, False, prepared.forward, SETTINGS.max_tokens)


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
        """The study's sample (1,000 sentences unless NERPERF_SENTENCES says otherwise), as the plugin runs it."""
        return RUNNER.evaluate(CASES[self.case_id])
