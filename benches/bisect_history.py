"""``nerperf bisect`` on a throwaway history with known culprits: what docs/gate.md's bisect section shows.

Not a test (about an hour on 2 cores): it makes the histories below as branches off BASE, bisects them
with ``nerperf bisect`` exactly as a user would, and keeps each bisection's JSON in ``benches/records/bisect-demo/``
(tracked; a scenario whose record exists is skipped, so a run cut short resumes). Usage, from the
repository's root with ../shared beside it::

    python benches/bisect_history.py histories --base main
    python benches/bisect_history.py run
    python benches/bisect_history.py table

The histories: GOOD is BASE (commit 0); commits 1 to 16 follow it, each touching ``BISECT_DEMO.txt``,
except that commit 5 calls token 4116 ("Tony") ``B-LOC`` (one word's prediction changes from there on)
and commit 11 makes onnx-int8's forward pass busy-wait for 10% of its own time (the error-rate runs'
``calib-slow-10`` change). ``bisect-demo-skip`` is the same history with commit 8 uninstallable (a
requirement no index has; commit 9 takes it out again). Binary search over 17 commits looks at commit 8
first, so the skip is met on the way. Speed steps count a slowdown from 5% (``--min-effect``; the
injected one is 10%), as the recorded runs did: with the gate's default 2% and ``same`` at 5%, a commit
like GOOD took up to 10 pairs to be called ``same`` on this shared machine. With ``same`` at 20%,
``--min-effect 2`` decided every step in 3 pairs (``benches/records/bisect-demo/same-20-min-effect-2/``).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from gate_error_rates import BUSY_WAIT, INSTALL, ONE_WORD, ONNX_FORWARD, WORD_LOOP, commit, insert_after, scratch_tree

RECORDS = "benches/records/bisect-demo"  # tracked: each run's record, read by table (and skipped by run)

CASE = "minilm-l3-conll03-onnx-int8"
CASES = {"NERPERF_CHECKPOINTS": "minilm-l3-conll03", "NERPERF_VARIANTS": "onnx-int8", "NERPERF_SENTENCES": "300"}
COUNT = 16
ONE_WORD_AT, SLOWER_AT, UNINSTALLABLE_AT = 5, 11, 8
MISSING = '    "nerperf-bisect-demo-missing>=1",  # BISECT DEMO ONLY: no index has it, so this commit cannot install\n'
DEPENDENCIES = "dependencies = [\n"
SCENARIOS = {  # name: (GOOD, BAD, measure, what is expected)
    "latency": ("bisect-demo~16", "bisect-demo", "latency", f"culprit commit {SLOWER_AT}"),
    "accuracy": ("bisect-demo~16", "bisect-demo", "accuracy", f"culprit commit {ONE_WORD_AT}"),
    "latency-skip": ("bisect-demo-skip~16", "bisect-demo-skip", "latency", f"8 skipped, culprit {SLOWER_AT}"),
    "accuracy-skip": ("bisect-demo-skip~16", "bisect-demo-skip", "accuracy", f"8 skipped, culprit {ONE_WORD_AT}"),
    "no-step": ("bisect-demo~16", "bisect-demo~13", "latency", "exit 1: commits 1 to 3 change nothing measured"),
}


def histories(args: argparse.Namespace) -> None:
    """Both throwaway histories as branches (replaced if there), made in a temporary worktree."""
    from nerperf.gate.checkouts import repository_root, resolve

    repository = repository_root(Path.cwd())
    base = resolve(repository, args.base)
    for branch, uninstallable in (("bisect-demo", False), ("bisect-demo-skip", True)):
        with scratch_tree(repository, base, branch) as tree:
            for number in range(1, COUNT + 1):
                subject = _change(tree, number, uninstallable)
                commit(tree, f"BISECT DEMO ONLY, commit {number}: {subject}")
        print(f"{branch}: {args.base} + {COUNT} commits")


def _change(tree: Path, number: int, uninstallable: bool) -> str:
    """Commit ``number``'s change in ``tree``; its subject."""
    notes = tree / "BISECT_DEMO.txt"
    notes.write_text((notes.read_text() if notes.is_file() else "") + f"commit {number}\n")
    subprocess.run(["git", "-C", str(tree), "add", notes.name], check=True)
    if number == ONE_WORD_AT:
        insert_after(tree / "nerperf/models/runner.py", WORD_LOOP, ONE_WORD)
        return 'token 4116 ("Tony") is always B-LOC'
    if number == SLOWER_AT:
        insert_after(tree / "nerperf/variants/__init__.py", ONNX_FORWARD, BUSY_WAIT.format(share=0.10))
        return "onnx-int8's forward pass busy-waits 10% of its time"
    pyproject = tree / "pyproject.toml"
    if uninstallable and number == UNINSTALLABLE_AT:
        insert_after(pyproject, DEPENDENCIES, MISSING)
        return "a requirement no index has (cannot be installed)"
    if uninstallable and number == UNINSTALLABLE_AT + 1:
        pyproject.write_text(pyproject.read_text().replace(MISSING, ""))
        return "that requirement taken out again"
    return "nothing measured changes"


def run(args: argparse.Namespace) -> None:
    """Each scenario not yet recorded, as ``nerperf bisect`` in a child process (the output goes to its log)."""
    from nerperf.processes.children import Children, absolute, sigterm_raises

    out, records = absolute(args.out), absolute(args.records)
    out.mkdir(parents=True, exist_ok=True)
    records.mkdir(parents=True, exist_ok=True)
    with sigterm_raises(), Children() as children:
        for name, (good, bad, measure, expected) in SCENARIOS.items():
            if (records / f"{name}.json").is_file() or (args.only and name not in args.only):
                continue
            command = [
                sys.executable, "-m", "nerperf.cli", "bisect", good, bad, "--case", CASE, "--measure", measure,
                "--install", INSTALL, "--out", str(out / name), "--json", str(records / f"{name}.json"),
                *(["--min-effect", str(args.min_effect)] if measure != "accuracy" else []),
                "--", "benches/test_models.py",
            ]  # fmt: skip
            started = time.perf_counter()
            child = children.start(name, command, cwd=absolute("."), log=out / f"{name}.log",
                                   environment={**os.environ, **CASES})  # fmt: skip
            status = children.wait(child)
            print(f"{name}: exit {status} in {(time.perf_counter() - started) / 60:.1f} min ({expected})", flush=True)


def table(args: argparse.Namespace) -> None:
    """The recorded bisections as the Markdown table docs/gate.md shows."""
    print("| Scenario | Expected | Exit | Culprit | Steps (verdicts) | Comparisons | Minutes |")
    print("|---|---|---|---|---|---|---|")
    for name, (_good, _bad, _measure, expected) in SCENARIOS.items():
        path = Path(args.records) / f"{name}.json"
        if not path.is_file():
            print(f"| {name} | {expected} | not run yet | | | | |")
            continue
        record = json.loads(path.read_text())
        culprit = record.get("culprit") or {}
        subject = culprit.get("subject", "")
        number = subject.split(":")[0].removeprefix("BISECT DEMO ONLY, ") if subject else "none"
        steps = ", ".join(
            f"{s['subject'].split(':')[0].removeprefix('BISECT DEMO ONLY, commit ')} {s['verdict']}"
            for s in record.get("steps", [])
        )
        print(
            f"| {name} | {expected} | {record['status']} | {number} | {steps} | {record.get('comparisons', '')} "
            f"| {record.get('seconds', 0) / 60:.1f} |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    making = commands.add_parser("histories", help="make the throwaway branches off BASE")
    making.add_argument("--base", default="HEAD")
    running = commands.add_parser("run", help="bisect each scenario not yet recorded")
    running.add_argument("--only", nargs="*", default=None, help="these scenarios alone")
    running.add_argument(
        "--min-effect", type=float, default=5.0, help="speed steps: the slowdown in percent that counts (default 5)"
    )
    running.add_argument("--out", default=".benchmarks/bisect", help="each bisection's steps (not tracked)")
    running.add_argument("--records", default=RECORDS, help="each bisection's JSON (tracked: resumable)")
    tabulating = commands.add_parser("table")
    tabulating.add_argument("--records", default=RECORDS)
    args = parser.parse_args()
    {"histories": histories, "run": run, "table": table}[args.command](args)


if __name__ == "__main__":
    main()
