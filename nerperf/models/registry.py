"""The registry of checkpoints: the study's six by name, plus the user's own (name=source, or directories).

A spec is only a name and where to load it from (hub id or directory), with what nerperf knows about it:
its architecture (for random-weight timing where the weights cannot be had) and per-checkpoint F1
tolerance. Loading is :mod:`nerperf.models.checkpoints`'s job. :func:`param_id` names a checkpoint × variant
the same way in pytest ids, benchmark history, asv parameters and reports.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, replace
from pathlib import Path

from nerperf import study
from nerperf.errors import NerperfInputError
from nerperf.models.architectures import ARCHITECTURES


class RegistryError(NerperfInputError):
    """An unknown checkpoint name or a malformed entry; the message says what exists or what to write."""


@dataclass(frozen=True)
class Published:
    """Figures the study published for a checkpoint (its Table 5), kept to print beside measured ones.

    Fractions (the table prints percentages) and seconds, as printed; ``remarks`` are what the
    published table itself gets wrong or leaves open, from :func:`published_remarks` and by hand.
    """

    accuracy: float
    precision: float
    recall: float
    f1: float
    total_s: float
    samples_per_s: float
    latency_s: float
    remarks: tuple[str, ...] = ()
    source: str = ""


def published_remarks(published: Published, sentences: int = study.SENTENCES) -> list[str]:
    """The published row's inconsistencies that its own figures show, worded for a reader.

    >>> published_remarks(Published(0.99, 0.966, 0.9636, 0.9598, 126.17, 7.92, 0.13))[0]
    'F1 95.98 lies outside its precision 96.60 and recall 96.36 (their harmonic mean is 96.48)'
    """
    p = published
    found = []
    mean = 2 * p.precision * p.recall / (p.precision + p.recall)
    if abs(p.f1 - mean) > 2e-4:  # beyond what printing two decimals explains (the other rows agree to 0.01)
        outside = not min(p.precision, p.recall) <= p.f1 <= max(p.precision, p.recall)
        found.append(
            f"F1 {100 * p.f1:.2f} {'lies outside' if outside else 'is not the harmonic mean of'} its precision "
            f"{100 * p.precision:.2f} and recall {100 * p.recall:.2f} (their harmonic mean is {100 * mean:.2f})"
        )
    if p.accuracy < p.f1 - 0.05:
        found.append(
            f"token accuracy {100 * p.accuracy:.2f} is far below F1 {100 * p.f1:.2f}: what sub-words mis-aligned "
            "with words and scored as O produce"
        )
    if abs(sentences / p.total_s - p.samples_per_s) > 0.01 * p.samples_per_s:
        found.append(f"{sentences} sentences in {p.total_s} s is not {p.samples_per_s} samples/s")
    return found


def _published(accuracy: float, precision: float, recall: float, f1: float, total_s: float, samples: float,
               latency_s: float, *remarks: str) -> Published:  # fmt: skip
    """A Table 5 row as printed (percentages), with its remarks."""
    row = Published(accuracy / 100, precision / 100, recall / 100, f1 / 100, total_s, samples, latency_s)
    how = f"{study.NAME}, {study.PUBLISHED_HOW}"
    return Published(**{**vars(row), "remarks": (*published_remarks(row), *remarks), "source": how})


# Table 5 of the study (LUT University, 2022): its figures, each row's inconsistencies flagged.
PUBLISHED: dict[str, Published] = {
    "bert-base-ner": _published(99.22, 96.60, 96.36, 95.98, 126.17, 7.92, 0.13),
    "distilbert-ner": _published(
        98.37, 90.41, 94.85, 92.1, 174.66, 5.72, 0.17,
        "slower than BERT-base (174.66 s against 126.17 s) with 6 of its 12 layers",
    ),
    "distilroberta-ner": _published(
        99.33, 96.44, 97.04, 96.74, 67.66, 14.77, 0.07,
        "the study does not name the DistilRoBERTa checkpoint it measured: these figures may be another one's",
    ),
    "xlm-roberta-large-ner": _published(
        87.26, 96.96, 98.06, 97.5, 451.42, 2.21, 0.45,
        "the study's text also gives this F1 as 97.74 and 98; its Table 5 says 97.5",
    ),
    "mbert-ner-hrl": _published(97.54, 97.08, 86.97, 91.74, 132.29, 7.55, 0.13),
}  # fmt: skip


@dataclass(frozen=True)
class CheckpointSpec:
    name: str  # short and stable: it names tests and benchmark history
    source: str  # hub id or checkpoint directory
    architecture: str | None = None  # key of ARCHITECTURES: timed with random weights when unreachable
    f1_tolerance: float | None = None  # points below the baseline's F1 allowed (None: the setting's)
    published: Published | None = None
    origin: str = "built-in"  # where the entry came from, for error messages


# The study's checkpoints; BERT-base is the baseline. BERT-large is cited, not measured: no Table 5 row.
STUDY: dict[str, CheckpointSpec] = {
    spec.name: spec
    for spec in (
        CheckpointSpec("bert-base-ner", ARCHITECTURES["bert-base"].hub_id, "bert-base"),
        CheckpointSpec("distilbert-ner", ARCHITECTURES["distilbert"].hub_id, "distilbert"),
        CheckpointSpec("distilroberta-ner", ARCHITECTURES["distilroberta"].hub_id, "distilroberta"),
        CheckpointSpec("xlm-roberta-large-ner", ARCHITECTURES["xlm-roberta-large"].hub_id, "xlm-roberta-large"),
        CheckpointSpec("mbert-ner-hrl", ARCHITECTURES["mbert"].hub_id, "mbert"),
        CheckpointSpec("bert-large-ner", ARCHITECTURES["bert-large"].hub_id, "bert-large"),
    )
    for spec in [replace(spec, published=PUBLISHED.get(spec.name))]
}
BASELINE = study.BASELINE

_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]*$")


def param_id(checkpoint: str, variant: str) -> str:
    """The one name of a checkpoint × variant.

    >>> param_id("bert-base-ner", "int8")
    'bert-base-ner-int8'
    """
    return f"{checkpoint}-{variant}"


def slug(source: str) -> str:
    """A readable name for a hub id or directory: its last part, lower case.

    >>> slug("dslim/bert-base-NER"), slug("../shared/models/minilm-l6-conll03/")
    ('bert-base-ner', 'minilm-l6-conll03')
    """
    last = Path(source.rstrip("/")).name or source
    return re.sub(r"[^a-z0-9._-]+", "-", last.lower()).strip("-")


def parse_entry(text: str, origin: str) -> CheckpointSpec:
    """``NAME=SOURCE`` (or a bare hub id or directory, named by :func:`slug`) -> a spec."""
    name, sep, source = (part.strip() for part in text.partition("="))
    if not sep:
        name, source = slug(name), name
    if not source or not _NAME.match(name):
        raise RegistryError(
            f"{origin}: checkpoint entry {text!r} is not NAME=SOURCE (NAME: lower-case letters, digits, '.', "
            "'-', '_'; SOURCE: a hub id or a checkpoint directory), e.g. mine=./checkpoints/ner"
        )
    return CheckpointSpec(name, source, origin=origin)


def from_directory(directory: Path, origin: str) -> list[CheckpointSpec]:
    """Every checkpoint (a folder with a config.json) directly inside ``directory``, named by its folder."""
    if not directory.is_dir():
        raise RegistryError(f"{origin}: checkpoint directory {directory} does not exist")
    return [
        CheckpointSpec(slug(str(folder)), str(folder), origin=origin)
        for folder in sorted(directory.iterdir())
        if (folder / "config.json").is_file()
    ]


def build(entries: list[CheckpointSpec]) -> dict[str, CheckpointSpec]:
    """The study's registry extended by ``entries``; a user entry with a study name replaces it."""
    registry = dict(STUDY)
    seen: dict[str, CheckpointSpec] = {}
    for spec in entries:
        if spec.name in seen and seen[spec.name].source != spec.source:
            raise RegistryError(
                f"checkpoint name {spec.name!r} is given twice: {seen[spec.name].source} ({seen[spec.name].origin}) "
                f"and {spec.source} ({spec.origin}); name one of them differently with NAME=SOURCE"
            )
        seen[spec.name] = spec
        study = STUDY.get(spec.name)
        registry[spec.name] = spec if study is None else _replace_source(study, spec)
    return registry


def lookup(registry: dict[str, CheckpointSpec], name: str, origin: str) -> CheckpointSpec:
    """The spec registered as ``name`` or with that source; an unknown name gets a suggestion."""
    spec = find(registry, name)
    if spec is not None:
        return spec
    close = difflib.get_close_matches(name, registry, n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    raise RegistryError(
        f"{origin}: unknown checkpoint {name!r}: {hint}registered: {', '.join(registry)}; "
        "add your own as NAME=SOURCE (a hub id or a directory)"
    )


def find(registry: dict[str, CheckpointSpec], name: str) -> CheckpointSpec | None:
    """The spec registered as ``name`` or with that source, if any."""
    return next((spec for spec in registry.values() if name in (spec.name, spec.source)), None)


def _replace_source(study: CheckpointSpec, spec: CheckpointSpec) -> CheckpointSpec:
    """A study checkpoint loaded from elsewhere (a local copy) keeps its architecture."""
    return CheckpointSpec(study.name, spec.source, study.architecture, study.f1_tolerance, study.published, spec.origin)
