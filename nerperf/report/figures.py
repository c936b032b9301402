"""The study's Figures 3–5 and an F1-against-throughput Pareto frontier, drawn with matplotlib.

Drawing only, from a :class:`nerperf.report.tables.RunSummary`; :mod:`nerperf.report.pages` writes the
files. The only module of nerperf that imports matplotlib.

An encoding that stays readable at twenty cases and several machines: colour is the checkpoint, marker
the variant, and each machine is a panel of its own (small multiples on shared axes, the machine in the
panel's title), so a legend has one entry per checkpoint and per variant, never one per case, and sits
outside the plots. Plots label cases by their short checkpoint-variant id; the tables keep full names.
Figures grow with their rows, are laid out by matplotlib's constrained layout (nothing clipped), and use
a log axis where one figure's values span more than 10× (the study's published rows beside measured
ones, a 3-layer model beside XLM-R large), which the caption says.
Results with random weights have no F1: they are left out of the F1 figures and named in the caption.
Published figures, where the registry has them, are drawn hollow and labelled "(published)".
"""

from __future__ import annotations

import io
import math
import statistics
import textwrap
from collections.abc import Collection, Sequence
from typing import Any

from nerperf.report.pareto import pareto_frontier
from nerperf.report.tables import RunSummary

Figure = tuple[str, str, bytes]  # caption, SVG text, PNG bytes


def draw_all(run: RunSummary) -> dict[str, Figure]:
    """Every figure of the report, by file name: caption, SVG and PNG."""
    return {name: _render(figure, caption) for name, (caption, figure) in build_all(run).items()}


def build_all(run: RunSummary) -> dict[str, tuple[str, Any]]:
    """Every figure of the report as a matplotlib Figure, by file name, with its caption (tests measure them)."""
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


# -- the encoding: panels per machine, colour per checkpoint, marker per variant ----------------------
MARKERS = {"fp32": "o", "int8": "s", "onnx": "^", "onnx-int8": "D", "bf16": "P", "onnx-int8-static": "v",
           "openvino": "<", "openvino-int8": ">"}  # fmt: skip
PANEL_HEIGHT = 3.6  # inches, for a scatter panel
ROW_HEIGHT = 0.28  # inches, per bar in a horizontal bar panel
LOG_SPAN = 10.0  # a figure whose values span more than this factor gets a log axis


def _panels(run: RunSummary) -> list[tuple[str, list[tuple[str, Any]]]]:
    """(machine, its results) per machine, in the order first seen; one panel named "" for one machine."""
    machines = run.machine_names()
    if len(machines) < 2:
        return [("", list(run.results))]
    return [(m, [(name, r) for name, r in run.results if run.machines.get(name) == m]) for m in machines]


def _case(run: RunSummary, name: str) -> str:
    """A result's short label in a plot: its checkpoint-variant id, without the machine (the panel has it)."""
    return run.case_ids.get(name, name)


def _checkpoint(run: RunSummary, name: str, result: Any) -> str:
    """The checkpoint part of a result's checkpoint-variant id."""
    return _case(run, name).removesuffix(f"-{result.variant}")


def _colours(run: RunSummary) -> dict[str, str]:
    """One colour per checkpoint, the same in every panel: tab10, or tab20 past ten checkpoints."""
    checkpoints = list(dict.fromkeys(_checkpoint(run, name, r) for name, r in run.results))
    palette = "C{}" if len(checkpoints) <= 10 else None
    if palette:
        return {c: palette.format(i) for i, c in enumerate(checkpoints)}
    import matplotlib

    cmap = matplotlib.colormaps["tab20"]
    return {c: matplotlib.colors.to_hex(cmap(i % 20)) for i, c in enumerate(checkpoints)}


def _title(machine: str) -> str:
    return "\n".join(textwrap.wrap(machine, 60)) if machine else ""


def _grid(count: int, width: float, height: float, **shared: Any) -> tuple[Any, list[Any]]:
    """A figure of ``count`` panels: stacked up to two, in two columns past that; constrained layout."""
    import matplotlib.pyplot as plt

    columns = 1 if count <= 2 else 2
    rows = math.ceil(count / columns)
    figure, axes = plt.subplots(
        rows, columns, figsize=(width * columns, height * rows), layout="constrained", squeeze=False, **shared
    )
    flat = list(axes.flat)
    for extra in flat[count:]:
        extra.set_visible(False)
    return figure, flat[:count]


def _log_if_wide(axes: Sequence[Any], values: Sequence[float], axis: str = "x") -> bool:
    """A log scale on ``axis`` of every panel where the values span more than :data:`LOG_SPAN`×."""
    positive = [v for v in values if v > 0 and math.isfinite(v)]
    wide = bool(positive) and max(positive) / min(positive) > LOG_SPAN
    if wide:
        for a in axes:
            (a.set_xscale if axis == "x" else a.set_yscale)("log")
    return wide


def _legend(figure: Any, run: RunSummary, variants: Sequence[str], extra: Sequence[Any] = ()) -> None:
    """One entry per checkpoint (colour) and per variant (marker), outside the plots, on the right."""
    from matplotlib.lines import Line2D

    colours = _colours(run)
    handles = [Line2D([], [], color=colour, marker="o", linestyle="", label=c) for c, colour in colours.items()]
    handles += [Line2D([], [], color="gray", marker=MARKERS.get(v, "*"), linestyle="", label=v) for v in variants]
    figure.legend(handles=[*handles, *extra], fontsize=7, loc="outside right upper")


def _scored(run: RunSummary) -> tuple[list[tuple[str, Any]], list[str]]:
    scored = [(name, r) for name, r in run.results if r.f1 is not None]
    return scored, [name for name, r in run.results if r.f1 is None]


def _caption(text: str, left_out: list[str], log_axis: str = "") -> str:
    if log_axis:
        text += f" The {log_axis} axis is logarithmic: its values span more than {LOG_SPAN:g}×."
    return text + (f" Not shown (random weights, no F1): {', '.join(left_out)}." if left_out else "")


def _points(
    axes: Any, run: RunSummary, scored: list[tuple[str, Any]], xs: list[float], ring: Collection[str] = ()
) -> None:
    """One point per result: colour by checkpoint, marker by variant; ``ring``: names drawn with an edge."""
    colours = _colours(run)
    for (name, r), x in zip(scored, xs, strict=True):
        axes.scatter(x, 100 * r.f1, color=colours[_checkpoint(run, name, r)], marker=MARKERS.get(r.variant, "*"),
                     s=40, edgecolors="black" if name in ring else "none", linewidths=1.5, zorder=3)  # fmt: skip


def _published_points(axes: Any, run: RunSummary, attribute: str, measured: Sequence[float]) -> None:
    """The study's published figures as hollow red points, each labelled on the side towards the middle of
    the panel's values (``measured`` and the published), so that no label runs off the plot."""
    xs = _published_x(run, attribute)
    middle = statistics.median([*measured, *xs]) if xs else 0.0
    for (name, p), x in zip(run.published.items(), xs, strict=True):
        axes.scatter(x, 100 * p.f1, facecolors="none", edgecolors="tab:red", zorder=3)
        left = x > middle
        axes.annotate(f"{name} (published)", (x, 100 * p.f1), fontsize=6, color="tab:red",
                      xytext=(-4 if left else 4, -9), ha="right" if left else "left", textcoords="offset points",
                      annotation_clip=True)  # fmt: skip


def _published_x(run: RunSummary, attribute: str) -> list[float]:
    return [p.samples_per_s if attribute == "samples_per_s" else p.total_s for p in run.published.values()]


def _published_handle() -> Any:
    from matplotlib.lines import Line2D

    return Line2D([], [], marker="o", linestyle="", markerfacecolor="none", markeredgecolor="tab:red",
                  label="the study (published)")  # fmt: skip


# -- the figures ----------------------------------------------------------------------------------------
def _scatter(run: RunSummary, attribute: str, label: str, study_name: str) -> tuple[str, Any]:
    scored, left_out = _scored(run)
    panels = _panels(run)
    figure, axes = _grid(len(panels), 7.5, PANEL_HEIGHT, sharex=True, sharey=True)
    for a, (machine, results) in zip(axes, panels, strict=True):
        mine = [(name, r) for name, r in results if r.f1 is not None]
        xs = [getattr(r.speed, attribute) for _, r in mine]
        _points(a, run, mine, xs)
        _published_points(a, run, attribute, xs)
        a.set(xlabel=label, ylabel="F1 (%)", title=_title(machine))
        a.grid(alpha=0.3)
    wide = _log_if_wide(axes, [getattr(r.speed, attribute) for _, r in scored] + _published_x(run, attribute))
    figure.suptitle(f"F1 against {label.lower()}", fontsize=10)
    _legend(figure, run, _variants(scored), [_published_handle()] if run.published else [])
    caption = f"{study_name} of the study: F1 against {label.lower()}; colour: checkpoint, marker: variant"
    caption += ", a panel per machine." if len(panels) > 1 else "."
    if run.published:
        caption += " Hollow red points are the study's published figures."
    return _caption(caption, left_out, "x" if wide else ""), figure


def _variants(results: Sequence[tuple[str, Any]]) -> list[str]:
    return list(dict.fromkeys(r.variant for _, r in results))


def _latency(run: RunSummary) -> tuple[str, Any]:
    """Figure 5: the study's latency (total time / sentences) per case, with batch-1 percentiles; a panel
    per machine, the same rows in each."""
    from matplotlib.patches import Patch

    panels = _panels(run)
    cases = list(dict.fromkeys(_case(run, name) for name, _ in run.results))
    published = [f"{name} (published)" for name in run.published]
    rows = cases + published
    figure, axes = _grid(len(panels), 8.0, 1.0 + ROW_HEIGHT * len(rows), sharex=True, sharey=True)
    values: list[float] = [1000 * p.latency_s for p in run.published.values()]
    colours = _colours(run)
    for a, (machine, results) in zip(axes, panels, strict=True):
        means = {_case(run, name): 1000 * r.speed.latency_mean_s for name, r in results}
        values += means.values()
        bar_colours = [colours[_checkpoint(run, name, r)] for name, r in results]
        a.barh(list(means), list(means.values()), color=bar_colours, alpha=0.7)
        if published:
            a.barh(published, [1000 * p.latency_s for p in run.published.values()], facecolor="none",
                   edgecolor="tab:red", hatch="//")  # fmt: skip
        for marker, point in (("o", 50), ("^", 90), ("x", 99)):
            timed = [(_case(run, name), 1000 * run.latency[name][point]) for name, _ in results if name in run.latency]
            values += [v for _, v in timed]
            if timed:
                a.scatter([v for _, v in timed], [n for n, _ in timed], marker=marker, color="black", zorder=3, s=18)
        a.set_yticks(range(len(rows)), rows, fontsize=7)
        a.set_ylim(len(rows) - 0.5, -0.5)  # the first row on top
        a.set(xlabel="Latency per sentence (ms)", title=_title(machine))
        a.grid(axis="x", alpha=0.3)
    wide = _log_if_wide(axes, values)
    figure.suptitle("Latency per checkpoint × variant", fontsize=10)
    from matplotlib.lines import Line2D

    extra = [Patch(color="gray", alpha=0.7, label="total time / sentences")]
    extra += [Line2D([], [], marker=m, color="black", linestyle="", label=f"batch-1 p{p}")
              for m, p in (("o", 50), ("^", 90), ("x", 99))]  # fmt: skip
    if published:
        extra.append(Patch(facecolor="none", edgecolor="tab:red", hatch="//", label="the study (published)"))
    _legend(figure, run, [], extra)
    caption = "Figure 5 of the study: latency per model; bars are its total time / sentences (batched)"
    caption += ", markers the per-sentence percentiles at batch size 1" if run.latency else ""
    caption += "; a panel per machine." if len(panels) > 1 else "."
    if published:
        caption += " Hatched red bars are the study's published latencies (batch size 1, another machine)."
    return _caption(caption, [], "x" if wide else ""), figure


def _pareto(run: RunSummary) -> tuple[str, Any]:
    """F1 against throughput, the frontier drawn per machine (a frontier across machines would compare
    machines, not variants)."""
    scored, left_out = _scored(run)
    panels = _panels(run)
    figure, axes = _grid(len(panels), 7.5, PANEL_HEIGHT, sharex=True, sharey=True)
    on: list[str] = []
    for a, (machine, results) in zip(axes, panels, strict=True):
        mine = [(name, r) for name, r in results if r.f1 is not None]
        points = [(r.speed.samples_per_s, 100 * r.f1) for _, r in mine]
        best = pareto_frontier(points)
        if best:
            a.step([points[i][0] for i in best], [points[i][1] for i in best], where="post", color="black",
                   linewidth=0.8, zorder=2)  # fmt: skip
        ringed = {mine[i][0] for i in best}
        on += [mine[i][0] for i in best]
        _points(a, run, mine, [x for x, _ in points], ringed)
        _published_points(a, run, "samples_per_s", [x for x, _ in points])
        a.set(xlabel="Samples per second (batched)", ylabel="F1 (%)", title=_title(machine))
        a.grid(alpha=0.3)
    wide = _log_if_wide(axes, [r.speed.samples_per_s for _, r in scored] + _published_x(run, "samples_per_s"))
    figure.suptitle("F1 against throughput: the frontier", fontsize=10)
    _legend(figure, run, _variants(scored), [_published_handle()] if run.published else [])
    where = " on each machine" if len(panels) > 1 else ""
    caption = (
        f"F1 against throughput across all checkpoints × variants. On the frontier{where} (ringed): {', '.join(on)}."
    )
    if run.published:
        caption += " Hollow red points are the study's published figures (not on the frontier: another machine)."
    return _caption(caption, left_out, "x" if wide else ""), figure


ERROR_COLOURS = {"incorrect": "tab:orange", "partial": "gold", "missed": "tab:red", "spurious": "tab:purple"}


def _error_kinds(run: RunSummary) -> tuple[str, Any]:
    """A stacked bar per case of its errors by kind (nerperf.data.semeval), a panel per machine; the correct
    count is in the label, since beside it the errors would be slivers."""
    from matplotlib.patches import Patch

    panels = [(m, [(n, r) for n, r in results if r.errors is not None]) for m, results in _panels(run)]
    panels = [(m, rows) for m, rows in panels if rows]  # results from before 0.3 recorded no error kinds
    tallest = max(len(results) for _, results in panels)
    figure, axes = _grid(len(panels), 8.0, 1.0 + ROW_HEIGHT * tallest, sharex=True)
    for a, (machine, rows) in zip(axes, panels, strict=True):
        names = [f"{_case(run, name)} ({r.errors.correct} correct)" for name, r in rows]
        left = [0] * len(rows)
        for kind, colour in ERROR_COLOURS.items():
            counts = [getattr(r.errors, kind) for _, r in rows]
            a.barh(names, counts, left=left, color=colour)
            left = [x + y for x, y in zip(left, counts, strict=True)]
        a.tick_params(axis="y", labelsize=7)
        a.invert_yaxis()
        a.set(xlabel="Entities in error", title=_title(machine))
        a.grid(axis="x", alpha=0.3)
    figure.suptitle("Where the errors are: error kinds per case", fontsize=10)
    figure.legend(handles=[Patch(color=c, label=k) for k, c in ERROR_COLOURS.items()], fontsize=7,
                  loc="outside right upper")  # fmt: skip
    caption = (
        "Errors per checkpoint × variant by kind (SemEval-2013, through nervaluate): incorrect, the span right "
        "and the type wrong; partial, an overlapping span; missed gold entities; spurious predictions."
    )
    return caption + (" A panel per machine." if len(panels) > 1 else ""), figure


def _by_machine(run: RunSummary) -> tuple[str, Any]:
    """Variants × machines: each variant's batched speed-up over fp32, a bar per machine."""
    import matplotlib.pyplot as plt

    machines = run.machine_names()
    speedups = run.speedups()
    labels = [f"{checkpoint}\n{variant}" for checkpoint, variant in speedups]
    figure, axes = plt.subplots(figsize=(max(6.0, 0.9 * len(labels) + 2), 4.5), layout="constrained")
    width = 0.8 / len(machines)
    for index, machine in enumerate(machines):
        xs = [i + (index - (len(machines) - 1) / 2) * width for i in range(len(labels))]
        heights = [by.get(machine, (0.0, None))[0] for by in speedups.values()]
        axes.bar(xs, heights, width, label="\n".join(textwrap.wrap(machine, 30)))
    axes.axhline(1.0, color="black", linewidth=0.8, linestyle="--")
    axes.set_xticks(range(len(labels)), labels, fontsize=7, rotation=45, ha="right")
    axes.set(ylabel="Batched throughput × the same machine's fp32", title="Which variant wins, per machine")
    figure.legend(fontsize=7, loc="outside right upper")
    axes.grid(axis="y", alpha=0.3)
    caption = (
        "Each variant's batched throughput over its checkpoint's fp32 on the same machine, a bar per machine "
        "(missing bars: not measured there). Above the dashed line the variant is faster than fp32."
    )
    return caption, figure


def _render(figure: Any, caption: str) -> Figure:
    import matplotlib.pyplot as plt

    svg, png = io.StringIO(), io.BytesIO()
    figure.savefig(svg, format="svg", metadata={"Date": None})
    figure.savefig(png, format="png", dpi=120)
    plt.close(figure)
    return caption, svg.getvalue(), png.getvalue()


def tune_frontier(trials: Sequence[dict[str, Any]], frontiers: dict[str, list[str]], title: str) -> Figure:
    """``nerperf tune``'s trials, F1 against speed, one panel per objective (batch-1 latency, throughput),
    colour and marker by variant, each objective's frontier joined."""
    from matplotlib.lines import Line2D

    objectives = list(frontiers)
    figure, axes = _grid(len(objectives), 6.5, PANEL_HEIGHT)
    variants = list(dict.fromkeys(t["config"]["variant"] for t in trials))
    colours = {v: f"C{i % 10}" for i, v in enumerate(variants)}
    for a, objective in zip(axes, objectives, strict=True):
        field = "latency_p50_ms" if objective == "latency" else "sentences_per_s"
        mine = [t for t in trials if t["objective"] == objective and t["f1"] is not None and t[field]]
        on = [t for key in frontiers[objective] for t in mine if t["key"] == key]
        for t in mine:
            a.scatter(t[field], 100 * t["f1"], color=colours[t["config"]["variant"]], s=36, zorder=3,
                      marker=MARKERS.get(t["config"]["variant"], "*"), edgecolors="black" if t in on else "none",
                      linewidths=1.5)  # fmt: skip
        a.plot([t[field] for t in on], [100 * t["f1"] for t in on], color="black", linewidth=0.8, zorder=2)
        _log_if_wide([a], [t[field] for t in mine])
        label = "Batch-1 p50 latency (ms; lower is better)" if objective == "latency" else "Sentences/s, batched"
        a.set(xlabel=label, ylabel="F1 (%)", title=objective)
        a.grid(alpha=0.3)
    handles = [Line2D([], [], color=colours[v], marker=MARKERS.get(v, "*"), linestyle="", label=v) for v in variants]
    handles.append(Line2D([], [], color="black", linewidth=0.8, marker="o", markerfacecolor="none", label="frontier"))
    # Beside the panels, level with their middle: at the upper right it would sit under the long title.
    figure.legend(handles=handles, fontsize=7, loc="outside right center")
    figure.suptitle(_title(title), fontsize=10)
    caption = "nerperf tune's trials: F1 against speed per objective; each objective's frontier ringed and joined."
    return _render(figure, caption)
