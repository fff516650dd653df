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


TINY_MODEL = '''
import torch.nn as nn


def build():
    return nn.Sequential(nn.ConvTranspose2d(2, 3, 4, stride=2, padding=1))
'''


def tiny_model(folder: Path) -> str:
    """``folder/tiny.py:build``: one ConvTranspose2d(2, 3, 4, stride=2, padding=1) (keys ``0.weight``, ``0.bias``)."""
    path = folder / "tiny.py"
    path.write_text(TINY_MODEL)
    return f"{path}:build"


def zip_bomb_pt(path: Path, unpacked: int) -> Path:
    """A ``torch.save`` zip whose tensor entry unpacks to ``unpacked`` bytes of zeros, stored deflated (~1000:1)."""
    import io
    import zipfile

    import torch

    buf = io.BytesIO()
    torch.save({"0.weight": torch.zeros(2, 3, 4, 4)}, buf)
    src = zipfile.ZipFile(io.BytesIO(buf.getvalue()))
    with zipfile.ZipFile(path, "w") as out:
        for info in src.infolist():
            if info.filename.endswith("/data/0"):
                entry = zipfile.ZipInfo(info.filename)
                entry.compress_type = zipfile.ZIP_DEFLATED
                with out.open(entry, "w", force_zip64=True) as f:
                    chunk = bytes(1 << 20)
                    for _ in range(unpacked >> 20):
                        f.write(chunk)
            else:
                out.writestr(info, src.read(info.filename), compress_type=zipfile.ZIP_STORED)
    return path


def cyclic_onnx(path: Path) -> Path:
    """``a = x + b; b = ConvTranspose(a, w)``: a cycle through the ConvTranspose."""
    from onnx import TensorProto, helper, numpy_helper

    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2, 4, 4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, None)
    w = numpy_helper.from_array(np.ones((2, 2, 3, 3), np.float32), "w")
    nodes = [helper.make_node("Add", ["x", "b"], ["a"]), helper.make_node("ConvTranspose", ["a", "w"], ["b"]),
             helper.make_node("Identity", ["b"], ["y"])]
    model = helper.make_model(helper.make_graph(nodes, "g", [x], [y], [w]), opset_imports=[helper.make_opsetid("", 17)])
    path.write_bytes(model.SerializeToString())
    return path
