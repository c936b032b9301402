"""The run's summary: the study's Table 5 with ratios to the baseline, published figures marked."""

from __future__ import annotations

from tiny import made_up_result

from nerperf.floors import check
from nerperf.models.registry import Published
from nerperf.report.tables import RunSummary, summary_markdown, summary_table


def run() -> RunSummary:
    results = [
        ("base-fp32", made_up_result(0.90, "base", samples_per_s=10.0)),
        ("small-int8", made_up_result(0.85, "small", "int8", samples_per_s=25.0)),
        ("arch-fp32", made_up_result(None, "arch", samples_per_s=5.0)),
    ]
    # Made-up published figures: the real study's are not available to this project.
    published = {"base-fp32": Published(0.98, 0.91, 0.92, 0.915, 100.0, 10.0, 0.1)}
    floors = [check(results[1][1], results[0][1], 5.0, ("small-int8", "base-fp32"))]
    latency = {"base-fp32": {50: 0.012, 90: 0.030, 99: 0.05}}
    return RunSummary(results, "base-fp32", latency, published, ["other: weights not reachable offline"], floors)


def test_rows_carry_ratios_to_the_baseline_and_mark_what_is_not_measured() -> None:
    lines = summary_table(run()).splitlines()
    assert lines[0] == "data [validation], 10 sentences, batch size 32, 2 threads; baseline base-fp32"
    rows = {line.split("  ")[0]: line.split() for line in lines[3:]}
    assert rows["base-fp32 (baseline)"][-3:-1] == ["+0.00", "1.00"]
    assert rows["base-fp32 (baseline)"][9:14] == ["12.0", "/", "30.0", "/", "50.0"]  # batch-1 p50 / p90 / p99, ms
    assert rows["small-int8"][8:14] == ["100.0", "/", "100.0", "/", "100.0", "(batch"]  # the evaluation's
    assert rows["small-int8"][-3:-1] == ["-5.00", "2.50"]
    assert rows["arch-fp32 (random weights)"][3:7] == ["-", "-", "-", "-"]
    assert rows["arch-fp32 (random weights)"][-2] == "0.50"
    published = rows["base-fp32 (published)"]
    assert published[2:6] == ["0.9800", "0.9100", "0.9200", "0.9150"] and published[-1] == "-"


def test_markdown_lists_what_did_not_run_and_every_floor() -> None:
    text = summary_markdown(run())
    assert "| base-fp32 (published) | 0.9800 |" in text
    assert "## Not run\n\n- other: weights not reachable offline" in text
    assert "- F1 floor holds: small-int8 F1 85.00 against base-fp32 F1 90.00" in text


def test_the_error_kinds_table_is_shown_on_request_only() -> None:
    from dataclasses import replace

    from nerperf.data import semeval
    from nerperf.report.tables import summary_text

    found = semeval.score([["B-PER", "O", "B-LOC"]], [["B-PER", "O", "B-ORG"]])
    summary = run()
    scored = replace(summary.results[0][1], schemes=found.schemes, errors=found.errors)
    summary = replace(summary, results=[("base-fp32", scored), *summary.results[1:]])
    assert "Strict F1" not in summary_text(summary)
    shown = summary_text(summary, show_errors=True)
    assert "SemEval-2013 schemes" in shown
    row = next(line for line in shown.splitlines() if line.startswith("base-fp32") and "0.5000" in line)
    assert row.split()[-5:] == ["1", "1", "0", "0", "0"]  # correct, incorrect (LOC read as ORG), ...
    assert "## SemEval schemes and error kinds" in summary_markdown(summary, show_errors=True)
    for markdown in (summary_markdown(summary), summary_markdown(summary, show_errors=True)):
        assert "No checkpoint was evaluated" not in markdown and "| base-fp32 (baseline) |" in markdown


def test_the_studys_published_rows_show_beside_a_run_that_could_not_measure_them() -> None:
    from dataclasses import replace

    from nerperf.models.registry import PUBLISHED
    from nerperf.report.tables import summary_rows, summary_text

    published = {f"{name}-fp32": p for name, p in PUBLISHED.items()}
    summary = replace(run(), published=published)
    rows = {row[0]: row for row in summary_rows(summary)}
    assert rows["bert-base-ner-fp32 (published; not run here)"][1:8] == [
        "0.9922", "0.9660", "0.9636", "0.9598", "126.17", "7.9", "0.1300",
    ]  # fmt: skip
    text = summary_text(summary)
    assert "Rows marked (published) are not measured here: the study" in text
    assert "published bert-base-ner-fp32: F1 95.98 lies outside its precision 96.60" in text
    assert "## Published figures" in summary_markdown(summary)


def test_each_machines_rows_are_divided_by_that_machines_own_baseline() -> None:
    """Three machines in one report: "Samples/s × baseline" was every row over the first machine's baseline."""
    from dataclasses import replace

    from nerperf.report.tables import kernels_cell, summary_rows

    speeds = {"AMX": (10.0, 40.0), "VNNI": (20.0, 50.0), "AVX2": (5.0, 8.0)}  # fp32, int8 on each machine
    results, machines, case_ids = [], {}, {}
    for machine, (fp32, int8) in speeds.items():
        for variant, speed in (("fp32", fp32), ("int8", int8)):
            name = f"base-{variant} @ {machine}"
            result = made_up_result(0.9, "base", variant, samples_per_s=speed)
            if machine == "AMX" and variant == "int8":
                details = {"kernels": {"isa": "amx", "source": "oneDNN verbose: brg_matmul:avx10_1_512_amx x37"}}
                result = replace(result, build=replace(result.build, details=details))
            results.append((name, result))
            machines[name], case_ids[name] = machine, f"base-{variant}"
    summary = RunSummary(results, "base-fp32 @ AMX", machines=machines, case_ids=case_ids)
    rows = {row[0]: row for row in summary_rows(summary)}
    assert [rows[f"base-fp32 @ {m} (baseline)"][-2] for m in speeds] == ["1.00", "1.00", "1.00"]
    assert [rows[f"base-int8 @ {m}"][-2] for m in speeds] == ["4.00", "2.50", "1.60"]
    assert rows["base-int8 @ AMX"][-1] == "amx" and kernels_cell(results[0][1]) == "-"
