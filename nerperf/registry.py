"""The registry of checkpoints: the study's six by name, plus the user's own (name=source, or directories).

A spec is only a name and where to load it from (hub id or directory), with what nerperf knows about it:
its architecture (for random-weight timing where the weights cannot be had) and per-checkpoint F1
tolerance. Loading is :mod:`nerperf.checkpoints`'s job. :func:`param_id` names a checkpoint × variant
the same way in pytest ids, benchmark history, asv parameters and reports.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from pathlib import Path

from nerperf import study
from nerperf.architectures import ARCHITECTURES
from nerperf.errors import NerperfInputError


class RegistryError(NerperfInputError):
    """An unknown checkpoint name or a malformed entry; the message says what exists or what to write."""


@dataclass(frozen=True)
class Published:
    """Figures the study published for a checkpoint (its Table 5), kept to print beside measured ones."""

    accuracy: float
    precision: float
    recall: float
    f1: float
    total_s: float
    samples_per_s: float
    latency_s: float


@dataclass(frozen=True)
class CheckpointSpec:
    name: str  # short and stable: it names tests and benchmark history
    source: str  # hub id or checkpoint directory
    architecture: str | None = None  # key of ARCHITECTURES: timed with random weights when unreachable
    f1_tolerance: float | None = None  # points below the baseline's F1 allowed (None: the setting's)
    published: Published | None = None
    origin: str = "built-in"  # where the entry came from, for error messages


# The study's checkpoints; BERT-base is the baseline. The study's Table 5 figures are not in any source
# this repository was built from, so ``published`` is empty rather than guessed: fill it from the paper.
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
