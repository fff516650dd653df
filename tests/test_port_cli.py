"""`convt port` at the CLI edge: text, proof, --emit, --json, errors; the verify-convention wrapper."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from typer.testing import CliRunner

from convt_cli import conv_transpose
from convt_cli.cli import app
from convt_cli.verify.convention import convention_subject, expressible

runner = CliRunner()
SAM = "ConvTranspose2d(1024, 512, kernel_size=(2, 2), stride=(2, 2))"
SAME = "Conv2DTranspose(64, 3, strides=2, padding='same')"


def invoke(*args: str):
    return runner.invoke(app, ["port", *args], env={"COLUMNS": "80", "NO_COLOR": "1", "CONVT_LANG": "en"})


@pytest.mark.parametrize("target", ["onnx", "jax", "flax", "keras", "tf", "mlx", "torch"])
def test_every_target_prints_a_proven_port(target):
    result = invoke(SAM, "--to", target)
    assert result.exit_code == 0, result.output
    assert "Exact" in result.stdout
    assert "max |Δ| = 0" in result.stdout and "equal up to float rounding ✓" in result.stdout


def test_keras_same_to_torch_names_the_slice():
    result = invoke(SAME, "--from", "keras", "--to", "torch", "--in-channels", "32")
    assert result.exit_code == 0, result.output
    assert "slice: drop 1 at the end of H, 1 at the end of W" in result.stdout
    assert "y = y[:, :, 0:-1, 0:-1]" in result.stdout
    assert "'same': 8×2 = 16" in result.stdout and "= 17" in result.stdout


def test_torch_same_to_keras_is_a_one_pixel_shift_without_the_slice():
    result = invoke("ConvTranspose2d(8, 8, kernel_size=3, stride=2, padding=1, output_padding=1)", "--to", "keras",
                    "--json")
    data = json.loads(result.stdout)
    assert data["status"] == "extra" and data["residual"] == [[1, 0], [1, 0]]
    assert data["proof"]["max_abs_diff"] < 1e-9


def test_groups_in_keras_is_impossible_and_emit_refuses():
    layer = "ConvTranspose2d(4, 4, kernel_size=3, groups=2)"
    result = invoke(layer, "--to", "keras")
    assert result.exit_code == 0 and "Impossible" in result.stdout and "Closest" in result.stdout
    result = invoke(layer, "--to", "keras", "--emit", "python")
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: cannot emit keras code: Keras 3's Conv2DTranspose has no groups")


def test_emit_prints_only_the_snippet():
    result = invoke(SAM, "--to", "onnx", "--emit", "python")
    assert result.exit_code == 0
    assert result.stdout.startswith('"""') and "def convt_port(x, weight, bias):" in result.stdout
    compile(result.stdout, "<snippet>", "exec")


@pytest.mark.parametrize(("args", "code", "needle"), [
    (("ConvTranspose2d(", "--to", "jax"), 1, "cannot read the layer"),
    (("ConvTranspose2d(4, 4)", "--to", "jax"), 1, "needs 'kernel_size'"),
    ((SAM, "--to", "caffe"), 1, "--to 'caffe' is not a framework convt ports between"),
    ((SAM, "--from", "caffe"), 1, "--from 'caffe' is not a framework"),
    (("Conv2DTranspose(8, 3, strides=2, dilation_rate=2)", "--from", "keras"), 1,
     "`strides > 1` not supported in conjunction with `dilation_rate > 1`"),
    (("Conv2DTranspose(8, 3, groups=2)", "--from", "keras"), 1, "has no argument 'groups'"),
    (("kernel_shape=[3], strides=[2], output_padding=[2]", "--from", "onnx"), 1,
     "must be less than max(stride, dilation)"),
    (("ConvTranspose2d(4, 4, 3, padding='same')",), 1, "padding='same' is not supported"),
    (("ConvTranspose2d(4, 4, __import__('os'))",), 1, "is not a literal"),
    ((SAM, "--emit", "rust"), 2, "only snippet language is python"),
    (("(" * 500 + ")" * 500,), 1, "not a Python call"),
    (("pads=[1, 1], strides=[1], kernel_shape=[3], group=0", "--from", "onnx"), 1, "group=0 must be a positive"),
    (("mx.conv_transpose2d(x, w, 2, 5)", "--from", "mlx", "--weight-shape", "4x3x3x2"), 1,
     "larger than dilation×(kernel_size − 1) = 2"),
    (("lax.conv_transpose(x, w, (2, 2), 'same')", "--from", "jax", "--weight-shape", "3x3x2x2"), 1,
     "takes 'SAME', 'VALID' (upper case)"),
])
def test_bad_input_is_one_error_line(args, code, needle):
    result = invoke(*args)
    assert result.exit_code == code, result.output
    assert needle in result.stderr, result.stderr
    assert "Traceback" not in result.output


def test_port_text_does_not_import_torch():
    code = ("import sys; from typer.testing import CliRunner; from convt_cli.cli import app; "
            f"r = CliRunner().invoke(app, ['port', {SAME!r}, '--from', 'keras', '--to', 'onnx']); "
            "assert r.exit_code == 0, r.output; "
            "bad = [m for m in ('torch', 'jax', 'keras', 'onnx', 'onnxruntime', 'tensorflow') if m in sys.modules]; "
            "print(bad)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_check_runs_the_real_framework():
    pytest.importorskip("onnxruntime")
    result = invoke(SAME, "--from", "keras", "--to", "onnx", "--in-channels", "4", "--check")
    assert result.exit_code == 0, result.output
    text = " ".join(result.stdout.split("Check (ONNX, for real)")[1].split())
    assert float(text.split("max |Δ| = ")[1].split()[0]) < 1e-4 and "✓" in text


def test_check_names_the_missing_package(monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "mlx" else real(name, *a))
    result = invoke(SAM, "--to", "mlx", "--check")
    assert result.exit_code == 1 and result.stdout == ""  # refused before any work
    assert "not installed: pip install 'convt[mlx]'" in result.stderr


CASES = [
    dict(stride=(2,), padding=(1,), output_padding=(1,), dilation=(1,), groups=1),
    dict(stride=(3,), padding=(0,), output_padding=(2,), dilation=(2,), groups=1),
    dict(stride=(1,), padding=(2,), output_padding=(0,), dilation=(2,), groups=2),
]


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("convention", ["onnx", "keras", "jax", "tf", "mlx"])
def test_convention_subject_matches_the_engine(convention, case):
    from convt_cli.conventions import onnx_conv_transpose
    from convt_cli.conventions.jax_conv import jax_conv_transpose
    from convt_cli.conventions.keras_conv import keras_conv_transpose
    from convt_cli.conventions.mlx_conv import mlx_conv_transpose
    from convt_cli.conventions.tf_conv import tf_conv_transpose

    fn = {"onnx": onnx_conv_transpose, "keras": keras_conv_transpose, "jax": jax_conv_transpose,
          "tf": tf_conv_transpose, "mlx": mlx_conv_transpose}[convention]
    rng = np.random.default_rng(0)
    x, w, b = rng.standard_normal((2, 4, 5)), rng.standard_normal((4, 3 // 1 * 1, 3)), rng.standard_normal(3)
    if case["groups"] == 2:
        w = rng.standard_normal((4, 2, 3))
        b = rng.standard_normal(4)
    ok, why = expressible(convention, x.shape, w.shape, **case)
    if not ok:
        assert case["groups"] > 1 and "groups" in why
        return
    got = convention_subject(convention, fn)(x, w, b, **case)
    np.testing.assert_allclose(got, conv_transpose(x, w, b, **case), atol=1e-10)


def test_convention_subject_with_real_jax():
    lax = pytest.importorskip("jax.lax")
    rng = np.random.default_rng(1)
    x, w = rng.standard_normal((1, 3, 4, 4)).astype(np.float32), rng.standard_normal((3, 2, 3, 3)).astype(np.float32)
    case = dict(stride=(2, 2), padding=(1, 2), output_padding=(1, 0), dilation=(1, 1), groups=1)
    got = convention_subject("jax", lax.conv_transpose)(x, w, None, **case)
    np.testing.assert_allclose(got, conv_transpose(x, w, None, **case), atol=1e-4)


def test_shape_layer_names_the_side_of_each_crop():
    result = runner.invoke(app, ["shape", "8", "--layer", SAME, "--from", "keras"],
                           env={"COLUMNS": "80", "NO_COLOR": "1", "CONVT_LANG": "en"})
    assert result.exit_code == 0, result.output
    assert "canvas 17×17 → output 16×16" in result.stdout
    assert "H: crop 0 at the start, 1 at the end" in result.stdout
    assert "slice: drop 1 at the end of H" in result.stdout
    data = json.loads(runner.invoke(app, ["shape", "5", "--layer", "kernel_shape=[3], strides=[2], "
                                          "auto_pad='SAME_LOWER'", "--from", "onnx", "--json"]).stdout)
    assert data["crop_begin"] == [1] and data["crop_end"] == [0] and data["output_size"] == [10]
    assert data["torch"] == {"padding": [1], "output_padding": [1], "residual": [[0, 0]], "exact": True}


def test_show_layer_draws_the_pytorch_form_and_says_where_the_crop_goes():
    result = runner.invoke(app, ["show", "--layer", "Conv1DTranspose(1, 3, strides=2, padding='same')", "--from",
                                 "keras", "--seed", "3", "--max-steps", "1"],
                           env={"COLUMNS": "80", "NO_COLOR": "1", "CONVT_LANG": "en"})
    assert result.exit_code == 0, result.output
    assert "L: crop 0 at the start, 1 at the end" in result.stdout
    assert "ConvTranspose1d(1→1, kernel_size=3, stride=2, padding=0" in result.stdout
    bad = runner.invoke(app, ["show", "--layer", SAME, "--from", "keras", "-i", "1,2;3,4"])
    assert bad.exit_code == 2 and "--layer draws a seeded random input" in bad.stderr


def test_huge_layers_are_refused_or_proven_with_fewer_channels():
    big = invoke("ConvTranspose2d(1, 1, kernel_size=(2, 2), stride=100000000)", "--to", "onnx", "--size", "100000")
    assert big.exit_code == 1 and "memory budget" in big.stderr and "Traceback" not in big.output
    wide = invoke("ConvTranspose2d(4096, 4096, kernel_size=(2, 2), stride=(2, 2))", "--to", "keras")
    assert wide.exit_code == 0, wide.output
    assert "fewer channels than the layer" in wide.stdout and "max |Δ| = 0" in wide.stdout
