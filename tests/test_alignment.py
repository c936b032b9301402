"""Every word gets exactly one prediction, read at its first sub-token, with windows for long sentences."""

from __future__ import annotations

import pytest
from tiny import FAMILIES, build_tokenizer, first_subtoken

from nerperf.models.alignment import assign_words, encode, plan_windows

WINDOW_PLANS = {
    "fits": ([1, 2, 1], 8, [(0, 3)]),
    "halves-overlap": ([1] * 6, 4, [(0, 4), (2, 6)]),
    "giant-word-alone": ([1, 9, 1], 4, [(0, 1), (1, 2), (2, 3)]),
    "empty-words-ride-along": ([1, 0, 0, 1, 1], 2, [(0, 4), (1, 5)]),
    "no-words": ([], 4, []),
}


@pytest.mark.parametrize(("counts", "content", "spans"), WINDOW_PLANS.values(), ids=WINDOW_PLANS.keys())
def test_plan_windows(counts: list[int], content: int, spans: list[tuple[int, int]]) -> None:
    assert plan_windows(counts, content) == spans
    chosen = assign_words(counts, spans)
    assigned = sorted(w for words in chosen for w in words)
    assert assigned == [w for w, c in enumerate(counts) if c > 0]  # each word with tokens exactly once


def test_words_go_to_the_window_where_they_have_most_context() -> None:
    counts = [1] * 8
    spans = plan_windows(counts, 4)
    assert spans == [(0, 4), (2, 6), (4, 8)]
    assert assign_words(counts, spans) == [[0, 1, 2], [3, 4], [5, 6, 7]]


@pytest.fixture(scope="module", params=FAMILIES)
def tokenizer(request: pytest.FixtureRequest):  # noqa: ANN201
    return build_tokenizer(request.param)


SENTENCES = [
    ["Peter", "Blackburn", "lives", "in", "Brussels", "."],
    ["Müller", "visited", "東京", "and", "São", "Paulo", "!"],
    ["EU"] * 40 + ["rejects", "German", "call"] * 10,  # long: needs windows
    ["Japan", "supercalifragilisticexpialidocious" * 4, "won"],  # a word longer than a window
    ["x"],
]


@pytest.mark.parametrize("max_length", [8, 16, 512])
def test_every_word_is_read_once_at_its_first_subtoken(tokenizer, max_length: int) -> None:  # noqa: ANN001
    encoded = encode(tokenizer, SENTENCES, max_length)
    seen: dict[tuple[int, int], int] = {}
    for window in encoded.windows:
        assert len(window) <= max_length
        ids = window.features["input_ids"]
        for word, position in window.picks:
            key = (window.sentence, word)
            assert key not in seen, f"word {key} predicted twice"
            seen[key] = 1
            assert ids[position] == first_subtoken(tokenizer, SENTENCES[window.sentence][word])
    expected = {(s, w) for s, words in enumerate(SENTENCES) for w in range(len(words))}
    assert set(seen) | set(encoded.unaligned) == expected
    assert not set(seen) & set(encoded.unaligned)
    assert (encoded.windowed > 0) == (max_length < 512)


def test_words_without_subtokens_are_reported(tokenizer) -> None:  # noqa: ANN001
    words = ["Peter", "", "lives", "\u200b", "in"]
    encoded = encode(tokenizer, [words], 512)
    dropped = {w for _, w in encoded.unaligned}
    assert 1 in dropped  # an empty word never yields a sub-token
    for word in dropped:
        assert first_subtoken(tokenizer, words[word]) is None
    picked = {w for window in encoded.windows for w, _ in window.picks}
    assert picked | dropped == set(range(len(words)))


def test_too_small_window_is_refused(tokenizer) -> None:  # noqa: ANN001
    with pytest.raises(ValueError, match="leaves no room"):
        encode(tokenizer, [["x"]], tokenizer.num_special_tokens_to_add(pair=False))
