"""Hostile layer text for `convt port` (issue classes 1-4), each run as a subprocess under a time bound
and an address-space limit (tests/hostile.py): the right answer or one ``Error:`` line with exit 1/2;
never exit 3, a traceback, a warning line, or a file written outside the target."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from hostile import ROOT, assert_answer_or_error, assert_bounded, error_lines, run_convt, run_python

PWNED = "ConvTranspose2d(1, 1, 2, device='\"\"\";import os;os.system(\"touch PWNED\");\"\"\"')"
CHECK_AS = 8 * 1024**3  # the parent only; the sandbox's child is bounded by its own resident-memory watch
CHECK_TIMEOUT = 300.0


def _nothing_written(cwd: Path) -> None:
    assert list(cwd.iterdir()) == [], f"files written in the working directory: {list(cwd.iterdir())}"
    assert not (ROOT / "PWNED").exists()


def _no_warning(outcome) -> None:
    assert "Warning" not in outcome.stderr and "warn" not in outcome.stderr.lower(), outcome.describe()


# ---- class 1: code in the layer text never runs, never reaches the snippet ---------------------------------

def test_class1_layer_text_is_never_code(tmp_path):
    out = run_convt(["port", PWNED, "--to", "onnx", "--check"], cwd=tmp_path, timeout=CHECK_TIMEOUT, as_bytes=CHECK_AS)
    assert_answer_or_error(out, expect="answer")
    assert "✓" in out.stdout.split("Check")[-1], out.describe()
    _nothing_written(tmp_path)
    for text in (PWNED, "ConvTranspose2d(1, 1, 2, device=r'\\N')", "ConvTranspose2d(1, 1, 2, dtype='\\'\\'\\'')"):
        emitted = run_convt(["port", text, "--to", "torch", "--emit", "python"], cwd=tmp_path)
        assert_answer_or_error(emitted, expect="answer")
        compile(emitted.stdout, "<snippet>", "exec")
        assert "device" not in emitted.stdout and "PWNED" not in emitted.stdout and "\\N" not in emitted.stdout
    _nothing_written(tmp_path)


# ---- class 2: each framework's words with its own types, anything else refused naming the rule -------------

REFUSED = [
    (["kernel_shape=3", "--from", "onnx"], "must be a list of integers"),
    (["kernel_shape='abc'", "--from", "onnx"], "must be a list of integers"),
    (["kernel_shape=[-3, 3]", "--from", "onnx"], "must be positive"),
    (["kernel_shape=[3], strides=[2], kernel_shape=[4]", "--from", "onnx"], "twice"),
    (["ConvTranspose(4, kernel_size=3.0)", "--from", "flax"], "must be an integer or a tuple of integers"),
    (["ConvTranspose(4, kernel_size=(3, 3, 3, 3))", "--from", "flax"], "4 spatial dims"),
    (["ConvTranspose(4, kernel_size=())", "--from", "flax"], "0 spatial dims"),
    (["tf.nn.conv2d_transpose(x, w, output_shape=4, strides=2)", "--from", "tf", "--weight-shape", "3x3x2x2"],
     "output_shape=4 must be a sequence of integers"),
    (["Conv2d(1, 1, 2)", "--to", "jax"], "a forward convolution is not a transposed one"),
    (["lax.conv_general_dilated(x, w, (1, 1), 'SAME')", "--from", "jax", "--weight-shape", "3x3x1x1"],
     "no transposed convolution named 'conv_general_dilated'"),
    (["ConvTranspose2d(1, 1, kernel_size=b'3')"], "kernel_size=b'3' must be an integer"),
    (["ConvTranspose2d(1, 1, kernel_size={2: 3, 4: 5})"], "must be an integer or a tuple"),
    (["ConvTranspose2d(1, 1, 3, stride=2, stride=1)"], "got 'stride' twice"),
    (["ConvTranspose2d(4, 4, 3)", "--from", "keras"], "Keras has no transposed convolution named 'ConvTranspose2d'"),
    (["Conv2DTranspose(4, 3, 2, 'same', None, None, 1, None, True, None, None, None, None, None, None, None, 'n')",
      "--from", "keras"], "at most 16 positional arguments"),
    (["mx.conv_transpose1d(x, w, stride=(2,))", "--from", "mlx", "--weight-shape", "2x3x2"], "must be an integer"),
    (["mx.conv_transpose2d(input=x, weight=w)", "--from", "mlx", "--weight-shape", "2x3x3x2"], "positional-only"),
    (["ConvTranspose2d(1, 1, 2, bias=1)"], "bias=1 must be True or False"),
    (["Conv2DTranspose(4, 3, padding='full')", "--from", "keras"], "must be one of 'valid', 'same'"),
    (["ConvTranspose2d(True, 1, 2)"], "in_channels=True must be an integer"),
]


@pytest.mark.parametrize(("args", "words"), REFUSED, ids=[a[0][0][:40] for a in REFUSED])
def test_class2_strict_parsers(args, words, tmp_path):
    out = run_convt(["port", *args], cwd=tmp_path)
    assert_answer_or_error(out, expect="error", words=(words,))
    _no_warning(out)
    _nothing_written(tmp_path)


def test_class2_callers_share_the_parser(tmp_path):
    """show/shape --layer read the layer with the same binder."""
    for cmd in (["shape", "8", "--layer", "ConvTranspose2d(1, 1, kernel_size=b'3')"],
                ["show", "--layer", "Conv2d(1, 1, 2)", "--no-torch"]):
        out = run_convt(cmd, cwd=tmp_path)
        assert_answer_or_error(out, expect="error")
    _nothing_written(tmp_path)


# ---- class 3: huge sizes in layer text: one Error line, never an int64 product ------------------------------

@pytest.mark.parametrize("text", ["ConvTranspose2d(1, 1, kernel_size=(3037000500, 3037000500))",
                                  "ConvTranspose3d(1, 1, kernel_size=99999999999999999999999999999)"])
def test_class3_huge_sizes(text, tmp_path):
    for extra in ([], ["--to", "keras", "--emit", "python"], ["--to", "jax", "--json"]):
        out = run_convt(["port", text, *extra], cwd=tmp_path)
        assert_answer_or_error(out, expect="error", words=("memory budget",))
    _nothing_written(tmp_path)


def test_class3_huge_channels_port_without_allocating(tmp_path):
    """Channels do not change the crops: the port is answered (proof on fewer channels); --check, which runs
    the layer's own channels, is refused by the budget before anything is allocated."""
    text = "ConvTranspose1d(99999999999999999999, 1, 3)"
    assert_answer_or_error(run_convt(["port", text, "--to", "jax"], cwd=tmp_path), expect="answer")
    out = run_convt(["port", text, "--to", "torch", "--check"], cwd=tmp_path)
    assert_answer_or_error(out, expect="error", words=("memory budget",))
    _nothing_written(tmp_path)


# ---- class 4: --check never dies inside the framework ---------------------------------------------------------

XLA_ABORT = "ConvTranspose2d(1, 1, kernel_size=(2, 9), stride=(2, 3), padding=(1, 4))"


@pytest.mark.parametrize("target", ["keras", "jax"])
def test_class4_xla_abort_layer_is_ported_to_what_runs(target, tmp_path):
    out = run_convt(["port", XLA_ABORT, "--to", target, "--check", "--json"], cwd=tmp_path, timeout=CHECK_TIMEOUT,
                    as_bytes=CHECK_AS, env={"KERAS_BACKEND": "jax"})
    assert_answer_or_error(out, expect="answer")
    data = json.loads(out.stdout)
    assert data["check"]["ok"] is True and data["check"]["max_abs_diff"] < 1e-4, data
    assert data["status"] == "extra"  # one slice: the exact arguments abort XLA on an 8-wide input
    _nothing_written(tmp_path)


def test_class4_a_crash_in_the_snippet_is_a_reported_failure(tmp_path):
    code = ("import sys\nimport convt_cli.port.emit as emit\n"
            "emit.snippet = lambda p, fw: 'import os\\nos.abort()\\n'\n"
            "from convt_cli.__main__ import main\n"
            "sys.argv = ['convt', 'port', 'ConvTranspose2d(1, 1, 2)', '--to', 'torch', '--check']\nmain()\n")
    out = run_python(code, cwd=tmp_path, timeout=CHECK_TIMEOUT, as_bytes=CHECK_AS)
    assert_bounded(out)
    assert out.returncode == 1, out.describe()
    lines = error_lines(out)
    assert len(lines) == 1 and "did not run" in lines[0] and "SIGABRT" in lines[0], out.describe()
    assert "✗" in out.stdout, out.describe()
    _nothing_written(tmp_path)


def test_class4_broken_framework_environment_is_an_error(tmp_path):
    out = run_convt(["port", "ConvTranspose2d(1, 1, 2)", "--to", "jax", "--check"], cwd=tmp_path,
                    timeout=CHECK_TIMEOUT, as_bytes=CHECK_AS, env={"JAX_PLATFORMS": "tpu"})
    assert_bounded(out)
    assert out.returncode == 1 and "tpu" in error_lines(out)[0], out.describe()
    out = run_convt(["port", "ConvTranspose2d(1, 1, 2)", "--to", "keras", "--check"], cwd=tmp_path,
                    env={"KERAS_BACKEND": "theano"})
    assert_answer_or_error(out, expect="error", words=("KERAS_BACKEND='theano'",))
    _nothing_written(tmp_path)


@pytest.mark.parametrize(("target", "module", "extra"), [("tf", "tensorflow", "tf"), ("mlx", "mlx", "mlx"),
                                                         ("flax", "flax", "flax"), ("keras", "tensorflow", "tf")])
def test_class4_missing_framework_names_the_extra(target, module, extra, tmp_path):
    """As if the framework were not installed (find_spec says so): the message names the extra that installs it."""
    code = ("import importlib.util, sys\nreal = importlib.util.find_spec\n"
            f"importlib.util.find_spec = lambda n, *a: None if n.split('.')[0] == {module!r} else real(n, *a)\n"
            "from convt_cli.__main__ import main\n"
            f"sys.argv = ['convt', 'port', 'ConvTranspose2d(1, 1, 2)', '--to', {target!r}, '--check']\nmain()\n")
    env = {"KERAS_BACKEND": "tensorflow"} if target == "keras" else None
    out = run_python(code, cwd=tmp_path, env=env)
    assert_answer_or_error(out, expect="error", words=(f"pip install 'convt[{extra}]'", module))
    _nothing_written(tmp_path)


def test_extras_exist_in_pyproject():
    text = (ROOT / "pyproject.toml").read_text()
    for line in ('tf = ["tensorflow-cpu>=2.16"]', 'mlx = ["mlx[cpu]>=0.25"]', 'flax = ["flax>=0.10"]',
                 'tinygrad = ["tinygrad>=0.10"]'):
        assert line in text
    assert os.path.exists(ROOT / "convt_cli" / "port" / "check.py")
