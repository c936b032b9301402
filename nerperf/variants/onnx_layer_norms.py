"""Layer norms rewritten as mean-centring and onnxruntime's RMS norm, which runs them several times faster.

onnxruntime's CPU kernels for ``LayerNormalization`` and ``SkipLayerNormalization`` (which its transformer
optimizer makes of every residual add and layer norm) normalize each row in a scalar loop; its
``SimplifiedLayerNormalization`` (RMS norm) kernel is vectorized. A layer norm is an RMS norm of the
mean-centred row, exactly: ``(x - mean) / sqrt(mean((x - mean)^2) + eps) * gamma + beta``. Rewritten so
(``ReduceMean``, ``Sub``, ``SimplifiedLayerNormalization``, ``Add`` of beta), ``onnx-int8`` ran 1.15-1.32x
as fast batched and 1.03-1.18x at batch 1 with onnxruntime 1.32 on AVX-512 VNNI, ``onnx`` 1.05-1.10x and
0.99-1.02x (docs/variants.md, "Layer norms"). The onnx variants' graph is onnxruntime's own already (its
fused operators); OpenVINO reads the plain export, which this leaves alone.
"""

from __future__ import annotations

from typing import Any

# The operators' epsilon where the node does not say: ONNX's LayerNormalization and onnxruntime's
# SkipLayerNormalization (contrib) defaults.
_DEFAULT_EPSILON = {"LayerNormalization": 1e-5, "SkipLayerNormalization": 1e-12}


def rewrite(model: Any) -> int:
    """Rewrite the layer norms of ``model`` (an ``onnx.ModelProto``) in place; how many were rewritten.

    A node is left as it is where it normalizes over another axis than the last, or another node reads
    its mean or inverse standard deviation (training outputs, which no inference graph here uses).
    """
    graph = model.graph
    opset = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), 17)
    read = {name for node in graph.node for name in node.input if name} | {o.name for o in graph.output}
    nodes, count = [], 0
    for node in graph.node:
        replacement = _centred_rms_norm(node, read, opset)
        if replacement is None:
            nodes.append(node)
        else:
            nodes.extend(replacement[0])
            graph.initializer.extend(replacement[1])
            count += 1
    if count:
        del graph.node[:]
        graph.node.extend(nodes)
    return count


def _centred_rms_norm(node: Any, read: set[str], opset: int) -> tuple[list[Any], list[Any]] | None:
    """The nodes (and initializers) computing ``node``'s layer norm as an RMS norm of the centred row, or
    None to keep the node."""
    import numpy
    from onnx import helper, numpy_helper

    skip = node.op_type == "SkipLayerNormalization" and node.domain == "com.microsoft"
    plain = node.op_type == "LayerNormalization" and node.domain in ("", "ai.onnx")
    if not (skip or plain):
        return None
    attributes = {a.name: helper.get_attribute_value(a) for a in node.attribute}
    outputs = list(node.output) + [""] * 3  # absent optional outputs as "", like absent inputs
    if attributes.get("axis", -1) != -1 or any(name in read for name in outputs[1:3]):
        return None
    inputs = list(node.input) + [""] * 5
    prefix = node.name or outputs[0]
    made: list[Any] = []
    constants: list[Any] = []

    def add(op_type: str, inputs: list[str], output: str, **attrs: Any) -> str:
        made.append(helper.make_node(op_type, inputs, [output], name=f"{prefix}/{op_type}_{len(made)}", **attrs))
        return output

    if skip:  # input (+ bias) + skip: the residual sum, itself an output (the fourth) that later nodes may read
        gamma, beta, bias = inputs[2:5]
        residual = outputs[3] or f"{prefix}/residual"
        first = inputs[0]
        if bias:  # first, where onnxruntime fuses it into the matrix multiply that made the input
            first = add("Add", [first, bias], f"{prefix}/biased")
        total = add("Add", [first, inputs[1]], residual)
    else:
        total, gamma, beta = inputs[0], inputs[1], inputs[2]
    if opset >= 18:  # ReduceMean's axes became an input
        axes = f"{prefix}/axes"
        constants.append(numpy_helper.from_array(numpy.array([-1], dtype=numpy.int64), axes))
        mean = add("ReduceMean", [total, axes], f"{prefix}/mean")
    else:
        mean = add("ReduceMean", [total], f"{prefix}/mean", axes=[-1])
    centred = add("Sub", [total, mean], f"{prefix}/centred")
    epsilon = float(attributes.get("epsilon", _DEFAULT_EPSILON[node.op_type]))
    normed = outputs[0] if not beta else f"{prefix}/normed"
    add("SimplifiedLayerNormalization", [centred, gamma], normed, axis=-1, epsilon=epsilon)
    if beta:
        add("Add", [normed, beta], outputs[0])
    return made, constants
