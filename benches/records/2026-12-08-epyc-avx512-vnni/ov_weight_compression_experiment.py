"""OpenVINO weight compression (NNCF's compress_weights, int8 and int4) against nerperf's int8 variants at batch 1.

A record, not part of the suite. BERT-base with random weights converted as nerperf converts it; then
NNCF's post-training int8 (nerperf's openvino-int8, calibrated on synthetic batches: the timing does not
depend on the scales), and NNCF's weight-only compression (int8 per channel, int4 in groups), which
OpenVINO's CPU plugin runs by quantizing each activation row on the fly (DYNAMIC_QUANTIZATION_GROUP_SIZE)
and multiplying in int8; nerperf's onnx-int8 graph for reference. Each model timed on one sentence of 12,
32 and 128 tokens (p50 of 150 runs after 20, 2 threads), two rounds in turns.

    python benches/records/2026-12-08-epyc-avx512-vnni/ov_weight_compression_experiment.py WORKDIR [ONNX_INT8_MODEL]

ONNX_INT8_MODEL: the model.onnx of a bert-base-onnx-int8 entry in the variant cache (`nerperf cache`).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

SHARED = Path(__file__).resolve().parents[4] / "shared"
TOKENS = (12, 32, 128)


def feeds(names, tokens):
    feed = {n: np.ones((1, tokens), dtype=np.int64) for n in names}
    if "token_type_ids" in feed:
        feed["token_type_ids"] = np.zeros((1, tokens), dtype=np.int64)
    feed["input_ids"] = np.random.default_rng(0).integers(1000, 20000, (1, tokens))
    return feed


def timed(run, names):
    found = {}
    for tokens in TOKENS:
        feed = feeds(names, tokens)
        for _ in range(20):
            run(feed)
        times = []
        for _ in range(150):
            started = time.perf_counter()
            run(feed)
            times.append(time.perf_counter() - started)
        found[tokens] = round(1000 * float(np.median(times)), 2)
    return found


def ov_runner(path, config):
    import openvino

    base = {"INFERENCE_NUM_THREADS": 2, "PERFORMANCE_HINT": "LATENCY", "INFERENCE_PRECISION_HINT": "f32"}
    compiled = openvino.Core().compile_model(str(path), "CPU", base | config)
    request = compiled.create_infer_request()
    names = [i.get_any_name() for i in compiled.inputs]
    return (lambda feed: request.infer(feed)), names


def ort_runner(path):
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads, options.inter_op_num_threads = 2, 1
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    names = [i.name for i in session.get_inputs()]
    return (lambda feed: session.run(None, feed)), names


def main(work: Path) -> None:
    import nncf
    import openvino

    from nerperf.models.architectures import random_checkpoint
    from nerperf.variants import openvino_variants

    checkpoint = random_checkpoint("bert-base", tokenizer=SHARED / "models" / "minilm-l6-conll03")
    (work / "ov").mkdir(parents=True, exist_ok=True)
    openvino_variants.convert(checkpoint, work / "ov")
    fp32 = work / "ov" / "model.xml"
    core = openvino.Core()
    models = {}
    names = [i.get_any_name() for i in core.read_model(str(fp32)).inputs]
    batches = [feeds(names, t) for t in (8, 16, 24, 32, 12, 40, 20, 28)]
    quantized = work / "ov-int8" / "model.xml"
    if not quantized.exists():
        q = nncf.quantize(
            core.read_model(str(fp32)),
            nncf.Dataset(batches),
            model_type=nncf.ModelType.TRANSFORMER,
            subset_size=len(batches),
        )
        openvino.save_model(q, str(quantized), compress_to_fp16=False)
    for mode, group in [("INT8_ASYM", -1), ("INT8_SYM", -1), ("INT4_SYM", 128), ("INT4_ASYM", 128), ("INT4_SYM", 64)]:
        out = work / f"cw-{mode}-g{group}" / "model.xml"
        if not out.exists():
            kwargs = {} if mode.startswith("INT8") else {"group_size": group, "ratio": 1.0}
            compression = getattr(nncf.CompressWeightsMode, mode)
            c = nncf.compress_weights(core.read_model(str(fp32)), mode=compression, **kwargs)
            openvino.save_model(c, str(out), compress_to_fp16=False)
        models[f"cw {mode} g{group}"] = (out, {})
        if mode in ("INT8_SYM", "INT4_SYM") and group in (-1, 128):
            models[f"cw {mode} g{group} dq-off"] = (out, {"DYNAMIC_QUANTIZATION_GROUP_SIZE": "0"})
            models[f"cw {mode} g{group} bf16"] = (out, {"INFERENCE_PRECISION_HINT": "bf16"})
    runners = {"ov fp32": (fp32, {}), "ov int8 (nerperf openvino-int8)": (quantized, {}), **models}
    onnx_int8 = Path(sys.argv[2]) if len(sys.argv) > 2 else None
    for round_number in range(2):
        for name, (path, config) in runners.items():
            run, ns = ov_runner(path, config)
            print(round_number, name, timed(run, ns), flush=True)
        if onnx_int8:
            run, ns = ort_runner(onnx_int8)
            print(round_number, "ort onnx-int8 (nerperf)", timed(run, ns), flush=True)


if __name__ == "__main__":
    main(Path(sys.argv[1]))
