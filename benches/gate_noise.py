"""Where the gate's noise lies: the spread of same-revision gates' pairs, per process setup and per source.

Not a test: tables over the gates that ``benches/gate_error_rates.py run`` recorded (their ``gate.json``,
and the rounds' raw samples where they are still under ``.benchmarks/gate/``), behind docs/gate.md's
"Setting up the processes" and the notebook's accounts of where the spread lies. Usage, from the
repository's root::

    python benches/gate_noise.py noise         # the spread of pair ratios per setup, this CPU kind's
    python benches/gate_noise.py order         # how much of it is which side ran first in a pair
    python benches/gate_noise.py sides         # per same-revision gate: was one side slower throughout?
    python benches/gate_noise.py spread        # within pairs or between processes: shorter pairs?
    python benches/gate_noise.py estimators    # a pair's figure: the median or another location?
    python benches/gate_noise.py moderated     # the shared variance's prior, fitted on each gate
    python benches/gate_noise.py trimmed       # single pairs far out, and the trimmed t against them

``noise`` tabulates, per setup (one directory of same-revision gates of fixed pairs each, made by ``run
--rounds 10 --setup NAME --records benches/records/gate-noise/<kind>/NAME``), how far the pair ratios
spread and how fast the setup ran against the defaults. ``order`` splits each comparison's pair ratios by
which side went first (the gate alternates): a process that runs first in its pair being slower or faster
shows as the half-difference between the two orders' means, which alternation cancels from the gate's
mean ratio but adds to the spread its t statistic divides by.

``moderated`` fits the prior of the gate's shared variance (:mod:`nerperf.gate.moderation`) on each
same-revision gate at its last look, by limma's ``fitFDist`` (Smyth 2004): ``d0``, the prior degrees of
freedom, from how much the comparisons' variances of log pair ratios differ (infinite: one variance fits
them all; near 0: nothing to share), over all 12 comparisons and per measure. The smallest of these is
the gate's fixed ``--prior-df``.

``trimmed`` counts, over every recorded same-revision gate, the pairs far from their comparison's others
(more than 3.5 robust standard deviations from its median) and whether the other comparisons of such a
pair moved with it (a process slower as a whole); then simulates (:mod:`nerperf.gate.simulation`) the
gate's rule with the plain t and with the trimmed t, on normal pairs and on pairs with such outliers: the
false alarms, the pairs a same-revision gate runs, and how often a slowdown is caught.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gate_error_rates import NOISE, RECORDS, SETUPS, gates_dir  # benches/, beside this file
from gate_tables import machines, round_directory

from nerperf.machine import cpu_kind


def noise(args: argparse.Namespace) -> None:
    """Per setup (each a directory of same-revision gates of fixed pairs under ``--records``): the spread of
    the pair ratios per measure, the root mean square and the widest over the cases, and the setup's speed
    against the ``--reference`` setup's (its base times over theirs, median over the cases: above 1 is
    slower)."""
    root = Path(args.records)
    found = {d.name: _gates(d) for d in sorted(root.iterdir()) if d.is_dir() and _gates(d)}
    reference = _base_times(found.get(args.reference, []))
    print(
        "| Setup | Gates | Pairs | Latency spread: RMS, widest (%) | Throughput spread: RMS, widest (%) "
        f"| Latency time / {args.reference}' | Throughput time / {args.reference}' | Machine |"
    )
    print("|---|---|---|---|---|---|---|---|")
    order = {name: i for i, name in enumerate(SETUPS)}
    for name, gates in sorted(found.items(), key=lambda item: order.get(item[0], len(order))):
        cells, against = [], []
        for measure in ("latency", "throughput"):
            spreads = [
                _sd_percent(ratios)
                for gate in gates
                for comparison in gate["cases"].values()
                if (ratios := comparison.get(measure, {}).get("pair_ratios"))
            ]
            cells.append(f"{_rms(spreads):.2f}, {max(spreads, default=math.nan):.2f}")
            times = {k: v for k, v in _base_times(gates).items() if k[1] == measure and k in reference}
            against.append(statistics.median(v / reference[k] for k, v in times.items()) if times else math.nan)
        pairs = ", ".join(str(n) for n in sorted({g["rounds"]["pairs"] for g in gates}))
        print(
            f"| {name} | {len(gates)} | {pairs} | {cells[0]} | {cells[1]} | {against[0]:.3f} | {against[1]:.3f} "
            f"| {_machine_of(gates)} |"
        )


KIND_NAMES = {"amx": "AMX", "avx512-vnni": "AVX-512 VNNI", "avx2": "AVX2"}


def _machine_of(gates: list[dict[str, Any]]) -> str:
    """The gates' machine in a few words: its CPU model, the flag that decides its kind, its cores."""
    found = set()
    for gate in gates:
        machine = gate.get("machine", {})
        kind = KIND_NAMES[cpu_kind(machine.get("cpu_flags", []))]
        found.add(f"{machine.get('cpu_model', '?')}, {kind}, {machine.get('cpus', '?')} CPUs")
    return "; ".join(sorted(found))


def _gates(directory: Path) -> list[dict[str, Any]]:
    return [r for p in sorted(directory.glob("*.json")) if (r := json.loads(p.read_text())).get("status") == 0]


def _base_times(gates: list[dict[str, Any]]) -> dict[tuple[str, str], float]:
    """Each case's and measure's base time (latency in ms, throughput as seconds per sentence), median over gates."""
    times: dict[tuple[str, str], list[float]] = defaultdict(list)
    for gate in gates:
        for case, measures in gate["cases"].items():
            for measure in ("latency", "throughput"):
                base = measures.get(measure, {}).get("base")
                if base:
                    times[(case, measure)].append(base if measure == "latency" else 1 / base)
    return {key: statistics.median(values) for key, values in times.items()}


def _sd_percent(ratios: list[float]) -> float:
    return 100 * statistics.stdev(math.log(r) for r in ratios) if len(ratios) > 1 else math.nan


def _rms(values: list[float]) -> float:
    finite = [v for v in values if not math.isnan(v)]
    return math.sqrt(sum(v * v for v in finite) / len(finite)) if finite else math.nan


def _compared(root: Path) -> list[tuple[Path, dict[str, Any]]]:
    """The same-revision gates recorded in ``root`` that compared (exit 0 or 1), with their paths."""
    found = [(path, json.loads(path.read_text())) for path in sorted(root.glob("calib-base-*.json"))]
    return [(path, gate) for path, gate in found if gate.get("status") in (0, 1)]


def order(args: argparse.Namespace) -> None:
    """Per records directory (the error-rate runs and each design's) and measure: the comparisons' order
    effect, half the difference between the mean log ratio of the pairs whose base ran first and of those
    whose head did, as its mean and root mean square over comparisons (negative: the first to run was the
    slower), beside the pairs' spread before and after the order is fitted (one degree of freedom more)."""
    roots = [Path(r) for r in args.records] or [Path(RECORDS), *sorted(Path(RECORDS).glob("*/")),
                                                 *sorted(Path(NOISE).glob("*/*/"))]  # fmt: skip
    print("| records | measure | comparisons | wait | order effect: mean, RMS (%) | spread (%) | order fitted (%) |")
    print("|---|---|---|---|---|---|---|")
    for root in roots:
        gates = [gate for _, gate in _compared(root)]
        for measure in ("latency", "throughput"):
            effects, plain, fitted = [], [], []
            for gate in gates:
                for comparison in gate.get("cases", {}).values():
                    ratios = comparison.get(measure, {}).get("pair_ratios", [])
                    if len(ratios) >= 4:
                        effect, variance, residual = order_effect([math.log(r) for r in ratios])
                        effects.append(effect)
                        plain.append(variance)
                        fitted.append(residual)
            if effects:
                waits = ", ".join(sorted({str(g.get("rounds", {}).get("wait")) for g in gates}))
                print(f"| {root} | {measure} | {len(effects)} | {waits} | {100 * statistics.mean(effects):+.2f}, "
                      f"{_rms_percent(effects):.2f} | {100 * math.sqrt(statistics.mean(plain)):.2f} "
                      f"| {100 * math.sqrt(statistics.mean(fitted)):.2f} |")  # fmt: skip


# How the sides' environments were set up: as the gate recorded it (rounds.environments, since 0.9), else
# where a noise run's directory says so (docs/gate.md, "A head side slower for hours"), else one per side.
RECORDED_ENVIRONMENTS = {"shared": "one, shared", "per-side": "one each", "interpreter": "one (--no-install)"}
ENVIRONMENTS = {"one-environment": "one (--no-install)", "envs-shared": "one each, identical files hard-linked"}


def sides(args: argparse.Namespace) -> None:
    """Per same-revision gate: how much slower its head side ran than its base, per measure, as the mean of
    every comparison's pair log ratios and its standard error (both orders alike). Alternation and pairing
    cancel what moves both sides; a mean several standard errors from 0 is a bias of one side, shared by
    the gate's comparisons, which no stopping rule can tell from a slowdown of the whole head."""
    roots = [Path(r) for r in args.records] or sorted({p.parent for p in Path(NOISE).glob("*/*/calib-base-*.json")})
    print("| gate | exit | pairs | environments | latency: head vs base (%) | throughput: head vs base (%) |")
    print("|---|---|---|---|---|---|")
    for root in roots:
        for path, gate in _compared(root):
            cells = []
            for measure in ("latency", "throughput"):
                logs = [math.log(r) for c in gate["cases"].values() for r in c.get(measure, {}).get("pair_ratios", [])]
                error = statistics.stdev(logs) / math.sqrt(len(logs)) if len(logs) > 1 else math.nan
                cells.append(f"{100 * statistics.mean(logs):+.2f} ± {100 * error:.2f}" if logs else "-")
            shared = RECORDED_ENVIRONMENTS.get(gate["rounds"].get("environments")) or next(
                (how for name, how in ENVIRONMENTS.items() if root.name.endswith(name)), "one each"
            )
            print(f"| {path.parent.name}/{path.stem} | {gate['status']} | {gate['rounds']['pairs']} | {shared} "
                  f"| {cells[0]} | {cells[1]} |")  # fmt: skip


def order_effect(logs: list[float]) -> tuple[float, float, float]:
    """The half-difference between the mean of the even pairs (base first) and the odd ones (head first), the
    pairs' variance, and their variance once each order's own mean is taken out (``n - 2`` degrees of freedom).

    >>> [round(v, 6) for v in order_effect([-0.01, 0.01, -0.01, 0.01])]
    [-0.01, 0.000133, 0.0]
    """
    first, second = logs[0::2], logs[1::2]
    means = (statistics.mean(first), statistics.mean(second))
    residual = sum((v - means[k % 2]) ** 2 for k, v in enumerate(logs)) / (len(logs) - 2)
    return (means[0] - means[1]) / 2, statistics.variance(logs), residual


def same_revision_times(args: argparse.Namespace) -> Iterator[tuple[str, int, str, list[list[Any]]]]:
    """Per same-revision gate whose rounds are still there and per measure: the gate, its pairs, the measure
    and, per case, each pair's base and head times input by input (a 2 × inputs numpy array, in the order
    run), for the pairs that timed that measure."""
    import numpy as np

    from nerperf.processes.samples import read_directory

    for path in sorted(Path(args.records).glob("calib-base-*.json")):
        rounds = gates_dir(Path(args.out), Path(args.records)) / path.stem / "rounds"
        if not rounds.is_dir():
            continue
        pairs = json.loads(path.read_text())["rounds"]["pairs"]
        sides = [
            [read_directory(round_directory(rounds, k, side) / "samples") for side in ("base", "head")]
            for k in range(pairs)
        ]
        for measure, field in (("latency", "latency_s"), ("throughput", "batch_s")):
            cases = [  # the pairs that timed the measure: a narrowed gate's later pairs time one of them
                [
                    np.asarray([getattr(b[case], field), getattr(h[case], field)], dtype=float)
                    for b, h in sides
                    if case in b and getattr(b[case], field)
                ]
                for case in sides[0][0]
            ]
            yield path.stem, pairs, measure, cases


def _rms_percent(values: list[float]) -> float:
    """The root mean square over cases, in percent."""
    return 100 * math.sqrt(sum(v * v for v in values) / len(values))


def spread(args: argparse.Namespace) -> None:
    """Where each same-revision gate's spread lies (Kalibera & Jones): per measure, the root mean square over
    the cases of the sd of the pairs' figures with all the inputs and with the first half of them, and of
    the sd a pair's figure has within its pair (a bootstrap of its median over the inputs); the rest is
    between processes. A pair's fixed cost is starting both processes and loading the models."""
    import numpy as np

    generator = np.random.default_rng(0)
    print("| gate | measure | pairs | sd of pair figures, all inputs (%) | first half of the inputs (%) "
          "| within a pair, all inputs (%) | between processes (%) |")  # fmt: skip
    print("|---|---|---|---|---|---|---|")
    for gate, pairs, measure, cases in same_revision_times(args):
        found = []
        for times in cases:
            logs = [np.log(head / base) for base, head in times]
            whole = np.std([np.median(x) for x in logs], ddof=1)
            half = np.std([np.median(x[: len(x) // 2]) for x in logs], ddof=1)
            within = np.sqrt(
                np.mean([np.var([np.median(generator.choice(x, len(x))) for _ in range(200)]) for x in logs])
            )
            found.append((whole, half, within))
        whole, half, within = (_rms_percent(list(column)) for column in zip(*found, strict=True))
        between = math.sqrt(max(0.0, whole**2 - within**2))
        print(f"| {gate} | {measure} | {pairs} | {whole:.2f} | {half:.2f} | {within:.2f} | {between:.2f} |")


def hodges_lehmann(x: Any) -> float:
    """The median of all pairwise means (Walsh averages): a location nearly as efficient as the mean on
    normal data and robust like the median."""
    import numpy as np

    i, j = np.triu_indices(len(x))
    return float(np.median((x[i] + x[j]) / 2))


def estimators(args: argparse.Namespace) -> None:
    """Which figure of a pair's per-input log ratios spreads least across the pairs of a same-revision gate
    (the root mean square over cases of its sd, as :func:`spread`): the gate's median, or the mean, 10%
    and 25% trimmed means, Hodges-Lehmann, or the ratio of the two sides' total times. The narrower, the
    fewer pairs a gate needs to call a comparison `same`."""
    import numpy as np
    from scipy import stats

    figures = {
        "median": np.median,
        "mean": np.mean,
        "trimmed 10%": lambda x: stats.trim_mean(x, 0.10),
        "trimmed 25%": lambda x: stats.trim_mean(x, 0.25),
        "Hodges-Lehmann": hodges_lehmann,
    }
    print(f"| gate | measure | pairs | {' | '.join(figures)} | total time |")
    print("|---|---|---|" + "---|" * (len(figures) + 1))
    for gate, pairs, measure, cases in same_revision_times(args):
        logs = [[np.log(head / base) for base, head in times] for times in cases]
        columns = [
            _rms_percent([float(np.std([figure(x) for x in case], ddof=1)) for case in logs])
            for figure in figures.values()
        ]
        totals = [[math.log(head.sum() / base.sum()) for base, head in times] for times in cases]
        columns.append(_rms_percent([float(np.std(case, ddof=1)) for case in totals]))
        print(f"| {gate} | {measure} | {pairs} | " + " | ".join(f"{c:.2f}" for c in columns) + " |")


def moderated(args: argparse.Namespace) -> None:
    """The prior behind the gate's shared variance, fitted on each same-revision gate at its last look."""
    import numpy as np

    from nerperf.gate.moderation import fit_prior

    print("| gate | machine | pairs | d0, all | d0, latency | d0, throughput | common spread, all (%) |")
    print("|---|---|---|---|---|---|---|")
    for path in sorted(Path(args.records).glob("calib-base-*.json")):
        record = json.loads(path.read_text())
        if record.get("schema") != 2:
            continue
        series = {
            measure: [
                m["pair_ratios"] for case in record["cases"].values() for name, m in case.items() if name == measure
            ]
            for measure in ("latency", "throughput")
        }
        pairs = min(len(r) for found in series.values() for r in found)
        fitted = {}
        for group, found in (("all", series["latency"] + series["throughput"]), *series.items()):
            variances = [float(np.var(np.log(r[:pairs]), ddof=1)) for r in found]
            fitted[group] = fit_prior(variances, pairs - 1)
        d0 = " | ".join(f"{fitted[g][0]:.1f}" for g in ("all", "latency", "throughput"))
        print(f"| {path.stem} | {machines([record])} | {pairs} | {d0} | {100 * math.sqrt(fitted['all'][1]):.2f} |")


def _recorded_roots() -> list[Path]:
    """Every directory of recorded gates: the error-rate runs', each design's and each noise setup's."""
    return [Path(RECORDS), *sorted(Path(RECORDS).glob("*/")), *sorted(Path(NOISE).glob("*/*/"))]


OUTLIER_Z = 3.5  # robust standard deviations from a comparison's median: a pair far out
TWO_CASES = [1.0, 1.5, 1.5, 1.0]  # sd (%) of the 2-case check's pairs, fp32 and onnx-int8 latency, then throughput


def recorded_groups(roots: list[Path]) -> list[list[Any]]:
    """Per same-revision gate in ``roots`` and measure, its comparisons' log pair ratios (those with at least
    5 pairs, where at least two of them have that many)."""
    import numpy as np

    groups = []
    for root in roots:
        for _, gate in _compared(root):
            for measure in ("latency", "throughput"):
                series = [c[measure]["pair_ratios"] for c in gate.get("cases", {}).values() if measure in c]
                series = [np.log(np.asarray(r)) for r in series if len(r) >= 5]
                if len(series) >= 2:
                    groups.append(series)
    return groups


def tails(groups: list[list[Any]]) -> tuple[int, int, int, int]:
    """Over ``groups`` (each a measure's comparisons in one gate): the pairs judged, those far out (more than
    :data:`OUTLIER_Z` robust sd from their comparison's median), and of the far ones' partners (the same
    pair's other comparisons of that measure) how many moved the same way by at least one robust sd, out of
    how many."""
    import numpy as np

    pairs = far = moved = partners = 0
    for series in groups:
        z = []
        for x in series:
            off = x - np.median(x)
            scale = 1.4826 * np.median(np.abs(off))
            z.append(off / scale if scale > 0 else np.zeros_like(x))
        for i, zi in enumerate(z):
            pairs += len(zi)
            for k in np.flatnonzero(np.abs(zi) > OUTLIER_Z):
                far += 1
                others = [zj[k] for j, zj in enumerate(z) if j != i and k < len(zj)]
                partners += len(others)
                moved += sum(1 for v in others if v * np.sign(zi[k]) >= 1)
    return pairs, far, moved, partners


def trimmed(args: argparse.Namespace) -> None:
    """Single pairs far out in the records, then the gate's rule with and without trimming, simulated."""
    import numpy as np

    groups = recorded_groups(_recorded_roots())
    pairs, far, moved, partners = tails(groups)
    generator = np.random.default_rng(0)  # the same gates' shapes, normal and independent: what chance gives
    normal = [tails([[generator.standard_normal(len(x)) for x in g] for g in groups]) for _ in range(20)]
    expected_far = statistics.mean(n[1] for n in normal) / pairs
    expected_moved = sum(n[2] for n in normal) / max(1, sum(n[3] for n in normal))
    print(
        f"Same-revision gates recorded: {far} of {pairs} comparison-pairs more than {OUTLIER_Z} robust sd out "
        f"({100 * far / max(1, pairs):.1f}%; normal pairs of the same counts: {100 * expected_far:.1f}%); their "
        f"partners in the same pair moved the same way by at least one robust sd in {moved} of {partners} "
        f"({100 * moved / max(1, partners):.0f}%; independent normal pairs: {100 * expected_moved:.0f}%).\n"
    )
    print(
        f"Simulated, {args.gates:,} gates a row; outliers: each pair's chance that one of its processes ran "
        f"{args.outlier_size:g}% slower as a whole. Pairs: same-revision gates' mean, median and 90th "
        f"percentile at a 2% minimum effect; caught: the slowed comparisons called slower (both measures).\n"
    )
    print("| cases | outliers | trim | false alarms, no minimum effect | false alarms, 2% | pairs | "
          "5% slower caught | 10% slower caught |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|")
    from nerperf.gate.simulation import QUIET_SPREADS  # calib-base-01's: the 6 calibration cases

    for name, spreads in (("2", TWO_CASES), ("6", list(QUIET_SPREADS))):
        for outliers in (0.0, args.outliers):
            for trim in (0.0, args.trim):
                rule = SimulatedRule(spreads, outliers, args.outlier_size, trim, args.gates)
                strict, same = rule.judged(0.0, 1, slower_effect=0.0).verdicts, rule.judged(0.0, 1)
                runs = same.pairs()
                cells = [f"{100 * (strict == 'slower').any(axis=1).mean():.2f}%",
                         f"{100 * (same.verdicts == 'slower').any(axis=1).mean():.2f}%",
                         f"{runs.mean():.2f}, {np.median(runs):.0f}, {np.percentile(runs, 90):.0f}"]  # fmt: skip
                for effect, seed in ((0.05, 2), (0.10, 3)):
                    caught = rule.judged(effect, seed).verdicts[:, rule.slowed] == "slower"
                    cells.append(f"{100 * caught.mean():.1f}%")
                print(f"| {name} | {100 * outliers:g}% | {trim:g} | " + " | ".join(cells) + " |")


@dataclass(frozen=True)
class SimulatedRule:
    """Gates of these ``spreads`` (latency, then throughput, per case), pairs far out as ``outliers`` asks,
    judged with ``trim``; 6 cases or more narrowed by case as the gate does, fewer with every case timed."""

    spreads: list[float]
    outliers: float
    outlier_size: float
    trim: float
    gates: int

    @property
    def slowed(self) -> list[int]:
        """The last case's comparisons (onnx-int8's, as in the calibration), both measures."""
        m = len(self.spreads)
        return [m // 2 - 1, m - 1]

    def judged(self, effect: float, seed: int, slower_effect: float | None = None) -> Any:
        from nerperf.gate import moderation, simulation

        effects = [1 + effect if i in self.slowed else 1.0 for i in range(len(self.spreads))]
        theta = simulation.streams(self.spreads, seed, effects, gates=self.gates, outliers=self.outliers,
                                   outlier_size=self.outlier_size)  # fmt: skip
        min_effect = 0.02 if slower_effect is None else slower_effect
        if len(self.spreads) >= 12:
            return simulation.narrowed_first_verdicts(theta, moderation.PRIOR_DF, 0.02, min_effect, trim=self.trim)
        return simulation.first_verdicts(theta, moderation.PRIOR_DF, min_effect, trim=self.trim)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    tabling = commands.add_parser("noise", help="the spread of pair ratios per process setup")
    tabling.add_argument("--records", default=f"{NOISE}/{cpu_kind()}", help="one directory per setup")
    tabling.add_argument("--reference", default="defaults", help="the setup whose times the others' are over")
    ordering = commands.add_parser("order", help="how much of the spread is which side ran first")
    ordering.add_argument("--records", nargs="*", default=[], help="directories (default: every recorded design)")
    siding = commands.add_parser("sides", help="per same-revision gate, how much slower its head side ran")
    siding.add_argument("--records", nargs="*", default=[], help="directories (default: every noise setup's)")
    where = commands.add_parser("spread", help="where the same-revision gates' spread lies: within pairs or between")
    where.add_argument("--out", default=".benchmarks/gate", help="the rounds (their raw samples)")
    where.add_argument("--records", default=RECORDS)
    figuring = commands.add_parser("estimators", help="which figure of a pair's log ratios spreads least")
    figuring.add_argument("--out", default=".benchmarks/gate", help="the rounds (their raw samples)")
    figuring.add_argument("--records", default=RECORDS)
    sharing = commands.add_parser("moderated", help="the shared variance's prior, fitted on each gate")
    sharing.add_argument("--records", default=RECORDS)
    trimming = commands.add_parser("trimmed", help="single pairs far out, and the trimmed t against them")
    trimming.add_argument("--gates", type=int, default=4000, help="simulated gates a row")
    trimming.add_argument("--outliers", type=float, default=0.1, help="each pair's chance of a process slower whole")
    trimming.add_argument("--outlier-size", type=float, default=6.0, help="how much slower, %%")
    trimming.add_argument("--trim", type=float, default=0.2, help="the share trimmed from each end")
    args = parser.parse_args()
    handlers = {"noise": noise, "order": order, "sides": sides, "spread": spread, "estimators": estimators,
                "moderated": moderated, "trimmed": trimmed}  # fmt: skip
    handlers[args.command](args)


if __name__ == "__main__":
    main()
