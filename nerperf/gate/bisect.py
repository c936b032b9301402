"""``nerperf bisect GOOD BAD``: from a step in the history to the commit that caused it, judged as the gate judges.

asv's history shows that a case got slower, or that its F1 moved, somewhere between two commits; the gate
judges one pull request. Bisecting with single runs chases noise on these machines (a run moves 10-20%),
so every step here is a gate (:mod:`nerperf.gate.command`): GOOD against the commit being judged, in
fresh processes taking turns, with the gate's statistics and its sequential stopping rule, the same
settings on both sides, and the environments reused while the requirement files are unchanged (the
checkout at a fixed path changes; the install is kept).

The search (:func:`next_step`) is a binary search over the first-parent commits from GOOD (index 0) to
BAD (the last), each judged against GOOD: ``bad`` when the case's measure is ``slower`` than GOOD's (or,
for accuracy, when a prediction differs, or F1 moves by ``--min-effect`` points or more), ``good`` when
``same`` or ``faster``. A commit that cannot be installed or run is ``skip`` (``git bisect skip``'s
rule: the search goes on around it, nearest the middle). A step that stays ``inconclusive`` after the
gate's most pairs ends the search: the range left is reported, never a guess. Once the range is one
commit, that culprit is compared with its parent by one more gate, whose summary is the report.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

# A step's verdict on one commit against GOOD (the speed verdicts are sequential.Verdict).
StepVerdict = Literal["good", "bad", "skip", "inconclusive"]
GOOD: StepVerdict = "good"
BAD: StepVerdict = "bad"
SKIP: StepVerdict = "skip"  # the commit could not be installed or run (checkouts.SideFailed)
UNSURE: StepVerdict = "inconclusive"  # undecided at --max-pairs: the search ends with the range left


def next_step(count: int, judged: Mapping[int, StepVerdict]) -> int | None:
    """The commit to judge next, as its index among ``count`` commits (0 is GOOD, ``count - 1`` BAD), or
    None when the range cannot shrink: a culprit found, only skipped commits left, or an inconclusive one.

    >>> next_step(16, {0: "good", 15: "bad"})
    7
    >>> next_step(16, {0: "good", 15: "bad", 7: "skip"})
    8
    >>> next_step(4, {0: "good", 3: "bad", 1: "good", 2: "bad"}) is None
    True
    """
    low, high = bounds(count, judged)
    inside = {i: judged.get(i) for i in range(low + 1, high)}
    if UNSURE in inside.values():
        return None
    open_ = [i for i, verdict in inside.items() if verdict is None]
    if not open_:
        return None
    middle = (low + high) / 2
    return min(open_, key=lambda i: (abs(i - middle), i))


def search(count: int, judge: Callable[[int], StepVerdict]) -> dict[int, StepVerdict]:
    """Judge commits (``judge(index)``: good, bad, skip or inconclusive) until the range cannot shrink; the
    verdicts by index, in the order judged, GOOD and BAD taken as their names say.

    >>> judged = search(16, lambda i: "bad" if i >= 11 else "good")
    >>> conclusion(16, judged).culprit, len(judged) - 2
    (11, 4)
    """
    judged = {0: GOOD, count - 1: BAD}
    while (index := next_step(count, judged)) is not None:
        judged[index] = judge(index)
    return judged


def bounds(count: int, judged: Mapping[int, StepVerdict]) -> tuple[int, int]:
    """The last commit known good and the first known bad after it."""
    low = max([0, *(i for i, verdict in judged.items() if verdict == GOOD)])
    high = min([count - 1, *(i for i, verdict in judged.items() if verdict == BAD and i > low)])
    return low, high


@dataclass(frozen=True)
class Found:
    """Where the search ended: ``culprit`` when the range is one commit, else the range left and why."""

    low: int  # the last commit known good
    high: int  # the first known bad
    culprit: int | None
    why: str


def conclusion(count: int, judged: Mapping[int, StepVerdict]) -> Found:
    """What the judged commits say, once :func:`next_step` has nothing left to judge.

    >>> conclusion(4, {0: "good", 3: "bad", 1: "good", 2: "bad"}).culprit
    2
    >>> conclusion(4, {0: "good", 3: "bad", 1: "skip", 2: "skip"}).why
    'the culprit is one of commits 1 to 3: every commit between could not be installed or run'
    """
    low, high = bounds(count, judged)
    if high == low + 1:
        return Found(low, high, high, f"commit {high} is the first whose measure differs from GOOD's")
    between = [judged.get(i) for i in range(low + 1, high)]
    if UNSURE in between:
        unsure = [i for i in range(low + 1, high) if judged.get(i) == UNSURE]
        return Found(
            low, high, None, f"commit {unsure[0]} stayed inconclusive after the gate's most pairs: the culprit is "
            f"one of commits {low + 1} to {high}; bisect that range again with more pairs (--max-pairs)",
        )  # fmt: skip
    return Found(
        low, high, None, f"the culprit is one of commits {low + 1} to {high}: every commit between could not be "
        "installed or run",
    )  # fmt: skip


@dataclass(frozen=True)
class AsvStep:
    """A step asv's published results found (``html/regressions.json``): a case's benchmark moved between
    two commits."""

    benchmark: str  # e.g. ner.Speed.time_latency
    case: str  # its parameter: the checkpoint-variant id
    before: str  # the last commit before the step (its hash), or "" when asv gives only one commit
    after: str  # the first commit after it
    value_before: float
    value_after: float

    @property
    def measure(self) -> str:
        """The gate's measure for asv's benchmark: latency, throughput or accuracy."""
        name = self.benchmark.rsplit(".", 1)[-1]
        return {"time_latency": "latency", "time_throughput": "throughput", "track_f1_error": "accuracy"}.get(
            name, "latency"
        )

    def describe(self) -> str:
        size = self.value_after / self.value_before if self.value_before else float("inf")
        before = self.before[:10] or "its parent"
        return f"{self.case} {self.measure} ({self.benchmark}): x{size:.2f} between {before} and {self.after[:10]}"


def asv_steps(html: Path) -> list[AsvStep]:
    """The steps in asv's published pages at ``html`` (``asv publish``'s output): regressions.json, with
    revisions turned into commits through index.json. A file missing or of another shape says so."""
    from nerperf.errors import NerperfInputError

    try:
        regressions = json.loads((html / "regressions.json").read_text(encoding="utf-8"))["regressions"]
        revisions = json.loads((html / "index.json").read_text(encoding="utf-8"))["revision_to_hash"]
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise NerperfInputError(
            f"{html}: not asv's published pages ({type(error).__name__}: {error}); give the directory `asv "
            "publish` wrote (asv.conf.json's html_dir, .asv/html here)"
        ) from None
    steps = []
    for name, _graph, _params, _index, _last, _best, jumps in regressions:
        benchmark, _, argument = name.partition("(")
        case = argument.rstrip(")").strip("'\"")
        for start, end, before, after in jumps:
            steps.append(
                AsvStep(
                    benchmark,
                    case,
                    revisions.get(str(start), "") if start is not None else "",
                    revisions[str(end)],
                    float(before),
                    float(after),
                )  # fmt: skip
            )
    return steps


def commits_between(repository: Path, good: str, bad: str) -> list[str]:
    """GOOD, then the first-parent commits after it up to BAD, oldest first."""
    from nerperf.gate.checkouts import GateError, git

    listed = git(repository, "rev-list", "--first-parent", "--reverse", f"{good}..{bad}").split()
    if not listed:
        raise GateError(f"no commit between {good[:10]} and {bad[:10]} on the first-parent line: is GOOD before BAD?")
    return [good, *listed]


def verdict_of(outcome: object, case: str, measure: str, min_effect: float) -> StepVerdict:
    """A bisect step's verdict from a gate outcome (:class:`nerperf.gate.verdict.Outcome`) of GOOD against
    the commit: bad, good or inconclusive for ``case``'s ``measure``."""
    from nerperf.gate.checkouts import GateError

    if measure == "accuracy":
        diffs = [d for d in outcome.accuracy if d.case == case]  # type: ignore[attr-defined]
        if not diffs:
            raise GateError(f"{case}: no predictions were recorded for it; is it among the cases that ran?")
        (diff,) = diffs
        moved = abs(diff.f1_head - diff.f1_base) * 100 >= min_effect if min_effect else diff.changed
        return BAD if moved else GOOD
    found = [c for c in outcome.speed if c.case == case and c.measure == measure]  # type: ignore[attr-defined]
    if not found:
        raise GateError(f"{case}: its {measure} was not timed; is it among the cases that ran?")
    from nerperf.gate.sequential import FASTER, SAME, SLOWER

    return {SLOWER: BAD, SAME: GOOD, FASTER: GOOD}.get(found[0].verdict, UNSURE)


def markdown(commits: Sequence[str], subjects: Mapping[str, str], steps: Sequence[Mapping[str, object]],
             found: Found, case: str, measure: str, culprit_summary: str,
             culprit_verdict: str | None = None) -> str:  # fmt: skip
    """The bisection as an issue comment: the culprit (or the range left), every step, the culprit's gate."""
    lines = ["## nerperf bisect", ""]
    if found.culprit is not None:
        culprit = commits[found.culprit]
        lines.append(f"**Culprit** for {case} {measure}: `{culprit[:10]}` {subjects.get(culprit, '')}")
    else:
        lines.append(
            f"**No single culprit** for {case} {measure}: {found.why} "
            f"(`{commits[found.low][:10]}` good .. `{commits[found.high][:10]}` bad)"
        )
    lines += ["", "| Step | Commit | Subject | Verdict against GOOD | Pairs | Minutes |", "|---|---|---|---|---|---|"]
    for number, step in enumerate(steps, start=1):
        commit = str(step["commit"])
        lines.append(
            f"| {number} | `{commit[:10]}` | {subjects.get(commit, '')} | {step['verdict']} | {step['pairs']} "
            f"| {float(step['seconds']) / 60:.1f} |"  # type: ignore[arg-type]
        )
    if culprit_summary:
        heading = "### The culprit against its parent" + (f": {culprit_verdict}" if culprit_verdict else "")
        lines += ["", heading, "", culprit_summary.replace("## nerperf gate", "").strip()]
    return "\n".join(lines) + "\n"
