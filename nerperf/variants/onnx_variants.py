"""The ONNX Runtime variants: export, transformer fusions, dynamic and static int8 quantization, running them.

Export uses torch's legacy (TorchScript) exporter at opset 17 with eager attention: the default dynamo
exporter needs onnxscript, and onnxruntime's transformer optimizer fuses no attention on its graphs nor
on an export of transformers' SDPA attention. On the eager export it fuses embeddings, attention, GELU
and layer norms (the counts are kept in the cache entry's details). Quantization is onnxruntime's own
``quantize_dynamic`` on the optimized graph; its options are chosen by measurement (see docs/variants.md).
Caching and keys are :mod:`nerperf.variants.cache`'s; which variants exist is :mod:`nerperf.variants`'.
"""

from __future__ import annotations

import shutil
import warnings
from pathlib import Path
from typing import Any

from nerperf.machine import bound_cpus, timing_cpu
from nerperf.models.alignment import encode
from nerperf.models.checkpoints import Checkpoint, accepted_inputs
from nerperf.models.quiet import without_root_warning

MODEL_FILE = "model.onnx"
_OPSET = 17
_PROTOBUF_LIMIT = 2_000_000_000  # bytes: bigger models keep their weights in an external data file
# Families onnxruntime's optimizer handles as "bert" (encoder-only, post-layer-norm).
_OPTIMIZER_TYPES = {"bert": "bert", "distilbert": "bert", "roberta": "bert", "xlm-roberta": "bert"}
QUANTIZATION = {"weight_type": "QInt8", "per_channel": True, "reduce_range": False}  # measured: see docs/variants.md


def export(checkpoint: Checkpoint, directory: Path) -> dict[str, Any]:
    """Export the checkpoint to ``directory/model.onnx``, fused by onnxruntime's optimizer where it applies,
    its layer norms in the form onnxruntime runs fastest (:mod:`nerperf.variants.onnx_layer_norms`)."""
    from nerperf.variants import onnx_layer_norms

    model = checkpoint.model
    large = _parameter_bytes(model) > _PROTOBUF_LIMIT
    raw = directory / "export" / MODEL_FILE
    names = export_unfused(checkpoint, raw)
    details: dict[str, Any] = {"opset": _OPSET, "inputs": names}
    optimizer_type = _OPTIMIZER_TYPES.get(model.config.model_type)
    if optimizer_type is None:
        import onnx

        graph = onnx.load(str(raw))
        details["fusions"] = f"none: onnxruntime's optimizer has no recipe for {model.config.model_type}"
        details["layer_norms_rewritten"] = onnx_layer_norms.rewrite(graph)
        onnx.save_model(graph, str(directory / MODEL_FILE), save_as_external_data=large, location=MODEL_FILE + ".data")
    else:
        from onnxruntime.transformers.optimizer import optimize_model

        optimized = optimize_model(
            str(raw),
            model_type=optimizer_type,
            num_heads=model.config.num_attention_heads,
            hidden_size=model.config.hidden_size,
        )
        details["fusions"] = {k: v for k, v in optimized.get_fused_operator_statistics().items() if v}
        details["layer_norms_rewritten"] = onnx_layer_norms.rewrite(optimized.model)
        optimized.save_model_to_file(str(directory / MODEL_FILE), use_external_data_format=large)
    shutil.rmtree(raw.parent)
    return details


def export_unfused(checkpoint: Checkpoint, path: Path) -> list[str]:
    """The checkpoint as a plain ONNX graph at ``path`` (standard operators only, as other runtimes such as
    OpenVINO read it); the names of its inputs, in order."""
    import torch

    model = checkpoint.model
    names = accepted_inputs(model, checkpoint.tokenizer)
    sample = _sample_inputs(checkpoint, names)
    path.parent.mkdir(parents=True, exist_ok=True)
    before = model.config._attn_implementation
    model.set_attn_implementation("eager")
    try:
        with warnings.catch_warnings(), torch.inference_mode(False), torch.no_grad():
            # The legacy exporter's own deprecation notice and tracer warnings are about the export, not us.
            warnings.simplefilter("ignore")
            torch.onnx.export(
                _positional(model, names),
                tuple(sample[n] for n in names),
                str(path),
                input_names=names,
                output_names=["logits"],
                dynamic_axes={n: {0: "batch", 1: "tokens"} for n in [*names, "logits"]},
                opset_version=_OPSET,
                dynamo=False,
            )
    finally:
        model.set_attn_implementation(before)
        model.eval()
    return names


def quantize(source: Path, directory: Path) -> dict[str, Any]:
    """onnxruntime dynamic int8 quantization of the optimized graph in ``source``."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    # The pre-processing the quantizer suggests (shape inference, optimization) is what `optimize` ran.
    with without_root_warning("Please consider to run pre-processing before quantization"):
        quantize_dynamic(
            str(source / MODEL_FILE),
            str(directory / MODEL_FILE),
            weight_type=getattr(QuantType, QUANTIZATION["weight_type"]),
            per_channel=QUANTIZATION["per_channel"],
            reduce_range=QUANTIZATION["reduce_range"],
            # The optimizer's fused ops lack type information the quantizer needs without this.
            extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
        )
    return {"quantization": dict(QUANTIZATION)}


STATIC_QUANTIZATION = {  # measured: see docs/variants.md
    "quant_format": "QDQ",
    "activation_type": "QUInt8",  # u8 activations, s8 weights: x86's int8 instructions (VNNI's VPDPBUSD too)
    "weight_type": "QInt8",
    "per_channel": True,
    "calibrate_method": "MinMax",
    "op_types_to_quantize": ["MatMul"],  # the weight matrices; attention stays in its fused operator
    "kept_in_fp32": "each feed-forward block's second MatMul",  # :func:`_second_feed_forward`
}


def quantize_static(source: Path, directory: Path, batches: list[dict[str, Any]]) -> dict[str, Any]:
    """onnxruntime static int8 quantization (QDQ) of the optimized graph in ``source``, each activation's
    range fixed from the calibration ``batches`` (:mod:`nerperf.variants.calibration`)."""
    import onnx
    from onnxruntime.quantization import CalibrationDataReader, CalibrationMethod, QuantFormat, QuantType
    from onnxruntime.quantization import quantize_static as quantize

    class Batches(CalibrationDataReader):
        def __init__(self) -> None:
            self.left = iter(batches)

        def get_next(self) -> dict[str, Any] | None:
            return next(self.left, None)

    from onnxruntime.quantization.shape_inference import quant_pre_process

    # Symbolic shape inference first: without it the quantizer cannot type the fused graph's tensors and
    # leaves most matrix multiplications in fp32 (it says "failed to infer the type", once per tensor).
    inferred = directory / "shapes.onnx"
    quant_pre_process(str(source / MODEL_FILE), str(inferred), skip_optimization=True)
    options = STATIC_QUANTIZATION
    with without_root_warning("Please consider"):
        quantize(
            str(inferred),
            str(directory / MODEL_FILE),
            Batches(),
            quant_format=getattr(QuantFormat, str(options["quant_format"])),
            activation_type=getattr(QuantType, str(options["activation_type"])),
            weight_type=getattr(QuantType, str(options["weight_type"])),
            per_channel=bool(options["per_channel"]),
            calibrate_method=getattr(CalibrationMethod, str(options["calibrate_method"])),
            op_types_to_quantize=list(options["op_types_to_quantize"]),  # type: ignore[call-overload]
            nodes_to_exclude=_second_feed_forward(inferred),
            extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
        )
    inferred.unlink()
    return {"quantization": dict(options)}


def _second_feed_forward(path: Path) -> list[str]:
    """The feed-forward blocks' second matrix multiplies (``.../output/dense/MatMul``, not attention's):
    their inputs, after GELU, carry the outliers that one int8 range per tensor cannot hold, and Intel's
    int8 recipes for BERT-like models keep them in fp32. Measured here: see docs/variants.md."""
    import onnx

    graph = onnx.load(str(path), load_external_data=False).graph
    return [
        n.name for n in graph.node if n.op_type == "MatMul" and "/output/dense/" in n.name and "attention" not in n.name
    ]


def session_forward(directory: Path, threads: int, spin: bool = True) -> Any:
    """A forward function running ``directory/model.onnx`` with onnxruntime on ``threads`` threads.

    ``spin=False`` under ``nerperf gate``: two processes take turns, spinning threads would hold the
    other's CPU, and parked ones take milliseconds to wake (docs/gate.md, "Waiting between turns").
    """
    import onnxruntime
    import torch

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
    if not spin:
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    if affinities := worker_affinities(threads):  # the gate's --bind-threads (nerperf.processes.setup)
        options.add_session_config_entry("session.intra_op_thread_affinities", affinities)
    session = onnxruntime.InferenceSession(str(directory / MODEL_FILE), options, providers=["CPUExecutionProvider"])
    names = [i.name for i in session.get_inputs()]

    def forward(tensors: dict[str, Any]) -> Any:
        (logits,) = session.run(["logits"], {n: tensors[n].numpy() for n in names})
        return torch.from_numpy(logits)

    return forward


def worker_affinities(threads: int) -> str | None:
    """onnxruntime's ``session.intra_op_thread_affinities`` for a pool of ``threads`` (the calling thread and
    ``threads - 1`` workers) where the gate bound OpenMP's threads: each worker on a CPU of the process's set
    other than the one the calling thread times on (the first core's: torch's runtime binds it there, and
    :func:`nerperf.processes.setup.bind_main_thread` again at the first timed call), 1-based, ``;`` between
    workers; None where nothing is bound or there is no other CPU, and onnxruntime places its threads itself.
    Not from the calling thread's affinity: a session made during the start-up, while the main thread may
    run anywhere in the set, would otherwise leave its workers unbound.

    >>> import os
    >>> from nerperf.machine import BOUND_CPUS
    >>> os.environ[BOUND_CPUS] = "0-1"
    >>> worker_affinities(3)
    '2;2'
    >>> del os.environ[BOUND_CPUS]
    """
    cpus = bound_cpus()
    if not cpus or threads < 2:
        return None
    others = [cpu for cpu in cpus if cpu != timing_cpu(cpus)]
    if not others:
        return None
    return ";".join(str(others[index % len(others)] + 1) for index in range(threads - 1))


def _positional(model: Any, names: list[str]) -> Any:
    """The model called with its inputs in a fixed order, returning only the logits (as export needs)."""
    import torch

    class Positional(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, *inputs: Any) -> Any:
            return self.model(**dict(zip(names, inputs, strict=True))).logits

    # eval() before export: the exporter restores the wrapper's training flag afterwards, recursively, and
    # a new Module starts in training mode, which would leave the checkpoint's model with dropout on.
    return Positional().eval()


def _sample_inputs(checkpoint: Checkpoint, names: list[str]) -> dict[str, Any]:
    from nerperf.models.runner import pad

    encoded = encode(checkpoint.tokenizer, [["nerperf", "exports", "this"], ["a", "model"]], checkpoint.max_length)
    tensors = pad(encoded.windows, checkpoint.tokenizer.pad_token_id)
    return {n: tensors[n] for n in names}


def _parameter_bytes(model: Any) -> int:
    return sum(p.numel() * p.element_size() for p in model.parameters())
