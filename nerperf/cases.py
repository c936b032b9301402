"""Which checkpoint × variant cases a configuration selects: one function for every caller.

:func:`select` turns :class:`~nerperf.settings.Settings` into a :class:`Selection`: the registry (the
study's checkpoints, the directories', the user's entries), the baseline, and the cases in the order
they run (the baseline's first), or with the shard setting one part of them: whole checkpoints dealt in
turn to the parts, so a checkpoint loads in one job and its variants meet their fp32 there (a part
without the baseline still evaluates it, once, for the floors). The pytest plugin parametrizes over it,
the asv suite names its parameter after it, and ``nerperf cases`` prints it, so the three never
disagree. Nothing here loads a model (:mod:`nerperf.case_runner` does) or imports pytest.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path

from nerperf.models import registry
from nerperf.models.registry import CheckpointSpec, param_id
from nerperf.settings import Settings, SettingsError
from nerperf.variants import VARIANTS, VariantError, get_variant


@dataclass(frozen=True)
class Case:
    """One checkpoint × variant: what every nerperf test and benchmark is parametrized over."""

    spec: CheckpointSpec
    variant: str

    @property
    def id(self) -> str:
        return param_id(self.spec.name, self.variant)


@dataclass(frozen=True)
class Selection:
    """The cases of one configuration, with the registry and baseline they were chosen from."""

    registry: dict[str, CheckpointSpec]
    baseline: CheckpointSpec
    cases: tuple[Case, ...]

    @property
    def baseline_case(self) -> Case:
        return Case(self.baseline, "fp32")

    def floor_cases(self) -> list[Case]:
        """Every case but the baseline's fp32, which is the reference itself."""
        return [c for c in self.cases if c != self.baseline_case]

    def reference(self, case: Case) -> Case:
        """What ``case`` is held to: a checkpoint's fp32 to the baseline's, a variant to its own fp32."""
        return self.baseline_case if case.variant == "fp32" else Case(case.spec, "fp32")

    def order(self, case: Case) -> int:
        return self.cases.index(case) if case in self.cases else len(self.cases)

    def case(self, checkpoint: str, variant: str, origin: str = "nerperf.case()") -> Case:
        """A case by checkpoint name (or source) and variant; an unknown one gets a suggestion."""
        get_variant(variant)
        return Case(registry.lookup(self.registry, checkpoint, origin), variant)


def select(settings: Settings) -> Selection:
    """The cases ``settings`` choose; a bad name raises :class:`SettingsError` naming the setting."""
    known, specs = _checkpoints(settings)
    baseline = registry.lookup(known, settings.baseline, f"baseline ({settings.where('baseline')})")
    names = list(settings.variants or VARIANTS)
    for name in names:
        try:
            get_variant(name)
        except VariantError as error:
            raise SettingsError(f"{settings.where('variants')}: {error}") from None
    ordered = [baseline] + [s for s in specs if s != baseline] if baseline in specs else specs
    selection = Selection(known, baseline, tuple(Case(spec, variant) for spec in ordered for variant in names))
    _check_tolerance_keys(settings, selection)
    if settings.shard is None:
        return selection
    part, parts = settings.shard
    mine = ordered[part - 1 :: parts]
    return Selection(known, baseline, tuple(c for c in selection.cases if c.spec in mine))


def unavailable_variant(case: Case) -> str | None:
    """Why the case's variant cannot run on this machine or installation, or None."""
    reason = VARIANTS[case.variant].unavailable()
    return f"variant {case.variant} cannot run here: {reason}" if reason else None


def _checkpoints(settings: Settings) -> tuple[dict[str, CheckpointSpec], list[CheckpointSpec]]:
    """The registry (the study's, the directories', the user's entries) and the checkpoints selected.

    An entry of the checkpoints setting is NAME=SOURCE, a registered name or source, or else a directory
    or ``owner/name`` hub id (named by :func:`nerperf.models.registry.slug`); anything else is an unknown name.
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
    from nerperf.data.hub import looks_like_hub_id

    return Path(entry).is_dir() or ("/" in entry and looks_like_hub_id(entry))


def _check_tolerance_keys(settings: Settings, selection: Selection) -> None:
    """A tolerance must name a registered checkpoint or checkpoint-variant (a typo is an error), selected or
    not: a project's tolerances stay valid when a run selects fewer variants or one shard."""
    known = set(selection.registry) | {param_id(name, variant) for name in selection.registry for variant in VARIANTS}
    selected = {c.spec.name for c in selection.cases} | {c.id for c in selection.cases}
    for key, _ in settings.tolerances:
        if key not in known:
            close = difflib.get_close_matches(key, selected, n=1) or difflib.get_close_matches(key, known, n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            raise SettingsError(
                f"{settings.where('tolerances')}: tolerance for {key!r}, which is not a registered checkpoint "
                f"or checkpoint-variant id: {hint}registered: {', '.join(sorted(selection.registry))}"
            )
