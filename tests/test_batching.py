"""Batches by sub-tokens: the plan's order and limits, and the padding the runner records.

The plan is a pure function of window lengths (hypothesis checks its invariants); the runner's counts
are checked against the tiny WordPiece tokenizer, sentence by sentence.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tiny import build_tokenizer

from nerperf.models.batching import plan_batches
from nerperf.models.checkpoints import load_checkpoint
from nerperf.models.runner import predict, sentence_batches

RARE = "quickbrownlazy"  # one word, eight sub-tokens of the tiny vocabulary
COMMON = "the"


def padded(lengths: list[int], batches: list[list[int]]) -> int:
    return sum(len(batch) * max(lengths[i] for i in batch) for batch in batches)


@given(
    lengths=st.lists(st.lists(st.integers(1, 600), min_size=1, max_size=4), max_size=60),
    batch_size=st.integers(1, 40),
    max_tokens=st.none() | st.integers(1, 4000),
)
def test_every_sentence_once_longest_first_within_the_limits(
    lengths: list[list[int]], batch_size: int, max_tokens: int | None
) -> None:
    batches = plan_batches(lengths, batch_size, max_tokens)
    assert sorted(i for batch in batches for i in batch) == list(range(len(lengths)))
    longest = [max(lengths[i]) for batch in batches for i in batch]
    assert longest == sorted(longest, reverse=True)  # one order through every batch
    for batch in batches:
        windows = sum(len(lengths[i]) for i in batch)
        if len(batch) > 1:  # a sentence alone may exceed a limit; a batch of several may not
            assert windows <= batch_size
            assert max_tokens is None or windows * max(lengths[batch[0]]) <= max_tokens
    # greedy: the next sentence would have broken a limit
    for batch, following in zip(batches, batches[1:], strict=False):
        windows = sum(len(lengths[i]) for i in batch) + len(lengths[following[0]])
        too_many = windows > batch_size
        too_big = max_tokens is not None and windows * max(lengths[batch[0]]) > max_tokens
        assert too_many or too_big


def test_ties_keep_input_order_and_a_budget_shrinks_batches_of_long_sentences() -> None:
    lengths = [[10], [40], [10], [40], [10], [10]]
    assert plan_batches(lengths, 4) == [[1, 3, 0, 2], [4, 5]]
    assert plan_batches(lengths, 4, max_tokens=80) == [[1, 3], [0, 2, 4, 5]]
    assert plan_batches([[600, 300], [5]], 1) == [[0], [1]]  # two windows of one sentence stay together
    with pytest.raises(ValueError, match="max_tokens must be at least 1"):
        plan_batches(lengths, 4, max_tokens=0)


def sentences_where_words_mislead() -> list[list[str]]:
    """Word counts order them 6, 5, 4, 3; sub-token counts order them otherwise."""
    return [[COMMON] * 6, [RARE] * 5, [COMMON] * 4, [RARE] * 3]


def test_runner_batches_by_subtokens_and_counts_real_and_padded_tokens(bert_checkpoint: Path) -> None:
    checkpoint = load_checkpoint(bert_checkpoint)
    sentences = sentences_where_words_mislead()
    tokenizer = build_tokenizer("wordpiece")
    lengths = [len(tokenizer(s, is_split_into_words=True)["input_ids"]) for s in sentences]
    assert lengths[1] > lengths[3] > lengths[0] > lengths[2]  # the rare word splits into several sub-tokens
    by_words = [[0, 1], [2, 3]]  # what sorting by word count did
    by_subtokens = [[1, 3], [0, 2]]
    run = predict(checkpoint, sentences, batch_size=2, warmup=False)
    assert run.timing.real_tokens == sum(lengths)
    assert run.timing.padded_tokens == padded(lengths, by_subtokens) < padded(lengths, by_words)
    assert [rows for rows, _ in run.timing.shapes] == [2, 2]
    assert sentence_batches(checkpoint, sentences, 2) == by_subtokens
    budget = 2 * lengths[1] - 1  # too small for the two longest together
    assert sentence_batches(checkpoint, sentences, 2, budget) == [[1], [3, 0], [2]]


def test_predictions_do_not_depend_on_the_batching(bert_checkpoint: Path) -> None:
    """Sentences longer than the tiny model's 64 positions are windowed; every plan predicts the same."""
    checkpoint = load_checkpoint(bert_checkpoint)
    sentences = sentences_where_words_mislead() + [[RARE, COMMON] * 20, ["Brussels"], [COMMON, RARE] * 9]
    one_by_one = predict(checkpoint, sentences, batch_size=1)
    assert one_by_one.windowed == 2
    for batch_size, max_tokens in ((2, None), (3, 100), (32, None), (32, 40)):
        run = predict(checkpoint, sentences, batch_size, max_tokens=max_tokens)
        assert run.label_ids == one_by_one.label_ids
        assert run.timing.real_tokens == one_by_one.timing.real_tokens
        assert run.timing.padded_tokens >= run.timing.real_tokens
    for batch in sentence_batches(checkpoint, sentences, 3, 100):  # the plugin times each as one pass
        assert len(predict(checkpoint, [sentences[i] for i in batch], 3, max_tokens=100).timing.shapes) == 1


def test_the_result_records_the_batching_and_the_notes_print_it(bert_checkpoint: Path, conll_file: Path) -> None:
    from nerperf.evaluation import Timing, evaluate
    from nerperf.report.tables import notes
    from nerperf.results import EvalResult

    result = evaluate(bert_checkpoint, conll_file, timing=Timing(batch_size=2, max_tokens=40))
    speed = result.speed
    assert speed.max_tokens == 40 and 0 < speed.real_tokens <= speed.padded_tokens
    assert speed.padding_ratio == speed.padded_tokens / speed.real_tokens
    line = next(n for n in notes(result) if n.startswith("timing:"))
    assert f"batch size 2, at most 40 padded tokens, padding {speed.padding_ratio:.2f}x the real tokens" in line
    assert f"machine: {result.environment['cpu']}" in notes(result)  # CPU model, decisive flags, cores
    assert "AVX2 " in result.environment["cpu"] and result.environment["cpu"].endswith(" cores")
    assert EvalResult.from_json(result.to_json()).speed == speed
    old = result.to_dict()  # a result written before 0.4 has none of the three
    for name in ("max_tokens", "real_tokens", "padded_tokens"):
        del old["speed"][name]
    assert EvalResult.from_dict(old).speed.padding_ratio is None
    assert "padding" not in EvalResult.from_dict(old).speed.batching()
