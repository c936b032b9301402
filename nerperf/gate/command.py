"""``nerperf gate BASE [HEAD]``: its options, its steps, and its exit status.

Steps: resolve both revisions; read the project's nerperf settings once (``NERPERF_*`` and the ini
file, as ``pytest`` would here) and hand the same ones to both sides; check out and install each side
(:mod:`.checkouts`); run the balanced rounds (:mod:`.rounds`); compare speed (:mod:`.speed`) and
predictions (:mod:`.accuracy`); write the verdict (:mod:`.verdict`). Exit status: 0 passed; 1 a case
slower, a floor broken, a failing test on the head, or (``--exact``) a changed prediction; 2 nothing
could be compared (a revision, install or run failed, a case on one side only, no samples), with why.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import math
import os
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NamedTuple

from nerperf.atomic import write_atomic
from nerperf.errors import NerperfInputError
from nerperf.floors import Floor
from nerperf.gate import accuracy, checkouts, moderation, options, rounds, sequential, speed, verdict
from nerperf.gate.checkouts import GateError, Side
from nerperf.gate.options import GateOptions
from nerperf.processes import lockstep
from nerperf.processes.children import Children, Interrupted, absolute, stoppable
from nerperf.processes.samples import CaseSamples
from nerperf.processes.setup import parse_cpus
from nerperf.settings import MEASURES, positive_int

GATE_THROUGHPUT_BATCHES = 30  # batches a round times for throughput (whole passes): see _paired_batches
TIMED = tuple(m for m in MEASURES if m != "floor")  # what the pairs after the first time: no floors again


def _hash_seed(text: str) -> int:
    """PYTHONHASHSEED's range: 0 to 4294967295."""
    try:
        seed = int(text)
    except ValueError:
        seed = -1
    if not 0 <= seed <= 4_294_967_295:
        raise argparse.ArgumentTypeError(f"{text!r}: a hash seed is a whole number from 0 to 4294967295")
    return seed


def percent(text: str) -> float:
    try:
        value = float(text.rstrip("%"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a percentage") from None
    if not 0 < value < 100:
        raise argparse.ArgumentTypeError(f"{text!r} is not between 0 and 100 percent")
    return value


def pairs(text: str) -> int:
    value = positive_int(text)
    if value < 2:
        raise argparse.ArgumentTypeError(f"{text!r}: an interval over pairs of processes needs at least 2")
    return value


def prior_df(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of degrees of freedom") from None
    if not 0 <= value < math.inf:
        raise argparse.ArgumentTypeError(f"{text!r}: the prior's degrees of freedom are 0 (none shared) or more")
    return value


def add_parser(commands: Any) -> None:
    gate = commands.add_parser(
        "gate",
        help="did HEAD make accuracy or speed worse than BASE? (a pull-request gate)",
        description="Install BASE and HEAD (git revisions of the repository here) each in its own environment, "
        "run the suite (pytest --benchmark-only PYTEST_ARGS) in pairs of processes taking turns, pair every "
        "sentence's latency and every batch's time between the sides, look after every pair and stop once every "
        "comparison is decided, and compare every word's prediction. Exit status: 0 passed; 1 a case slower, a "
        "floor broken, a failing test on HEAD, or with --exact a changed prediction; 2 nothing could be "
        "compared; 130 or 143 cancelled (every child stopped). "
        "Usage: nerperf gate BASE [HEAD] [options] [-- PYTEST_ARGS]",
    )
    gate.add_argument("base", metavar="BASE", help="the revision to compare against, e.g. origin/main")
    gate.add_argument("head", metavar="HEAD", nargs="?", default="HEAD", help="the revision gated (default: HEAD)")
    add_looks(gate)
    gate.add_argument(
        "--rounds",
        type=pairs,
        default=None,
        metavar="N",
        help="exactly N pairs, one look at the end (a fixed-sample test): --min-pairs N --max-pairs N",
    )
    gate.add_argument(
        "--min-effect",
        type=percent,
        default=options.DEFAULT_MIN_EFFECT,
        metavar="PERCENT",
        help=f"the smallest slowdown that fails the gate, in percent (default: {options.DEFAULT_MIN_EFFECT:g})",
    )
    gate.add_argument(
        "--prior-df",
        type=prior_df,
        default=moderation.PRIOR_DF,
        metavar="D",
        help="the comparisons of one measure share their variance, weighted as D pairs' worth of degrees of "
        f"freedom (limma's moderated t); 0: each on its own pairs (default: {moderation.PRIOR_DF:g})",
    )
    gate.add_argument(
        "--wait",
        choices=list(lockstep.WAITS),
        default=None,
        help="how a process lets the CPU go before its partner's timing: a 10 ms pause while its OpenMP threads "
        "stop spinning; a short spin (GOMP_SPINCOUNT=10000) and a 1 ms pause; a spin of about 1 ms (30000) and a "
        "2 ms pause; OpenMP's passive waiting and no pause; or the pause ended as soon as the process's other "
        "threads are asleep (Linux). What each costs and gains per CPU kind: docs/gate.md, 'Waiting between "
        "turns' (default: passive on Intel CPUs, ms-spin on AMD ones with threads bound, "
        f"{lockstep.DEFAULT_WAIT} on others; the summary says which ran)",
    )
    gate.add_argument(
        "--hash-seed",
        metavar="N",
        type=_hash_seed,
        default=None,
        help="PYTHONHASHSEED for every process of both sides (default: Python's, random per process)",
    )
    gate.add_argument(
        "--cpus",
        metavar="LIST",
        type=parse_cpus,
        default=None,
        help="pin every process of both sides to these CPUs, such as 0-1 (default: none, the OS chooses)",
    )
    gate.add_argument(
        "--bind-threads",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="bind OpenMP's threads (torch's, MKL's) one to a core: GOMP_CPU_AFFINITY, OMP_NUM_THREADS (default: on "
        "AMD CPUs, where it was measured quieter, and off on others; the summary says which ran)",
    )
    gate.add_argument(
        "--every-measure",
        action="store_true",
        help="time every measure and case in every pair; by default the later pairs time only the measures and the "
        "cases with a comparison still undecided",
    )
    gate.add_argument("--exact", action="store_true", help="fail on any changed prediction (for refactors)")
    gate.add_argument("--json", metavar="FILE", default=None, help="also write the verdict as JSON (default: none)")
    gate.add_argument(
        "--out", metavar="DIR", default="nerperf-gate", help="summary, logs and samples (default: nerperf-gate)"
    )
    gate.add_argument(
        "--install",
        metavar="COMMAND",
        default=checkouts.DEFAULT_INSTALL,
        help="installs a side into its environment, run in its checkout with the environment's python and pip "
        f"first on PATH (default: {checkouts.DEFAULT_INSTALL}, with -c {checkouts.CONSTRAINTS} where the checkout "
        "has one)",
    )
    gate.add_argument(
        "--no-install",
        action="store_true",
        help="run both sides with this interpreter, installing nothing: for projects whose code under test is "
        "not installed (test files, conftest.py); nerperf itself is then the same on both sides",
    )
    gate.add_argument(
        "--separate-environments",
        action="store_true",
        help="install each side in an environment of its own even where both have the same requirements (by "
        "default they share one, each side importing its code from its own checkout)",
    )
    gate.add_argument(
        "--work",
        metavar="DIR",
        default=None,
        help="checkouts and environments, kept between gates (default: under nerperf's cache directory)",
    )


def add_looks(parser: argparse.ArgumentParser) -> None:
    """--min-pairs and --max-pairs: the sequential rule's first and last look (the gate's, and each bisect step's)."""
    for flag, default, said in (
        ("--min-pairs", sequential.FIRST_LOOK, "pairs of processes (base and head taking turns, each running the "
         "suite) before the first look"),
        ("--max-pairs", sequential.LAST_LOOK, "the most pairs: the gate looks after every pair and stops once every "
         "comparison is decided, or here, calling the undecided inconclusive"),
    ):  # fmt: skip
        parser.add_argument(flag, type=pairs, default=default, metavar="N", help=f"{said} (default: {default})")


def split_pytest_args(argv: Sequence[str]) -> tuple[list[str], list[str]]:
    """``nerperf gate ... -- PYTEST_ARGS``: the gate's own arguments and pytest's."""
    argv = list(argv)
    if "--" not in argv:
        return argv, []
    cut = argv.index("--")
    return argv[:cut], argv[cut + 1 :]


def run_gate(args: GateOptions, say: Callable[[str], None] | None = None) -> int:
    """The gate's exit status; cancelled (Ctrl-C, SIGTERM), it stops its children and says so in its summary."""
    say = say or (lambda line: print(line, file=sys.stderr, flush=True))
    out = absolute(args.out)  # the rounds write under it from the sides' checkouts
    started = time.perf_counter()
    try:
        outcome = stoppable(lambda children: gate(args, out, say, children))
    except Exception as error:  # a GateError, a bad setting, or a bug in nerperf: never exit 1
        if not isinstance(error, NerperfInputError):
            traceback.print_exc()
            error = GateError(f"nerperf gate failed ({type(error).__name__}: {error}); this is a bug in nerperf")
        reason = f"nothing could be compared: {error}"
        _publish(out, args.json, f"## nerperf gate\n\n**not compared**: {reason}\n", {"status": 2, "reason": reason})
        print(f"nerperf gate: {reason}", file=sys.stderr)
        return verdict.NOT_COMPARED
    if isinstance(outcome, Interrupted):
        reason = outcome.reason()
        _publish(
            out,
            args.json,
            f"## nerperf gate\n\n**not compared**: {reason}\n",
            {"status": outcome.status, "reason": reason},
        )
        print(f"nerperf gate: {reason}", file=sys.stderr)
        return outcome.status
    outcome = _with_seconds(outcome, time.perf_counter() - started)
    text = verdict.markdown(outcome)
    _publish(out, args.json, text, json.loads(verdict.record(outcome)))
    print(text)
    return outcome.status


def gate(args: GateOptions, out: Path, say: Callable[[str], None], children: Children) -> verdict.Outcome:
    from nerperf.ini_file import project_settings

    if args.min_pairs > args.max_pairs:
        raise NerperfInputError(f"--min-pairs {args.min_pairs} is more than --max-pairs {args.max_pairs}")
    repository = checkouts.repository_root(Path.cwd())
    commits = {"base": checkouts.resolve(repository, args.base), "head": checkouts.resolve(repository, args.head)}
    # The same settings for both sides; names are checked by each side's pytest (its conftest.py may
    # register checkpoints and variants), whose usage error ends the gate with its message.
    configured = project_settings(Path.cwd())
    settings = configured.to_environment()
    # A median over more batches a pair, unless the project chose its own (docs/gate.md, "What a gate does", 4).
    settings.setdefault("NERPERF_THROUGHPUT_BATCHES", str(GATE_THROUGHPUT_BATCHES))
    work = absolute(args.work) if args.work else _default_work(repository, configured.cache_dir)
    sides, environments = checkouts.prepare_sides(
        repository,
        work,
        out,
        {"base": args.base, "head": args.head},
        commits,
        args.install,
        no_install=args.no_install,
        separate=args.separate_environments,
        children=children,
        say=say,
    )
    machine = _machine()

    def look(ran: list[rounds.Round]) -> rounds.Look:
        return next_look(ran, args)

    ran = rounds.run_rounds(
        sides, args.max_pairs, out, settings, list(args.pytest_args), children, say, look, args.wait, args.setup
    )
    return dataclasses.replace(compare(ran, sides, settings, args, machine), environments=environments)


def next_look(ran: Sequence[rounds.Round], args: GateOptions) -> rounds.Look:
    """After a pair: stop once every comparison is decided (the samples so far, the sequential rule), else
    time only the measures and the cases with a comparison still undecided, where every round's nerperf
    could be told to (the ``measures`` and ``cases`` settings). A case leaves whole, once every comparison
    of it is decided; the rule judges the rest among themselves (:func:`nerperf.gate.speed.judge`).

    The F1 floors run in the first pair only: predictions are compared from it (later rounds' are only
    checked to be the same), and a 2-case gate's floors cost each process the baseline checkpoint's loading
    and evaluation, untimed, for nothing new."""
    # Each side's nerperf is the same in every round: its first round's results.json says whether it knows the
    # setting (a nerperf without it would time every measure whatever it is told).
    told = [r.record.settings for r in ran if r.pair == 0]
    narrowing = not args.every_measure and all("measures" in settings for settings in told)
    if len(ran) // 2 < args.min_pairs:
        return rounds.Look(stop=False, measures=TIMED if narrowing else ())
    watched = args.decide_on  # a bisect step waits on its own measure alone
    judged, _ = judge_speed(paired(ran), args)  # the speed part alone: no accuracy bootstraps at every look
    if speed.finished(judged, args.min_effect / 100, watched):
        return rounds.Look(stop=True)
    if not narrowing:
        return rounds.Look(stop=False)
    measures = speed.undecided_measures(judged, watched) or TIMED
    open_cases = tuple(sorted({c.case for c in judged if not c.verdict and watched in (None, c.measure)}))
    if all("cases" in settings for settings in told) and len(open_cases) < len({c.case for c in judged}):
        return rounds.Look(stop=False, measures=measures, cases=open_cases)
    return rounds.Look(stop=False, measures=measures)


class Paired(NamedTuple):
    """The rounds' samples by side and pair: the cases both sides timed, and what each pair was told to time."""

    cases: list[str]
    by_pair: dict[str, dict[int, dict[str, CaseSamples]]]
    asked: dict[int, tuple[tuple[str, ...], tuple[str, ...]]]  # pair -> the measures and cases it timed; (): all
    pair_ids: list[int]


def paired(ran: Sequence[rounds.Round]) -> Paired:
    recorded = {name: [(r, r.samples) for r in ran if r.side == name] for name in ("base", "head")}
    cases = _common_cases({name: [(r, s) for r, s in found if not r.measures] for name, found in recorded.items()})
    by_pair = {name: {r.pair: samples for r, samples in recorded[name]} for name in recorded}
    asked = {r.pair: (r.measures, r.cases) for r in ran}
    return Paired(cases, by_pair, asked, sorted(by_pair["base"]))


def judge_speed(found: Paired, args: GateOptions) -> tuple[list[speed.SpeedComparison], list[str]]:
    """Every case's latency and throughput comparison judged by the sequential rule, and the notes on
    sides that batched differently; raises GateError when the samples cannot be compared."""
    cases, by_pair, asked, pair_ids = found
    comparisons, batching_notes = [], []

    def timing(case: str, measure: str) -> list[list[CaseSamples]]:
        """The case's base and head samples of the pairs that timed ``measure`` (a narrowed pair timed one)."""
        timed = [
            k
            for k in pair_ids
            if (not asked[k][0] or measure in asked[k][0]) and (not asked[k][1] or case in asked[k][1])
        ]
        return [[by_pair[name][k].get(case) or CaseSamples(case) for k in timed] for name in ("base", "head")]

    for case in cases:
        base, head = timing(case, "latency")
        if _timed_in_every_round(case, "latency", [s.latency_s for s in base + head]):
            comparisons.append(
                speed.compare(case, "latency", [(b.latency_s, h.latency_s) for b, h in zip(base, head, strict=True)])
            )
        base, head = timing(case, "throughput")
        if _timed_in_every_round(case, "throughput", [s.batch_s for s in base + head]):
            if any(s.batches != base[0].batches for s in base) or any(s.batches != head[0].batches for s in head):
                raise GateError(f"{case}: one side batched the sentences differently from round to round")
            pairs_of_times, sentences, note = _paired_batches(case, base, head)
            batching_notes += [note] if note else []
            comparisons.append(speed.compare(case, "throughput", pairs_of_times, sentences))
    return speed.judge(
        comparisons, args.min_effect / 100, args.min_pairs, args.max_pairs, args.prior_df
    ), batching_notes


def compare(
    ran: Sequence[rounds.Round],
    sides: dict[str, Side],
    settings: dict[str, str],
    args: GateOptions,
    machine: dict[str, Any],
) -> verdict.Outcome:
    """The outcome of rounds already run: raises GateError when their samples cannot be compared."""
    found = paired(ran)
    cases, by_pair, asked, pair_ids = found
    judged, batching_notes = judge_speed(found, args)
    diffs, notes, words = [], list(batching_notes), {}
    for case in cases:
        base, head = [
            [by_pair[name][k][case] for k in pair_ids if case in by_pair[name][k]] for name in ("base", "head")
        ]
        notes += [
            f"{name}: {case}'s predictions differ between rounds"
            for name, s in (("base", base), ("head", head))
            if _varies(s)
        ]
        if base[0].predicted and head[0].predicted:
            try:
                diffs.append(accuracy.diff(case, base[0].words, base[0].gold, base[0].predicted, head[0].predicted))
            except ValueError as error:
                raise GateError(str(error)) from None
            words[case] = base[0].words
    notes += _narrowed(asked)
    failing = [str(r.directory / "pytest.log") for r in ran if r.side == "head" and r.returncode != 0]
    notes += [
        f"round {r.index:02d} ({r.side}): its partner process went after {r.unpaired_after} timed calls; the rest "
        "were timed alone, unpaired (see both rounds' pytest.log)"
        for r in ran
        if r.unpaired_after is not None
    ]
    notes += [f"an F1 floor was broken on the base too: {line}" for line in _floors(ran, "base")]
    notes += _not_run(ran)
    return verdict.Outcome(
        base={"revision": sides["base"].revision, "commit": sides["base"].commit},
        head={"revision": sides["head"].revision, "commit": sides["head"].commit},
        pairs=len(pair_ids),
        looks=(args.min_pairs, args.max_pairs),
        wait=args.wait,
        setup=args.setup,
        prior_df=args.prior_df,
        min_effect=args.min_effect / 100,
        exact=args.exact,
        settings=settings,
        machine=machine,
        speed=judged,
        accuracy=diffs,
        words=words,
        broken_floors=_floors(ran, "head"),
        failing_tests=failing[0] if failing else "",
        notes=notes,
        spent=rounds.time_spent(ran),
    )


def _paired_batches(
    case: str, base: Sequence[CaseSamples], head: Sequence[CaseSamples]
) -> tuple[list[tuple[list[float], list[float]]], int, str]:
    """Each pair's batch times, side by side, the sentences they hold, and a note where not batch by batch.

    One side may have timed more passes over the sample (its ``throughput_batches``, or a nerperf that
    predates it): the passes both made are compared. Batches follow the tokenizer (sub-tokens): a new
    checkpoint or tokenizer batches anew, so batch k is not the same work on both sides; then each
    round's time per sentence over all its passes is compared.
    """
    ours, theirs = base[0].batches, head[0].batches
    pairs = [(list(b.batch_s), list(h.batch_s)) for b, h in zip(base, head, strict=True)]
    common = min(len(ours), len(theirs))
    if ours[:common] == theirs[:common]:
        note = "" if len(ours) == len(theirs) else f"{case}: the sides timed {len(ours)} and {len(theirs)} batches"
        note += f"; the first {common}, timed by both, are compared" if note else ""
        return [(b[:common], h[:common]) for b, h in pairs], sum(len(batch) for batch in ours[:common]), note
    per_sentence = [
        ([sum(b) / sum(map(len, ours))], [sum(h) / sum(map(len, theirs))]) for b, h in pairs
    ]  # fmt: skip
    return (
        per_sentence,
        1,
        f"{case}: the sides batched differently (a new tokenizer?); throughput compared by whole passes",
    )


def _timed_in_every_round(case: str, measure: str, times: Sequence[Sequence[float | None]]) -> bool:
    """Whether every round timed the measure; none did is False; some did is a GateError (never compared)."""
    if all(times):
        return True
    if any(times):
        raise GateError(f"{case}: its {measure} was timed in some rounds only; see the rounds' logs")
    return False


def _common_cases(recorded: dict[str, list[tuple[rounds.Round, dict[str, CaseSamples]]]]) -> list[str]:
    per_side = {}
    for name, found in recorded.items():
        sets = [set(samples) for _, samples in found]
        if any(s != sets[0] for s in sets):
            uneven = sorted(set.union(*sets) - set.intersection(*sets))
            raise GateError(f"the {name} side recorded {', '.join(uneven)} in some rounds only")
        per_side[name] = sets[0]
    if per_side["base"] != per_side["head"]:
        only = {n: sorted(per_side[n] - per_side[o]) for n, o in (("base", "head"), ("head", "base"))}
        listed = "; ".join(f"on the {n} side only: {', '.join(c)}" for n, c in only.items() if c)
        raise GateError(f"the sides ran different cases ({listed}); compare the same cases, or gate them apart")
    if not per_side["base"]:
        raise GateError(
            "no samples: neither side ran a nerperf benchmark; do the PYTEST_ARGS select the suite "
            "(e.g. -- tests/test_ner_models.py), and can its cases run here (see the logs)?"
        )
    order = list(recorded["base"][0][1])
    return [case for case in order if case in per_side["base"]]


def _narrowed(asked: dict[int, tuple[tuple[str, ...], tuple[str, ...]]]) -> list[str]:
    """The pairs that timed some measures or cases only, said once per stretch.

    >>> _narrowed({0: ((), ()), 1: ((), ()), 2: (("throughput",), ()), 3: (("throughput",), ())})
    ['pairs 3-4 timed throughput only: every other comparison was decided']
    >>> _narrowed({0: ((), ()), 1: (("latency", "throughput"), ("x-int8",))})
    ['pair 2 timed latency and throughput of x-int8 only: every other comparison was decided']
    >>> _narrowed({0: ((), ()), 1: (TIMED, ()), 2: (TIMED, ())})
    []
    """
    stretches: dict[tuple[tuple[str, ...], tuple[str, ...]], list[int]] = {}
    for pair in sorted(asked):
        if asked[pair] not in (((), ()), (TIMED, ())):  # every timing measure: only the floors were left out
            stretches.setdefault(asked[pair], []).append(pair + 1)
    said = []
    for (measures, cases), pairs in stretches.items():
        where = f"pair {pairs[0]}" if len(pairs) == 1 else f"pairs {pairs[0]}-{pairs[-1]}"
        what = " and ".join(measures) + (f" of {', '.join(cases)}" if cases else "")
        said.append(f"{where} timed {what} only: every other comparison was decided")
    return said


def _varies(samples: list[CaseSamples]) -> bool:
    return any(s.predicted and s.predicted != samples[0].predicted for s in samples)


def _floors(ran: Sequence[rounds.Round], side: str) -> list[str]:
    """Every floor broken in any of ``side``'s rounds, as the plugin's summary words it."""
    found: dict[str, None] = {}
    for r in ran:
        if r.side == side:
            for record in r.record.floors:
                if not record["held"]:
                    found[Floor.from_record(record).describe()] = None
    return list(found)


def _not_run(ran: Sequence[rounds.Round]) -> list[str]:
    first = next(r for r in ran if r.side == "head")
    return [f"not run: {line}" for line in first.record.not_run]


def _machine() -> dict[str, Any]:
    from nerperf.machine import cpu_flags, cpu_model, usable_cpus

    relevant = ("avx2", "avx512f", "avx512_vnni", "avx_vnni", "avx512_bf16", "amx_bf16", "amx_int8")
    flags = sorted(f for f in cpu_flags() if f in relevant)
    return {"cpu_model": cpu_model(), "cpu_flags": flags, "cpus": len(usable_cpus())}


def _default_work(repository: Path, cache_dir: str | None) -> Path:
    """Under the cache directory the project's settings name (variable or ini file), else the default one."""
    from nerperf.variants.cache import default_root
    from nerperf.variants.cache_use import GATE

    digest = hashlib.sha256(str(repository).encode()).hexdigest()[:10]
    return absolute(cache_dir or default_root()) / GATE / f"{repository.name}-{digest}"


def _with_seconds(outcome: verdict.Outcome, seconds: float) -> verdict.Outcome:
    return dataclasses.replace(outcome, seconds=seconds)


def _publish(out: Path, json_path: str | None, text: str, document: dict[str, Any]) -> None:
    """summary.md and gate.json in ``out``, the JSON at ``--json`` too, the summary in GitHub's job summary."""
    payload = json.dumps(document, indent=2, sort_keys=True) + "\n"
    write_atomic(out / "summary.md", text)
    write_atomic(out / "gate.json", payload)
    if json_path:
        write_atomic(Path(json_path), payload)
    step_summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if step_summary:
        with open(step_summary, "a", encoding="utf-8") as stream:
            stream.write(text + "\n")
