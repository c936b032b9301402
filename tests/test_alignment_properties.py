"""Property: whatever the words, every word is predicted exactly once, at its first sub-token, or is
reported as having no sub-token; for the three tokenizer families, any window size, and through the
whole runner (batching, padding, windows) as well as the encoder."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tiny import FAMILIES, build_model, build_tokenizer, first_subtoken

from nerperf.models.alignment import encode
from nerperf.models.checkpoints import Checkpoint
from nerperf.models.runner import UNALIGNED, predict

TOKENIZERS = {family: build_tokenizer(family) for family in FAMILIES}
# Characters tokenizers treat specially, drawn often: zero-width (space, joiners, BOM), combining marks,
# soft hyphen, controls (NUL, BEL, ESC), right-to-left text and overrides, emoji, CJK.
SPECIAL = "\u200b\u200c\u200d\ufeff\u0301\u0308\u00ad\x00\x07\x1b\u05d0\u05d1\u0627\u0644\u202e\u200f\U0001f600\u6771"
WORDS = st.one_of(
    st.text(max_size=30),  # any Unicode category, the empty word included
    st.text(st.sampled_from(SPECIAL), min_size=1, max_size=6),
    st.text(st.sampled_from(SPECIAL + "abcXYZ09-."), min_size=1, max_size=12),
    st.text(st.characters(codec="utf-8"), min_size=80, max_size=400),  # longer than any window
)
SENTENCES = st.lists(st.lists(WORDS, min_size=1, max_size=60), min_size=1, max_size=4)


@pytest.mark.parametrize("family", FAMILIES)
@given(batch=SENTENCES, max_length=st.integers(min_value=4, max_value=64))
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


CHECKPOINTS = {
    family: Checkpoint(family, TOKENIZERS[family], build_model(family, len(TOKENIZERS[family])), 32, "random")
    for family in FAMILIES
}


@pytest.mark.parametrize("family", FAMILIES)
@given(batch=SENTENCES, batch_size=st.integers(min_value=1, max_value=5))
def test_the_runner_gives_one_label_per_word(family: str, batch: list[list[str]], batch_size: int) -> None:
    checkpoint = CHECKPOINTS[family]
    run = predict(checkpoint, batch, batch_size=batch_size, warmup=False)
    labels = len(checkpoint.model.config.id2label)
    assert [len(row) for row in run.label_ids] == [len(words) for words in batch]
    for words, row in zip(batch, run.label_ids, strict=True):
        for word, label in zip(words, row, strict=True):
            has_subtoken = first_subtoken(checkpoint.tokenizer, word) is not None
            assert (label != UNALIGNED) == has_subtoken
            assert label == UNALIGNED or 0 <= label < labels
    assert run.unaligned == sum(label == UNALIGNED for row in run.label_ids for label in row)
