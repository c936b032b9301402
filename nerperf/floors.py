"""F1 floors: a result's F1 must be at least a reference's F1 minus a tolerance in points.

The policy: a checkpoint's fp32 is held to the baseline's fp32 (default tolerance 5.0 points), a
variant to its own checkpoint's fp32 (1.0 point); a tolerance set for the checkpoint or the
checkpoint-variant id wins (:func:`tolerance`). The built-in floor tests (:mod:`nerperf.suite`) and
users' own tests call :func:`assert_f1_floor`; a failure prints both F1 values, the tolerance, and the
per-type breakdown.
"""

from __future__ import annotations

from dataclasses import dataclass

from nerperf.cases import Case
from nerperf.models.registry import param_id, slug
from nerperf.plain_table import render
from nerperf.results import EvalResult
from nerperf.settings import Settings

_EPSILON = 1e-12  # equal F1 values computed two ways must not fail a zero tolerance


@dataclass(frozen=True)
class Floor:
    subject: str
    reference: str
    f1: float
    reference_f1: float
    tolerance_points: float

    @property
    def floor(self) -> float:
        return self.reference_f1 - self.tolerance_points / 100

    @property
    def held(self) -> bool:
        return self.f1 >= self.floor - _EPSILON

    @classmethod
    def from_record(cls, record: dict) -> Floor:
        """A floor as a run's results.json recorded it (:func:`nerperf.results.read_run_record`)."""
        return cls(**{name: record[name] for name in cls.__dataclass_fields__})

    def describe(self) -> str:
        verdict = "holds" if self.held else "VIOLATED"
        return (
            f"F1 floor {verdict}: {self.subject} F1 {100 * self.f1:.2f} against {self.reference} F1 "
            f"{100 * self.reference_f1:.2f} - tolerance {self.tolerance_points:.2f} points = floor "
            f"{100 * self.floor:.2f} ({100 * (self.f1 - self.reference_f1):+.2f} points)"
        )


def tolerance(case: Case, settings: Settings) -> float:
    """The F1 points ``case`` may fall below its reference (:meth:`nerperf.cases.Selection.reference`).

    A checkpoint's fp32: its own tolerance setting, else its registry entry's, else ``f1_tolerance``.
    A variant: the tolerance set for its checkpoint-variant id, else ``variant_tolerance``.
    """
    if case.variant == "fp32":
        for value in (settings.tolerance_for(case.spec.name), case.spec.f1_tolerance):
            if value is not None:
                return value
        return settings.f1_tolerance
    value = settings.tolerance_for(case.id)
    return value if value is not None else settings.variant_tolerance


def check(
    result: EvalResult, reference: EvalResult, tolerance_points: float, names: tuple[str, str] | None = None
) -> Floor:
    """The floor of ``result`` against ``reference`` (``names``: how to call them, default from the results).

    Both need real weights: random ones have no F1 to hold to a floor.
    """
    for r in (result, reference):
        if r.f1 is None:
            raise ValueError(f"{r.checkpoint} ({r.variant}) has random weights: no F1 to hold to a floor")
    subject, other = names or (_name(result), _name(reference))
    return Floor(subject, other, result.f1, reference.f1, tolerance_points)  # type: ignore[arg-type]


def assert_f1_floor(
    result: EvalResult, reference: EvalResult, tolerance_points: float, names: tuple[str, str] | None = None
) -> Floor:
    """Fail with both figures, the tolerance and the per-type F1 unless ``result`` holds its floor."""
    floor = check(result, reference, tolerance_points, names)
    require(floor, result, reference)
    return floor


def require(floor: Floor, result: EvalResult, reference: EvalResult) -> None:
    """Raise the floor's failure, with the per-type breakdown of both results, unless it held."""
    if not floor.held:
        raise AssertionError(floor.describe() + "\n" + per_type_comparison(result, reference, floor.reference))


def per_type_comparison(result: EvalResult, reference: EvalResult, reference_name: str) -> str:
    """Per entity type: precision, recall and F1 of ``result`` beside the reference's F1."""
    assert result.scores is not None and reference.scores is not None
    rows = []
    for name, score in result.scores.per_type.items():
        other = reference.scores.per_type.get(name)
        ref_f1 = f"{100 * other.f1:.2f}" if other else "-"
        delta = f"{100 * (score.f1 - other.f1):+.2f}" if other else "-"
        rows.append(
            [name, f"{100 * score.precision:.2f}", f"{100 * score.recall:.2f}", f"{100 * score.f1:.2f}", ref_f1, delta]
        )
    header = ("Type", "Precision", "Recall", "F1", f"F1 of {reference_name}", "Δ points")
    return render(rows, header)


def _name(result: EvalResult) -> str:
    return param_id(slug(result.checkpoint), result.variant)
