"""The study checkpoints' architectures, for timing them where their weights cannot be had.

Each entry keeps the facts of a study checkpoint's ``config.json`` (layers, hidden size, heads,
intermediate size, vocabulary, positions, labels). :func:`random_checkpoint` builds that model with
seeded random weights, so that every variant can be timed over the same sentences as a real checkpoint.
Its predictions mean nothing: results carry ``weights: random`` and no F1. Sequence lengths come from
the checkpoint's own tokenizer when the hub or its cache has it, else from a stand-in tokenizer the
caller names (recorded in the result); where the stand-in's vocabulary is larger than the
architecture's, the embedding grows to take its ids (no effect on the matrix-multiply work, a little on
size). No two of its tensors are alike, as in a trained checkpoint (:func:`_like_trained`). The FLOPs
counted per forward pass are :func:`matmul_flops`'s.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nerperf.models.checkpoints import Checkpoint, CheckpointError, accepted_inputs, max_length, require_room

CONLL_LABELS = ("O", "B-MISC", "I-MISC", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC")
HRL_LABELS = ("O", "B-DATE", "I-DATE", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC")


@dataclass(frozen=True)
class Architecture:
    name: str
    hub_id: str
    model_type: str
    layers: int
    hidden: int
    heads: int
    intermediate: int
    vocab: int
    positions: int
    labels: tuple[str, ...] = CONLL_LABELS

    def config(self, vocab: int | None = None) -> Any:
        """The transformers config of this architecture (``vocab`` overrides the vocabulary size)."""
        from transformers import AutoConfig

        id2label = dict(enumerate(self.labels))
        common = {
            "vocab_size": vocab or self.vocab,
            "max_position_embeddings": self.positions,
            "id2label": id2label,
            "label2id": {v: k for k, v in id2label.items()},
        }
        if self.model_type == "distilbert":
            sizes = {
                "n_layers": self.layers,
                "dim": self.hidden,
                "n_heads": self.heads,
                "hidden_dim": self.intermediate,
            }
        else:
            sizes = {
                "num_hidden_layers": self.layers,
                "hidden_size": self.hidden,
                "num_attention_heads": self.heads,
                "intermediate_size": self.intermediate,
            }
        if self.model_type in ("roberta", "xlm-roberta"):
            sizes.update(type_vocab_size=1, pad_token_id=1, bos_token_id=0, eos_token_id=2, layer_norm_eps=1e-5)
        return AutoConfig.for_model(self.model_type, **common, **sizes)


# From each checkpoint's config.json on the hub. The study names no DistilRoBERTa id: this is the
# widely used CoNLL-2003 one.
ARCHITECTURES: dict[str, Architecture] = {
    a.name: a
    for a in (
        Architecture("bert-base", "dslim/bert-base-NER", "bert", 12, 768, 12, 3072, 28996, 512),
        Architecture(
            "distilbert",
            "Rocketknight1/distilbert-base-uncased-finetuned-ner",
            "distilbert",
            6,
            768,
            12,
            3072,
            30522,
            512,
        ),
        Architecture(
            "distilroberta", "philschmid/distilroberta-base-ner-conll2003", "roberta", 6, 768, 12, 3072, 50265, 514
        ),
        Architecture(
            "xlm-roberta-large",
            "FacebookAI/xlm-roberta-large-finetuned-conll03-english",
            "xlm-roberta",
            24,
            1024,
            16,
            4096,
            250002,
            514,
        ),
        Architecture(
            "mbert", "Davlan/bert-base-multilingual-cased-ner-hrl", "bert", 12, 768, 12, 3072, 119547, 512, HRL_LABELS
        ),
        Architecture(
            "bert-large", "dbmdz/bert-large-cased-finetuned-conll03-english", "bert", 24, 1024, 16, 4096, 28996, 512
        ),
    )
}


def get_architecture(name: str) -> Architecture:
    """The architecture registered as ``name`` or with that hub id; an unknown name gets a suggestion."""
    for architecture in ARCHITECTURES.values():
        if name in (architecture.name, architecture.hub_id):
            return architecture
    names = [*ARCHITECTURES, *(a.hub_id for a in ARCHITECTURES.values())]
    close = difflib.get_close_matches(name, names, n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    raise CheckpointError(f"no registered architecture {name!r}: {hint}available: {', '.join(ARCHITECTURES)}")


def random_checkpoint(
    name: str | Path, tokenizer: str | Path | None = None, seed: int = 0, memory_limit: int | None = None
) -> Checkpoint:
    """``name``'s architecture (registered name, its hub id, or a checkpoint directory) with random weights.

    ``tokenizer`` (a checkpoint directory) stands in where the architecture's own tokenizer cannot be had.
    """
    import torch
    from transformers import AutoConfig, AutoModelForTokenClassification

    name = str(name)
    if Path(name).is_dir():
        config, own = AutoConfig.from_pretrained(name, trust_remote_code=False), name
    else:
        architecture = get_architecture(name)
        config, own = architecture.config(), architecture.hub_id
    loaded, source = _tokenizer(own, tokenizer, name)
    if len(loaded) > config.vocab_size:
        config.vocab_size = len(loaded)  # the stand-in's ids must fit the embedding
    require_room(name, config, memory_limit)
    torch.manual_seed(seed)
    model = _like_trained(AutoModelForTokenClassification.from_config(config).eval())
    loaded.model_input_names = accepted_inputs(model, loaded)  # a stand-in may offer inputs it lacks
    fingerprint = f"random:seed={seed}:no-constant-tensors:{config.to_json_string(use_diff=False)}"
    return Checkpoint(name, loaded, model, max_length(config, loaded), "random", fingerprint, source)


def _like_trained(model: Any) -> Any:
    """``model`` with seeded noise (sd 0.02) added to every tensor its initialization leaves constant: the
    layer norms' ones and zeros and the zero biases, which training makes all different.

    Left equal, they are one tensor to the exporters (torch's ONNX export merges equal initializers), and the
    variants ran graphs no trained checkpoint has: onnxruntime's quantizer quantized the merged layer-norm
    parameters of BERT-base, and onnxruntime's profile showed 72 DequantizeLinear operations in every forward pass
    of onnx-int8.
    """
    import torch

    with torch.no_grad():
        for parameter in model.parameters():
            if parameter.numel() > 1 and bool((parameter == parameter.flatten()[0]).all()):
                parameter.add_(torch.randn_like(parameter) * 0.02)
    return model


def _tokenizer(own: str, stand_in: str | Path | None, name: str) -> tuple[Any, str]:
    """The architecture's own tokenizer if it is local or cached, else the stand-in (source "" = own)."""
    from transformers import AutoTokenizer

    from nerperf.models.checkpoints import load_tokenizer

    try:
        options = {} if Path(own).is_dir() else {"local_files_only": True}
        return load_tokenizer(own, own, AutoTokenizer, options), ""
    except (OSError, CheckpointError):
        pass
    if stand_in is None:
        raise CheckpointError(
            f"{name}: its tokenizer ({own}) is not available offline; give a stand-in tokenizer "
            "(a checkpoint directory, e.g. --tokenizer ../shared/models/minilm-l6-conll03) to take sequence "
            "lengths from"
        )
    return load_tokenizer(str(stand_in), str(stand_in), AutoTokenizer, {}), str(stand_in)


def matmul_flops(config: Any, shapes: Sequence[tuple[int, int]]) -> int:
    """Matrix-multiply FLOPs (a multiply-add counts 2) of an encoder over batches of ``(rows, tokens)``.

    Per layer and token: 8·h² (query, key, value and output projections), 4·h·i (the feed-forward
    network), 4·s·h (attention scores and their weighted sum over s padded tokens); plus the classifier,
    2·h·labels. Padding is counted, because it is computed; embeddings, softmax and norms are not.
    """
    h, layers = config.hidden_size, config.num_hidden_layers
    i = getattr(config, "intermediate_size", None) or config.hidden_dim  # DistilBERT names it hidden_dim
    total = 0
    for rows, tokens in shapes:
        per_token = layers * (8 * h * h + 4 * h * i + 4 * tokens * h) + 2 * h * config.num_labels
        total += rows * tokens * per_token
    return total
