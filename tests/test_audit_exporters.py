"""`convt audit FILE.onnx` on files written by real exporters (issue #21): torch's TorchScript exporter
(``dynamo=False``, opset 17) and its dynamo exporter (``dynamo=True``, needs onnxscript), of a model that
flattens — the Reshape's target shape is computed in the graph (Shape → Gather → Concat), which
``onnx.shape_inference`` resolves only with data propagation. The audit's shapes and phase-gain indices
are checked against the torch model itself."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import warnings

import numpy as np
import pytest

torch = pytest.importorskip("torch")
onnx = pytest.importorskip("onnx")

from hostile import assert_answer_or_error, run_convt  # noqa: E402

from convt_cli.audit.phase import phase_gain  # noqa: E402


class Flattens(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = torch.nn.Linear(2 * 8 * 8, 16 * 4 * 4)
        self.up = torch.nn.ConvTranspose2d(16, 8, 4, stride=2, padding=1)
        self.up2 = torch.nn.ConvTranspose2d(8, 3, 3, stride=2, padding=1, output_padding=1)

    def forward(self, x):
        h = self.fc(x.flatten(1)).view(x.shape[0], 16, 4, 4)
        return self.up2(self.up(h))


def _export(path, dynamo: bool):
    torch.manual_seed(0)
    model = Flattens().eval()
    x = torch.randn(1, 2, 8, 8)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if dynamo:
            torch.onnx.export(model, (x,), str(path), dynamo=True)
        else:
            torch.onnx.export(model, (x,), str(path), opset_version=17, dynamo=False, input_names=["x"],
                              output_names=["y"], dynamic_axes={"x": {0: "batch"}})
    return model


def _check(report: dict, model) -> None:
    layers = report["layers"]
    assert [la["kind"] for la in layers] == ["ConvTranspose", "ConvTranspose"]
    assert [la["output_shape"] for la in layers] == [[1, 8, 8, 8], [1, 3, 16, 16]]
    for la, mod in zip(layers, (model.up, model.up2)):
        direct = phase_gain(mod.weight.detach().double().numpy(), mod.stride, mod.padding, mod.dilation)
        assert la["phase_gain_index"] == pytest.approx(direct.worst, rel=1e-6)
    assert layers[1]["overlap"] == "uneven" and layers[0]["overlap"] == "even"


def test_torchscript_export_of_a_flattening_model_needs_data_propagation(tmp_path):
    path = tmp_path / "ts.onnx"
    model = _export(path, dynamo=False)
    loaded = onnx.load(str(path))
    loaded.graph.input[0].type.tensor_type.shape.dim[0].dim_value = 1
    plain = onnx.shape_inference.infer_shapes(loaded, strict_mode=True)  # without data propagation …
    conv_in = next(n.input[0] for n in plain.graph.node if n.op_type == "ConvTranspose")
    dims = next(v for v in plain.graph.value_info if v.name == conv_in).type.tensor_type.shape.dim
    assert not all(d.HasField("dim_value") for d in dims)  # … the flatten's Reshape leaves it unknown
    out = run_convt(["audit", str(path), "--shape", "1x2x8x8", "--json"], timeout=90)
    assert_answer_or_error(out, expect="answer")
    _check(json.loads(out.stdout), model)
    bare = run_convt(["audit", str(path)], timeout=90)  # a symbolic batch: asked for --shape, one line
    assert_answer_or_error(bare, expect="error", words=("--shape",))


@pytest.mark.heavy
def test_dynamo_export_of_the_same_model(tmp_path):
    pytest.importorskip("onnxscript")
    path = tmp_path / "dyn.onnx"
    model = _export(path, dynamo=True)
    out = run_convt(["audit", str(path), "--json"], timeout=90)  # external data beside it, static shapes
    assert_answer_or_error(out, expect="answer")
    _check(json.loads(out.stdout), model)
    assert np.isfinite(json.loads(out.stdout)["totals"]["macs_scatter"])


@pytest.mark.heavy
def test_tf2onnx_export_of_a_keras_conv2d_transpose(tmp_path):
    """A Keras ``Conv2DTranspose(padding='same')`` through tf2onnx (NHWC wrapped in Transposes)."""
    pytest.importorskip("tf2onnx")
    pytest.importorskip("tensorflow")
    path = tmp_path / "keras.onnx"
    # In its own process with Keras on TensorFlow: this test session may have loaded Keras on JAX.
    script = f"""
import warnings
import numpy as np
import tensorflow as tf
import tf2onnx
tf.keras.utils.set_random_seed(0)
inp = tf.keras.Input((8, 8, 4), batch_size=1)
layer = tf.keras.layers.Conv2DTranspose(3, 4, strides=2, padding="same")
model = tf.keras.Model(inp, layer(inp))
spec = (tf.TensorSpec((1, 8, 8, 4), tf.float32, name="x"),)
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    tf2onnx.convert.from_keras(model, input_signature=spec, opset=17, output_path={str(path)!r})
np.save({str(tmp_path / "kernel.npy")!r}, layer.kernel.numpy())
"""
    env = {**os.environ, "KERAS_BACKEND": "tensorflow", "TF_CPP_MIN_LOG_LEVEL": "3"}
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    out = run_convt(["audit", str(path), "--json"], timeout=120)
    assert_answer_or_error(out, expect="answer")
    (la,) = json.loads(out.stdout)["layers"]
    assert la["input_shape"] == [1, 4, 8, 8] and la["output_shape"] == [1, 3, 16, 16]
    # Keras (kh, kw, out, in) → PyTorch (in, out, kh, kw)
    kernel = np.load(tmp_path / "kernel.npy").transpose(3, 2, 0, 1)
    # Keras 'same' with k=4, s=2 crops k − s = 2, one on each side (padding=1)
    direct = phase_gain(kernel.astype(np.float64), (2, 2), (1, 1), (1, 1))
    assert la["phase_gain_index"] == pytest.approx(direct.worst, rel=1e-5)
    assert "padding=1" in la["op"]
