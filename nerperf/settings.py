"""Every nerperf setting, declared once: name, type, default, help, environment variable and ini key.

A setting ``x_y`` is ``--nerperf-x-y`` on pytest's command line, ``NERPERF_X_Y`` in the environment and
``nerperf_x_y`` in the ini file (``[tool.pytest.ini_options]`` in pyproject.toml, or pytest.ini,
tox.ini, setup.cfg); the ``nerperf`` command's options that mean the same thing are ``--x-y``
(:func:`add_arguments`). The first source found wins: command line, environment, ini, default. List
settings take commas (and, in the ini file, lines); paths in the ini file are relative to the ini
file's directory. A bad value is a :class:`SettingsError` that names where it came from. Tools that run
without pytest read the ini file with :mod:`nerperf.ini_file`.

The declaration is the :class:`Settings` dataclass itself: each field's default is the default, its
metadata the rest (:func:`_setting`), and :data:`OPTIONS` is derived from it. Resolving imports neither
pytest nor torch; the pytest plugin, the asv suite and the ``nerperf`` command all resolve here.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from nerperf import study
from nerperf.errors import NerperfInputError

# The default budget of padded sub-tokens per batch (nerperf.models.batching): 32 sentences of up to 32 sub-tokens.
# On the study's sample (MiniLM tokenizer) it brings padding from 1.10 to 1.05 of the real tokens at batch 32.
MAX_TOKENS = 1024
CALIBRATION_SENTENCES = 300  # NNCF's default subset; docs/variants.md


class SettingsError(NerperfInputError):
    """A bad setting; the message names where it came from."""


# -- value types: each raises ArgumentTypeError with what is wrong and what would do ----------------
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


def token_budget(text: str) -> int | None:
    """A number of padded sub-tokens per batch, or ``none`` (batches limited by their size only)."""
    return None if text.strip().lower() in {"none", "off"} else positive_int(text)


def shard_spec(text: str) -> tuple[int, int]:
    """``K/N``: the K-th of N parts (1 <= K <= N)."""
    k, sep, n = text.strip().partition("/")
    try:
        part, parts = int(k), int(n)
    except ValueError:
        part = parts = 0
    if not sep or not 1 <= part <= parts:
        raise argparse.ArgumentTypeError(f"{text!r} is not K/N with 1 <= K <= N, e.g. 1/2 and 2/2 for two CI jobs")
    return part, parts


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


MEASURES = ("floor", "latency", "throughput")  # the built-in suite's tests, by what they measure


def measure_name(text: str) -> str:
    """One of the suite's measures: ``floor`` (the F1 floors), ``latency`` or ``throughput``."""
    name = text.strip().lower()
    if name not in MEASURES:
        raise argparse.ArgumentTypeError(f"{text!r} is not a measure; choose from {', '.join(MEASURES)}")
    return name


def boolean(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off", ""}:
        return False
    raise argparse.ArgumentTypeError(f"{text!r} is not true or false")


def column(text: str) -> int:
    """A 0-based column index; negative counts from the end (-1: the last column)."""
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a column number (0-based; -1 is the last column)") from None


def encoding(text: str) -> str:
    import codecs

    try:
        codecs.lookup(text)
    except LookupError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an encoding Python knows (e.g. utf-8, latin-1)") from None
    return text


def tag_scheme(text: str) -> str:
    from nerperf.data.schemes import TagError, canonical_scheme

    try:
        return canonical_scheme(text)
    except TagError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def label_map_entry(text: str) -> str:
    """``FROM=TO``, or the path of a file of such lines (read when the data is)."""
    from nerperf.data.type_map import TypeMapError, check_entry

    try:
        return check_entry(text)
    except TypeMapError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?\s*$", re.IGNORECASE)
_UNITS = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}


def size(text: str) -> int:
    """A memory size: ``"4GiB"``, ``"512M"``, ``"1.5g"`` or a number of bytes.

    >>> size("4GiB"), size("512M"), size("1000")
    (4294967296, 536870912, 1000)
    """
    found = _SIZE.match(text)
    if not found:
        raise argparse.ArgumentTypeError(f"{text!r} is not a size; write it like 4GiB, 512M or a number of bytes")
    return int(float(found[1]) * _UNITS[found[2].lower()])


# -- the declaration -----------------------------------------------------------------------------------
def _setting(
    default: Any,
    parse: Callable[[str], Any],
    metavar: str,
    help: str,
    *,
    shown_default: str | None = None,
    many: bool = False,
    path: str = "",
) -> Any:
    """A Settings field. ``many``: a list (commas, repeats on the command line, lines in the ini file).
    ``path``: "always", an ini value is relative to the ini file's directory; "existing", if it exists there.
    ``shown_default``: how help shows the default, where its value would not say it."""
    shown = shown_default if shown_default is not None else str(default).lower() if default is not None else "none"
    options = {"parse": parse, "metavar": metavar, "help": f"{help} (default: {shown})", "many": many, "path": path}
    return field(default=default, metadata={"nerperf": options})


@dataclass(frozen=True)
class Settings:
    checkpoints: tuple[str, ...] = _setting(
        (),
        str,
        "NAMES",
        "checkpoints to test: registered names (bert-base-ner, ...), NAME=SOURCE, hub ids or directories",
        shown_default="the study's six and those in checkpoint_dirs",
        many=True,
    )
    checkpoint_dirs: tuple[str, ...] = _setting(
        (),
        str,
        "DIRS",
        "directories whose sub-folders are checkpoints, registered by folder name",
        shown_default="none",
        many=True,
        path="always",
    )
    variants: tuple[str, ...] = _setting(
        (), str, "NAMES", "variants to test, see `nerperf variants`", shown_default="all", many=True
    )
    data: str = _setting(study.DATA, str, "PATH_OR_ID", "CoNLL file, split directory or hub id", path="existing")
    split: str = _setting(study.SPLIT, str, "NAME", "split of a directory or hub dataset: train, validation, test")
    word_column: int = _setting(0, column, "N", "column of the word in a data file (0-based; negative from the end)")
    tag_column: int = _setting(-1, column, "N", "column of the NER tag in a data file (0-based; -1 is the last)")
    comment_prefix: str | None = _setting(
        None,
        str,
        "PREFIX",
        "data lines starting with PREFIX then whitespace or the line's end are comments (e.g. #)",
        shown_default="none: every line is data, a word # included",
    )
    encoding: str = _setting("utf-8", encoding, "NAME", "encoding of a data file (e.g. latin-1)")
    tag_scheme: str = _setting(
        "auto", tag_scheme, "NAME", "tag scheme of the data: auto, iob1, iob2, ioe1, ioe2, bioes (iobes) or bilou"
    )
    label_map: tuple[str, ...] = _setting(
        (),
        label_map_entry,
        "FROM=TO",
        "rename entity types on both sides before matching, e.g. person=PER,corporation=ORG; TO=O drops a "
        "type from the gold (counted); or a file of FROM=TO lines",
        shown_default="none",
        many=True,
        path="existing",
    )
    sentences: int | None = _setting(
        study.SENTENCES, sentence_count, "N", f"first N sentences, or all; the study used {study.SENTENCES}"
    )
    calibration_data: str | None = _setting(
        None,
        str,
        "PATH_OR_ID",
        "training sentences the statically quantized variants (onnx-int8-static, openvino-int8) calibrate on: a "
        "CoNLL file, or a directory or hub id whose train split is read; never the evaluation data",
        shown_default="the data's train split",
        path="existing",
    )
    calibration_sentences: int = _setting(
        CALIBRATION_SENTENCES, positive_int, "N", "calibration sentences: the first N of calibration_data"
    )
    baseline: str = _setting(study.BASELINE, str, "NAME", "checkpoint the F1 floors are relative to")
    f1_tolerance: float = _setting(5.0, points, "POINTS", "F1 points a checkpoint may fall below the baseline")
    variant_tolerance: float = _setting(1.0, points, "POINTS", "F1 points a variant may fall below its fp32")
    tolerances: tuple[tuple[str, float], ...] = _setting(
        (),
        tolerance_entry,
        "KEY=POINTS",
        "per-checkpoint tolerances: a checkpoint name (against the baseline) or a checkpoint-variant id "
        "(against its fp32), e.g. distilbert-ner=6,bert-base-ner-int8=1.5",
        shown_default="none",
        many=True,
    )
    batch_size: int = _setting(32, positive_int, "N", "sentences per batch in the evaluation and throughput runs")
    max_tokens: int | None = _setting(
        MAX_TOKENS,
        token_budget,
        "N",
        "padded sub-tokens per batch at most (windows x the batch's longest), so long sentences run in smaller "
        "batches; none: batch size only",
    )
    throughput_batches: int = _setting(
        1,
        positive_int,
        "N",
        "time at least N batches in the throughput benchmark, in whole passes over the sample (nerperf gate "
        "asks for 30: a median over more batches a pair)",
        shown_default="1: one pass",
    )
    threads: int | None = _setting(None, positive_int, "N", "intra-op threads", shown_default="torch's")
    shard: tuple[int, int] | None = _setting(
        None,
        shard_spec,
        "K/N",
        "run only part K of N: whole checkpoints, dealt in turn (the baseline's to part 1), for a CI matrix; "
        "nerperf report merges the parts' results",
        shown_default="all cases",
    )
    random_weights: bool = _setting(
        False,
        boolean,
        "BOOL",
        "time checkpoints whose weights cannot be had with their architecture's random weights, without F1",
        shown_default="false: skip them",
    )
    stand_in_tokenizer: str | None = _setting(
        None,
        str,
        "DIR",
        "with random weights: tokenizer (a checkpoint directory) to take sequence lengths from where the "
        "model's own is not available offline",
        path="always",
    )
    report: str | None = _setting(None, str, "DIR", "write summary.md and results.json there at the end", path="always")
    cache_dir: str | None = _setting(
        None,
        str,
        "DIR",
        "built variants' cache",
        shown_default="$XDG_CACHE_HOME/nerperf or ~/.cache/nerperf",
        path="always",
    )
    memory_limit: int | None = _setting(
        None,
        size,
        "SIZE",
        "refuse a checkpoint whose weights need more memory than this (e.g. 4GiB), before loading it",
        shown_default="the memory available to the process",
    )
    show_errors: bool = _setting(
        False,
        boolean,
        "BOOL",
        "add the SemEval schemes (strict, exact, partial, type) and the error kinds to the summary",
    )
    samples: str | None = _setting(
        None,
        str,
        "DIR",
        "write each case's raw samples there (per-sentence latencies, batch times, predictions), for `nerperf gate`",
        path="always",
    )
    measures: tuple[str, ...] = _setting(
        (),
        measure_name,
        "NAMES",
        "which of the suite's tests run: floor, latency, throughput (nerperf gate times only the measures still "
        "undecided once the others are)",
        shown_default="all",
        many=True,
    )
    cases: tuple[str, ...] = _setting(
        (),
        str,
        "IDS",
        "which of the selected cases run, by id such as minilm-l6-conll03-int8; the others are deselected "
        "(nerperf gate times only the cases still undecided once the others are)",
        shown_default="all",
        many=True,
    )
    origin: dict[str, str] = field(default_factory=dict, compare=False)  # setting -> where its value came from

    @classmethod
    def resolve(
        cls,
        command_line: Mapping[str, Any],
        environment: Mapping[str, str],
        ini: Mapping[str, Any],
        ini_file: str = "the ini file",
        ini_dir: Path | None = None,
    ) -> Settings:
        """``command_line``: the options' text by setting (None: not given; a list setting's strings);
        ``ini``: raw strings or lines, by ini key."""
        values: dict[str, Any] = {}
        origin: dict[str, str] = {}
        for option in OPTIONS:
            given = command_line.get(option.name)
            if given not in (None, [], ()):
                text = ",".join(given) if option.many else str(given)
                values[option.name] = _parse(option, text, option.flag)
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

        How a project supplies its own defaults (its conftest.py's ``pytest_nerperf_settings`` hook)
        without overriding an option, environment variable or ini value; ``origin`` says where they
        came from in messages.
        """
        changes = {name: value for name, value in defaults.items() if self.where(name) == "default"}
        return dataclasses.replace(self, **changes, origin={**self.origin, **dict.fromkeys(changes, origin)})

    def tolerance_for(self, key: str) -> float | None:
        return dict(self.tolerances).get(key)

    def to_environment(self) -> dict[str, str]:
        """Every setting someone set, as the ``NERPERF_*`` variables that set it again in another process.

        How ``nerperf gate`` hands one configuration to both sides (paths resolved, defaults left out).
        """
        found = {}
        for option in OPTIONS:
            value = getattr(self, option.name)
            if self.where(option.name) == "default":
                continue
            if value is None:
                found[option.env] = {sentence_count: "all", token_budget: "none"}.get(option.parse, "")
                continue
            values = value if option.many else (value,)
            if option.path:  # the other process runs elsewhere: "existing" paths only where they exist
                values = tuple(
                    os.path.abspath(v) if option.path == "always" or os.path.exists(str(v)) else v for v in values
                )
            found[option.env] = ",".join(_spell(v) for v in values)
        return found

    def describe(self) -> list[tuple[str, str, str]]:
        """(setting, value, where it came from) for every setting, for the session header and reports."""
        return [(o.name, repr(getattr(self, o.name)), self.where(o.name)) for o in OPTIONS]


@dataclass(frozen=True)
class Option:
    """One setting's declaration, as every source spells it."""

    name: str
    default: Any
    parse: Callable[[str], Any]
    metavar: str
    help: str  # ends with the default
    many: bool
    path: str

    @property
    def flag(self) -> str:
        return "--nerperf-" + self.name.replace("_", "-")

    @property
    def env(self) -> str:
        return "NERPERF_" + self.name.upper()

    @property
    def ini(self) -> str:
        return "nerperf_" + self.name


OPTIONS: tuple[Option, ...] = tuple(
    Option(f.name, f.default, **f.metadata["nerperf"]) for f in fields(Settings) if "nerperf" in f.metadata
)
BY_NAME = {option.name: option for option in OPTIONS}


def _spell(value: Any) -> str:
    """A parsed value as its setting's text: the inverse of the parsers above."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple):  # a tolerance entry (name, points) or a shard (part, parts)
        return f"{value[0]}/{value[1]}" if all(isinstance(v, int) for v in value) else f"{value[0]}={value[1]}"
    return str(value)


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
    return os.path.normpath(directory / value)


def from_environment() -> dict[str, str]:
    return {o.env: os.environ[o.env] for o in OPTIONS if o.env in os.environ}


def environment_value(name: str) -> Any:
    """Setting ``name`` from its environment variable alone, parsed (None when unset).

    For library code called without settings (``evaluate()`` from Python): the same variable the
    plugin and the command line read, with the same parsing and error.
    """
    option = BY_NAME[name]
    text = os.environ.get(option.env, "")
    return _parse(option, text, option.env) if text.strip() else None


# -- the nerperf command's options ------------------------------------------------------------------
def add_arguments(parser: argparse.ArgumentParser, names: Iterable[str], aliases: Mapping[str, str] = {}) -> None:
    """``--x-y`` for each setting in ``names``, with its checking, metavar and help (default included).

    A value is checked when the command line is parsed (argparse's error) and kept as text, so that
    :func:`from_arguments` knows what was given, ``all`` (None) included. ``aliases``: an older
    spelling that keeps working (``{"sentences": "--limit"}``).
    """
    for name in names:
        option = BY_NAME[name]
        flags = ["--" + name.replace("_", "-"), *([aliases[name]] if name in aliases else [])]
        common: dict[str, Any] = {"dest": name, "metavar": option.metavar, "help": option.help, "default": None}
        if option.parse is boolean:  # a flag on its own means true: --random-weights
            parser.add_argument(*flags, type=checked(option), nargs="?", const="true", **common)
        elif option.many:
            parser.add_argument(*flags, action="append", **common)
        else:
            parser.add_argument(*flags, type=checked(option), **common)


def checked(option: Option) -> Callable[[str], str]:
    """An argparse type that checks a value with the setting's parser and keeps its text."""

    def check(text: str) -> str:
        option.parse(text)
        return text

    check.__name__ = option.parse.__name__  # argparse names it in "invalid ... value" errors
    return check


def from_arguments(arguments: argparse.Namespace, ini: Mapping[str, Any] = {}) -> Settings:
    """Settings from the ``nerperf`` command's options, then the environment, then ``ini``, then defaults."""
    given = {o.name: getattr(arguments, o.name, None) for o in OPTIONS}
    return Settings.resolve(given, from_environment(), ini)
