"""``EvalResult`` and the files that carry it: written and read here, and nowhere else.

One evaluation's figures are typed, frozen and JSON round-trippable, so a figure means the same thing
in the command line, the pytest plugin, the benchmarks and the reports. Three files carry them, each
with a schema version:

- ``nerperf eval --json``: one result (:meth:`EvalResult.save`; ``schema``);
- a pytest-benchmark JSON (``--benchmark-json``, saved runs): each nerperf benchmark's ``extra_info``
  holds its case's whole result (:func:`extra_info`; ``nerperf_schema``);
- the plugin's ``results.json`` (``nerperf_report``): a run's results, what did not run, and every floor
  (:func:`run_record`; ``schema``).

:func:`read` reads any of them back (for ``nerperf report``). Computing a result is
:mod:`nerperf.evaluation`'s job. Nothing here imports torch or transformers.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from nerperf.atomic import write_atomic
from nerperf.data.metrics import Scores, TypeScore
from nerperf.data.semeval import ErrorKinds, SchemeScores, SemEval
from nerperf.errors import NerperfInputError
from nerperf.machine import short_machine
from nerperf.models.registry import param_id, slug

# EvalResult's. 2: variants, random weights (scores None), build and memory figures. 3: the SemEval
# schemes and error kinds, the data format and label map, gold entities a label map dropped.
SCHEMA_VERSION = 3
READABLE_SCHEMAS = (2, 3)  # a schema-2 result reads with the new fields empty
RUN_SCHEMA = 1  # results.json
EXTRA_INFO_SCHEMA = 1  # a benchmark's extra_info


class ResultFileError(NerperfInputError):
    """A file that is not a nerperf result; the message names it and what nerperf can read."""


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
    warmup_batches: int  # batches run before timing and excluded from it: one of each padded shape (0.7 on)
    matmul_gflop: float = 0.0  # matrix-multiply work of the timed batches, padding included (see architectures)
    max_tokens: int | None = None  # padded sub-tokens per batch at most (None: batch size only)
    real_tokens: int = 0  # sub-tokens the timed batches held, special tokens included (0: not recorded)
    padded_tokens: int = 0  # what the model ran: per batch, windows x its longest window

    @property
    def padding_ratio(self) -> float | None:
        """Padded over real sub-tokens (1.0: no padding); None where the result did not record them."""
        return self.padded_tokens / self.real_tokens if self.real_tokens else None

    def batching(self) -> str:
        """How the evaluation batched, for headings: "batch size 32, at most 1024 padded tokens, padding 1.05x"."""
        text = f"batch size {self.batch_size}"
        if self.max_tokens is not None:
            text += f", at most {self.max_tokens} padded tokens"
        if self.padding_ratio is not None:
            text += f", padding {self.padding_ratio:.2f}x the real tokens"
        return text


@dataclass(frozen=True)
class Coverage:
    """What could not be scored as the model predicted it; every count here is also in the score."""

    words: int
    unaligned_words: int  # words with no sub-token: scored as O
    windowed_sentences: int  # sentences longer than the model window, predicted in overlapping windows
    dropped_predictions: dict[str, int] = field(default_factory=dict)  # model type -> predictions made O
    unpredictable_types: tuple[str, ...] = ()  # data types the model has no label for: all misses
    dropped_gold: dict[str, int] = field(default_factory=dict)  # data type -> gold entities the label map made O
    unused_label_map: tuple[str, ...] = ()  # label-map FROM types found on neither side (a warning)
    blank_words: int = 0  # words empty or only whitespace (tab-separated data): among the unaligned, scored O
    trailing_separators: int = 0  # token lines whose trailing empty fields were read as absent


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
    # The SemEval-2013 schemes (strict, exact, partial, type) and the error kinds (nerperf.data.semeval).
    schemes: dict[str, SchemeScores] | None = None
    errors: ErrorKinds | None = None
    data_format: dict[str, Any] = field(default_factory=dict)  # how the data was read, where not the default
    sentences_in_data: int = 0  # the file's or split's sentences, of which ``sentences`` were the first (0: unknown)
    schema: int = SCHEMA_VERSION

    @property
    def f1(self) -> float | None:
        return self.scores.f1 if self.scores is not None else None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EvalResult:
        if data.get("schema") not in READABLE_SCHEMAS:
            raise ValueError(
                f"result schema {data.get('schema')!r} is not one of {READABLE_SCHEMAS}; re-run the evaluation"
            )
        scores = None
        if data["scores"] is not None:
            scores = Scores(
                **{**data["scores"], "per_type": {k: TypeScore(**v) for k, v in data["scores"]["per_type"].items()}}
            )
        coverage = dict(data["coverage"])
        coverage["unpredictable_types"] = tuple(coverage["unpredictable_types"])
        coverage["unused_label_map"] = tuple(coverage.get("unused_label_map", ()))
        ci = data.get("f1_ci95")
        semeval = None
        if data.get("schemes") is not None and data.get("errors") is not None:
            semeval = SemEval.from_dict({"schemes": data["schemes"], "errors": data["errors"]})
        return cls(
            **{
                **data,
                "scores": scores,
                "speed": Speed(**data["speed"]),
                "build": Build(**data["build"]),
                "memory": Memory(**data["memory"]),
                "coverage": Coverage(**coverage),
                "f1_ci95": tuple(ci) if ci is not None else None,
                "schemes": semeval.schemes if semeval else None,
                "errors": semeval.errors if semeval else None,
                "schema": SCHEMA_VERSION,
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


# -- a benchmark's extra_info ------------------------------------------------------------------------
def extra_info(case_id: str, checkpoint: str, source: str, baseline: str, result: EvalResult) -> dict[str, Any]:
    """What a nerperf benchmark's JSON carries beside its timings: enough to rebuild the study's table."""
    s = result.scores
    return {
        "nerperf_schema": EXTRA_INFO_SCHEMA,
        "nerperf_id": case_id,
        "baseline": baseline,
        "checkpoint": checkpoint,
        "source": source,
        "variant": result.variant,
        "weights": result.weights,
        "f1": s.f1 if s else None,
        "precision": s.precision if s else None,
        "recall": s.recall if s else None,
        "accuracy": s.accuracy if s else None,
        "sentences": result.sentences,
        "size_bytes": result.build.size_bytes,
        "peak_memory_bytes": result.memory.peak_bytes,
        "result": result.to_dict(),
    }


# -- the plugin's results.json -----------------------------------------------------------------------
def run_record(
    baseline: str,
    settings: dict[str, str],
    results: Sequence[tuple[str, EvalResult]],
    latency: Mapping[str, Mapping[int, float]],
    not_run: Sequence[str],
    floors: Sequence[Any],
) -> str:
    """A plugin run as results.json's text: results by case id, what did not run, every floor checked."""
    record = {
        "schema": RUN_SCHEMA,
        "baseline": baseline,
        "settings": settings,
        "results": [{"id": key, "batch1_latency_percentiles_s": latency.get(key), **r.to_dict()} for key, r in results],
        "not_run": list(not_run),
        "floors": [{**vars(f), "floor": f.floor, "held": f.held} for f in floors],
    }
    return json.dumps(record, indent=2, sort_keys=True) + "\n"


@dataclass(frozen=True)
class RunRecord:
    """What a plugin run's results.json says beyond its results: the floors checked, what did not run, and
    the settings it ran with (their values as ``repr``, by name: a setting absent was unknown to its nerperf)."""

    floors: list[dict[str, Any]]  # :class:`nerperf.floors.Floor`'s fields, and "held"
    not_run: list[str]
    settings: dict[str, str] = field(default_factory=dict)


def read_run_record(path: Path) -> RunRecord:
    """The floors and the cases not run of a plugin run's results.json (``--nerperf-report``)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return RunRecord(list(data["floors"]), list(data["not_run"]), dict(data.get("settings") or {}))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError) as error:
        raise ResultFileError(f"{path}: not a nerperf run's results.json ({type(error).__name__}: {error})") from None


# -- reading any of them ------------------------------------------------------------------------------
@dataclass
class Found:
    """Every result in a set of result files, as read, before any merge policy (:mod:`nerperf.report.merge`
    decides which result stands for a case on a machine, and how cases of several machines are keyed)."""

    entries: list[tuple[str, str, EvalResult, Mapping[str, float] | None]] = field(default_factory=list)
    baseline: str | None = None  # as a plugin run recorded it (the last file that says)
    machine: dict[str, Any] = field(default_factory=dict)  # a pytest-benchmark file's machine_info
    sources: list[str] = field(default_factory=list)  # each file and what it was read as
    label: str | None = None  # the machine the user named for the file being read
    file_machine: str = ""  # the machine the file being read recorded for all its results (pytest-benchmark)


# The machine of results that recorded none (nerperf before 0.4, made-up results): taken to be one machine,
# as before, and said so in the report; ``MACHINE=FILE`` names it.
UNRECORDED = "unrecorded machine"


def read_files(paths: Sequence[Path], labels: Sequence[str | None] | None = None) -> Found:
    """Every result in ``paths``, in order, as (case id, machine, result, batch-1 percentiles). A result's
    machine is ``labels[i]`` where given for its file, else the CPU it recorded (nerperf 0.4 on), else the
    pytest-benchmark file's machine, else :data:`UNRECORDED`."""
    found = Found()
    for index, path in enumerate(paths):
        found.label = labels[index] if labels and index < len(labels) else None
        found.file_machine = ""
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
            raise ResultFileError(f"{path}: cannot read it as JSON ({error})") from None
        kind = _read_one(path, data, found)
        found.sources.append(f"{path} ({kind})" + (f" as machine {found.label!r}" if found.label else ""))
    if not found.entries:
        raise ResultFileError(f"no nerperf results in {', '.join(map(str, paths))}")
    return found


def _read_one(path: Path, data: Any, found: Found) -> str:
    try:
        if isinstance(data, dict) and "benchmarks" in data:
            return _pytest_benchmark(data, found)
        if isinstance(data, dict) and isinstance(data.get("results"), list):
            if data.get("schema", RUN_SCHEMA) > RUN_SCHEMA:
                raise ValueError(f"results.json schema {data['schema']} is newer than {RUN_SCHEMA}: upgrade nerperf")
            found.baseline = data.get("baseline") or found.baseline
            for entry in data["results"]:
                result = EvalResult.from_dict({k: v for k, v in entry.items() if k in _FIELDS})
                _add(found, entry["id"], result, entry.get("batch1_latency_percentiles_s"))
            return "nerperf plugin results"
        if isinstance(data, dict) and "checkpoint" in data and "speed" in data:
            result = EvalResult.from_dict(data)
            _add(found, param_id(slug(result.checkpoint), result.variant), result, None)
            return "nerperf eval result"
    except (KeyError, TypeError, ValueError) as error:
        raise ResultFileError(
            f"{path}: not a nerperf result nerperf can read ({type(error).__name__}: {error})"
        ) from None
    raise ResultFileError(
        f"{path}: not a nerperf result: give a pytest-benchmark JSON of nerperf's benchmarks "
        "(--benchmark-json or .benchmarks/), the plugin's results.json, or `nerperf eval --json` output"
    )


def _pytest_benchmark(data: dict[str, Any], found: Found) -> str:
    machine = data.get("machine_info") or {}
    found.machine = machine.get("nerperf") or {"cpu": (machine.get("cpu") or {}).get("brand_raw", "")}
    described = found.machine.get("machine") or found.machine.get("cpu_model") or found.machine.get("cpu") or ""
    found.file_machine = short_machine(described) if described else ""
    count = 0
    for bench in data["benchmarks"]:
        info = bench.get("extra_info") or {}
        if "nerperf_id" not in info or "result" not in info:
            continue  # someone else's benchmark in the same run
        if info.get("nerperf_schema", EXTRA_INFO_SCHEMA) > EXTRA_INFO_SCHEMA:
            raise ValueError(f"extra_info schema {info['nerperf_schema']} is newer than {EXTRA_INFO_SCHEMA}")
        count += 1
        result = EvalResult.from_dict(info["result"])
        _add(found, info["nerperf_id"], result, info.get("latency_percentiles_s"))
        found.baseline = info.get("baseline") or found.baseline
    if not count:
        raise ValueError("it has no nerperf benchmarks (none carries extra_info['nerperf_id'])")
    return "pytest-benchmark"


_FIELDS = set(EvalResult.__dataclass_fields__)


def _add(found: Found, key: str, result: EvalResult, latency: Mapping[str, float] | None) -> None:
    recorded = result.environment.get("cpu")
    machine = found.label or (short_machine(recorded) if recorded else found.file_machine or UNRECORDED)
    found.entries.append((key, machine, result, latency))
