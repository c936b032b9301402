"""Plain-text tables of :class:`EvalResult`: the study's Table 5 row, per-type scores, coverage notes.

Rendering only; the figures come from :mod:`nerperf.evaluation`. The run summary the plugin prints
at the end of a run (and writes as summary.md) is here too.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nerperf.plain_table import render
from nerperf.results import EvalResult

if TYPE_CHECKING:
    from nerperf.floors import Floor
    from nerperf.models.registry import Published

TABLE5_COLUMNS = (
    "Model",
    "Variant",
    "Accuracy",
    "Precision",
    "Recall",
    "F1",
    "Total time (s)",
    "Samples/s",
    "Latency (s)",
    "p90 latency (s)",
)


def table5(results: Sequence[EvalResult]) -> str:
    """The study's Table 5 (one row per result), plus p90 latency."""
    rows = [
        [
            model_label(r),
            r.variant,
            *_accuracy_cells(r),
            f"{r.speed.total_s:.2f}",
            f"{r.speed.samples_per_s:.1f}",
            f"{r.speed.latency_mean_s:.4f}",
            f"{r.speed.latency_p90_s:.4f}",
        ]
        for r in results
    ]
    return render(rows, TABLE5_COLUMNS)


def model_label(result: EvalResult) -> str:
    """The checkpoint's name, marked wherever its weights were random (its scores mean nothing)."""
    return result.checkpoint + (" (random weights)" if result.weights == "random" else "")


def _accuracy_cells(result: EvalResult) -> list[str]:
    s = result.scores
    if s is None:
        return ["-"] * 4
    return [f"{s.accuracy:.4f}", f"{s.precision:.4f}", f"{s.recall:.4f}", f"{s.f1:.4f}"]


def per_type(result: EvalResult) -> str:
    if result.scores is None:
        return "no per-type scores: random weights"
    rows = [
        [name, f"{s.precision:.4f}", f"{s.recall:.4f}", f"{s.f1:.4f}", str(s.support)]
        for name, s in result.scores.per_type.items()
    ]
    return render(rows, ("Type", "Precision", "Recall", "F1", "Support"))


SEMEVAL_COLUMNS = (
    "Model",
    "Variant",
    "Strict F1",
    "Exact F1",
    "Partial F1",
    "Type F1",
    "Correct",
    "Incorrect",
    "Partial",
    "Missed",
    "Spurious",
)


SEMEVAL_CAPTION = (
    "SemEval-2013 schemes (nervaluate) and error kinds: correct; incorrect = right span, wrong type; "
    "partial = overlapping span; missed; spurious"
)


def semeval_rows(results: Sequence[tuple[str, EvalResult]]) -> list[list[str]]:
    """One row per (label, result) with its SemEval schemes' F1 and its error kinds (see nerperf.data.semeval)."""
    rows = []
    for label, r in results:
        if r.schemes is None or r.errors is None:
            continue
        e = r.errors
        rows.append(
            [
                label,
                r.variant,
                *(f"{r.schemes[name].f1:.4f}" for name in ("strict", "exact", "partial", "type")),
                *(str(n) for n in (e.correct, e.incorrect, e.partial, e.missed, e.spurious)),
            ]
        )
    return rows


def semeval_table(results: Sequence[tuple[str, EvalResult]]) -> str:
    """The compact second table: partial credit and where the errors are (nothing without scores)."""
    rows = semeval_rows(results)
    if not rows:
        return ""
    return SEMEVAL_CAPTION + "\n" + render(rows, SEMEVAL_COLUMNS)


def scored_sentences(result: EvalResult) -> str:
    """``1000 of 3453 sentences (the first; --sentences N or all)``, or ``3453 of 3453 sentences``."""
    total = result.sentences_in_data
    if not total:  # a result from before nerperf 0.5 did not record it
        return f"{result.sentences} sentences"
    if result.sentences < total:
        return f"{result.sentences} of {total} sentences (the first; --sentences N or all sets how many)"
    return f"{result.sentences} of {total} sentences"


def kernels_cell(result: EvalResult) -> str:
    """The instruction-set class the variant's matrix multiplies ran on (``amx``, ``avx512-vnni``, ...), as
    its runtime reported it; ``-`` for a result from before nerperf 0.7."""
    return str(result.build.details.get("kernels", {}).get("isa", "-"))


def calibrated_on(calibration: dict[str, Any]) -> str:
    """``300 sentences of ../data/train.txt``: what a statically quantized variant calibrated on."""
    source = str(calibration.get("data"))
    split = "" if Path(source).is_file() else f" [{calibration.get('split')}]"  # a file is read whole
    return f"{calibration.get('sentences')} sentences of {source}{split} (sha256 {calibration.get('sha256')})"


def notes(result: EvalResult) -> list[str]:
    """Everything a reader must know to trust the figures, one line each."""
    s, c, b, m = result.speed, result.coverage, result.build, result.memory
    lines = [
        f"data: {result.data}"
        + (f" [{result.split}]" if result.split else "")
        + f", {scored_sentences(result)}, {c.words} words, tags read as {result.data_scheme}",
        f"matching: seqeval {result.scores.mode} mode, {result.scores.scheme}"
        if result.scores is not None
        else "WARNING: random weights: timed only, no accuracy figures",
        f"variant: {result.variant}, {b.size_bytes / 1e6:.1f} MB"
        + (f", built in {b.build_s:.1f} s" if b.build_s else "")
        + (" (reused from the cache)" if b.from_cache else "")
        + f"; peak memory {m.peak_bytes / 1e6:.0f} MB ({m.start_bytes / 1e6:.0f} MB held at the start)",
        f"timing: {s.batching()}, {s.threads} threads, every batch shape warmed first ({s.warmup_batches} untimed); "
        f"tokenization {s.tokenize_s:.2f} s, model {s.model_s:.2f} s; p50/p90/p99 latency "
        f"{s.latency_p50_s * 1000:.1f}/{s.latency_p90_s * 1000:.1f}/{s.latency_p99_s * 1000:.1f} ms",
    ]
    kernels = b.details.get("kernels")
    if kernels:
        lines.append(f"kernels: {kernels.get('isa')} ({kernels.get('source')})")
    calibration = b.details.get("calibration")
    if calibration:
        lines.append(f"calibrated on: {calibrated_on(calibration)}")
    if result.environment.get("cpu"):
        lines.append(f"machine: {result.environment['cpu']}")
    if result.tokenizer:
        lines.append(f"sequence lengths from a stand-in tokenizer: {result.tokenizer}")
    if result.f1_ci95 is not None:
        lines.append(f"F1 95% bootstrap interval: {result.f1_ci95[0]:.4f} to {result.f1_ci95[1]:.4f}")
    if c.windowed_sentences:
        lines.append(
            f"{c.windowed_sentences} sentences were longer than the model window: predicted in overlapping windows"
        )
    if c.unaligned_words:
        blank = f", {c.blank_words} of them empty or only whitespace in the data" if c.blank_words else ""
        lines.append(f"WARNING: {c.unaligned_words} words produced no sub-token and were scored as O{blank}")
    if c.trailing_separators:
        lines.append(
            f"{c.trailing_separators} token lines ended in empty fields (a trailing tab), read as absent fields"
        )
    if c.dropped_predictions:
        dropped = ", ".join(f"{k}: {v}" for k, v in c.dropped_predictions.items())
        lines.append(f"WARNING: predictions of types the data lacks were scored as O ({dropped})")
    if c.unpredictable_types:
        lines.append(f"WARNING: the model cannot predict {', '.join(c.unpredictable_types)}: scored as misses")
    read_as = {k: v for k, v in result.data_format.items() if k != "label_map"}
    if read_as:
        lines.append("data read with " + ", ".join(f"{k}={v!r}" for k, v in read_as.items()))
    if result.data_format.get("label_map"):
        renames = ", ".join(f"{k}={v}" for k, v in result.data_format["label_map"].items())
        lines.append(f"label map (data and model): {renames}")
    if c.dropped_gold:
        dropped = ", ".join(f"{k}: {v}" for k, v in c.dropped_gold.items())
        lines.append(f"gold entities the label map drops (mapped to O), left out of every score: {dropped}")
    if c.unused_label_map:
        lines.append(
            f"WARNING: the label map names {', '.join(c.unused_label_map)}, found neither in the data nor in the "
            "model's labels"
        )
    return lines


def markdown(rows: Sequence[Sequence[str]], header: Sequence[str]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return "\n".join(lines + ["| " + " | ".join(str(c) for c in row) + " |" for row in rows])


SUMMARY_COLUMNS = (
    "Checkpoint-variant",
    *TABLE5_COLUMNS[2:9],  # accuracy to latency, the study's
    "Latency p50 / p90 / p99 (ms)",
    "Size (MB)",
    "Peak memory (MB)",
    "ΔF1 vs baseline (points)",
    "Samples/s × baseline",
    "Kernels",
)


@dataclass(frozen=True)
class RunSummary:
    """What a pytest run of nerperf found: named results, and what the summary prints beside them."""

    results: Sequence[tuple[str, EvalResult]]  # (checkpoint-variant id, its evaluation), in run order
    baseline: str  # the baseline's id
    latency: Mapping[str, Mapping[int, float]] = field(default_factory=dict)  # id -> batch-1 percentiles (s)
    published: Mapping[str, Published] = field(default_factory=dict)  # fp32 id -> the study's figures
    not_run: Sequence[str] = ()
    floors: Sequence[Floor] = ()
    machines: Mapping[str, str] = field(default_factory=dict)  # id -> machine, where results span several
    case_ids: Mapping[str, str] = field(default_factory=dict)  # id -> checkpoint-variant id, likewise

    def baseline_of(self, name: str) -> EvalResult | None:
        """The baseline measured on ``name``'s machine: a ratio is taken within one machine, never across."""
        case = self.case_ids.get(self.baseline, self.baseline)
        machine = self.machines.get(name)
        for other, result in self.results:
            if self.case_ids.get(other, other) == case and self.machines.get(other) == machine:
                return result
        return None

    def is_baseline(self, name: str) -> bool:
        return self.case_ids.get(name, name) == self.case_ids.get(self.baseline, self.baseline)

    def machine_names(self) -> list[str]:
        """The machines the results came from, in the order first seen."""
        return list(dict.fromkeys(self.machines[name] for name, _ in self.results if name in self.machines))

    def speedups(self) -> dict[tuple[str, str], dict[str, tuple[float, float | None]]]:
        """(checkpoint, variant) -> machine -> (batched, batch-1 p50) speed-up over the same checkpoint's
        fp32 on the same machine; batch-1 is None where either was not timed at batch size 1."""
        by_case = {(self.case_ids.get(name, name), self.machines.get(name, "")): (name, r) for name, r in self.results}
        found: dict[tuple[str, str], dict[str, tuple[float, float | None]]] = {}
        for (case_id, machine), (name, r) in by_case.items():
            checkpoint = case_id.removesuffix(f"-{r.variant}")
            reference = by_case.get((f"{checkpoint}-fp32", machine))
            if r.variant == "fp32" or reference is None:
                continue
            ref_name, ref = reference
            single = None
            if name in self.latency and ref_name in self.latency:
                single = self.latency[ref_name][50] / self.latency[name][50]
            batched = r.speed.samples_per_s / ref.speed.samples_per_s
            found.setdefault((checkpoint, r.variant), {})[machine] = (batched, single)
        return found


MACHINES_CAPTION = (
    "Speed-up over fp32 per machine: each variant's throughput (batched) and batch-1 median latency against "
    "the same checkpoint's fp32 measured on the same machine (above 1: faster). Compare machines by these "
    "ratios, not by their absolute figures."
)


def machines_rows(run: RunSummary) -> tuple[list[str], list[list[str]]] | None:
    """Header and rows: a row per checkpoint × variant, a column per machine; None for one machine."""
    machines = run.machine_names()
    if len(machines) < 2:
        return None
    rows = []
    for (checkpoint, variant), by_machine in run.speedups().items():
        cells = []
        for machine in machines:
            if machine not in by_machine:
                cells.append("-")
                continue
            batched, single = by_machine[machine]
            cells.append(f"{batched:.2f} / {single:.2f}" if single is not None else f"{batched:.2f} / -")
        rows.append([checkpoint, variant, *cells])
    return ["Checkpoint", "Variant", *(f"{m}: batched / batch-1" for m in machines)], rows


def summary_rows(run: RunSummary) -> list[list[str]]:
    """The study's Table 5 for a run, one row per result, with size, memory and ratios to the baseline.

    A checkpoint the study published figures for gets them in a row of its own, marked "(published)".
    """
    rows = []
    for name, r in run.results:
        reference = run.baseline_of(name)
        f1, ref_f1 = r.f1, reference.f1 if reference else None
        latency = run.latency.get(name)
        rows.append(
            [
                name
                + (" (random weights)" if r.weights == "random" else "")
                + (" (baseline)" if run.is_baseline(name) else ""),
                *_accuracy_cells(r),
                f"{r.speed.total_s:.2f}",
                f"{r.speed.samples_per_s:.1f}",
                f"{r.speed.latency_mean_s:.4f}",
                latency_cell(r, latency),
                f"{r.build.size_bytes / 1e6:.0f}",
                f"{r.memory.peak_bytes / 1e6:.0f}",
                f"{100 * (f1 - ref_f1):+.2f}" if f1 is not None and ref_f1 is not None else "-",
                f"{r.speed.samples_per_s / reference.speed.samples_per_s:.2f}" if reference else "-",
                kernels_cell(r),
            ]
        )
        if name in run.published:
            rows.append(_published_row(f"{name} (published)", run.published[name]))
    measured = {name for name, _ in run.results}
    rows += [_published_row(f"{n} (published; not run here)", p) for n, p in run.published.items() if n not in measured]
    return rows


def _published_row(label: str, p: Published) -> list[str]:
    figures = (p.accuracy, p.precision, p.recall, p.f1)
    timing = [f"{p.total_s:.2f}", f"{p.samples_per_s:.1f}", f"{p.latency_s:.4f}"]
    return [label, *(f"{v:.4f}" for v in figures), *timing, *["-"] * 6]


def published_notes(run: RunSummary) -> list[str]:
    """Where the published rows come from, and each one's remarks (what the published table gets wrong)."""
    if not run.published:
        return []
    sources = sorted({p.source for p in run.published.values() if p.source})
    lines = [f"Rows marked (published) are not measured here: {'; '.join(sources) or 'given with --published'}."]
    lines += [f"published {name}: {remark}" for name, p in run.published.items() for remark in p.remarks]
    return lines


def latency_cell(result: EvalResult, batch1: Mapping[int, float] | None) -> str:
    """Per-sentence latency percentiles: batch size 1's where timed, else the evaluation's, marked with its batch.

    In a batch, every sentence of it waits for the whole batch: its latency is the batch's time.
    """
    s = result.speed
    figures, batch = (batch1, 1) if batch1 else ({50: s.latency_p50_s, 90: s.latency_p90_s, 99: s.latency_p99_s}, None)
    cell = " / ".join(f"{1000 * figures[p]:.1f}" for p in (50, 90, 99))
    return cell if batch == 1 or s.batch_size == 1 else f"{cell} (batch {s.batch_size})"


def summary_table(run: RunSummary) -> str:
    if not run.results:
        return "no checkpoint was evaluated"
    return _heading(run) + "\n" + render(summary_rows(run), SUMMARY_COLUMNS)


def summary_text(run: RunSummary, show_errors: bool = False) -> str:
    """The run's summary for the terminal: the table, what did not run and why, every floor checked;
    with ``show_errors``, the SemEval schemes and error kinds as a second table."""
    lines = [summary_table(run)]
    second = semeval_table(run.results) if show_errors else ""
    if second:
        lines += ["", second]
    lines += [f"not run: {reason}" for reason in run.not_run]
    lines += [floor.describe() for floor in run.floors]
    lines += published_notes(run)
    return "\n".join(lines)


def _heading(run: RunSummary) -> str:
    first = run.results[0][1]
    return (
        f"{first.data}" + (f" [{first.split}]" if first.split else "") + f", {first.sentences} sentences, "
        f"{first.speed.batching()}, {first.speed.threads} threads; baseline {run.baseline}"
    )


def summary_markdown(run: RunSummary, show_errors: bool = False) -> str:
    """The run's summary as Markdown: the table, what did not run and why, and every floor checked (and
    with ``show_errors`` the SemEval schemes and error kinds)."""
    parts = ["# nerperf summary", ""]
    if run.results:
        parts += [_heading(run), "", markdown(summary_rows(run), SUMMARY_COLUMNS)]
    else:
        parts.append("No checkpoint was evaluated.")
    partial_credit = semeval_rows(run.results) if show_errors else []
    if partial_credit:
        parts += ["", "## SemEval schemes and error kinds", "", markdown(partial_credit, SEMEVAL_COLUMNS)]
    if run.not_run:
        parts += ["", "## Not run", "", *(f"- {line}" for line in run.not_run)]
    if run.floors:
        parts += ["", "## F1 floors", "", *(f"- {floor.describe()}" for floor in run.floors)]
    if run.published:
        parts += ["", "## Published figures", "", *(f"- {line}" for line in published_notes(run))]
    return "\n".join(parts) + "\n"
