"""The study's Figures 3–5 and an F1-against-throughput Pareto frontier, drawn with matplotlib.

Drawing only, from a :class:`nerperf.report.tables.RunSummary`; :mod:`nerperf.report.pages` writes the
files. The only module of nerperf that imports matplotlib.
Results with random weights have no F1: they are left out of the F1 figures and named in the caption.
Published figures, where the registry has them, are drawn hollow and labelled "(published)".
"""

from __future__ import annotations

import io
from collections.abc import Collection, Sequence
from typing import Any

from nerperf.report.tables import RunSummary

Figure = tuple[str, str, bytes]  # caption, SVG text, PNG bytes


def pareto_frontier(points: Sequence[tuple[float, float]]) -> list[int]:
    """Indices of the points no other point beats on both axes (higher is better on both), by x.

    >>> pareto_frontier([(1, 0.9), (2, 0.8), (1.5, 0.7), (3, 0.85)])
    [0, 3]
    """
    frontier = [
        i for i, (x, y) in enumerate(points) if not any(ox >= x and oy >= y and (ox, oy) != (x, y) for ox, oy in points)
    ]
    return sorted(frontier, key=lambda i: points[i][0])


def draw_all(run: RunSummary) -> dict[str, Figure]:
    """Every figure of the report, by file name."""
    import matplotlib

    matplotlib.use("Agg")  # files only: no display is needed or wanted
    matplotlib.rcParams["svg.hashsalt"] = "nerperf"  # the same figure gives the same SVG text
    return {
        "fig3_f1_vs_samples_per_s": _scatter(run, "samples_per_s", "Samples per second (batched)", "Figure 3"),
        "fig4_f1_vs_total_time": _scatter(run, "total_s", "Total time (s)", "Figure 4"),
        "fig5_latency": _latency(run),
        "pareto_f1_vs_throughput": _pareto(run),
        **({"error_kinds": _error_kinds(run)} if any(r.errors is not None for _, r in run.results) else {}),
        **({"speedup_by_machine": _by_machine(run)} if len(run.machine_names()) > 1 else {}),
    }


def _scored(run: RunSummary) -> tuple[list[tuple[str, Any]], list[str]]:
    scored = [(name, r) for name, r in run.results if r.f1 is not None]
    return scored, [name for name, r in run.results if r.f1 is None]


def _caption(text: str, left_out: list[str]) -> str:
    return text + (f" Not shown (random weights, no F1): {', '.join(left_out)}." if left_out else "")


MARKERS = {"fp32": "o", "int8": "s", "onnx": "^", "onnx-int8": "D", "bf16": "P"}


def _points(axes: Any, scored: list[tuple[str, Any]], xs: list[float], ring: Collection[int] = ()) -> None:
    """One point per result: colour by checkpoint, marker by variant, and a legend saying which is which."""
    from matplotlib.lines import Line2D

    checkpoints = list(dict.fromkeys(_checkpoint(name, r) for name, r in scored))
    colours = {c: f"C{i % 10}" for i, c in enumerate(checkpoints)}
    for i, ((name, r), x) in enumerate(zip(scored, xs, strict=True)):
        axes.scatter(x, 100 * r.f1, color=colours[_checkpoint(name, r)], marker=MARKERS.get(r.variant, "*"), s=40,
                     edgecolors="black" if i in ring else "none", linewidths=1.5, zorder=3)  # fmt: skip
    variants = list(dict.fromkeys(r.variant for _, r in scored))
    handles = [Line2D([], [], color=colours[c], marker="o", linestyle="", label=c) for c in checkpoints]
    handles += [Line2D([], [], color="gray", marker=MARKERS.get(v, "*"), linestyle="", label=v) for v in variants]
    axes.legend(handles=handles, fontsize=7, loc="best")


def _checkpoint(name: str, result: Any) -> str:
    """The checkpoint part of a checkpoint-variant id."""
    return name.removesuffix(f"-{result.variant}")


def _scatter(run: RunSummary, attribute: str, label: str, study_name: str) -> Figure:
    import matplotlib.pyplot as plt

    scored, left_out = _scored(run)
    figure, axes = plt.subplots(figsize=(7, 4.5))
    _points(axes, scored, [getattr(r.speed, attribute) for _, r in scored])
    _published_points(axes, run, attribute)
    axes.set(xlabel=label, ylabel="F1 (%)", title=f"F1 against {label.lower()}")
    axes.grid(alpha=0.3)
    caption = f"{study_name} of the study: F1 against {label.lower()}; colour: checkpoint, marker: variant."
    if run.published:
        caption += " Hollow red points are the study's published figures."
    return _render(figure, _caption(caption, left_out))


def _published_points(axes: Any, run: RunSummary, attribute: str) -> None:
    """The study's published figures as hollow red points, each labelled."""
    for name, p in run.published.items():
        x = p.samples_per_s if attribute == "samples_per_s" else p.total_s
        axes.scatter(x, 100 * p.f1, facecolors="none", edgecolors="tab:red", zorder=3)
        axes.annotate(f"{name} (published)", (x, 100 * p.f1), fontsize=7, color="tab:red", xytext=(4, -9),
                      textcoords="offset points")  # fmt: skip


def _latency(run: RunSummary) -> Figure:
    """Figure 5: the study's latency (total time / sentences) per model, with batch-1 percentiles."""
    import matplotlib.pyplot as plt

    names = [name for name, _ in run.results]
    published = [f"{name} (published)" for name in run.published]
    figure, axes = plt.subplots(figsize=(7, 1.6 + 0.35 * (len(names) + len(published))))
    means = [1000 * r.speed.latency_mean_s for _, r in run.results]
    axes.barh(names, means, color="tab:blue", alpha=0.6, label="study latency: total time / sentences")
    if published:
        axes.barh(published, [1000 * p.latency_s for p in run.published.values()], facecolor="none",
                  edgecolor="tab:red", hatch="//", label="the study's published latency")  # fmt: skip
    for marker, point in (("o", 50), ("^", 90), ("x", 99)):
        timed = [(name, 1000 * run.latency[name][point]) for name in names if name in run.latency]
        if timed:
            axes.scatter([v for _, v in timed], [n for n, _ in timed], marker=marker, color="black", zorder=3,
                         label=f"batch-1 p{point}")  # fmt: skip
    axes.invert_yaxis()
    axes.set(xlabel="Latency per sentence (ms)", title="Latency per checkpoint × variant")
    axes.legend(fontsize=7, loc="lower right")
    axes.grid(axis="x", alpha=0.3)
    caption = "Figure 5 of the study: latency per model; bars are its total time / sentences (batched)"
    caption += ", markers the per-sentence percentiles at batch size 1." if run.latency else "."
    if published:
        caption += " Hatched red bars are the study's published latencies (batch size 1, another machine)."
    return _render(figure, caption)


def _pareto(run: RunSummary) -> Figure:
    import matplotlib.pyplot as plt

    scored, left_out = _scored(run)
    points = [(r.speed.samples_per_s, 100 * r.f1) for _, r in scored]
    best = pareto_frontier(points)
    figure, axes = plt.subplots(figsize=(7, 4.5))
    if best:
        axes.step([points[i][0] for i in best], [points[i][1] for i in best], where="post", color="black",
                  linewidth=0.8, zorder=2)  # fmt: skip
    _points(axes, scored, [x for x, _ in points], set(best))
    _published_points(axes, run, "samples_per_s")
    axes.set(xlabel="Samples per second (batched)", ylabel="F1 (%)", title="F1 against throughput: the frontier")
    axes.grid(alpha=0.3)
    on = ", ".join(scored[i][0] for i in best)
    caption = f"F1 against throughput across all checkpoints × variants. On the frontier (ringed): {on}."
    if run.published:
        caption += " Hollow red points are the study's published figures (not on the frontier: another machine)."
    return _render(figure, _caption(caption, left_out))


ERROR_COLOURS = {"incorrect": "tab:orange", "partial": "gold", "missed": "tab:red", "spurious": "tab:purple"}


def _error_kinds(run: RunSummary) -> Figure:
    """A stacked bar per case of its errors by kind (nerperf.semeval); the correct count is in the label,
    since beside it the errors would be slivers."""
    import matplotlib.pyplot as plt

    rows = [(name, r.errors) for name, r in run.results if r.errors is not None]
    figure, axes = plt.subplots(figsize=(8, 1.6 + 0.4 * len(rows)))
    names = [f"{name} ({errors.correct} correct)" for name, errors in rows]
    left = [0] * len(rows)
    for kind, colour in ERROR_COLOURS.items():
        counts = [getattr(errors, kind) for _, errors in rows]
        axes.barh(names, counts, left=left, color=colour, label=kind)
        left = [a + b for a, b in zip(left, counts, strict=True)]
    axes.invert_yaxis()
    axes.set(xlabel="Entities in error", title="Where the errors are: error kinds per case")
    axes.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.01, 0.5))
    axes.grid(axis="x", alpha=0.3)
    caption = (
        "Errors per checkpoint × variant by kind (SemEval-2013, through nervaluate): incorrect, the span right "
        "and the type wrong; partial, an overlapping span; missed gold entities; spurious predictions."
    )
    return _render(figure, caption)


def _by_machine(run: RunSummary) -> Figure:
    """Variants × machines: each variant's batched speed-up over fp32, a bar per machine."""
    import matplotlib.pyplot as plt

    machines = run.machine_names()
    speedups = run.speedups()
    labels = [f"{checkpoint}\n{variant}" for checkpoint, variant in speedups]
    figure, axes = plt.subplots(figsize=(max(6.0, 0.9 * len(labels) + 2), 4.5))
    width = 0.8 / len(machines)
    for index, machine in enumerate(machines):
        xs = [i + (index - (len(machines) - 1) / 2) * width for i in range(len(labels))]
        heights = [by.get(machine, (0.0, None))[0] for by in speedups.values()]
        axes.bar(xs, heights, width, label=machine)
    axes.axhline(1.0, color="black", linewidth=0.8, linestyle="--")
    axes.set_xticks(range(len(labels)), labels, fontsize=7, rotation=45, ha="right")
    axes.set(ylabel="Batched throughput × the same machine's fp32", title="Which variant wins, per machine")
    axes.legend(fontsize=7)
    axes.grid(axis="y", alpha=0.3)
    caption = (
        "Each variant's batched throughput over its checkpoint's fp32 on the same machine, a bar per machine "
        "(missing bars: not measured there). Above the dashed line the variant is faster than fp32."
    )
    return _render(figure, caption)


def _render(figure: Any, caption: str) -> Figure:
    import matplotlib.pyplot as plt

    figure.tight_layout()
    svg, png = io.StringIO(), io.BytesIO()
    figure.savefig(svg, format="svg", metadata={"Date": None})
    figure.savefig(png, format="png", dpi=120)
    plt.close(figure)
    return caption, svg.getvalue(), png.getvalue()
