"""The offline checkpoints on the whole CoNLL-2003 test split: nerperf reproduces their READMEs.

Each checkpoint's README (in ../shared/models) states its test F1, measured with seqeval's default mode
and the first sub-token of each word; nerperf must report it within 0.0005. The original IOB1 release
(eng.testb) must give exactly the figures of the IOB2 test.txt. Timings are recorded, never asserted.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from nerperf.evaluation import evaluate
from nerperf.models.checkpoints import Checkpoint, load_checkpoint
from nerperf.results import EvalResult

CHECKPOINTS = ("minilm-l6-conll03", "minilm-l3-conll03")
FILES = {"iob2": "test.txt", "iob1": "original_iob1/eng.testb"}
TOLERANCE = 0.0005
results: dict[tuple[str, str], EvalResult] = {}


def stated_test_f1(readme: Path) -> float:
    found = re.search(r"test \(test\.txt\) (0\.\d+)", readme.read_text(encoding="utf-8"))
    assert found, f"{readme}: no 'test (test.txt) F1' line"
    return float(found.group(1))


@pytest.fixture(scope="module", params=CHECKPOINTS)
def checkpoint(request: pytest.FixtureRequest, shared: Path) -> Checkpoint:
    return load_checkpoint(shared / "models" / request.param)


@pytest.mark.parametrize("scheme", FILES)
def test_whole_test_split(benchmark: Any, shared: Path, checkpoint: Checkpoint, scheme: str) -> None:
    name = Path(checkpoint.name).name
    benchmark.group = f"test-split-{name}"
    result = benchmark.pedantic(
        evaluate, args=(checkpoint, shared / "data/conll2003" / FILES[scheme]), rounds=1, iterations=1
    )
    results[(name, scheme)] = result
    stated = stated_test_f1(shared / "models" / name / "README.md")
    benchmark.extra_info.update(
        checkpoint=name,
        data_scheme=result.data_scheme,
        f1=result.f1,
        stated_f1=stated,
        accuracy=result.scores.accuracy,
        samples_per_s=result.speed.samples_per_s,
    )
    assert result.sentences == 3453
    assert abs(result.f1 - stated) <= TOLERANCE, f"{name}: F1 {result.f1:.4f}, its README states {stated:.4f}"
    other = results.get((name, "iob2" if scheme == "iob1" else "iob1"))
    if other is not None:  # the IOB1 release and the IOB2 split score identically
        assert result.scores == other.scores and result.coverage == other.coverage
