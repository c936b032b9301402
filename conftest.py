"""Repository-level defaults for tests/ and benches/: where the offline data and checkpoints are.

``../shared`` beside the repository holds the real CoNLL-2003 splits and two fine-tuned checkpoints;
``NERPERF_SHARED`` points elsewhere. They are read by path and never copied into the repository.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

SHARED = Path(os.environ.get("NERPERF_SHARED", Path(__file__).resolve().parent.parent / "shared"))


@pytest.fixture(scope="session")
def shared() -> Path:
    """The shared directory; tests that need it skip, saying how to provide it, where it is missing."""
    if not (SHARED / "data" / "conll2003" / "test.txt").is_file():
        pytest.skip(f"the shared data is not at {SHARED}; set NERPERF_SHARED to its directory")
    return SHARED
