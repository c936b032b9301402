"""Running selected cases: each checkpoint loaded once, one at a time, each variant prepared once.

A :class:`CaseRunner` serves the pytest plugin and the asv suite alike: the sample the cases are
evaluated and timed on, a case's loaded checkpoint and prepared variant, and its evaluation (once).
Where a checkpoint's weights cannot be had it times the architecture with random weights if the
settings ask for it, else the case is :class:`~nerperf.errors.Unavailable` with what to do. Failures
are remembered per checkpoint, so a broken checkpoint fails its cases once each, fast, with the same
message. Turning these into pytest outcomes or asv's ``n/a`` is the callers' job.
"""

from __future__ import annotations

import dataclasses
import gc
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from nerperf.cases import Case, Selection, unavailable_variant
from nerperf.data.hub import HubUnreachable
from nerperf.errors import NerperfInputError, Unavailable
from nerperf.progress import SILENT, Status
from nerperf.settings import BY_NAME, Settings

REFERENCE_VARIANT = "fp32"  # every variant's floor is held against its checkpoint's fp32: kept prepared

if TYPE_CHECKING:
    from nerperf.data.conll import Corpus
    from nerperf.evaluation import PredictionsHook
    from nerperf.models.checkpoints import Checkpoint
    from nerperf.results import EvalResult
    from nerperf.variants import Prepared


class CaseFailed(NerperfInputError):
    """A case's checkpoint, variant or data was refused; the message names which and why."""


class CaseRunner:
    def __init__(self, settings: Settings, selection: Selection) -> None:
        self.settings = settings
        self.selection = selection
        self.results: dict[str, EvalResult] = {}
        self.unavailable: dict[str, str] = {}  # case id or checkpoint name -> why it cannot run here
        self.failed: dict[str, str] = {}  # case id, checkpoint name or "data" -> the refusal
        self._corpus: Corpus | None = None
        self._loaded: tuple[str, Checkpoint, dict[str, Prepared]] | None = None  # one checkpoint at a time
        self.status: Status = SILENT  # what is being done, on a terminal (the plugin sets it)
        self.spin = True  # runtimes' threads may spin between calls; not under nerperf gate's turns (the plugin)
        # Under nerperf gate, the threads an evaluation may use given the threads setting (the plugin sets it:
        # fewer while the partner process starts up beside this one); None: the setting's.
        self.evaluation_threads: Callable[[int | None], int | None] = lambda configured: None

    # -- the data -------------------------------------------------------------------------------------
    def corpus(self) -> Corpus:
        if self._corpus is None:
            from nerperf.data.conll import data_format, load_corpus

            s = self.settings
            self._corpus = self._guard("data", lambda: load_corpus(s.data, s.split, data_format=data_format(s)))
        return self._corpus

    def sample(self) -> list[list[str]]:
        """The words of the sentences every case is evaluated and timed on."""
        return [s.words for s in self.corpus().head(self.settings.sentences).sentences]

    # -- cases ----------------------------------------------------------------------------------------
    def evaluate(self, case: Case, on_predictions: PredictionsHook | None = None) -> EvalResult:
        """The case's evaluation on the sample, run once; raises Unavailable or CaseFailed."""
        if case.id in self.results:
            return self.results[case.id]
        checkpoint, prepared = self.prepared(case)
        from nerperf.evaluation import Outputs, Preparation, Timing, evaluate

        s = self.settings
        timing = Timing.from_settings(s)
        capped = self.evaluation_threads(s.threads)
        if capped is not None:
            timing = dataclasses.replace(timing, threads=capped)
        self.status.show(f"nerperf {case.id}: evaluating {len(self.sample())} sentences")
        result = self._guard(
            case.id,
            lambda: evaluate(
                checkpoint,
                self.corpus(),
                variant=case.variant,
                limit=s.sentences,
                timing=timing,
                preparation=Preparation.from_settings(s, prepared),
                outputs=Outputs(on_predictions=on_predictions),
            ),
        )
        self.results[case.id] = result
        return result

    def prepared(self, case: Case) -> tuple[Checkpoint, Prepared]:
        """The case's checkpoint (loaded once, one at a time) and its variant, prepared once.

        One variant besides fp32 (the floors' reference) is kept prepared at a time: the cases run one after
        another, and a variant's runtime (an onnxruntime session, an OpenVINO compiled model) keeps a pool of
        threads that would otherwise live on beside the next variant's timing. A variant needed again is
        prepared again (from the cache, for those built on disk).
        """
        self._check(case)
        reason = unavailable_variant(case)
        if reason:
            self.unavailable[case.id] = reason
            raise Unavailable(reason)
        checkpoint = self._checkpoint(case)
        assert self._loaded is not None
        prepared = self._loaded[2]
        if case.variant not in prepared:
            from nerperf.data.conll import data_format
            from nerperf.evaluation import context
            from nerperf.variants import prepare
            from nerperf.variants.calibration import for_settings

            s = self.settings
            where = context(s.cache_dir, s.threads, spin=self.spin, calibration=for_settings(s, data_format(s)))
            released = [name for name in prepared if name != REFERENCE_VARIANT]
            for name in released:  # their runtimes' thread pools go with them, not beside this one's timing
                del prepared[name]
            if released:
                gc.collect()
            self.status.show(f"nerperf {case.id}: building {case.variant} (or reading it from the cache)")
            prepared[case.variant] = self._guard(case.id, lambda: prepare(case.variant, checkpoint, where))
        return checkpoint, prepared[case.variant]

    def not_run(self) -> list[str]:
        """One line per checkpoint or case that did not run, with why: nothing goes missing silently."""
        return list(dict.fromkeys([*self.unavailable.values(), *self.failed.values()]))

    def _check(self, case: Case) -> None:
        """Raise again what this case or its checkpoint already raised."""
        for key in ("data", case.id, case.spec.name):
            if key in self.unavailable:
                raise Unavailable(self.unavailable[key])
            if key in self.failed:
                raise CaseFailed(self.failed[key])

    def _checkpoint(self, case: Case) -> Checkpoint:
        spec = case.spec
        if self._loaded is not None and self._loaded[0] == spec.name:
            return self._loaded[1]
        self._loaded = None
        gc.collect()  # let the previous checkpoint's memory go before loading the next
        from nerperf.models.checkpoints import load_checkpoint

        limit = self.settings.memory_limit
        self.status.show(f"nerperf {spec.name}: loading the checkpoint")
        try:
            checkpoint = self._guard(spec.name, lambda: load_checkpoint(spec.source, limit))
        except HubUnreachable as error:
            checkpoint = self._random_or_unavailable(case, error)
        self._loaded = (spec.name, checkpoint, {})
        return checkpoint

    def _random_or_unavailable(self, case: Case, error: Exception) -> Checkpoint:
        """Weights out of reach: the architecture with random weights if asked, else unavailable, saying how."""
        spec, s = case.spec, self.settings
        if spec.architecture is None or not s.random_weights:
            option = BY_NAME["random_weights"]
            how = (
                f"or set {option.ini} = true ({option.flag}=true, {option.env}=true) to time "
                f"{spec.architecture}'s architecture with random weights"
                if spec.architecture
                else "nerperf knows no architecture for it to time with random weights"
            )
            reason = (
                f"{spec.name}: weights not reachable offline ({spec.source}: the hub cannot be reached and it "
                f"is not in the Hugging Face cache); add a local copy as {spec.name}=DIRECTORY, {how}"
            )
            self.unavailable[spec.name] = reason
            raise Unavailable(reason) from error
        from nerperf.models.architectures import random_checkpoint

        return self._guard(
            spec.name, lambda: random_checkpoint(spec.architecture, s.stand_in_tokenizer, memory_limit=s.memory_limit)
        )

    def _guard(self, key: str, run: Any) -> Any:
        """Run ``run()``; bad input is remembered under ``key`` and raised as CaseFailed naming it."""
        try:
            return run()
        except Unavailable as why:
            self.unavailable[key] = str(why)
            raise
        except HubUnreachable:
            if key != "data":
                raise  # a checkpoint's weights: random weights or unavailable, the caller decides
            option = BY_NAME["data"]
            self.failed[key] = (
                f"nerperf: the data {self.settings.data!r} ({self.settings.where('data')}) is a hub id, but the "
                f"hub cannot be reached: set {option.ini} ({option.flag}, {option.env}) to a CoNLL file or split "
                "directory"
            )
            raise CaseFailed(self.failed[key]) from None
        except NerperfInputError as error:
            where = f" ({self.settings.where('data')})" if key == "data" else ""
            self.failed[key] = f"nerperf: {key}{where}: {error}"
            raise CaseFailed(self.failed[key]) from None
