"""``nerperf eval``: argument parsing and printing only; the work is :func:`nerperf.evaluation.evaluate`'s."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from nerperf.metrics import MODES
from nerperf.schemes import SCHEMES
from nerperf.settings import positive_int


def non_negative_int(text: str) -> int:
    return 0 if text.strip() == "0" else positive_int(text)


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
        help="fp32, int8, onnx, onnx-int8 or bf16 (see `nerperf variants`) (default: fp32)",
    )
    run.add_argument(
        "--cache-dir",
        default=None,
        metavar="DIR",
        help="where built variants are cached (default: $NERPERF_CACHE or ~/.cache/nerperf)",
    )
    run.add_argument(
        "--random-weights",
        action="store_true",
        help="time the model's architecture with random weights: no accuracy figures (default: off)",
    )
    run.add_argument(
        "--tokenizer",
        default=None,
        metavar="PATH",
        help="with --random-weights: stand-in tokenizer (checkpoint directory) where the model's own is not "
        "available offline (default: none)",
    )
    run.add_argument(
        "--data",
        required=True,
        metavar="PATH_OR_ID",
        help="CoNLL file, directory of split files (train.txt/valid.txt/test.txt), or hub dataset id",
    )
    run.add_argument(
        "--split",
        default="validation",
        metavar="NAME",
        help="split of a directory or hub dataset: train, validation, test (default: validation)",
    )
    run.add_argument(
        "--limit",
        type=positive_int,
        default=None,
        metavar="N",
        help="first N sentences only; the study used 1000 (default: the whole split)",
    )
    run.add_argument(
        "--batch-size", type=positive_int, default=32, metavar="N", help="sentences per batch (default: 32)"
    )
    run.add_argument(
        "--threads", type=positive_int, default=None, metavar="N", help="torch intra-op threads (default: torch's)"
    )
    run.add_argument("--scheme", choices=SCHEMES, default="auto", help="tag scheme of the data (default: auto-detect)")
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
        "inputs", nargs="+", metavar="FILE", help="result files; a later one's case replaces an earlier one's"
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
        "--published",
        default=None,
        metavar="FILE",
        help='JSON of published figures to show beside the measured, {"bert-base-ner": {"f1": ...}} (default: none)',
    )
    commands.add_parser(
        "variants",
        help="list the variants and whether each can run here",
        description="List nerperf's variants and, for those that cannot run on this machine, why.",
    )
    return parser


def list_variants() -> int:
    from nerperf.variants import VARIANTS

    width = max(map(len, VARIANTS))
    for variant in VARIANTS.values():
        print(f"{variant.name.ljust(width)}  {variant.summary}")
        reason = variant.unavailable()
        if reason:
            print(f"{' ' * width}  unavailable here: {reason}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    try:
        return dispatch(build_parser().parse_args(argv))
    except KeyboardInterrupt:
        print("nerperf: interrupted; files from earlier runs are as they were", file=sys.stderr)
        return 130


def dispatch(args: argparse.Namespace) -> int:
    if args.command == "variants":
        return list_variants()
    if args.command == "report":
        return write_report(args)
    from nerperf.architectures import random_checkpoint
    from nerperf.atomic import check_writable
    from nerperf.errors import input_errors
    from nerperf.evaluation import evaluate
    from nerperf.table import notes, per_type, table5

    for option, path in (("--json", args.json), ("--predictions", args.predictions)):
        if not path:
            continue
        try:
            check_writable(Path(path))  # before minutes of work, not after
        except OSError as error:
            print(f"nerperf: error: {option} {path}: cannot write there ({error.strerror or error})", file=sys.stderr)
            return 2
    try:
        model = random_checkpoint(args.model, args.tokenizer) if args.random_weights else args.model
        result = evaluate(
            model,
            args.data,
            split=args.split,
            limit=args.limit,
            batch_size=args.batch_size,
            threads=args.threads,
            scheme=args.scheme,
            mode=args.mode,
            bootstrap=args.bootstrap,
            seed=args.seed,
            variant=args.variant,
            cache_dir=args.cache_dir,
            predictions_to=args.predictions,
        )
    except input_errors() as error:
        print(f"nerperf: error: {error}", file=sys.stderr)
        return 2
    print(table5([result]))
    print()
    print(per_type(result))
    print()
    print("\n".join(notes(result)))
    if args.json:
        result.save(args.json)
        print(f"wrote {args.json}")
    return 0


def write_report(args: argparse.Namespace) -> int:
    from nerperf import report

    try:
        found = report.read([Path(p) for p in args.inputs])
        published = report.read_published(Path(args.published)) if args.published else None
        paths = report.write(found, Path(args.out), args.baseline, args.title, published)
    except report.ReportError as error:
        print(f"nerperf: error: {error}", file=sys.stderr)
        return 2
    print("\n".join(f"wrote {p}" for p in paths))
    return 0


if __name__ == "__main__":
    sys.exit(main())
