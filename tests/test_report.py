"""``nerperf report``: every input nerperf writes, the table, the figures, a self-contained page, whole files."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tiny import made_up_result

from nerperf import cli, results
from nerperf.report import merge, pages
from nerperf.report.figures import pareto_frontier

RESULTS = {
    "base-fp32": made_up_result(0.90, "base", samples_per_s=10.0),
    "base-onnx-int8": made_up_result(0.89, "base", "onnx-int8", samples_per_s=30.0),
    "small-fp32": made_up_result(0.85, "small", samples_per_s=25.0),
    "arch-fp32": made_up_result(None, "arch", samples_per_s=5.0),
}


def benchmark_json(path: Path) -> Path:
    """A pytest-benchmark file as the plugin's benchmarks write it, with someone else's benchmark beside."""
    benchmarks = [
        {
            "name": f"test_latency[{key}]",
            "extra_info": {
                "nerperf_id": key,
                "baseline": "base-fp32",
                "result": result.to_dict(),
                "latency_percentiles_s": {"50": 0.010, "90": 0.020, "99": 0.040},
            },
        }
        for key, result in RESULTS.items()
    ]
    benchmarks.append({"name": "test_unrelated", "extra_info": {}})
    data = {"machine_info": {"cpu": {"brand_raw": "Test CPU"}}, "benchmarks": benchmarks}
    path.write_text(json.dumps(data))
    return path


def rows(markdown: str) -> dict[str, list[str]]:
    return {
        cells[0]: cells[1:]
        for line in markdown.splitlines()
        if line.startswith("| ") and not line.startswith("| Checkpoint")
        for cells in [[c.strip() for c in line.strip("|").split("|")]]
    }


def test_a_pytest_benchmark_run_becomes_the_studys_table_with_tail_latency(tmp_path: Path) -> None:
    paths = pages.write(merge.read([benchmark_json(tmp_path / "run.json")]), tmp_path / "out")
    table = rows((tmp_path / "out" / "report.md").read_text())
    assert list(table) == ["base-fp32 (baseline)", "base-onnx-int8", "small-fp32", "arch-fp32 (random weights)"]
    assert table["base-onnx-int8"][3] == "0.8900"  # F1
    assert table["base-onnx-int8"][7] == "10.0 / 20.0 / 40.0"  # batch-1 p50 / p90 / p99 in ms
    assert table["base-onnx-int8"][-3:] == ["-1.00", "3.00", "-"]  # ΔF1 points, samples/s × baseline, kernels
    assert table["arch-fp32 (random weights)"][:4] == ["-"] * 4
    names = sorted(p.name for p in paths if p.parent.name == "figures")
    assert names == sorted(
        f"{n}.{s}"
        for n in ("fig3_f1_vs_samples_per_s", "fig4_f1_vs_total_time", "fig5_latency", "pareto_f1_vs_throughput")
        for s in ("svg", "png")
    )
    assert all(p.stat().st_size > 1000 for p in paths)


def test_the_plugins_results_and_eval_files_are_read_too(tmp_path: Path) -> None:
    plugin = tmp_path / "results.json"
    entries = [{"id": k, "batch1_latency_percentiles_s": None, **r.to_dict()} for k, r in RESULTS.items()]
    plugin.write_text(json.dumps({"schema": 1, "baseline": "small-fp32", "results": entries}))
    single = tmp_path / "eval.json"
    made_up_result(0.5, "/models/Other-NER", "int8").save(single)
    found = merge.read([plugin, single])
    run = pages.summarize(found)
    assert run.baseline == "small-fp32"
    assert list(found.results)[-1] == "other-ner-int8"  # named as the registry names a directory
    text = pages.render_markdown(run, found, {}, "t")
    assert "| 100.0 / 100.0 / 100.0 (batch 32) |" in text  # no batch-1 timing: the evaluation's, marked


def test_the_baseline_defaults_to_the_studys_bert_base_then_the_first(tmp_path: Path) -> None:
    found = merge.read([benchmark_json(tmp_path / "run.json")])
    found.baseline = None
    assert pages.summarize(found).baseline == "base-fp32"
    assert pages.summarize(found, "small-fp32").baseline == "small-fp32"
    with pytest.raises(pages.ReportError, match="baseline 'nope' is not among the results: base-fp32, "):
        pages.summarize(found, "nope")
    found.baseline = "floors-only-fp32"  # the run evaluated it for its floors but did not benchmark it
    assert pages.summarize(found).baseline == "base-fp32"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\xff\xfe not text", "cannot read it as JSON"),
        (b"{}", "not a nerperf result: give a pytest-benchmark JSON"),
        (b'{"benchmarks": [{"name": "x", "extra_info": {}}]}', "it has no nerperf benchmarks"),
        (b'{"checkpoint": "x", "speed": {}, "schema": 1}', "result schema 1 is not one of (2, 3); re-run"),
    ],
    ids=["not-json", "unknown-shape", "no-nerperf-benchmarks", "old-schema"],
)
def test_what_is_not_a_nerperf_result_is_named_with_what_can_be_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes, message: str
) -> None:
    bad = tmp_path / "bad.json"
    bad.write_bytes(content)
    assert cli.main(["report", str(bad), "--out", str(tmp_path / "out")]) == 2
    error = capsys.readouterr().err
    assert str(bad) in error and message in error
    assert not (tmp_path / "out").exists()


def test_a_failed_report_leaves_the_earlier_one_whole(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    found = merge.read([benchmark_json(tmp_path / "run.json")])
    pages.write(found, tmp_path / "out")
    before = {p: p.read_bytes() for p in (tmp_path / "out").rglob("*") if p.is_file()}

    def broken(run: object) -> dict:
        raise RuntimeError("matplotlib failed")

    monkeypatch.setattr("nerperf.report.figures.draw_all", broken)
    with pytest.raises(RuntimeError):
        pages.write(found, tmp_path / "out")
    assert {p: p.read_bytes() for p in (tmp_path / "out").rglob("*") if p.is_file()} == before


def test_the_page_stands_alone(tmp_path: Path) -> None:
    pages.write(merge.read([benchmark_json(tmp_path / "run.json")]), tmp_path / "out")
    page = (tmp_path / "out" / "report.html").read_text()
    assert page.count("<svg") == 4 and 'id="table5"' in page
    assert "<script" not in page and "<link" not in page
    assert not re.search(r'(src|href)="(?!#)|url\((?!#)', page)  # references only inside the page


def test_the_page_loads_in_chromium_with_its_table_and_figures(tmp_path: Path, chromium) -> None:
    pages.write(merge.read([benchmark_json(tmp_path / "run.json")]), tmp_path / "out")
    seen = chromium(
        (tmp_path / "out" / "report.html").as_uri(),
        tmp_path / "report.png",
        selectors=["#table5 tbody tr", "figure svg path"],
    )
    assert seen.errors == []
    assert seen.counts["#table5 tbody tr"] == 4 and seen.counts["figure svg path"] > 50
    assert seen.screenshot.stat().st_size > 10_000


def test_the_browser_check_sees_console_errors(tmp_path: Path, chromium) -> None:
    page = tmp_path / "broken.html"
    page.write_text("<!DOCTYPE html><p>x</p><script>console.error('drawn wrong'); missing();</script>")
    seen = chromium(page.as_uri(), tmp_path / "broken.png")
    assert seen.errors == ["console: drawn wrong", "uncaught: missing is not defined"]


@given(st.lists(st.tuples(st.integers(0, 20), st.integers(0, 20)), min_size=1, max_size=30))
def test_the_frontier_is_exactly_the_undominated_points(points: list[tuple[int, int]]) -> None:
    frontier = pareto_frontier(points)

    def beaten(p: tuple[int, int]) -> bool:
        return any(q[0] >= p[0] and q[1] >= p[1] and q != p for q in points)

    assert set(frontier) == {i for i, p in enumerate(points) if not beaten(p)}
    assert [points[i][0] for i in frontier] == sorted(points[i][0] for i in frontier)


def test_published_figures_sit_beside_the_measured_marked_as_published(tmp_path: Path) -> None:
    published = tmp_path / "published.json"
    figures = {"accuracy": 0.98, "precision": 0.91, "recall": 0.92, "f1": 0.915, "total_s": 50.0}
    published.write_text(json.dumps({"base": {**figures, "samples_per_s": 20.0, "latency_s": 0.05}}))
    out = tmp_path / "out"
    assert (
        cli.main(
            ["report", str(benchmark_json(tmp_path / "run.json")), "--out", str(out), "--published", str(published)]
        )
        == 0
    )
    table = rows((out / "report.md").read_text())
    assert table["base-fp32 (published)"][:7] == ["0.9800", "0.9100", "0.9200", "0.9150", "50.00", "20.0", "0.0500"]
    assert "Hollow red points are the study's published figures." in (out / "report.md").read_text()
    assert 'class="published"' in (out / "report.html").read_text()


def test_a_published_file_of_the_wrong_shape_says_what_to_write(tmp_path: Path) -> None:
    published = tmp_path / "published.json"
    published.write_text('{"base": {"f1": 0.9}}')
    with pytest.raises(pages.ReportError, match=r'published.json: not published figures .*"accuracy": NUMBER'):
        pages.read_published(published)


def test_error_kinds_are_a_table_and_a_stacked_bar_per_case(tmp_path: Path) -> None:
    from dataclasses import replace

    from nerperf.data import semeval

    gold = [["B-PER", "I-PER", "O", "B-LOC", "O", "B-ORG", "I-ORG", "O", "B-MISC"]]
    worse = [["B-PER", "I-PER", "O", "B-ORG", "O", "B-ORG", "O", "B-LOC", "O"]]
    files = []
    for variant, predicted in (("fp32", gold), ("int8", worse)):
        found = semeval.score(gold, predicted)
        files.append(tmp_path / f"{variant}.json")
        replace(made_up_result(0.9, "base", variant), schemes=found.schemes, errors=found.errors).save(files[-1])
    paths = pages.write(merge.read(files), tmp_path / "out")
    assert tmp_path / "out" / "figures" / "error_kinds.svg" in paths
    text = (tmp_path / "out" / "report.md").read_text()
    table = rows(text[text.index("| Model | Variant | Strict F1") :])
    # strict, exact, partial, type F1; correct, incorrect, partial, missed, spurious
    assert table["base-fp32"] == ["fp32", "1.0000", "1.0000", "1.0000", "1.0000", "4", "0", "0", "0", "0"]
    assert table["base-int8"][1] == "0.2500" and table["base-int8"][5:] == ["1", "1", "1", "1", "1"]
    assert 'id="semeval"' in (tmp_path / "out" / "report.html").read_text()
    svg = (tmp_path / "out" / "figures" / "error_kinds.svg").read_text()
    assert "base-int8 (1 correct)" in svg and "base-fp32 (4 correct)" in svg


def test_a_run_on_the_studys_sample_shows_the_whole_published_table5(tmp_path: Path) -> None:
    from dataclasses import replace

    on_sample = replace(made_up_result(0.9, "minilm"), data="../shared/data/conll2003/valid.txt", sentences=1000)
    elsewhere = replace(on_sample, data="wnut17/test.tsv", split=None)
    for name, result, shown in (("sample", on_sample, True), ("elsewhere", elsewhere, False)):
        result.save(tmp_path / f"{name}.json")
        pages.write(merge.read([tmp_path / f"{name}.json"]), tmp_path / name)
        text = (tmp_path / name / "report.md").read_text()
        assert ("| bert-base-ner-fp32 (published; not run here) | 0.9922 |" in text) is shown
        assert ("F1 95.98 lies outside its precision 96.60" in text) is shown
        assert ("Hatched red bars are the study's published latencies" in text) is shown  # Figure 5
        assert ("Hollow red points are the study's published figures (not on the frontier" in text) is shown
        assert ("bert-base-ner-fp32 (published)" in (tmp_path / name / "report.html").read_text()) is shown


def on_machine(result: results.EvalResult, cpu: str) -> results.EvalResult:
    from dataclasses import replace

    return replace(result, environment={"cpu": cpu, "nerperf": "0.4.0"})


AVX2 = "AMD EPYC; AVX2 yes, AVX-512 no, VNNI no, BF16 no, AMX no; 2 cores"
AVX512 = "AMD EPYC; AVX2 yes, AVX-512 yes, VNNI yes, BF16 yes, AMX no; 2 cores"


def test_results_of_two_machines_are_kept_apart_with_a_speedup_table_and_figure(tmp_path: Path) -> None:
    """The same cases on two machines: a row each, and each variant's speed-up over its own machine's fp32."""
    files = []
    for index, (cpu, int8_speed) in enumerate(((AVX2, 12.0), (AVX512, 25.0))):
        for variant, speed in (("fp32", 10.0), ("int8", int8_speed)):
            path = tmp_path / f"machine{index}-{variant}.json"
            on_machine(made_up_result(0.9, "base", variant, samples_per_s=speed), cpu).save(path)
            files.append(path)
    found = merge.read(files)
    assert sorted(set(found.machines.values())) == [
        "AMD EPYC, AVX2 AVX-512 VNNI BF16, 2 cores",
        "AMD EPYC, AVX2, 2 cores",
    ]
    assert sorted(found.results) == sorted(
        f"base-{v} @ AMD EPYC, {f}, 2 cores" for v in ("fp32", "int8") for f in ("AVX2", "AVX2 AVX-512 VNNI BF16")
    )
    written = pages.write(found, tmp_path / "out")
    text = (tmp_path / "out" / "report.md").read_text()
    table = rows(text[text.index("| Checkpoint | Variant | AMD EPYC, AVX2, 2 cores") :])
    assert table["base"] == ["int8", "1.20 / -", "2.50 / -"]  # batched / batch-1 (not timed at batch 1 here)
    assert "Machines, kept apart" in text and tmp_path / "out" / "figures" / "speedup_by_machine.svg" in written
    page = (tmp_path / "out" / "report.html").read_text()
    assert '<table id="machines">' in page and 'id="speedup_by_machine"' in page
    # One machine's results in several files (shards): one machine, ids as they were, no per-machine table.
    same = merge.read(files[:2])
    assert sorted(same.results) == ["base-fp32", "base-int8"]
    pages.write(same, tmp_path / "one")
    assert "Speed-up over fp32 per machine" not in (tmp_path / "one" / "report.md").read_text()


def test_a_file_is_given_its_machine_on_the_command_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    old = tmp_path / "old=results.json"  # an "=" in a file name still reads as the file
    made_up_result(0.9, "base", samples_per_s=10.0).save(old)
    new = tmp_path / "new.json"
    on_machine(made_up_result(0.9, "base", samples_per_s=20.0), AVX2).save(new)
    assert cli.main(["report", "AVX-512 box=" + str(new), str(old), "--out", str(tmp_path / "out")]) == 0
    text = (tmp_path / "out" / "report.md").read_text()
    assert "base-fp32 @ AVX-512 box" in text and "base-fp32 @ unrecorded machine" in text
    assert "unrecorded machine: results that recorded no machine" in text


def test_the_avx512_machines_files_merge_with_this_machines(shared: Path, tmp_path: Path) -> None:
    """The AVX-512 VNNI machine's results (nerperf 0.3's results.json, no machine recorded) beside a result
    of this machine: per-machine columns for the variants both ran, and the figure."""
    measured = shared / "measurements" / "2026-11-28-epyc-avx512-vnni-bf16" / "suite-results.json"
    for variant, speed in (("fp32", 150.0), ("onnx-int8", 300.0)):
        path = tmp_path / f"here-{variant}.json"
        result = made_up_result(0.9162, "../shared/models/minilm-l6-conll03", variant, samples_per_s=speed)
        on_machine(result, AVX2).save(path)
    found = merge.read(
        [measured, tmp_path / "here-fp32.json", tmp_path / "here-onnx-int8.json"], ["EPYC AVX-512 VNNI BF16"]
    )
    assert "minilm-l6-conll03-bf16 @ EPYC AVX-512 VNNI BF16" in found.results
    pages.write(found, tmp_path / "out")
    text = (tmp_path / "out" / "report.md").read_text()
    table = rows(text[text.index("| Checkpoint | Variant | EPYC AVX-512 VNNI BF16") :].split("\n\n")[0])
    assert table["minilm-l6-conll03"][0] in {"int8", "bf16", "onnx", "onnx-int8"}
    onnx_int8 = next(
        cells
        for line in text.splitlines()
        if line.startswith("| minilm-l6-conll03 | onnx-int8 |")
        for cells in [line.split(" | ")]
    )
    assert onnx_int8[3].startswith("2.00 / ")  # this machine: 300 against 150 sentences/s
