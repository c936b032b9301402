"""The gate's verdict as a pull-request comment (Markdown) and as a record (JSON), and its exit status.

Markdown: one line with the outcome, a row per case and measure (base, head, ratio, interval,
verdict), then the accuracy changes per case, the first few by sentence and words. JSON: the settings,
both revisions, the rounds, and per case ``{"latency": ..., "throughput": ..., "accuracy": ...}`` with
every change.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from nerperf.gate.accuracy import AccuracyDiff, Change
from nerperf.gate.checkouts import ENVIRONMENTS
from nerperf.gate.moderation import MIN_SHARED, PRIOR_DF
from nerperf.gate.sequential import (
    ALPHA,
    DECIDED,
    FIRST_LOOK,
    INCONCLUSIVE,
    LAST_LOOK,
    MIN_ORDER_GROUP,
    SAME_ALPHA,
    SHARED_ORDER,
    SLOWER,
    UNDECIDED,
)
from nerperf.gate.speed import SpeedComparison
from nerperf.processes.lockstep import DEFAULT_WAIT
from nerperf.processes.setup import ProcessSetup

PASSED, WORSE, NOT_COMPARED = 0, 1, 2
SHOWN_CHANGES = 20


@dataclass(frozen=True)
class Outcome:
    base: Mapping[str, str]  # revision, commit
    head: Mapping[str, str]
    pairs: int  # pairs run
    min_effect: float
    exact: bool
    settings: Mapping[str, str]
    machine: Mapping[str, Any]
    speed: Sequence[SpeedComparison]
    accuracy: Sequence[AccuracyDiff]
    words: Mapping[str, Sequence[Sequence[str]]]  # case -> its sample's words, to name the changes
    broken_floors: Sequence[str] = ()  # the head's floors that did not hold
    failing_tests: str = ""  # the log of a head round whose other tests failed
    notes: Sequence[str] = ()  # what else a reviewer must know (cases not run, nondeterminism)
    seconds: float = 0.0
    looks: tuple[int, int] = (FIRST_LOOK, LAST_LOOK)  # the first and the last look allowed, in pairs
    wait: str = DEFAULT_WAIT  # how the processes let the CPU go between turns (the gate's --wait)
    prior_df: float = PRIOR_DF  # the shared variance's weight (the gate's --prior-df; 0: none shared)
    setup: ProcessSetup = ProcessSetup()  # how both sides' processes were set up (hash seed, CPUs, binding)
    environments: str = ""  # a key of checkouts.ENVIRONMENTS: shared, per-side, interpreter; "": not said
    spent: Mapping[str, float] | None = None  # rounds.time_spent: a pair's seconds, and each process's by kind

    @property
    def reasons(self) -> list[str]:
        """Why the gate fails; empty when it passes."""
        found = [f"{c.case} {c.measure} is slower: ×{c.ratio:.3f}" for c in self.speed if c.verdict == SLOWER]
        found += [f"F1 floor broken: {line}" for line in self.broken_floors]
        if self.failing_tests and not self.broken_floors:
            found.append(f"the head's suite has failing tests (log: {self.failing_tests})")
        if self.exact:
            found += [
                f"{d.case}: {d.changed_words} predicted tags changed (--exact)" for d in self.accuracy if d.changed
            ]
        return found

    @property
    def status(self) -> int:
        return WORSE if self.reasons else PASSED


def _sharing(o: Outcome) -> str:
    """How the standard errors were taken, and the order effect."""
    order = (
        f" The side that ran first in a pair runs slower: one such order effect per measure, fitted over its "
        f"comparisons where there are {MIN_ORDER_GROUP} or more, is taken out of every pair ratio."
        if SHARED_ORDER
        else ""
    )
    if o.prior_df <= 0:
        return "Each comparison's standard error from its own pairs." + order
    return (
        f"Standard errors shared by the comparisons of one measure where there are {MIN_SHARED} or more "
        f"(moderated t, prior weight {o.prior_df:g} degrees of freedom)." + order
    )


def _environments(o: Outcome) -> str:
    return f"{ENVIRONMENTS[o.environments]}; " if o.environments else ""


def _spent(spent: Mapping[str, float] | None) -> str:
    """Where a pair's time went, so that a gate's cost can be read (and cut) where it lies."""
    if not spent or "pair" not in spent:
        return ""
    text = f" A pair took {spent['pair']:.0f} s"
    if "timed" not in spent:
        return text + "."
    parts = [
        ("start-up", "start_up", " side by side"),
        ("timed calls", "timed", ""),
        ("pauses before handing over", "paused", ""),
        ("waiting for the partner", "waiting", ""),
        ("other work with the baton", "other", ""),
    ]
    listed = ", ".join(f"{label} {spent.get(key, 0.0):.1f} s{after}" for label, key, after in parts)
    return text + f"; each process's (mean): {listed}."


def markdown(outcome: Outcome) -> str:
    o = outcome
    head = f"`{o.head['revision']}` ({o.head['commit'][:10]})"
    base = f"`{o.base['revision']}` ({o.base['commit'][:10]})"
    verdict = "**failed**: " + "; ".join(o.reasons) if o.reasons else "**passed**"
    lines = [
        "## nerperf gate",
        "",
        f"{head} against {base}: {verdict}.",
        "",
        f"{o.pairs} pairs of fresh processes, base and head starting up side by side, then taking turns "
        f"sentence by sentence (which goes first alternates; waiting: {o.wait}), looked at after every pair "
        f"from {o.looks[0]} to {o.looks[1]} and "
        f"stopped once every comparison was decided (or, failing, once no undecided one looked slower by the "
        f"minimum effect); minimum effect {100 * o.min_effect:g}%; processes: {o.setup.describe()}; "
        f"{_environments(o)}"
        f"{_machine(o.machine)}; "
        f"{o.seconds / 60:.1f} min.{_spent(o.spent)}",
        "",
        f"Lower bound: slower when above 1 ({100 * ALPHA:g}% over all {len(o.speed)} comparisons and every look); "
        f"upper bound: same when below {1 + o.min_effect:g} ({100 * SAME_ALPHA:g}% per comparison). {_sharing(o)}",
        "",
        "| Case | Measure | Base | Head | Head/base time | Bounds (lower, upper) | Verdict |",
        "|---|---|---|---|---|---|---|",
    ]
    for c in o.speed:
        unit = "ms" if c.measure == "latency" else "sentences/s"
        bounds = "-" if math.isnan(c.bounds[0]) else f"{c.bounds[0]:.3f}, {c.bounds[1]:.3f}"
        verdict = f"{c.verdict} at {c.decided_at} pairs" if c.verdict in DECIDED else c.verdict
        if c.verdict == UNDECIDED and any(other.verdict == SLOWER for other in o.speed):
            verdict = f"undecided at {c.pairs} pairs (the gate had failed, and this did not look slower)"
        elif not c.verdict:  # a bisect step stops once its own measure is decided
            verdict = f"undecided at {c.pairs} pairs (not the measure this gate waited on)"
        if c.verdict == INCONCLUSIVE:
            verdict += f" after {c.decided_at} pairs (more pairs: --max-pairs)"
        measure = "latency, batch 1" if c.measure == "latency" else "throughput, batched"
        lines.append(
            f"| {c.case} | {measure} | {c.base:.2f} {unit} | {c.head:.2f} {unit} | {c.ratio:.3f} | {bounds} "
            f"| {verdict} |"
        )
    lines += ["", "### Accuracy", "", "| Case | F1 base | F1 head | ΔF1 (points), 95% interval | Changed sentences |"]
    lines.append("|---|---|---|---|---|")
    for d in o.accuracy:
        delta = 100 * (d.f1_head - d.f1_base)
        interval = f"{100 * d.delta_f1_ci95[0]:+.2f} – {100 * d.delta_f1_ci95[1]:+.2f}"
        lines.append(
            f"| {d.case} | {d.f1_base:.4f} | {d.f1_head:.4f} | {delta:+.2f} ({interval}) | "
            f"{d.changed_sentences} of {d.sentences} |"
        )
    changes = [(d.case, c) for d in o.accuracy for c in d.changes]
    if changes:
        lines += ["", f"Entity changes ({len(changes)} in all; the first {min(len(changes), SHOWN_CHANGES)}):", ""]
        for case, change in changes[:SHOWN_CHANGES]:
            words = o.words[case][change.sentence]
            lines.append(f"- {case}, {change.describe()}: {_marked(words, change)}")
    elif o.accuracy:
        lines += ["", "No prediction changed."]
    if o.broken_floors or o.notes:
        lines += ["", *(f"- F1 floor broken: {f}" for f in o.broken_floors), *(f"- {n}" for n in o.notes)]
    return "\n".join(lines) + "\n"


def record(outcome: Outcome) -> str:
    o = outcome
    cases: dict[str, dict[str, Any]] = {}
    for c in o.speed:
        cases.setdefault(c.case, {})[c.measure] = {
            "ratio": c.ratio,
            "bounds": list(c.bounds),  # repeated lower (family level) and upper (per comparison) bounds
            "verdict": c.verdict,
            "t": c.t,
            "critical_t": c.critical_t,
            "decided_at": c.decided_at,
            "base": c.base,
            "head": c.head,
            "unit": "ms" if c.measure == "latency" else "sentences/s",
            "pairs": c.pairs,
            "pair_ratios": list(c.pair_ratios),  # each pair's head/base ratio, in the order run
        }
    for d in o.accuracy:
        cases.setdefault(d.case, {})["accuracy"] = {
            "f1_base": d.f1_base,
            "f1_head": d.f1_head,
            "delta_f1_ci95": list(d.delta_f1_ci95),
            "changed_sentences": d.changed_sentences,
            "changed_words": d.changed_words,
            "changes": [
                {
                    "sentence": c.sentence,
                    "kind": c.kind,
                    "base": c.base,
                    "head": c.head,
                    "words": o.words[d.case][c.sentence],
                }
                for c in d.changes
            ],
        }
    document = {
        "schema": 2,
        "status": o.status,
        "reasons": o.reasons,
        "base": dict(o.base),
        "head": dict(o.head),
        "rounds": {
            "pairs": o.pairs,
            "looks": list(o.looks),
            "wait": o.wait,
            "prior_df": o.prior_df,
            "setup": o.setup.to_dict(),
            "environments": o.environments or None,
            "time": dict(o.spent) if o.spent else None,
            "same_alpha": SAME_ALPHA,
            "order": "each pair: base and head processes taking turns; base first, then head first, ...",
            "order_effect": "fitted per measure" if SHARED_ORDER else None,
        },
        "min_effect": o.min_effect,
        "exact": o.exact,
        "settings": dict(o.settings),
        "machine": dict(o.machine),
        "seconds": o.seconds,
        "broken_floors": list(o.broken_floors),
        "notes": list(o.notes),
        "cases": cases,
    }
    return json.dumps(_plain(document), indent=2, sort_keys=True, allow_nan=False) + "\n"


def _marked(words: Sequence[str], change: Change) -> str:
    """The sentence with the changed entity's words in bold."""
    spans = [side for side in (change.base, change.head) if side is not None]
    start, end = min(s["start"] for s in spans), max(s["end"] for s in spans)
    shown = [w.replace("*", r"\*") for w in words]
    return " ".join([*shown[:start], "**" + " ".join(shown[start : end + 1]) + "**", *shown[end + 1 :]])


def _plain(value: Any) -> Any:
    """JSON without NaN or infinity (a bound that could not be computed is null)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _machine(machine: Mapping[str, Any]) -> str:
    flags = ", ".join(machine.get("cpu_flags", [])) or "no AVX2"
    return f"{machine.get('cpu_model', 'unknown CPU')} ({flags}), {machine.get('cpus', '?')} CPUs"
