"""The registry of variants: fp32, int8, bf16, onnx, onnx-int8, onnx-int8-static, openvino, openvino-bf16,
openvino-int8.

The package is the family of interchangeable backends: this registry, the torch variants
(:mod:`.torch_variants`), the ONNX Runtime ones (:mod:`.onnx_variants`), the OpenVINO ones
(:mod:`.openvino_variants`), the calibration sentences of the statically quantized ones
(:mod:`.calibration`), the on-disk cache of built variants (:mod:`.cache`) and what each reports of the
kernels it ran (:mod:`.kernels`).

A variant turns a loaded checkpoint into a *forward* function (padded int64 tensors -> logits) that the
runner calls instead of the torch model, so the runner, metrics and benchmarks are the same for all.
A spec says what it is, why it cannot run here (``unavailable``), and how to prepare it: in memory
(torch variants derive from the loaded model in about a second) or built once into the on-disk cache
(ONNX exports take tens of seconds). Adding a variant is adding one entry to ``VARIANTS``.
"""

from __future__ import annotations

import difflib
import functools
import importlib.util
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nerperf.errors import NerperfInputError, Unavailable
from nerperf.machine import installed_version, native_bf16
from nerperf.models.checkpoints import Checkpoint
from nerperf.variants import cache
from nerperf.variants.prepared import Context, Prepared

__all__ = [
    "VARIANTS",
    "Context",
    "Prepared",
    "Variant",
    "VariantError",
    "VariantUnavailable",
    "get_variant",
    "prepare",
]


class VariantError(NerperfInputError):
    """An unknown variant name, or a variant that cannot be built; the message says what to do."""


class VariantUnavailable(Unavailable):
    """The variant cannot run on this machine or installation; the message says why."""


@dataclass(frozen=True)
class Variant:
    name: str
    summary: str
    recipe: str  # part of the cache key: change it whenever the recipe changes
    prepare: Callable[[Checkpoint, Context], Prepared]
    unavailable: Callable[[], str | None] = lambda: None
    libraries: tuple[str, ...] = ("torch", "transformers")  # whose versions key the cache
    calibrated: bool = False  # built from calibration sentences, which then key its cache
    here: Callable[[], str | None] = lambda: None  # how the recipe is chosen on this CPU, where it depends on it


def _int8_here() -> str:
    from nerperf.variants.kernels import int8_engine

    if int8_engine() == "onednn":
        return "quantized on the onednn engine: AMX is usable, and its u8 x s8 matrix multiplies run on AMX"
    return "quantized on the x86 engine (FBGEMM, torch's default): no usable AMX here"


def _bf16_here() -> str | None:
    from nerperf.machine import cpu_flags

    if _bf16_unavailable():
        return None
    return "native bf16 on AMX tiles" if "amx_bf16" in cpu_flags() else "native bf16 (AVX-512 BF16)"


def _openvino_snippets_here() -> str:
    from nerperf.variants.openvino_variants import snippets_on

    if snippets_on(low_precision=True):
        return "OpenVINO's snippets on (its default): no usable AMX here"
    return "OpenVINO's snippets off: AMX is usable, where its plain kernels ran short sentences faster"


def _openvino_bf16_here() -> str | None:
    bf16 = _bf16_here()
    return f"{bf16}; {_openvino_snippets_here()}" if bf16 else None


def _needs(extra: str, *modules: str) -> Callable[[], str | None]:
    """Unavailable while a module of nerperf's ``extra`` is missing, or it or transformers is a version the
    extra does not declare: onnxruntime before 1.31 runs the export unfused, with attention's own products
    quantized (its optimizer knows transformers 5's graph from 1.31 on), and torch's exporter fails on
    transformers 5.4-5.8's attention masks; neither is the recipe nerperf documents."""

    def unavailable() -> str | None:
        missing = [m for m in modules if importlib.util.find_spec(m) is None]
        if missing:
            return f"{' and '.join(missing)} not installed: pip install 'nerperf[{extra}]'"
        wrong = [
            f"{name} {installed} is installed, nerperf needs {name}{declared}"
            for name, installed, declared in _undeclared_versions(extra, (*modules, "transformers"))
        ]
        return f"{'; '.join(wrong)}: pip install 'nerperf[{extra}]'" if wrong else None

    return unavailable


def _undeclared_versions(extra: str, packages: tuple[str, ...]) -> list[tuple[str, str, str]]:
    """The installed ``packages`` whose version nerperf's ``extra`` does not allow: name, installed version and
    what the extra declares."""
    found = []
    for requirement in _declared_requirements():
        marker = requirement.marker
        if requirement.name in packages and marker is not None and marker.evaluate({"extra": extra}):
            installed = installed_version(requirement.name)
            if installed != "not installed" and not requirement.specifier.contains(installed, prereleases=True):
                found.append((requirement.name, installed, str(requirement.specifier)))
    return found


@functools.cache
def _declared_requirements() -> tuple[Any, ...]:
    """nerperf's own declared requirements, read once from its metadata, so that pyproject.toml stays the one
    place; none when nerperf is not installed (run from a source tree)."""
    from importlib import metadata

    from packaging.requirements import Requirement

    try:
        return tuple(Requirement(r) for r in metadata.requires("nerperf") or [])
    except metadata.PackageNotFoundError:
        return ()


def _bf16_unavailable() -> str | None:
    if native_bf16():
        return None
    return (
        "this CPU has no native bfloat16 (no AVX512-BF16 or AMX flag): torch converts instead, several times "
        "slower than fp32 (docs/variants.md has the figures, per CPU kind)"
    )


def _openvino_bf16_unavailable() -> str | None:
    return _needs("openvino", "onnx", "openvino")() or _bf16_unavailable()


def _torch(name: str) -> Callable[[Checkpoint, Context], Prepared]:
    def prepare(checkpoint: Checkpoint, context: Context) -> Prepared:
        from nerperf.variants import torch_variants

        return torch_variants.prepare(name, checkpoint)

    return prepare


def _onnx_export(checkpoint: Checkpoint, context: Context) -> cache.Entry:
    from nerperf.variants import onnx_variants

    return built("onnx", checkpoint, context, lambda directory: onnx_variants.export(checkpoint, directory))


def _prepare_onnx(checkpoint: Checkpoint, context: Context) -> Prepared:
    return _on_disk("onnx", _onnx_export(checkpoint, context), context)


def _prepare_onnx_int8(checkpoint: Checkpoint, context: Context) -> Prepared:
    from nerperf.variants import onnx_variants

    source = _onnx_export(checkpoint, context)
    entry = built(
        "onnx-int8",
        checkpoint,
        context,
        lambda directory: onnx_variants.quantize(source.directory, directory),
        source=source,
    )
    return _on_disk("onnx-int8", entry, context)


def _prepare_onnx_int8_static(checkpoint: Checkpoint, context: Context) -> Prepared:
    from nerperf.variants import onnx_variants

    source = _onnx_export(checkpoint, context)
    entry = _calibrated("onnx-int8-static", checkpoint, context, source, onnx_variants.quantize_static)
    return _on_disk("onnx-int8-static", entry, context)


def _calibrated(
    name: str, checkpoint: Checkpoint, context: Context, source: cache.Entry, quantize: Callable[..., dict[str, Any]]
) -> cache.Entry:
    """A statically quantized variant of ``source``'s model, built with the context's calibration sentences
    (which key its cache entry, :func:`built`, and are recorded in its details). The quantizer runs in a
    child process (:mod:`nerperf.variants.isolated_build`): it runs its runtime over the sentences, and a
    crash there must not end the process that asked for the variant."""
    from nerperf.variants import isolated_build

    def build(directory: Path) -> dict[str, Any]:
        batches = context.calibration_batches(checkpoint, source.details["inputs"])
        label = f"{name} of {checkpoint.name}"
        details = isolated_build.quantize_in_child(quantize, source.directory, directory, batches, label)
        return {**details, "calibration": context.calibration_key()}

    return built(name, checkpoint, context, build, source=source)


def _openvino_model(checkpoint: Checkpoint, context: Context) -> cache.Entry:
    from nerperf.variants import openvino_variants

    return built("openvino", checkpoint, context, lambda directory: openvino_variants.convert(checkpoint, directory))


def _prepare_openvino(checkpoint: Checkpoint, context: Context) -> Prepared:
    return _openvino_run("openvino", _openvino_model(checkpoint, context), context)


def _prepare_openvino_int8(checkpoint: Checkpoint, context: Context) -> Prepared:
    from nerperf.variants import openvino_variants

    source = _openvino_model(checkpoint, context)
    entry = _calibrated("openvino-int8", checkpoint, context, source, openvino_variants.quantize)
    return _openvino_run("openvino-int8", entry, context)


def _prepare_openvino_bf16(checkpoint: Checkpoint, context: Context) -> Prepared:
    return _openvino_run("openvino-bf16", _openvino_model(checkpoint, context), context, precision="bf16")


def _openvino_run(name: str, entry: cache.Entry, context: Context, precision: str = "f32") -> Prepared:
    from nerperf.variants import openvino_variants

    wanted = openvino_variants.snippets_on(low_precision=name != "openvino")
    forward, report, snippets = openvino_variants.session_forward(entry.directory, context.threads, precision, wanted)
    details = {**entry.details, "inference_precision": precision, "snippets": "on" if snippets else "off"}
    return Prepared(name, forward, entry.size_bytes, entry.build_s, entry.from_cache, details, report)


def _on_disk(name: str, entry: cache.Entry, context: Context) -> Prepared:
    from nerperf.variants import kernels, onnx_variants

    forward = onnx_variants.session_forward(entry.directory, context.threads, context.spin)

    def report(run: Callable[[], Any]) -> kernels.Kernels:
        run()  # MLAS requests the AMX permission when it first runs an int8 kernel
        return kernels.onnxruntime_kernels(int8="int8" in name)

    return Prepared(name, forward, entry.size_bytes, entry.build_s, entry.from_cache, entry.details, report)


_ONNX_LIBRARIES = ("torch", "transformers", "onnx", "onnxruntime")
_OPENVINO_LIBRARIES = ("torch", "transformers", "onnx", "openvino")

VARIANTS: dict[str, Variant] = {
    v.name: v
    for v in (
        Variant("fp32", "torch eager, default (SDPA) attention: the reference", "fp32/1", _torch("fp32")),
        Variant(
            "int8",
            "torch dynamic int8 quantization of the linear layers (the Q8BERT recipe)",
            "int8/quantize_dynamic-qint8-per-channel-linear/engine-by-cpu/2",
            _torch("int8"),
            here=_int8_here,
        ),
        Variant(
            "bf16",
            "torch with bfloat16 weights and activations",
            "bf16/1",
            _torch("bf16"),
            _bf16_unavailable,
            here=_bf16_here,
        ),
        Variant(
            "onnx",
            "ONNX export (eager attention, opset 17) with onnxruntime's transformer fusions, run by onnxruntime",
            "onnx/legacy-export-opset17-eager/ort-optimizer-bert/layer-norms-as-centred-rms/2",
            _prepare_onnx,
            _needs("onnx", "onnx", "onnxruntime"),
            _ONNX_LIBRARIES,
        ),
        Variant(
            "onnx-int8",
            "the onnx variant with onnxruntime's dynamic int8 quantization (signed weights, per channel)",
            "onnx-int8/quantize_dynamic-qint8-per-channel/1",
            _prepare_onnx_int8,
            _needs("onnx", "onnx", "onnxruntime"),
            _ONNX_LIBRARIES,
        ),
        Variant(
            "onnx-int8-static",
            "the onnx variant with onnxruntime's static int8 quantization (QDQ, u8 activations, s8 weights per "
            "channel, MinMax; the second feed-forward MatMuls kept in fp32), calibrated on training sentences",
            "onnx-int8-static/pre-process/quantize_static-qdq-u8s8-per-channel-minmax-matmul-ffn2-fp32/1",
            _prepare_onnx_int8_static,
            _needs("onnx", "onnx", "onnxruntime"),
            _ONNX_LIBRARIES,
            calibrated=True,
        ),
        Variant(
            "openvino",
            "OpenVINO's CPU runtime on the model converted from its ONNX export, fp32",
            "openvino/convert_model-onnx-opset17-f32/1",
            _prepare_openvino,
            _needs("openvino", "onnx", "openvino"),
            _OPENVINO_LIBRARIES,
        ),
        Variant(
            "openvino-bf16",
            "the openvino model compiled with OpenVINO's bf16 inference precision (CPUs with native bfloat16)",
            "openvino-bf16/convert_model-onnx-opset17-bf16-hint/1",
            _prepare_openvino_bf16,
            _openvino_bf16_unavailable,
            _OPENVINO_LIBRARIES,
            here=_openvino_bf16_here,
        ),
        Variant(
            "openvino-int8",
            "the openvino variant quantized to int8 by NNCF (post-training, transformer preset), calibrated on "
            "training sentences",
            "openvino-int8/nncf-quantize-transformer/1",
            _prepare_openvino_int8,
            _needs("openvino", "onnx", "openvino", "nncf"),
            (*_OPENVINO_LIBRARIES, "nncf"),
            calibrated=True,
            here=_openvino_snippets_here,
        ),
    )
}


def get_variant(name: str) -> Variant:
    """The registered variant ``name``; an unknown name gets a suggestion and the list."""
    try:
        return VARIANTS[name]
    except KeyError:
        close = difflib.get_close_matches(name, VARIANTS, n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        raise VariantError(f"unknown variant {name!r}: {hint}available: {', '.join(VARIANTS)}") from None


def prepare(name: str, checkpoint: Checkpoint, context: Context) -> Prepared:
    """Variant ``name`` of ``checkpoint``, ready to run; raises VariantUnavailable with the reason."""
    variant = get_variant(name)
    reason = variant.unavailable()
    if reason:
        raise VariantUnavailable(f"variant {name} of {checkpoint.name}: unavailable: {reason}")
    return variant.prepare(checkpoint, context)


def built(
    name: str,
    checkpoint: Checkpoint,
    context: Context,
    build: Callable[[Path], dict[str, Any]],
    source: cache.Entry | None = None,
) -> cache.Entry:
    """The cached files of an on-disk variant; ``build(directory) -> details`` makes them on first use.

    A variant made from another's files (``source``) is keyed by that entry too (its directory's name holds
    its key), so that a change to the source's recipe rebuilds what was made from it.
    """
    variant = get_variant(name)
    parts = {
        "checkpoint": checkpoint_fingerprint(checkpoint),
        "variant": variant.recipe,
        **{library: installed_version(library) for library in (*variant.libraries, "nerperf")},
    }
    if source is not None:
        parts["source"] = source.directory.name
    if variant.calibrated:
        parts["calibration"] = context.calibration_key()
    return cache.get_or_build(context.cache_root, f"{checkpoint.name}-{name}", parts, build)


def checkpoint_fingerprint(checkpoint: Checkpoint) -> str:
    """What identifies the checkpoint's content: preset (hub revision, random seed) or its files' hash."""
    if checkpoint.fingerprint:
        return checkpoint.fingerprint
    directory = Path(checkpoint.name)
    if not directory.is_dir():
        raise VariantError(f"checkpoint {checkpoint.name}: no directory to fingerprint for the variant cache")
    return "sha256:" + cache.directory_fingerprint(directory)
