"""How sentences are cut into batches: by sub-tokens, longest first, within a size and a token budget.

Sorting by words left about a third of the batched work as padding, because a word is one to a dozen
sub-tokens; sorting the tokenized windows wastes a tenth at batch size 32, and a budget of padded tokens
per batch (``max_tokens``) halves that again by running long sentences in smaller batches. Pure functions
of window lengths, so the plan can be tested without a model; :mod:`nerperf.models.runner` runs it.
"""

from __future__ import annotations

from collections.abc import Sequence

from nerperf.models.alignment import Encoded, Window


def plan_batches(lengths: Sequence[Sequence[int]], batch_size: int, max_tokens: int | None = None) -> list[list[int]]:
    """Sentence indices cut into batches, longest first: ``lengths`` holds each sentence's window lengths.

    Sentences are sorted by their longest window, longest first (ties in input order), and a batch takes
    the next sentence while it still holds at most ``batch_size`` windows and, if ``max_tokens`` is given,
    at most ``max_tokens`` padded tokens (its windows x its first, longest window). A sentence that alone
    exceeds a limit forms a batch of its own; an empty sentence (no window) goes with the shortest.

    >>> plan_batches([[3], [9], [5], [4]], batch_size=2)
    [[1, 2], [3, 0]]
    >>> plan_batches([[3], [9], [5], [4]], batch_size=4, max_tokens=12)
    [[1], [2, 3], [0]]
    """
    check_limits(batch_size, max_tokens)
    order = sorted(range(len(lengths)), key=lambda i: (-max(lengths[i], default=0), i))
    batches: list[list[int]] = []
    rows = longest = 0
    for i in order:
        windows = len(lengths[i])
        if (
            batches
            and rows + windows <= batch_size
            and (max_tokens is None or (rows + windows) * longest <= max_tokens)
        ):
            batches[-1].append(i)
            rows += windows
        else:
            batches.append([i])
            rows, longest = windows, max(lengths[i], default=0)
    return batches


def plan_sentences(
    encoded: Encoded, sentences: int, batch_size: int, max_tokens: int | None = None
) -> tuple[list[list[Window]], list[list[int]]]:
    """The encoded windows grouped by sentence, and the sentences' batches (:func:`plan_batches`)."""
    windows = windows_by_sentence(encoded, sentences)
    return windows, plan_batches([[len(w) for w in ws] for ws in windows], batch_size, max_tokens)


def windows_by_sentence(encoded: Encoded, sentences: int) -> list[list[Window]]:
    """The encoded windows grouped by the sentence they came from, in input order."""
    grouped: list[list[Window]] = [[] for _ in range(sentences)]
    for window in encoded.windows:
        grouped[window.sentence].append(window)
    return grouped


def check_limits(batch_size: int, max_tokens: int | None) -> None:
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, not {batch_size}")
    if max_tokens is not None and max_tokens < 1:
        raise ValueError(f"max_tokens must be at least 1, not {max_tokens}")
