"""``nerperf bisect GOOD BAD``: its options, its steps (each a gate, :mod:`.command`), and its exit status.

Exit status: 0 a culprit found; 1 no step between GOOD and BAD (every commit judged like GOOD, and BAD
itself compared with GOOD says so); 2 could not bisect (the reason is said: GOOD cannot be installed,
the range left holds only commits that cannot be, or a step stayed inconclusive, with the range left);
130 or 143 cancelled, every child process stopped. The search itself is :mod:`.bisect`'s.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from nerperf.atomic import write_atomic
from nerperf.errors import NerperfInputError
from nerperf.gate import bisect, checkouts, command
from nerperf.gate.checkouts import GateError, SideFailed
from nerperf.gate.options import BisectOptions
from nerperf.processes.children import Children, Interrupted, absolute, stoppable

FOUND, NO_STEP, NOT_BISECTED = 0, 1, 2
MEASURES = ("latency", "throughput", "accuracy")


def add_parser(commands: Any) -> None:
    parser = commands.add_parser(
        "bisect",
        help="which commit between GOOD and BAD made a case slower or changed its predictions?",
        description="Binary search over the first-parent commits from GOOD to BAD, each judged against GOOD by a "
        "gate (fresh processes taking turns, the gate's statistics and stopping rule, environments reused while "
        "the requirement files are unchanged); commits that cannot be installed or run are skipped. Exit status: "
        "0 found; 1 no step; 2 could not bisect. Usage: nerperf bisect GOOD BAD --case ID [options] "
        "[-- PYTEST_ARGS], or nerperf bisect --from-asv [DIR] [--step K]",
    )
    parser.add_argument("good", metavar="GOOD", nargs="?", help="a commit before the step")
    parser.add_argument("bad", metavar="BAD", nargs="?", help="a commit after it")
    parser.add_argument("--case", metavar="ID", help="the checkpoint-variant id, e.g. minilm-l6-conll03-onnx-int8")
    parser.add_argument("--measure", choices=MEASURES, default="latency", help="what moved (default: latency)")
    parser.add_argument(
        "--min-effect",
        type=float,
        default=None,
        metavar="N",
        help="speed: the smallest slowdown in percent (default: the gate's 2); accuracy: the F1 points a commit "
        "must move by (default: any changed prediction)",
    )
    command.add_looks(parser)
    parser.add_argument("--json", metavar="FILE", default=None, help="also write the bisection as JSON")
    parser.add_argument("--out", metavar="DIR", default="nerperf-bisect", help="summary and every step's gate")
    parser.add_argument("--install", metavar="COMMAND", default=checkouts.DEFAULT_INSTALL, help="as nerperf gate's")
    parser.add_argument("--no-install", action="store_true", help="as nerperf gate's")
    parser.add_argument("--separate-environments", action="store_true", help="as nerperf gate's")
    parser.add_argument("--work", metavar="DIR", default=None, help="as nerperf gate's")
    parser.add_argument(
        "--from-asv",
        metavar="DIR",
        nargs="?",
        const=".asv/html",
        default=None,
        help="list the steps in asv's published pages (default .asv/html); with --step K, bisect step K",
    )
    parser.add_argument("--step", type=int, default=None, metavar="K", help="with --from-asv: the step to bisect")


def run_bisect(args: argparse.Namespace, say: Callable[[str], None] | None = None) -> int:
    """The command line: ``--from-asv`` lists asv's steps or picks one; otherwise GOOD, BAD and ``--case``."""
    good, bad, case, measure = args.good, args.bad, args.case, args.measure
    if args.from_asv is not None:
        chosen = _from_asv(args.from_asv, args.step)
        if chosen is None:
            return FOUND
        good, bad = chosen.before or f"{chosen.after}^", chosen.after
        case, measure = case or chosen.case, chosen.measure
    if not (good and bad and case):
        raise NerperfInputError("nerperf bisect needs GOOD, BAD and --case ID (or --from-asv DIR --step K)")
    options = BisectOptions(
        good=good,
        bad=bad,
        case=case,
        measure=measure,
        min_effect=args.min_effect,
        min_pairs=args.min_pairs,
        max_pairs=args.max_pairs,
        json=args.json,
        out=args.out,
        install=args.install,
        no_install=args.no_install,
        separate_environments=args.separate_environments,
        work=args.work,
        pytest_args=tuple(args.pytest_args),
    )
    return bisect_steps(options, say)


def bisect_steps(args: BisectOptions, say: Callable[[str], None] | None = None) -> int:
    """The bisection's exit status; its summary and JSON under ``args.out``, whatever happens."""
    say = say or (lambda line: print(line, file=sys.stderr, flush=True))
    out = absolute(args.out)
    started = time.perf_counter()
    try:
        done = stoppable(lambda children: _bisect(args, out, say, children))
        if isinstance(done, Interrupted):
            reason = done.reason()
            status, record, text = (
                done.status,
                {"status": done.status, "reason": reason},
                f"## nerperf bisect\n\n{reason}\n",
            )
        else:
            status, record, text = done
    except Exception as error:  # a GateError, a bad setting, or a bug in nerperf: exit 2, never "no step" (1)
        if not isinstance(error, NerperfInputError):
            traceback.print_exc()
            error = GateError(f"nerperf bisect failed ({type(error).__name__}: {error}); this is a bug in nerperf")
        record = {"status": NOT_BISECTED, "reason": str(error)}
        status, text = NOT_BISECTED, f"## nerperf bisect\n\n**not bisected**: {error}\n"
    record["seconds"] = time.perf_counter() - started
    payload = json.dumps(record, indent=2, sort_keys=True) + "\n"
    write_atomic(out / "summary.md", text)
    write_atomic(out / "bisect.json", payload)
    if args.json:
        write_atomic(Path(args.json), payload)
    print(text)
    return status


def _from_asv(pages: str, step: int | None) -> bisect.AsvStep | None:
    """Step ``step`` of asv's published pages; without one, the steps listed, each with its command."""
    steps = bisect.asv_steps(Path(pages))
    if step is None:
        if not steps:
            print(f"asv found no step in {pages}")
        for number, found in enumerate(steps, start=1):
            print(f"{number}. {found.describe()}")
            print(f"   nerperf bisect --from-asv {pages} --step {number}")
        return None
    if not 1 <= step <= len(steps):
        raise NerperfInputError(f"--step {step}: asv found {len(steps)} steps in {pages} (1 to {len(steps)})")
    return steps[step - 1]


def _bisect(args: BisectOptions, out: Path, say: Callable[[str], None], children: Children) -> tuple:
    repository = checkouts.repository_root(Path.cwd())
    good, bad = checkouts.resolve(repository, args.good), checkouts.resolve(repository, args.bad)
    commits = bisect.commits_between(repository, good, bad)
    subjects = {c: checkouts.git(repository, "log", "-1", "--format=%s", c) for c in commits}
    steps: list[dict[str, Any]] = []

    def judge(base: str, head: str, label: str) -> tuple[str, Any]:
        from dataclasses import replace

        from nerperf.gate import verdict as verdicts

        clock = time.perf_counter()
        outcome = command.gate(args.step(base, head, str(out / label)), out / label, say, children)
        outcome = replace(outcome, seconds=time.perf_counter() - clock)

        write_atomic(out / label / "summary.md", verdicts.markdown(outcome))  # each step's gate, as the gate says it
        write_atomic(out / label / "gate.json", verdicts.record(outcome) + "\n")
        return bisect.verdict_of(outcome, args.case, args.measure, args.min_effect or 0.0), outcome

    def step(index: int) -> str:
        """One step: GOOD against the commit; a commit that cannot be installed or run is skipped."""
        commit, clock = commits[index], time.perf_counter()
        say(f"nerperf bisect: step {len(steps) + 1}: {commit[:10]} {subjects[commit]}")
        try:
            verdict, outcome = judge(good, commit, f"step-{len(steps) + 1:02d}")
            pairs = outcome.pairs
        except SideFailed as error:
            if error.side == "base":
                stage = "installed" if error.stage == "install" else "run"
                raise GateError(f"GOOD ({good[:10]}) cannot be {stage}: {error}") from None
            verdict, pairs = bisect.SKIP, 0
            say(f"nerperf bisect: {commit[:10]} skipped: it cannot be {error.stage}: {error}")
        except GateError as error:  # nothing could be compared at this commit (another case set, ...)
            verdict, pairs = bisect.SKIP, 0
            say(f"nerperf bisect: {commit[:10]} skipped: {error}")
        steps.append({"commit": commit, "verdict": verdict, "pairs": pairs, "seconds": time.perf_counter() - clock})
        return verdict

    judged = bisect.search(len(commits), step)  # BAD taken on the user's word, checked below where it matters
    from nerperf.gate import verdict as verdicts

    found, last = bisect.conclusion(len(commits), judged), len(commits) - 1
    summary, status = "", NOT_BISECTED if found.culprit is None else FOUND
    if found.culprit == last and bisect.BAD not in (judged[i] for i in judged if i < last):
        # BAD was taken on the user's word and every commit before it judged like GOOD: is BAD itself unlike it?
        verdict, outcome = judge(good, bad, "ends")
        if verdict != bisect.BAD:
            summary, status = verdicts.markdown(outcome), NO_STEP
            found = bisect.Found(0, last, None, f"GOOD and BAD compared say {verdict}: no step between them")
    culprit_verdict = None
    if status == FOUND:
        assert found.culprit is not None
        culprit_verdict, outcome = judge(commits[found.culprit - 1], commits[found.culprit], "culprit")
        summary = verdicts.markdown(outcome)
    text = bisect.markdown(commits, subjects, steps, found, args.case, args.measure, summary, culprit_verdict)
    record = {
        "status": status,
        "good": good,
        "bad": bad,
        "case": args.case,
        "measure": args.measure,
        "culprit": None
        if found.culprit is None
        else {
            "commit": commits[found.culprit],
            "subject": subjects[commits[found.culprit]],
            "verdict_against_parent": culprit_verdict,
        },  # fmt: skip
        "range_left": [commits[found.low], commits[found.high]],
        "why": found.why,
        "steps": [{**s, "subject": subjects[s["commit"]]} for s in steps],
        "comparisons": len(steps) + (1 if summary else 0),
    }
    return status, record, text
