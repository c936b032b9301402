"""nerperf: accuracy and speed regression benchmarks for NER transformer models.

Importing nerperf is cheap: torch and transformers load only when a model is loaded or run.
``nerperf.evaluate`` and ``nerperf.EvalResult`` are resolved on first use.

The layout, in layers that import-linter keeps (``pyproject.toml``): the core is ``evaluation``
(``evaluate()`` and its options), ``results``, ``settings``, ``cases`` and ``case_runner``, ``floors``
and a few plain modules, flat here, on top of ``data/`` (reading and scoring inputs), ``models/``
(checkpoints, the registry, running them) and ``variants/`` (the interchangeable backends). The tools
sit above the core and the core imports none of them: ``plugin/`` (everything that imports pytest),
``report/`` (tables, figures, pages), ``processes/`` (child pytest processes and their turns), ``gate/``
(``nerperf gate`` and ``nerperf bisect``), ``tune/`` and ``cli``.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.16.4"  # the package's version too (pyproject.toml reads it here)
__all__ = ["EvalResult", "evaluate", "__version__"]


def __getattr__(name: str) -> Any:
    if name == "evaluate":
        from nerperf.evaluation import evaluate

        return evaluate
    if name == "EvalResult":
        from nerperf.results import EvalResult

        return EvalResult
    raise AttributeError(f"module 'nerperf' has no attribute {name!r}")
