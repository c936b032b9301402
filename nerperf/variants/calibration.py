"""Calibration sentences for the statically quantized variants (onnx-int8-static, openvino-int8).

Static quantization fixes each activation's int8 range from sentences run through the model before it is
used. Those sentences are never the evaluation sample: by default they are the first
:data:`DEFAULT_SENTENCES` sentences of the *training* split of the data being evaluated (the same
directory or hub dataset, split ``train``), read with the same data format. A single data file has no
training split beside it, so there the ``calibration_data`` setting must name one. Which sentences were
used (source, split, count and a hash of their words) keys the variant's cache and is recorded with its
result, so a model calibrated on other sentences is never taken from the cache for this one.

A single data file is usually one split of a directory laid out like CoNLL-2003's (``valid.txt`` beside
``train.txt``): its training file is the one the split-directory reader would take for ``train``
(:data:`nerperf.data.conll.SPLIT_FILES`), else the one file beside it whose name holds ``train`` with the same
suffix. Where there is none (or several), the ``calibration_data`` setting must name one.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nerperf.errors import NerperfInputError
from nerperf.settings import CALIBRATION_SENTENCES as DEFAULT_SENTENCES

if TYPE_CHECKING:
    from nerperf.data.conll import DataFormat
    from nerperf.models.checkpoints import Checkpoint

DEFAULT_SPLIT = "train"
BATCH = 8  # sentences per calibration batch


@dataclass(frozen=True)
class Calibration:
    """Where the calibration sentences come from; they are read on first use only (most variants need none)."""

    data: str | None  # a CoNLL file, split directory or hub id; None: not given and not derivable
    split: str = DEFAULT_SPLIT
    sentences: int = DEFAULT_SENTENCES
    data_format: DataFormat | None = field(default=None, compare=False)
    evaluated: tuple[str, str] | None = None  # the evaluation data and split, which calibration must not be
    why_missing: str = ""

    @cached_property
    def words(self) -> list[list[str]]:
        """The calibration sentences' words: the first ``sentences`` non-empty sentences of the source."""
        from nerperf.data.conll import DEFAULT_FORMAT, load_corpus

        if self.data is None:
            raise NerperfInputError(f"no calibration sentences: {self.why_missing}")
        corpus = load_corpus(self.data, self.split, data_format=self.data_format or DEFAULT_FORMAT)
        if self.evaluated is not None and _same_source(corpus, self.evaluated):
            raise NerperfInputError(
                f"calibration data {corpus.source} is the evaluation data: calibrating on the sentences being "
                "scored would flatter the quantized variants; set calibration_data (--calibration-data, "
                "NERPERF_CALIBRATION_DATA) to training sentences"
            )
        words = [s.words for s in corpus.sentences if s.words][: self.sentences]
        if not words:
            raise NerperfInputError(f"{corpus.source}: no sentences to calibrate on; check calibration_data")
        return words

    def key(self) -> dict[str, Any]:
        """What identifies the calibration, for the variant's cache key and its result."""
        digest = hashlib.sha256("\n".join("\t".join(w) for w in self.words).encode()).hexdigest()
        return {"data": self.data, "split": self.split, "sentences": len(self.words), "sha256": digest[:16]}

    def batches(self, checkpoint: Checkpoint, names: list[str]) -> list[dict[str, Any]]:
        """The sentences as the model's padded int64 inputs (numpy), :data:`BATCH` sentences a batch."""
        from nerperf.models.alignment import encode
        from nerperf.models.runner import pad

        found = []
        for start in range(0, len(self.words), BATCH):
            encoded = encode(checkpoint.tokenizer, self.words[start : start + BATCH], checkpoint.max_length)
            tensors = pad(encoded.windows, checkpoint.tokenizer.pad_token_id)
            found.append({n: tensors[n].numpy() for n in names})
        return found


def for_evaluation(
    data: str | None, split: str, calibration_data: str | None, sentences: int, data_format: DataFormat | None
) -> Calibration:
    """The calibration for evaluating ``data``'s ``split``: ``calibration_data`` if given (a file, or a
    directory or hub id whose ``train`` split is read), else ``data``'s own training split."""
    evaluated = (str(data), split) if data is not None else None
    if calibration_data is not None:
        return Calibration(calibration_data, DEFAULT_SPLIT, sentences, data_format, evaluated)
    if data is None:
        why = f"the evaluation data was given as loaded sentences; {_NAME_ONE}"
        return Calibration(None, DEFAULT_SPLIT, sentences, data_format, evaluated, why)
    if Path(str(data)).is_file():
        found, why = training_file_beside(Path(str(data)))
        source = str(found) if found is not None else None
        return Calibration(source, DEFAULT_SPLIT, sentences, data_format, evaluated, f"{why}; {_NAME_ONE}")
    return Calibration(str(data), DEFAULT_SPLIT, sentences, data_format, evaluated)


_NAME_ONE = (
    "set calibration_data (--calibration-data, NERPERF_CALIBRATION_DATA; evaluate(calibration_data=...)) to a "
    "CoNLL file of training sentences, or a directory or hub id whose train split is read"
)


def training_file_beside(data: Path) -> tuple[Path | None, str]:
    """The training file in ``data``'s directory, or None and what was looked for.

    The split-directory reader's names for ``train`` first (``train.txt``, ``eng.train``), then the one file
    whose name holds ``train`` with ``data``'s suffix. ``data`` itself is never its own training file.
    """
    from nerperf.data.conll import split_file

    directory = data.parent
    named = split_file(directory, DEFAULT_SPLIT)
    if named is not None and named.resolve() != data.resolve():
        return named, ""
    pattern = f"*train*{data.suffix}"
    others = sorted(p for p in directory.glob(pattern) if p.is_file() and p.resolve() != data.resolve())
    if len(others) == 1:
        return others[0], ""
    looked_for = f"looked beside {data} for train.txt, eng.train or one {pattern} file"
    if others:
        return None, f"{looked_for} and found {len(others)} ({', '.join(p.name for p in others)}), so none is taken"
    return None, f"{looked_for}: none is there"


def for_settings(chosen: Any, data_format: DataFormat | None) -> Calibration:
    """:func:`for_evaluation` from resolved settings (:class:`nerperf.settings.Settings`): the plugin's and tune's."""
    return for_evaluation(chosen.data, chosen.split, chosen.calibration_data, chosen.calibration_sentences, data_format)


def _same_source(corpus: Any, evaluated: tuple[str, str]) -> bool:
    """Whether a loaded corpus is the evaluation data: the same file, or the same split of the same dataset."""
    from nerperf.data.conll import canonical_split, split_file

    data, split = evaluated
    path = Path(data)
    evaluated_file = path if path.is_file() else split_file(path, split) if path.is_dir() else None
    if evaluated_file is not None:
        return Path(corpus.source).exists() and Path(corpus.source).resolve() == evaluated_file.resolve()
    return corpus.source == data and corpus.split == canonical_split(split)
