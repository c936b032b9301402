"""What a small gate costs against one solo run of the suite it gates, and what it names when one case slows.

A pull request's gate is worth running on every change only if it costs a few runs of the suite. This
measures that, from the repository's root and as the README runs them (the default ``--out``,
``nerperf-gate/``, and the default ``--install``), with two cases selected by the settings' variables
(``minilm-l3-conll03`` × ``fp32`` and ``onnx-int8``, 300 validation sentences, unless told others):

1. the suite alone, ``pytest --benchmark-only benches/test_models.py``, ``--solo`` times (its median
   wall time is the unit of cost);
2. ``nerperf gate BASE BASE -- benches/test_models.py``, ``--gates`` times: a same-revision gate, which
   must exit 0; its cost is its wall time over the solo run's, counted only where both sides' environments
   were reused (a first gate installs them, as a CI cache would have);
3. ``nerperf gate BASE SLOWED -- benches/test_models.py``: onnx-int8's forward pass busy-waiting 10% of
   its own time longer (``python benches/gate_error_rates.py heads`` makes ``calib-slow-10``), which must
   exit 1 naming the onnx-int8 case alone.

Usage, from the repository's root with ../shared beside it, after ``gate_error_rates.py heads --base main``::

    python benches/gate_cost.py                      # record in benches/records/gate-cost/<cpu kind>.json
    python benches/gate_cost.py --solo 5 --gates 3 --variants int8,onnx-int8
    python benches/gate_cost.py --setup pinned       # the gates' processes set up as a noise setup's
                                                     # (gate_error_rates.SETUPS): <cpu kind>-pinned.json

Not a test (10-20 minutes, most of it the gates): its record, with the machine, is what docs/gate.md
quotes. The record is written once, whole, at the end; an interrupted run leaves the last one as it was.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from gate_error_rates import SETUPS  # benches/, beside this file

from nerperf.atomic import write_atomic
from nerperf.machine import cpu_kind, machine_label

RECORDS = Path("benches/records/gate-cost")
SUITE = "benches/test_models.py"
OUT = Path("nerperf-gate")  # the gate's default --out, under the directory it runs from


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", default="calib-base")
    parser.add_argument("--slowed", default="calib-slow-10", help="a head whose onnx-int8 calls are 10%% slower")
    parser.add_argument("--checkpoints", default="minilm-l3-conll03")
    parser.add_argument("--variants", default="fp32,onnx-int8")
    parser.add_argument("--sentences", default="300")
    parser.add_argument("--solo", type=int, default=3, help="solo runs of the suite (their median is the unit)")
    parser.add_argument("--gates", type=int, default=2, help="same-revision gates (a first one may install)")
    parser.add_argument("--setup", choices=SETUPS, default="defaults", help="the gates' options and variables")
    args = parser.parse_args()
    options, variables = SETUPS[args.setup]
    environment = {k: v for k, v in os.environ.items() if not k.startswith("NERPERF_")}
    environment |= {
        "NERPERF_CHECKPOINTS": args.checkpoints,
        "NERPERF_VARIANTS": args.variants,
        "NERPERF_SENTENCES": args.sentences,
    }
    gating = environment | variables  # the solo run is the suite as users run it: no setup of the gate's
    solo = [_timed([sys.executable, "-m", "pytest", "-q", "--benchmark-only", SUITE], environment)[0]
            for _ in range(args.solo)]  # fmt: skip
    unit = statistics.median(solo)
    print(f"solo run: {', '.join(f'{s:.1f}' for s in solo)} s (median {unit:.1f})", flush=True)
    gates = [_gate(args.base, args.base, options, gating, unit) for _ in range(args.gates)]
    slowed = _gate(args.base, args.slowed, options, gating, unit)
    record = {
        "machine": machine_label(),
        "date": time.strftime("%Y-%m-%d %H:%M"),
        "setup": {"name": args.setup, "options": options, "variables": variables},
        "cases": {k: environment[k] for k in ("NERPERF_CHECKPOINTS", "NERPERF_VARIANTS", "NERPERF_SENTENCES")},
        "solo_seconds": solo,
        "same_revision": gates,
        "slowed": slowed,
        "checks": _checks(gates, slowed),
    }
    path = RECORDS / (f"{cpu_kind()}.json" if args.setup == "defaults" else f"{cpu_kind()}-{args.setup}.json")
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, json.dumps(record, indent=1) + "\n")
    print(json.dumps(record["checks"], indent=1))
    print(f"recorded in {path}")


def _timed(command: list[str], environment: dict[str, str]) -> tuple[float, int, str]:
    """Wall seconds, exit status and standard error (also shown) of one command."""
    started = time.perf_counter()
    done = subprocess.run(command, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    seconds = time.perf_counter() - started
    print(done.stderr[-2000:], file=sys.stderr, flush=True)
    return seconds, done.returncode, done.stderr


def _gate(base: str, head: str, options: list[str], environment: dict[str, str], unit: float) -> dict[str, Any]:
    """One gate as the README runs it (and ``options``); its wall time in solo runs, its verdicts, whether it
    installed."""
    command = [sys.executable, "-m", "nerperf.cli", "gate", base, head, *options, "--", SUITE]
    seconds, status, said = _timed(command, environment)
    record = json.loads((OUT / "gate.json").read_text())
    installed = "installed (" in said  # the gate says "installed (COMMAND)" of each environment it installs
    compared = {
        f"{case} {measure}": result
        for case, measures in record.get("cases", {}).items()
        for measure, result in measures.items()
        if measure in ("latency", "throughput")
    }
    verdicts = {key: result["verdict"] for key, result in compared.items()}
    # what held a gate to its last pair: the pair each comparison was decided at, and its pairs' ratios
    decided = {key: {k: result.get(k) for k in ("decided_at", "pair_ratios")} for key, result in compared.items()}
    found = {"head": head, "status": status, "seconds": seconds, "solo_runs": seconds / unit,
             "pairs": record.get("rounds", {}).get("pairs"), "installed": installed, "verdicts": verdicts,
             "decided": decided}  # fmt: skip
    print(json.dumps(found), flush=True)
    return found


def _checks(gates: list[dict[str, Any]], slowed: dict[str, Any]) -> dict[str, Any]:
    """The issue's check: same-revision gates pass at most 10 solo runs; the slowed head fails on onnx-int8 alone."""
    warm = [g for g in gates if not g["installed"]]
    named = sorted({k.rsplit(" ", 1)[0] for k, v in slowed["verdicts"].items() if v == "slower"})
    return {
        "same_revision_passed": all(g["status"] == 0 for g in gates),
        "solo_runs_per_warm_gate": [round(g["solo_runs"], 2) for g in warm],
        "at_most_10_solo_runs": bool(warm) and all(g["solo_runs"] <= 10 for g in warm),
        "slowed_failed": slowed["status"] == 1,
        "slowed_cases_named": named,
        "only_onnx_int8_named": bool(named) and all(case.endswith("-onnx-int8") for case in named),
    }


if __name__ == "__main__":
    main()
