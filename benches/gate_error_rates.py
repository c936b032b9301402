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
alone with the prior each gate ran with; ``table --trim 0.2`` with the trimmed t (a fifth of the pairs
trimmed from each end: :func:`nerperf.gate.sequential.fit`), ``--trim 0`` with the plain one.

``heads`` makes throwaway branches off BASE: ``calib-base`` (BASE itself), ``calib-slow-05``, ``-10``
and ``-20`` (onnx-int8's forward pass busy-waits for 5, 10 or 20% of its own time) and
``calib-one-word`` (the token id 4116, "Tony" in the offline checkpoints' vocabulary, always ``B-LOC``:
one word's prediction changed, for ``nerperf gate calib-base calib-one-word --exact``).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from nerperf.atomic import write_atomic
from nerperf.gate.sequential import LAST_LOOK
from nerperf.processes.children import Children, absolute, sigterm_raises
from nerperf.processes.lockstep import SETTLE_VARIABLE, WAITS

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
    # pinned, and libgomp's threads spin about 0.3 ms (not 5) after their work: a 1 ms pause per turn, not 10
    "pinned-short-spin": (["--cpus", "0-1", "--bind-threads", "--wait", "short-spin"], {}),
    # pinned, and a spin of about 0.9 ms (long enough to bridge the gaps inside a torch int8 call) and 2 ms pauses
    "pinned-spin-30k": (["--cpus", "0-1", "--bind-threads"], {"GOMP_SPINCOUNT": "30000", SETTLE_VARIABLE: "0.002"}),
    "pinned-ms-spin": (["--cpus", "0-1", "--bind-threads", "--wait", "ms-spin"], {}),  # the same as --wait ms-spin
    "no-spin": (["--wait", "passive"], {}),  # OpenMP's idle threads sleep at once; onnxruntime never spins
    "one-thread": ([], {"NERPERF_THREADS": "1"}),
    "seeded-pinned": (["--hash-seed", "0", "--cpus", "0-1", "--bind-threads"], {}),
    "bound": (["--bind-threads"], {}),  # OpenMP's threads bound, onnxruntime's workers on the other cores (0.9.1)
    "one-environment": (["--no-install"], {}),  # both sides on this interpreter and its site-packages
    "separate-environments": (["--separate-environments"], {}),  # an environment per side, as before 0.9
    # Transparent huge pages for torch's tensors and for every malloc (onnxruntime's arena, Python's): where a
    # process's weights land in the caches then follows from their addresses, not from which 4 KiB frames the
    # kernel handed out (the machine's THP mode must allow madvise).
    "huge-pages": ([], {"THP_MEM_ALLOC_ENABLE": "1", "GLIBC_TUNABLES": "glibc.malloc.hugetlb=1"}),
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
        "--fit-order", action="store_true", help="judge again with which side went first fitted per comparison"
    )
    tabulating.add_argument(
        "--shared-order", action="store_true", help="judge again with one order effect per measure fitted"
    )
    tabulating.add_argument(
        "--trim", type=float, default=None, help="judge again trimming this share of pairs from each end (0.2)"
    )
    args = parser.parse_args()
    if args.command == "table":
        from gate_tables import table  # benches/, beside this file: it reads this module's constants

        table(args)
    else:
        {"heads": heads, "run": run}[args.command](args)


if __name__ == "__main__":
    main()
