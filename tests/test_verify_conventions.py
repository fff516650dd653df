"""`convt verify --convention` with each framework's REAL op, named as a user names it.

TensorFlow, Keras, JAX, MLX, onnxruntime, onnx.reference and tinygrad: the op itself must pass (it is
right), except onnx.reference, whose one bug (``group``) must come out as one cluster, ``groups > 1``.
The JAX-, Keras- and TensorFlow-backed runs go under ``CONVT_MAX_BYTES=1G``: the worker's memory guard
limits resident memory, so XLA's and TensorFlow's address-space reservations do not count. A few cases
per framework by default; 100 each with ``CONVT_HEAVY=1``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from convt_cli.cli import app

WRAPPERS = Path(__file__).with_name("convention_wrappers.py")
runner = CliRunner()

# (id, --impl, --convention, extra options, env)
OPS = [
    ("tf", "tensorflow.nn:conv_transpose", "tf", ["--dtype", "float32"], {"CONVT_MAX_BYTES": "1G"}),
    ("keras-tf", "keras.ops:conv_transpose", "keras", ["--dtype", "float32"],
     {"CONVT_MAX_BYTES": "1G", "KERAS_BACKEND": "tensorflow"}),
    ("keras-jax", "keras.ops:conv_transpose", "keras", ["--dtype", "float32"],
     {"CONVT_MAX_BYTES": "1G", "KERAS_BACKEND": "jax"}),
    ("jax", "jax.lax:conv_transpose", "jax", ["--dtype", "float32"], {"CONVT_MAX_BYTES": "1G"}),
    ("mlx-1d", "mlx.core:conv_transpose1d", "mlx", ["--dtype", "float32", "--dims", "1"], {}),
    ("mlx-2d", "mlx.core:conv_transpose2d", "mlx", ["--dtype", "float32", "--dims", "2"], {}),
    ("mlx-3d", "mlx.core:conv_transpose3d", "mlx", ["--dtype", "float32", "--dims", "3"], {}),
    ("mlx-2d-float64", "mlx.core:conv_transpose2d", "mlx", ["--dims", "2"], {}),
    ("onnxruntime", f"{WRAPPERS}:onnxruntime_conv", "onnx", ["--dtype", "float32"], {}),
    ("tinygrad", "tinygrad:Tensor.conv_transpose2d", "tinygrad", [], {"DEV": "PYTHON"}),
]
MODULES = {"tf": "tensorflow", "keras": "keras", "jax": "jax", "mlx": "mlx.core", "onnx": "onnxruntime",
           "tinygrad": "tinygrad"}


def run(*args: str, env: dict[str, str] | None = None):
    return runner.invoke(app, ["verify", *args], env={"COLUMNS": "120", "CONVT_LANG": "en", **(env or {})})


def _check_op(impl: str, convention: str, options: list[str], env: dict[str, str], cases: int) -> dict:
    # tinygrad and keras fix these at import (importing tensorflow imports keras): in this process too,
    # as the port tests expect
    os.environ.setdefault("KERAS_BACKEND", "jax")
    if convention == "tinygrad":
        os.environ.setdefault("DEV", "PYTHON")
    pytest.importorskip(MODULES[convention])
    if convention == "tinygrad":
        cases = min(cases, 4 if cases < 100 else 24)  # its Python emulator: about 1 s per case
    result = run("--impl", impl, "--convention", convention, "--cases", str(cases), *options, "--json", env=env)
    doc = json.loads(result.stdout)
    if env.get("KERAS_BACKEND") == "tensorflow" and not doc["ok"]:
        # Keras's TensorFlow backend: padding="same" with an explicit output_padding and an even kernel
        # gives TF an output size its oneDNN kernel cannot make (AbortedError); never wrong values
        assert all(c["kinds"] == ["exception"] and "AbortedError" in c["smallest"]["message"]
                   for c in doc["clusters"]), [(c["signature"], c["features"]) for c in doc["clusters"]]
        return doc
    assert result.exit_code == 0 and doc["ok"], [(c["signature"], c["smallest"]["message"])
                                                 for c in doc["clusters"]]
    assert doc["failed"] == 0 and doc["completed"] >= cases and doc["convention"] == convention
    assert f"({convention} convention)" in doc["subject"]
    return doc


HEAVY_ONLY = {"keras-tf", "mlx-1d", "mlx-3d"}  # the default run keeps one per framework


@pytest.mark.parametrize("name,impl,convention,options,env", [
    pytest.param(*o, marks=pytest.mark.heavy) if o[0] in HEAVY_ONLY else o for o in OPS], ids=[o[0] for o in OPS])
def test_the_frameworks_own_op_passes(name, impl, convention, options, env):
    if name == "mlx-2d-float64":
        pytest.importorskip("mlx.core")
        # MLX's CPU convolution has no float64: every case fails with MLX's own message, not ours
        result = run("--impl", impl, "--convention", convention, "--cases", "3", *options, "--json")
        doc = json.loads(result.stdout)
        assert result.exit_code == 1 and all("unsupported data type" in c["smallest"]["message"]
                                             for c in doc["clusters"] if c["kind"] == "exception")
        return
    doc = _check_op(impl, convention, options, env, 4)
    if "CONVT_MAX_BYTES" in env:  # what it held after loading + 1 GiB
        assert doc["isolation"]["memory_limit_bytes"] < 1024**3 + 1024**3


@pytest.mark.heavy
@pytest.mark.parametrize("name,impl,convention,options,env", [o for o in OPS if o[0] != "mlx-2d-float64"],
                         ids=[o[0] for o in OPS if o[0] != "mlx-2d-float64"])
def test_the_frameworks_own_op_passes_a_hundred_cases(name, impl, convention, options, env):
    _check_op(impl, convention, options, env, 100)


def test_onnx_reference_is_one_bug_groups():
    pytest.importorskip("onnx")
    result = run("--impl", f"{WRAPPERS}:onnx_reference", "--convention", "onnx", "--cases", "60", "--json")
    doc = json.loads(result.stdout)
    assert result.exit_code == 1
    clusters = doc["clusters"]
    assert len(clusters) == 1, [(c["signature"], c["features"]) for c in clusters]
    (cluster,) = clusters
    assert cluster["features"] == ["groups"] and cluster["explained"]
    assert cluster["other_signatures"]  # exception texts that vary with the shapes: merged
    failing = {f["case"] for f in doc["failures"] if f["kind"] == "forward"}
    assert cluster["count"] == len(failing)
    assert all(" g=1" not in case for case in failing)  # every failure has groups > 1
    rate = cluster["rates"][0]
    assert rate["without_failed"] == 0 and rate["with_failed"] == cluster["count"]
    # some cases with groups > 1 pass: "every case with groups > 1" would be false, and is not said
    assert rate["with_cases"] > rate["with_failed"] and not cluster["everywhere"]
    text = run("--impl", f"{WRAPPERS}:onnx_reference", "--convention", "onnx", "--cases", "60",
               env={"COLUMNS": "200"}).stdout
    assert "Diagnosis: one cluster" in text and f"in {cluster['count']} cases with groups > 1" in text
    assert "in every case" not in text


def test_onnx_reference_passes_without_groups():
    pytest.importorskip("onnx")
    result = run("--impl", f"{WRAPPERS}:onnx_reference", "--convention", "onnx", "--cases", "12", "--skip",
                 "groups", "--json")
    assert result.exit_code == 0, result.stdout


def test_a_passing_case_with_the_features_of_a_one_case_cluster_is_not_every_case():
    # the pair: the same case passes with g=1 and fails with g=2
    pytest.importorskip("onnx")
    ok = run("--case", "2d x=2x4x1x1 w=4x2x1x2 s=1 p=0 op=0 d=1 g=1", "--impl", f"{WRAPPERS}:onnx_reference",
             "--convention", "onnx")
    bad = run("--case", "2d x=2x4x1x1 w=4x2x1x2 s=1 p=0 op=0 d=1 g=2", "--impl", f"{WRAPPERS}:onnx_reference",
              "--convention", "onnx")
    assert ok.exit_code == 0 and bad.exit_code == 1


def test_every_impl_named_in_help_and_docs_exists():
    import importlib
    import re

    from convt_cli.commands.verify import HELP

    help_text = run("--help", env={"COLUMNS": "400"}).stdout + HELP
    docs = (Path(__file__).parents[1] / "docs" / "verify-conventions.md").read_text(encoding="utf-8")
    named = set(re.findall(r"([a-z_][\w.]*):([A-Za-z_][\w.]*)", help_text + docs))
    modules = {(m, f) for m, f in named if not m.endswith(".py") and m.split(".")[0] in
               ("tensorflow", "keras", "jax", "mlx", "tinygrad")}
    assert {("tensorflow.nn", "conv_transpose"), ("keras.ops", "conv_transpose"), ("jax.lax", "conv_transpose"),
            ("mlx.core", "conv_transpose2d"), ("tinygrad", "Tensor.conv_transpose2d")} <= modules
    os.environ.setdefault("DEV", "PYTHON")  # tinygrad picks its device at import; no C compiler here
    os.environ.setdefault("KERAS_BACKEND", "jax")  # keras fixes its backend at import (as the port tests)
    for module, func in sorted(modules):
        try:
            obj = importlib.import_module(module)
        except ImportError:
            continue
        for part in func.split("."):
            obj = getattr(obj, part)  # AttributeError: the help names a function that does not exist
        assert callable(obj)
