"""The torch variants, derived in memory from the loaded model: fp32, int8, bf16.

int8 uses ``torch.ao.quantization.quantize_dynamic`` (qint8 weights, activations quantized per batch,
the Q8BERT recipe) although torch 2.13 deprecates it in favour of torchao. Measured on this project's
AVX2 CPU (BERT-base, 2 threads, 24 tokens): torch fp32 137 ms per sentence, ``quantize_dynamic`` 67-71 ms
(x86 and fbgemm engines alike), torchao 0.18's ``Int8DynamicActivationInt8WeightConfig`` 1,026 ms; at
batch 32 the three took 1.9 s, 1.8 s and 31 s. torchao has no fast int8 CPU kernel for this path, so the
deprecated one is the one that is fast and still shipped; its warning is silenced here only. Weights are
scaled per output channel: on the whole test split per-tensor scales lost 1.35 F1 points for
minilm-l6-conll03 (0.66 for minilm-l3), per-channel 0.80 (0.20), at the same speed.

These variants are not cached on disk: they take about a second to derive, and keeping a quantized
torch module would mean pickling it whole, which nerperf's loading rules forbid.
"""

from __future__ import annotations

import copy
import time
import warnings
from typing import Any

from nerperf.checkpoints import Checkpoint
from nerperf.variants.prepared import Prepared


def prepare(name: str, checkpoint: Checkpoint) -> Prepared:
    import torch

    started = time.perf_counter()
    details: dict[str, Any] = {}
    if name == "fp32":
        model = checkpoint.model
    elif name == "int8":
        model = quantize_int8(checkpoint.model)
        details["engine"] = torch.backends.quantized.engine
    elif name == "bf16":
        model = copy.deepcopy(checkpoint.model).to(torch.bfloat16)
    else:
        raise ValueError(f"not a torch variant: {name}")
    model.eval()
    build_s = time.perf_counter() - started if name != "fp32" else 0.0

    def forward(tensors: dict[str, Any]) -> Any:
        return model(**tensors).logits.float()

    return Prepared(name, forward, _state_bytes(model), build_s, False, details)


def quantize_int8(model: Any) -> Any:
    """A copy of ``model`` with dynamic int8 Linear layers, weights scaled per output channel."""
    import torch

    with warnings.catch_warnings():
        # Deprecated for torchao, which is 10x slower here (see the module docstring).
        warnings.filterwarnings("ignore", "torch.ao.quantization is deprecated", DeprecationWarning)
        warnings.filterwarnings("ignore", "torch.quantize_per_tensor", UserWarning)
        per_channel = {torch.nn.Linear: torch.ao.quantization.per_channel_dynamic_qconfig}
        return torch.ao.quantization.quantize_dynamic(model, per_channel, dtype=torch.qint8)


def _state_bytes(model: Any) -> int:
    """The bytes of the model's state dict (quantized weights included): its size as saved.

    Counted, not serialized: a serialized copy of a large model would itself raise the peak memory
    that the result records.
    """
    import torch

    def size(value: Any) -> int:
        if isinstance(value, torch.Tensor):
            return value.numel() * value.element_size()
        if isinstance(value, (tuple, list)):
            return sum(size(v) for v in value)
        return 0

    return sum(size(v) for v in model.state_dict().values())
