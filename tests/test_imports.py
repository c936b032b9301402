"""Importing nerperf must not import torch or transformers: pytest users who never run a model pay nothing."""

from __future__ import annotations

import subprocess
import sys

LIGHT_MODULES = [
    "nerperf",
    "nerperf.cli",
    "nerperf.conll",
    "nerperf.schemes",
    "nerperf.labels",
    "nerperf.metrics",
    "nerperf.results",
    "nerperf.table",
    "nerperf.hub",
    "nerperf.alignment",
    "nerperf.checkpoints",
    "nerperf.runner",
    "nerperf.evaluation",
    "nerperf.registry",
    "nerperf.settings",
    "nerperf.floors",
    "nerperf.session",
    "nerperf.hooks",
    "nerperf.plugin",
    "nerperf.suite",
]


def test_no_heavy_imports() -> None:
    code = (
        f"import importlib, sys\n"
        f"for name in {LIGHT_MODULES!r}: importlib.import_module(name)\n"
        f"heavy = sorted(m for m in ('torch', 'transformers', 'datasets', 'seqeval') if m in sys.modules)\n"
        f"print(','.join(heavy))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == ""


def test_lazy_exports() -> None:
    import nerperf

    assert callable(nerperf.evaluate)
    assert nerperf.EvalResult.__name__ == "EvalResult"
