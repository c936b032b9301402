"""Layer norms rewritten for onnxruntime: the same outputs as the operators they replace, by onnxruntime itself."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

onnx = pytest.importorskip("onnx")
onnxruntime = pytest.importorskip("onnxruntime")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

from nerperf.variants import onnx_layer_norms  # noqa: E402

HIDDEN = 16


def _model(node: Any, inputs: list[str], outputs: list[str], opset: int = 17) -> Any:
    rng = np.random.default_rng(0)
    constants = {
        "gamma": rng.normal(1.0, 0.2, HIDDEN),
        "beta": rng.normal(0.0, 0.2, HIDDEN),
        "bias": rng.normal(0.0, 0.5, HIDDEN),
    }
    graph = helper.make_graph(
        [node],
        "norm",
        [helper.make_tensor_value_info(name, TensorProto.FLOAT, ["rows", "tokens", HIDDEN]) for name in inputs],
        [helper.make_tensor_value_info(name, TensorProto.FLOAT, None) for name in outputs],
        initializer=[numpy_helper.from_array(v.astype(np.float32), k) for k, v in constants.items() if k in node.input],
    )
    opsets = [helper.make_opsetid("", opset), helper.make_opsetid("com.microsoft", 1)]
    return helper.make_model(graph, opset_imports=opsets)


def _run(model: Any, feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
    options = onnxruntime.SessionOptions()
    options.log_severity_level = 3
    session = onnxruntime.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
    return session.run(None, feeds)


def _skip_norm(outputs: list[str], bias: bool = True, beta: bool = True, **attributes: Any) -> Any:
    inputs = ["x", "skip", "gamma", "beta" if beta else "", "bias" if bias else ""]
    return helper.make_node("SkipLayerNormalization", inputs, outputs, domain="com.microsoft", **attributes)


def _layer_norm(outputs: list[str], **attributes: Any) -> Any:
    return helper.make_node("LayerNormalization", ["x", "gamma", "beta"], outputs, **attributes)


CASES = {
    "skip-norm-with-bias": (_skip_norm(["y"], epsilon=1e-12), ["x", "skip"], ["y"], 17),
    "skip-norm-residual-read": (_skip_norm(["y", "", "", "residual"]), ["x", "skip"], ["y", "residual"], 17),
    "skip-norm-no-beta-no-bias": (_skip_norm(["y"], bias=False, beta=False), ["x", "skip"], ["y"], 17),
    "layer-norm-opset-17": (_layer_norm(["y"], epsilon=1e-5), ["x"], ["y"], 17),
    "layer-norm-opset-18": (_layer_norm(["y"]), ["x"], ["y"], 18),
}


@pytest.mark.parametrize("case", CASES)
def test_a_rewritten_norm_gives_the_operators_outputs(case: str) -> None:
    node, inputs, outputs, opset = CASES[case]
    rng = np.random.default_rng(1)
    feeds = {name: rng.normal(3.0, 2.0, (2, 5, HIDDEN)).astype(np.float32) for name in inputs}
    model = _model(node, inputs, outputs, opset)
    expected = _run(model, feeds)
    assert onnx_layer_norms.rewrite(model) == 1
    kinds = {n.op_type for n in model.graph.node}
    assert "SimplifiedLayerNormalization" in kinds and not kinds & {"LayerNormalization", "SkipLayerNormalization"}
    for found, wanted in zip(_run(model, feeds), expected, strict=True):
        np.testing.assert_allclose(found, wanted, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize(
    ("node", "outputs"),
    [
        pytest.param(_layer_norm(["y"], axis=1), ["y"], id="another-axis"),
        pytest.param(_layer_norm(["y", "mean"]), ["y", "mean"], id="mean-read"),
        pytest.param(_skip_norm(["y", "", "inverse-deviation"]), ["y", "inverse-deviation"], id="deviation-read"),
    ],
)
def test_a_norm_the_rewrite_cannot_express_is_kept(node: Any, outputs: list[str]) -> None:
    inputs = ["x", "skip"] if node.op_type == "SkipLayerNormalization" else ["x"]
    model = _model(node, inputs, outputs)
    assert onnx_layer_norms.rewrite(model) == 0
    assert [n.op_type for n in model.graph.node] == [node.op_type]


@settings(max_examples=25, deadline=None)
@given(
    offset=st.floats(-100, 100),
    scale=st.floats(1e-3, 1e3),
    tokens=st.integers(1, 9),
)
@example(offset=100.0, scale=1e-3, tokens=9)  # the far corner, where a 1e-4 bound alone failed
def test_the_rewrite_holds_for_rows_far_from_zero_and_of_any_spread(offset: float, scale: float, tokens: int) -> None:
    """Large means and small spreads are where a normalization loses precision first. onnxruntime's scalar
    kernel sums in double, the rewrite's ``ReduceMean`` in float: the mean of values near ``offset`` is off by
    a few of its ulps, so the outputs differ by up to about 1.3e-6 x ``offset`` (measured: 1.3e-4 at 100, for
    any spread), which the bound allows above its 1e-4."""
    node, inputs, outputs, opset = CASES["skip-norm-with-bias"]
    rng = np.random.default_rng(tokens)
    feeds = {n: (offset + scale * rng.normal(size=(1, tokens, HIDDEN))).astype(np.float32) for n in inputs}
    model = _model(node, inputs, outputs, opset)
    expected = _run(model, feeds)
    onnx_layer_norms.rewrite(model)
    found = _run(model, feeds)[0]
    np.testing.assert_allclose(found, expected[0], rtol=1e-4, atol=1e-4 + 2e-6 * abs(offset))


def test_an_absent_input_elsewhere_does_not_count_as_reading_a_norms_absent_outputs() -> None:
    """Absent inputs and outputs are both "" in ONNX: a norm whose mean and deviation are absent is rewritten even
    where another node leaves an optional input out."""
    without_beta = _skip_norm(["z"], bias=False, beta=False)
    residual_read = helper.make_node(
        "SkipLayerNormalization", ["z", "skip", "gamma", "beta"], ["y", "", "", "residual"], domain="com.microsoft"
    )
    model = _model(without_beta, ["x", "skip"], ["y", "residual"])
    model.graph.node.append(residual_read)
    model.graph.initializer.append(numpy_helper.from_array(np.full(HIDDEN, 0.1, dtype=np.float32), "beta"))
    feeds = {name: np.random.default_rng(2).normal(size=(2, 5, HIDDEN)).astype(np.float32) for name in ("x", "skip")}
    expected = _run(model, feeds)
    assert onnx_layer_norms.rewrite(model) == 2
    for found, wanted in zip(_run(model, feeds), expected, strict=True):
        np.testing.assert_allclose(found, wanted, rtol=1e-5, atol=1e-5)
