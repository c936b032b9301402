"""NER column files and hub datasets -> sentences with IOB2 tags.

Owns reading (which columns hold the word and the tag, tab- or space-separated, comment lines,
``-DOCSTART-`` lines, blank-line separators, the encoding), writing (predictions beside gold tags, as
``conlleval`` reads them), choosing a split, and reporting a malformed file by path and line. How a
file is read is a :class:`DataFormat`. Tag schemes themselves are :mod:`nerperf.data.schemes`'s, renaming
types :mod:`nerperf.data.type_map`'s; what a model predicts is not this module's business.

A file is tab-separated when its first token line holds a tab: fields are then split on tabs only,
so a word may contain spaces (``New York``), and a word may even be empty or only whitespace (hand-made
TSV files have them: a lone space, an empty field): it is kept as an empty word, which no tokenizer
turns into a sub-token, so it is predicted ``O`` and counted as such, its gold tag kept. Otherwise
fields are split on runs of spaces and tabs, and no word can be empty. Every token line must have as
many fields as the first one, once trailing empty fields (a trailing tab: the commonest glitch in
hand-made TSV) are dropped; they are counted (:attr:`Corpus.trailing_separators`).
"""

from __future__ import annotations

import codecs
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import TYPE_CHECKING

from nerperf.atomic import write_atomic
from nerperf.data import hub
from nerperf.data.schemes import (
    Detection,
    SchemeError,
    TagError,
    canonical_scheme,
    detect_scheme,
    gold_spans,
    spans_to_iob2,
    split_tag,
)
from nerperf.data.type_map import TypeMap
from nerperf.errors import NerperfInputError

if TYPE_CHECKING:
    from nerperf.settings import Settings

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
class DataFormat:
    """How to read the data: which columns, which comment lines, which encoding, which tag scheme, and
    which entity types to rename (the settings ``word_column``, ``tag_column``, ``comment_prefix``,
    ``encoding``, ``tag_scheme`` and ``label_map``). Columns are 0-based; negative counts from the end."""

    word_column: int = 0
    tag_column: int = -1
    comment_prefix: str | None = None  # a line starting with it, then whitespace or the line's end
    encoding: str = "utf-8"
    scheme: str = "auto"
    type_map: TypeMap = field(default_factory=TypeMap)

    def __post_init__(self) -> None:
        try:
            object.__setattr__(self, "scheme", canonical_scheme(self.scheme))
        except TagError as error:
            raise DataError(str(error)) from None
        try:
            codecs.lookup(self.encoding)
        except LookupError:
            raise DataError(
                f"unknown encoding {self.encoding!r}; use a Python codec name such as utf-8 or latin-1"
            ) from None
        if self.comment_prefix is not None and not self.comment_prefix.strip():
            raise DataError("the comment prefix is empty or whitespace; give the characters comment lines start with")

    def is_comment(self, line: str) -> bool:
        prefix = self.comment_prefix
        return bool(prefix) and line.startswith(prefix) and (len(line) == len(prefix) or line[len(prefix)].isspace())

    def to_dict(self) -> dict[str, object]:
        """What the result records: every option that is not its default."""
        changed = {
            f.name: getattr(self, f.name)
            for f in fields(self)
            if getattr(self, f.name) != getattr(DEFAULT_FORMAT, f.name)
        }
        recorded = {"scheme": "tag_scheme", "type_map": "label_map"}  # as the settings name them
        return {
            recorded.get(name, name): value.mapping if isinstance(value, TypeMap) else value
            for name, value in changed.items()
        }


DEFAULT_FORMAT = DataFormat()


def data_format(settings: Settings) -> DataFormat:
    """The data format the settings describe (the plugin's, the asv suite's and ``nerperf eval``'s)."""
    try:
        type_map = TypeMap.parse(settings.label_map)
    except NerperfInputError as error:
        raise DataError(f"label map ({settings.where('label_map')}): {error}") from None
    return DataFormat(
        word_column=settings.word_column,
        tag_column=settings.tag_column,
        comment_prefix=settings.comment_prefix,
        encoding=settings.encoding,
        scheme=settings.tag_scheme,
        type_map=type_map,
    )


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
    comments: int = 0  # comment lines skipped
    original_types: frozenset[str] = frozenset()  # entity types before the label map
    dropped_gold: dict[str, int] = field(default_factory=dict)  # original type -> gold entities mapped to O
    data_format: DataFormat = DEFAULT_FORMAT
    trailing_separators: int = 0  # token lines whose trailing empty fields were read as absent
    in_data: int | None = None  # sentences in the file or split, when these are only its first ones

    @property
    def entity_types(self) -> frozenset[str]:
        return frozenset(split_tag(t)[1] for s in self.sentences for t in s.tags if t != "O")

    @property
    def sentences_in_data(self) -> int:
        """How many sentences the file or split holds, of which :attr:`sentences` are the first."""
        return self.in_data if self.in_data is not None else len(self.sentences)

    @property
    def blank_words(self) -> int:
        """Words that are empty or only whitespace (tab-separated data): no sub-token, predicted O."""
        return sum(1 for s in self.sentences for word in s.words if not word.strip())

    def head(self, limit: int | None) -> Corpus:
        """The first ``limit`` sentences (all of them for ``None``), as the study took 1,000."""
        if limit is None:
            return self
        if limit < 1:
            raise DataError(f"limit must be a positive number of sentences, not {limit}")
        return replace(self, sentences=self.sentences[:limit], in_data=self.sentences_in_data)


@dataclass
class _Raw:
    """A sentence as read, before its tags are converted: the words, tags and each token's line."""

    words: list[str]
    tags: list[str]
    lines: list[int]  # each token's line in the file; empty for hub rows
    row: int = 0  # the hub row


def read_conll(
    path: str | Path, scheme: str | None = None, split: str | None = None, *, data_format: DataFormat = DEFAULT_FORMAT
) -> Corpus:
    """Read a column file as ``data_format`` says (default: word first, tag last); ``scheme`` overrides its
    tag scheme (auto, iob1, iob2, ioe1, ioe2, bioes, bilou)."""
    path = Path(path)
    if scheme is not None:
        data_format = replace(data_format, scheme=scheme)
    text = _read_text(path, data_format.encoding)
    sentences: list[_Raw] = []
    current = _Raw([], [], [])
    columns = 0
    separator: str | None = None  # "\t", or None for runs of spaces and tabs
    docstarts = comments = trailing = 0

    def close() -> None:
        nonlocal current
        if current.words:
            sentences.append(current)
            current = _Raw([], [], [])

    for number, raw in enumerate(text.split("\n"), start=1):
        line = raw.rstrip("\r")
        if data_format.is_comment(line):
            comments += 1
            continue
        if not line.strip(" \t"):
            close()
            continue
        if columns == 0 and separator is None and "\t" in line:
            separator = "\t"
        if separator:
            fields = [part.strip(" ") for part in line.split(separator)]
            if len(fields) > max(columns, 1) and fields[-1] == "":  # a trailing tab: absent fields, not empty ones
                while len(fields) > max(columns, 1) and fields[-1] == "":
                    fields.pop()
                trailing += 1
        else:
            fields = _COLUMN_SEPARATOR.split(line.strip(" \t"))
        if fields[0] == DOCSTART:
            docstarts += 1
            close()
            continue
        word, tag = _columns(fields, data_format, f"{path}:{number}", line)
        if word == DOCSTART:
            docstarts += 1
            close()
            continue
        if columns == 0:
            columns = len(fields)
        elif len(fields) != columns:
            raise DataError(
                f"{path}:{number}: {len(fields)} columns where the file's first token line has {columns}: {line!r}"
            )
        if not tag:  # an empty word is a word (see the module's docstring); an empty tag is not a tag
            raise DataError(
                f"{path}:{number}: the tag column ({data_format.tag_column}) is empty: {line!r}"
                f"{_column_hint(data_format)}"
            )
        try:
            split_tag(tag)
        except TagError as error:
            raise DataError(f"{path}:{number}: {error}{_column_hint(data_format)}") from None
        current.words.append(word)
        current.tags.append(tag)
        current.lines.append(number)
    close()
    if not sentences:
        raise DataError(f"{path}: no sentences found (is it an empty or header-only CoNLL file?)")
    corpus = _normalize(str(path), split, sentences, data_format, docstarts, comments, path)
    return replace(corpus, trailing_separators=trailing)


def _columns(fields: list[str], data_format: DataFormat, where: str, line: str) -> tuple[str, str]:
    """The word and the tag of one token line, or an error naming the line and its column count."""
    count = len(fields)
    word_at, tag_at = data_format.word_column, data_format.tag_column
    if count < 2:
        raise DataError(f"{where}: expected at least 2 columns (WORD ... NER_TAG), found {count}: {line!r}")
    for name, index in (("word", word_at), ("tag", tag_at)):
        if not -count <= index < count:
            raise DataError(
                f"{where}: the {name} column {index} is out of range: the line has {count} columns "
                f"(0 to {count - 1}, or -1 to -{count} from the end): {line!r}; set --{name}-column"
            )
    if word_at % count == tag_at % count:
        raise DataError(f"{where}: the word column ({word_at}) and the tag column ({tag_at}) are the same column")
    return fields[word_at], fields[tag_at]


def _column_hint(data_format: DataFormat) -> str:
    return (
        f" (the tag read from column {data_format.tag_column}: if the tags are in another column, set "
        "--tag-column; if this is a comment line, set --comment-prefix)"
    )


def format_conll(sentences: Sequence[Sentence], predicted: Sequence[Sequence[str]] | None = None) -> str:
    """``WORD TAG`` lines (``WORD GOLD PREDICTED`` with ``predicted``: ``conlleval``'s input), a blank
    line after each sentence, under a ``-DOCSTART-`` line; :func:`read_conll` reads it back.

    Columns are space-separated, or tab-separated when a word is empty or holds a space (as in the
    tab-separated files such words come from). A word no column can hold (with a tab, newline or NUL,
    or ``-DOCSTART-`` itself) is refused rather than written as something else.
    """
    tabbed = any(not word.strip() or " " in word for sentence in sentences for word in sentence.words)
    gap = "\t" if tabbed else " "
    lines = [gap.join([DOCSTART, "O"] if predicted is None else [DOCSTART, "O", "O"]), ""]
    for index, sentence in enumerate(sentences):
        extra = predicted[index] if predicted is not None else None
        if extra is not None and len(extra) != len(sentence.words):
            raise DataError(f"sentence {index}: {len(sentence.words)} words but {len(extra)} predicted tags")
        for position, (word, tag) in enumerate(zip(sentence.words, sentence.tags, strict=True)):
            if word == DOCSTART or any(c in word for c in "\t\n\x00") or word != word.strip(" "):
                raise DataError(
                    f"sentence {index} (line {sentence.line or '-'}), word {position}: {word!r} cannot be a CoNLL "
                    "column (a tab, line break or NUL inside, spaces around it, or -DOCSTART-)"
                )
            lines.append(gap.join([word, tag] if extra is None else [word, tag, extra[position]]))
        lines.append("")
    return "\n".join(lines) + "\n"


def write_conll(
    path: str | Path, sentences: Sequence[Sentence], predicted: Sequence[Sequence[str]] | None = None
) -> None:
    """Write :func:`format_conll`'s text to ``path`` atomically."""
    write_atomic(Path(path), format_conll(sentences, predicted))


def _read_text(path: Path, encoding: str = "utf-8") -> str:
    try:
        data = path.read_bytes()
    except IsADirectoryError:
        raise DataError(f"{path}: is a directory; give a CoNLL file, or the directory with --split") from None
    except OSError as error:
        raise DataError(f"{path}: cannot be read ({error.strerror})") from None
    if b"\x00" in data and not codecs.lookup(encoding).name.startswith(("utf-16", "utf-32")):
        line = data[: data.index(b"\x00")].count(b"\n") + 1
        raise DataError(f"{path}:{line}: NUL byte: this is not a text file; give a CoNLL column file")
    codec = "utf-8-sig" if codecs.lookup(encoding).name == "utf-8" else encoding
    try:
        return data.decode(codec)
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise DataError(
            f"{path}:{line}: not valid {encoding.upper()} ({error.reason}); name the file's encoding with --encoding "
            "(e.g. latin-1 for the original CoNLL-2002 release), or re-encode it as UTF-8"
        ) from None


def _normalize(
    source: str,
    split: str | None,
    sentences: Sequence[_Raw],
    data_format: DataFormat,
    docstarts: int,
    comments: int = 0,
    path: Path | None = None,
) -> Corpus:
    """Detect or check the scheme, read each sentence's entities, rename their types, write them as IOB2."""

    def where(index: int, position: int) -> str:
        raw = sentences[index]
        if path is not None and raw.lines:
            return f"{path}:{raw.lines[position]}"
        return f"dataset {source!r} row {raw.row}, token {position}"

    try:
        detection = detect_scheme([s.tags for s in sentences])
    except TagError as error:
        if data_format.scheme == "auto":
            raise DataError(f"{source}: {error}") from None
        detection = Detection(data_format.scheme)  # the given scheme names the first tag it does not use
    if data_format.scheme != "auto":
        detection = replace(detection, scheme=data_format.scheme, given=True)
    converted = []
    dropped: Counter[str] = Counter()
    original_types: set[str] = set()
    for index, raw in enumerate(sentences):
        try:
            spans = gold_spans(raw.tags, detection.scheme)
        except SchemeError as error:
            raise DataError(f"{where(index, error.position)}: {error}") from None
        original_types.update(entity_type for _, _, entity_type in spans)
        spans, gone = data_format.type_map.apply(spans)
        dropped.update(gone)
        line = raw.lines[0] if raw.lines else 0
        converted.append(Sentence(tuple(raw.words), tuple(spans_to_iob2(len(raw.words), spans)), line))
    return Corpus(
        source,
        split,
        tuple(converted),
        detection,
        docstarts,
        comments,
        frozenset(original_types),
        dict(sorted(dropped.items())),
        data_format,
    )


def canonical_split(split: str) -> str:
    """``valid``/``dev``/``testa`` -> ``validation``, ``testb`` -> ``test``; others unchanged."""
    return SPLIT_ALIASES.get(split, split)


def split_file(directory: Path, split: str) -> Path | None:
    """The CoNLL file for ``split`` in ``directory``, if there is one."""
    for name in SPLIT_FILES.get(canonical_split(split), ()):
        if (directory / name).is_file():
            return directory / name
    return None


def load_corpus(
    data: str | Path, split: str = "validation", scheme: str | None = None, *, data_format: DataFormat = DEFAULT_FORMAT
) -> Corpus:
    """A CoNLL file, a directory of split files, a local dataset directory, or a hub dataset id."""
    if scheme is not None:
        data_format = replace(data_format, scheme=scheme)
    path = Path(data)
    if path.is_file():
        return read_conll(path, split=None, data_format=data_format)
    if path.is_dir():
        found = split_file(path, split)
        if found is not None:
            return read_conll(found, split=canonical_split(split), data_format=data_format)
        return load_hub_split(str(path), split, data_format=data_format)
    name = str(data)
    if path.suffix.lower() in FILE_SUFFIXES or not hub.looks_like_hub_id(name):
        raise DataError(f"{name}: no such file or directory (give a CoNLL file, a directory, or a hub id)")
    hub.require_hub(
        f"dataset {name!r}",
        "Point --data at a CoNLL file or a directory of them (for example ../shared/data/conll2003).",
    )
    return load_hub_split(name, split, data_format=data_format)


def load_hub_split(dataset: str, split: str, *, data_format: DataFormat = DEFAULT_FORMAT) -> Corpus:
    """A split of a hub (or local) dataset through ``datasets.load_dataset``; tag ids become names
    (a ``ClassLabel``'s), which the data format's label map then renames like a file's."""
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
        sentences.append(_Raw(list(words), tags, [], row))
    if not sentences:
        raise DataError(f"dataset {dataset!r} split {split!r}: no sentences")
    return _normalize(dataset, split, sentences, data_format, docstarts)


def _tag_names(feature: object) -> list[str] | None:
    """Names of a ``Sequence(ClassLabel)``/``List(ClassLabel)`` feature; ``None`` when tags are strings."""
    inner = getattr(feature, "feature", feature)
    return list(inner.names) if hasattr(inner, "names") else None
