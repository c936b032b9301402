"""nerperf: accuracy and speed regression benchmarks for NER transformer models.

Importing nerperf is cheap: torch and transformers load only when a model is loaded or run.
``nerperf.evaluate`` and ``nerperf.EvalResult`` are resolved on first use.

The layout: the evaluation core is flat in this package (``evaluation`` and what it wires together:
``conll``, ``schemes``, ``type_map``, ``checkpoints``, ``labels``, ``alignment``, ``runner``, ``metrics``,
``semeval``, ``results``),
with the settings, the registry of checkpoints and the choice of cases beside it; ``variants/`` holds
the interchangeable backends, ``plugin/`` everything that imports pytest, ``report/`` the tables,
figures and pages, and ``gate/`` the pull-request gate.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.7.0"
__all__ = ["EvalResult", "evaluate", "__version__"]


def __getattr__(name: str) -> Any:
    if name == "evaluate":
        from nerperf.evaluation import evaluate

        return evaluate
    if name == "EvalResult":
        from nerperf.results import EvalResult

        return EvalResult
    raise AttributeError(f"module 'nerperf' has no attribute {name!r}")
