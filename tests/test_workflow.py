"""The GitHub workflow: its matrix, parts and merge fit together (it cannot run here, so its shape is checked)."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from nerperf.settings import shard_spec

WORKFLOW = Path(__file__).resolve().parent.parent / ".github" / "workflows" / "nerperf.yml"


def test_every_runner_kind_runs_every_part_and_one_job_merges_them() -> None:
    jobs = yaml.safe_load(WORKFLOW.read_text())["jobs"]
    matrix = jobs["suite"]["strategy"]["matrix"]
    assert len(matrix["runner"]) >= 2  # which variant wins depends on the CPU: more than one kind
    parts = sorted(shard_spec(s) for s in matrix["shard"])
    assert parts == [(k, len(parts)) for k in range(1, len(parts) + 1)]  # disjoint and complete
    suite = "\n".join(step.get("run", "") for step in jobs["suite"]["steps"])
    assert "--nerperf-shard=${{ matrix.shard }}" in suite and '--nerperf-report="parts/$part"' in suite
    upload = next(s for s in jobs["suite"]["steps"] if s.get("uses", "").startswith("actions/upload-artifact"))
    assert upload["with"]["name"].startswith("nerperf-") and upload["with"]["path"] == "parts/"
    history = jobs["history"]
    assert history["needs"] == "suite"
    download = next(s for s in history["steps"] if s.get("uses", "").startswith("actions/download-artifact"))
    assert download["with"]["pattern"] == "nerperf-*" and download["with"]["merge-multiple"] is True
    merge = "\n".join(step.get("run", "") for step in history["steps"])
    assert re.search(r'nerperf report "\$\{inputs\[@\]\}"', merge)  # every part, named by its runner kind
    assert "asv publish" in merge and "parts/*/asv/*" in merge  # every machine's asv results, one history
