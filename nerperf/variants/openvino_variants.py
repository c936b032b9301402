"""The OpenVINO variants: the model converted to OpenVINO's format (fp32), and NNCF's int8 of it.

OpenVINO's CPU plugin runs on oneDNN's AVX2, AVX-512, VNNI and AMX kernels; NNCF's post-training
quantization with ``ModelType.TRANSFORMER`` keeps the operations that lose accuracy in int8 (softmax,
layer norms, the attention scores' inputs) in floating point and applies SmoothQuant to the rest. The
conversion reads the plain ONNX export (:func:`nerperf.variants.onnx_variants.export_unfused`), not the
onnx variant's fused graph, whose operators are onnxruntime's own. Both run with ``f32`` as the inference
precision hint: OpenVINO would otherwise compute in bf16 on CPUs that have it, which is another variant,
``openvino-bf16`` (the same converted model compiled with the ``bf16`` hint, on CPUs with native bf16).
NNCF's int8 model keeps the ``f32`` hint for the operations it leaves unquantized: the ``bf16`` hint ran
it no faster on AMX (docs/variants.md). Where AMX is usable, the bf16 and int8 models run with OpenVINO's
snippets off (:func:`snippets_on`). Plain ``openvino`` and ``nncf`` packages, not optimum-intel, which pins an
older transformers.
"""

from __future__ import annotations

import contextlib
import io
import logging
import shutil
import warnings
from pathlib import Path
from typing import Any

MODEL_FILE = "model.xml"  # and model.bin beside it
PRECISION = "f32"
# The CPU plugin's switch for snippets, its own JIT code for fused subgraphs (attention among them). It is a
# plugin property OpenVINO does not list among its public ones, so a release may refuse it: then the model
# runs with snippets on, and says so (:func:`session_forward`).
SNIPPETS_MODE = "SNIPPETS_MODE"


def snippets_on(low_precision: bool) -> bool:
    """Whether OpenVINO's snippets stay on (its default): off for the bf16 and int8 models where AMX is usable.

    There, its fused attention ran slower than its plain kernels on short sentences: on the Intel AMX machine
    (2026-12-06, minilm-l6-conll03, the 3,453 test sentences in batches of 32, 2 threads, alternated in one
    process) the model time fell 15% with snippets off, bf16 and int8 alike (1.13-1.19x over six rounds), and
    3% for fp32 (0.98-1.06x); at batch 1 it rose 2-3%. Elsewhere they stay on: not measured off there.
    """
    from nerperf.variants import kernels

    return not (low_precision and kernels.amx_usable())


def convert(checkpoint: Any, directory: Path) -> dict[str, Any]:
    """The checkpoint in OpenVINO's format at ``directory/model.xml``, its weights kept in fp32."""
    import openvino

    from nerperf.variants.onnx_variants import export_unfused

    raw = directory / "export" / "model.onnx"
    names = export_unfused(checkpoint, raw)
    try:
        model = openvino.convert_model(str(raw))
    except Exception as error:  # OpenVINO's conversion errors are of its own many kinds
        raise RuntimeError(f"OpenVINO's convert_model failed on the ONNX export: {error}") from error
    openvino.save_model(model, str(directory / MODEL_FILE), compress_to_fp16=False)
    shutil.rmtree(raw.parent)
    return {"inputs": names, "openvino": openvino.__version__}


def quantize(source: Path, directory: Path, batches: list[dict[str, Any]]) -> dict[str, Any]:
    """NNCF post-training int8 quantization of ``source``'s model, calibrated on ``batches``."""
    import nncf
    import openvino
    from nncf.common.logging import nncf_logger

    nncf_logger.setLevel(logging.ERROR)  # its INFO lines are for its own scripts, not a test log
    model = openvino.Core().read_model(str(source / MODEL_FILE))
    names = [i.get_any_name() for i in model.inputs]
    dataset = nncf.Dataset([{n: batch[n] for n in names} for batch in batches])
    try:
        with contextlib.redirect_stdout(io.StringIO()):  # its progress bars (rich, on stdout) are for its scripts
            quantized = nncf.quantize(model, dataset, model_type=nncf.ModelType.TRANSFORMER, subset_size=len(batches))
    except Exception as error:
        raise RuntimeError(f"NNCF's quantize failed: {error}") from error
    openvino.save_model(quantized, str(directory / MODEL_FILE), compress_to_fp16=False)
    return {"quantization": {"tool": "nncf.quantize", "model_type": "TRANSFORMER", "nncf": nncf.__version__}}


def session_forward(
    directory: Path, threads: int, precision: str = PRECISION, snippets: bool = True
) -> tuple[Any, Any, bool]:
    """A forward function running ``directory/model.xml`` on OpenVINO's CPU plugin with ``threads`` threads
    at the inference ``precision`` hint, its kernel report (:mod:`nerperf.variants.kernels`), and whether
    snippets ran: off where ``snippets`` is False and this OpenVINO takes the switch (it warns where not)."""
    import openvino
    import torch

    from nerperf.variants import kernels

    config = {"INFERENCE_NUM_THREADS": threads, "PERFORMANCE_HINT": "LATENCY", "INFERENCE_PRECISION_HINT": precision}
    core = openvino.Core()
    try:
        compiled = core.compile_model(
            str(directory / MODEL_FILE), "CPU", config | ({} if snippets else {SNIPPETS_MODE: "DISABLE"})
        )
    except RuntimeError as error:
        if snippets or SNIPPETS_MODE not in str(error):
            raise
        warnings.warn(
            f"OpenVINO {openvino.__version__} does not take {SNIPPETS_MODE}: {directory.name} runs with snippets on",
            stacklevel=2,
        )
        compiled, snippets = core.compile_model(str(directory / MODEL_FILE), "CPU", config), True
    request = compiled.create_infer_request()
    names = [i.get_any_name() for i in compiled.inputs]
    output = compiled.outputs[0]

    def forward(tensors: dict[str, Any]) -> Any:
        results = request.infer({n: tensors[n].numpy() for n in names})
        return torch.from_numpy(results[output].copy())

    def report(run: Any) -> kernels.Kernels:
        run()  # OpenVINO chooses a dynamic-shape node's kernel at its first inference
        return kernels.openvino_kernels(compiled)

    return forward, report, snippets
