"""evaluate() end to end: labels by name, honest scores for mismatched label sets, windows, real data."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from seqeval.metrics import f1_score
from tiny import CONLL_LABELS, FAMILIES, build_model, build_tokenizer

from nerperf.data.conll import Corpus, Sentence, read_conll
from nerperf.data.labels import LabelMap
from nerperf.data.schemes import Detection
from nerperf.evaluation import Scoring, Timing, evaluate
from nerperf.models.checkpoints import Checkpoint, load_checkpoint
from nerperf.models.runner import UNALIGNED, predict
from nerperf.results import EvalResult


def save(directory: Path, tokenizer: object, model: torch.nn.Module) -> Path:
    model.save_pretrained(directory)
    tokenizer.save_pretrained(directory)  # type: ignore[attr-defined]
    return directory


def predicted_names(checkpoint: Checkpoint, corpus: Corpus) -> list[list[str]]:
    run = predict(checkpoint, [s.words for s in corpus.sentences], batch_size=2)
    return [[checkpoint.id2label[i] if i != UNALIGNED else "O" for i in row] for row in run.label_ids]


def test_permuted_id2label_changes_nothing(tmp_path: Path, conll_file: Path) -> None:
    tokenizer = build_tokenizer("wordpiece")
    model = build_model("wordpiece", len(tokenizer), seed=7)
    original = save(tmp_path / "original", tokenizer, model)
    order = [4, 8, 0, 2, 6, 1, 3, 7, 5]  # new id -> old id
    with torch.no_grad():
        model.classifier.weight.copy_(model.classifier.weight[order].clone())
        model.classifier.bias.copy_(model.classifier.bias[order].clone())
    model.config.id2label = {new: CONLL_LABELS[old] for new, old in enumerate(order)}
    model.config.label2id = {v: k for k, v in model.config.id2label.items()}
    permuted = save(tmp_path / "permuted", tokenizer, model)

    corpus = read_conll(conll_file)
    names = predicted_names(load_checkpoint(original), corpus)
    assert names == predicted_names(load_checkpoint(permuted), corpus)
    assert len({n for row in names for n in row}) > 2  # the comparison is not trivially all-O
    a, b = evaluate(original, corpus), evaluate(permuted, corpus)
    assert a.scores == b.scores and a.coverage == b.coverage


def test_model_without_misc_and_with_date_is_scored_honestly(tmp_path: Path, conll_file: Path) -> None:
    labels = ("O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC", "B-DATE", "I-DATE")
    tokenizer = build_tokenizer("wordpiece")
    model = build_model("wordpiece", len(tokenizer), id2label=dict(enumerate(labels)))
    with torch.no_grad():  # predict B-DATE for every token
        model.classifier.weight.zero_()
        model.classifier.bias.fill_(0.0)
        model.classifier.bias[labels.index("B-DATE")] = 10.0
    directory = save(tmp_path / "multilingual", tokenizer, model)

    corpus = read_conll(conll_file)
    result = evaluate(directory, corpus)
    words = sum(len(s.words) for s in corpus.sentences)
    assert result.coverage.dropped_predictions == {"DATE": words - result.coverage.unaligned_words}
    assert result.coverage.unpredictable_types == ("MISC",)
    assert result.f1 == 0.0 and result.scores.recall == 0.0
    gold_misc = sum(t == "B-MISC" for s in corpus.sentences for t in s.tags)
    assert result.scores.per_type["MISC"].support == gold_misc > 0  # still in the score, as misses


@pytest.mark.parametrize("family", FAMILIES)
def test_windows_give_the_token_local_oracle(tmp_path: Path, family: str) -> None:
    """With a model whose label depends only on the token, every word in a long sentence must get
    exactly the label of its first sub-token, whichever window predicted it."""
    tokenizer = build_tokenizer(family, add_prefix_space=False)  # the loader must add the prefix space
    model = build_model(family, len(tokenizer), max_positions=8, token_local=True, seed=3)
    checkpoint = load_checkpoint(save(tmp_path / family, tokenizer, model))
    assert checkpoint.max_length == 8
    words = "Peter Blackburn lives in Brussels and works for the European Commission with Müller".split() * 3

    run = predict(checkpoint, [words, words[:1]], batch_size=2)
    assert run.windowed == 1 and run.unaligned == 0

    with torch.inference_mode():
        for word, label in zip(words, run.label_ids[0], strict=True):
            encoded = checkpoint.tokenizer(
                [word], is_split_into_words=True, truncation=True, max_length=8, return_tensors="pt"
            )
            position = encoded.word_ids(0).index(0)
            logits = checkpoint.model(**encoded).logits[0, position]
            assert label == int(logits.argmax())


def test_words_without_subtokens_are_counted_not_hidden(bert_checkpoint: Path) -> None:
    sentence = Sentence(("Peter", "\u200b", "lives"), ("B-PER", "B-PER", "O"))
    corpus = Corpus("inline", None, (sentence,), Detection("iob2", 0))
    checkpoint = load_checkpoint(bert_checkpoint)
    assert predict(checkpoint, [sentence.words]).label_ids[0][1] == UNALIGNED
    result = evaluate(checkpoint, corpus)
    assert result.coverage.unaligned_words == 1
    assert result.scores.per_type["PER"].support == 2  # the unpredictable word's entity is still gold


def test_result_round_trips_through_json(bert_checkpoint: Path, conll_file: Path, tmp_path: Path) -> None:
    result = evaluate(
        bert_checkpoint, conll_file, timing=Timing(batch_size=1, threads=1), scoring=Scoring(bootstrap=50)
    )
    assert result.speed.batch_size == 1 and result.speed.threads == 1
    assert 1 <= result.speed.warmup_batches <= 5  # one batch of each padded shape: 5 sentences, 5 at most
    assert result.sentences == 5 and result.f1_ci95 is not None
    assert EvalResult.from_json(result.to_json()) == result
    result.save(tmp_path / "out" / "result.json")
    assert EvalResult.from_json((tmp_path / "out" / "result.json").read_text()) == result
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["result.json"]  # no temporary left


def test_threads_setting_is_restored(bert_checkpoint: Path, conll_file: Path) -> None:
    before = torch.get_num_threads()
    evaluate(bert_checkpoint, conll_file, timing=Timing(threads=1))
    assert torch.get_num_threads() == before


@pytest.fixture(scope="module")
def minilm_l3(shared: Path) -> Checkpoint:
    return load_checkpoint(shared / "models/minilm-l3-conll03")


def test_real_checkpoint_iob1_release_scores_like_iob2(shared: Path, minilm_l3: Checkpoint) -> None:
    data = shared / "data/conll2003"
    iob2 = evaluate(minilm_l3, data / "test.txt", limit=150)
    iob1 = evaluate(minilm_l3, data / "original_iob1/eng.testb", limit=150)
    assert iob1.scores == iob2.scores and iob1.coverage == iob2.coverage
    assert iob2.f1 > 0.7  # a real fine-tuned checkpoint, labels mapped by name despite its own order


def test_real_checkpoint_agrees_with_seqeval_and_ignores_batching(shared: Path, minilm_l3: Checkpoint) -> None:
    corpus = read_conll(shared / "data/conll2003/valid.txt").head(60)
    labels = LabelMap.build(minilm_l3.id2label, corpus.entity_types, "l3")
    words = [s.words for s in corpus.sentences]
    single = predict(minilm_l3, words, batch_size=1).label_ids
    assert predict(minilm_l3, words, batch_size=16).label_ids == single  # padding changes nothing
    predicted = [labels.to_tags(row) for row in single]
    result = evaluate(minilm_l3, corpus)
    assert result.f1 == pytest.approx(f1_score([list(s.tags) for s in corpus.sentences], predicted), abs=1e-12)


def test_every_shape_that_is_timed_is_warmed_first_and_once(bert_checkpoint: Path, conll_file: Path) -> None:
    """Runtimes build kernels per shape on first sight: a shape first met inside the timing is timed cold."""
    from nerperf.data.conll import read_conll

    checkpoint = load_checkpoint(bert_checkpoint)
    seen: list[tuple[int, ...]] = []

    def forward(tensors: dict) -> object:
        seen.append(tuple(tensors["input_ids"].shape))
        return checkpoint.model(**tensors).logits

    words = [s.words for s in read_conll(conll_file).sentences]
    for batch_size in (1, 2):
        seen.clear()
        run = predict(checkpoint, words, batch_size, forward=forward)
        warmed, timed = seen[: run.timing.warmup_batches], seen[run.timing.warmup_batches :]
        assert len(timed) == len(run.timing.shapes) and set(timed) == set(warmed)
        assert len(warmed) == len(set(warmed))  # once each
        seen.clear()
        assert predict(checkpoint, words, batch_size, warmup=False, forward=forward).timing.warmup_batches == 0
        assert len(seen) == len(timed)
