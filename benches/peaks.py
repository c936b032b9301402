"""Measured matrix-multiply peaks of this CPU, per data type: what a "% of peak" is a share of.

A peak is measured, not read from a data sheet: matrix multiplies through the libraries the variants
use, in the data type each computes in, at the shapes the models run as well as a square 1024³:

- fp32 (the ``fp32``, ``onnx`` and ``openvino`` variants): ``torch.mm`` and onnxruntime's ``MatMul``;
- bf16 (``bf16``), only where the CPU has native bf16 (AVX512-BF16 or AMX), as the variant itself is;
- int8 (``int8``, ``onnx-int8``, ``onnx-int8-static``, ``openvino-int8``): torch's dynamic int8 ``Linear``
  on the quantized engine the ``int8`` variant uses (oneDNN's AMX kernels where AMX is usable) and
  onnxruntime's ``MatMulInteger`` (MLAS, u8 x s8: AMX where usable). OpenVINO's own kernels are not
  among them: a share above 100% for the openvino variants would say that they beat both.

A data type's peak is the best rate over its libraries and shapes. The model shapes are the encoder's
linear layers, (tokens x hidden) times (hidden x hidden) and (hidden x intermediate), for a batch-1
sentence (32 tokens) and a full batch (1,024 tokens, nerperf's default token budget): measured on a 2-core
AVX-512 machine, a 1024³ GEMM was not the best shape for onnxruntime, and bf16 measured against the fp32
peak printed 165%. A share above 100% can still happen (a kernel the peak did not try); the tables then
say that the peak was beaten instead of printing the share. Only the benchmarks use this module.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

SQUARE = 1024
BATCH1_TOKENS = 32  # about a sentence of the study's sample, special tokens included
BATCHED_TOKENS = 1024  # nerperf's default budget of padded tokens per batch
DATA_TYPES = ("fp32", "bf16", "int8")
VARIANT_TYPES = {
    "fp32": "fp32",
    "onnx": "fp32",
    "openvino": "fp32",
    "bf16": "bf16",
    "openvino-bf16": "bf16",
    "int8": "int8",
    "onnx-int8": "int8",
    "onnx-int8-static": "int8",
    "openvino-int8": "int8",
}

Shape = tuple[int, int, int]  # (m, k, n): an (m x k) by (k x n) multiply


@dataclass(frozen=True)
class Peaks:
    """Best measured rates in billions of operations per second (a multiply-add counts 2)."""

    rates: dict[str, dict[str, float]]  # data type -> "m x k x n (library)" -> GOP/s
    threads: int
    method: str
    missing: dict[str, str] = field(default_factory=dict)  # data type -> why it was not measured

    def peak(self, data_type: str) -> float | None:
        found = self.rates.get(data_type)
        return max(found.values()) if found else None

    def where(self, data_type: str) -> str:
        """The shape and library that reached the data type's peak."""
        found = self.rates.get(data_type) or {}
        return max(found, key=found.__getitem__) if found else "-"

    def of_variant(self, variant: str) -> tuple[str, float | None]:
        """The data type a variant computes in, and that type's peak."""
        data_type = VARIANT_TYPES.get(variant, "fp32")
        return data_type, self.peak(data_type)

    def describe(self) -> str:
        parts = []
        for data_type in DATA_TYPES:
            peak = self.peak(data_type)
            if peak is None:
                parts.append(f"{data_type} not measured ({self.missing.get(data_type, 'unavailable')})")
            else:
                parts.append(f"{data_type} {peak:.0f} GOP/s ({self.where(data_type)})")
        return "; ".join(parts)


def model_shapes(hidden: int, intermediate: int) -> list[Shape]:
    """The encoder's linear-layer shapes at batch 1 and batched."""
    return [(m, hidden, n) for m in (BATCH1_TOKENS, BATCHED_TOKENS) for n in (hidden, intermediate)]


def matmul_peaks(threads: int, shapes: Iterable[Shape] = (), repeats: int = 5) -> Peaks:
    """Measure every data type's peak with ``threads`` threads over the square and ``shapes`` (seconds)."""
    import torch

    from nerperf.machine import native_bf16
    from nerperf.variants.kernels import int8_engine

    engine = int8_engine()
    all_shapes = [(SQUARE, SQUARE, SQUARE), *dict.fromkeys(shapes)]
    rates: dict[str, dict[str, float]] = {t: {} for t in DATA_TYPES}
    missing: dict[str, str] = {}
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        for shape in all_shapes:
            m, k, n = shape
            operations = 2 * m * k * n
            runs = {
                "fp32": {"torch.mm": _torch_mm(shape, torch.float32)},
                "int8": {f"torch dynamic int8 Linear, {engine} engine": _torch_int8_linear(shape, engine)},
                "bf16": {"torch.mm": _torch_mm(shape, torch.bfloat16)} if native_bf16() else {},
            }
            for data_type, library_runs in _ort_matmuls(shape, threads).items():
                runs[data_type].update(library_runs)
            for data_type, library_runs in runs.items():
                for library, run in library_runs.items():
                    rates[data_type][f"{m}x{k}x{n} ({library})"] = operations / _best(run, repeats) / 1e9
    finally:
        torch.set_num_threads(before)
    if not native_bf16():
        missing["bf16"] = "no native bf16 on this CPU, so nerperf does not run the bf16 variant"
    rates = {t: r for t, r in rates.items() if r}
    method = f"best of {repeats} per shape and library; shapes {', '.join('x'.join(map(str, s)) for s in all_shapes)}"
    return Peaks(rates, threads, method, missing)


def share(achieved_gops: float, peak: float | None) -> str:
    """A rate as a share of its peak; above 100% says the peak was beaten rather than printing the share."""
    if peak is None or peak <= 0:
        return "-"
    percent = 100 * achieved_gops / peak
    return f"{percent:.0f}%" if percent <= 100 else "beat the peak"


def _best(run: Callable[[], object], repeats: int) -> float:
    run()
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return min(times)


def _torch_mm(shape: Shape, dtype: object) -> Callable[[], object]:
    import torch

    m, k, n = shape
    a, b = torch.randn(m, k).to(dtype), torch.randn(k, n).to(dtype)
    return lambda: torch.mm(a, b)


def _torch_int8_linear(shape: Shape, engine: str) -> Callable[[], object]:
    """torch's dynamic int8 Linear as the ``int8`` variant runs it, on its quantized ``engine`` (oneDNN's
    AMX kernels where AMX is usable, FBGEMM elsewhere): x (m x k) through a k -> n layer."""
    import torch

    from nerperf.variants.torch_variants import quantize_int8, quantized_engine

    m, k, n = shape
    with quantized_engine(engine):
        linear = quantize_int8(torch.nn.Sequential(torch.nn.Linear(k, n)))
    x = torch.randn(m, k)

    def run() -> object:
        with quantized_engine(engine), torch.inference_mode():
            return linear(x)

    return run


def _ort_matmuls(shape: Shape, threads: int) -> dict[str, dict[str, Callable[[], object]]]:
    """onnxruntime's fp32 MatMul and int8 MatMulInteger at ``shape`` (nothing without onnxruntime)."""
    try:
        import numpy as np
        import onnxruntime
        from onnx import TensorProto, helper, numpy_helper
    except ImportError:
        return {}
    m, k, n = shape
    rng = np.random.default_rng(0)
    cases = {
        "fp32": (
            "MatMul",
            TensorProto.FLOAT,
            TensorProto.FLOAT,
            rng.standard_normal((k, n), dtype=np.float32),
            rng.standard_normal((m, k), dtype=np.float32),
        ),
        "int8": (
            "MatMulInteger",
            TensorProto.UINT8,
            TensorProto.INT32,
            rng.integers(-128, 128, (k, n), dtype=np.int8),
            rng.integers(0, 256, (m, k), dtype=np.uint8),
        ),
    }
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    runs: dict[str, dict[str, Callable[[], object]]] = {}
    for data_type, (op, input_type, output_type, weights, inputs) in cases.items():
        graph = helper.make_graph(
            [helper.make_node(op, ["A", "W"], ["Y"])],
            "peak",
            [helper.make_tensor_value_info("A", input_type, [m, k])],
            [helper.make_tensor_value_info("Y", output_type, [m, n])],
            [numpy_helper.from_array(weights, "W")],
        )
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
        session = onnxruntime.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
        library = "onnxruntime " + op
        runs[data_type] = {library: lambda session=session, inputs=inputs: session.run(None, {"A": inputs})}
    return runs
