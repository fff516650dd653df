"""Thin wrappers that put a real framework's transposed convolution behind ``convt verify --convention``.

ONNX has no function to call: these build a one-node ``ConvTranspose`` model with the attributes as
given and run it in onnxruntime or in ``onnx.reference`` (whose only bug is ``group``). The other
frameworks need no wrapper (``--impl tensorflow.nn:conv_transpose`` and so on); ``tinygrad_conv`` is
the method ``Tensor.conv_transpose2d`` as a function, for ``--convention tinygrad``.
"""

from __future__ import annotations

import numpy as np


def _model(X, W, B, attrs):  # noqa: ANN001, ANN202
    import onnx
    from onnx import TensorProto, helper

    elem = {np.dtype("float32"): TensorProto.FLOAT, np.dtype("float64"): TensorProto.DOUBLE,
            np.dtype("float16"): TensorProto.FLOAT16}[np.asarray(X).dtype]
    names = ["X", "W"] + (["B"] if B is not None else [])
    node = helper.make_node("ConvTranspose", names, ["Y"], **attrs)
    inputs = [helper.make_tensor_value_info(n, elem, None) for n in names]
    graph = helper.make_graph([node], "g", inputs, [helper.make_tensor_value_info("Y", elem, None)])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    feeds = {"X": np.asarray(X), "W": np.asarray(W)}
    if B is not None:
        feeds["B"] = np.asarray(B)
    return onnx, model, feeds


def onnxruntime_conv(X, W, B=None, **attrs):  # noqa: ANN001, ANN003, ANN201
    """ONNX ``ConvTranspose`` run by onnxruntime (CPU)."""
    import onnxruntime as ort

    _, model, feeds = _model(X, W, B, attrs)
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return session.run(None, feeds)[0]


def onnx_reference(X, W, B=None, **attrs):  # noqa: ANN001, ANN003, ANN201
    """ONNX ``ConvTranspose`` run by ``onnx.reference`` (its groups handling is wrong)."""
    from onnx.reference import ReferenceEvaluator

    _, model, feeds = _model(X, W, B, attrs)
    return ReferenceEvaluator(model).run(None, feeds)[0]


def tinygrad_conv(x, weight, bias=None, **kwargs):  # noqa: ANN001, ANN003, ANN201
    """``tinygrad.Tensor.conv_transpose2d`` as a function of its tensors (PyTorch's convention)."""
    return x.conv_transpose2d(weight, bias, **kwargs)
