"""The raw samples of one case in one run, for ``nerperf gate``: every timing and every prediction.

A summary statistic cannot be paired; raw samples can. With the ``samples`` setting (``NERPERF_SAMPLES``)
the pytest plugin writes one JSON file per case: the sample's words and gold tags, each word's
predicted tag (from the evaluation), each sentence's batch-1 latency (from the latency benchmark, by
sentence index) and each batch's time (from the throughput benchmark, by batch index, with the
sentences it held). The gate pairs two runs' files sentence by sentence and batch by batch
(:mod:`nerperf.gate`). Files are written whole or not at all; a file of another schema is refused.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from nerperf.atomic import write_atomic
from nerperf.errors import NerperfInputError

SCHEMA = 1
SUFFIX = ".samples.json"


class SamplesError(NerperfInputError):
    """A samples file nerperf cannot read; the message names it."""


@dataclass
class CaseSamples:
    case: str  # the plugin's case id, e.g. minilm-l3-conll03-onnx-int8
    words: list[list[str]] = field(default_factory=list)
    gold: list[list[str]] = field(default_factory=list)
    predicted: list[list[str]] = field(default_factory=list)  # empty when the evaluation did not run
    latency_s: list[float | None] = field(default_factory=list)  # per sentence index; None: not timed
    batches: list[list[int]] = field(default_factory=list)  # sentence indices of each timed batch
    batch_s: list[float] = field(default_factory=list)  # per batch index
    schema: int = SCHEMA

    def save(self, directory: Path) -> Path:
        path = directory / f"{self.case}{SUFFIX}"
        write_atomic(path, json.dumps(asdict(self), separators=(",", ":")) + "\n")
        return path


def read(path: Path) -> CaseSamples:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("schema") != SCHEMA:
            raise ValueError(f"schema {data.get('schema')!r}, not {SCHEMA}: written by another nerperf version")
        return CaseSamples(**data)
    except (OSError, UnicodeDecodeError, ValueError, TypeError, AttributeError) as error:
        raise SamplesError(f"{path}: not a nerperf samples file ({error})") from None


UNPAIRED = "unpaired.json"


def write_unpaired(directory: Path, paired_calls: int) -> None:
    """Record that the partner process went after ``paired_calls`` timed calls: the rest were timed alone."""
    write_atomic(directory / UNPAIRED, json.dumps({"paired_calls": paired_calls}) + "\n")


def read_unpaired(directory: Path) -> int | None:
    """The timed calls paired before the partner went, or None when every call was paired."""
    path = directory / UNPAIRED
    return json.loads(path.read_text(encoding="utf-8"))["paired_calls"] if path.is_file() else None


CLOCK = "lockstep.json"


def write_clock(directory: Path, spent: dict[str, float]) -> None:
    """Where the process's time under the gate went (:class:`nerperf.processes.lockstep.Clock`)."""
    write_atomic(directory / CLOCK, json.dumps(spent, sort_keys=True) + "\n")


def read_clock(directory: Path) -> dict[str, float] | None:
    """The seconds a round's process spent by kind; None from a nerperf that did not say (before 0.11)."""
    path = directory / CLOCK
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


def read_directory(directory: Path) -> dict[str, CaseSamples]:
    """Every case's samples in ``directory``, by case id (empty when there are none)."""
    found = {}
    for path in sorted(directory.glob(f"*{SUFFIX}")):
        samples = read(path)
        found[samples.case] = samples
    return found
