"""The state of one pytest run of nerperf: its cases, their outcomes, the floors checked, the summary.

The cases are :func:`nerperf.cases.select`'s; loading and evaluating them is a
:class:`~nerperf.case_runner.CaseRunner`'s, once each, the baseline's first. This module turns what the
runner raises into pytest outcomes: a case that cannot run here is skipped with the reason and what to
do, bad input fails the case's tests with its message, and both are listed in the summary. Timing is
:mod:`nerperf.plugin.timing`'s; the hooks are :mod:`nerperf.plugin`'s.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest

from nerperf import floors
from nerperf.case_runner import CaseFailed, CaseRunner
from nerperf.cases import Case, select, unavailable_variant
from nerperf.errors import Unavailable
from nerperf.floors import Floor
from nerperf.models.registry import param_id
from nerperf.processes.lockstep import Lockstep
from nerperf.processes.samples import CaseSamples, write_clock, write_unpaired
from nerperf.results import EvalResult
from nerperf.settings import Settings

T = TypeVar("T")

__all__ = ["Case", "NerperfSession"]


class NerperfSession:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.selection = select(settings)
        self.runner = CaseRunner(settings, self.selection)
        self.floors: list[Floor] = []
        self.latency: dict[str, dict[int, float]] = {}  # case -> batch-1 latency percentiles (s), from its benchmark
        self.samples: dict[str, CaseSamples] = {}  # case -> raw samples, kept with the samples setting
        self.lockstep: Lockstep | None = None  # under nerperf gate: turns taken with the other side

    # -- what runs ------------------------------------------------------------------------------------
    @property
    def cases(self) -> tuple[Case, ...]:
        return self.selection.cases

    @property
    def baseline_id(self) -> str:
        return self.selection.baseline_case.id

    def floor_cases(self) -> list[Case]:
        return self.selection.floor_cases()

    def unavailable_variant(self, case: Case) -> str | None:
        return unavailable_variant(case)

    def order(self, case: Case) -> int:
        return self.selection.order(case)

    def case(self, checkpoint: str, variant: str) -> Case:
        """A case by checkpoint name (or source) and variant, for users' own tests to compare with."""
        return self.selection.case(checkpoint, variant)

    # -- outcomes -------------------------------------------------------------------------------------
    def outcome(self, run: Callable[[], T]) -> T:
        """``run()``, with what cannot run here skipped and bad input failed, each with its message."""
        try:
            return run()
        except Unavailable as why:
            pytest.skip(str(why))
        except CaseFailed as error:
            pytest.fail(str(error), pytrace=False)

    def result(self, case: Case) -> EvalResult:
        """The case's evaluation, run once per session (the baseline's first, for the floors and the summary's
        "× baseline", unless the floors are left out, as in the gate's later pairs); skips what cannot run."""
        baseline = self.selection.baseline_case
        measures = self.settings.measures
        if case != baseline and (not measures or "floor" in measures):
            try:
                self.runner.evaluate(baseline, self._keep_predictions(baseline))
            except (Unavailable, CaseFailed):
                pass  # its own tests report it; floors against it skip or fail with its message
        return self.outcome(lambda: self.runner.evaluate(case, self._keep_predictions(case)))

    def prepared(self, case: Case) -> tuple[Any, Any]:
        """The case's loaded checkpoint and prepared variant, for timing it."""
        return self.outcome(lambda: self.runner.prepared(case))

    def sample(self) -> list[list[str]]:
        return self.outcome(self.runner.sample)

    def named_results(self) -> list[tuple[str, EvalResult]]:
        order = {c.id: i for i, c in enumerate(self.cases)}
        return sorted(self.runner.results.items(), key=lambda item: order.get(item[0], len(order)))

    def not_run(self) -> list[str]:
        return self.runner.not_run()

    # -- floors ---------------------------------------------------------------------------------------
    def check_floor(self, case: Case) -> Floor:
        """Hold the case to its floor (:mod:`nerperf.floors`' policy); every floor checked is listed."""
        result = self.result(case)
        if result.f1 is None:
            pytest.skip(f"{case.id}: random weights have no F1 to hold to a floor")
        reference = self.selection.reference(case)
        try:
            reference_result = self.runner.evaluate(reference, self._keep_predictions(reference))
        except Unavailable as why:
            pytest.skip(f"{case.id}: its reference {reference.id} cannot run: {why}")
        except CaseFailed as error:
            pytest.fail(f"{case.id}: its reference {reference.id} failed: {error}", pytrace=False)
        if reference_result.f1 is None:
            pytest.skip(f"{case.id}: its reference {reference.id} has random weights: no F1 to compare with")
        floor = floors.check(result, reference_result, floors.tolerance(case, self.settings), (case.id, reference.id))
        self.floors.append(floor)  # held or not: the summary lists every floor checked
        floors.require(floor, result, reference_result)
        return floor

    # -- raw samples ----------------------------------------------------------------------------------
    def case_samples(self, case: Case) -> CaseSamples | None:
        """The case's raw samples, kept when the samples setting names a directory (for ``nerperf gate``)."""
        if self.settings.samples is None:
            return None
        if case.id not in self.samples:
            self.samples[case.id] = CaseSamples(case.id)
        return self.samples[case.id]

    def _keep_predictions(self, case: Case) -> Any:
        kept = self.case_samples(case)
        if kept is None:
            return None

        def keep(sentences: Any, predicted: list[list[str]]) -> None:
            kept.words = [s.words for s in sentences]
            kept.gold = [s.tags for s in sentences]
            kept.predicted = predicted

        return keep

    # -- the end --------------------------------------------------------------------------------------
    def run_summary(self) -> Any:
        from nerperf.report.tables import RunSummary

        published = {param_id(c.spec.name, "fp32"): c.spec.published for c in self.selection.cases if c.spec.published}
        return RunSummary(self.named_results(), self.baseline_id, self.latency, published, self.not_run(), self.floors)

    def summary(self) -> str:
        from nerperf.report.tables import summary_text

        return summary_text(self.run_summary(), self.settings.show_errors)

    def write_report(self, directory: Path) -> list[Path]:
        """summary.md and results.json, each written whole or not at all."""
        from nerperf.atomic import write_atomic
        from nerperf.report.tables import summary_markdown
        from nerperf.results import run_record

        settings = {name: value for name, value, _ in self.settings.describe()}
        record = run_record(self.baseline_id, settings, self.named_results(), self.latency, self.not_run(), self.floors)
        paths = [directory / "summary.md", directory / "results.json"]
        write_atomic(paths[0], summary_markdown(self.run_summary(), self.settings.show_errors))
        write_atomic(paths[1], record)
        return paths

    def write_samples(self, directory: Path) -> list[Path]:
        """Each case's raw samples, one file per case that recorded any; and, under ``nerperf gate``, where
        this process's time went and, when the partner process went before this one's tests were done, how
        many timed calls were paired."""
        if self.lockstep is not None and self.lockstep.lost_at is not None:
            write_unpaired(directory, self.lockstep.lost_at)
        if self.lockstep is not None:
            write_clock(directory, self.lockstep.clock.to_dict())
        return [samples.save(directory) for samples in self.samples.values()]
