"""`convt verify --runtime`: the registry, usage and install errors, the planted-bug fake runtimes diagnosed
by name through the whole path (export → run in the sandbox → cluster → shrink → artifact + script that
runs), and real toolchains (onnxruntime, openvino, inductor) on a small sample; the rest is heavy.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from convt_cli.cli import app
from convt_cli.errors import ConvtError
from convt_cli.runtimes import RUNTIMES, check_installed, default_cases, estimate_s, parse_runtimes
from convt_cli.runtimes.child import pack, unpack

runner = CliRunner()
ENV = {"COLUMNS": "100", "CONVT_LANG": "en", "LANG": "C"}
ROOT = Path(__file__).resolve().parents[1]
heavy = pytest.mark.heavy


def verify(*args: str):
    return runner.invoke(app, ["verify", *args], env=ENV)


def as_json(result) -> dict:  # noqa: ANN001
    return json.loads(result.stdout)


# --- pure parts ---------------------------------------------------------------------------------------


def test_parse_runtimes_names_every_valid_one():
    assert parse_runtimes("onnxruntime, inductor,onnxruntime") == ("onnxruntime", "inductor")
    with pytest.raises(ConvtError, match="onnxruntime, openvino, tflite, inductor, export, tvm, executorch"):
        parse_runtimes("tensorrt")


def test_missing_package_names_the_extra(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "openvino" else real(name, *a))
    with pytest.raises(ConvtError, match=r"pip install 'convt\[runtimes\]'"):
        check_installed("openvino")
    result = verify("--runtime", "openvino", "--cases", "2")
    assert result.exit_code == 1
    assert "openvino, which is not installed" in result.stderr and "Traceback" not in result.stderr


def test_every_real_runtime_has_a_default_size_and_estimate():
    for name in RUNTIMES:
        n = default_cases(name)
        assert n >= 48 and 0 < estimate_s(name, n) < 600


def test_pack_round_trip():
    arrays = [np.arange(6, dtype=np.float32).reshape(2, 3), np.ones((1, 1, 2), np.float32), np.zeros(0, np.float32)]
    flat, shapes = pack(arrays)
    back = unpack(flat, shapes)
    assert [a.shape for a in back] == [a.shape for a in arrays]
    assert all(np.array_equal(a, b) for a, b in zip(arrays, back))


@pytest.mark.parametrize("args, words", [
    (["--runtime", "fake", "--impl", "x.py:f"], "cannot be combined with --impl"),
    (["--runtime", "fake", "--via", "onnx"], "--via onnx applies to --runtime openvino"),
    (["--runtime", "inductor", "--opset", "17"], "--opset applies to the ONNX paths"),
    (["--runtime", "fake", "--dtype", "float16"], "float32 models"),
    (["--matrix"], "apply to --runtime"),
    (["--runtime", "nope"], "is not a runtime convt knows"),
])
def test_usage_errors(args, words):
    result = verify(*args)
    assert result.exit_code == 2
    assert words in " ".join(result.stderr.split())


def test_save_failing_needs_an_empty_directory(tmp_path):
    (tmp_path / "x").write_text("keep")
    result = verify("--runtime", "fake", "--cases", "2", "--save-failing", str(tmp_path))
    assert result.exit_code == 2 and "new or empty directory" in result.stderr
    assert (tmp_path / "x").read_text() == "keep"


# --- the planted bugs, by name, through the whole path ----------------------------------------------------


@pytest.mark.parametrize("name, kind, feature", [
    ("fake-op", "shape", "output_padding"),
    ("fake-crop", "values", "output_padding"),
    ("fake-groups", "values", "groups"),
])
def test_planted_bug_is_named_and_its_artifact_runs(tmp_path, name, kind, feature):
    save = tmp_path / "saved"
    result = verify("--runtime", name, "--cases", "60", "--json", "--save-failing", str(save))
    assert result.exit_code == 1, result.stderr
    doc = as_json(result)
    assert doc["runtime"]["name"] == name and doc["dtype"] == "float32"
    top = doc["clusters"][0]
    assert top["kind"] == kind and feature in top["features"] and top["everywhere"]
    # every failing case has the feature; no passing case is blamed
    assert all(feature in f["features"] for f in doc["failures"])
    smallest = top["smallest"]
    assert smallest["reproduce"].startswith(f"convt verify --runtime {name} --case ")
    files = doc["runtime"]["artifacts"]["cluster1-" + kind]
    assert any(f.endswith(".npz") for f in files)
    script = save / next(f for f in files if f.endswith(".py"))
    run = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120,
                         env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert run.returncode == 0, run.stderr
    if kind == "shape":
        shapes = [line for line in run.stdout.splitlines() if "shape" in line][0]
        assert shapes.split("PyTorch float64:")[0] != shapes.split("PyTorch float64:")[1]
    else:
        outside = [line for line in run.stdout.splitlines() if "outside" in line][0]
        assert int(outside.split()[0]) > 0


def test_all_planted_bugs_give_separate_clusters():
    result = verify("--runtime", "fake", "--cases", "90", "--json")
    doc = as_json(result)
    named = {(c["kind"], tuple(c["features"])) for c in doc["clusters"]}
    assert ("values", ("groups",)) in named
    # output_padding dropped (1-d: a wrong shape) and its cells put on the wrong side (2-d/3-d: wrong
    # values): one feature explains both, so the diagnosis gives them one cluster with both kinds
    op = [c for c in doc["clusters"] if tuple(c["features"]) == ("output_padding",)]
    assert len(op) == 1 and {"shape", "values"} <= set(op[0]["kinds"]), op


def test_matrix_json_rows_and_text():
    result = verify("--runtime", "fake-op,fake-groups", "--cases", "30", "--matrix", "--json")
    doc = as_json(result)
    assert doc["schema"] == "convt.runtimes/1" and doc["runtimes"] == ["fake-op", "fake-groups"]
    rows = {r["feature"]: r for r in doc["matrix"]}
    assert rows["output_padding"]["fake-op"]["rate"] == 0.0 and rows["groups"]["fake-groups"]["rate"] == 0.0
    assert 0 < rows["all"]["fake-op"]["passed"] < rows["all"]["fake-op"]["cases"]
    text = verify("--runtime", "fake-op,fake-groups", "--cases", "30", "--matrix")
    assert "Pass rate per runtime and feature" in text.stdout and "fake-groups" in text.stdout


# --- real toolchains, a sample ---------------------------------------------------------------------------


def test_onnxruntime_torchscript_sample_passes():
    result = verify("--runtime", "onnxruntime", "--exporter", "torchscript", "--cases", "12",
                    "--skip", "output_padding_dilation", "--json")
    doc = as_json(result)
    assert doc["completed"] == 12 and doc["failed"] == 0, doc["failures"]
    assert doc["runtime"]["versions"]["onnxruntime"]


def test_onnxruntime_refuses_output_padding_not_below_stride(tmp_path):
    """Real onnxruntime finding: output_padding ≥ stride (allowed by PyTorch when < dilation) is refused."""
    result = verify("--runtime", "onnxruntime", "--exporter", "torchscript", "--case",
                    "1d x=1x2x5 w=2x1x3 s=1 p=0 op=1 d=2 g=1", "--json", "--save-failing", str(tmp_path / "s"))
    doc = as_json(result)
    assert result.exit_code == 1
    (failure,) = doc["failures"]
    assert failure["failure"] == "runtime" and "output_padding" in failure["message"]


def test_openvino_sample_passes():
    result = verify("--runtime", "openvino", "--cases", "4", "--json")
    doc = as_json(result)
    assert doc["completed"] == 4 and doc["failed"] == 0, doc["failures"]


def test_inductor_sample_passes():
    result = verify("--runtime", "inductor", "--cases", "3", "--dims", "2", "--json")
    doc = as_json(result)
    assert doc["completed"] == 3 and doc["failed"] == 0, doc["failures"]


@heavy
@pytest.mark.parametrize("runtime", ["onnxruntime", "export", "tvm", "executorch", "tflite"])
def test_heavy_runtime_runs_cases(runtime):
    result = verify("--runtime", runtime, "--cases", "6", "--json")
    doc = as_json(result)
    assert doc["completed"] == 6
    # a toolchain's failure, never convt's (tflite's converter segfaults on some 3-d cases: "crash")
    assert all(f["failure"] in ("exporter", "converter", "runtime", "shape", "values", "nonfinite", "crash")
               for f in doc["failures"])


@heavy
def test_heavy_openvino_via_onnx():
    result = verify("--runtime", "openvino", "--via", "onnx", "--exporter", "torchscript", "--cases", "8", "--json")
    doc = as_json(result)
    assert doc["completed"] == 8 and doc["failed"] == 0, doc["failures"]


# --- audit --runtime --------------------------------------------------------------------------------------


def test_judge_names_shape_values_and_refusals():
    from convt_cli.runtimes.layers import LayerCase, judge

    rng = np.random.default_rng(0)
    la = LayerCase("up", (2, 2), (1, 1), (1, 1), (1, 1), 1, rng.uniform(-1, 1, (1, 2, 3, 3)).astype(np.float32),
                   rng.uniform(-1, 1, (2, 3, 3, 3)).astype(np.float32), None)
    import torch

    good = torch.nn.functional.conv_transpose2d(torch.from_numpy(la.x).double(), torch.from_numpy(la.weight).double(),
                                                stride=2, padding=1, output_padding=1).numpy()
    assert judge(la, good.astype(np.float32)).verdict == "pass"
    bad = good.copy()
    bad[0, 0, 0, 0] += 1e-2
    assert judge(la, bad).verdict == "values"
    assert judge(la, good[..., :-1, :-1]).verdict == "shape"
    assert judge(la, ("converter", "refused")).verdict == "converter"


def test_audit_runtime_verdict_per_layer_with_a_planted_bug():
    result = runner.invoke(app, ["audit", "examples/unet.py:build", "--shape", "1x3x64x64", "--weights",
                                 "examples/unet.safetensors", "--runtime", "fake-op", "--json"], env=ENV)
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["runtime"]["name"] == "fake-op" and doc["runtime"]["failed"] == 1
    up1 = next(la for la in doc["layers"] if la["name"] == "up1")
    assert up1["runtime"]["verdict"] == "shape"  # up1 has output_padding=1, which fake-op drops
    assert all("runtime" not in la for la in doc["layers"] if la["name"] != "up1")  # not a conv: no verdict


@heavy
def test_audit_runtime_onnxruntime_unet():
    result = runner.invoke(app, ["audit", "examples/unet.py:build", "--shape", "1x3x64x64", "--weights",
                                 "examples/unet.safetensors", "--runtime", "onnxruntime"], env=ENV)
    assert result.exit_code == 0, result.stderr
    assert "onnxruntime: pass (max |err|" in result.stdout
