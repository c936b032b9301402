"""The report's figures are readable at twenty cases and two machines (measured on the artists' extents).

Drawn from the suite's results of two AVX-512 VNNI machines (``../shared/measurements``: 20 cases and
the study's 5 published rows) and from one of them: every plot keeps at least 35% of its figure's width
and height, no legend covers more than 10% of a plot, no text leaves the figure, the legend has an entry
per checkpoint and per variant (never per case and machine), and wide ranges get a log axis.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from nerperf.report import figures, merge, pages

MEASUREMENTS = ("2026-12-01-epyc-avx512-vnni-bf16", "2026-11-28-epyc-avx512-vnni-bf16")
MACHINES = ("EPYC AVX-512 VNNI BF16, 2026-12-01", "EPYC AVX-512 VNNI BF16, 2026-11-28")
PLOT_SHARE = 0.35
LEGEND_OVERLAP = 0.10


def drawn(shared: Path, machines: int) -> dict[str, tuple[str, Any]]:
    paths = [shared / "measurements" / m / "suite-results.json" for m in MEASUREMENTS[:machines]]
    return figures.build_all(pages.summarize(merge.read(paths, list(MACHINES[:machines]))))


def overlap(a: Any, b: Any) -> float:
    """The area of the intersection of two display boxes."""
    width = min(a.x1, b.x1) - max(a.x0, b.x0)
    height = min(a.y1, b.y1) - max(a.y0, b.y0)
    return max(0.0, width) * max(0.0, height)


@pytest.fixture(scope="module", params=[2, 1], ids=["two-machines", "one-machine"])
def built(request: pytest.FixtureRequest, shared: Path) -> dict[str, tuple[str, Any]]:
    found = drawn(shared, request.param)
    yield found
    import matplotlib.pyplot as plt

    for _, figure in found.values():
        plt.close(figure)


def test_every_plot_keeps_a_third_of_its_figure(built: dict[str, tuple[str, Any]]) -> None:
    for name, (_, figure) in built.items():
        renderer = figure.canvas.get_renderer()
        figure.draw(renderer)
        whole = figure.bbox
        for axes in (a for a in figure.axes if a.get_visible()):
            box = axes.get_window_extent(renderer)
            assert box.width >= PLOT_SHARE * whole.width, f"{name}: a plot {box.width / whole.width:.0%} wide"
            assert box.height >= PLOT_SHARE * whole.height, f"{name}: a plot {box.height / whole.height:.0%} high"


def test_no_legend_covers_a_plot_and_no_text_leaves_the_figure(built: dict[str, tuple[str, Any]]) -> None:
    for name, (_, figure) in built.items():
        renderer = figure.canvas.get_renderer()
        figure.draw(renderer)
        legends = [*figure.legends, *(a.get_legend() for a in figure.axes if a.get_legend() is not None)]
        assert legends, f"{name}: no legend"
        for legend in legends:
            box = legend.get_window_extent(renderer)
            for axes in (a for a in figure.axes if a.get_visible()):
                plot = axes.get_window_extent(renderer)
                share = overlap(box, plot) / (plot.width * plot.height)
                assert share <= LEGEND_OVERLAP, f"{name}: a legend covers {share:.0%} of a plot"
        drawn_box, whole = figure.get_tightbbox(renderer), figure.bbox_inches  # all that is drawn, in inches
        slack = 1 / figure.dpi
        inside = drawn_box.x0 >= whole.x0 - slack and drawn_box.x1 <= whole.x1 + slack
        assert inside and drawn_box.y0 >= whole.y0 - slack and drawn_box.y1 <= whole.y1 + slack, (
            f"{name}: what is drawn spans {drawn_box}, the figure {whole}"
        )


def test_the_legend_names_checkpoints_and_variants_and_the_panels_name_machines(shared: Path) -> None:
    built = drawn(shared, 2)
    _, figure = built["fig3_f1_vs_samples_per_s"]
    (legend,) = figure.legends
    entries = [t.get_text() for t in legend.get_texts()]
    assert entries == [
        "minilm-l6-conll03", "minilm-l3-conll03", "fp32", "int8", "bf16", "onnx", "onnx-int8", "the study (published)",
    ]  # fmt: skip
    assert [a.get_title() for a in figure.axes if a.get_visible()] == list(MACHINES)
    caption, latency = built["fig5_latency"]
    labels = [t.get_text() for t in latency.axes[0].get_yticklabels()]
    assert "minilm-l6-conll03-fp32" in labels and not any("@" in label for label in labels)  # short labels
    assert all(a.get_xscale() == "log" for a in latency.axes) and "logarithmic" in caption  # 1 to 450 ms
    assert figure.axes[0].get_xscale() == "log"  # published 2-15 samples/s beside measured 200-950


def test_a_narrow_range_keeps_a_linear_axis() -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots()
    assert not figures._log_if_wide([axes], [200.0, 950.0]) and axes.get_xscale() == "linear"
    assert figures._log_if_wide([axes], [2.0, 950.0]) and axes.get_xscale() == "log"
    plt.close(figure)


@pytest.mark.slow
def test_the_two_machine_report_opens_in_chromium(shared: Path, tmp_path: Path, chromium) -> None:
    paths = [shared / "measurements" / m / "suite-results.json" for m in MEASUREMENTS]
    pages.write(merge.read(paths, list(MACHINES)), tmp_path / "out")
    seen = chromium(
        (tmp_path / "out" / "report.html").as_uri(),
        tmp_path / "report-two-machines.png",
        selectors=["#table5 tbody tr", "figure svg"],
    )
    assert seen.errors == []
    assert seen.counts["#table5 tbody tr"] >= 20 and seen.counts["figure svg"] == 6
