"""Shared fixtures: tiny checkpoints of each tokenizer family, synthetic CoNLL files, the shared data."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from tiny import FAMILIES, SENTENCES, save_checkpoint, write_conll

SHARED = Path(os.environ.get("NERPERF_SHARED", Path(__file__).resolve().parents[1].parent / "shared"))


@pytest.fixture(scope="session")
def shared() -> Path:
    """``../shared`` (or ``$NERPERF_SHARED``): the real CoNLL-2003 splits and offline checkpoints."""
    if not (SHARED / "data" / "conll2003" / "test.txt").is_file():
        pytest.skip(f"the shared data is not at {SHARED}; set NERPERF_SHARED to its directory")
    return SHARED


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
