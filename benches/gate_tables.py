"""The error-rate runs' records tabulated: per kind of head, the gates' verdicts, judged again by another rule
where asked, beside what pytest-benchmark's and asv's own comparisons say of the same samples.

``python benches/gate_error_rates.py table`` runs :func:`table` (the module docstring there has the
options); kept apart from the runs themselves, which it reads through their records and constants.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from gate_error_rates import SAME_ALPHA_UNRECORDED, SLOWED, gates_dir  # benches/, beside this file


def anchors(rounds: Path, pair: int = 0) -> dict[str, dict[str, dict[str, bool]]]:
    """What pytest-benchmark's median:25% and asv's --factor 1.1 say of one pair of rounds (a base run and a
    head run), per case and measure: True where each would call the head slower (asv: or faster)."""
    from asv.commands.compare import _is_result_better
    from asv_runner.statistics import compute_stats
    from pytest_benchmark.utils import parse_compare_fail

    from nerperf.processes.samples import read_directory

    check = parse_compare_fail("median:25%")
    base, head = (read_directory(round_directory(rounds, pair, side) / "samples") for side in ("base", "head"))
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


def _called(record: dict[str, Any], slowed: tuple[str, ...], verdict: str) -> bool:
    """Whether a gate gave a case it did not slow ``verdict``: ``slower`` is a false alarm, ``faster`` a wrong
    description (it never fails a gate, and is held to the ``same`` bound's level, not the family's)."""
    return any(
        found["verdict"] == verdict
        for case, measures in record["cases"].items()
        if case not in slowed
        for measure, found in measures.items()
        if measure != "accuracy"
    )


def round_directory(rounds: Path, pair: int, side: str) -> Path:
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
    shared_order: bool = False,
    trim: float = 0.0,
) -> dict[str, Any]:
    """The record with every comparison judged again by the gate's own rule, on its recorded pair ratios
    (the first ``last`` of them), with looks from ``first`` to ``last``, ``min_effect`` in percent and the
    shared variance's ``prior_df`` (0: none shared), the ``same`` bound's level ``same_alpha`` and the pairs'
    order fitted per comparison (``fit_order``, :func:`nerperf.gate.sequential.fit`) or once per measure
    (``shared_order``, :func:`nerperf.gate.sequential.remove_shared_order`) or not, and the share ``trim`` of
    the pairs trimmed from each end (:func:`nerperf.gate.sequential.fit`). A
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
                ratio=speed.mean_ratio([math.log(r) for r in c.pair_ratios[:pairs]], fit_order, trim),
            )
            for c in comparisons
        ]
        judged = speed.judge(looked, min_effect / 100, first, last, prior_df, same_alpha, fit_order, shared_order, trim)
        if pairs >= first and speed.finished(judged, min_effect / 100):
            break
    cases = {case: dict(measures) for case, measures in record["cases"].items()}
    for c in judged:
        cases[c.case][c.measure] = {**cases[c.case][c.measure], "verdict": c.verdict or "undecided",
                                    "decided_at": c.decided_at}  # fmt: skip
    share = pairs / max(1, record["rounds"]["pairs"])  # the pairs it would have run, as a share of those run
    status = 1 if any(c.verdict == "slower" for c in judged) else 0  # by speed alone: floors are not re-run
    rounds = {**record["rounds"], "pairs": pairs, "prior_df": prior_df, "same_alpha": same_alpha, "trim": trim}
    return {**record, "cases": cases, "seconds": record.get("seconds", 0) * share, "status": status, "rounds": rounds}


def table(args: argparse.Namespace) -> None:
    out, records_dir = Path(args.out), Path(args.records)
    gates: dict[str, list[dict[str, Any]]] = defaultdict(list)
    not_compared: dict[str, list[str]] = defaultdict(list)
    replayed = bool(args.first or args.last or args.min_effect or args.prior_df is not None or args.same_alpha)
    replayed = replayed or args.fit_order or args.shared_order or args.trim is not None
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
            trim = record["rounds"].get("trim", 0.0) if args.trim is None else args.trim
            record = judged_again(
                record, first, last, min_effect, prior_df, same_alpha, args.fit_order, args.shared_order, trim
            )
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
        alarms = sum(_called(r, slowed, "slower") for r in records)
        print(f"gates with a slower verdict on a case not slowed (a false alarm): {alarms} of {len(records)}")
        described = sum(_called(r, slowed, "faster") for r in records)
        print(f"gates with a faster verdict on a case not slowed (a description, never failing): {described}")
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
