"""``EvalResult``: one evaluation's figures, typed, frozen and JSON round-trippable.

The command line, the pytest plugin, the benchmarks and reports all read this one type, so a figure
means the same thing everywhere. It imports neither torch nor transformers. Computing it is
:mod:`nerperf.evaluation`'s job; writing it to disk safely is :func:`EvalResult.save`'s.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from nerperf.atomic import write_atomic
from nerperf.metrics import Scores, TypeScore

SCHEMA_VERSION = 2  # 2: variants, random weights (scores None), build and memory figures


@dataclass(frozen=True)
class Speed:
    """The study's time figures plus what it lacked: tokenization apart, latency percentiles."""

    total_s: float
    tokenize_s: float
    model_s: float
    samples_per_s: float
    latency_mean_s: float  # the study's "latency": total time / sentences
    latency_p50_s: float
    latency_p90_s: float
    latency_p99_s: float
    batch_size: int
    threads: int
    warmup_batches: int  # batches run before timing and excluded from it
    matmul_gflop: float = 0.0  # matrix-multiply work of the timed batches, padding included (see architectures)


@dataclass(frozen=True)
class Coverage:
    """What could not be scored as the model predicted it; every count here is also in the score."""

    words: int
    unaligned_words: int  # words with no sub-token: scored as O
    windowed_sentences: int  # sentences longer than the model window, predicted in overlapping windows
    dropped_predictions: dict[str, int] = field(default_factory=dict)  # model type -> predictions made O
    unpredictable_types: tuple[str, ...] = ()  # data types the model has no label for: all misses


@dataclass(frozen=True)
class Build:
    """The variant that ran: its size, how long it took to build, and whether it came from the cache."""

    size_bytes: int
    build_s: float
    from_cache: bool
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Memory:
    """Resident memory of the process that ran the evaluation."""

    start_bytes: int  # when the evaluation started (what the process already held)
    peak_bytes: int  # high-water mark during the evaluation, variant build included
    method: str


@dataclass(frozen=True)
class EvalResult:
    checkpoint: str
    variant: str
    data: str
    split: str | None
    sentences: int
    data_scheme: str  # how the gold tags were read, e.g. "IOB1 (...) converted to IOB2"
    scores: Scores | None  # None for random weights: their predictions mean nothing
    speed: Speed
    coverage: Coverage
    build: Build
    memory: Memory
    f1_ci95: tuple[float, float] | None = None
    weights: str = "real"  # "real", or "random": an architecture timed without its weights, no F1
    tokenizer: str = ""  # a stand-in tokenizer's source, when the checkpoint's own was not available
    environment: dict[str, str] = field(default_factory=dict)
    schema: int = SCHEMA_VERSION

    @property
    def f1(self) -> float | None:
        return self.scores.f1 if self.scores is not None else None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EvalResult:
        if data.get("schema") != SCHEMA_VERSION:
            raise ValueError(f"result schema {data.get('schema')!r} is not {SCHEMA_VERSION}; re-run the evaluation")
        scores = None
        if data["scores"] is not None:
            scores = Scores(
                **{**data["scores"], "per_type": {k: TypeScore(**v) for k, v in data["scores"]["per_type"].items()}}
            )
        coverage = dict(data["coverage"])
        coverage["unpredictable_types"] = tuple(coverage["unpredictable_types"])
        ci = data.get("f1_ci95")
        return cls(
            **{
                **data,
                "scores": scores,
                "speed": Speed(**data["speed"]),
                "build": Build(**data["build"]),
                "memory": Memory(**data["memory"]),
                "coverage": Coverage(**coverage),
                "f1_ci95": tuple(ci) if ci is not None else None,
            }
        )

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> EvalResult:
        return cls.from_dict(json.loads(text))

    def save(self, path: str | Path) -> None:
        """Write atomically: a crash leaves the old file or the new one, never half of one."""
        write_atomic(Path(path), self.to_json() + "\n")
