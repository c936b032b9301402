"""Each variant's result names the kernels its runtime ran, from the runtime's own report; the classes
follow the CPU (``amx`` where the CPU has AMX and the runtime used it, never where it has not)."""

from __future__ import annotations

from pathlib import Path

import pytest
from tiny import SENTENCES, write_conll

from nerperf import machine
from nerperf.evaluation import Preparation, Timing, evaluate
from nerperf.machine import cpu_flags, native_bf16
from nerperf.variants import kernels

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
AMX = {"amx_tile", "amx_int8", "amx_bf16"} <= set(cpu_flags())


@pytest.mark.parametrize(
    ("variant", "on_amx"),
    [
        ("fp32", {"avx512"}),  # MKL: AMX has no fp32 tiles
        ("int8", {"amx"}),  # oneDNN's engine, picked where AMX is usable
        ("bf16", {"amx"}),
        ("onnx-int8", {"amx"}),  # MLAS u8 x s8
        ("openvino-bf16", {"amx"}),
    ],
)
def test_a_result_names_the_kernels_that_ran(bert_checkpoint: Path, tmp_path: Path, variant: str, on_amx: set) -> None:
    if variant.endswith("bf16") and not native_bf16():
        pytest.skip("this CPU has no native bf16")
    data = write_conll(tmp_path / "valid.txt", SENTENCES)
    result = evaluate(
        bert_checkpoint,
        data,
        variant=variant,
        timing=Timing(threads=1),
        preparation=Preparation(cache_dir=tmp_path / "cache"),
    )
    found = result.build.details["kernels"]
    assert found["isa"] in kernels.CLASSES and found["source"]
    if AMX:
        assert found["isa"] in on_amx, found
    else:
        assert found["isa"] != "amx", found
    again = type(result).from_dict(result.to_dict())  # the JSON carries it
    assert again.build.details["kernels"] == found


@pytest.mark.parametrize(
    ("kernel", "flags", "int8", "expected"),
    [
        ("gemm:jit", {"avx2", "fma"}, True, "avx2"),  # torch int8 on the onednn engine, AVX2 EPYC (2026-12-07)
        ("gemm:jit", {"avx2", "avx512f", "avx512bw", "avx512_vnni"}, True, "avx512-vnni"),
        ("gemm:jit", {"avx2", "avx512f", "avx512bw", "avx512_vnni"}, False, "avx512"),
        ("ref:any", {"avx2", "avx512f", "avx512bw"}, False, "portable"),
        ("brg_matmul:avx512_core_vnni", {"avx2"}, True, "avx512-vnni"),  # a named instruction set wins
    ],
)
def test_a_kernel_that_names_no_instruction_set_is_classed_by_the_cpus_flags(
    kernel: str, flags: set, int8: bool, expected: str
) -> None:
    """oneDNN's JIT GEMM is generated for the CPU it runs on: counting it portable said a torch int8 run on
    the onednn engine used no vector instructions."""
    assert kernels.classify(kernel, int8, flags) == expected


def test_torch_int8_on_the_onednn_engine_names_the_cpus_class(
    bert_checkpoint: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The onednn engine, forced where nerperf would pick ``x86``: its verbose lines name ``gemm:jit``
    (without AMX) or an AMX kernel, and either way a class the CPU has, never ``portable``."""
    from nerperf.models.checkpoints import load_checkpoint
    from nerperf.variants import torch_variants

    checkpoint = load_checkpoint(str(bert_checkpoint))
    monkeypatch.setattr(kernels, "int8_engine", lambda: "onednn")  # the weights are packed for it here
    prepared = torch_variants.prepare("int8", checkpoint)
    tensors = dict(checkpoint.tokenizer(["EU rejects German call ."], return_tensors="pt"))
    found = prepared.kernels(lambda: prepared.forward(tensors))
    assert found.source.startswith("oneDNN verbose"), found
    flags_say = kernels.from_flags(int8=True)
    assert found.isa in ({"amx", flags_say} if AMX else {flags_say}), found


def test_torch_int8_is_quantized_on_the_engine_with_amx_kernels_where_amx_is_usable() -> None:
    assert kernels.int8_engine() == ("onednn" if kernels.amx_usable() else "x86")
    assert kernels.amx_usable() <= AMX  # never on a CPU without the flags


@pytest.mark.parametrize(
    ("flags", "int8", "expected"),
    [
        ({"avx2", "fma"}, True, "avx2"),
        ({"avx2", "avx_vnni"}, True, "avx2-vnni"),
        ({"avx2", "avx512f", "avx512bw"}, False, "avx512"),
        ({"avx2", "avx512f", "avx512bw", "avx512_vnni"}, True, "avx512-vnni"),
        ({"avx2", "avx512f", "avx512bw", "avx512_vnni"}, False, "avx512"),
        (set(), False, "portable"),
    ],
)
def test_a_librarys_own_detection_from_the_cpu_flags(flags: set, int8: bool, expected: str) -> None:
    assert kernels.from_flags(int8, flags) == expected


def test_onnxruntime_int8_is_amx_only_with_the_flags_and_the_permission(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(machine, "cpu_flags", lambda: {"avx2", "avx512f", "avx512bw", "avx512_vnni"})
    assert kernels.onnxruntime_kernels(int8=True).isa == "avx512-vnni"  # no AMX flag: never amx
    monkeypatch.setattr(machine, "cpu_flags", lambda: {"avx512f", "avx512bw", "avx512_vnni", "amx_tile", "amx_int8"})
    monkeypatch.setattr(kernels, "amx_permitted", lambda: False)
    assert kernels.onnxruntime_kernels(int8=True).isa == "avx512-vnni"  # refused: MLAS falls back
    monkeypatch.setattr(kernels, "amx_permitted", lambda: True)
    assert kernels.onnxruntime_kernels(int8=True).isa == "amx"
    assert kernels.onnxruntime_kernels(int8=False).isa == "avx512"  # fp32 has no AMX path


@pytest.mark.parametrize(("vendor", "expected"), [("GenuineIntel", "avx512"), ("AuthenticAMD", "avx2"), ("", "avx512")])
def test_mkl_takes_no_avx512_path_on_a_cpu_not_intels(vendor: str, expected: str) -> None:
    """torch's fp32 matrix multiplies go to MKL, whose AVX-512 paths are Intel's only: on an AMD EPYC with
    AVX-512 (2026-12-06) they ran at AVX2's speed, half onnxruntime's. Unknown vendor: the flags alone."""
    isa, why = kernels.mkl_isa({"avx2", "avx512f", "avx512bw", "avx512_vnni"}, vendor)
    assert isa == expected
    assert ("no AVX-512 path" in why) == (expected == "avx2")
