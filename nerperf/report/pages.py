"""``nerperf report``: results of earlier runs -> the study's Table 5 and figures, as Markdown and HTML.

It never re-measures: the results come from the files nerperf writes (:func:`nerperf.results.read`).
The table is :func:`nerperf.report.tables.summary_rows` (the terminal summary's); the figures are
:mod:`nerperf.report.figures`'. Every file is written whole or not at all, so a failed run leaves an
earlier report as it was.
"""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from nerperf import study
from nerperf.atomic import write_atomic
from nerperf.errors import NerperfInputError
from nerperf.models.registry import BASELINE, STUDY, Published, param_id, published_remarks
from nerperf.report.merge import Inputs
from nerperf.report.tables import (
    MACHINES_CAPTION,
    SEMEVAL_CAPTION,
    SEMEVAL_COLUMNS,
    SUMMARY_COLUMNS,
    RunSummary,
    machines_rows,
    markdown,
    notes,
    published_notes,
    semeval_rows,
    summary_rows,
)
from nerperf.results import UNRECORDED


class ReportError(NerperfInputError):
    """Published figures nerperf cannot read, or a baseline that is not among the results."""


def read_published(path: Path) -> dict[str, Published]:
    """Published figures from a JSON file: ``{"bert-base-ner": {"accuracy": ..., "f1": ..., ...}}``.

    The study's Table 5 is in nerperf's registry; this adds figures for other checkpoints (another
    paper's, a reference run's) or replaces the study's, each checked as the study's rows are.
    """
    fields = [f for f in Published.__dataclass_fields__ if f not in ("remarks", "source")]
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        found = {}
        for name, figures in data.items():
            row = Published(**{f: float(figures[f]) for f in fields})
            found[param_id(name, "fp32")] = replace(row, remarks=tuple(published_remarks(row)), source=str(path))
        return found
    except (
        OSError,
        UnicodeDecodeError,
        json.JSONDecodeError,
        AttributeError,
        TypeError,
        KeyError,
        ValueError,
    ) as error:
        raise ReportError(
            f"{path}: not published figures ({type(error).__name__}: {error}); write "
            f'{{"CHECKPOINT": {{{", ".join(f"{chr(34)}{f}{chr(34)}: NUMBER" for f in fields)}}}}}'
        ) from None


def summarize(found: Inputs, baseline: str | None = None, published: dict[str, Published] | None = None) -> RunSummary:
    """The run summary the tables and figures are drawn from.

    The baseline is ``baseline`` if given, else the one the run recorded if it was benchmarked too,
    else the study's BERT-base fp32 if present, else the first result: the report says which.
    Published figures are the registry's, replaced by ``published`` where given: those of the measured
    checkpoints, and the study's whole Table 5 where a result is on the study's sample.
    """
    ids = list(found.results)
    recorded = found.baseline if found.baseline in ids else None  # a run may evaluate it for floors only
    chosen = baseline or recorded or (param_id(BASELINE, "fp32") if param_id(BASELINE, "fp32") in ids else ids[0])
    if chosen not in found.results:
        raise ReportError(f"baseline {chosen!r} is not among the results: {', '.join(ids)}")
    known = {param_id(name, "fp32"): spec.published for name, spec in STUDY.items() if spec.published}
    on_sample = any(study.is_sample(r.data, r.split, r.sentences) for r in found.results.values())
    shown = {k: v for k, v in known.items() if k in ids or on_sample}
    shown.update(published or {})
    return RunSummary(
        list(found.results.items()), chosen, found.latency, shown, machines=found.machines, case_ids=found.case_ids
    )


# -- writing ------------------------------------------------------------------------------------------
def write(
    found: Inputs,
    directory: Path,
    baseline: str | None = None,
    title: str = "nerperf report",
    published: dict[str, Published] | None = None,
    history_steps: Sequence[str] = (),
) -> list[Path]:
    """report.md, report.html (self-contained) and figures/*.svg|png in ``directory``; returns the paths.
    ``history_steps``: lines on the steps asv's history shows, each with its ``nerperf bisect`` command."""
    from nerperf.report import figures

    run = summarize(found, baseline, published)
    drawn = figures.draw_all(run)  # name -> (caption, svg text, png bytes)
    written = []
    for name, (_, svg, png) in drawn.items():
        for suffix, content in ((".svg", svg), (".png", png)):
            path = directory / "figures" / f"{name}{suffix}"
            write_atomic(path, content)
            written.append(path)
    md = directory / "report.md"
    page = directory / "report.html"
    write_atomic(md, render_markdown(run, found, drawn, title, history_steps))
    write_atomic(page, render_html(run, found, drawn, title, history_steps))
    return [md, page, *written]


def _facts(run: RunSummary, found: Inputs) -> list[str]:
    first = run.results[0][1]
    facts = [
        f"Data: {first.data}" + (f" [{first.split}]" if first.split else "") + f", {first.sentences} sentences; "
        f"{first.speed.batching()}, {first.speed.threads} threads.",
        f"Baseline: {run.baseline} (ΔF1 and samples/s × baseline are against it).",
        "Latency: per sentence, at batch size 1 where the run timed it (pytest-benchmark), else at the "
        "evaluation's batch size, as marked. The study's latency column is total time / sentences.",
    ]
    machines = run.machine_names()
    if len(machines) > 1:
        facts.append("Machines, kept apart (a case per machine, `ID @ MACHINE`): " + _machines_seen(run))
        if UNRECORDED in machines:
            facts.append(
                f"{UNRECORDED}: results that recorded no machine (nerperf before 0.4), taken to be one; "
                "name a file's machine with MACHINE=FILE"
            )
    elif found.machine:
        machine = {k: ", ".join(v) if isinstance(v, list) else v for k, v in found.machine.items() if v}
        facts.append("Machine: " + "; ".join(f"{k} {v}" for k, v in machine.items()))
    if run.published:
        facts += published_notes(run)
    else:
        facts.append(
            "No published figures for these checkpoints: nerperf's registry lacks the study's Table 5; "
            "`nerperf report --published FILE` adds them."
        )
    facts.append("From: " + "; ".join(found.sources))
    return facts


def _machines_seen(run: RunSummary) -> str:
    """Each machine with its count of results and the nerperf versions that measured them."""
    described = []
    for machine in run.machine_names():
        mine = [r for name, r in run.results if run.machines.get(name) == machine]
        versions = sorted({r.environment.get("nerperf", "an unrecorded version") for r in mine})
        described.append(f"{machine} ({len(mine)} results, nerperf {', '.join(versions)})")
    return "; ".join(described) + ". Batches differ across nerperf versions (0.4 batches by sub-tokens)."


def _warnings(run: RunSummary) -> list[str]:
    return [f"{name}: {line}" for name, r in run.results for line in notes(r) if line.startswith("WARNING")]


def render_markdown(
    run: RunSummary, found: Inputs, drawn: dict[str, tuple[str, str, bytes]], title: str, steps: Sequence[str] = ()
) -> str:
    parts = [f"# {title}", "", *(f"- {fact}" for fact in [*_facts(run, found), *steps]), ""]
    parts += [markdown(summary_rows(run), SUMMARY_COLUMNS), ""]
    by_machine = machines_rows(run)
    if by_machine:
        parts += [MACHINES_CAPTION, "", markdown(by_machine[1], by_machine[0]), ""]
    partial_credit = semeval_rows(run.results)
    if partial_credit:
        parts += [SEMEVAL_CAPTION, "", markdown(partial_credit, SEMEVAL_COLUMNS), ""]
    parts += [f"- {line}" for line in _warnings(run)]
    for name, (caption, _, _) in drawn.items():
        parts += ["", f"![{caption}](figures/{name}.svg)", "", f"*{caption}*"]
    return "\n".join(parts).rstrip() + "\n"


_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em; color: #222; }
table { border-collapse: collapse; font-size: 0.85em; }
th, td { border: 1px solid #ccc; padding: 0.3em 0.6em; text-align: right; }
th:first-child, td:first-child { text-align: left; }
tr.published td { font-style: italic; color: #666; }
tr.baseline td { font-weight: bold; }
figure { display: inline-block; margin: 1em; max-width: 46%; vertical-align: top; }
figure svg { width: 100%; height: auto; }
.warning { color: #a40; }
"""


def render_html(
    run: RunSummary, found: Inputs, drawn: dict[str, tuple[str, str, bytes]], title: str, steps: Sequence[str] = ()
) -> str:
    """One page, no external resources and no script: the figures are inline SVG."""
    e = html.escape
    head = "".join(f"<th>{e(c)}</th>" for c in SUMMARY_COLUMNS)
    rows = []
    for row in summary_rows(run):
        kind = "published" if row[0].endswith("(published)") else "baseline" if "(baseline)" in row[0] else ""
        cells = "".join(f"<td>{e(str(c))}</td>" for c in row)
        rows.append(f'<tr class="{kind}">{cells}</tr>')
    facts = "".join(f"<li>{e(f)}</li>" for f in [*_facts(run, found), *steps])
    second = ""
    partial_credit = semeval_rows(run.results)
    if partial_credit:
        cells = "".join("<tr>" + "".join(f"<td>{e(str(c))}</td>" for c in row) + "</tr>" for row in partial_credit)
        second = (
            f'<p>{e(SEMEVAL_CAPTION)}</p><table id="semeval"><thead><tr>'
            + "".join(f"<th>{e(c)}</th>" for c in SEMEVAL_COLUMNS)
            + f"</tr></thead><tbody>{cells}</tbody></table>"
        )
    by_machine = machines_rows(run)
    if by_machine:
        header, machine_rows = by_machine
        cells = "".join("<tr>" + "".join(f"<td>{e(c)}</td>" for c in row) + "</tr>" for row in machine_rows)
        second += (
            f'<p>{e(MACHINES_CAPTION)}</p><table id="machines"><thead><tr>'
            + "".join(f"<th>{e(c)}</th>" for c in header)
            + f"</tr></thead><tbody>{cells}</tbody></table>"
        )
    warnings = "".join(f'<li class="warning">{e(w)}</li>' for w in _warnings(run))
    figures = "".join(
        f'<figure id="{e(name)}">{_inline(svg)}<figcaption>{e(caption)}</figcaption></figure>'
        for name, (caption, svg, _) in drawn.items()
    )
    return (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{e(title)}</title>'
        f"<style>{_STYLE}</style></head><body><h1>{e(title)}</h1><ul>{facts}</ul>"
        f'<table id="table5"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'
        f"{second}<ul>{warnings}</ul><section>{figures}</section></body></html>\n"
    )


def _inline(svg: str) -> str:
    """An SVG document as inline markup: without its XML declaration and doctype."""
    start = svg.find("<svg")
    return svg[start:] if start >= 0 else svg
