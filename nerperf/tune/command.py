"""``nerperf tune --model PATH_OR_ID``: its options, its trials in this warm process, and what it writes.

Exit status: 0 a winner for every objective asked; 1 no configuration met the F1 floor for one (the
closest is printed); 2 bad input; 130 interrupted (every finished trial kept, the summary written from
them). Outputs under ``--out`` (default ``nerperf-tune/``): ``trials/`` (one file per trial, reused by
the next run with the same ``--out``), ``summary.md``, ``tune.json`` (and ``--json FILE``) and
``frontier.png``.
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import json
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from nerperf import settings
from nerperf.atomic import write_atomic
from nerperf.errors import NerperfInputError, caused_by_ctrl_c
from nerperf.tune import frontier, leaders, space
from nerperf.tune.trials import Trial, TrialStore

TUNE_SETTINGS = (
    "data", "split", "word_column", "tag_column", "comment_prefix", "encoding", "tag_scheme", "label_map",
    "sentences", "cache_dir", "memory_limit", "calibration_data", "calibration_sentences",
)  # fmt: skip
LEADER_SENTENCES = 300  # batch-1 timings of the leaders, each of the rounds in turns
SEARCH_SHARE = 0.85  # of the budget: no trial starts after it; the rest is for timing the leaders in turns
OBJECTIVE_CHOICES = (*space.OBJECTIVES, "both")


class BudgetSpent(Exception):
    """The budget ran out: no new trial is started."""


def add_parser(commands: Any) -> None:
    parser = commands.add_parser(
        "tune",
        help="the fastest variant, threads and batching of a checkpoint within an F1 floor, on this machine",
        description="Search every variant that runs here, the thread counts and (for throughput) batch sizes "
        "and token budgets, pruning what breaks the F1 floor or is slower; time the two fastest again in turns; "
        "print the trials, the Pareto frontier of F1 against speed, and the winner's settings to paste into "
        "pyproject.toml. Resumes from the trials already under --out.",
    )
    parser.add_argument("--model", required=True, metavar="PATH_OR_ID", help="checkpoint directory or hub id")
    parser.add_argument(
        "--floor",
        type=settings.points,
        default=TuneOptions.floor,
        metavar="POINTS",
        help="F1 points below fp32 allowed (default: 1.0)",
    )
    parser.add_argument(
        "--objective", choices=OBJECTIVE_CHOICES, default="both", help="batch-1 latency, throughput or both (default)"
    )
    parser.add_argument(
        "--budget",
        type=float,
        default=TuneOptions.budget,
        metavar="MINUTES",
        help="the whole run's time: no trial starts after 85%% of it, the rest times the leaders (default: 20)",
    )
    parser.add_argument(
        "--variants",
        default=None,
        metavar="NAMES",
        help="comma-separated variants to search (default: all that run here)",
    )
    parser.add_argument("--json", metavar="FILE", default=None, help="also write every trial and the machine as JSON")
    parser.add_argument(
        "--out", metavar="DIR", default="nerperf-tune", help="trials, summary and figure (default: nerperf-tune)"
    )
    settings.add_arguments(parser, TUNE_SETTINGS, {})


@dataclass(frozen=True)
class TuneOptions:
    """``nerperf tune``'s own options (the data and reading settings are :mod:`nerperf.settings`')."""

    model: str
    floor: float = 1.0  # F1 points below fp32 allowed
    objective: str = "both"  # latency, throughput or both
    budget: float = 20.0  # minutes, the whole run's
    variants: str | None = None  # comma-separated; None: every variant that runs here
    json: str | None = None
    out: str = "nerperf-tune"

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> TuneOptions:
        return cls(args.model, args.floor, args.objective, args.budget, args.variants, args.json, args.out)


def run_tune(parsed: argparse.Namespace) -> int:
    from nerperf import progress
    from nerperf.data.conll import data_format, load_corpus
    from nerperf.machine import machine_label, usable_cpus
    from nerperf.models.checkpoints import load_checkpoint

    chosen = settings.from_arguments(parsed)
    args = TuneOptions.from_args(parsed)
    objectives = space.OBJECTIVES if args.objective == "both" else (args.objective,)
    names, skipped = _variants(args.variants)
    out = Path(args.out).absolute()
    corpus = load_corpus(chosen.data, chosen.split, data_format=data_format(chosen)).head(chosen.sentences)
    status = progress.on_stream(sys.stderr)
    status.show(f"loading {args.model}")
    checkpoint = load_checkpoint(args.model, chosen.memory_limit)
    cores = len(usable_cpus())
    machine = {"cpu": machine_label(), "cores": cores}
    store = TrialStore(out / "trials", _identity(checkpoint, corpus, machine))
    runner = _Runner(checkpoint, corpus, chosen, store, status, time.monotonic() + SEARCH_SHARE * args.budget * 60)
    stopped, interrupted = "", False
    try:
        found = space.search(names, cores, runner.measure, args.floor, objectives)
    except BudgetSpent:
        found, stopped = runner.found(), f"the budget of {args.budget:g} minutes was spent; later trials not run"
    except (KeyboardInterrupt, ImportError) as stop:
        if not caused_by_ctrl_c(stop):
            raise
        found, stopped = runner.found(), "interrupted (Ctrl-C): every finished trial is kept under --out"
        interrupted = True
    decisions: dict[str, tuple[leaders.Decision | str, leaders.Decision | None]] = {}
    if not interrupted:  # a budget spent still leaves the leaders' share
        for objective in objectives:
            decisions[objective] = runner.decide(objective, found, args.floor)
    status.clear()
    outcome = _outcome(args, objectives, runner.trials, found, decisions, skipped, stopped, machine)
    text = summary(outcome)
    out.mkdir(parents=True, exist_ok=True)
    write_atomic(out / "summary.md", text)
    payload = json.dumps(outcome, indent=2, sort_keys=True, default=str) + "\n"
    write_atomic(out / "tune.json", payload)
    if args.json:
        write_atomic(Path(args.json), payload)
    _figure(outcome, out / "frontier.png")
    print(text)
    if interrupted:
        return 130
    return 0 if all(outcome["objectives"][o]["winner"] for o in objectives) else 1


def _variants(given: str | None) -> tuple[list[str], dict[str, str]]:
    """The variants to search, and those left out with why (they cannot run here)."""
    from nerperf.variants import VARIANTS, get_variant

    names = [n.strip() for n in given.split(",") if n.strip()] if given else list(VARIANTS)
    for name in names:
        get_variant(name)  # an unknown name is refused with the choices
    skipped = {n: reason for n in names if (reason := VARIANTS[n].unavailable())}
    usable = [n for n in names if n not in skipped]
    if "fp32" not in usable:
        usable.insert(0, "fp32")  # the reference the floor is taken from
    return usable, skipped


def _identity(checkpoint: Any, corpus: Any, machine: dict[str, Any]) -> dict[str, Any]:
    """What every trial's figures depend on besides its configuration."""
    from nerperf.machine import installed_version
    from nerperf.variants import checkpoint_fingerprint

    words = hashlib.sha256("\n".join("\t".join(s.words) for s in corpus.sentences).encode()).hexdigest()[:16]
    libraries = ("nerperf", "torch", "transformers", "onnxruntime", "openvino", "nncf")
    return {
        "checkpoint": checkpoint_fingerprint(checkpoint),
        "data": {"source": corpus.source, "split": corpus.split, "sentences": len(corpus.sentences), "sha256": words},
        "machine": machine,
        "versions": {name: installed_version(name) for name in libraries},
    }


class _Runner:
    """Runs trials in this process, one prepared variant at a time, each kept as soon as it ends."""

    def __init__(self, checkpoint: Any, corpus: Any, chosen: Any, store: TrialStore, status: Any, deadline: float):
        self.checkpoint, self.corpus, self.chosen, self.store = checkpoint, corpus, chosen, store
        self.status, self.deadline = status, deadline
        self.trials: dict[space.Config, Trial] = {}
        self._prepared: dict[tuple[str, int], Any] = {}

    def found(self) -> dict[space.Config, space.Measured]:
        return {config: trial.measured for config, trial in self.trials.items()}

    def measure(self, config: space.Config) -> space.Measured:
        trial = self.store.get(config)
        if trial is None:
            if time.monotonic() > self.deadline:
                raise BudgetSpent
            self.status.show(f"nerperf tune: trial {len(self.trials) + 1}: {config.key}")
            trial = self._run(config)
            self.store.put(trial)
        self.trials[config] = trial
        return trial.measured

    def _prepare(self, variant: str, threads: int) -> Any:
        from nerperf.evaluation import context
        from nerperf.variants import prepare
        from nerperf.variants.calibration import for_settings

        if (variant, threads) not in self._prepared:
            self._prepared.clear()  # one variant in memory at a time: peak memory is then its own
            gc.collect()
            calibration = for_settings(self.chosen, self.corpus.data_format)
            where = context(self.chosen.cache_dir, threads, calibration=calibration)
            self._prepared[(variant, threads)] = prepare(variant, self.checkpoint, where)
        return self._prepared[(variant, threads)]

    def _evaluate(self, config: space.Config, limit: int | None = None) -> Any:
        from nerperf.evaluation import Preparation, Timing, evaluate

        return evaluate(
            self.checkpoint,
            self.corpus,
            variant=config.variant,
            limit=limit,
            timing=Timing(config.batch_size, config.max_tokens, config.threads),
            preparation=Preparation(prepared=self._prepare(config.variant, config.threads)),
        )

    def _run(self, config: space.Config) -> Trial:
        started = time.perf_counter()
        try:
            result = self._evaluate(config)
        except (NerperfInputError, RuntimeError, ValueError, OSError) as error:
            return Trial(
                config, None, None, None, None, None, time.perf_counter() - started, f"{type(error).__name__}: {error}"
            )
        speed = result.speed
        return Trial(
            config,
            result.f1,
            speed.latency_p50_s * 1000,
            speed.latency_p90_s * 1000,
            speed.samples_per_s,
            result.memory.peak_bytes / 2**20,
            time.perf_counter() - started,
        )

    def decide(
        self, objective: str, found: dict[space.Config, space.Measured], floor: float
    ) -> tuple[leaders.Decision | str, leaders.Decision | None]:
        """The winner against the runner-up, then against nerperf's defaults, each timed in turns.

        A sentence instead of the first where there is nothing to decide; ``None`` for the second where the
        winner is the defaults or they did not run. Both in this run, so that "x1.3 the defaults" is a ratio
        of times taken in turns, not of two trials minutes apart.
        """
        points = _points(found, objective)
        reference = _reference(found)
        if reference is None:
            return "fp32 did not run: no floor", None
        allowed = frontier.ranked(points, reference, floor)
        if not allowed:
            return "no configuration met the floor", None
        by_key = {c.key: c for c in found}
        cores = max(c.threads for c in found)
        defaults = space.default(_default_variant(found), cores, objective)

        def seconds(config: space.Config) -> float:
            if config.objective == space.LATENCY:
                return self._evaluate(config, limit=LEADER_SENTENCES).speed.latency_p50_s
            return 1 / self._evaluate(config).speed.samples_per_s

        fastest = by_key[allowed[0].key]
        if len(allowed) < 2:
            first: leaders.Decision | str = "one configuration met the floor: nothing to compare it with"
        else:
            runner_up = by_key[allowed[1].key]
            self.status.show(f"nerperf tune: timing {fastest.key} and {runner_up.key} in turns")
            first = leaders.decide(fastest, runner_up, seconds)
        winner = by_key[leaders.recommended(fastest.key, first, None)]
        if winner == defaults or defaults.key not in {p.key for p in allowed}:  # the same, or below the floor
            return first, None
        if isinstance(first, leaders.Decision) and first.runner_up == defaults:  # already timed against them
            return first, first
        self.status.show(f"nerperf tune: timing {winner.key} and the defaults {defaults.key} in turns")
        return first, leaders.decide(winner, defaults, seconds)


def _points(found: dict[space.Config, space.Measured], objective: str) -> list[frontier.Point]:
    return [
        frontier.Point(c.key, m.f1, m.speed)
        for c, m in found.items()
        if c.objective == objective and m.f1 is not None and m.speed is not None
    ]


def _reference(found: dict[space.Config, space.Measured]) -> float | None:
    """fp32's F1 at the defaults (all cores): the floor's reference."""
    cores = max((c.threads for c in found), default=1)
    for objective in space.OBJECTIVES:
        measured = found.get(space.default("fp32", cores, objective))
        if measured is not None and measured.f1 is not None:
            return measured.f1
    return None


def _outcome(
    args: TuneOptions,
    objectives: Sequence[str],
    trials: dict[space.Config, Trial],
    found: dict[space.Config, space.Measured],
    decisions: dict[str, tuple[leaders.Decision | str, leaders.Decision | None]],
    skipped: dict[str, str],
    stopped: str,
    machine: dict[str, Any],
) -> dict[str, Any]:
    reference = _reference(found)
    by_key = {c.key: c for c in found}
    per_objective: dict[str, Any] = {}
    cores = machine["cores"]
    for objective in objectives:
        points = _points(found, objective)
        fastest = frontier.winner(points, reference, args.floor) if reference is not None else None
        decision, against = decisions.get(objective, (stopped or "not decided", None))
        best = fastest and next(p for p in points if p.key == leaders.recommended(fastest.key, decision, against))
        defaults_key = space.default(_default_variant(found), cores, objective).key
        per_objective[objective] = {
            "frontier": [p.key for p in frontier.frontier(points)],
            "winner": best and asdict(by_key[best.key]),
            "winner_key": best and best.key,
            "closest": None if best else (lambda p: p and p.key)(frontier.closest(points)),
            "against_defaults": _against_defaults(best, defaults_key, points, against),
            "defaults": defaults_key,
            "leaders": decision if isinstance(decision, str) else {**asdict(decision), "said": decision.describe()},
        }
    return {
        "model": args.model,
        "floor_points": args.floor,
        "reference_f1": reference,
        "machine": machine,
        "stopped": stopped,
        "skipped": skipped,
        "trials": [t.to_json() for t in trials.values()],
        "objectives": per_objective,
        "settings": {o: settings_block(args.model, per_objective[o]["winner"]) for o in objectives},
    }


def _against_defaults(
    best: frontier.Point | None, defaults_key: str, points: list[frontier.Point], timed: leaders.Decision | None
) -> dict[str, Any] | None:
    """The winner's speed over the defaults': timed in turns where it was, else from the two trials."""
    if best is None:
        return None
    if best.key == defaults_key and timed is not None and timed.winner.key != defaults_key:
        return {
            "ratio": 1.0,
            "challenger": {"key": timed.winner.key, "ratio": timed.ratio, "low": timed.low, "high": timed.high},
            "said": f"kept: {timed.winner.key}, the fastest single trial, was not faster in turns: {timed.interval()}",
        }
    if best.key == defaults_key:
        return {"ratio": 1.0, "said": "the defaults are the winner"}
    if timed is not None:
        return {"ratio": timed.ratio, "low": timed.low, "high": timed.high, "said": timed.describe()}
    trial = next((p for p in points if p.key == defaults_key and p.speed), None)
    if trial is None:
        return None
    return {"ratio": best.speed / trial.speed, "said": "from the search's single trials, not timed in turns"}


def _default_variant(found: dict[space.Config, space.Measured]) -> str:
    """What nerperf's defaults would pick today: onnx-int8 where it ran, else fp32."""
    return "onnx-int8" if any(c.variant == "onnx-int8" for c in found) else "fp32"


def settings_block(model: str, winner: dict[str, Any] | None) -> str:
    """The winner as settings for pyproject.toml: the suite and the gate then measure that configuration."""
    if not winner:
        return ""
    path = Path(model)
    name = path.name if path.is_dir() else model
    source = f"{name}={model}" if path.is_dir() else model
    tokens = '"none"' if winner["max_tokens"] is None else winner["max_tokens"]
    lines = [
        "[tool.pytest.ini_options]",
        f'nerperf_checkpoints = ["{source}"]',
        f'nerperf_baseline = "{name}"',
        f'nerperf_variants = ["fp32", "{winner["variant"]}"]'
        if winner["variant"] != "fp32"
        else 'nerperf_variants = ["fp32"]',
        f"nerperf_threads = {winner['threads']}",
    ]
    if winner["batch_size"] != 1:
        lines += [f"nerperf_batch_size = {winner['batch_size']}", f"nerperf_max_tokens = {tokens}"]
    return "\n".join(lines) + "\n"


def summary(outcome: dict[str, Any]) -> str:
    """The trials, the frontier and the winners, as Markdown (also what the terminal shows)."""
    from nerperf.plain_table import render

    reference = outcome["reference_f1"]
    lines = [
        f"## nerperf tune: {outcome['model']}",
        "",
        f"Machine: {outcome['machine']['cpu']}.",  # the label names the cores
    ]
    if reference is not None:
        lines.append(f"Reference: fp32 F1 {100 * reference:.2f}; floor {outcome['floor_points']:g} points below it.")
    if outcome["stopped"]:
        lines.append(f"Stopped early: {outcome['stopped']}.")
    for name, reason in outcome["skipped"].items():
        lines.append(f"Not searched: {name}: {reason}.")
    rows = []
    for t in outcome["trials"]:
        c = t["config"]
        delta = "" if t["f1"] is None or reference is None else f"{100 * (t['f1'] - reference):+.2f}"
        rows.append([
            c["variant"], str(c["threads"]), str(c["batch_size"]), str(c["max_tokens"] or "none"),
            "-" if t["f1"] is None else f"{100 * t['f1']:.2f}", delta,
            _number(t["latency_p50_ms"], "{:.2f}") if c["batch_size"] == 1 else "",
            _number(t["latency_p90_ms"], "{:.2f}") if c["batch_size"] == 1 else "",
            _number(t["sentences_per_s"], "{:.0f}") if c["batch_size"] != 1 else "",
            _number(t["peak_memory_mb"], "{:.0f}"), t["error"] or "",
        ])  # fmt: skip
    header = [
        "variant",
        "threads",
        "batch",
        "tokens",
        "F1",
        "ΔF1",
        "p50 ms",
        "p90 ms",
        "sentences/s",
        "peak MB",
        "error",
    ]
    lines += ["", "### Trials", "", "```", render(rows, header), "```"]
    for objective, found in outcome["objectives"].items():
        lines += ["", f"### {objective.capitalize()}", ""]
        lines.append("Frontier of the single trials (fastest first): " + ("; ".join(found["frontier"]) or "none"))
        if found["winner_key"]:
            lines += ["", f"**Winner**: {found['winner_key']}."]
            leaders_found = found["leaders"]
            if isinstance(leaders_found, dict):  # the two fastest single trials, timed in turns
                first = space.Config(**leaders_found["winner"]).key
                lines += ["", f"**The two fastest trials, in turns**: {first}, {leaders_found['said']}."]
            else:
                lines += ["", f"**The two fastest trials**: {leaders_found}."]
            against = found["against_defaults"]
            if against:
                lines += ["", f"**Against the defaults** ({found['defaults']}): {against['said']}."]
            lines += ["", "```toml"]
            lines += [outcome["settings"][objective].rstrip(), "```"]
        else:
            closest = found["closest"] or "nothing ran"
            lines += ["", f"**No configuration met the floor**; the closest: {closest}."]
    return "\n".join(lines) + "\n"


def _number(value: float | None, form: str) -> str:
    return "-" if value is None else form.format(value)


def _figure(outcome: dict[str, Any], path: Path) -> None:
    """F1 against speed per objective, in the report's style; without matplotlib, says it was not drawn."""
    from nerperf.machine import short_machine
    from nerperf.report.figures import tune_frontier

    trials = [{**t, "key": _key(t)} for t in outcome["trials"]]
    frontiers = {o: found["frontier"] for o, found in outcome["objectives"].items()}
    title = f"nerperf tune: {Path(outcome['model']).name}, {short_machine(outcome['machine']['cpu'])}"
    try:
        _, _, png = tune_frontier(trials, frontiers, title)
    except ModuleNotFoundError as missing:
        if not (missing.name or "").startswith("matplotlib"):
            raise  # a bug, not a missing extra
        print(f"{path.name} not written: matplotlib is not installed (pip install 'nerperf[history]')")
        return
    write_atomic(path, png)


def _key(trial: dict[str, Any]) -> str:
    return space.Config(**trial["config"]).key
