"""Partial credit and an error breakdown: the SemEval-2013 (MUC-style) schemes, computed by nervaluate.

seqeval's exact match (:mod:`nerperf.data.metrics`) gives an entity credit only when its span and type are
both right, and says nothing of how the others went wrong. The study's section 2.8 reviews the MUC,
exact-match and ACE evaluations, which do; nervaluate implements the SemEval-2013 task 9.1 schemes:

- ``strict``: span and type both right (seqeval's figure, on well-formed tags);
- ``exact``: span right, type ignored;
- ``partial``: spans that overlap count half (``(correct + partial / 2) / possible`` for recall), type ignored;
- ``type``: type right and spans overlapping (nervaluate's ``ent_type``).

The error breakdown sorts every gold and predicted entity into one kind, from nervaluate's counts:

- ``correct``: span and type right (strict correct);
- ``incorrect``: span right, type wrong (exact correct minus strict correct);
- ``partial``: spans overlap but differ, type right or wrong (strict incorrect minus ``incorrect``);
- ``missed``: a gold entity no prediction overlaps; ``spurious``: a prediction overlapping no gold entity.

Tag sequences give flat entities (no two gold or two predicted entities overlap), so each prediction
with a right span meets exactly one gold entity and the kinds partition the entities: gold =
correct + incorrect + partial + missed, predicted = correct + incorrect + partial + spurious.
Per type, nervaluate compares only that type's entities on both sides, so there a wrong type is a
miss of the gold type and a spurious entity of the predicted one (``incorrect`` is 0).

Input: IOB2 tags (nerperf's gold and decoded predictions), passed to nervaluate's ``list`` loader as
they are, with the entity types of both sides.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

SCHEMES = ("strict", "exact", "partial", "type")
NERVALUATE_NAMES = {"strict": "strict", "exact": "exact", "partial": "partial", "type": "ent_type"}
ERROR_KINDS = ("correct", "incorrect", "partial", "missed", "spurious")


@dataclass(frozen=True)
class Figures:
    precision: float
    recall: float
    f1: float


@dataclass(frozen=True)
class SchemeScores(Figures):
    """One scheme's figures overall, and per entity type."""

    per_type: dict[str, Figures] = field(default_factory=dict)


@dataclass(frozen=True)
class Kinds:
    correct: int
    incorrect: int
    partial: int
    missed: int
    spurious: int

    @property
    def gold(self) -> int:
        return self.correct + self.incorrect + self.partial + self.missed

    @property
    def predicted(self) -> int:
        return self.correct + self.incorrect + self.partial + self.spurious


@dataclass(frozen=True)
class ErrorKinds(Kinds):
    """The error breakdown overall, and per entity type."""

    per_type: dict[str, Kinds] = field(default_factory=dict)


@dataclass(frozen=True)
class SemEval:
    """``schemes``: strict, exact, partial and type figures; ``errors``: the breakdown."""

    schemes: dict[str, SchemeScores]
    errors: ErrorKinds

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SemEval:
        schemes = {
            name: SchemeScores(
                **{k: v for k, v in row.items() if k != "per_type"},
                per_type={t: Figures(**f) for t, f in row.get("per_type", {}).items()},
            )
            for name, row in data["schemes"].items()
        }
        errors = data["errors"]
        return cls(
            schemes,
            ErrorKinds(
                **{k: errors[k] for k in ERROR_KINDS},
                per_type={t: Kinds(**k) for t, k in errors.get("per_type", {}).items()},
            ),
        )


def raw(gold: Sequence[Sequence[str]], predicted: Sequence[Sequence[str]]) -> dict[str, Any]:
    """nervaluate's own ``evaluate()`` output on IOB2 ``gold`` and ``predicted`` tags."""
    from nervaluate import Evaluator

    types = sorted({tag[2:] for tags in (*gold, *predicted) for tag in tags if tag != "O"})
    return Evaluator([list(s) for s in gold], [list(s) for s in predicted], tags=types, loader="list").evaluate()


def score(gold: Sequence[Sequence[str]], predicted: Sequence[Sequence[str]]) -> SemEval:
    """The four schemes and the error breakdown for IOB2 ``gold`` and ``predicted`` tags."""
    found = raw(gold, predicted)
    overall, per_type = found["overall"], found["entities"]

    def figures(result: Any) -> Figures:
        return Figures(float(result.precision), float(result.recall), float(result.f1))

    schemes = {
        name: SchemeScores(
            **asdict(figures(overall[NERVALUATE_NAMES[name]])),
            per_type={t: figures(per_type[t][NERVALUATE_NAMES[name]]) for t in sorted(per_type)},
        )
        for name in SCHEMES
    }
    totals = _kinds(overall)
    errors = ErrorKinds(**asdict(totals), per_type={t: _kinds(per_type[t]) for t in sorted(per_type)})
    return SemEval(schemes, errors)


def _kinds(results: Mapping[str, Any]) -> Kinds:
    strict, exact = results["strict"], results["exact"]
    wrong_type = exact.correct - strict.correct
    return Kinds(
        correct=strict.correct,
        incorrect=wrong_type,
        partial=strict.incorrect - wrong_type,
        missed=strict.missed,
        spurious=strict.spurious,
    )
