"""The ``nerperf`` command: argument parsing and printing only; the work is the modules' it calls.

``nerperf eval`` (:func:`nerperf.evaluation.evaluate`), ``nerperf report`` (:mod:`nerperf.report`),
``nerperf cases`` (:func:`nerperf.cases.select`), ``nerperf variants`` (:mod:`nerperf.variants`) and
``nerperf gate`` and ``nerperf bisect`` (:mod:`nerperf.gate`), ``nerperf cache`` (:mod:`nerperf.variants.cache_use`).
Options that are settings (``--sentences``, ``--batch-size``, ``--cache-dir`` ...) take their names,
defaults and parsing from :mod:`nerperf.settings`, and read the same ``NERPERF_*`` variables as the
plugin. Bad input exits 2 with its message; Ctrl-C exits 130.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from nerperf import settings
from nerperf.data.metrics import MODES
from nerperf.errors import NerperfInputError, Unavailable, caused_by_ctrl_c

EVAL_SETTINGS = (
    "data",
    "split",
    "word_column",
    "tag_column",
    "comment_prefix",
    "encoding",
    "tag_scheme",
    "label_map",
    "sentences",
    "batch_size",
    "max_tokens",
    "threads",
    "cache_dir",
    "memory_limit",
    "calibration_data",
    "calibration_sentences",
    "random_weights",
    "stand_in_tokenizer",
)
# Older spellings that keep working: --limit and --tokenizer before nerperf 0.2, --scheme before 0.3.
OLD_SPELLINGS = {"sentences": "--limit", "stand_in_tokenizer": "--tokenizer", "tag_scheme": "--scheme"}


def non_negative_int(text: str) -> int:
    return 0 if text.strip() == "0" else settings.positive_int(text)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="nerperf", description="NER accuracy and speed benchmarks.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    run = commands.add_parser(
        "eval",
        help="evaluate a checkpoint on a CoNLL split",
        description="Evaluate a token-classification checkpoint on a CoNLL-2003 split: the study's "
        "accuracy, precision, recall, F1 (seqeval), total time, samples/s and latency.",
    )
    run.add_argument(
        "--model",
        required=True,
        metavar="PATH_OR_ID",
        help="checkpoint directory or hub id; with --random-weights also a study architecture name (bert-base, ...)",
    )
    run.add_argument(
        "--variant",
        default="fp32",
        metavar="NAME",
        help="fp32, int8, onnx-int8, openvino-int8, ... (all: `nerperf variants`) (default: fp32)",
    )
    settings.add_arguments(run, EVAL_SETTINGS, OLD_SPELLINGS)
    _set_help(
        run,
        "sentences",
        "first N sentences, or all (default: all: the whole file or split, as evaluation tools score a file "
        f"named to them; the plugin's default is the study's {settings.BY_NAME['sentences'].default})",
    )
    run.add_argument(
        "--mode",
        choices=MODES,
        default="conlleval",
        help="seqeval matching: conlleval (seqeval default, as the study) or strict IOB2 (default: conlleval)",
    )
    run.add_argument(
        "--bootstrap",
        type=non_negative_int,
        default=0,
        metavar="N",
        help="add a 95%% bootstrap interval for F1 from N resamples, e.g. 1000 (default: 0, off)",
    )
    run.add_argument("--seed", type=int, default=0, metavar="N", help="bootstrap seed (default: 0)")
    run.add_argument("--json", default=None, metavar="FILE", help="also write the result as JSON (default: none)")
    run.add_argument(
        "--predictions",
        default=None,
        metavar="FILE",
        help="also write WORD GOLD PREDICTED lines, conlleval's input, for error analysis (default: none)",
    )
    report = commands.add_parser(
        "report",
        help="write the study's table and figures from earlier runs (Markdown and HTML)",
        description="Read nerperf results (a pytest-benchmark JSON of nerperf's benchmarks, the plugin's "
        "results.json, or `nerperf eval --json` files) and write report.md, a self-contained report.html and "
        "figures/ (the study's Table 5 and Figures 3-5, and the F1-against-throughput Pareto frontier).",
    )
    report.add_argument(
        "inputs",
        nargs="+",
        metavar="[MACHINE=]FILE",
        help="result files; a later one's case replaces an earlier one's on the same machine. Results of several "
        "machines are kept apart, by the machine each recorded or the MACHINE given before its file",
    )
    report.add_argument(
        "--out", default="nerperf-report", metavar="DIR", help="output directory (default: nerperf-report)"
    )
    report.add_argument(
        "--baseline",
        default=None,
        metavar="ID",
        help="checkpoint-variant id the ratios are against (default: the run's, else bert-base-ner-fp32, else first)",
    )
    report.add_argument("--title", default="nerperf report", help="the page's title (default: nerperf report)")
    report.add_argument(
        "--asv",
        default=None,
        metavar="DIR",
        help="asv's published pages (asv publish's html_dir, e.g. .asv/html): list the steps asv found in its "
        "history, each with the nerperf bisect command that finds its commit (default: none)",
    )
    report.add_argument(
        "--published",
        default=None,
        metavar="FILE",
        help='JSON of published figures to show beside the measured, {"bert-base-ner": {"f1": ...}} (default: none)',
    )
    commands.add_parser(
        "cases",
        help="list the checkpoint × variant cases this project's pytest run would test",
        description="The cases the plugin would parametrize its tests over, from NERPERF_* variables and the "
        "nerperf_* keys of the pytest ini file found from here upwards (not from conftest.py hooks), and "
        "which of them cannot run on this machine, and why.",
    )
    commands.add_parser(
        "variants",
        help="list the variants and whether each can run here",
        description="List nerperf's variants; for those that cannot run on this machine, why; for those whose "
        "recipe depends on the CPU, what it is here.",
    )
    parallel = commands.add_parser(
        "parallel",
        help="run the suite in N pytest processes on this machine, each on its own cores, and merge them",
        description="Run `pytest --benchmark-only` in N processes, part K of N of the cases each "
        "(--nerperf-shard K/N: whole checkpoints), each pinned to its own cores with as many threads, then "
        "merge their results into OUT/report and print the floors every part checked. Instead of "
        "pytest-xdist, under which pytest-benchmark times nothing. Usage: nerperf parallel N [--out DIR] "
        "[-- PYTEST_ARGS]",
    )
    parallel.add_argument("parts", type=int, metavar="N", help="processes, at most the cores available")
    parallel.add_argument(
        "--out", default="nerperf-parallel", metavar="DIR", help="parts' logs and results, and the merged report"
    )
    cache = commands.add_parser(
        "cache",
        help="what nerperf's cache holds (built variants, gate work directories), and removing what went unused",
        description="List what the cache directory holds, largest first: built variants (ONNX exports, "
        "quantized graphs), nerperf gate's work directories (checkouts and environments) and what killed "
        "builds left, each with its size and the days since its last use; with --remove-unused-for DAYS, "
        "remove those unused for at least DAYS days (never an entry a running process holds).",
    )
    cache.add_argument(
        "--cache-dir",
        metavar="DIR",
        help="(default: the cache_dir setting: $NERPERF_CACHE_DIR, or the ini file's nerperf_cache_dir; else "
        "$XDG_CACHE_HOME/nerperf or ~/.cache/nerperf)",
    )
    cache.add_argument(
        "--remove-unused-for", type=settings.positive_int, metavar="DAYS", help="remove what went unused this long"
    )
    from nerperf.gate.bisect_command import add_parser as add_bisect_parser
    from nerperf.gate.command import add_parser as add_gate_parser
    from nerperf.tune.command import add_parser as add_tune_parser

    add_gate_parser(commands)
    add_bisect_parser(commands)
    add_tune_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from nerperf.gate.command import split_pytest_args

    own, pytest_args = split_pytest_args(sys.argv[1:] if argv is None else argv)
    try:
        args = build_parser().parse_args(own)
        args.pytest_args = pytest_args
        status = dispatch(args)
        sys.stdout.flush()  # here, where a closed pipe is caught, not at exit
        return status
    except (KeyboardInterrupt, ImportError) as stop:
        if not caused_by_ctrl_c(stop):
            raise
        print("nerperf: interrupted; files from earlier runs are as they were", file=sys.stderr)
        return 130
    except (NerperfInputError, Unavailable) as error:
        print(f"nerperf: error: {error}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # `nerperf variants | head`: the reader has what it wanted
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error as Python flushes
        return 141  # as a shell reports a process ended by SIGPIPE


def dispatch(args: argparse.Namespace) -> int:
    if args.command == "variants":
        return list_variants()
    if args.command == "cases":
        return list_cases()
    if args.command == "report":
        return write_report(args)
    if args.command == "cache":
        return show_cache(args.cache_dir, args.remove_unused_for)
    if args.command == "parallel":
        from nerperf.processes import parallel

        return parallel.run(args.parts, Path(args.out), args.pytest_args)
    if args.command == "gate":
        from nerperf.gate.command import run_gate
        from nerperf.gate.options import GateOptions

        return run_gate(GateOptions.from_args(args))
    if args.command == "bisect":
        from nerperf.gate.bisect_command import run_bisect

        return run_bisect(args)
    if args.command == "tune":
        from nerperf.tune.command import run_tune

        return run_tune(args)
    return evaluate_one(args)


def _set_help(parser: argparse.ArgumentParser, dest: str, text: str) -> None:
    (action,) = [a for a in parser._actions if a.dest == dest]
    action.help = text


def evaluate_one(args: argparse.Namespace) -> int:
    from nerperf import progress
    from nerperf.atomic import check_writable
    from nerperf.data.conll import data_format
    from nerperf.evaluation import Outputs, Preparation, Scoring, Timing, evaluate
    from nerperf.models.architectures import random_checkpoint
    from nerperf.report.tables import notes, per_type, semeval_table, table5

    chosen = settings.from_arguments(args)
    for option, path in (("--json", args.json), ("--predictions", args.predictions)):
        if not path:
            continue
        try:
            check_writable(Path(path))  # before minutes of work, not after
        except OSError as error:
            print(f"nerperf: error: {option} {path}: cannot write there ({error.strerror or error})", file=sys.stderr)
            return 2
    model = (
        random_checkpoint(args.model, chosen.stand_in_tokenizer, memory_limit=chosen.memory_limit)
        if chosen.random_weights
        else args.model
    )
    status = progress.on_stream(sys.stderr)  # what is being done, on a terminal only
    try:
        result = evaluate(
            model,
            chosen.data,
            split=chosen.split,
            # A file named to nerperf eval is scored whole unless told otherwise (NERPERF_SENTENCES, --sentences).
            limit=chosen.sentences if chosen.where("sentences") != "default" else None,
            data_format=data_format(chosen),
            variant=args.variant,
            timing=Timing.from_settings(chosen),
            scoring=Scoring(args.mode, args.bootstrap, args.seed),
            preparation=Preparation.from_settings(chosen),
            outputs=Outputs(status, predictions_to=args.predictions),
        )
    finally:
        status.clear()  # before the table, or before an error's message
    print(table5([result]))
    print()
    print(per_type(result))
    print()
    second = semeval_table([(result.checkpoint, result)])
    if second:
        print(second)
        print()
    print("\n".join(notes(result)))
    if args.json:
        result.save(args.json)
        print(f"wrote {args.json}")
    return 0


def write_report(args: argparse.Namespace) -> int:
    from nerperf.report import merge, pages

    paths, labels = zip(*(_labelled(given) for given in args.inputs), strict=True)
    found = merge.read(list(paths), list(labels))
    published = pages.read_published(Path(args.published)) if args.published else None
    steps = _history_steps(args.asv) if args.asv else ()
    paths = pages.write(found, Path(args.out), args.baseline, args.title, published, steps)
    print("\n".join(f"wrote {p}" for p in paths))
    return 0


def _history_steps(html: str) -> tuple[str, ...]:
    """Each step asv's published pages found, with the command that bisects it (for the report's facts)."""
    from nerperf.gate.bisect import asv_steps

    found = asv_steps(Path(html))
    if not found:
        return (f"asv found no step in its history ({html}).",)
    return tuple(
        f"A step in asv's history: {step.describe()}; its commit: nerperf bisect --from-asv {html} --step {k}"
        for k, step in enumerate(found, start=1)
    )


def _labelled(given: str) -> tuple[Path, str | None]:
    """``MACHINE=FILE`` -> (FILE, MACHINE); a plain FILE (even one whose name holds "=") -> (FILE, None)."""
    label, sep, path = given.partition("=")
    if not sep or Path(given).exists() or not label.strip():
        return Path(given), None
    return Path(path), label.strip()


def list_variants() -> int:
    from nerperf.variants import VARIANTS

    width = max(map(len, VARIANTS))
    for variant in VARIANTS.values():
        print(f"{variant.name.ljust(width)}  {variant.summary}")
        reason = variant.unavailable()
        if reason:
            print(f"{' ' * width}  unavailable here: {reason}")
        elif variant.here():
            print(f"{' ' * width}  here: {variant.here()}")
    return 0


def show_cache(cache_dir: str | None, remove_unused_for: int | None) -> int:
    import time

    from nerperf.ini_file import project_settings
    from nerperf.plain_table import render
    from nerperf.variants.cache import default_root
    from nerperf.variants.cache_use import remove_unused, survey

    root = Path(cache_dir or project_settings(Path.cwd()).cache_dir or default_root())
    now = time.time()
    held = survey(root)
    if not held:
        print(f"nerperf cache: {root}: nothing cached")
        return 0
    rows = [
        [str(h.path.relative_to(root)), h.kind, f"{h.size_bytes / 1e6:.1f}", f"{h.unused_days(now):.0f}"] for h in held
    ]
    print(render(rows, ["Path", "Kind", "MB", "Days unused"]))
    print(f"nerperf cache: {root}: {_parts(len(held))}, {sum(h.size_bytes for h in held) / 1e6:.1f} MB")
    if remove_unused_for is not None:
        removed, busy = remove_unused(root, remove_unused_for, now)
        freed, days = sum(h.size_bytes for h in removed) / 1e6, remove_unused_for
        print(f"nerperf cache: removed {_parts(len(removed))} unused for {days} days or more ({freed:.1f} MB)")
        for h in busy:
            print(f"nerperf cache: kept {h.path}: a running process holds it (building it?); try again later")
    return 0


def _parts(count: int) -> str:
    return f"{count} part{'' if count == 1 else 's'}"


def list_cases() -> int:
    from nerperf.cases import select, unavailable_variant
    from nerperf.ini_file import project_settings

    chosen = project_settings(Path.cwd())
    selection = select(chosen)
    print(f"baseline: {selection.baseline.name} ({chosen.where('baseline')})")
    for case in selection.cases:
        reason = unavailable_variant(case)
        print(f"{case.id}  {case.spec.source}" + (f"  ({reason})" if reason else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
