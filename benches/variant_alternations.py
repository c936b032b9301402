"""Variants against fp32 in alternation, in one run: the median ratio over rounds, batched and at batch 1.

Not a test (a few minutes). The variant table times each variant once, one after another; a close call
between variants on a machine that drifts needs them taken in turns. Each round evaluates every variant
(fp32 first) at batch 1 and batched on the same sentences, the order reversed every other round, and the
speed-ups over fp32 are taken within the round; the medians over rounds are printed, with every round's.

    python benches/variant_alternations.py --architecture bert-base --variants fp32,onnx-int8,openvino-int8
    python benches/variant_alternations.py --model ../shared/models/minilm-l6-conll03 --rounds 5

``--architecture`` times a study architecture with random weights (sequence lengths from the stand-in
tokenizer of ``minilm-l6-conll03``); ``--json FILE`` keeps every round. Runs with 2 threads by default.

A variant may carry a recipe choice that nerperf otherwise makes from the CPU, to measure that choice
on the CPU at hand rather than assume it (each a row of its own):

    python benches/variant_alternations.py --architecture bert-base \
        --variants fp32,int8:engine=x86,int8:engine=onednn,openvino-int8:snippets=on,openvino-int8:snippets=off

``engine=`` is torch ``int8``'s quantized engine (``x86`` is FBGEMM, ``onednn``); ``snippets=`` turns
OpenVINO's snippets ``on`` or ``off`` for its bf16 and int8 models.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import statistics
import sys
from pathlib import Path
from typing import Any
from unittest import mock

SHARED = Path(__file__).resolve().parent.parent.parent / "shared"
FIGURES = ("batched_x_fp32", "batch1_x_fp32", "batch1_mean_x_fp32")
# A recipe choice nerperf makes from the CPU: the function that makes it, and what it returns for a value.
CHOICES: dict[str, tuple[str, dict[str, Any]]] = {
    "engine": ("nerperf.variants.kernels.int8_engine", {"x86": lambda: "x86", "onednn": lambda: "onednn"}),
    "snippets": (
        "nerperf.variants.openvino_variants.snippets_on",
        {"on": lambda low_precision: True, "off": lambda low_precision: False},
    ),
}


def _chosen(row: str) -> tuple[str, tuple[str, Any] | None]:
    """A row's variant, and the patch (target, replacement) that makes its recipe choice (``int8:engine=onednn``);
    ValueError where the row names no variant or a choice this script cannot make."""
    from nerperf.variants import VARIANTS

    variant, _, choice = row.partition(":")
    if variant not in VARIANTS:
        raise ValueError(f"not a variant: {variant} (nerperf variants lists them)")
    if not choice:
        return variant, None
    key, _, value = choice.partition("=")
    if key not in CHOICES or value not in CHOICES[key][1]:
        options = "; ".join(f"{k}={'|'.join(values)}" for k, (_, values) in CHOICES.items())
        raise ValueError(f"{row}: not a recipe choice this script can make ({options})")
    target, values = CHOICES[key]
    return variant, (target, values[value])


def _median_and_rounds(values: list[float]) -> str:
    return f"{statistics.median(values):.2f} ({', '.join(f'{x:.2f}' for x in values)})"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--model", help="a checkpoint directory or hub id")
    source.add_argument("--architecture", help="a study architecture with random weights, e.g. bert-base")
    parser.add_argument("--variants", default="fp32,int8,bf16,onnx-int8,openvino-bf16,openvino-int8")
    parser.add_argument("--data", default=str(SHARED / "data" / "conll2003" / "valid.txt"))
    parser.add_argument("--sentences", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--json", help="write every round's figures here")
    args = parser.parse_args(argv)

    from nerperf.data.conll import read_conll
    from nerperf.evaluation import Preparation, Timing, evaluate
    from nerperf.machine import machine_label
    from nerperf.models.architectures import random_checkpoint
    from nerperf.models.checkpoints import load_checkpoint
    from nerperf.variants import VARIANTS, Context, prepare
    from nerperf.variants.cache import default_root
    from nerperf.variants.calibration import for_evaluation

    if args.architecture:
        checkpoint = random_checkpoint(args.architecture, tokenizer=SHARED / "models" / "minilm-l6-conll03")
    else:
        checkpoint = load_checkpoint(args.model)
    corpus = read_conll(Path(args.data)).head(args.sentences)
    try:
        rows = {row: _chosen(row) for row in args.variants.split(",")}
    except ValueError as error:
        parser.error(str(error))
    names = [row for row, (variant, _) in rows.items() if not VARIANTS[variant].unavailable()]
    names = ["fp32", *[v for v in names if v != "fp32"]]
    rows.setdefault("fp32", ("fp32", None))
    calibration = for_evaluation(args.data, "validation", None, 300, None)
    context = Context(default_root(), args.threads, calibration=calibration)
    rounds: list[dict[str, dict[str, float]]] = []
    for number in range(args.rounds):
        order = names if number % 2 == 0 else [names[0], *reversed(names[1:])]
        found: dict[str, dict[str, float]] = {}
        for name in order:
            variant, patch = rows[name]
            with mock.patch(*patch) if patch else contextlib.nullcontext():
                prepared = prepare(variant, checkpoint, context)  # one variant's runtime alive at a time
            single = evaluate(
                checkpoint,
                corpus,
                variant=variant,
                timing=Timing(batch_size=1, threads=args.threads),
                preparation=Preparation(prepared=prepared),
            )
            batched = evaluate(
                checkpoint,
                corpus,
                variant=variant,
                timing=Timing(threads=args.threads),
                preparation=Preparation(prepared=prepared),
            )
            found[name] = {
                "batched_per_s": batched.speed.samples_per_s,
                "batch1_p50_ms": 1000 * single.speed.latency_p50_s,
                "batch1_mean_ms": 1000 * single.speed.latency_mean_s,  # the variant table's batch-1 figure
                "kernels": batched.build.details.get("kernels", {}).get("isa", "-"),
            }
            del prepared
        for name in names:
            found[name]["batched_x_fp32"] = found[name]["batched_per_s"] / found["fp32"]["batched_per_s"]
            found[name]["batch1_x_fp32"] = found["fp32"]["batch1_p50_ms"] / found[name]["batch1_p50_ms"]
            found[name]["batch1_mean_x_fp32"] = found["fp32"]["batch1_mean_ms"] / found[name]["batch1_mean_ms"]
        rounds.append(found)
    print(f"{checkpoint.name} ({checkpoint.weights} weights), {len(corpus.sentences)} sentences, "
          f"{args.threads} threads, {args.rounds} rounds in alternation; {machine_label()}")  # fmt: skip
    print("variant | kernels | batched x fp32 | batch-1 p50 x fp32 | batch-1 mean x fp32 | batch-1 p50, mean ms"
          "  (each: the median over rounds, then every round)")  # fmt: skip
    for name in names:
        cells = [_median_and_rounds([r[name][key] for r in rounds]) for key in FIGURES]
        p50, mean = (statistics.median(r[name][k] for r in rounds) for k in ("batch1_p50_ms", "batch1_mean_ms"))
        print(f"{name} | {rounds[0][name]['kernels']} | {' | '.join(cells)} | {p50:.1f}, {mean:.1f}")
    if args.json:
        Path(args.json).write_text(json.dumps({"machine": machine_label(), "rounds": rounds}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
