"""Calibrating ``nerperf gate``: false alarms on same-revision gates, detections of known slowdowns.

Not a test (an hour or more): the measurements behind docs/gate.md's calibration. It runs ``nerperf gate``
several times for each head against one base, then tabulates, per kind of head, how many gates called
each case slower or faster, beside what today's anchors would have said on the same samples:

- pytest-benchmark's ``--benchmark-compare-fail=median:25%`` (the previous gate): its own
  ``PercentageRegressionCheck`` on the medians of the first pair of rounds (one base run, one head run);
- ``asv continuous --factor 1.1``: asv's own comparison (``_is_result_better``: Mann-Whitney U on the
  raw samples, then the factor) on the same first pair's per-sentence or per-batch samples.

Usage, from the repository's root with ../shared beside it::

    python benches/gate_calibration.py heads --base main   # the throwaway branches below, off main
    python benches/gate_calibration.py run --base calib-base --head calib-base --gates 10
    python benches/gate_calibration.py run --base calib-base --head calib-slow-05 --gates 10
    python benches/gate_calibration.py table

``heads`` makes throwaway branches off BASE: ``calib-base`` (BASE itself), ``calib-slow-05``, ``-10``
and ``-20`` (onnx-int8's forward pass busy-waits for 5, 10 or 20% of its own time) and
``calib-one-word`` (the token id 4116, "Tony" in the offline checkpoints' vocabulary, always ``B-LOC``:
one word's prediction changed, for ``nerperf gate calib-base calib-one-word --exact``).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from nerperf.children import Children, absolute, sigterm_raises
from nerperf.gate.sequential import FIRST_LOOK, LAST_LOOK

CASES = {
    "NERPERF_CHECKPOINTS": "minilm-l6-conll03,minilm-l3-conll03",
    "NERPERF_VARIANTS": "fp32,int8,onnx-int8",
    "NERPERF_SENTENCES": "300",
}
INSTALL = "python -m pip install -q -e '.[onnx]'"
SLOWED = ("minilm-l6-conll03-onnx-int8", "minilm-l3-conll03-onnx-int8")  # the busy-wait branches slow these


def run(args: argparse.Namespace) -> None:
    """Run the gates not yet run; each is a child of :mod:`nerperf.children` (stopped with this process)."""
    out = absolute(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with sigterm_raises(), Children() as children:
        for index in range(args.gates):
            _run_one(args, out, index, children)


def _run_one(args: argparse.Namespace, out: Path, index: int, children: Children) -> None:
    name = f"{args.head.replace('/', '_')}-{index:02d}"
    if (out / f"{name}.json").is_file():
        return  # gates already run are kept: the run can be resumed
    command = [
        sys.executable, "-m", "nerperf.cli", "gate", args.base, args.head, "--max-pairs", str(args.max_pairs),
        "--install", INSTALL, "--out", str(out / name), "--json", str(out / f"{name}.json"),
        "--work", str(out / "work"), "--", "benches/test_models.py",
    ]  # fmt: skip
    started = time.perf_counter()
    environment = {**os.environ, **CASES}
    gate = children.start(name, command, cwd=absolute("."), log=out / f"{name}.log", environment=environment)
    returncode = children.wait(gate)
    seconds = time.perf_counter() - started
    print(f"{name}: exit {returncode}, {seconds / 60:.1f} min", flush=True)


BUSY_WAIT = """\
    if name == "onnx-int8":  # CALIBRATION ONLY: a busy-wait of {share:.0%} of the forward pass's own time
        inner = forward

        def forward(tensors):  # type: ignore[no-redef]
            import time

            started = time.perf_counter()
            logits = inner(tensors)
            until = time.perf_counter() + {share} * (time.perf_counter() - started)
            while time.perf_counter() < until:
                pass
            return logits

"""
ONE_WORD = """\
                    if window.features["input_ids"][_position] == 4116:  # CALIBRATION ONLY: "Tony" is B-LOC
                        label = {name: i for i, name in checkpoint.id2label.items()}["B-LOC"]
"""
ONNX_FORWARD = "    forward = onnx_variants.session_forward(entry.directory, context.threads)\n"
WORD_LOOP = "                for (word, _position), label in zip(window.picks, labels, strict=True):\n"
HEADS = {  # branch: (file, the line after which the change goes, the change)
    "calib-base": None,
    **{
        f"calib-slow-{p:02d}": ("nerperf/variants/__init__.py", ONNX_FORWARD, BUSY_WAIT.format(share=p / 100))
        for p in (5, 10, 20)
    },
    "calib-one-word": ("nerperf/runner.py", WORD_LOOP, ONE_WORD),
}


def heads(args: argparse.Namespace) -> None:
    """Each throwaway head: a commit on BASE, made in a temporary worktree, as a branch (replaced if there)."""
    import tempfile

    from nerperf.gate.checkouts import git, repository_root, resolve

    repository = repository_root(Path.cwd())
    base = resolve(repository, args.base)
    for branch, change in HEADS.items():
        if change is None:
            git(repository, "branch", "-f", branch, base)
            print(f"{branch}: {base[:10]} ({args.base})")
            continue
        path, after, inserted = change
        with tempfile.TemporaryDirectory() as scratch:
            tree = Path(scratch) / "tree"
            git(repository, "worktree", "add", "--detach", str(tree), base)
            try:
                text = (tree / path).read_text()
                if text.count(after) != 1:
                    raise SystemExit(
                        f"{path} at {args.base}: the line {after.strip()!r} is not there once; update HEADS"
                    )
                (tree / path).write_text(text.replace(after, after + inserted))
                who = ("-c", "user.name=nerperf", "-c", "user.email=nerperf@localhost")
                git(tree, *who, "commit", "-qam", f"CALIBRATION ONLY ({branch}), not for merging")
                git(repository, "branch", "-f", branch, git(tree, "rev-parse", "HEAD"))
            finally:
                git(repository, "worktree", "remove", "--force", str(tree))
        print(f"{branch}: {args.base} + {path}")


def anchors(rounds: Path, pair: int = 0) -> dict[str, dict[str, dict[str, bool]]]:
    """What pytest-benchmark's median:25% and asv's --factor 1.1 say of one pair of rounds (a base run and a
    head run), per case and measure: True where each would call the head slower (asv: or faster)."""
    from asv.commands.compare import _is_result_better
    from asv_runner.statistics import compute_stats
    from pytest_benchmark.utils import parse_compare_fail

    from nerperf.gate.samples import read_directory

    check = parse_compare_fail("median:25%")
    base, head = (read_directory(_round(rounds, pair, side) / "samples") for side in ("base", "head"))
    found: dict[str, dict[str, dict[str, bool]]] = {}
    for case in base:
        for measure, field in (("latency", "latency_s"), ("throughput", "batch_s")):
            a = [t for t in getattr(base[case], field) if t]
            b = [t for t in getattr(head[case], field) if t]
            median_a, stats_a = compute_stats(a, 1)
            median_b, stats_b = compute_stats(b, 1)
            found.setdefault(case, {})[measure] = {
                "pytest-benchmark": bool(check.fails({"median": median_b}, {"median": median_a})),
                "asv": bool(_is_result_better(median_a, median_b, (stats_a, a), (stats_b, b), 1.1)),
                "asv-faster": bool(_is_result_better(median_b, median_a, (stats_b, b), (stats_a, a), 1.1)),
            }
    return found


def _alarmed(record: dict[str, Any], slowed: tuple[str, ...]) -> bool:
    """Whether a gate called a case it should not have slower (a false alarm; "faster" only describes)."""
    return any(
        found["verdict"] == "slower"
        for case, measures in record["cases"].items()
        if case not in slowed
        for measure, found in measures.items()
        if measure != "accuracy"
    )


def _round(rounds: Path, pair: int, side: str) -> Path:
    """The directory of ``side``'s round in ``pair`` (named by its place in the order run)."""
    for index in (2 * pair, 2 * pair + 1):
        if (rounds / f"{index:02d}-{side}").is_dir():
            return rounds / f"{index:02d}-{side}"
    raise FileNotFoundError(f"no {side} round of pair {pair} in {rounds}")


def judged_again(rounds: Path, pairs: int, min_effect: float) -> dict[str, Any]:
    """The gate's verdicts on the first ``pairs`` pairs of its rounds, by the gate's own code: what a gate
    of that many pairs would have said (the pairs are independent runs)."""
    from nerperf.gate import verdict
    from nerperf.gate.checkouts import Side
    from nerperf.gate.command import compare
    from nerperf.gate.rounds import Round

    ran = []
    for directory in sorted(rounds.iterdir()):
        index, side = directory.name.split("-")
        if int(index) // 2 < pairs:
            ran.append(Round(int(index), int(index) // 2, side, directory, 0, 0.0))
    sides = {name: Side(name, name, "0" * 40, rounds, Path(sys.executable)) for name in ("base", "head")}
    options = argparse.Namespace(min_effect=min_effect, exact=False, min_pairs=min(FIRST_LOOK, pairs), max_pairs=pairs)
    return json.loads(verdict.record(compare(ran, sides, {}, options, {})))


def table(args: argparse.Namespace) -> None:
    out = Path(args.out)
    gates: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for path in sorted(out.glob("calib-*.json")):
        record = json.loads(path.read_text())
        if args.pairs or args.min_effect:
            ran = record["rounds"]["pairs"]
            pairs, min_effect = args.pairs or ran, args.min_effect or record["min_effect"] * 100
            seconds = record.get("seconds", 0) * min(pairs, ran) / ran  # the first pairs' share of the time
            record = judged_again(out / path.stem / "rounds", pairs, min_effect) | {"seconds": seconds}
        head = path.stem.rsplit("-", 1)[0]
        record["anchors"] = anchors(out / path.stem / "rounds") if (out / path.stem / "rounds").is_dir() else {}
        gates[head].append(record)
    for head, records in gates.items():
        print(f"\n## {head}: {len(records)} gates, exit statuses {sorted(r['status'] for r in records)}")
        minutes = [r.get("seconds", 0) / 60 for r in records]
        print(f"wall time per gate: {min(minutes):.1f} to {max(minutes):.1f} min")
        slowed = SLOWED if head != "calib-base" else ()
        alarms = sum(_alarmed(r, slowed) for r in records)
        print(f"gates with a slower or faster verdict on a case not slowed: {alarms} of {len(records)}")
        for case in slowed:
            for measure in ("latency", "throughput"):
                found = sum(r["cases"][case][measure]["verdict"] == "slower" for r in records)
                print(f"{case} {measure}: slower in {found} of {len(records)} gates")
        verdicts: dict[tuple[str, str], list[str]] = defaultdict(list)
        anchor_calls: dict[tuple[str, str, str], int] = defaultdict(int)
        for r in records:
            for case, measures in r.get("cases", {}).items():
                for measure in ("latency", "throughput"):
                    if measure in measures:
                        verdicts[(case, measure)].append(measures[measure]["verdict"])
                    for tool, said in r["anchors"].get(case, {}).get(measure, {}).items():
                        anchor_calls[(case, measure, tool)] += said
        print("| case | measure | slower | faster | same | inconclusive | ratios | pytest-benchmark 25% | asv 1.1 |")
        print("|---|---|---|---|---|---|---|---|---|")
        for (case, measure), found in verdicts.items():
            counts = [found.count(v) for v in ("slower", "faster", "same", "inconclusive")]
            ratios = [r["cases"][case][measure]["ratio"] for r in records if case in r.get("cases", {})]
            spread = f"{min(ratios):.3f} – {max(ratios):.3f}"
            pb, asv = (anchor_calls[(case, measure, tool)] for tool in ("pytest-benchmark", "asv"))
            print(f"| {case} | {measure} | {' | '.join(map(str, counts))} | {spread} | {pb} | {asv} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    making = commands.add_parser("heads", help="make the throwaway branches off BASE")
    making.add_argument("--base", default="HEAD")
    running = commands.add_parser("run")
    running.add_argument("--base", required=True)
    running.add_argument("--head", required=True)
    running.add_argument("--gates", type=int, default=10)
    running.add_argument("--max-pairs", type=int, default=LAST_LOOK)
    running.add_argument("--out", default=".benchmarks/gate")
    tabulating = commands.add_parser("table")
    tabulating.add_argument("out", nargs="?", default=".benchmarks/gate")
    tabulating.add_argument("--pairs", type=int, default=0, help="judge again on the first N pairs only")
    tabulating.add_argument("--min-effect", type=float, default=0.0, help="judge again with this minimum effect")
    args = parser.parse_args()
    {"heads": heads, "run": run, "table": table}[args.command](args)


if __name__ == "__main__":
    main()
