"""`convt verify --impl`: wrong implementations are diagnosed by name, a correct one passes, and nothing a
checked function does takes convt down.

The implementations live in ``tests/wrong_impls.py`` and are loaded by path, exactly as a user's file
would be; each wrong one has one known bug (two for ``two_bugs``), named in its docstring.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner
from wrong_impls import gather_conv_transpose

from convt_cli.cli import app

HERE = Path(__file__).resolve()
IMPLS = HERE.parent / "wrong_impls.py"
ROOT = HERE.parent.parent
runner = CliRunner()


def impl(name: str) -> str:
    return f"{IMPLS}:{name}"


def run(*args: str, env: dict[str, str] | None = None):
    return runner.invoke(app, ["verify", *args], env={"COLUMNS": "120", "CONVT_LANG": "en", **(env or {})})


def plain(text: str) -> str:
    """Click/Rich usage-error panels without their box characters and line breaks."""
    return " ".join(text.translate({ord(c): " " for c in "│╭╮╰╯─"}).split())


def test_the_gather_implementation_agrees_with_the_engine_on_a_hand_case():
    # Independent check of the helper itself on the explainer's 2x2 example.
    x = np.array([[[[1.0, 2.0], [3.0, 4.0]]]])
    w = np.array([[[[1.0, 0.0], [0.0, 1.0]]]])
    out = gather_conv_transpose(x, w, None, stride=(2, 2), padding=(0, 0), output_padding=(0, 0),
                                dilation=(1, 1), groups=1)
    assert out[0, 0].tolist() == [[1, 0, 2, 0], [0, 1, 0, 2], [3, 0, 4, 0], [0, 3, 0, 4]]


def test_a_correct_independent_implementation_passes_the_default_sweep():
    result = run("--impl", impl("gather_conv_transpose"))
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "All 612 cases passed" in result.stdout  # 600 forward + 12 adjoint; no error parity for --impl
    assert IMPLS.name in result.stdout and "runs in a worker process" in result.stdout


def test_the_engine_through_the_module_form_passes():
    result = run("--impl", "convt_cli.engine:conv_transpose", "--cases", "60", "--json")
    assert result.exit_code == 0, result.stdout
    report = json.loads(result.stdout)
    assert report["ok"] and report["subject"] == "convt_cli.engine:conv_transpose"
    assert report["completed"] == 60 + 12 and report["clusters"] == []
    assert report["isolation"]["timeout_s"] == 10 and report["isolation"]["memory_limit_bytes"] > 0


# --- every wrong implementation, diagnosed by name ---------------------------------------------------

WRONG = [
    # (function, options, [(failure kind, features the cluster must name)] — one entry per expected cause);
    # the hang, the segfault, the input written into and the memory blow-up have their own tests below
    ("rotated_kernel", ["--cases", "40"], [("values", {"kernel_gt1"})]),
    ("output_padding_zeros", ["--cases", "80"], [("values", {"output_padding", "padding"})]),
    ("first_group_bias", ["--cases", "60"], [("values", {"groups", "bias"})]),
    ("first_image_only", ["--cases", "40"], [("values", {"batch_gt1"})]),
    ("kernel_axes_swapped_3d", ["--cases", "60", "--dims", "2,3"], [("values", {"dims_3"})]),
    ("dilation_ignored_when_strided", ["--cases", "80"], [("shape", {"dilation", "stride_gt1"})]),
    ("onnx_reference", ["--cases", "150"], [("values", {"groups"}), ("exception", {"output_padding_dilation"})]),
    ("two_bugs", ["--cases", "60"], [("values", {"groups"}), ("values", {"bias"})]),
    ("raises_for_big_padding", ["--cases", "60"], [("exception", {"padding_beyond_kernel"})]),
]


@pytest.mark.parametrize("name,options,causes", WRONG, ids=[w[0] for w in WRONG])
def test_each_wrong_implementation_is_diagnosed_by_name(name, options, causes):
    result = run("--impl", impl(name), *options, "--json")
    assert result.exit_code == 1, result.stdout + result.stderr
    report = json.loads(result.stdout)
    clusters = report["clusters"]
    for kind, features in causes:
        matching = [c for c in clusters if kind in c["kinds"] and features <= set(c["features"])]
        assert matching, (name, kind, features, [(c["kind"], c["features"]) for c in clusters])
        for c in matching:
            smallest = c["smallest"]
            assert smallest["reproduce"].startswith(f'convt verify --case "{smallest["case"]}" --impl ')
            assert c["count"] >= 1 and all(r["with_failed"] <= r["with_cases"] for r in c["rates"])
    # the adjoint identity and the size formula are never named as a cause
    assert all(k not in report["suspects"] for k in ("adjoint", "size_formula", "error_parity"))
    named = {f for c in clusters for f in c["features"]}
    assert set(report["suspects"]) == named
    # every failure carries its reproducer, naming the same impl
    assert all(f"--impl {IMPLS}:{name}" in f["reproduce"] for f in report["failures"])


def cluster_named(report: dict, kind: str, features: set[str]) -> bool:
    return any(c["kind"] == kind and features <= set(c["features"]) for c in report["clusters"])


def test_two_independent_bugs_are_two_clusters_measured_alone():
    report = json.loads(run("--impl", impl("two_bugs"), "--cases", "60", "--json").stdout)
    values = [c for c in report["clusters"] if c["kind"] == "values"]
    assert sorted(tuple(c["features"]) for c in values) == [("bias",), ("groups",)]
    for c in values:
        (rate,) = c["rates"]
        assert rate["with_failed"] == rate["with_cases"] == c["count"] and rate["without_failed"] == 0
        assert c["everywhere"]


def test_a_global_bug_says_so_and_the_adjoint_is_a_consequence():
    result = run("--impl", impl("first_image_only"), "--cases", "40")
    assert result.exit_code == 1
    assert "1. wrong values in every case with batch > 1 (" in result.stdout
    assert "batch ≤ 1: 0 of " in result.stdout
    result = run("--impl", impl("rotated_kernel"), "--cases", "40")
    out = result.stdout
    assert "1. wrong values in " in out and " cases with kernel > 1" in out  # one case's crop hides the bug
    assert "kernel > 1: " in out and "kernel = 1: 0 of " in out
    assert "Also failed, as a consequence of the failures above (not a cause): adjoint identity" in out
    assert "expected: [" in out and "actual: [" in out  # the shrunk case is small enough to print
    assert "shrunk from " in out


def test_the_smallest_case_is_shrunk_and_its_reproducer_fails_the_same_way():
    doc = json.loads(run("--impl", impl("first_image_only"), "--cases", "30", "--json").stdout)
    (cluster,) = doc["clusters"]
    smallest = cluster["smallest"]
    from convt_cli.verify import CaseSpec

    spec = CaseSpec.parse(smallest["case"])
    assert spec.batch == 2 and spec.in_channels == 1 and spec.w_shape[1] == 1  # nothing left to shrink
    assert sum(spec.spatial) == spec.ndim and sum(spec.kernel) == spec.ndim
    again = run("--case", smallest["case"], "--impl", impl("first_image_only"), "--json")
    assert again.exit_code == 1
    assert json.loads(again.stdout)["failures"][0]["failure"] == "values"
    assert smallest["expected"] is not None and len(np.ravel(smallest["expected"])) <= 36


def test_a_single_channel_case_gets_a_show_hint():
    result = run("--impl", impl("rotated_kernel"), "--cases", "40", env={"COLUMNS": "300"})
    hint = next(line for line in result.stdout.splitlines() if "draw it: " in line).split("draw it: ")[1]
    assert hint.startswith("convt show -i ") and " -k " in hint and " -s " in hint
    import shlex

    shown = runner.invoke(app, shlex.split(hint)[1:] + ["--no-torch", "--max-steps", "1"], env={"COLUMNS": "120"})
    assert shown.exit_code == 0, shown.stdout + shown.stderr


def test_the_text_report_shows_an_exception_cluster_beside_a_values_cluster():
    # onnx.reference: one group bug (wrong values and exceptions whose text varies with the shapes: one
    # cluster) and a ValueError for output_padding ≥ stride; both in the text report.
    result = run("--impl", impl("onnx_reference"), "--cases", "150", env={"COLUMNS": "200"})
    out = result.stdout
    assert "Diagnosis: 2 clusters" in out and "ValueError: " in out
    assert "other ways of failing) in 53 cases with groups > 1" in out
    assert "output_padding ≥ stride: " in out and "groups > 1: " in out


# --- isolation: nothing a function does takes convt down ----------------------------------------------


@pytest.mark.parametrize("name,fragment", [
    ("raises", "ValueError: my kernel only handles 2-d"),
    ("returns_none", "returned None"),
    ("drops_last_row", "differs from PyTorch's"),
    ("chatty_exit", "SystemExit: 3"),
    ("returns_nan", "expected"),
    ("exits_quietly", "exit status 0 before answering"),
    ("unprintable_exception", "_BadMessage: (its message could not be read: str() raised RuntimeError)"),
    ("generator_exit", "GeneratorExit"),
])
def test_a_misbehaving_function_is_a_failed_case_never_a_crash(name, fragment):
    result = run("--impl", impl(name), "--cases", "1", "--dims", "1", "--json")
    assert result.exit_code == 1, result.stdout + result.stderr
    report = json.loads(result.stdout)  # the user's prints did not reach stdout
    assert report["failed"] == report["completed"] == 1 + 4 and not report["ok"]
    assert fragment in report["failures"][0]["message"]


def test_a_hang_is_stopped_and_the_sweep_goes_on():
    result = run("--impl", impl("hangs_on_batches"), "--cases", "10", "--dims", "1", "--timeout", "0.5", "--json")
    report = json.loads(result.stdout)
    assert result.exit_code == 1 and report["completed"] == report["planned"]
    hung = [f for f in report["failures"] if f["failure"] == "timeout"]
    assert hung and all("no answer within 0.5 s (--timeout)" in f["message"] for f in hung)
    assert report["passed"] > 0  # the cases after a hang ran in a fresh worker
    assert cluster_named(report, "timeout", {"batch_gt1"})


def test_a_segfault_is_a_failed_case_and_the_sweep_goes_on():
    report = json.loads(run("--impl", impl("segfaults_with_groups"), "--cases", "6", "--dims", "1", "--json").stdout)
    crashed = [f for f in report["failures"] if f["failure"] == "crash"]
    assert crashed and all("segmentation fault (SIGSEGV)" in f["message"] for f in crashed)
    assert report["passed"] > 0 and report["completed"] == report["planned"]
    assert cluster_named(report, "crash", {"groups"})


def test_writing_into_an_input_is_detected():
    report = json.loads(run("--impl", impl("mutates_input_with_bias"), "--cases", "10", "--dims", "1",
                            "--json").stdout)
    mutated = [f for f in report["failures"] if f["failure"] == "mutation"]
    assert mutated and all("wrote into its input bias" in f["message"] for f in mutated)
    assert all("bias" in f["features"] for f in mutated)
    assert cluster_named(report, "mutation", {"bias"})


def test_a_memory_blow_up_meets_the_workers_resident_memory_limit():
    result = run("--impl", impl("blows_up_memory"), "--cases", "10", "--dims", "1", "--json",
                 env={"CONVT_MAX_BYTES": "300M"})
    report = json.loads(result.stdout)
    assert 300 * 1024**2 < report["isolation"]["memory_limit_bytes"] < 2 * 1024**3
    blown = [f for f in report["failures"] if f["failure"] == "memory"]
    assert blown and "of resident memory, past the worker's limit of" in blown[0]["message"]
    assert "the memory budget of 300.0 MiB (CONVT_MAX_BYTES)" in blown[0]["message"]
    assert cluster_named(report, "memory", {"stride_gt_kernel"})
    assert all(c["smallest"]["reproduce"].startswith("CONVT_MAX_BYTES=300M convt verify --case ")
               for c in report["clusters"])


def test_import_time_prints_and_a_patched_torch_cannot_make_cases_pass():
    # The module prints at import and patches torch's conv_transpose to return zeros; the reference is
    # computed in convt's own process, so every case still fails, and stdout is still one JSON document.
    result = run("--impl", f"{HERE.parent / 'impl_patches_torch.py'}:zeros", "--cases", "4", "--dims", "2", "--json")
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["failed"] == report["completed"] and not report["ok"]


def test_prints_from_the_function_reach_stderr_not_stdout():
    out = subprocess.run([sys.executable, "-m", "convt_cli", "verify", "--impl", impl("prints_to_stdout"),
                          "--cases", "2", "--dims", "1", "--json"], capture_output=True, text=True, timeout=120,
                         cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["ok"]
    # the prints land on the worker's stderr, which convt keeps to itself: no stray lines anywhere
    assert "a print from the function" not in out.stderr + out.stdout and "raw write" not in out.stderr


def test_ctrl_c_prints_the_partial_report_and_exits_130():
    """The function sends SIGINT to convt on its 40th call, as Ctrl-C in a terminal would."""
    base = [sys.executable, "-m", "convt_cli", "verify", "--impl", impl("interrupt_parent_on_40th_call")]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "120"}
    out = subprocess.run(base + ["--json"], capture_output=True, text=True, timeout=120, cwd=ROOT, env=env)
    assert out.returncode == 130, out.stderr
    report = json.loads(out.stdout)
    assert report["interrupted"] and report["completed"] == 39 and not report["ok"]
    # the text form of an interrupted report: tests/golden/verify/report_en.txt


# --- narrowing the sweep: --dims, --only, --skip -------------------------------------------------------


def test_restricting_dims_lets_a_2d_only_function_pass():
    assert run("--impl", impl("two_d_only"), "--cases", "20").exit_code == 1
    result = run("--impl", impl("two_d_only"), "--cases", "20", "--dims", "2")
    assert result.exit_code == 0, result.stdout


def test_skip_lets_a_function_without_groups_and_dilation_pass():
    failing = run("--impl", impl("no_groups_no_dilation"), "--cases", "40", "--json")
    assert failing.exit_code == 1
    clusters = json.loads(failing.stdout)["clusters"]
    assert {tuple(c["features"]) for c in clusters} >= {("groups",), ("dilation",)}
    result = run("--impl", impl("no_groups_no_dilation"), "--cases", "40", "--skip", "groups,dilation", "--json")
    assert result.exit_code == 0, result.stdout
    report = json.loads(result.stdout)
    assert report["ok"] and report["skip"] == ["groups", "dilation"] and report["left_out"] > 0
    # 40 kept cases were drawn; 6 of the 12 adjoint cases are kept
    assert report["requested_cases"] == 40 and report["planned"] == 40 + 6
    rows = {row["feature"] for row in report["features"]}
    assert "groups" not in rows and "dilation" not in rows
    text = run("--impl", impl("no_groups_no_dilation"), "--skip", "groups,dilation", "--dims", "1")
    assert text.exit_code == 0, text.stdout
    assert "Left out (--skip groups,dilation): " in text.stdout


def test_only_keeps_the_cases_with_every_named_feature():
    report = json.loads(run("--cases", "20", "--only", "groups,bias", "--dims", "2", "--json").stdout)
    forward = report["features"]
    rows = {row["feature"]: row for row in forward}
    assert rows["groups"]["cases"] == rows["bias"]["cases"] == rows["dims_2"]["cases"] == 20
    assert report["only"] == ["groups", "bias"]


def test_skip_applies_to_a_single_case():
    result = run("--case", "2d x=1x4x5x5 w=4x2x3x3 s=2 g=2", "--skip", "groups")
    assert result.exit_code == 0
    assert "The case was left out by --skip groups: nothing was checked." in result.stdout
    doc = json.loads(run("--case", "2d x=1x4x5x5 w=4x2x3x3 s=2 g=2", "--skip", "groups", "--json").stdout)
    assert doc["completed"] == 0 and doc["left_out"] == 1 and doc["ok"]


@pytest.mark.parametrize("args,fragment", [
    (["--skip", "groups,dilations"], "--skip 'dilations' is not a feature key; valid keys: dims_1, dims_2"),
    (["--only", "grups"], "--only 'grups' is not a feature key; valid keys:"),
    (["--skip", ","], "--skip ',' names no feature"),
    (["--impl", "x.py:f", "--timeout", "0"], "the timeout must be more than 0"),
    (["--impl", "x.py:f", "--timeout", "-1"], "the timeout must be more than 0"),
    (["--impl", "x.py:f", "--timeout", "nan"], "the timeout must be more than 0"),
    (["--impl", "x.py:f", "--timeout", "abc"], "--timeout"),
    (["--timeout", "5"], "--timeout applies to --impl"),
    (["--only", "dims_3", "--dims", "1,2"], "--only dims_3 leaves no case: dims_3 is not among the dims swept (1,2)"),
    (["--only", "groups", "--skip", "channels_gt1", "--cases", "3"], "leave no forward case to check"),
])
def test_bad_narrowing_and_timeout_values_are_one_error_line(args, fragment):
    result = run(*args)
    assert result.exit_code == 2, result.stdout + result.stderr
    assert fragment in plain(result.stderr)
    assert "Traceback" not in result.stderr and result.stdout == ""
    assert sum(line.startswith("Error:") for line in result.stderr.splitlines()) == 1


# --- loading ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("target,fragment", [
    ("no_such_module_xyz:f", "no module named 'no_such_module_xyz'"),
    ("tests/no_such_file.py:f", "does not exist"),
    (f"{IMPLS}:no_such_function", "has no attribute 'no_such_function'"),
    (f"{IMPLS}:NOT_A_FUNCTION", "is a int, not a function"),
    (f"{IMPLS}:wrong_signature", "cannot be called as FUNC(x, weight, bias, *, stride"),
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
    dies = tmp_path / "dies.py"
    dies.write_text("import os\nos._exit(0)\n")
    result = run("--impl", f"{dies}:f", "--cases", "1")
    assert result.exit_code == 2 and "exit status 0" in plain(result.stderr)


def test_invalid_case_with_impl_fails_plainly():
    result = run("--impl", impl("gather_conv_transpose"), "--case", "2d x=1x2x5x5 w=2x1x3x3 s=2 op=2")
    assert result.exit_code == 1
    assert "PyTorch rejects this configuration" in result.stdout


def test_nan_is_reported_as_nan_in_json_and_text():
    result = run("--impl", impl("returns_nan"), "--cases", "3", "--dims", "1", "--json")
    rows = {row["feature"]: row for row in json.loads(result.stdout)["features"]}
    assert rows["all"]["max_abs_err"] == "nan" and rows["dims_1"]["failed_by_kind"] == {"nonfinite": 3}
    assert rows["adjoint"]["failed_by_kind"] == {"values": 4}  # a NaN in the output poisons the inner product
    text = run("--impl", impl("returns_nan"), "--cases", "3", "--dims", "1")
    assert text.exit_code == 1 and "nan" in text.stdout and "NaN/inf" in text.stdout


# --- --convention: a function in another framework's convention ---------------------------------------


def test_a_correct_function_in_the_onnx_convention_passes():
    doc = json.loads(run("--impl", "convt_cli.conventions.onnx_op:onnx_conv_transpose", "--convention", "onnx",
                         "--cases", "40", "--json").stdout)
    assert doc["ok"] and doc["convention"] == "onnx" and doc["completed"] == doc["planned"] > 40
    assert "(onnx convention)" in doc["subject"]


def test_real_lax_conv_transpose_passes_and_what_it_cannot_express_is_left_out():
    pytest.importorskip("jax")
    result = run("--impl", "jax.lax:conv_transpose", "--convention", "jax", "--cases", "24", "--dtype", "float32",
                 "--json")
    doc = json.loads(result.stdout)
    assert result.exit_code == 0 and doc["ok"], result.stdout
    assert doc["left_out"] > 0  # groups: lax.conv_transpose has none
    assert all(r["feature"] != "groups" for r in doc["features"])


def test_a_keras_port_with_a_rotated_kernel_is_diagnosed_by_the_kernel():
    doc = json.loads(run("--impl", impl("keras_kernel_rotated"), "--convention", "keras", "--cases", "60",
                         "--json").stdout)
    assert not doc["ok"] and doc["convention"] == "keras"
    assert doc["clusters"] and all(c["kind"] == "values" for c in doc["clusters"])
    assert [c["features"] for c in doc["clusters"]] == [["kernel_gt1"]]  # "wrong values … with kernel > 1"
    assert all("--convention keras" in c["smallest"]["reproduce"] for c in doc["clusters"])
    assert not any("groups" in c["features"] for c in doc["clusters"])  # Keras has no groups: left out
    assert doc["left_out"] > 0


def test_the_keras_convention_reference_adapter_passes_the_same_sweep():
    result = run("--impl", "convt_cli.conventions.keras_conv:keras_conv_transpose", "--convention", "keras",
                 "--cases", "60")
    assert result.exit_code == 0, result.stdout
    assert "Left out (--convention keras): " in result.stdout


@pytest.mark.parametrize("args,fragment", [
    (["--convention", "keras"], "--convention applies to --impl"),
    (["--impl", "x.py:f", "--convention", "caffe"], "'caffe' is not one of onnx, keras, jax, tf, mlx"),
])
def test_bad_convention_use_is_a_usage_error(args, fragment):
    result = run(*args)
    assert result.exit_code == 2 and fragment in plain(result.stderr)


@pytest.mark.parametrize("dtype", ["float64", "float16"])
def test_a_function_returning_inf_fails_without_a_warning_line(dtype):
    out = subprocess.run([sys.executable, "-m", "convt_cli", "verify", "--impl", impl("returns_inf"), "--cases", "6",
                          "--dims", "1", "--dtype", dtype], capture_output=True, text=True, timeout=120, cwd=ROOT,
                         env={**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "120"})
    assert out.returncode == 1 and "NaN/inf" in out.stdout
    assert out.stderr == ""
