"""Tiny checkpoints built inside the tests: real tokenizers of the three families, real model classes.

Tokenizers are trained with the ``tokenizers`` library on a small synthetic corpus, then wrapped in the
transformers classes that the study's checkpoints use (BertTokenizer: WordPiece; RobertaTokenizer:
byte-level BPE; XLMRobertaTokenizer: SentencePiece-style Unigram), so that their normalizers,
pre-tokenizers and special tokens are the real ones. Models are random but seeded; ``token_local=True``
gives a model with no layers and no position embeddings, whose label for a word depends only on the
word's first sub-token: an exact oracle for alignment and windowing. :func:`made_up_result` is an
``EvalResult`` with chosen figures, for floors and tables.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

CORPUS = [
    "Peter Blackburn lives in Brussels and works for the European Commission .",
    "EU rejects German call to boycott British lamb .",
    "Müller visited Zürich , São Paulo and 東京 on Monday .",
    "Japan began the defence of their Asian Cup title with a lucky 2-1 win against Syria .",
    "Nadim Ladki AL-AIN , United Arab Emirates 1996-12-06",
    "The quick brown fox jumps over the lazy dog 12345 times !",
] * 10

CONLL_LABELS = ("O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC", "B-MISC", "I-MISC")
FAMILIES = ("wordpiece", "bpe", "unigram")


def build_tokenizer(family: str, add_prefix_space: bool = True) -> Any:
    """A transformers fast tokenizer of ``family``, its vocabulary trained here."""
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, trainers
    from transformers import BertTokenizer, RobertaTokenizer, XLMRobertaTokenizer

    if family == "wordpiece":
        tokenizer = Tokenizer(models.WordPiece(unk_token="[UNK]"))
        tokenizer.normalizer = normalizers.BertNormalizer()
        tokenizer.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
        trainer = trainers.WordPieceTrainer(
            vocab_size=300, special_tokens=["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
        )
        tokenizer.train_from_iterator(CORPUS, trainer)
        result = BertTokenizer(vocab=tokenizer.get_vocab())
    elif family == "bpe":
        tokenizer = Tokenizer(models.BPE())
        tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
        trainer = trainers.BpeTrainer(
            vocab_size=400,
            special_tokens=["<s>", "<pad>", "</s>", "<unk>", "<mask>"],
            initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        )
        tokenizer.train_from_iterator(CORPUS, trainer)
        model = json.loads(tokenizer.to_str())["model"]
        result = RobertaTokenizer(
            vocab=model["vocab"], merges=[tuple(m) for m in model["merges"]], add_prefix_space=add_prefix_space
        )
    elif family == "unigram":
        tokenizer = Tokenizer(models.Unigram())
        tokenizer.normalizer = normalizers.NFKC()
        tokenizer.pre_tokenizer = pre_tokenizers.Metaspace()
        trainer = trainers.UnigramTrainer(
            vocab_size=200, special_tokens=["<s>", "<pad>", "</s>", "<unk>"], unk_token="<unk>"
        )
        tokenizer.train_from_iterator(CORPUS, trainer)
        model = json.loads(tokenizer.to_str())["model"]
        result = XLMRobertaTokenizer(vocab=[tuple(v) for v in model["vocab"]])
    else:
        raise ValueError(family)
    # transformers 5 can silently build a near-empty vocabulary (shared/README.md): check it.
    assert len(result) > 60, f"{family} tokenizer has only {len(result)} tokens"
    return result


def first_subtoken(tokenizer: Any, word: str) -> int | None:
    """The id of ``word``'s first sub-token when tokenized alone, or ``None`` if it yields none."""
    ids = tokenizer([word], is_split_into_words=True, add_special_tokens=False)["input_ids"]
    return ids[0] if ids else None


def build_model(
    family: str,
    vocab_size: int,
    id2label: Mapping[int, str] = dict(enumerate(CONLL_LABELS)),
    max_positions: int = 64,
    token_local: bool = False,
    seed: int = 0,
) -> Any:
    import torch
    from transformers import (
        BertConfig,
        BertForTokenClassification,
        RobertaConfig,
        RobertaForTokenClassification,
        XLMRobertaConfig,
        XLMRobertaForTokenClassification,
    )

    torch.manual_seed(seed)
    common: dict[str, Any] = dict(
        vocab_size=vocab_size,
        hidden_size=16,
        num_hidden_layers=0 if token_local else 2,
        num_attention_heads=2,
        intermediate_size=32,
        id2label=dict(id2label),
        label2id={v: k for k, v in id2label.items()},
    )
    if family == "wordpiece":
        model = BertForTokenClassification(BertConfig(max_position_embeddings=max_positions, **common))
    elif family == "bpe":
        model = RobertaForTokenClassification(
            RobertaConfig(max_position_embeddings=max_positions + 2, pad_token_id=1, **common)
        )
    else:
        model = XLMRobertaForTokenClassification(
            XLMRobertaConfig(max_position_embeddings=max_positions + 2, pad_token_id=1, **common)
        )
    if token_local:
        embeddings = model.base_model.embeddings
        with torch.no_grad():
            embeddings.position_embeddings.weight.zero_()
            embeddings.token_type_embeddings.weight.zero_()
    return model.eval()


def save_checkpoint(directory: Path, family: str, **model_options: Any) -> Path:
    """Build and save a tiny checkpoint (safetensors, tokenizer.json) the way users save theirs."""
    tokenizer = build_tokenizer(family, add_prefix_space=False)  # the loader must fix BPE's prefix space
    model = build_model(family, len(tokenizer), **model_options)
    directory.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    return directory


def copy_checkpoint(source: Path, target: Path, skip: tuple[str, ...] = ()) -> Path:
    shutil.copytree(source, target, ignore=shutil.ignore_patterns(*skip))
    return target


class Exploit:
    """Pickled, it calls ``print`` when unpickled: what a malicious ``pytorch_model.bin`` does."""

    def __reduce__(self):  # noqa: ANN204
        return (print, ("this must never run",))


def write_conll(path: Path, sentences: list[list[tuple[str, str]]], columns: int = 4, docstart: bool = True) -> Path:
    """A synthetic CoNLL file (never the real splits) with ``columns`` columns."""
    lines = ["-DOCSTART- -X- -X- O", ""] if docstart else []
    for sentence in sentences:
        for word, tag in sentence:
            middle = ["NNP", "I-NP"][: columns - 2]
            lines.append(" ".join([word, *middle, tag]))
        lines.append("")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


SENTENCES = [
    [("Peter", "B-PER"), ("Blackburn", "I-PER"), ("lives", "O"), ("in", "O"), ("Brussels", "B-LOC"), (".", "O")],
    [
        ("EU", "B-ORG"),
        ("rejects", "O"),
        ("German", "B-MISC"),
        ("call", "O"),
        ("to", "O"),
        ("boycott", "O"),
        ("British", "B-MISC"),
        ("lamb", "O"),
        (".", "O"),
    ],
    [
        ("Japan", "B-LOC"),
        ("began", "O"),
        ("the", "O"),
        ("defence", "O"),
        ("of", "O"),
        ("their", "O"),
        ("Asian", "B-MISC"),
        ("Cup", "I-MISC"),
        ("title", "O"),
        ("against", "O"),
        ("Syria", "B-LOC"),
        (".", "O"),
    ],
    [("Nadim", "B-PER"), ("Ladki", "I-PER")],
    [("Müller", "B-PER"), ("visited", "O"), ("Zürich", "B-LOC"), ("and", "O"), ("São", "B-LOC"), ("Paulo", "I-LOC")],
]


def made_up_result(
    f1: float | None, checkpoint: str = "model", variant: str = "fp32", samples_per_s: float = 10.0
) -> Any:
    """An EvalResult with F1 ``f1`` (None: random weights) and made-up figures elsewhere."""
    from nerperf.data.metrics import Scores, TypeScore
    from nerperf.results import Build, Coverage, EvalResult, Memory, Speed

    scores = None
    if f1 is not None:
        per_type = {"LOC": TypeScore(f1, f1, f1, 10), "PER": TypeScore(0.5, 0.5, 0.5, 4)}
        scores = Scores(0.9, f1, f1, f1, per_type, "conlleval")
    speed = Speed(1.0, 0.1, 0.9, samples_per_s, 0.1, 0.1, 0.1, 0.1, 32, 2, 1)
    return EvalResult(
        checkpoint, variant, "data", "validation", 10, "IOB2", scores, speed, Coverage(20, 0, 0),
        Build(1_000_000, 0.0, False), Memory(1, 2_000_000, "VmHWM"), weights="real" if f1 is not None else "random",
    )  # fmt: skip


def encode(length: int, spans: list[tuple[int, int, str]], scheme: str) -> list[str]:
    """Write flat ``spans`` in ``scheme``: the test's own writer, independent of nerperf's readers."""
    tags = ["O"] * length
    ends = {end: t for _, end, t in spans}
    starts = {start: t for start, _, t in spans}
    for start, end, t in spans:
        size = end - start
        if scheme == "iob2":
            tags[start:end] = ["B-" + t] + ["I-" + t] * (size - 1)
        elif scheme == "iob1":  # B- only right after an entity of the same type
            tags[start:end] = ["B-" + t if ends.get(start) == t else "I-" + t] + ["I-" + t] * (size - 1)
        elif scheme == "ioe2":
            tags[start:end] = ["I-" + t] * (size - 1) + ["E-" + t]
        elif scheme == "ioe1":  # E- only right before an entity of the same type
            tags[start:end] = ["I-" + t] * (size - 1) + ["E-" + t if starts.get(end) == t else "I-" + t]
        elif scheme == "bioes":
            tags[start:end] = ["S-" + t] if size == 1 else ["B-" + t] + ["I-" + t] * (size - 2) + ["E-" + t]
        elif scheme == "bilou":
            tags[start:end] = ["U-" + t] if size == 1 else ["B-" + t] + ["I-" + t] * (size - 2) + ["L-" + t]
    return tags


def save_always_predicting(directory: Path, label: str, names: tuple[str, ...]) -> Path:
    """A tiny WordPiece checkpoint with labels ``names`` whose classifier always picks ``label``."""
    import torch

    tokenizer = build_tokenizer("wordpiece")
    network = build_model("wordpiece", len(tokenizer), id2label=dict(enumerate(names)))
    with torch.no_grad():
        network.classifier.bias[names.index(label)] = 100.0
    network.save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    return directory
