"""Property: whatever the words, every word is predicted exactly once, at its first sub-token, or is
reported as having no sub-token; for the three tokenizer families and any window size."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tiny import FAMILIES, build_tokenizer, first_subtoken

from nerperf.alignment import encode

TOKENIZERS = {family: build_tokenizer(family) for family in FAMILIES}
words = st.text(min_size=0, max_size=30)  # any Unicode: combining marks, zero-width, controls, RTL
sentences = st.lists(st.lists(words, min_size=1, max_size=60), min_size=1, max_size=4)


@pytest.mark.parametrize("family", FAMILIES)
@given(batch=sentences, max_length=st.integers(min_value=4, max_value=64))
def test_each_word_exactly_once(family: str, batch: list[list[str]], max_length: int) -> None:
    tokenizer = TOKENIZERS[family]
    encoded = encode(tokenizer, batch, max_length)
    picked: list[tuple[int, int]] = []
    for window in encoded.windows:
        assert len(window) <= max_length
        for word, position in window.picks:
            picked.append((window.sentence, word))
            assert window.features["input_ids"][position] == first_subtoken(tokenizer, batch[window.sentence][word])
    assert len(picked) == len(set(picked))
    for sentence, word in encoded.unaligned:
        assert first_subtoken(tokenizer, batch[sentence][word]) is None
    everything = {(s, w) for s, ws in enumerate(batch) for w in range(len(ws))}
    assert set(picked) | set(encoded.unaligned) == everything
    assert not set(picked) & set(encoded.unaligned)
