"""CoNLL-2003 data: column files and hub datasets -> sentences with IOB2 tags.

Owns reading (2- or 4-column files, ``-DOCSTART-`` lines, blank-line separators, UTF-8), writing
(predictions beside gold tags, as ``conlleval`` reads them), choosing a split, and reporting a
malformed file by path and line. Tag schemes themselves are
:mod:`nerperf.schemes`'s; what a model predicts is not this module's business.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from nerperf import hub
from nerperf.atomic import write_atomic
from nerperf.errors import NerperfInputError
from nerperf.schemes import (
    SCHEMES,
    Detection,
    TagError,
    detect_scheme,
    iob1_to_iob2,
    split_tag,
    starts_with_inside,
)

DOCSTART = "-DOCSTART-"
_COLUMN_SEPARATOR = re.compile(r"[ \t]+")
# Split name -> file names it may have in a directory (the NeuroNER names, then the original release).
SPLIT_FILES: dict[str, tuple[str, ...]] = {
    "train": ("train.txt", "eng.train"),
    "validation": ("valid.txt", "dev.txt", "eng.testa"),
    "test": ("test.txt", "eng.testb"),
}
SPLIT_ALIASES = {"valid": "validation", "dev": "validation", "testa": "validation", "testb": "test"}
FILE_SUFFIXES = {".txt", ".conll", ".conllu", ".iob", ".bio", ".tsv", ".testa", ".testb", ".train"}
HUB_TOKEN_COLUMN = "tokens"
HUB_TAG_COLUMNS = ("ner_tags", "tags", "labels")


class DataError(NerperfInputError):
    """Data nerperf cannot read; the message names the file (and line) and what to do."""


@dataclass(frozen=True)
class Sentence:
    """One sentence: its words and IOB2 tags; ``line`` is where it starts (1-based; 0 for hub data)."""

    words: tuple[str, ...]
    tags: tuple[str, ...]
    line: int = 0


@dataclass(frozen=True)
class Corpus:
    """The sentences of one split, with where they came from and how their tags were read."""

    source: str
    split: str | None
    sentences: tuple[Sentence, ...]
    scheme: Detection
    docstarts: int = 0  # -DOCSTART- lines or rows skipped (and empty hub rows: nothing to score)

    @property
    def entity_types(self) -> frozenset[str]:
        return frozenset(split_tag(t)[1] for s in self.sentences for t in s.tags if t != "O")

    def head(self, limit: int | None) -> Corpus:
        """The first ``limit`` sentences (all of them for ``None``), as the study took 1,000."""
        if limit is None:
            return self
        if limit < 1:
            raise DataError(f"limit must be a positive number of sentences, not {limit}")
        return replace(self, sentences=self.sentences[:limit])


def read_conll(path: str | Path, scheme: str = "auto", split: str | None = None) -> Corpus:
    """Read a CoNLL column file: word first, NER tag last; ``scheme`` is auto, iob1 or iob2."""
    path = Path(path)
    text = _read_text(path)
    sentences: list[Sentence] = []
    words: list[str] = []
    tags: list[str] = []
    start = 0
    columns = 0
    docstarts = 0

    def close() -> None:
        if words:
            sentences.append(Sentence(tuple(words), tuple(tags), start))
            words.clear()
            tags.clear()

    for number, raw in enumerate(text.split("\n"), start=1):
        line = raw.rstrip("\r")
        if not line.strip(" \t"):
            close()
            continue
        fields = _COLUMN_SEPARATOR.split(line.strip(" \t"))
        if fields[0] == DOCSTART:
            docstarts += 1
            close()
            continue
        if len(fields) < 2:
            raise DataError(
                f"{path}:{number}: expected at least 2 columns (WORD ... NER_TAG), found {len(fields)}: {line!r}"
            )
        if columns == 0:
            columns = len(fields)
        elif len(fields) != columns:
            raise DataError(
                f"{path}:{number}: {len(fields)} columns where the file's first token line has {columns}: {line!r}"
            )
        try:
            split_tag(fields[-1])
        except TagError as error:
            raise DataError(f"{path}:{number}: {error}") from None
        if not words:
            start = number
        words.append(fields[0])
        tags.append(fields[-1])
    close()
    if not sentences:
        raise DataError(f"{path}: no sentences found (is it an empty or header-only CoNLL file?)")
    return _normalize(str(path), split, sentences, scheme, docstarts, path)


def format_conll(sentences: Sequence[Sentence], predicted: Sequence[Sequence[str]] | None = None) -> str:
    """``WORD TAG`` lines (``WORD GOLD PREDICTED`` with ``predicted``: ``conlleval``'s input), a blank
    line after each sentence, under a ``-DOCSTART-`` line; :func:`read_conll` reads it back.

    A word the format cannot hold (empty, with a space, tab, newline or NUL, or ``-DOCSTART-`` itself)
    is refused rather than written as something else.
    """
    lines = [f"{DOCSTART} O" if predicted is None else f"{DOCSTART} O O", ""]
    for index, sentence in enumerate(sentences):
        extra = predicted[index] if predicted is not None else None
        if extra is not None and len(extra) != len(sentence.words):
            raise DataError(f"sentence {index}: {len(sentence.words)} words but {len(extra)} predicted tags")
        for position, (word, tag) in enumerate(zip(sentence.words, sentence.tags, strict=True)):
            if not word or word == DOCSTART or any(c in word for c in " \t\n\x00"):
                raise DataError(
                    f"sentence {index} (line {sentence.line or '-'}), word {position}: {word!r} cannot be a CoNLL "
                    "column (empty, whitespace or NUL inside, or -DOCSTART-)"
                )
            lines.append(f"{word} {tag}" if extra is None else f"{word} {tag} {extra[position]}")
        lines.append("")
    return "\n".join(lines) + "\n"


def write_conll(
    path: str | Path, sentences: Sequence[Sentence], predicted: Sequence[Sequence[str]] | None = None
) -> None:
    """Write :func:`format_conll`'s text to ``path`` atomically."""
    write_atomic(Path(path), format_conll(sentences, predicted))


def _read_text(path: Path) -> str:
    try:
        data = path.read_bytes()
    except IsADirectoryError:
        raise DataError(f"{path}: is a directory; give a CoNLL file, or the directory with --split") from None
    except OSError as error:
        raise DataError(f"{path}: cannot be read ({error.strerror})") from None
    if b"\x00" in data:
        line = data[: data.index(b"\x00")].count(b"\n") + 1
        raise DataError(f"{path}:{line}: NUL byte: this is not a text file; give a CoNLL column file")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise DataError(f"{path}:{line}: not valid UTF-8 ({error.reason}); re-encode the file as UTF-8") from None


def _normalize(
    source: str,
    split: str | None,
    sentences: list[Sentence],
    scheme: str,
    docstarts: int,
    path: Path | None = None,
) -> Corpus:
    """Detect or check the scheme and rewrite tags as IOB2."""
    if scheme not in SCHEMES:
        raise DataError(f"unknown tag scheme {scheme!r}; use one of {', '.join(SCHEMES)}")
    detection = detect_scheme([s.tags for s in sentences])
    if scheme == "iob2" and detection.scheme == "iob1":
        index, position = next((i, p) for i, s in enumerate(sentences) for p in starts_with_inside(s.tags))
        sentence = sentences[index]
        where = f"{path}:{sentence.line + position}" if path else f"{source}, sentence {index}"
        raise DataError(
            f"{where}: {sentence.tags[position]} starts an entity, which IOB2 does not allow "
            f"({detection.inside_starts} such tags); the data looks IOB1: pass scheme 'iob1' or 'auto'"
        )
    if scheme == "iob1" or detection.scheme == "iob1":
        detection = Detection("iob1", detection.inside_starts)
        sentences = [replace(s, tags=tuple(iob1_to_iob2(s.tags))) for s in sentences]
    return Corpus(source, split, tuple(sentences), detection, docstarts)


def canonical_split(split: str) -> str:
    """``valid``/``dev``/``testa`` -> ``validation``, ``testb`` -> ``test``; others unchanged."""
    return SPLIT_ALIASES.get(split, split)


def split_file(directory: Path, split: str) -> Path | None:
    """The CoNLL file for ``split`` in ``directory``, if there is one."""
    for name in SPLIT_FILES.get(canonical_split(split), ()):
        if (directory / name).is_file():
            return directory / name
    return None


def load_corpus(data: str | Path, split: str = "validation", scheme: str = "auto") -> Corpus:
    """A CoNLL file, a directory of split files, a local dataset directory, or a hub dataset id."""
    path = Path(data)
    if path.is_file():
        return read_conll(path, scheme, split=None)
    if path.is_dir():
        found = split_file(path, split)
        if found is not None:
            return read_conll(found, scheme, split=canonical_split(split))
        return load_hub_split(str(path), split, scheme)
    name = str(data)
    if path.suffix.lower() in FILE_SUFFIXES or not hub.looks_like_hub_id(name):
        raise DataError(f"{name}: no such file or directory (give a CoNLL file, a directory, or a hub id)")
    hub.require_hub(
        f"dataset {name!r}",
        "Point --data at a CoNLL file or a directory of them (for example ../shared/data/conll2003).",
    )
    return load_hub_split(name, split, scheme)


def load_hub_split(dataset: str, split: str, scheme: str = "auto") -> Corpus:
    """A split of a hub (or local) dataset through ``datasets.load_dataset``; tag ids become names."""
    import datasets

    split = canonical_split(split)
    try:
        table = datasets.load_dataset(dataset, split=split)
    except (ValueError, FileNotFoundError) as error:
        files = ", ".join(name for names in SPLIT_FILES.values() for name in names)
        raise DataError(
            f"dataset {dataset!r}: cannot load split {split!r} ({error}); a directory needs CoNLL files "
            f"named {files}, or data files that datasets.load_dataset reads"
        ) from None
    column = next((c for c in HUB_TAG_COLUMNS if c in table.column_names), None)
    if HUB_TOKEN_COLUMN not in table.column_names or column is None:
        raise DataError(
            f"dataset {dataset!r} split {split!r}: expected a {HUB_TOKEN_COLUMN!r} column and one of "
            f"{', '.join(HUB_TAG_COLUMNS)}; it has {', '.join(table.column_names)}"
        )
    names = _tag_names(table.features[column])
    sentences = []
    docstarts = 0
    for row, (words, tags) in enumerate(zip(table[HUB_TOKEN_COLUMN], table[column], strict=True)):
        if not words or words[0] == DOCSTART:  # the hub copies keep document markers as sentences
            docstarts += 1
            continue
        if len(words) != len(tags):
            raise DataError(f"dataset {dataset!r} split {split!r} row {row}: {len(words)} tokens but {len(tags)} tags")
        tags = [names[t] if names is not None else t for t in tags]
        for tag in tags:
            try:
                split_tag(tag)
            except TagError as error:
                raise DataError(f"dataset {dataset!r} split {split!r} row {row}: {error}") from None
        sentences.append(Sentence(tuple(words), tuple(tags)))
    if not sentences:
        raise DataError(f"dataset {dataset!r} split {split!r}: no sentences")
    return _normalize(dataset, split, sentences, scheme, docstarts)


def _tag_names(feature: object) -> list[str] | None:
    """Names of a ``Sequence(ClassLabel)``/``List(ClassLabel)`` feature; ``None`` when tags are strings."""
    inner = getattr(feature, "feature", feature)
    return list(inner.names) if hasattr(inner, "names") else None
