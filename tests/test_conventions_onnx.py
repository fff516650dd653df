"""`onnx_conv_transpose` against ONNX's own backend node tests and against onnxruntime itself."""

from __future__ import annotations

import numpy as np
import pytest

from convt_cli import ConvtError, onnx_conv_transpose

onnx = pytest.importorskip("onnx")


def _node_cases():
    # Importing the module registers its cases (ONNX's exporter metaclass runs every export_*).
    import onnx.backend.test.case.node as node_cases
    from onnx import helper
    from onnx.backend.test.case.node import convtranspose  # noqa: F401

    cases = []
    for case in node_cases._NodeTestCases:
        nodes = [n for n in case.model.graph.node if n.op_type == "ConvTranspose"]
        if len(nodes) != 1 or not case.data_sets:
            continue
        attrs = {a.name: helper.get_attribute_value(a) for a in nodes[0].attribute}
        attrs = {k: (v.decode() if isinstance(v, bytes) else v) for k, v in attrs.items()}
        inputs, outputs = case.data_sets[0]
        cases.append(pytest.param(attrs, inputs, outputs[0], id=case.name))
    return cases


NODE_CASES = _node_cases()


def test_every_convtranspose_node_case_is_collected():
    assert len(NODE_CASES) >= 11  # ONNX 1.16+ ships at least these eleven


@pytest.mark.parametrize(("attrs", "inputs", "expected"), NODE_CASES)
def test_onnx_backend_node_case(attrs, inputs, expected):
    got = onnx_conv_transpose(*inputs, **attrs)
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)


def _ort(x, w, b, **attrs):
    ort = pytest.importorskip("onnxruntime")
    from onnx import TensorProto, helper

    names = ["X", "W"] + (["B"] if b is not None else [])
    node = helper.make_node("ConvTranspose", names, ["Y"], **attrs)
    inputs = [helper.make_tensor_value_info(n, TensorProto.FLOAT, list(a.shape))
              for n, a in zip(names, (x, w, b))]
    graph = helper.make_graph([node], "g", inputs, [helper.make_tensor_value_info("Y", TensorProto.FLOAT, None)])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    feeds = dict(zip(names, (x, w, b)))
    return session.run(None, feeds)[0]


def _random_attrs(rng, nd):
    k = [int(v) for v in rng.integers(1, 4, nd)]
    s = [int(v) for v in rng.integers(1, 4, nd)]
    d = [int(v) for v in rng.integers(1, 3, nd)]
    size = [int(v) for v in rng.integers(1, 5, nd)]
    group = int(rng.choice([1, 1, 2]))
    attrs: dict = {"strides": s, "dilations": d, "group": group}
    mode = rng.choice(["pads", "auto", "output_shape", "valid"])
    if rng.random() < 0.5:
        attrs["output_padding"] = [int(rng.integers(0, si)) for si in s]
    if mode == "pads":
        attrs["pads"] = [int(v) for v in rng.integers(0, 3, 2 * nd)]
    elif mode == "auto":
        attrs["auto_pad"] = str(rng.choice(["SAME_UPPER", "SAME_LOWER"]))
    elif mode == "valid":
        attrs["auto_pad"] = "VALID"
    else:
        full = [(n - 1) * si + di * (ki - 1) + 1 for n, si, di, ki in zip(size, s, d, k)]
        attrs["output_shape"] = [max(1, f + int(rng.integers(-3, 2))) for f in full]
        if rng.random() < 0.3:
            attrs["auto_pad"] = str(rng.choice(["SAME_UPPER", "SAME_LOWER", "NOTSET"]))
    return k, size, attrs


def random_node(rng: np.random.Generator, nd: int, with_bias: bool | None = None):
    """A random node and its float32 data: (spatial size, attributes, X, W, B); B half the time unless
    ``with_bias`` says."""
    k, size, attrs = _random_attrs(rng, nd)
    group = attrs["group"]
    c, m = group * int(rng.integers(1, 3)), group * int(rng.integers(1, 3))
    x = rng.standard_normal((2, c, *size)).astype(np.float32)
    w = rng.standard_normal((c, m // group, *k)).astype(np.float32)
    bias = with_bias if with_bias is not None else rng.random() < 0.5
    b = rng.standard_normal(m).astype(np.float32) if bias else None
    return size, attrs, x, w, b


def test_random_nodes_match_onnxruntime():
    """300 seeded random nodes, 1-3 d: the same output as onnxruntime, or both refuse."""
    rng = np.random.default_rng(20261202)
    checked = refused = 0
    worst = 0.0
    for i in range(300):
        _, attrs, x, w, b = random_node(rng, 1 + i % 3)
        try:
            expected = _ort(x, w, b, **attrs)
        except Exception:  # noqa: BLE001 - onnxruntime refused: so must we
            with pytest.raises(ConvtError):
                onnx_conv_transpose(x, w, b, **attrs)
            refused += 1
            continue
        got = onnx_conv_transpose(x, w, b, **attrs)
        assert got.shape == expected.shape, attrs
        worst = max(worst, float(np.abs(got - expected).max()))
        checked += 1
    print(f"onnxruntime: {checked} nodes equal (worst |diff| {worst:.2e}), {refused} refused by both")
    assert worst < 1e-4
    assert checked >= 200, (checked, refused)


@pytest.mark.parametrize(("attrs", "needle"), [
    ({"auto_pad": "SAME"}, "auto_pad='SAME' must be one of"),
    ({"strides": [2], "output_padding": [2]}, "must be less than max(stride, dilation) (2)"),
    ({"dilations": [2], "output_padding": [1]}, "inconsistent with the input size"),
    ({"pads": [1]}, "pads=[1] must be a list of 2 integers"),
    ({"kernel_shape": [2]}, "does not match W's kernel dims [3]"),
    ({"group": 2}, "group=2 does not divide the 1 input channels"),
])
def test_what_onnxruntime_rejects_is_rejected(attrs, needle):
    x = np.ones((1, 1, 3), np.float32)
    w = np.ones((1, 1, 3), np.float32)
    with pytest.raises(ConvtError) as info:
        onnx_conv_transpose(x, w, **attrs)
    assert needle in str(info.value)


def test_exact_same_upper_and_lower_placement():
    x = np.array([[[1.0, 2.0]]])
    w = np.array([[[1.0, 1.0, 1.0]]])
    upper = onnx_conv_transpose(x, w, strides=[2], auto_pad="SAME_UPPER")
    lower = onnx_conv_transpose(x, w, strides=[2], auto_pad="SAME_LOWER")
    # full canvas [1, 1, 3, 2, 2]: one cell cropped, at the end (UPPER) or the start (LOWER)
    assert upper.tolist() == [[[1.0, 1.0, 3.0, 2.0]]]
    assert lower.tolist() == [[[1.0, 3.0, 2.0, 2.0]]]


def test_node_cases_cover_output_shape_and_auto_pad():
    modes = {tuple(sorted(p.values[0])) for p in NODE_CASES}
    assert any("output_shape" in m for m in modes) and any("auto_pad" in m for m in modes)
