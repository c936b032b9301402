"""The state of one pytest run: settings, cases, evaluations, floors, timings, and the summary.

Each checkpoint × variant is evaluated once per run (:func:`nerperf.evaluation.evaluate`, batched over
the sample) and shared by its floor test and benchmarks; the baseline is evaluated first. Only one
checkpoint is held in memory at a time (the plugin orders the tests by checkpoint). Benchmarks time
the same prepared variant through pytest-benchmark: per-sentence latency at batch size 1 (one round per
sentence) and throughput at the batch size (one round per length-sorted batch). What cannot run here
is skipped with the reason and what to do, and listed in the summary. The hooks are
:mod:`nerperf.plugin`'s; torch and transformers are imported only when a case runs.
"""

from __future__ import annotations

import gc
import itertools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from nerperf import registry
from nerperf.floors import Floor, check, require
from nerperf.registry import CheckpointSpec, param_id
from nerperf.results import EvalResult
from nerperf.settings import Settings, SettingsError


@dataclass(frozen=True)
class Case:
    """One checkpoint × variant: what every nerperf test is parametrized over."""

    spec: CheckpointSpec
    variant: str

    @property
    def id(self) -> str:
        return param_id(self.spec.name, self.variant)


class Unavailable(Exception):
    """A case that cannot run here; the message says why and what to do (a skip, not a failure)."""


class NerperfSession:
    def __init__(self, settings: Settings) -> None:
        from nerperf import variants

        self.settings = settings
        self.registry, specs = _select(settings)
        self.baseline = registry.lookup(self.registry, settings.baseline, f"baseline ({settings.where('baseline')})")
        names = list(settings.variants or variants.VARIANTS)
        for name in names:
            try:
                variants.get_variant(name)
            except variants.VariantError as error:
                raise SettingsError(f"{settings.where('variants')}: {error}") from None
        ordered = [self.baseline] + [s for s in specs if s != self.baseline] if self.baseline in specs else specs
        self.cases = [Case(spec, variant) for spec in ordered for variant in names]
        self._check_tolerance_keys()
        self.results: dict[str, EvalResult] = {}
        self.failed: dict[str, str] = {}  # case or checkpoint name -> why it could not run
        self.skipped: dict[str, str] = {}
        self.floors: list[Floor] = []
        self.latency: dict[str, dict[int, float]] = {}  # case -> batch-1 latency percentiles (s), from its benchmark
        self._corpus: Any = None
        self._loaded: tuple[str, Any, dict[str, Any]] | None = None  # (checkpoint, Checkpoint, prepared variants)

    # -- what runs ------------------------------------------------------------------------------------
    def floor_cases(self) -> list[Case]:
        """Every case but the baseline's fp32, which is the reference itself."""
        return [c for c in self.cases if not (c.spec == self.baseline and c.variant == "fp32")]

    def unavailable_variant(self, case: Case) -> str | None:
        from nerperf.variants import VARIANTS

        reason = VARIANTS[case.variant].unavailable()
        return f"variant {case.variant} cannot run here: {reason}" if reason else None

    def order(self, case: Case) -> int:
        return self.cases.index(case) if case in self.cases else len(self.cases)

    # -- evaluations ----------------------------------------------------------------------------------
    def result(self, case: Case) -> EvalResult:
        """The case's evaluation, run once per session (the baseline's first); skips what cannot run."""
        baseline = Case(self.baseline, "fp32")
        if case != baseline and baseline.id not in self.results and baseline.id not in self.skipped:
            try:
                self._evaluate(baseline)
            except (Unavailable, pytest.fail.Exception):
                pass  # its own tests report it; floors against it skip or fail with its message
        try:
            return self._evaluate(case)
        except Unavailable as why:
            pytest.skip(str(why))

    def _evaluate(self, case: Case) -> EvalResult:
        for key in (case.id, case.spec.name):
            if key in self.skipped:
                raise Unavailable(self.skipped[key])
            if key in self.failed:
                pytest.fail(self.failed[key], pytrace=False)
        if case.id in self.results:
            return self.results[case.id]
        reason = self.unavailable_variant(case)
        if reason:
            self.skipped[case.id] = reason
            raise Unavailable(reason)
        checkpoint, prepared = self._prepare(case)
        from nerperf.evaluation import evaluate

        s = self.settings
        result = self._guard(
            case.id,
            lambda: evaluate(
                checkpoint,
                self.corpus(),
                limit=s.sentences,
                batch_size=s.batch_size,
                threads=s.threads,
                variant=case.variant,
                prepared=prepared,
            ),
        )
        self.results[case.id] = result
        return result

    def corpus(self) -> Any:
        if self._corpus is None:
            from nerperf.conll import load_corpus

            s = self.settings
            self._corpus = self._guard("data", lambda: load_corpus(s.data, s.split))
        return self._corpus

    def _prepare(self, case: Case) -> tuple[Any, Any]:
        """The case's checkpoint (loaded once, one at a time) and its prepared variant."""
        checkpoint = self._checkpoint(case.spec)
        assert self._loaded is not None
        prepared = self._loaded[2]
        if case.variant not in prepared:  # an unavailable variant was skipped before (unavailable_variant)
            from nerperf.evaluation import context
            from nerperf.variants import prepare

            where = context(self.settings.cache_dir, self.settings.threads)
            prepared[case.variant] = self._guard(case.id, lambda: prepare(case.variant, checkpoint, where))
        return checkpoint, prepared[case.variant]

    def _checkpoint(self, spec: CheckpointSpec) -> Any:
        if self._loaded is not None and self._loaded[0] == spec.name:
            return self._loaded[1]
        self._loaded = None
        gc.collect()  # let the previous checkpoint's memory go before loading the next
        from nerperf.checkpoints import load_checkpoint
        from nerperf.hub import HubUnreachable

        try:
            checkpoint = self._guard(spec.name, lambda: load_checkpoint(spec.source))
        except HubUnreachable as error:
            checkpoint = self._random_or_skip(spec, error)
        self._loaded = (spec.name, checkpoint, {})
        return checkpoint

    def _random_or_skip(self, spec: CheckpointSpec, error: Exception) -> Any:
        """Weights out of reach: time the architecture with random weights if asked, else skip, saying how."""
        s = self.settings
        if spec.architecture is None or not s.random_weights:
            how = (
                "or set nerperf_random_weights = true (--nerperf-random-weights=true) to time "
                f"{spec.architecture}'s architecture with random weights"
                if spec.architecture
                else "nerperf knows no architecture for it to time with random weights"
            )
            reason = (
                f"{spec.name}: weights not reachable offline ({spec.source}: the hub cannot be reached and it "
                f"is not in the Hugging Face cache); add a local copy as {spec.name}=DIRECTORY, {how}"
            )
            self.skipped[spec.name] = reason
            raise Unavailable(reason) from error
        from nerperf.architectures import random_checkpoint

        return self._guard(spec.name, lambda: random_checkpoint(spec.architecture, s.stand_in_tokenizer))

    def _guard(self, key: str, run: Any) -> Any:
        """Run ``run()``; nerperf's own errors fail every test of ``key`` with their message."""
        from nerperf.errors import input_errors
        from nerperf.hub import HubUnreachable
        from nerperf.variants import VariantUnavailable

        try:
            return run()
        except HubUnreachable:
            if key == "data":
                self.failed[key] = f"data {self.settings.data!r} ({self.settings.where('data')}): hub unreachable"
                raise self._data_error() from None
            raise
        except VariantUnavailable:
            raise
        except input_errors() as error:
            where = f" ({self.settings.where('data')})" if key == "data" else ""
            self.failed[key] = f"nerperf: {key}{where}: {error}"
            pytest.fail(self.failed[key], pytrace=False)

    def _data_error(self) -> BaseException:
        return pytest.fail.Exception(
            f"nerperf: the data {self.settings.data!r} ({self.settings.where('data')}) is a hub id, but the hub "
            "cannot be reached: set nerperf_data (--nerperf-data, NERPERF_DATA) to a CoNLL file or split directory",
            pytrace=False,
        )

    # -- floors ---------------------------------------------------------------------------------------
    def check_floor(self, case: Case) -> Floor:
        """Hold the case to its floor: fp32 against the baseline, a variant against its own fp32."""
        result = self.result(case)
        if result.f1 is None:
            pytest.skip(f"{case.id}: random weights have no F1 to hold to a floor")
        if case.variant == "fp32":
            reference = Case(self.baseline, "fp32")
            tolerance = self.settings.tolerance_for(case.spec.name)
            tolerance = tolerance if tolerance is not None else case.spec.f1_tolerance
            tolerance = tolerance if tolerance is not None else self.settings.f1_tolerance
        else:
            reference = Case(case.spec, "fp32")
            tolerance = self.settings.tolerance_for(case.id)
            tolerance = tolerance if tolerance is not None else self.settings.variant_tolerance
        try:
            reference_result = self._evaluate(reference)
        except Unavailable as why:
            pytest.skip(f"{case.id}: its reference {reference.id} cannot run: {why}")
        if reference_result.f1 is None:
            pytest.skip(f"{case.id}: its reference {reference.id} has random weights: no F1 to compare with")
        floor = check(result, reference_result, tolerance, (case.id, reference.id))
        self.floors.append(floor)  # held or not: the summary lists every floor checked
        require(floor, result, reference_result)
        return floor

    # -- benchmarks -----------------------------------------------------------------------------------
    def time_latency(self, benchmark: Any, case: Case) -> None:
        """Per-sentence latency at batch size 1: one pytest-benchmark round per sentence of the sample."""
        result = self.result(case)
        words = self._sample()
        rounds = itertools.cycle([[w] for w in words])
        self._benchmark(benchmark, case, result, "latency, batch 1", words, rounds, len(words), 1)

    def time_throughput(self, benchmark: Any, case: Case) -> None:
        """Throughput at the batch size: one round per batch, batched longest first as the evaluation does."""
        from nerperf.runner import length_sorted_batches

        result = self.result(case)
        words = self._sample()
        batches = [[words[i] for i in batch] for batch in length_sorted_batches(words, self.settings.batch_size)]
        label = f"throughput, batch {self.settings.batch_size}"
        self._benchmark(benchmark, case, result, label, words, itertools.cycle(batches), len(batches), None)

    def _sample(self) -> list[list[str]]:
        """The words of the sentences every case is evaluated and timed on."""
        return [s.words for s in self.corpus().head(self.settings.sentences).sentences]

    def _benchmark(
        self,
        benchmark: Any,
        case: Case,
        result: EvalResult,
        label: str,
        words: list[Any],
        rounds: Any,
        count: int,
        batch_size: int | None,
    ) -> None:
        from nerperf.runner import predict

        checkpoint, prepared = self._prepare(case)
        size = batch_size or self.settings.batch_size
        threads = self.settings.threads

        def run(sentences: list[Any]) -> None:
            predict(checkpoint, sentences, size, threads, warmup=False, forward=prepared.forward)

        benchmark.group = f"{case.spec.name}: {label}"
        benchmark.extra_info.update(self.extra_info(case, result))
        benchmark.pedantic(run, setup=lambda: ((next(rounds),), {}), rounds=count, warmup_rounds=1)
        if benchmark.stats is not None:  # None under --benchmark-disable: run once, untimed
            from nerperf.metrics import percentiles

            timings = benchmark.stats.stats
            benchmark.extra_info["timed_sentences_per_s"] = len(words) / timings.total
            if batch_size == 1:
                self.latency[case.id] = percentiles(list(timings.data))
                benchmark.extra_info["latency_percentiles_s"] = self.latency[case.id]

    def extra_info(self, case: Case, result: EvalResult) -> dict[str, Any]:
        """What a benchmark's JSON carries beside its timings: enough to rebuild the study's table."""
        s = result.scores
        return {
            "nerperf_id": case.id,
            "baseline": self.baseline_id,
            "checkpoint": case.spec.name,
            "source": case.spec.source,
            "variant": case.variant,
            "weights": result.weights,
            "f1": s.f1 if s else None,
            "precision": s.precision if s else None,
            "recall": s.recall if s else None,
            "accuracy": s.accuracy if s else None,
            "sentences": result.sentences,
            "size_bytes": result.build.size_bytes,
            "peak_memory_bytes": result.memory.peak_bytes,
            "result": result.to_dict(),
        }

    # -- the end --------------------------------------------------------------------------------------
    def run_summary(self) -> Any:
        from nerperf.table import RunSummary

        published = {param_id(s.name, "fp32"): s.published for s in self.registry.values() if s.published}
        return RunSummary(self.named_results(), self.baseline_id, self.latency, published, self.not_run(), self.floors)

    def summary(self) -> str:
        from nerperf.table import summary_text

        return summary_text(self.run_summary())

    def case(self, checkpoint: str, variant: str) -> Case:
        """A case by checkpoint name (or source) and variant, for users' own tests to compare with."""
        from nerperf.variants import get_variant

        get_variant(variant)
        return Case(registry.lookup(self.registry, checkpoint, "nerperf.case()"), variant)

    @property
    def baseline_id(self) -> str:
        return param_id(self.baseline.name, "fp32")

    def named_results(self) -> list[tuple[str, EvalResult]]:
        order = {c.id: i for i, c in enumerate(self.cases)}
        return sorted(self.results.items(), key=lambda item: order.get(item[0], len(order)))

    def not_run(self) -> list[str]:
        """One line per checkpoint or case that did not run, with why: nothing goes missing silently."""
        return list(dict.fromkeys([*self.skipped.values(), *self.failed.values()]))

    def write_report(self, directory: Path) -> list[Path]:
        """summary.md and results.json, each written whole or not at all."""
        import json

        from nerperf.atomic import write_atomic
        from nerperf.table import summary_markdown

        report = {
            "schema": 1,
            "baseline": self.baseline_id,
            "settings": {name: value for name, value, _ in self.settings.describe()},
            "results": [
                {"id": key, "batch1_latency_percentiles_s": self.latency.get(key), **r.to_dict()}
                for key, r in self.named_results()
            ],
            "not_run": self.not_run(),
            "floors": [{**vars(f), "floor": f.floor, "held": f.held} for f in self.floors],
        }
        markdown = summary_markdown(self.run_summary())
        paths = [directory / "summary.md", directory / "results.json"]
        write_atomic(paths[0], markdown)
        write_atomic(paths[1], json.dumps(report, indent=2, sort_keys=True) + "\n")
        return paths

    # -- settings helpers -----------------------------------------------------------------------------
    def _check_tolerance_keys(self) -> None:
        known = {c.spec.name for c in self.cases} | {c.id for c in self.cases}
        for key, _ in self.settings.tolerances:
            if key not in known:
                import difflib

                close = difflib.get_close_matches(key, known, n=1)
                hint = f"did you mean {close[0]!r}? " if close else ""
                raise SettingsError(
                    f"{self.settings.where('tolerances')}: tolerance for {key!r}, which is not a selected checkpoint "
                    f"or checkpoint-variant id: {hint}selected: {', '.join(sorted(known))}"
                )


def _select(settings: Settings) -> tuple[dict[str, CheckpointSpec], list[CheckpointSpec]]:
    """The registry (the study's, the directories', the user's entries) and the checkpoints selected.

    An entry of the checkpoints setting is NAME=SOURCE, a registered name or source, or else a directory
    or ``owner/name`` hub id (named by :func:`nerperf.registry.slug`); anything else is an unknown name.
    """
    where = settings.where("checkpoints")
    entries = [
        spec
        for directory in settings.checkpoint_dirs
        for spec in registry.from_directory(Path(directory), settings.where("checkpoint_dirs"))
    ]
    entries += [registry.parse_entry(e, where) for e in settings.checkpoints if "=" in e]
    known = registry.build(entries)
    selected = []  # registry names (or, for an unknown name, the entry itself, for lookup's error)
    for entry in settings.checkpoints:
        if "=" in entry:
            selected.append(entry.partition("=")[0].strip())
        elif registry.find(known, entry) is None and _new_source(entry):
            entries.append(registry.parse_entry(entry, where))  # a bare directory or hub id, named by its slug
            selected.append(entries[-1].name)
        else:
            selected.append(entry)
    known = registry.build(entries)
    if not settings.checkpoints:
        return known, list(known.values())  # the study's, then the directories' and the user's
    return known, [registry.lookup(known, name, where) for name in selected]


def _new_source(entry: str) -> bool:
    """A bare entry that names a directory or an ``owner/name`` hub id rather than a registered name."""
    from nerperf.hub import looks_like_hub_id

    return Path(entry).is_dir() or ("/" in entry and looks_like_hub_id(entry))
