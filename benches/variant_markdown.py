"""The variant table of docs/measurements.md: each variant's F1, speed-ups over fp32 and share of its data type's peak.

Rendering only, for ``test_variant_table.py``; the peaks are :mod:`peaks`', the cells' format
:mod:`nerperf.report.tables`'.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from peaks import Peaks, share

from nerperf.report.tables import kernels_cell, markdown, model_label
from nerperf.results import EvalResult

VARIANT_COLUMNS = (
    "Model",
    "Variant",
    "F1",
    "ΔF1 (points)",
    "Batched sentences/s",
    "× fp32",
    "Batch-1 latency (ms)",
    "× fp32",
    "Peak (type)",
    "Kernels",
    "% of peak, batch 1 / batched",
    "Size (MB)",
    "Peak memory (held at start), MB",
)


def variant_table(runs: Sequence[tuple[EvalResult, EvalResult]], peaks: Peaks) -> str:
    """Markdown: each (batch-1, batched) pair of runs against the same checkpoint's fp32 pair.

    Speed-ups are fp32 over the variant (above 1: faster). The peak share is the matrix-multiply work over the
    model's own time (tokenization excluded), over the peak of the data type the variant computes in (fp32 for
    ``fp32`` and ``onnx``, bf16, int8); "beat the peak" where it exceeds it. Peak memory is the batched run's,
    which runs after the batch-1 run has built the variant: the process's resident peak while running it (the
    fp32 checkpoint included).
    """
    reference = {(s.checkpoint, s.weights): (s, b) for s, b in runs if s.variant == "fp32"}
    rows = []
    for single, batched in runs:
        ref_single, ref_batched = reference[(single.checkpoint, single.weights)]
        data_type, peak = peaks.of_variant(single.variant)
        f1, ref_f1 = batched.f1, ref_batched.f1
        rows.append(
            [
                model_label(single).replace(single.checkpoint, short_name(single.checkpoint)),
                single.variant,
                f"{f1:.4f}" if f1 is not None else "-",
                f"{100 * (f1 - ref_f1):+.2f}" if f1 is not None and ref_f1 is not None else "-",
                f"{batched.speed.samples_per_s:.1f}",
                f"{batched.speed.samples_per_s / ref_batched.speed.samples_per_s:.2f}",
                f"{1000 * single.speed.latency_mean_s:.1f}",
                f"{ref_single.speed.latency_mean_s / single.speed.latency_mean_s:.2f}",
                data_type,
                kernels_cell(batched),
                f"{share(achieved(single), peak)} / {share(achieved(batched), peak)}",
                f"{single.build.size_bytes / 1e6:.0f}",
                f"{batched.memory.peak_bytes / 1e6:.0f} ({batched.memory.start_bytes / 1e6:.0f})",
            ]
        )
    return markdown(rows, VARIANT_COLUMNS)


def short_name(checkpoint: str) -> str:
    """A local checkpoint directory's own name (``../shared/models/x`` -> ``x``); hub ids unchanged."""
    path = Path(checkpoint)
    return path.name if path.is_dir() else checkpoint


def achieved(result: EvalResult) -> float:
    """The run's matrix-multiply rate in GOP/s over the model's own time (0 where it took none)."""
    return result.speed.matmul_gflop / result.speed.model_s if result.speed.model_s else 0.0
