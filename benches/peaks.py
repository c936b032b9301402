"""Measured matrix-multiply peaks of this CPU: what the variant table's "% of peak" is a share of.

The peaks are measured, not read from a data sheet: a large matrix multiply through the same libraries
the variants use (torch's and onnxruntime's fp32 ``MatMul``; torch's dynamic int8 linear and
onnxruntime's ``MatMulInteger`` for int8), the faster library counting. A variant's share of the peak
is its achieved rate over this. Only the benchmarks use it: nerperf's package never imports it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

_PEAK_SIZE = 1024  # square GEMM side: large enough to reach the peak, small enough to take ~1 s


@dataclass(frozen=True)
class Peaks:
    """Best measured matrix-multiply rates, in billions of operations per second (multiply-add = 2)."""

    fp32_gflops: float
    int8_gops: float
    threads: int
    method: str


def matmul_peaks(threads: int, repeats: int = 5) -> Peaks:
    """Measure the fp32 and int8 GEMM peaks with ``threads`` threads (a few seconds)."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        n = _PEAK_SIZE
        flops = 2 * n**3
        a, b = torch.randn(n, n), torch.randn(n, n)
        fp32 = flops / _best(lambda: torch.mm(a, b), repeats)
        int8 = flops / _best(_torch_int8_linear(n), repeats)
        method = f"{n}x{n}x{n} GEMM, best of {repeats}, the faster library of: torch.mm"
        ort = _ort_matmuls(n, threads)
        if ort is not None:
            fp32 = max(fp32, flops / _best(ort["fp32"], repeats))
            int8 = max(int8, flops / _best(ort["int8"], repeats))
            method += " and onnxruntime MatMul (fp32); torch's dynamic int8 Linear and onnxruntime MatMulInteger (int8)"
        else:
            method += " (fp32); torch's dynamic int8 Linear (int8)"
    finally:
        torch.set_num_threads(before)
    return Peaks(fp32 / 1e9, int8 / 1e9, threads, method)


def _best(run: Callable[[], object], repeats: int) -> float:
    run()
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return min(times)


def _torch_int8_linear(n: int) -> Callable[[], object]:
    import torch

    from nerperf.variants.torch_variants import quantize_int8

    linear = quantize_int8(torch.nn.Sequential(torch.nn.Linear(n, n)))
    x = torch.randn(n, n)

    def run() -> object:
        with torch.inference_mode():
            return linear(x)

    return run


def _ort_matmuls(n: int, threads: int) -> dict[str, Callable[[], object]] | None:
    """onnxruntime's fp32 MatMul and int8 MatMulInteger on n x n matrices (None without onnxruntime)."""
    try:
        import numpy as np
        import onnxruntime
        from onnx import TensorProto, helper, numpy_helper
    except ImportError:
        return None
    rng = np.random.default_rng(0)
    cases = {
        "fp32": (
            "MatMul",
            TensorProto.FLOAT,
            TensorProto.FLOAT,
            rng.standard_normal((n, n), dtype=np.float32),
            rng.standard_normal((n, n), dtype=np.float32),
        ),
        "int8": (
            "MatMulInteger",
            TensorProto.UINT8,
            TensorProto.INT32,
            rng.integers(-128, 128, (n, n), dtype=np.int8),
            rng.integers(0, 256, (n, n), dtype=np.uint8),
        ),
    }
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    runs = {}
    for kind, (op, input_type, output_type, weights, inputs) in cases.items():
        graph = helper.make_graph(
            [helper.make_node(op, ["A", "W"], ["Y"])],
            "peak",
            [helper.make_tensor_value_info("A", input_type, [n, n])],
            [helper.make_tensor_value_info("Y", output_type, [n, n])],
            [numpy_helper.from_array(weights, "W")],
        )
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
        session = onnxruntime.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
        runs[kind] = lambda session=session, inputs=inputs: session.run(None, {"A": inputs})
    return runs
