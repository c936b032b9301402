"""Memory is bounded by the batch, not the data: the study's 1,000 validation sentences at batch 256, and
the same sentences twice over, peak at the same resident memory; batch 32 peaks lower.

Batches go by size alone here (``max_tokens=None``): under the default token budget of 1,024 padded
sub-tokens, batch 256 holds no more tokens than batch 32, and the two peaks differed by less than the
allocator's noise (545 and 594 MB on 2026-12-02), which is what made this bench flaky.

Each run is a fresh process (so that one run's freed memory cannot hide the next one's peak), measured
by nerperf's own probe (``VmHWM``, reset when the evaluation starts). What a run adds to the process is
its peak less what the process held at the start. The figures are written to
``.benchmarks/resources.json`` and quoted in docs/bad-input-and-faults.md; the assertion is a ratio within one run
of this test, never an absolute size.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from nerperf.atomic import write_atomic

OUTPUT = Path(__file__).parent.parent / ".benchmarks" / "resources.json"
CHILD = """
import json, sys
from dataclasses import replace
from nerperf.data.conll import load_corpus
from nerperf.evaluation import Timing, evaluate

data, model, copies, batch = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
corpus = load_corpus(data, "validation").head(1000)  # the study's sample
corpus = replace(corpus, sentences=corpus.sentences * copies)
result = evaluate(model, corpus, timing=Timing(batch_size=batch, max_tokens=None, warmup=False))
print(json.dumps({"sentences": result.sentences, "f1": result.f1, "start": result.memory.start_bytes,
                  "peak": result.memory.peak_bytes, "method": result.memory.method}))
"""
RUNS = {"sample-batch-32": (1, 32), "sample-batch-256": (1, 256), "sample-twice-batch-256": (2, 256)}


def measure(shared: Path, copies: int, batch: int) -> dict[str, float]:
    """The least of two runs in fresh processes: the allocator's noise only adds to a high-water mark (one run
    each moved by 100 MB between runs of one commit on 2026-12-02, enough to reorder batch 32 and 256)."""
    return min((_measure_once(shared, copies, batch) for _ in range(2)), key=lambda figures: figures["added_mb"])


def _measure_once(shared: Path, copies: int, batch: int) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(shared / "data" / "conll2003"),
         str(shared / "models" / "minilm-l3-conll03"), str(copies), str(batch)],
        capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    figures["added_mb"] = (figures["peak"] - figures["start"]) / 1e6
    return figures


@pytest.fixture(scope="module")
def measured(shared: Path) -> dict[str, dict[str, float]]:
    found = {name: measure(shared, copies, batch) for name, (copies, batch) in RUNS.items()}
    write_atomic(OUTPUT, json.dumps(found, indent=2, sort_keys=True) + "\n")
    return found


def test_memory_does_not_grow_with_the_number_of_sentences(measured: dict[str, dict[str, float]]) -> None:
    once, twice = measured["sample-batch-256"], measured["sample-twice-batch-256"]
    assert twice["sentences"] == 2 * once["sentences"] == 2 * 1000
    assert twice["f1"] == pytest.approx(once["f1"])
    # Twice the sentences, the same longest batch: the same memory, within allocator noise.
    assert twice["added_mb"] <= 1.10 * once["added_mb"] + 20, measured


def test_a_larger_batch_is_what_costs_memory(measured: dict[str, dict[str, float]]) -> None:
    assert measured["sample-batch-256"]["added_mb"] > measured["sample-batch-32"]["added_mb"], measured
