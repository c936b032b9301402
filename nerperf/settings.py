"""The plugin's settings: each declared once, resolved from command line, environment, ini, default.

Every setting ``x_y`` is ``--nerperf-x-y`` on the command line, ``NERPERF_X_Y`` in the environment and
``nerperf_x_y`` in the ini file (``[tool.pytest.ini_options]``), first found wins. List settings take
commas (and, in the ini file, lines); paths in the ini file are relative to the ini file's directory.
A bad value is a usage error that names where it came from. Resolving imports neither torch nor
transformers; :mod:`nerperf.session` uses the result.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from nerperf.registry import BASELINE

DEFAULT_DATA = "eriktks/conll2003"  # CoNLL-2003 English on the hub, as the study used


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} must be at least 1")
    return value


def sentence_count(text: str) -> int | None:
    """A number of sentences, or ``all`` (the whole split)."""
    return None if text.strip().lower() == "all" else positive_int(text)


def points(text: str) -> float:
    """F1 points (0 to 100): a tolerance."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of F1 points") from None
    if not 0 <= value <= 100:
        raise argparse.ArgumentTypeError(f"{text!r} is not between 0 and 100 F1 points")
    return value


def tolerance_entry(text: str) -> tuple[str, float]:
    """``KEY=POINTS``: KEY is a checkpoint (its floor against the baseline) or a checkpoint-variant id."""
    key, sep, value = (part.strip() for part in text.partition("="))
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"{text!r} is not KEY=POINTS, e.g. distilbert-ner=6 or bert-base-ner-int8=1.5")
    return key, points(value)


def boolean(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off", ""}:
        return False
    raise argparse.ArgumentTypeError(f"{text!r} is not true or false")


@dataclass(frozen=True)
class Option:
    name: str
    parse: Callable[[str], Any]
    default: Any
    metavar: str
    help: str
    many: bool = False  # a list: comma-separated, repeatable on the command line, lines in the ini file
    path: str = ""  # "always": an ini value is relative to the ini file's directory; "existing": if it exists there

    @property
    def flag(self) -> str:
        return "--nerperf-" + self.name.replace("_", "-")

    @property
    def env(self) -> str:
        return "NERPERF_" + self.name.upper()

    @property
    def ini(self) -> str:
        return "nerperf_" + self.name


OPTIONS = (
    Option(
        "checkpoints",
        str,
        (),
        "NAMES",
        "checkpoints to test: registered names (bert-base-ner, ...), NAME=SOURCE, hub ids or directories "
        "(default: the study's six and those in --nerperf-checkpoint-dirs)",
        many=True,
    ),
    Option(
        "checkpoint_dirs",
        str,
        (),
        "DIRS",
        "directories whose sub-folders are checkpoints, registered by folder name (default: none)",
        many=True,
        path="always",
    ),
    Option("variants", str, (), "NAMES", "variants to test, see `nerperf variants` (default: all)", many=True),
    Option(
        "data",
        str,
        DEFAULT_DATA,
        "PATH_OR_ID",
        f"CoNLL file, split directory or hub id (default: {DEFAULT_DATA})",
        path="existing",
    ),
    Option("split", str, "validation", "NAME", "split of a directory or hub dataset (default: validation)"),
    Option("sentences", sentence_count, 1000, "N", "first N sentences, or all; the study used 1000 (default: 1000)"),
    Option("baseline", str, BASELINE, "NAME", f"checkpoint the F1 floors are relative to (default: {BASELINE})"),
    Option("f1_tolerance", points, 5.0, "POINTS", "F1 points a checkpoint may fall below the baseline (default: 5.0)"),
    Option(
        "variant_tolerance",
        points,
        1.0,
        "POINTS",
        "F1 points a variant may fall below its checkpoint's fp32 (default: 1.0)",
    ),
    Option(
        "tolerances",
        tolerance_entry,
        (),
        "KEY=POINTS",
        "per-checkpoint tolerances: a checkpoint name (against the baseline) or a checkpoint-variant id "
        "(against its fp32), e.g. distilbert-ner=6,bert-base-ner-int8=1.5 (default: none)",
        many=True,
    ),
    Option("batch_size", positive_int, 32, "N", "batch size of the evaluation and throughput runs (default: 32)"),
    Option("threads", positive_int, None, "N", "intra-op threads (default: torch's)"),
    Option(
        "random_weights",
        boolean,
        False,
        "BOOL",
        "time checkpoints whose weights cannot be had with their architecture's random weights, "
        "without F1 (default: false: skip them)",
    ),
    Option(
        "stand_in_tokenizer",
        str,
        None,
        "DIR",
        "with random weights: tokenizer to take sequence lengths from where the model's own is not "
        "available offline (default: none)",
        path="always",
    ),
    Option(
        "report", str, None, "DIR", "write summary.md and results.json there at the end (default: none)", path="always"
    ),
    Option(
        "cache_dir",
        str,
        None,
        "DIR",
        "built variants' cache (default: $NERPERF_CACHE or ~/.cache/nerperf)",
        path="always",
    ),
)


class SettingsError(ValueError):
    """A bad setting; the message names where it came from."""


@dataclass(frozen=True)
class Settings:
    checkpoints: tuple[str, ...] = ()
    checkpoint_dirs: tuple[str, ...] = ()
    variants: tuple[str, ...] = ()
    data: str = DEFAULT_DATA
    split: str = "validation"
    sentences: int | None = 1000
    baseline: str = BASELINE
    f1_tolerance: float = 5.0
    variant_tolerance: float = 1.0
    tolerances: tuple[tuple[str, float], ...] = ()
    batch_size: int = 32
    threads: int | None = None
    random_weights: bool = False
    stand_in_tokenizer: str | None = None
    report: str | None = None
    cache_dir: str | None = None
    origin: dict[str, str] = field(default_factory=dict, compare=False)  # setting -> where its value came from

    @classmethod
    def resolve(
        cls,
        command_line: dict[str, Any],
        environment: dict[str, str],
        ini: dict[str, Any],
        ini_file: str = "the ini file",
        ini_dir: Path | None = None,
    ) -> Settings:
        """``command_line``: values already parsed (None: not given); ``ini``: raw strings or lines."""
        values: dict[str, Any] = {}
        origin: dict[str, str] = {}
        for option in OPTIONS:
            given = command_line.get(option.name)
            if given not in (None, [], ()):
                values[option.name] = _parse(option, ",".join(given), option.flag) if option.many else given
                origin[option.name] = option.flag
            elif environment.get(option.env, "").strip():
                values[option.name] = _parse(option, environment[option.env], option.env)
                origin[option.name] = option.env
            elif ini.get(option.ini) not in (None, "", []):
                raw = ini[option.ini]
                text = ",".join(raw) if isinstance(raw, list) else str(raw)
                value = _parse(option, text, f"{option.ini} in {ini_file}")
                if option.path and ini_dir is not None:
                    value = _relative_to(value, ini_dir, option.path == "existing")
                values[option.name] = value
                origin[option.name] = f"{option.ini} in {ini_file}"
            else:
                origin[option.name] = "default"
        return cls(**values, origin=origin)

    def where(self, name: str) -> str:
        return self.origin.get(name, "default")

    def with_defaults(self, origin: str, **defaults: Any) -> Settings:
        """These settings with ``defaults`` for the values nobody set (still at their default).

        How a project supplies its own defaults (its conftest.py's ``pytest_nerperf_settings`` hook, its
        asv suite) without overriding an option, environment variable or ini value; ``origin`` says where
        they came from in messages.
        """
        changes = {name: value for name, value in defaults.items() if self.where(name) == "default"}
        return dataclasses.replace(self, **changes, origin={**self.origin, **dict.fromkeys(changes, origin)})

    def tolerance_for(self, key: str) -> float | None:
        return dict(self.tolerances).get(key)

    def describe(self) -> list[tuple[str, str, str]]:
        """(setting, value, where it came from) for every setting, for the session header and reports."""
        return [(f.name, repr(getattr(self, f.name)), self.where(f.name)) for f in fields(self) if f.name != "origin"]


def _parse(option: Option, text: str, where: str) -> Any:
    try:
        if option.many:
            return tuple(option.parse(part.strip()) for part in text.replace("\n", ",").split(",") if part.strip())
        return option.parse(text.strip())
    except argparse.ArgumentTypeError as error:
        raise SettingsError(f"{where}: {error}") from None


def _relative_to(value: Any, directory: Path, only_existing: bool) -> Any:
    if isinstance(value, tuple):
        return tuple(_relative_to(v, directory, only_existing) for v in value)
    if value is None or (only_existing and not (directory / value).exists()):
        return value  # e.g. a hub id
    return str(directory / value)


def from_environment() -> dict[str, str]:
    return {o.env: os.environ[o.env] for o in OPTIONS if o.env in os.environ}
