"""Small hostile files for the audit's hostile tests (ONNX graphs, weights files, model builders)."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def conv_onnx(path: Path, *, x_shape=(1, 2, 4, 4), w_shape=(2, 3, 3, 3), name="up", attrs=None, w_data=None,
              opset=17, extra_init=None) -> Path:
    """One ConvTranspose node ``x, w → y``; ``attrs`` as given (unchecked), ``w_data`` a custom initializer."""
    from onnx import TensorProto, helper, numpy_helper

    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, list(x_shape))
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, None)
    w = w_data if w_data is not None else numpy_helper.from_array(
        np.random.default_rng(0).standard_normal(w_shape).astype(np.float32), "w")
    node = helper.make_node("ConvTranspose", ["x", "w"], ["y"], name=name, **(attrs or {"strides": [2, 2]}))
    graph = helper.make_graph([node], "g", [x], [y], [w] + list(extra_init or []))
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    path.write_bytes(model.SerializeToString())
    return path


def onnxruntime_refuses(path: Path, x_shape) -> bool:
    """Does the real onnxruntime refuse to build or run this graph on a zero input of ``x_shape``?"""
    import onnxruntime as ort

    ort.set_default_logger_severity(4)
    try:
        sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        sess.run(None, {"x": np.zeros(x_shape, np.float32)})
    except Exception:  # noqa: BLE001 - any refusal counts
        return True
    return False


def external_tensor(location: str, dims=(2, 3, 3, 3)):
    """A float initializer ``w`` whose data lives in ``location`` (no length: the file's size counts)."""
    from onnx import TensorProto

    w = TensorProto(name="w", data_type=TensorProto.FLOAT, dims=list(dims))
    w.data_location = TensorProto.EXTERNAL
    w.external_data.add(key="location", value=location)
    return w


def short_tensor(dims=(2, 3, 3, 3), nbytes=80):
    """A float initializer ``w`` whose raw data is shorter than its dims say."""
    from onnx import TensorProto

    return TensorProto(name="w", data_type=TensorProto.FLOAT, dims=list(dims), raw_data=bytes(nbytes))
