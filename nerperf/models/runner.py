"""Batched inference over sentences, and its timing.

Every sentence is tokenized first, in one call (the fast tokenizer's batch path), so that batches can be
formed by what the model actually runs: sub-tokens. Sentences are sorted longest first by their longest
window (ties keep input order) and cut greedily into batches of at most ``batch_size`` windows and, when
``max_tokens`` is given, at most ``max_tokens`` padded tokens (windows x the batch's longest window); a
sentence is never split across batches, and one that alone exceeds a limit runs alone. Each batch is padded
only to its own longest window, and the original order is restored in the output. Sorting by words
instead left about a third of the batched work as padding: a word is one to a dozen sub-tokens.

Timing, with ``time.perf_counter``: tokenization (the one tokenizer call, plus building each batch's padded
tensors) apart from the model (forward pass and reading the predicted labels). The first batch is run once
more before the timed batches as a warm-up, and that run is excluded. A sentence's latency is the wall time
of the batch that carried it plus its share of the tokenizer call in proportion to its sub-tokens: with
``batch_size=1`` that is the per-sentence latency a caller sees (the plugin's latency rounds run one
sentence per call, so theirs is exact). ``real_tokens`` and ``padded_tokens`` count what the timed batches
held (padded = windows x longest window, per batch): their ratio is the padding overhead. Scoring is
:mod:`nerperf.data.metrics`'s.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from nerperf.data.labels import UNALIGNED
from nerperf.models.alignment import Window, encode
from nerperf.models.batching import check_limits, plan_sentences
from nerperf.models.checkpoints import Checkpoint

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
    max_tokens: int | None = None
    real_tokens: int = 0  # sub-tokens of the timed batches, special tokens included
    padded_tokens: int = 0  # what the model ran: per batch, windows x its longest window
    pad_s: float = 0.0  # of tokenize_s, building the padded tensors (the rest is the tokenizer call)


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
    max_tokens: int | None = None,
) -> Predictions:
    """One model label id per word of every sentence, with the run's timing.

    ``forward`` (padded tensors -> logits) runs the model: a variant's (:mod:`nerperf.variants`), or by
    default the checkpoint's torch model. ``batch_size`` and ``max_tokens``: see
    :func:`nerperf.models.batching.plan_batches`. With ``warmup``, every padded shape the run will time is run
    once first, untimed: runtimes create their kernels per shape on first sight (oneDNN's primitives,
    OpenVINO's dynamic-shape nodes, first-touched buffers), which one warm-up batch left inside the timing.
    """
    import torch

    if forward is None:
        forward = _torch_forward(checkpoint)
    check_limits(batch_size, max_tokens)
    label_ids: list[list[int]] = [[UNALIGNED] * len(s) for s in sentences]
    latencies = [0.0] * len(sentences)
    model_s = warmup_s = pad_s = 0.0
    shapes = []
    with _threads(threads) as used_threads, torch.inference_mode():
        started = time.perf_counter()
        encoded = encode(checkpoint.tokenizer, sentences, checkpoint.max_length)
        encode_s = time.perf_counter() - started  # the tokenizer call
        windows, batches = plan_sentences(encoded, len(sentences), batch_size, max_tokens)
        tokens = [sum(len(w) for w in ws) for ws in windows]
        share = encode_s / max(1, sum(tokens))
        pad_id = checkpoint.tokenizer.pad_token_id
        warmed = 0
        if warmup:
            t0 = time.perf_counter()
            for shape_batch in first_of_each_shape([[w for i in b for w in windows[i]] for b in batches]):
                _pick(forward(pad(shape_batch, pad_id)), shape_batch)
                warmed += 1
            warmup_s = time.perf_counter() - t0
        for batch in batches:
            t0 = time.perf_counter()
            batch_windows = [w for i in batch for w in windows[i]]
            tensors = pad(batch_windows, pad_id)
            t1 = time.perf_counter()
            picked = _pick(forward(tensors), batch_windows)
            t2 = time.perf_counter()
            for window, labels in zip(batch_windows, picked, strict=True):
                row = label_ids[window.sentence]
                for (word, _position), label in zip(window.picks, labels, strict=True):
                    row[word] = label
            pad_s += t1 - t0
            model_s += t2 - t1
            for i in batch:
                latencies[i] = t2 - t0 + share * tokens[i]
            shapes.append(tuple(tensors["input_ids"].shape))
        total_s = time.perf_counter() - started - warmup_s
    timing = Timing(
        total_s,
        encode_s + pad_s,
        model_s,
        tuple(latencies),
        batch_size,
        used_threads,
        warmed,
        tuple(shapes),
        max_tokens,
        sum(tokens),
        sum(rows * length for rows, length in shapes),
        pad_s,
    )
    return Predictions(label_ids, len(encoded.unaligned), encoded.windowed, timing)


def first_of_each_shape(batches: Sequence[Sequence[Window]]) -> list[Sequence[Window]]:
    """The first batch of each padded shape (windows x longest window), in order: what warms them all."""
    seen, found = set(), []
    for batch in batches:
        shape = (len(batch), max((len(w) for w in batch), default=0))
        if batch and shape not in seen:
            seen.add(shape)
            found.append(batch)
    return found


def sentence_batches(
    checkpoint: Checkpoint, sentences: Sequence[Sequence[str]], batch_size: int, max_tokens: int | None = None
) -> list[list[int]]:
    """How :func:`predict` batches ``sentences`` (sentence indices per batch), for timing batch by batch.

    Each batch, given to :func:`predict` with the same limits, runs as one forward pass.
    """
    encoded = encode(checkpoint.tokenizer, sentences, checkpoint.max_length)
    return plan_sentences(encoded, len(sentences), batch_size, max_tokens)[1]


def _torch_forward(checkpoint: Checkpoint) -> Forward:
    return lambda tensors: checkpoint.model(**tensors).logits


def one_batch(checkpoint: Checkpoint, sentences: Sequence[Sequence[str]], threads: int | None, forward: Forward) -> Any:
    """A function that runs ``forward`` once on a small batch of ``sentences`` (the first four with words),
    as :func:`predict` runs it: for a variant's report of the kernels it ran."""
    import torch

    some = [s for s in sentences if s][:4]

    def run() -> Any:
        with _threads(threads), torch.inference_mode():
            encoded = encode(checkpoint.tokenizer, some, checkpoint.max_length)
            return forward(pad(encoded.windows, checkpoint.tokenizer.pad_token_id))

    return run


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
