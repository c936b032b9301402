"""Words <-> sub-word tokens: which token position predicts each word, and windows for long sentences.

The rule is the study's (and ``evaluate``'s): a word takes the label of its first sub-token. A sentence
longer than the model's window is cut, at word boundaries, into windows that overlap by half; each word
is predicted by the window in which its first sub-token has the most context on both sides, so every
word gets exactly one prediction. A word that yields no sub-token at all (tokenizers drop some
characters, such as zero-width spaces) cannot be predicted: it is listed in ``Encoded.unaligned`` and
the caller scores it as ``O`` and reports the count.

Encoding relies on the fast tokenizer's ``is_split_into_words=True`` and ``word_ids()``, which treat
each word independently for WordPiece, byte-level BPE (with ``add_prefix_space``) and SentencePiece.
Padding and tensors are :mod:`nerperf.models.runner`'s.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Window:
    """One model input: tokenizer features and, for each word it predicts, the token position to read."""

    sentence: int  # index into the sequence of sentences given to encode()
    features: dict[str, list[int]]
    picks: tuple[tuple[int, int], ...]  # (word index in the sentence, token position in this window)

    def __len__(self) -> int:
        return len(self.features["input_ids"])


@dataclass(frozen=True)
class Encoded:
    windows: list[Window]
    unaligned: list[tuple[int, int]] = field(default_factory=list)  # (sentence, word): no sub-token
    windowed: int = 0  # sentences that needed more than one window


def encode(tokenizer: Any, sentences: Sequence[Sequence[str]], max_length: int) -> Encoded:
    """Tokenize ``sentences`` (lists of words) into windows of at most ``max_length`` tokens."""
    content = max_length - tokenizer.num_special_tokens_to_add(pair=False)
    if content < 1:
        raise ValueError(f"max_length {max_length} leaves no room for words besides special tokens")
    names = list(tokenizer.model_input_names)
    # verbose=False: no "sequence length is longer than ..." warning; longer sentences are windowed below.
    batch = tokenizer([list(s) for s in sentences], is_split_into_words=True, truncation=False, verbose=False)
    windows: list[Window] = []
    unaligned: list[tuple[int, int]] = []
    long_sentences: list[tuple[int, list[int]]] = []  # (sentence, token count of each word)
    for index, words in enumerate(sentences):
        word_ids = batch.word_ids(index)
        counts = _token_counts(word_ids, len(words))
        unaligned.extend((index, word) for word, count in enumerate(counts) if count == 0)
        if len(word_ids) <= max_length:
            features = {name: batch[name][index] for name in names}
            windows.append(Window(index, features, _first_positions(word_ids, range(len(words)))))
        else:
            long_sentences.append((index, counts))
    for index, counts in long_sentences:
        windows.extend(_split(tokenizer, names, index, sentences[index], counts, content, max_length))
    return Encoded(windows, unaligned, len(long_sentences))


def _token_counts(word_ids: Sequence[int | None], n_words: int) -> list[int]:
    counts = [0] * n_words
    for word in word_ids:
        if word is not None:
            counts[word] += 1
    return counts


def _first_positions(word_ids: Sequence[int | None], wanted: Sequence[int] | range) -> tuple[tuple[int, int], ...]:
    """``(word, position)`` of the first sub-token of each wanted word that has one."""
    wanted = set(wanted)
    first: dict[int, int] = {}
    for position, word in enumerate(word_ids):
        if word is not None and word in wanted and word not in first:
            first[word] = position
    return tuple(sorted(first.items()))


def plan_windows(counts: Sequence[int], content: int) -> list[tuple[int, int]]:
    """Word spans ``[start, end)`` of at most ``content`` tokens, overlapping by about half.

    A single word longer than ``content`` gets a span of its own (the tokenizer truncates it; its first
    sub-token survives, which is all that is read).

    >>> plan_windows([1, 1, 1, 1, 1, 1], 4)
    [(0, 4), (2, 6)]
    >>> plan_windows([1, 9, 1], 4)
    [(0, 1), (1, 2), (2, 3)]
    """
    spans: list[tuple[int, int]] = []
    start = 0
    while start < len(counts):
        end, total = start, 0
        while end < len(counts) and total + counts[end] <= content:
            total += counts[end]
            end += 1
        end = max(end, start + 1)
        spans.append((start, end))
        if end >= len(counts):
            break
        back, overlap = end, 0
        while back - 1 > start and overlap + counts[back - 1] <= content // 2:
            back -= 1
            overlap += counts[back]
        start = back
    return spans


def assign_words(counts: Sequence[int], spans: Sequence[tuple[int, int]]) -> list[list[int]]:
    """For each span, the words it predicts: each word with tokens goes to the span where its first
    sub-token has the most context (min of tokens before and after it), the earliest span on ties."""
    offsets = [0]
    for count in counts:
        offsets.append(offsets[-1] + count)
    chosen: list[list[int]] = [[] for _ in spans]
    for word, count in enumerate(counts):
        if count == 0:
            continue
        best, best_context = -1, -1
        for span_index, (start, end) in enumerate(spans):
            if start <= word < end:
                context = min(offsets[word] - offsets[start], offsets[end] - offsets[word] - 1)
                if context > best_context:
                    best, best_context = span_index, context
        chosen[best].append(word)
    return chosen


def _split(
    tokenizer: Any,
    names: list[str],
    index: int,
    words: Sequence[str],
    counts: Sequence[int],
    content: int,
    max_length: int,
) -> list[Window]:
    spans = plan_windows(counts, content)
    chosen = assign_words(counts, spans)
    encoded = tokenizer(
        [list(words[start:end]) for start, end in spans],
        is_split_into_words=True,
        truncation=True,
        max_length=max_length,
    )
    windows = []
    for span_index, ((start, _end), words_here) in enumerate(zip(spans, chosen, strict=True)):
        local = [w - start for w in words_here]
        picks = _first_positions(encoded.word_ids(span_index), local)
        features = {name: encoded[name][span_index] for name in names}
        windows.append(Window(index, features, tuple((start + w, p) for w, p in picks)))
    return windows
