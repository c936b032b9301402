"""The torch variants, derived in memory from the loaded model: fp32, int8, bf16.

int8 is ``torch.ao.quantization.quantize_dynamic`` (qint8 weights scaled per output channel, activations
quantized per batch: the Q8BERT recipe). torch deprecates it for torchao, whose int8 dynamic path has no
fast CPU kernel (docs/variants.md has the measurements), so its warning is silenced here only. It is
quantized on the engine :func:`nerperf.variants.kernels.int8_engine` picks (``onednn`` where AMX is
usable, whose u8 x s8 matrix multiplies run on AMX; FBGEMM's ``x86``, torch's default, elsewhere), and
its forward passes run under that engine, for which its weights are packed.

These variants are not cached on disk: they take about a second to derive, and keeping a quantized
torch module would mean pickling it whole, which nerperf's loading rules forbid.
"""

from __future__ import annotations

import contextlib
import copy
import time
import warnings
from collections.abc import Iterator
from typing import Any

from nerperf.models.checkpoints import Checkpoint
from nerperf.variants.prepared import Prepared


def prepare(name: str, checkpoint: Checkpoint) -> Prepared:
    import torch

    from nerperf.variants import kernels

    started = time.perf_counter()
    details: dict[str, Any] = {}
    engine = None
    if name == "fp32":
        model = checkpoint.model
    elif name == "int8":
        engine = kernels.int8_engine()
        details["engine"] = engine
        with quantized_engine(engine):  # the weights are packed for the engine here
            model = quantize_int8(checkpoint.model)
    elif name == "bf16":
        model = copy.deepcopy(checkpoint.model).to(torch.bfloat16)
    else:
        raise ValueError(f"not a torch variant: {name}")
    model.eval()
    build_s = time.perf_counter() - started if name != "fp32" else 0.0

    def forward(tensors: dict[str, Any]) -> Any:
        if engine is not None and torch.backends.quantized.engine != engine:
            torch.backends.quantized.engine = engine  # packed for it: under another it runs far slower
        return model(**tensors).logits.float()

    def report(run: Any) -> kernels.Kernels:
        return kernels.torch_kernels(run, engine)

    return Prepared(name, forward, _state_bytes(model), build_s, False, details, report)


@contextlib.contextmanager
def quantized_engine(engine: str) -> Iterator[None]:
    """torch's quantized engine set to ``engine`` for the block, then restored."""
    import torch

    before = torch.backends.quantized.engine
    torch.backends.quantized.engine = engine
    try:
        yield
    finally:
        torch.backends.quantized.engine = before


def quantize_int8(model: Any) -> Any:
    """A copy of ``model`` with dynamic int8 Linear layers, weights scaled per output channel."""
    import torch

    with warnings.catch_warnings():
        # Deprecated for torchao, which has no fast CPU kernel for it (see the module docstring).
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
