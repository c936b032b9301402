"""Which kernels a variant's runtime ran, from the runtime's own report, as a short instruction-set class.

A "bf16" or "int8" row may have run AMX tiles, AVX-512 VNNI or a portable fallback: AMX needs a kernel
permission that each runtime requests itself, and each falls back silently when it is refused. A result
says which, so that two machines' rows can be compared honestly. Each backend is asked after a forward
pass, when the shapes are known and the kernels chosen:

- torch: oneDNN's verbose lines for that pass (its matmul and inner-product primitives name their
  kernels, e.g. ``brg_matmul:avx10_1_512_amx``). Where no oneDNN matrix primitive ran (fp32 goes to MKL,
  int8 on the ``x86`` engine to FBGEMM), the instruction set that library's own detection picks from the
  CPU's flags, and the source says so. MKL's detection looks at the vendor too: on a CPU not Intel's it
  takes no AVX-512 path (:func:`mkl_isa`; measured on an AMD EPYC with AVX-512, 2026-12-06: torch's fp32
  matrix multiply at 218 GFLOP/s, whatever ``MKL_ENABLE_INSTRUCTIONS`` said, against onnxruntime's 481).
- OpenVINO: the compiled model's runtime information (each FullyConnected or MatMul node's
  ``primitiveType``, e.g. ``brgemm_avx512_amx_I8``).
- onnxruntime exposes nothing: the instruction set its MLAS platform detection selects from the CPU's
  flags, AMX counted only where the process holds the kernel's AMX permission after the pass.

The torch ``int8`` variant is quantized on the ``onednn`` engine where AMX is usable, which has AMX
kernels; FBGEMM (the ``x86`` engine, torch's default) has none (:func:`int8_engine`).
"""

from __future__ import annotations

import ctypes
import os
import platform
import tempfile
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from typing import Any

from nerperf import machine

# Best first. "avx512-vnni" covers AVX-512 with VNNI (and the BF16 extensions that come with it).
CLASSES = ("amx", "avx512-vnni", "avx512", "avx2-vnni", "avx2", "portable")
_MATRIX_PRIMITIVES = ("matmul", "inner_product", "convolution")
_ARCH_GET_XCOMP_PERM, _ARCH_REQ_XCOMP_PERM, _XFEATURE_XTILEDATA = 0x1022, 0x1023, 18
_SYS_ARCH_PRCTL = 158  # x86-64


@dataclass(frozen=True)
class Kernels:
    """The best instruction-set class the variant's matrix multiplies ran on, and what said so."""

    isa: str  # one of CLASSES
    source: str

    def to_dict(self) -> dict[str, str]:
        return asdict(self)


def classify(name: str, int8: bool = False, flags: Iterable[str] | None = None) -> str:
    """A kernel's name (oneDNN's or OpenVINO's) as a class of :data:`CLASSES`.

    OpenVINO names its AVX-512 int8 kernels ``..._avx512_...`` with or without VNNI: an int8 kernel on a
    CPU with VNNI is counted as VNNI. oneDNN's JIT GEMM (``gemm:jit``, which torch's ``onednn`` engine runs
    int8 on where AMX is not) names no instruction set: its code is generated for the best the CPU has, so
    the CPU's flags give its class. Only a reference kernel (``ref``) is portable.

    >>> classify("brg_matmul:avx10_1_512_amx"), classify("brgemm_avx512_amx_I8"), classify("gemm:jit:avx2")
    ('amx', 'amx', 'avx2')
    >>> classify("brg_matmul:avx512_core_vnni"), classify("jit_avx512_I8", int8=True, flags={"avx512_vnni"})
    ('avx512-vnni', 'avx512-vnni')
    >>> classify("brgemm_avx512_bf16"), classify("brg_matmul:avx512_core_bf16")  # OpenVINO's and oneDNN's bf16
    ('avx512-vnni', 'avx512-vnni')
    >>> classify("gemm:jit", int8=True, flags={"avx2"}), classify("ref:any", flags={"avx2"})
    ('avx2', 'portable')
    """
    lowered = name.lower()
    if "amx" in lowered:
        return "amx"
    if "avx2_vnni" in lowered:
        return "avx2-vnni"
    if any(part in lowered for part in ("vnni", "avx10", "avx512_core_bf16", "avx512_core_fp16", "avx512_bf16")):
        return "avx512-vnni"
    found = set(machine.cpu_flags() if flags is None else flags)
    if "avx512" in lowered:
        return "avx512-vnni" if int8 and "avx512_vnni" in found else "avx512"
    if "avx2" in lowered:
        return "avx2-vnni" if int8 and "avx_vnni" in found else "avx2"
    if "jit" in lowered:
        return from_flags(int8, found)
    return "portable"


def best(classes: Iterable[str]) -> str:
    ranked = sorted(set(classes), key=CLASSES.index)
    return ranked[0] if ranked else "portable"


def from_flags(int8: bool, flags: Iterable[str] | None = None) -> str:
    """The class a library's own CPU detection picks (MLAS, FBGEMM, MKL): AVX-512 over AVX2, VNNI for int8."""
    found = set(machine.cpu_flags() if flags is None else flags)
    if int8 and "avx512_vnni" in found:
        return "avx512-vnni"
    if "avx512f" in found and "avx512bw" in found:
        return "avx512"
    if int8 and "avx_vnni" in found:
        return "avx2-vnni"
    return "avx2" if "avx2" in found else "portable"


def mkl_isa(flags: Iterable[str] | None = None, vendor: str | None = None) -> tuple[str, str]:
    """The class MKL's own dispatch picks, and why: its AVX-512 paths run on Intel's CPUs only (it checks the
    vendor, not only the flags), so elsewhere AVX2 at most (pytorch/builder#504 has the history).

    >>> flags = {"avx2", "avx512f", "avx512bw"}
    >>> mkl_isa(flags, "AuthenticAMD")[0], mkl_isa(flags, "GenuineIntel")[0]
    ('avx2', 'avx512')
    """
    found = set(machine.cpu_flags() if flags is None else flags)
    vendor = machine.cpu_vendor() if vendor is None else vendor
    if vendor and vendor != "GenuineIntel":
        capped = found - {f for f in found if f.startswith("avx512")}
        return from_flags(
            int8=False, flags=capped
        ), f"MKL, from the CPU flags and its vendor ({vendor}: no AVX-512 path, Intel's only)"
    return from_flags(int8=False, flags=found), "MKL, from the CPU flags"


def amx_permitted() -> bool:
    """Whether this process holds the kernel's permission to use AMX tile data (Linux on x86-64)."""
    if platform.system() != "Linux" or platform.machine() != "x86_64":
        return False
    mask = ctypes.c_ulong(0)
    if _arch_prctl(_ARCH_GET_XCOMP_PERM, ctypes.byref(mask)) != 0:
        return False
    return bool(mask.value & (1 << _XFEATURE_XTILEDATA))


def amx_usable() -> bool:
    """AMX int8 is in the CPU's flags and the kernel grants this process its permission (requested here,
    as oneDNN and MLAS request it themselves)."""
    if not _has_amx_int8():
        return False
    if amx_permitted():
        return True
    _arch_prctl(_ARCH_REQ_XCOMP_PERM, _XFEATURE_XTILEDATA)
    return amx_permitted()


def _has_amx_int8() -> bool:
    return {"amx_tile", "amx_int8"} <= set(machine.cpu_flags())


def _arch_prctl(code: int, argument: Any) -> int:
    """Linux's arch_prctl(2) through libc's syscall(): how a process asks for, and reads, its AMX permission."""
    return ctypes.CDLL(None, use_errno=True).syscall(_SYS_ARCH_PRCTL, code, argument)


def int8_engine() -> str:
    """torch's quantized engine for the int8 variant: ``onednn`` where AMX is usable (its u8 x s8 matrix
    multiplies run on AMX; FBGEMM has no AMX kernels), else torch's default ``x86`` (FBGEMM)."""
    return "onednn" if amx_usable() else "x86"


def torch_kernels(run: Callable[[], Any], int8_engine_used: str | None = None) -> Kernels:
    """Run one forward pass with oneDNN's verbose output captured, and read its matrix kernels."""
    import torch

    lines = _captured_stdout(run, torch.backends.mkldnn.verbose, torch.backends.mkldnn.VERBOSE_ON)
    kernels = Counter(
        fields[6]
        for fields in (line.split(",") for line in lines if line.startswith("onednn_verbose"))
        if len(fields) > 6 and fields[3] == "exec" and fields[5] in _MATRIX_PRIMITIVES  # v1,primitive,exec,cpu,KIND
    )
    int8 = int8_engine_used is not None
    if kernels:
        return Kernels(best(classify(k, int8) for k in kernels), "oneDNN verbose: " + _counted(kernels))
    if int8:
        return Kernels(from_flags(int8=True), f"FBGEMM ({int8_engine_used} engine), from the CPU flags")
    isa, why = mkl_isa()
    return Kernels(isa, f"{why}; torch's CPU capability {torch.backends.cpu.get_cpu_capability()}")


def openvino_kernels(compiled: Any) -> Kernels:
    """The compiled model's matrix kernels, as its runtime information names them (after an inference)."""
    kernels: Counter[str] = Counter()
    int8 = False
    for node in compiled.get_runtime_model().get_ops():
        info = node.get_rt_info()
        layer = info["layerType"].astype(str) if "layerType" in info else node.get_type_name()
        if layer in ("FullyConnected", "MatMul") and "primitiveType" in info:
            kernels[info["primitiveType"].astype(str)] += 1
            int8 = int8 or info["runtimePrecision"].astype(str).lower() in ("i8", "u8")
    if not kernels:
        return Kernels("portable", "OpenVINO runtime information: no matrix kernel named")
    return Kernels(best(classify(k, int8) for k in kernels), "OpenVINO runtime information: " + _counted(kernels))


def onnxruntime_kernels(int8: bool) -> Kernels:
    """MLAS's choice, from the CPU's flags; AMX (u8 activations x s8 weights) where the process holds the
    AMX permission that MLAS requests when it starts."""
    if int8 and _has_amx_int8() and amx_permitted():
        return Kernels("amx", "MLAS u8 x s8, from the CPU flags and the process's AMX permission")
    return Kernels(from_flags(int8), "MLAS, from the CPU flags (onnxruntime names no kernel)")


def _counted(kernels: Counter[str]) -> str:
    return ", ".join(f"{name} x{count}" for name, count in kernels.most_common())


def _captured_stdout(run: Callable[[], Any], switch: Callable[[int], Any], level: int) -> list[str]:
    """The lines written to file descriptor 1 (where oneDNN prints) while ``run`` runs under ``switch``."""
    with tempfile.TemporaryFile() as captured:
        saved = os.dup(1)
        os.dup2(captured.fileno(), 1)
        try:
            with switch(level):
                run()
        finally:
            os.dup2(saved, 1)
            os.close(saved)
        captured.seek(0)
        return captured.read().decode(errors="replace").splitlines()
