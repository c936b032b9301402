"""Loading a token-classification checkpoint from a local directory or a hub id, safely.

Safety rules: ``trust_remote_code`` is always False; weights come from safetensors when the checkpoint
has them, and pickled weights are only read with ``torch.load(weights_only=True)``. A checkpoint whose
token-classification head is missing is refused (transformers would silently give it random weights).
Mapping labels onto the data is :mod:`nerperf.data.labels`'s job; running the model is :mod:`nerperf.models.runner`'s.
"""

from __future__ import annotations

import inspect
import pickle
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nerperf.data import hub
from nerperf.errors import NerperfInputError
from nerperf.models import memory_budget
from nerperf.models.quiet import no_loading_bar

# Families whose position ids start after the padding index, so that two positions are unusable.
_OFFSET_POSITIONS = {"roberta", "xlm-roberta", "camembert", "longformer", "bart", "mbart"}
_SAFETENSORS = ("model.safetensors", "model.safetensors.index.json")
_PICKLED = ("pytorch_model.bin", "pytorch_model.bin.index.json")
_SANE_MAX_LENGTH = 1_000_000  # tokenizers without a limit report ~1e30


class CheckpointError(NerperfInputError):
    """A checkpoint nerperf refuses or cannot load; the message names it and says what to do."""


@dataclass
class Checkpoint:
    """A loaded checkpoint: fast tokenizer, model in eval mode, and the facts the runner needs."""

    name: str  # as the user gave it
    tokenizer: Any
    model: Any
    max_length: int  # tokens per window, special tokens included
    weights: str  # "safetensors", "pickle (weights_only)", or "random" (an architecture without its weights)
    fingerprint: str | None = None  # content identity for the variant cache; None: hash the directory
    tokenizer_source: str = ""  # where the tokenizer came from when not from the checkpoint itself

    @property
    def id2label(self) -> dict[int, str]:
        return {int(k): v for k, v in self.model.config.id2label.items()}


def load_checkpoint(name: str | Path, memory_limit: int | None = None) -> Checkpoint:
    """Load ``name``: a directory in Hugging Face format, or a hub id (fails fast when offline).

    ``memory_limit``: bytes it may need at most (None: the ``memory_limit`` setting's variable); a
    checkpoint that needs more is refused before its weights are read (:mod:`nerperf.models.memory_budget`).
    """
    name = str(name)
    path = Path(name)
    if path.is_dir():
        return _load(name, name, memory_limit)
    if path.exists():
        raise CheckpointError(f"checkpoint {name}: is a file; give the checkpoint's directory")
    if not hub.looks_like_hub_id(name):
        raise CheckpointError(f"checkpoint {name}: no such directory, and not a hub id (owner/name)")
    try:
        return _load(name, name, memory_limit, local_files_only=True)  # already in the Hugging Face cache
    except OSError:
        pass
    hub.require_hub(
        f"checkpoint {name!r}",
        f"There is no local directory {name!r} either: give --model a checkpoint directory "
        "(for example ../shared/models/minilm-l6-conll03).",
    )
    return _load(name, name, memory_limit)


def _load(name: str, source: str, memory_limit: int | None, **hub_options: Any) -> Checkpoint:
    from safetensors import SafetensorError
    from transformers import AutoConfig, AutoModelForTokenClassification, AutoTokenizer

    try:
        config = AutoConfig.from_pretrained(source, trust_remote_code=False, **hub_options)
    except ValueError as error:
        if "trust_remote_code" in str(error) or _asks_for_remote_code(source, hub_options):
            raise CheckpointError(
                f"checkpoint {name}: refused: it needs custom code from its repository "
                "(trust_remote_code), which nerperf never runs; use a checkpoint of a built-in architecture"
            ) from None
        raise CheckpointError(f"checkpoint {name}: unreadable config.json: {error}") from None
    raw = _raw_config(source, hub_options)
    if "id2label" not in raw:
        raise CheckpointError(
            f"checkpoint {name}: config.json has no id2label, so its labels have no names (transformers would "
            "call them LABEL_0, LABEL_1, ...); nerperf maps labels onto the data by name: add the names the model "
            'was trained with to config.json, e.g. "id2label": {"0": "O", "1": "B-PER", ...}'
        )
    tokenizer = load_tokenizer(name, source, AutoTokenizer, hub_options)
    vocab = getattr(config, "vocab_size", None)
    if vocab and len(tokenizer) < vocab // 2:
        # transformers 5 builds a near-empty tokenizer, without an error, when the files are missing.
        raise CheckpointError(
            f"checkpoint {name}: its tokenizer has {len(tokenizer)} tokens for a model with {vocab} "
            "embeddings, so the tokenizer files are missing or unreadable; the directory needs "
            "tokenizer.json (and tokenizer_config.json) as saved by tokenizer.save_pretrained()"
        )
    require_room(name, config, memory_limit)
    weights, options = _weights(source)
    try:
        with no_loading_bar():
            model, info = AutoModelForTokenClassification.from_pretrained(
                source,
                config=config,
                trust_remote_code=False,
                weights_only=True,
                output_loading_info=True,
                **options,
                **hub_options,
            )
    except ValueError as error:
        raise CheckpointError(
            f"checkpoint {name}: {config.model_type} has no token-classification model in transformers "
            f"({str(error).splitlines()[0]}); give a checkpoint fine-tuned for token classification (NER)"
        ) from None
    except (OSError, SafetensorError, pickle.UnpicklingError, RuntimeError) as error:
        if isinstance(error, OSError) and hub_options.get("local_files_only"):
            raise  # not (fully) in the cache: the caller goes to the hub
        raise CheckpointError(
            f"checkpoint {name}: cannot load its {weights} weights ({type(error).__name__}: {error}); "
            "the file is corrupt, truncated or unsafe: re-download or re-save it"
        ) from None
    missing = [key for key in info.get("missing_keys", ()) if not key.endswith("position_ids")]
    if missing:
        raise CheckpointError(
            f"checkpoint {name}: weights missing for {', '.join(sorted(missing)[:4])}"
            f"{' ...' if len(missing) > 4 else ''}: transformers would fill them with random values. "
            "Is it a fine-tuned token-classification checkpoint?"
        )
    model.eval()
    revision = getattr(config, "_commit_hash", None)
    fingerprint = f"hub:{name}@{revision}" if revision and not Path(source).is_dir() else None
    return Checkpoint(name, tokenizer, model, max_length(config, tokenizer), weights, fingerprint)


def require_room(name: str, config: Any, memory_limit: int | None = None) -> None:
    """Refuse ``name`` before its weights are made or read, when they will not fit in memory."""
    refusal = memory_budget.shortfall(name, config, memory_limit)
    if refusal:
        raise CheckpointError(refusal)


def accepted_inputs(model: Any, tokenizer: Any) -> list[str]:
    """The tokenizer's features that the model's forward takes, in the tokenizer's order."""
    accepted = inspect.signature(model.forward).parameters
    return [name for name in tokenizer.model_input_names if name in accepted]


def _asks_for_remote_code(source: str, hub_options: dict[str, Any]) -> bool:
    """Custom-code checkpoints name their classes in config.json's ``auto_map``."""
    return "auto_map" in _raw_config(source, hub_options)


def _raw_config(source: str, hub_options: dict[str, Any]) -> dict[str, Any]:
    """config.json as written, before transformers fills in defaults (empty when unreadable)."""
    from transformers import PretrainedConfig

    try:
        config, _ = PretrainedConfig.get_config_dict(source, **hub_options)
    except (OSError, ValueError):
        return {}
    return config


def load_tokenizer(name: str, source: str, auto_tokenizer: Any, hub_options: dict[str, Any]) -> Any:
    try:
        tokenizer = auto_tokenizer.from_pretrained(source, trust_remote_code=False, **hub_options)
    except (OSError, ValueError, TypeError) as error:
        if isinstance(error, OSError) and hub_options.get("local_files_only"):
            raise  # not in the cache: the caller goes to the hub
        raise CheckpointError(
            f"checkpoint {name}: no usable tokenizer ({error}); the directory needs tokenizer.json "
            "(and tokenizer_config.json) as saved by tokenizer.save_pretrained()"
        ) from None
    if not getattr(tokenizer, "is_fast", False):
        raise CheckpointError(
            f"checkpoint {name}: its tokenizer is not a fast (Rust) tokenizer, so words cannot be aligned "
            "to sub-tokens; save a tokenizer.json with it"
        )
    if getattr(tokenizer, "add_prefix_space", None) is False:
        # Byte-level BPE (RoBERTa) needs a prefix space to tokenize pre-split words as in running text.
        tokenizer = auto_tokenizer.from_pretrained(
            source, trust_remote_code=False, add_prefix_space=True, **hub_options
        )
    return tokenizer


def _weights(source: str) -> tuple[str, dict[str, Any]]:
    """Prefer safetensors; a directory with only pickled weights is read with weights_only=True."""
    directory = Path(source)
    if not directory.is_dir():  # hub: transformers takes safetensors when the repository has them
        return "hub (safetensors, else pickle with weights_only)", {}
    if any((directory / f).is_file() for f in _SAFETENSORS):
        return "safetensors", {"use_safetensors": True}
    if any((directory / f).is_file() for f in _PICKLED):
        return "pickle (weights_only)", {"use_safetensors": False}
    raise CheckpointError(
        f"checkpoint {source}: no weights file ({', '.join(_SAFETENSORS + _PICKLED)}); "
        "save the model with model.save_pretrained()"
    )


def max_length(config: Any, tokenizer: Any) -> int:
    """Tokens per window: the tokenizer's limit, capped by the usable position embeddings."""
    limits = []
    if 0 < getattr(tokenizer, "model_max_length", 0) < _SANE_MAX_LENGTH:
        limits.append(int(tokenizer.model_max_length))
    positions = getattr(config, "max_position_embeddings", None)
    if positions:
        if config.model_type in _OFFSET_POSITIONS:
            positions -= (getattr(config, "pad_token_id", None) or 0) + 1
        limits.append(int(positions))
    return min(limits) if limits else 512
