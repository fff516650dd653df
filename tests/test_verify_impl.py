"""`convt verify --impl`: deliberately wrong implementations fail, naming the feature; a correct one passes.

The functions at the top follow the --impl contract and are loaded by path
(``tests/test_verify_impl.py:NAME``), exactly as a user's file would be. ``gather_conv_transpose`` is an
independent implementation (the gather view of FACTS.md §1: insert zeros, pad, correlate with the
rotated kernel) — it shares no code with convt's scatter engine.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from convt_cli.cli import app
from convt_cli.engine import conv_transpose

HERE = Path(__file__).resolve()
runner = CliRunner()


# ---------------------------------------------------------------------------------------------------
# Implementations under the contract: FUNC(x, weight, bias, *, stride, padding, output_padding, dilation, groups)
# ---------------------------------------------------------------------------------------------------


def gather_conv_transpose(x, weight, bias, *, stride, padding, output_padding, dilation, groups):
    """Correct, and independent of the engine: zero insertion + padding + correlation, rotated kernel."""
    nd = weight.ndim - 2
    n, c_in = x.shape[:2]
    spatial, kernel = x.shape[2:], weight.shape[2:]
    cig, cog = c_in // groups, weight.shape[1]
    # 1. stride - 1 zeros between input elements
    up = np.zeros((n, c_in) + tuple((i - 1) * s + 1 for i, s in zip(spatial, stride)), dtype=x.dtype)
    up[(slice(None), slice(None)) + tuple(slice(None, None, s) for s in stride)] = x
    # 2. d*(k-1) - p zeros at both ends (+ output_padding at the far end); negative amounts crop
    for axis, (k, p, op, d) in enumerate(zip(kernel, padding, output_padding, dilation), start=2):
        before, after = d * (k - 1) - p, d * (k - 1) - p + op
        pads = [(0, 0)] * up.ndim
        pads[axis] = (max(before, 0), max(after, 0))
        up = np.pad(up, pads)
        stop = up.shape[axis] - max(-after, 0)
        up = up[(slice(None),) * axis + (slice(max(-before, 0), stop),)]
    # 3. an ordinary stride-1 correlation with the dilated, 180°-rotated kernel
    window = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation))
    axes = tuple(range(2, 2 + nd))
    win = np.lib.stride_tricks.sliding_window_view(up, window, axis=axes)
    win = win[(Ellipsis,) + tuple(slice(None, None, d) for d in dilation)]  # (n, c_in, *out, *k)
    out_sp = win.shape[2:2 + nd]
    win = win.reshape((n, groups, cig) + out_sp + (-1,))
    wf = np.flip(weight, axis=axes).reshape(groups, cig, cog, -1)
    out = np.einsum("ngc...k,gcok->ngo...", win, wf).reshape((n, groups * cog) + out_sp)
    if bias is not None:
        out = out + np.asarray(bias).reshape((1, -1) + (1,) * nd)
    return out


def rotated_kernel(x, weight, bias, *, stride, padding, output_padding, dilation, groups):
    """Wrong: uses the kernel rotated by 180° (the gather view's kernel, in the scatter view)."""
    axes = tuple(range(2, weight.ndim))
    return conv_transpose(x, np.flip(weight, axis=axes), bias, stride, padding, output_padding, dilation, groups)


def output_padding_zeros(x, weight, bias, *, stride, padding, output_padding, dilation, groups):
    """Wrong: the output_padding positions are zeros (+ bias), not the computed values (pytorch#8816)."""
    out = conv_transpose(x, weight, None, stride, padding, 0, dilation, groups)
    out = np.pad(out, [(0, 0), (0, 0)] + [(0, op) for op in output_padding])
    if bias is not None:
        out = out + bias.reshape((1, -1) + (1,) * (weight.ndim - 2))
    return out


def first_group_bias(x, weight, bias, *, stride, padding, output_padding, dilation, groups):
    """Wrong: every group adds the first group's bias slice."""
    out = conv_transpose(x, weight, None, stride, padding, output_padding, dilation, groups)
    if bias is not None:
        b = np.tile(bias[: weight.shape[1]], groups)
        out = out + b.reshape((1, -1) + (1,) * (weight.ndim - 2))
    return out


def first_image_only(x, weight, bias, *, stride, padding, output_padding, dilation, groups):
    """Wrong: computes only the first image of the batch; the others stay zero."""
    first = conv_transpose(x[:1], weight, bias, stride, padding, output_padding, dilation, groups)
    out = np.zeros((x.shape[0],) + first.shape[1:])
    out[:1] = first
    return out


def dilation_ignored_when_strided(x, weight, bias, *, stride, padding, output_padding, dilation, groups):
    """Wrong: drops the dilation whenever the stride is > 1."""
    if any(s > 1 for s in stride):
        dilation = (1,) * len(stride)
        output_padding = tuple(min(op, s - 1) for op, s in zip(output_padding, stride))
    return conv_transpose(x, weight, bias, stride, padding, output_padding, dilation, groups)


def raises(x, weight, bias, **kwargs):
    raise ValueError("my kernel only handles 2-d")


def returns_none(x, weight, bias, **kwargs):
    return None


def drops_last_row(x, weight, bias, **kwargs):
    return gather_conv_transpose(x, weight, bias, **kwargs)[..., :-1]


def chatty_exit(x, weight, bias, **kwargs):
    print("debug print from the user's function")
    sys.exit(3)


def returns_nan(x, weight, bias, **kwargs):
    out = gather_conv_transpose(x, weight, bias, **kwargs)
    out.flat[0] = np.nan
    return out


_calls = {"n": 0}


def interrupt_on_40th_call(x, weight, bias, **kwargs):
    _calls["n"] += 1
    if _calls["n"] == 40:
        raise KeyboardInterrupt
    return gather_conv_transpose(x, weight, bias, **kwargs)


def two_d_only(x, weight, bias, **kwargs):
    if weight.ndim != 4:
        raise NotImplementedError("2-d only")
    return gather_conv_transpose(x, weight, bias, **kwargs)


NOT_A_FUNCTION = 42


def wrong_signature(x, weight):
    return x


# ---------------------------------------------------------------------------------------------------
# Tests
# ---------------------------------------------------------------------------------------------------


def impl(name: str) -> str:
    return f"{HERE}:{name}"


def run(*args: str):
    return runner.invoke(app, ["verify", *args], env={"COLUMNS": "120"})


def plain(text: str) -> str:
    """Click/Rich usage-error panels without their box characters and line breaks."""
    return " ".join(text.translate({ord(c): " " for c in "│╭╮╰╯─"}).split())


def test_the_gather_implementation_agrees_with_the_engine_on_a_hand_case():
    # Independent check of the helper itself on the explainer's 2x2 example (FACTS.md §1).
    x = np.array([[[[1.0, 2.0], [3.0, 4.0]]]])
    w = np.array([[[[1.0, 0.0], [0.0, 1.0]]]])
    out = gather_conv_transpose(x, w, None, stride=(2, 2), padding=(0, 0), output_padding=(0, 0),
                                dilation=(1, 1), groups=1)
    assert out[0, 0].tolist() == [[1, 0, 2, 0], [0, 1, 0, 2], [3, 0, 4, 0], [0, 3, 0, 4]]


def test_a_correct_independent_implementation_passes_the_default_sweep():
    result = run("--impl", impl("gather_conv_transpose"))
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "All 612 cases passed" in result.stdout  # 600 forward + 12 adjoint; no error parity for --impl
    assert HERE.name in result.stdout


def test_the_engine_through_the_module_form_passes():
    result = run("--impl", "convt_cli.engine:conv_transpose", "--cases", "60", "--json")
    assert result.exit_code == 0, result.stdout
    report = json.loads(result.stdout)
    assert report["ok"] and report["subject"] == "convt_cli.engine:conv_transpose"
    assert report["completed"] == 60 + 12


WRONG = [
    # (function, the feature(s) the report must name, a feature that must NOT be named)
    ("rotated_kernel", ["kernel_gt1"], "bias"),
    ("output_padding_zeros", ["output_padding", "padding"], "groups"),
    ("first_group_bias", ["groups", "bias"], "output_padding"),
    ("first_image_only", ["batch_gt1"], "groups"),
    ("dilation_ignored_when_strided", ["dilation", "stride_gt1"], "bias"),
]


@pytest.mark.parametrize("name,features,not_named", WRONG)
def test_each_wrong_implementation_fails_naming_the_feature(name, features, not_named):
    result = run("--impl", impl(name), "--cases", "150", "--json")
    assert result.exit_code == 1, result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert not report["ok"] and report["failed"] > 0
    for feature in features:
        assert feature in report["suspects"], (name, report["suspects"])
    assert not_named not in report["suspects"]
    rows = {row["feature"]: row for row in report["features"]}
    for feature in features:
        assert rows[feature]["failed"] > 0
    # every failure carries its reproducer, naming the same impl
    assert all(f"--impl {HERE}:{name}" in f["reproduce"] for f in report["failures"])


def test_the_human_report_names_the_feature_in_plain_words():
    result = run("--impl", impl("first_image_only"), "--cases", "100")
    assert result.exit_code == 1
    assert "Failures point at: batch > 1, adjoint identity." in result.stdout  # the adjoint cases hold N = 2
    assert "convt verify --case \"" in result.stdout


def test_wrong_adjoint_is_caught():
    result = run("--impl", impl("rotated_kernel"), "--cases", "3", "--json")
    report = json.loads(result.stdout)
    assert "adjoint" in report["suspects"]
    adjoint = [f for f in report["failures"] if f["kind"] == "adjoint"]
    assert adjoint and all("<conv(a,w),b>" in f["message"] for f in adjoint)


@pytest.mark.parametrize("name,fragment", [
    ("raises", "ValueError: my kernel only handles 2-d"),
    ("returns_none", "returned None"),
    ("drops_last_row", "differs from PyTorch's"),
    ("chatty_exit", "SystemExit: 3"),
    ("returns_nan", "expected"),
])
def test_a_misbehaving_function_is_a_failed_case_never_a_crash(name, fragment):
    result = run("--impl", impl(name), "--cases", "5", "--json")
    assert result.exit_code == 1, result.stdout + result.stderr
    report = json.loads(result.stdout)  # the user's prints did not reach stdout
    assert report["failed"] == report["completed"] == 5 + 12
    assert fragment in report["failures"][0]["message"]


def test_nan_is_reported_as_nan_in_json_and_text():
    result = run("--impl", impl("returns_nan"), "--cases", "3", "--json")
    rows = {row["feature"]: row for row in json.loads(result.stdout)["features"]}
    assert rows["all"]["max_abs_err"] == "nan"
    text = run("--impl", impl("returns_nan"), "--cases", "3")
    assert text.exit_code == 1 and "nan" in text.stdout


def test_restricting_dims_lets_a_2d_only_function_pass():
    assert run("--impl", impl("two_d_only"), "--cases", "20").exit_code == 1
    result = run("--impl", impl("two_d_only"), "--cases", "20", "--dims", "2")
    assert result.exit_code == 0, result.stdout


def test_ctrl_c_prints_the_summary_of_what_completed_and_exits_130():
    _calls["n"] = 0
    result = run("--impl", impl("interrupt_on_40th_call"))
    assert result.exit_code == 130, result.stdout + result.stderr
    assert "Interrupted after 39 of 612 cases" in result.stdout
    assert "All 39 cases passed" in result.stdout


def test_ctrl_c_with_json_still_prints_a_valid_report():
    _calls["n"] = 0
    result = run("--impl", impl("interrupt_on_40th_call"), "--json")
    assert result.exit_code == 130
    report = json.loads(result.stdout)
    assert report["interrupted"] and report["completed"] == 39 and not report["ok"]


@pytest.mark.parametrize("target,fragment", [
    ("no_such_module_xyz:f", "no module named 'no_such_module_xyz'"),
    ("tests/no_such_file.py:f", "does not exist"),
    (f"{HERE}:no_such_function", "has no attribute 'no_such_function'"),
    (f"{HERE}:NOT_A_FUNCTION", "is a int, not a function"),
    (f"{HERE}:wrong_signature", "cannot be called as FUNC(x, weight, bias, *, stride"),
    ("convt_cli.engine", "must be MODULE:FUNC or path/to/file.py:FUNC"),
])
def test_an_impl_that_cannot_be_loaded_is_a_usage_error(target, fragment):
    result = run("--impl", target, "--cases", "1")
    assert result.exit_code == 2, result.stdout + result.stderr
    assert fragment in plain(result.stderr)
    assert "Traceback" not in result.stderr


def test_an_impl_file_that_fails_to_import_is_a_usage_error(tmp_path):
    bad = tmp_path / "broken.py"
    bad.write_text("import numpy as np\nraise RuntimeError('boom at import')\n")
    result = run("--impl", f"{bad}:f", "--cases", "1")
    assert result.exit_code == 2
    assert "RuntimeError: boom at import" in plain(result.stderr)
    syntax = tmp_path / "syntax.py"
    syntax.write_text("def f(:\n")
    result = run("--impl", f"{syntax}:f", "--cases", "1")
    assert result.exit_code == 2 and "SyntaxError" in result.stderr


def test_invalid_case_with_impl_fails_plainly():
    result = run("--impl", impl("gather_conv_transpose"), "--case", "2d x=1x2x5x5 w=2x1x3x3 s=2 op=2")
    assert result.exit_code == 1
    assert "PyTorch rejects this configuration" in result.stdout
