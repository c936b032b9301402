"""Fixtures for the unit tests: tiny checkpoints of each tokenizer family, synthetic CoNLL files.

The ``shared`` fixture (real data and checkpoints) is in the repository's conftest.py.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from tiny import FAMILIES, SENTENCES, save_checkpoint, write_conll


@pytest.fixture(scope="session", params=FAMILIES)
def tiny_checkpoint(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A saved tiny checkpoint of each tokenizer family (WordPiece, byte-level BPE, Unigram)."""
    return save_checkpoint(tmp_path_factory.mktemp(request.param), request.param)


@pytest.fixture(scope="session")
def bert_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_checkpoint(tmp_path_factory.mktemp("bert"), "wordpiece")


@pytest.fixture
def conll_file(tmp_path: Path) -> Path:
    return write_conll(tmp_path / "tiny.txt", SENTENCES)


# Hypothesis: few examples by default (CI), more with HYPOTHESIS_PROFILE=thorough.
from hypothesis import settings  # noqa: E402

settings.register_profile("default", max_examples=40, deadline=None)
settings.register_profile("thorough", max_examples=1000, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


@pytest.fixture(autouse=True)
def _outside_xdist(monkeypatch: pytest.MonkeyPatch) -> None:
    """The pytest runs these tests start are not pytest-xdist workers, even when these tests run in one
    (conftest.py): pytest-benchmark reads ``PYTEST_XDIST_WORKER`` and would turn itself off in them."""
    for name in ("PYTEST_XDIST_WORKER", "PYTEST_XDIST_WORKER_COUNT", "PYTEST_XDIST_TESTRUNUID"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(autouse=True, scope="session")
def _variant_cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Built variants go to a temporary cache, never the user's ~/.cache/nerperf."""
    os.environ["NERPERF_CACHE_DIR"] = str(tmp_path_factory.mktemp("nerperf-cache"))
