"""``nerperf tune``'s trials on disk: one JSON file per trial, written whole when the trial ends.

A trial's file is named by a hash of everything its figures depend on: the checkpoint's content, the
data sample (its source and a hash of its words), the configuration, the machine (CPU and cores) and the
versions of nerperf and the runtimes. Run again with the same ``--out``, tune takes the trials already
there and measures only the rest (an interrupted run resumes; Ctrl-C loses at most the trial running);
with another ``--out`` it measures afresh, which is how two runs are compared.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from nerperf.atomic import write_atomic
from nerperf.tune.space import LATENCY, Config, Measured

SCHEMA = 1


@dataclass(frozen=True)
class Trial:
    """One configuration's figures: F1 on the sample, batch-1 latency or batched throughput, peak memory."""

    config: Config
    f1: float | None
    latency_p50_ms: float | None
    latency_p90_ms: float | None
    sentences_per_s: float | None
    peak_memory_mb: float | None
    seconds: float  # the trial's own wall time, building the variant included
    error: str = ""  # why it failed (the variant could not be built or run); figures are then None

    @property
    def measured(self) -> Measured:
        if self.error:
            return Measured(None, None)
        if self.config.objective == LATENCY:
            speed = 1000 / self.latency_p50_ms if self.latency_p50_ms else None
        else:
            speed = self.sentences_per_s
        return Measured(self.f1, speed)

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "config": asdict(self.config), "objective": self.config.objective}

    @classmethod
    def from_json(cls, document: dict[str, Any]) -> Trial:
        fields = {k: v for k, v in document.items() if k not in ("config", "objective")}
        return cls(config=Config(**document["config"]), **fields)


class TrialStore:
    """The trials under ``directory``, keyed by ``identity`` (model, data, machine, versions) and config."""

    def __init__(self, directory: Path, identity: dict[str, Any]) -> None:
        self.directory = directory
        self.identity = identity

    def _path(self, config: Config) -> Path:
        key = json.dumps({"identity": self.identity, "config": asdict(config), "schema": SCHEMA}, sort_keys=True)
        return self.directory / f"{hashlib.sha256(key.encode()).hexdigest()[:20]}.json"

    def get(self, config: Config) -> Trial | None:
        path = self._path(config)
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
            return Trial.from_json(document["trial"])
        except FileNotFoundError:
            return None
        except (ValueError, KeyError, TypeError):
            return None  # a damaged file (a crash mid-write cannot make one: writes are atomic) is measured again

    def put(self, trial: Trial) -> None:
        document = {"schema": SCHEMA, "identity": self.identity, "trial": trial.to_json()}
        write_atomic(self._path(trial.config), json.dumps(document, indent=2, sort_keys=True) + "\n")
