"""Batched throughput of two revisions of nerperf, side by side in one run: is the change faster?

``python benches/throughput_ab.py OLD [NEW]`` puts each revision's ``nerperf`` package (``git archive``;
NEW defaults to the working tree) in a directory of its own and runs ``evaluate()`` from each in turn, in
fresh processes with the same interpreter and libraries, so only nerperf's code differs. Rounds
alternate which side goes first; the ratio is per round (old time / new time), and their median is the
figure. Both sides must give the same F1, which is checked (``--f1-tolerance`` allows a change that moves
a quantized variant's numbers a little: both F1s are then reported). Prints one JSON object; ``--json
FILE`` also writes it.

The issue that asked for sub-token batching set the bar: at least 1.25x at batch size 32, fp32, on the
study's sample. Unlike ``nerperf gate`` (pytest-benchmark rounds, paired batch by batch, for a user's
project), this times one evaluation pass of nerperf itself, which is what the batching change moves.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
from io import BytesIO
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("NERPERF_SHARED", ROOT.parent / "shared"))

# Run in a fresh process with one revision's package first on sys.path: one evaluation, its figures.
WORKER = """
import json, sys
import nerperf
from nerperf.evaluation import evaluate
batch, threads = int(sys.argv[4]), int(sys.argv[6])
try:  # 0.8 grouped the timing options; older revisions take them as keywords
    from nerperf.evaluation import Timing
    timed = {"timing": Timing(batch_size=batch, threads=threads)}
except ImportError:
    timed = {"batch_size": batch, "threads": threads}
result = evaluate(sys.argv[1], sys.argv[2], split="validation", limit=int(sys.argv[3]), variant=sys.argv[5], **timed)
print(json.dumps({"package": nerperf.__file__, "f1": result.f1, "total_s": result.speed.total_s,
                  "padded_tokens": getattr(result.speed, "padded_tokens", 0),
                  "real_tokens": getattr(result.speed, "real_tokens", 0)}))
"""


def package_of(revision: str | None, into: Path) -> Path:
    """A directory holding ``nerperf/`` as of ``revision`` (None: the working tree)."""
    if revision is None:
        return ROOT
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", "--format=tar", revision, "nerperf"], capture_output=True, check=True
    ).stdout
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    return into


def run_side(package_dir: Path, args: argparse.Namespace) -> dict:
    environment = {**os.environ, "PYTHONPATH": str(package_dir), "TRANSFORMERS_VERBOSITY": "error"}
    command = [sys.executable, "-c", WORKER, str(args.model), str(args.data), str(args.sentences)]
    command += [str(args.batch_size), args.variant, str(args.threads)]
    done = subprocess.run(command, capture_output=True, text=True, env=environment, cwd=tempfile.gettempdir())
    if done.returncode != 0:
        raise SystemExit(f"{package_dir}: the evaluation failed:\n{done.stderr[-2000:]}")
    found = json.loads(done.stdout.strip().splitlines()[-1])
    if not found["package"].startswith(str(package_dir)):
        raise SystemExit(f"imported {found['package']}, not the package under {package_dir}: is nerperf installed?")
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("old", help="the revision compared against, e.g. d26a95d")
    parser.add_argument("new", nargs="?", help="the revision measured (default: the working tree)")
    parser.add_argument("--model", type=Path, default=SHARED / "models" / "minilm-l6-conll03")
    parser.add_argument("--data", type=Path, default=SHARED / "data" / "conll2003" / "valid.txt")
    parser.add_argument("--sentences", type=int, default=1000)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--variant", default="fp32")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument(
        "--f1-tolerance", type=float, default=0.0, help="F1 points the sides may differ by (default: 0, the same F1)"
    )
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    # The sides run in the temporary directory: a path given relative to here must still name the same file
    # there (a hub id, which names no local file, stays as given).
    args.model, args.data = (path.resolve() if path.exists() else path for path in (args.model, args.data))
    with tempfile.TemporaryDirectory() as old_dir, tempfile.TemporaryDirectory() as new_dir:
        sides = {"old": package_of(args.old, Path(old_dir)), "new": package_of(args.new, Path(new_dir))}
        rounds = []
        for index in range(args.rounds):
            order = ("old", "new") if index % 2 == 0 else ("new", "old")
            ran = {name: run_side(sides[name], args) for name in order}
            if abs(100 * (ran["old"]["f1"] - ran["new"]["f1"])) > args.f1_tolerance:
                raise SystemExit(f"round {index}: F1 differs: old {ran['old']['f1']}, new {ran['new']['f1']}")
            rounds.append(ran)
            print(
                f"round {index}: old {ran['old']['total_s']:.2f} s, new {ran['new']['total_s']:.2f} s", file=sys.stderr
            )
    ratios = [r["old"]["total_s"] / r["new"]["total_s"] for r in rounds]
    new = rounds[0]["new"]
    figures = {
        "old": args.old,
        "new": args.new or "working tree",
        "model": args.model.name,
        "variant": args.variant,
        "batch_size": args.batch_size,
        "sentences": args.sentences,
        "threads": args.threads,
        "f1": new["f1"],
        "old_f1": rounds[0]["old"]["f1"],
        "old_s": [r["old"]["total_s"] for r in rounds],
        "new_s": [r["new"]["total_s"] for r in rounds],
        "speedup_per_round": ratios,
        "speedup_median": statistics.median(ratios),
        "new_padding_ratio": new["padded_tokens"] / new["real_tokens"] if new["real_tokens"] else None,
    }
    text = json.dumps(figures, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
