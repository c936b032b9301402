"""nerperf's built-in tests: an F1 floor, per-sentence latency and throughput, per checkpoint × variant.

Collect them in a test module of your own (``from nerperf.suite import *``) or run them directly
(``pytest --pyargs nerperf.suite``). The plugin parametrizes them; the work is the session's
(:mod:`nerperf.plugin.session`) and the timing :mod:`nerperf.plugin.timing`'s.
"""

from __future__ import annotations

from typing import Any

import pytest

from nerperf.cases import Case
from nerperf.plugin import timing
from nerperf.plugin.session import NerperfSession

__all__ = ["test_f1_floor", "test_latency", "test_throughput"]


@pytest.mark.nerperf_floor
def test_f1_floor(nerperf: NerperfSession, nerperf_case: Case) -> None:
    """fp32 against the baseline's F1, a variant against its checkpoint's fp32, within the tolerances."""
    nerperf.check_floor(nerperf_case)


@pytest.mark.nerperf_measure("latency")
def test_latency(benchmark: Any, nerperf: NerperfSession, nerperf_case: Case) -> None:
    """Per-sentence latency at batch size 1, one round per sentence of the sample."""
    timing.time_latency(benchmark, nerperf, nerperf_case)


@pytest.mark.nerperf_measure("throughput")
def test_throughput(benchmark: Any, nerperf: NerperfSession, nerperf_case: Case) -> None:
    """Throughput at the configured batch size, one round per batch (batched by sub-tokens)."""
    timing.time_throughput(benchmark, nerperf, nerperf_case)
