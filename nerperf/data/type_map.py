"""Renaming entity types before matching: the data's ``person`` as ``PER``, a model's ``PERSON`` as ``PER``.

A label map (``--label-map person=PER,corporation=ORG,group=ORG`` or a file of ``FROM=TO`` lines) is
applied on both sides, to the gold data's types and to the model's, before they are matched by name
(:mod:`nerperf.data.labels`). Several types may map onto one. ``TO`` = ``O`` drops a type: its gold entities
leave the score and are counted (:attr:`nerperf.data.conll.Corpus.dropped_gold`); a model type mapped to ``O``
is never predicted.

The map renames entities, it never joins or splits them: entities are read with their original types
(:mod:`nerperf.data.schemes`) and renamed after, so ``B-corporation`` then ``I-group`` (two entities in
conlleval's reading, since the type changes) stays two adjacent ``ORG`` entities, written
``B-ORG B-ORG``.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from nerperf.data.schemes import OUTSIDE, Span
from nerperf.errors import NerperfInputError

_TYPE = re.compile(r"^[^\s=,]+$")


class TypeMapError(NerperfInputError):
    """A label map nerperf cannot read; the message names the entry or the file and line."""


def check_entry(text: str) -> str:
    """A ``FROM=TO`` entry or a file path, as the ``label_map`` setting takes them (files are read later)."""
    if "=" in text:
        _pair(text, "")
    return text


def _pair(text: str, where: str) -> tuple[str, str]:
    source, _, target = (part.strip() for part in text.partition("="))
    if not _TYPE.match(source) or not _TYPE.match(target) or source == OUTSIDE:
        raise TypeMapError(
            f"{where}{text!r} is not FROM=TO: two entity type names without spaces, commas or '=', "
            "FROM not O (e.g. person=PER, or OTH=O to drop a type)"
        )
    return source, target


@dataclass(frozen=True)
class TypeMap:
    """``FROM -> TO`` renames, in the order given; types not named keep their names."""

    pairs: tuple[tuple[str, str], ...] = ()

    @classmethod
    def parse(cls, entries: Iterable[str]) -> TypeMap:
        """``FROM=TO`` entries (several to an entry with commas), or paths of files with one ``FROM=TO``
        per line (``#`` comments)."""
        pairs: dict[str, str] = {}
        where_set: dict[str, str] = {}
        for entry in (part.strip() for entries_text in entries for part in entries_text.split(",")):
            if not entry:
                continue
            for where, text in [("", entry)] if "=" in entry else _file_lines(Path(entry)):
                source, target = _pair(text, where)
                if source in pairs and pairs[source] != target:
                    raise TypeMapError(
                        f"{where}{source} is mapped to both {pairs[source]} ({where_set[source] or 'an entry'}) "
                        f"and {target}; map each type once"
                    )
                pairs[source] = target
                where_set[source] = where.rstrip(": ")
        return cls(tuple(pairs.items()))

    def __bool__(self) -> bool:
        return bool(self.pairs)

    @property
    def mapping(self) -> dict[str, str]:
        return dict(self.pairs)

    def rename(self, entity_type: str) -> str:
        return self.mapping.get(entity_type, entity_type)

    def apply(self, spans: Sequence[Span]) -> tuple[list[Span], Counter[str]]:
        """``spans`` renamed; those mapped to ``O`` removed and counted by their original type."""
        mapping = self.mapping
        kept: list[Span] = []
        dropped: Counter[str] = Counter()
        for start, end, entity_type in spans:
            target = mapping.get(entity_type, entity_type)
            if target == OUTSIDE:
                dropped[entity_type] += 1
            else:
                kept.append((start, end, target))
        return kept, dropped

    def unused(self, *type_sets: Iterable[str]) -> list[str]:
        """The ``FROM`` types found in none of ``type_sets`` (the data's and the model's original types)."""
        seen = set().union(*map(set, type_sets))
        return [source for source, _ in self.pairs if source not in seen]

    def describe(self) -> str:
        return ", ".join(f"{source}={target}" for source, target in self.pairs)


def _file_lines(path: Path) -> list[tuple[str, str]]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise TypeMapError(
            f"label map {str(path)!r}: neither FROM=TO nor an existing file; give entries like person=PER "
            "or the path of a file with one FROM=TO per line"
        ) from None
    except (OSError, UnicodeDecodeError) as error:
        raise TypeMapError(f"{path}: cannot be read as a UTF-8 label map ({error})") from None
    found = []
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.split("#", 1)[0].strip()
        if line:
            found.append((f"{path}:{number}: ", line))
    return found
