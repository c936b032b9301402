"""Batched inference over sentences, and its timing.

Sentences are sorted longest first (by word count, then characters: known without tokenizing, and
close to the token count) and cut into batches, each padded only to its own longest window; the
original order is restored in the output. The first batch is run once as a warm-up and not timed.

Timing, per batch, with ``time.perf_counter``: tokenization (words -> padded tensors) apart from the
model (forward pass and reading the predicted labels). A sentence's latency is the wall time of the
batch that carried it, tokenization included: with ``batch_size=1`` that is the per-sentence latency a
caller sees. Scoring is :mod:`nerperf.metrics`'s.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from nerperf.alignment import Encoded, Window, encode
from nerperf.checkpoints import Checkpoint
from nerperf.labels import UNALIGNED

Forward = Callable[[dict[str, Any]], Any]  # padded int64 tensors by feature name -> logits


@dataclass(frozen=True)
class Timing:
    total_s: float
    tokenize_s: float
    model_s: float
    latencies_s: tuple[float, ...]  # per sentence, in input order
    batch_size: int
    threads: int
    warmup_batches: int
    shapes: tuple[tuple[int, int], ...] = ()  # (windows, padded tokens) of each timed batch


@dataclass(frozen=True)
class Predictions:
    label_ids: list[list[int]]  # per sentence, one model label id per word (UNALIGNED: no sub-token)
    unaligned: int  # words without a sub-token
    windowed: int  # sentences split into several windows
    timing: Timing


def predict(
    checkpoint: Checkpoint,
    sentences: Sequence[Sequence[str]],
    batch_size: int = 32,
    threads: int | None = None,
    warmup: bool = True,
    forward: Forward | None = None,
) -> Predictions:
    """One model label id per word of every sentence, with the run's timing.

    ``forward`` (padded tensors -> logits) runs the model: a variant's (:mod:`nerperf.variants`), or by
    default the checkpoint's torch model.
    """
    import torch

    if forward is None:
        forward = _torch_forward(checkpoint)
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, not {batch_size}")
    batches = length_sorted_batches(sentences, batch_size)
    label_ids: list[list[int]] = [[UNALIGNED] * len(s) for s in sentences]
    latencies = [0.0] * len(sentences)
    tokenize_s = model_s = 0.0
    unaligned = windowed = 0
    shapes = []
    with _threads(threads) as used_threads, torch.inference_mode():
        if warmup and batches:
            encoded, tensors = _tokenize(checkpoint, [sentences[i] for i in batches[0]])
            _pick(forward(tensors), encoded.windows)
        started = time.perf_counter()
        for batch in batches:
            t0 = time.perf_counter()
            encoded, tensors = _tokenize(checkpoint, [sentences[i] for i in batch])
            t1 = time.perf_counter()
            picked = _pick(forward(tensors), encoded.windows)
            t2 = time.perf_counter()
            for window, labels in zip(encoded.windows, picked, strict=True):
                row = label_ids[batch[window.sentence]]
                for (word, _position), label in zip(window.picks, labels, strict=True):
                    row[word] = label
            tokenize_s += t1 - t0
            model_s += t2 - t1
            for i in batch:
                latencies[i] = t2 - t0
            unaligned += len(encoded.unaligned)
            windowed += encoded.windowed
            shapes.append(tuple(tensors["input_ids"].shape))
        total_s = time.perf_counter() - started
    timing = Timing(
        total_s,
        tokenize_s,
        model_s,
        tuple(latencies),
        batch_size,
        used_threads,
        int(warmup and bool(batches)),
        tuple(shapes),
    )
    return Predictions(label_ids, unaligned, windowed, timing)


def length_sorted_batches(sentences: Sequence[Sequence[str]], batch_size: int) -> list[list[int]]:
    """Sentence indices, longest first, cut into batches: how :func:`predict` batches, for timing by batch."""
    order = sorted(range(len(sentences)), key=lambda i: (-len(sentences[i]), -sum(map(len, sentences[i])), i))
    return [order[i : i + batch_size] for i in range(0, len(order), batch_size)]


def _torch_forward(checkpoint: Checkpoint) -> Forward:
    return lambda tensors: checkpoint.model(**tensors).logits


def _tokenize(checkpoint: Checkpoint, sentences: Sequence[Sequence[str]]) -> tuple[Encoded, dict]:
    encoded = encode(checkpoint.tokenizer, sentences, checkpoint.max_length)
    return encoded, pad(encoded.windows, checkpoint.tokenizer.pad_token_id)


def pad(windows: Sequence[Window], pad_token_id: int | None) -> dict:
    """Right-pad the windows' features to the longest one (dynamic padding) as int64 tensors."""
    import torch

    longest = max(len(w) for w in windows)
    tensors = {}
    for name in windows[0].features:
        fill = (pad_token_id or 0) if name == "input_ids" else 0
        rows = [w.features[name] + [fill] * (longest - len(w)) for w in windows]
        tensors[name] = torch.tensor(rows, dtype=torch.long)
    return tensors


def _pick(logits: Any, windows: Sequence[Window]) -> list[list[int]]:
    """The predicted label id at every picked position of every window."""
    import torch

    rows = [r for r, w in enumerate(windows) for _ in w.picks]
    positions = [p for w in windows for _, p in w.picks]
    flat = logits[torch.tensor(rows, dtype=torch.long), torch.tensor(positions, dtype=torch.long)].argmax(-1).tolist()
    picked, start = [], 0
    for window in windows:
        picked.append(flat[start : start + len(window.picks)])
        start += len(window.picks)
    return picked


@contextmanager
def _threads(threads: int | None) -> Iterator[int]:
    """Use ``threads`` intra-op threads for the run, then restore torch's setting."""
    import torch

    before = torch.get_num_threads()
    if threads is not None:
        if threads < 1:
            raise ValueError(f"threads must be at least 1, not {threads}")
        torch.set_num_threads(threads)
    try:
        yield torch.get_num_threads()
    finally:
        torch.set_num_threads(before)
