"""The gate's error rates, measured: false alarms on same-revision gates, detections of known slowdowns.

Not a test (an hour or more): the measurements behind docs/gate.md's error rates. It runs ``nerperf gate``
several times for each head against one base, then tabulates, per kind of head, how many gates called
each case slower or faster, beside what today's anchors would have said on the same samples:

- pytest-benchmark's ``--benchmark-compare-fail=median:25%`` (the previous gate): its own
  ``PercentageRegressionCheck`` on the medians of the first pair of rounds (one base run, one head run);
- ``asv continuous --factor 1.1``: asv's own comparison (``_is_result_better``: Mann-Whitney U on the
  raw samples, then the factor) on the same first pair's per-sentence or per-batch samples.

Usage, from the repository's root with ../shared beside it::

    python benches/gate_error_rates.py heads --base main   # the throwaway branches below, off main
    python benches/gate_error_rates.py run --base calib-base --head calib-base --gates 10
    python benches/gate_error_rates.py run --base calib-base --head calib-slow-05 --gates 10
    python benches/gate_error_rates.py table
    python benches/gate_error_rates.py table --first 3 --last 6 --min-effect 3   # judged again, other rules
    python benches/gate_error_rates.py table --prior-df 0      # judged again, each comparison on its own
    python benches/gate_error_rates.py run --base calib-base --head calib-base --gates 1 --rounds 10 \
        --setup seeded --records benches/records/gate-noise/amx/seeded     # one process setup's noise

``run --setup NAME`` sets both sides' processes up as :data:`SETUPS` names (a fixed hash seed, a pinned
CPU set with OpenMP's threads bound, no idle spinning, one thread). Where the same-revision gates' spread
lies (per setup, per source, and the shared variance's prior fitted on them) is ``benches/gate_noise.py``'s.

Each gate's verdict (its ``gate.json``, with every comparison's pair ratios in the order run) is kept in
``benches/records/gate-error-rates/`` (``--records``), which is tracked: the runs are hours long, so it is spread
over sessions and resumes where the last one stopped, a gate whose record exists being skipped. Its
rounds (logs, raw samples) stay under ``.benchmarks/gate/`` (``--out``, not tracked); the anchors need
them and are left out of the table where they are gone. ``table --first/--last/--min-effect`` replays
the gate's own sequential rule (:func:`nerperf.gate.speed.judge`) on the recorded pair ratios: what a
gate with other looks or another minimum effect would have said, without running it again.

``table --prior-df 0`` judges the same gates again with each comparison on its own variance, ``table``
alone with the prior each gate ran with.

``heads`` makes throwaway branches off BASE: ``calib-base`` (BASE itself), ``calib-slow-05``, ``-10``
and ``-20`` (onnx-int8's forward pass busy-waits for 5, 10 or 20% of its own time) and
``calib-one-word`` (the token id 4116, "Tony" in the offline checkpoints' vocabulary, always ``B-LOC``:
one word's prediction changed, for ``nerperf gate calib-base calib-one-word --exact``).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import resource
import statistics
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from nerperf.atomic import write_atomic
from nerperf.gate.sequential import LAST_LOOK
from nerperf.processes.children import Children, absolute, sigterm_raises
from nerperf.processes.lockstep import WAITS

RECORDS = "benches/records/gate-error-rates"  # tracked: each run's record, read by table (and skipped by run)

CASES = {
    "NERPERF_CHECKPOINTS": "minilm-l6-conll03,minilm-l3-conll03",
    "NERPERF_VARIANTS": "fp32,int8,onnx-int8",
    "NERPERF_SENTENCES": "300",
}
INSTALL = "python -m pip install -q -c constraints.txt -e '.[onnx]'"  # the versions measured with
SLOWED = ("minilm-l6-conll03-onnx-int8", "minilm-l3-conll03-onnx-int8")  # the busy-wait branches slow these
NOISE = "benches/records/gate-noise"  # tracked: same-revision gates of fixed pairs, one directory per setup
# How the processes of a noise run are set up (issue 44): the gate's options and the variables both sides get.
SETUPS: dict[str, tuple[list[str], dict[str, str]]] = {
    "defaults": ([], {}),  # the gate's own at the time: its record's rounds.wait and .environments say which
    "seeded": (["--hash-seed", "0"], {}),
    "pinned": (["--cpus", "0-1", "--bind-threads"], {}),  # both sides on the same CPUs, OpenMP threads bound
    "no-spin": (["--wait", "passive"], {}),  # OpenMP's idle threads sleep at once; onnxruntime never spins
    "one-thread": ([], {"NERPERF_THREADS": "1"}),
    "seeded-pinned": (["--hash-seed", "0", "--cpus", "0-1", "--bind-threads"], {}),
    "bound": (["--bind-threads"], {}),  # OpenMP's threads bound, onnxruntime's workers on the other cores (0.9.1)
    "one-environment": (["--no-install"], {}),  # both sides on this interpreter and its site-packages
    "separate-environments": (["--separate-environments"], {}),  # an environment per side, as before 0.9
}


def run(args: argparse.Namespace) -> None:
    """Run the gates not yet recorded; each a child of :mod:`nerperf.processes.children`, stopped with this one."""
    out, records = absolute(args.out), absolute(args.records)
    gates_dir(out, records).mkdir(parents=True, exist_ok=True)
    records.mkdir(parents=True, exist_ok=True)
    with sigterm_raises(), Children() as children:
        for index in range(args.gates):
            _run_one(args, out, records, index, children)


def _run_one(args: argparse.Namespace, out: Path, records: Path, index: int, children: Children) -> None:
    name = f"{args.head.replace('/', '_')}-{index:02d}"
    record = records / f"{name}.json"
    if _finished(record):
        return  # gates already recorded are kept: the run resumes, in this session or a later one
    options, variables = SETUPS[args.setup]
    pairs = ["--rounds", str(args.rounds)] if args.rounds else ["--max-pairs", str(args.max_pairs)]
    command = [
        sys.executable, "-m", "nerperf.cli", "gate", args.base, args.head, *pairs,
        "--install", INSTALL, "--out", str(gates_dir(out, records) / name), "--json", str(record),
        *(["--wait", args.wait] if args.wait else []), "--work", str(out / "work"), *options,
        "--", "benches/test_models.py",
    ]  # fmt: skip
    started, busy_before, gate_before = time.perf_counter(), busy_cpu_seconds(), children_cpu_seconds()
    environment = {**os.environ, **CASES, **variables}
    gate = children.start(
        name, command, cwd=absolute("."), log=gates_dir(out, records) / f"{name}.log", environment=environment
    )
    returncode = children.wait(gate)
    seconds = time.perf_counter() - started
    if busy_before is not None and _finished(record):
        busy = busy_cpu_seconds() - busy_before
        other = max(0.0, busy - (children_cpu_seconds() - gate_before)) / seconds
        _add_to_record(record, {"beside": {"other_cores": round(other, 2), "cores": os.cpu_count()}})
    print(f"{name}: exit {returncode}, {seconds / 60:.1f} min", flush=True)


def busy_cpu_seconds() -> float | None:
    """The CPU time this machine's cores have been busy so far, by whatever ran (Linux's ``/proc/stat``), or
    None elsewhere: less what the gate itself used, it tells a quiet gate from one run beside other work."""
    try:
        ticks = [int(field) for field in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:8]]
    except (OSError, ValueError):
        return None
    user, nice, system, _idle, _iowait, irq, softirq = ticks
    return (user + nice + system + irq + softirq) / os.sysconf("SC_CLK_TCK")


def children_cpu_seconds() -> float:
    """The CPU time of this process's reaped descendants: the gate, both sides' pytest and installs."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _add_to_record(path: Path, fields: dict[str, Any]) -> None:
    write_atomic(path, json.dumps({**json.loads(path.read_text()), **fields}, indent=2, sort_keys=True) + "\n")


def gates_dir(out: Path, records: Path) -> Path:
    """Where the gates of one design keep their rounds and logs: under ``out``, named as its records directory,
    so that each design's (``--records``) rounds stay apart as its records do."""
    return out / records.name


INTERRUPTED = (130, 143)  # Ctrl-C, SIGTERM: the gate did not finish, so it is run again
SAME_ALPHA_UNRECORDED = 0.05  # the `same` level of the gates recorded before gate.json kept rounds.same_alpha


def _finished(path: Path) -> bool:
    """Whether a gate's record is there and the gate ran to its end (an exit 2 is a finding, and stays)."""
    try:
        return json.loads(path.read_text())["status"] not in INTERRUPTED
    except (OSError, ValueError, KeyError):
        return False


BUSY_WAIT = """\
    if name == "onnx-int8":  # ERROR-RATE HEAD ONLY: a busy-wait of {share:.0%} of the forward pass's own time
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
                    if window.features["input_ids"][_position] == 4116:  # ERROR-RATE HEAD ONLY: "Tony" is B-LOC
                        label = {name: i for i, name in checkpoint.id2label.items()}["B-LOC"]
"""
ONNX_FORWARD = "    forward = onnx_variants.session_forward(entry.directory, context.threads, context.spin)\n"
WORD_LOOP = "                for (word, _position), label in zip(window.picks, labels, strict=True):\n"
HEADS = {  # branch: (file, the line after which the change goes, the change)
    "calib-base": None,
    **{
        f"calib-slow-{p:02d}": ("nerperf/variants/__init__.py", ONNX_FORWARD, BUSY_WAIT.format(share=p / 100))
        for p in (5, 10, 20)
    },
    "calib-one-word": ("nerperf/models/runner.py", WORD_LOOP, ONE_WORD),
}


def heads(args: argparse.Namespace) -> None:
    """Each throwaway head: a commit on BASE, made in a temporary worktree, as a branch (replaced if there)."""
    from nerperf.gate.checkouts import git, repository_root, resolve

    repository = repository_root(Path.cwd())
    base = resolve(repository, args.base)
    for branch, change in HEADS.items():
        if change is None:
            git(repository, "branch", "-f", branch, base)
            print(f"{branch}: {base[:10]} ({args.base})")
            continue
        path, after, inserted = change
        with scratch_tree(repository, base, branch) as tree:
            insert_after(tree / path, after, inserted)
            commit(tree, f"ERROR-RATE HEAD ONLY ({branch}), not for merging")
        print(f"{branch}: {args.base} + {path}")


@contextlib.contextmanager
def scratch_tree(repository: Path, base: str, branch: str) -> Iterator[Path]:
    """A temporary worktree at ``base`` to commit throwaway changes in; ``branch`` is set to what it ends at."""
    from nerperf.gate.checkouts import git

    with tempfile.TemporaryDirectory() as scratch:
        tree = Path(scratch) / "tree"
        git(repository, "worktree", "add", "--detach", str(tree), base)
        try:
            yield tree
            git(repository, "branch", "-f", branch, git(tree, "rev-parse", "HEAD"))
        finally:
            git(repository, "worktree", "remove", "--force", str(tree))


def commit(tree: Path, message: str) -> None:
    from nerperf.gate.checkouts import git

    git(tree, "-c", "user.name=nerperf", "-c", "user.email=nerperf@localhost", "commit", "-qam", message)


def insert_after(path: Path, after: str, inserted: str) -> None:
    """Insert ``inserted`` after the line ``after``, which must be in ``path`` once (else HEADS is out of date)."""
    text = path.read_text()
    if text.count(after) != 1:
        raise SystemExit(f"{path}: the line {after.strip()!r} is not there once; update the changes in {__file__}")
    path.write_text(text.replace(after, after + inserted))


def anchors(rounds: Path, pair: int = 0) -> dict[str, dict[str, dict[str, bool]]]:
    """What pytest-benchmark's median:25% and asv's --factor 1.1 say of one pair of rounds (a base run and a
    head run), per case and measure: True where each would call the head slower (asv: or faster)."""
    from asv.commands.compare import _is_result_better
    from asv_runner.statistics import compute_stats
    from pytest_benchmark.utils import parse_compare_fail

    from nerperf.processes.samples import read_directory

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


def judged_again(
    record: dict[str, Any],
    first: int,
    last: int,
    min_effect: float,
    prior_df: float = 0.0,
    same_alpha: float = SAME_ALPHA_UNRECORDED,
    fit_order: bool = False,
) -> dict[str, Any]:
    """The record with every comparison judged again by the gate's own rule, on its recorded pair ratios
    (the first ``last`` of them), with looks from ``first`` to ``last``, ``min_effect`` in percent and the
    shared variance's ``prior_df`` (0: none shared), the ``same`` bound's level ``same_alpha`` and the pairs'
    order fitted or not (``fit_order``, :func:`nerperf.gate.sequential.fit`). A
    comparison that the gate, stopping when the rule it ran with had decided everything, left too few pairs
    to decide by this rule is ``undecided``."""
    from dataclasses import replace

    from nerperf.gate import speed

    comparisons = [
        speed.SpeedComparison(
            case,
            measure,
            found["base"],
            found["head"],
            found["ratio"],
            len(found["pair_ratios"]),
            tuple(found["pair_ratios"][:last]),
        )  # fmt: skip
        for case, measures in record["cases"].items()
        for measure, found in measures.items()
        if measure != "accuracy"
    ]
    recorded = max((len(c.pair_ratios) for c in comparisons), default=0)
    for pairs in range(min(first, recorded), recorded + 1):  # the gate's looks, until it would have stopped
        looked = [
            replace(
                c,
                pair_ratios=c.pair_ratios[:pairs],
                ratio=speed.mean_ratio([math.log(r) for r in c.pair_ratios[:pairs]], fit_order),
            )
            for c in comparisons
        ]
        judged = speed.judge(looked, min_effect / 100, first, last, prior_df, same_alpha, fit_order)
        if pairs >= first and speed.finished(judged, min_effect / 100):
            break
    cases = {case: dict(measures) for case, measures in record["cases"].items()}
    for c in judged:
        cases[c.case][c.measure] = {**cases[c.case][c.measure], "verdict": c.verdict or "undecided",
                                    "decided_at": c.decided_at}  # fmt: skip
    share = pairs / max(1, record["rounds"]["pairs"])  # the pairs it would have run, as a share of those run
    status = 1 if any(c.verdict == "slower" for c in judged) else 0  # by speed alone: floors are not re-run
    rounds = {**record["rounds"], "pairs": pairs, "prior_df": prior_df, "same_alpha": same_alpha}  # where it stopped
    return {**record, "cases": cases, "seconds": record.get("seconds", 0) * share, "status": status, "rounds": rounds}


def table(args: argparse.Namespace) -> None:
    out, records_dir = Path(args.out), Path(args.records)
    gates: dict[str, list[dict[str, Any]]] = defaultdict(list)
    not_compared: dict[str, list[str]] = defaultdict(list)
    replayed = bool(
        args.first or args.last or args.min_effect or args.prior_df is not None or args.same_alpha or args.fit_order
    )
    for path in sorted(records_dir.glob("calib-*.json")):
        record = json.loads(path.read_text())
        if record.get("status") == 2 and "schema" not in record:  # nothing compared: counted, with its reason
            not_compared[path.stem.rsplit("-", 1)[0]].append(record["reason"])
            continue
        if record.get("schema") != 2:
            continue  # a gate of the fixed-sample design (before nerperf 0.5), or one interrupted and rerun
        if replayed:
            looks, ran_with = record["rounds"]["looks"], record["rounds"].get("prior_df", 0.0)
            first, last = args.first or looks[0], args.last or looks[1]
            prior_df = ran_with if args.prior_df is None else args.prior_df
            same_alpha = args.same_alpha or record["rounds"].get("same_alpha", SAME_ALPHA_UNRECORDED)
            min_effect = args.min_effect or record["min_effect"] * 100
            record = judged_again(record, first, last, min_effect, prior_df, same_alpha, args.fit_order)
        head = path.stem.rsplit("-", 1)[0]
        rounds = gates_dir(out, records_dir) / path.stem / "rounds"
        record["anchors"] = anchors(rounds) if rounds.is_dir() else {}
        gates[head].append(record)
    for head, reasons in not_compared.items():
        print(f"\n## {head}: {len(reasons)} gates exited 2 (nothing compared): " + "; ".join(reasons))
    for head, records in gates.items():
        print(f"\n## {head}: {len(records)} gates, exit statuses {sorted(r['status'] for r in records)}")
        minutes = sorted(r.get("seconds", 0) / 60 for r in records)
        prorated = (
            " (judged again: the share of each gate's time that its pairs up to the stop took)" if replayed else ""
        )
        print(
            f"wall time per gate: {minutes[0]:.1f} to {minutes[-1]:.1f} min, median {statistics.median(minutes):.1f}"
            + prorated
        )
        pairs = sorted(r["rounds"]["pairs"] for r in records)
        print(f"pairs run: {pairs}")
        print(f"machines: {machines(records)}")
        print(f"other work beside each gate: {beside(records)}")
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
        print(
            "| case | measure | slower | faster | same | inconclusive | ratios | pair spread (sd of log ratios, %) "
            "| pytest-benchmark 25% | asv 1.1 |"
        )
        print("|---|---|---|---|---|---|---|---|---|---|")
        for (case, measure), found in verdicts.items():
            counts = [found.count(v) for v in ("slower", "faster", "same", "inconclusive")]
            ratios = [r["cases"][case][measure]["ratio"] for r in records if case in r.get("cases", {})]
            spread = f"{min(ratios):.3f} – {max(ratios):.3f}"
            pb, asv = (anchor_calls[(case, measure, tool)] for tool in ("pytest-benchmark", "asv"))
            sd = pair_spread([r["cases"][case][measure]["pair_ratios"] for r in records if case in r.get("cases", {})])
            print(f"| {case} | {measure} | {' | '.join(map(str, counts))} | {spread} | {sd} | {pb} | {asv} |")


def machines(records: list[dict[str, Any]]) -> str:
    """How many of the gates ran on each kind of CPU (the gate records the flags that decide the variants).

    >>> machines([{"machine": {"cpu_flags": ["avx2"]}}, {"machine": {"cpu_flags": ["avx2", "avx512_vnni"]}}])
    'AVX2 1, AVX2 + AVX512_VNNI 1'
    """
    kinds = Counter(" + ".join(f.upper() for f in r.get("machine", {}).get("cpu_flags", [])) or "?" for r in records)
    return ", ".join(f"{kind} {count}" for kind, count in sorted(kinds.items()))


def beside(records: list[dict[str, Any]]) -> str:
    """How much of the machine other work took while each gate ran, in cores, where the record says.

    >>> beside([{"beside": {"other_cores": 0.05, "cores": 2}}, {"beside": {"other_cores": 1.1, "cores": 2}}, {}])
    '0.05, 1.10 cores of 2; 1 gate not measured'
    """
    measured = [r["beside"] for r in records if "beside" in r]
    parts = []
    if measured:
        figures = ", ".join(f"{m['other_cores']:.2f}" for m in sorted(measured, key=lambda m: m["other_cores"]))
        cores = "/".join(str(c) for c in sorted({m["cores"] for m in measured}))
        parts.append(f"{figures} cores of {cores}")
    if unmeasured := len(records) - len(measured):
        parts.append(f"{unmeasured} gate{'s' if unmeasured > 1 else ''} not measured")
    return "; ".join(parts)


def pair_spread(gates: list[list[float]]) -> str:
    """The spread of a comparison's pairs within a gate, pooled over gates: the standard deviation of the
    pairs' log ratios around each gate's own mean, in percent (what the gate's t statistic divides by).

    >>> pair_spread([[1.01, 0.99], [1.02, 1.00]])
    '1.41'
    """
    squares, freedom = 0.0, 0
    for ratios in gates:
        logs = [math.log(r) for r in ratios]
        if len(logs) > 1:
            mean = sum(logs) / len(logs)
            squares += sum((v - mean) ** 2 for v in logs)
            freedom += len(logs) - 1
    return f"{100 * math.sqrt(squares / freedom):.2f}" if freedom else "-"


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
    running.add_argument("--wait", choices=list(WAITS), help="the gate's --wait (default: the gate's, per CPU vendor)")
    running.add_argument("--out", default=".benchmarks/gate", help="the gates' rounds (logs, samples)")
    running.add_argument("--records", default=RECORDS, help="each gate's verdict (tracked: resumable)")
    running.add_argument("--rounds", type=int, default=0, help="exactly N pairs, one look (the noise runs: 10)")
    running.add_argument("--setup", choices=list(SETUPS), default="defaults", help="how the processes are set up")
    tabulating = commands.add_parser("table")
    tabulating.add_argument("--out", default=".benchmarks/gate", help="the rounds, for the anchors' columns")
    tabulating.add_argument("--records", default=RECORDS)
    tabulating.add_argument("--first", type=int, default=0, help="judge again with the first look here")
    tabulating.add_argument("--last", type=int, default=0, help="judge again on at most this many pairs")
    tabulating.add_argument("--min-effect", type=float, default=0.0, help="judge again with this minimum effect")
    tabulating.add_argument(
        "--prior-df", type=float, default=None, help="judge again with this shared-variance prior (0: none)"
    )
    tabulating.add_argument(
        "--same-alpha", type=float, default=None, help="judge again with this level for 'same' (the gate's: 0.2)"
    )
    tabulating.add_argument(
        "--fit-order", action="store_true", help="judge again with which side went first fitted (not the gate's)"
    )
    args = parser.parse_args()
    handlers = {
        "heads": heads,
        "run": run,
        "table": table,
    }
    handlers[args.command](args)


if __name__ == "__main__":
    main()
