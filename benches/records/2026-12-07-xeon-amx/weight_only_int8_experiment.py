"""Weight-only block quantization (onnxruntime's MatMulNBits) against nerperf's onnx-int8 at batch 1.

A record, not part of the suite: the experiment behind docs/variants.md's "Not offered: weight-only int8
or int4". BERT-base with random weights, exported as nerperf exports it, fused by onnxruntime's optimizer
with and without attention fusion (MatMulNBits quantizes MatMul nodes only, so attention's projections
must stay separate), layer norms rewritten as nerperf rewrites them; then each model timed on one
sentence of 12, 32 and 128 tokens (p50 of 150 runs after 20, 2 threads), twice in turns. Needs
``onnx_ir`` beside onnxruntime 1.32 (``pip install --target DIR onnx_ir`` and ``PYTHONPATH=DIR``).

    PYTHONPATH=DIR python benches/records/2026-12-07-xeon-amx/weight_only_int8_experiment.py WORKDIR
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort

SHARED = Path(__file__).resolve().parents[4] / "shared"
TOKENS = (12, 32, 128)


def fused(raw: Path, work: Path, attention: bool) -> Path:
    from onnxruntime.transformers.fusion_options import FusionOptions
    from onnxruntime.transformers.optimizer import optimize_model

    from nerperf.variants import onnx_layer_norms

    out = work / f"fp32-attention-{attention}.onnx"
    options = FusionOptions("bert")
    options.enable_attention = attention
    model = optimize_model(str(raw), model_type="bert", num_heads=12, hidden_size=768, optimization_options=options)
    onnx_layer_norms.rewrite(model.model)
    model.save_model_to_file(str(out))
    return out


def block_quantized(source: Path, bits: int, block: int, accuracy_level: int) -> Path:
    from onnxruntime.quantization.matmul_nbits_quantizer import MatMulNBitsQuantizer

    out = source.with_name(f"{source.stem}-{bits}bit-block{block}-level{accuracy_level}.onnx")
    quantizer = MatMulNBitsQuantizer(
        str(source), bits=bits, block_size=block, is_symmetric=True, accuracy_level=accuracy_level
    )
    quantizer.process()
    quantizer.model.save_model_to_file(str(out))
    return out


def dynamic_int8(source: Path) -> Path:
    from onnxruntime.quantization import QuantType, quantize_dynamic

    out = source.with_name(f"{source.stem}-dynamic-int8.onnx")
    quantize_dynamic(
        str(source),
        str(out),
        weight_type=QuantType.QInt8,
        per_channel=True,
        extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
    )
    return out


def p50_ms(path: Path) -> dict[int, float]:
    options = ort.SessionOptions()
    options.intra_op_num_threads, options.inter_op_num_threads = 2, 1
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    names = [i.name for i in session.get_inputs()]
    found = {}
    for tokens in TOKENS:
        feed = {n: np.ones((1, tokens), dtype=np.int64) for n in names}
        feed["token_type_ids"] = np.zeros((1, tokens), dtype=np.int64)
        feed["input_ids"] = np.random.default_rng(0).integers(1000, 20000, (1, tokens))
        for _ in range(20):
            session.run(None, feed)
        times = []
        for _ in range(150):
            started = time.perf_counter()
            session.run(None, feed)
            times.append(time.perf_counter() - started)
        found[tokens] = round(1000 * float(np.median(times)), 2)
    return found


def main(work: Path) -> None:
    from nerperf.models.architectures import random_checkpoint
    from nerperf.variants.onnx_variants import export_unfused

    raw = work / "raw" / "model.onnx"
    export_unfused(random_checkpoint("bert-base", tokenizer=SHARED / "models" / "minilm-l6-conll03"), raw)
    with_attention, without = fused(raw, work, True), fused(raw, work, False)
    models = {
        "fp32-fused": with_attention,
        "dyn-int8 (nerperf onnx-int8)": dynamic_int8(with_attention),
        "noatt-dyn-int8": dynamic_int8(without),
    }
    for bits, block, level in [(8, 32, 4), (8, 128, 4), (4, 32, 4), (4, 128, 4), (8, 32, 0)]:
        models[f"noatt nbits b{bits} k{block} a{level}"] = block_quantized(without, bits, block, level)
    for round_number in range(2):
        for name, path in models.items():
            print(round_number, name, p50_ms(path), flush=True)


if __name__ == "__main__":
    main(Path(sys.argv[1]))
