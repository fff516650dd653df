"""`convt verify` at the CLI edge: the default run, JSON, --case round trip, options, usage errors,
the memory budget, Chinese labels, and golden renders of a hand-built report at width 100.

Golden files live in tests/golden/verify/; after inspecting a change, regenerate them with
``CONVT_REGEN_GOLDEN=1 pytest tests/test_verify_cli.py``.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from golden import check_golden_file
from readme_text import readme_section
from rich.console import Console
from typer.testing import CliRunner

from convt_cli.cli import app
from convt_cli.render.verify import render_report
from convt_cli.verify import CaseResult, CaseSpec, Check, Report, default_sweep, error_cases, reproduce_command

runner = CliRunner()
ENV = {"COLUMNS": "100", "CONVT_LANG": "en", "LANG": "C"}
GOLDEN = Path(__file__).parent / "golden" / "verify"
IMPL = Path(__file__).resolve().parent / "wrong_impls.py"


def run(*args: str, env: dict[str, str] | None = None):
    return runner.invoke(app, ["verify", *args], env={**ENV, **(env or {})})


def plain(text: str) -> str:
    return " ".join(text.translate({ord(c): " " for c in "│╭╮╰╯─"}).split())


def check_golden(name: str, text: str) -> None:
    check_golden_file(GOLDEN / f"{name}.txt", text)


# --- the default run -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def default_json() -> dict:
    result = run("--json")
    assert result.exit_code == 0, result.stdout + result.stderr
    return json.loads(result.stdout)


def test_default_run_passes_every_case(default_json):
    doc = default_json
    assert doc["schema"] == "convt.verify/2" and doc["ok"] and doc["subject"] == "engine"
    assert doc["planned"] == doc["completed"] == doc["passed"] == 654 and doc["failed"] == 0
    assert doc["dims"] == [1, 2, 3] and doc["seed"] == 0 and doc["dtype"] == "float64"
    assert doc["failures"] == [] and doc["suspects"] == [] and doc["clusters"] == [] and doc["also_failed"] == []
    assert doc["isolation"] is None and doc["only"] == doc["skip"] == [] and doc["left_out"] == 0
    assert doc["tolerance"]["values"]["rtol"] == 1e-10 and doc["tolerance"]["float32_path"]["atol"] == 1e-5


def test_default_run_rows_count_what_the_sweep_holds(default_json):
    """Row counts against counts taken straight from the case list (not from CaseSpec.features)."""
    rows = {row["feature"]: row for row in default_json["features"]}
    specs = default_sweep()
    invalid = error_cases()
    forward = [c for c in specs if not c.adjoint and c not in invalid]
    expect = {
        "all": len(specs),
        "dims_1": sum(len(c.w_shape) == 3 for c in forward),
        "dims_3": sum(len(c.w_shape) == 5 for c in forward),
        "unbatched": sum(len(c.x_shape) == len(c.w_shape) - 1 for c in forward),
        "batch_gt1": sum(len(c.x_shape) == len(c.w_shape) and c.x_shape[0] > 1 for c in forward),
        "bias": sum(c.bias is not None for c in forward),
        "dilation": sum(max(c.dilation) > 1 for c in forward),
        "size_formula": len(forward),
        "float32_path": len(forward),
        "adjoint": 12,
        "error_parity": 42,
    }
    for key, count in expect.items():
        assert rows[key]["cases"] == rows[key]["passed"] == count, key
    assert rows["all"]["max_abs_err"] < 1e-12  # float64 against float64: summation order only
    assert 0 < rows["float32_path"]["max_abs_err"] < 1e-5  # torch.testing float32 atol
    assert rows["error_parity"]["max_abs_err"] is None


ROOT = Path(__file__).resolve().parent.parent
README = readme_section("verify")
SCHEMA_DOC = (ROOT / "docs" / "verify-json.md").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def readme_runs(tmp_path_factory) -> dict:
    """Every command of the README section's example block, run as written beside its my_convt.py."""
    folder = tmp_path_factory.mktemp("readme")
    code = re.search(r"```py\n(.*?)```", README, re.S).group(1)
    (folder / "my_convt.py").write_text(code, encoding="utf-8")
    commands = re.search(r"```bash\n(.*?)```", README, re.S).group(1).strip().splitlines()
    runs = {}
    cwd = os.getcwd()
    os.chdir(folder)
    try:
        for line in commands:
            argv = shlex.split(line)
            assert argv[:2] == ["convt", "verify"], line
            runs[line] = runner.invoke(app, argv[1:], env=ENV)
    finally:
        os.chdir(cwd)
    return runs


def test_readme_examples_work_as_written(readme_runs):
    assert len(readme_runs) == 8
    for line, result in readme_runs.items():
        assert result.exit_code == 0, (line, result.stdout[-2000:], result.stderr)
    doc = json.loads(readme_runs["convt verify --impl my_convt.py:conv_transpose --dims 2 --cases 100 --json"].stdout)
    assert doc["ok"] and doc["completed"] == 100 + 4 and doc["subject"] == "my_convt.py:conv_transpose"
    assert "All 612 cases passed" in readme_runs["convt verify --impl my_convt.py:conv_transpose"].stdout


def test_default_run_text(readme_runs):
    result = readme_runs["convt verify"]
    out = result.stdout
    assert "654 cases (seed 0, dims 1,2,3)" in out
    assert "tolerance: values (float64): |a − e| ≤ 1e-10 + 1e-10·|e|" in out
    assert "float32 path: |a − e| ≤ 1e-05 + 1.3e-06·|e|" in out
    for label in ("1-d", "2-d", "3-d", "unbatched", "batch = 1", "batch > 1", "stride > 1", "padding > 0",
                  "output_padding > 0", "dilation > 1", "groups > 1", "depthwise", "bias", "adjoint identity",
                  "error parity", "output-size formula"):
        assert f"\n{label} " in out, label
    assert "All 654 cases passed in " in out and "(PyTorch import included)" in out
    assert result.stderr == ""  # no progress bar when stdout/stderr are not a terminal


def test_readme_failure_sample_is_real_output():
    sample = re.search(r"```text\n(.*?)```", README, re.S).group(1).strip().splitlines()
    cmd = "convt verify --impl tests/wrong_impls.py:two_bugs --cases 60"
    assert f"`{cmd}`" in " ".join(README.split())
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        result = runner.invoke(app, shlex.split(cmd)[1:], env={**ENV, "COLUMNS": "100"})
    finally:
        os.chdir(cwd)
    assert result.exit_code == 1
    lines = [line.rstrip() for line in result.stdout.splitlines()]
    for line in sample:
        if "cases failed (" in line:  # the elapsed time differs run to run
            line = line.split(" (")[0]
            assert any(out.startswith(line) for out in lines), line
        elif line:
            assert line in lines, line


def test_schema_doc_example_is_real_output(default_json):
    cmd = re.search(r"```bash\n(.*?)```", SCHEMA_DOC, re.S).group(1).strip()
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        result = runner.invoke(app, shlex.split(cmd)[1:], env=ENV)
    finally:
        os.chdir(cwd)
    doc = json.loads(result.stdout)
    for key in ("schema", "subject", "dtype", "seed", "requested_cases", "planned", "completed", "passed",
                "failed", "suspects"):
        shown = re.search(rf'"{key}": (\[[^\]]*\]|[^,\n]+)', SCHEMA_DOC).group(1)
        assert json.loads(shown.rstrip("}")) == doc[key], key
    first_cells = re.findall(r"^\| (.*?) \|", SCHEMA_DOC.split("## `tolerance`")[0], re.M)
    documented = {name for cell in first_cells for name in re.findall(r"`(\w+)`", cell)}
    assert documented == set(doc), documented ^ set(doc)
    row_keys = {row["feature"] for row in default_json["features"]}
    for key in row_keys:
        assert f"`{key}`" in SCHEMA_DOC, key


def test_help_states_the_contract():
    result = runner.invoke(app, ["verify", "--help"], env=ENV)
    assert result.exit_code == 0
    text = plain(result.stdout)
    assert "FUNC(x, weight, bias, *, stride, padding, output_padding, dilation, groups) -> array-like" in text
    assert f"fixed sweep of {len(default_sweep())} cases" in text


def test_neither_convt_help_nor_verify_help_imports_torch():
    code = ("import sys\nfrom typer.testing import CliRunner\nfrom convt_cli.cli import app\n"
            "r = CliRunner().invoke(app, ['verify', '--help'])\nassert r.exit_code == 0\n"
            "r = CliRunner().invoke(app, ['--help'])\nassert r.exit_code == 0\n"
            "print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "False", out.stderr


# --- single cases ----------------------------------------------------------------------------------


def test_a_printed_reproducer_reruns_the_same_case():
    sweep = run("--impl", f"{IMPL}:rotated_kernel", "--cases", "12", "--json")
    assert sweep.exit_code == 1
    failure = json.loads(sweep.stdout)["failures"][0]
    argv = shlex.split(failure["reproduce"])
    assert argv[:3] == ["convt", "verify", "--case"] and argv[3] == failure["case"]
    again = runner.invoke(app, argv[1:] + ["--json"], env=ENV)
    assert again.exit_code == 1
    doc = json.loads(again.stdout)
    assert doc["single_case"] and doc["completed"] == 1
    assert doc["failures"][0]["case"] == failure["case"]
    assert doc["failures"][0]["checks"] == failure["checks"]  # same data, same numbers


def test_a_passing_case_reruns_with_its_numbers():
    spec = "2d x=1x4x5x5 w=4x2x3x3 s=2 p=1 op=1 d=1 g=2 bias"
    result = run("--case", spec)
    assert result.exit_code == 0, result.stdout
    assert "The case passed" in result.stdout and "1 case" in result.stdout
    assert "✓ values" in result.stdout and "✓ float32 path" in result.stdout
    assert reproduce_command(CaseSpec.parse(spec)) == f'convt verify --case "{spec}"'


def test_an_invalid_case_checks_error_parity():
    result = run("--case", "2d x=1x4x5x5 w=4x2x3x3 s=2 p=1 op=2 g=2 bias")
    assert result.exit_code == 0, result.stdout
    out = plain(result.stdout)
    assert "✓ error parity [output_padding < stride or dilation]" in out
    assert "PyTorch: output padding must be smaller than either stride or dilation" in out
    assert "engine: output_padding=2 in dim 0 must be smaller than stride=2 or dilation=1" in out


def test_an_adjoint_case():
    result = run("--case", "adjoint 3d x=1x2x3x3x3 w=2x2x3x3x3 s=2 p=1 op=1", "--json")
    doc = json.loads(result.stdout)
    assert result.exit_code == 0 and doc["ok"]
    assert {row["feature"] for row in doc["features"]} == {"all", "adjoint"}


def test_a_case_over_the_memory_budget_is_refused():
    result = run("--case", "2d x=1x64x512x512 w=64x64x3x3", env={"CONVT_MAX_BYTES": "1M"})
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: case '2d x=1x64x512x512 w=64x64x3x3 s=1 p=0 op=0 d=1 g=1' would need")
    assert "memory budget of 1.0 MiB" in result.stderr and result.stdout == ""


# --- options ---------------------------------------------------------------------------------------


def test_cases_seed_and_dims():
    doc = json.loads(run("--cases", "25", "--seed", "4", "--dims", "1,3", "--json").stdout)
    assert doc["ok"] and doc["seed"] == 4 and doc["dims"] == [1, 3] and doc["requested_cases"] == 25
    assert doc["planned"] == 25 + 8 + 28  # forward + adjoint (4 per dim) + error parity (14 per dim)
    rows = {row["feature"] for row in doc["features"]}
    assert "dims_2" not in rows and {"dims_1", "dims_3"} <= rows


def test_fail_fast_stops_at_the_first_failure():
    doc = json.loads(run("--impl", f"{IMPL}:rotated_kernel", "--fail-fast", "--json").stdout)
    assert doc["failed"] == 1 and doc["stopped_early"] and doc["completed"] < doc["planned"]
    text = run("--impl", f"{IMPL}:rotated_kernel", "--fail-fast")
    assert text.exit_code == 1 and "Stopped at the first failure (--fail-fast)" in text.stdout


@pytest.mark.parametrize("dtype,eps", [("float16", "2^-10"), ("bfloat16", "2^-7")])
def test_low_precision_states_its_scaled_tolerance(dtype, eps):
    result = run("--dtype", dtype, "--cases", "30", "--dims", "2")
    assert result.exit_code == 0, result.stdout
    out = plain(result.stdout)
    assert f"+ {eps}·L L = C_in/groups·∏k, the reduction length" in out  # L defined once, on the next line
    assert "L = C_in/groups·∏k, the reduction length, per case (largest here:" in out
    assert out.count("L = C_in/groups·∏k") == 1
    assert "float32 path" not in out  # the float32 path belongs to the float64 run


def test_the_command_offers_exactly_the_dtypes_the_verifier_knows():
    from convt_cli.commands.verify import DTYPE_NAMES
    from convt_cli.verify import DTYPES

    assert DTYPE_NAMES == DTYPES


def test_chinese_labels():
    result = run("--cases", "5", "--lang", "zh")
    assert result.exit_code == 0
    for label in ("被测实现", "全部用例", "伴随恒等式", "错误一致性", "最大绝对误差", "全部 "):
        assert label in result.stdout, label


@pytest.mark.parametrize("args,fragment", [
    (["--dims", "4"], "dims '4' must be 1, 2 or 3"),
    (["--dtype", "float8"], "'float8' is not one of float64, float32, float16, bfloat16"),
    (["--cases", "0"], "--cases"),
    (["--cases", "100001"], "--cases"),
    (["--seed", "-1"], "--seed"),
    (["--lang", "fr"], "'fr' is not a language convt speaks"),
    (["--case", "2d x=1x4"], "w= is required"),
    (["--case", "2d x=1x4x5x5 w=4x2x3x3", "--cases", "3"], "--case runs one case; it cannot be combined"),
])
def test_usage_errors_exit_2(args, fragment):
    result = run(*args)
    assert result.exit_code == 2, result.stdout + result.stderr
    assert fragment in plain(result.stderr)
    assert "Traceback" not in result.stderr and result.stdout == ""


# --- golden renders of a hand-built report ---------------------------------------------------------


def _report() -> Report:
    ok = CaseSpec.parse("2d x=2x4x5x5 w=4x2x3x3 s=2 p=1 g=2 bias")
    bad = CaseSpec.parse("1d x=3x2x6 w=2x1x3 s=2 d=2 op=1")
    adj = CaseSpec.parse("adjoint 1d x=2x3x6 w=3x2x3 s=2 p=1 op=1")
    err = CaseSpec.parse("1d x=1x2x5 w=2x1x3 s=2 op=2")
    raised = CaseSpec.parse("2d x=1x2x4x4 w=2x1x2x2 s=2 p=2")
    results = [
        CaseResult(ok, "forward", [Check("values", True, 4.4e-16, 2.2e-16), Check("size_formula", True)],
                   ok.features()),
        CaseResult(bad, "forward", [
            Check("values", False, 0.75, 0.5, "|a − e| ≤ 1e-10 + 1e-10·|e|",
                  "6 of 39 values outside the tolerance; worst at [1, 0, 4]: expected 0.5, got -0.25"),
            Check("size_formula", True)], bad.features()),
        CaseResult(raised, "forward", [
            Check("values", False, None, None, "|a − e| ≤ 1e-10 + 1e-10·|e|", "ValueError: negative pad -1",
                  "exception", "ValueError: negative pad N"), Check("size_formula", True)], raised.features()),
        CaseResult(adj, "adjoint", [Check("adjoint", True, 1.8e-15, 1e-16)]),
        CaseResult(err, "error", [Check("error_parity", True, tolerance="output_padding < stride or dilation")]),
    ]
    return Report("tests/mine.py:f", "float64", planned=7, seed=0, results=results, elapsed_s=1.25,
                  interrupted=True)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_golden_report(lang):
    console = Console(width=100, record=True, color_system=None, force_terminal=False)
    report = _report()
    render_report(console, report, lambda s: reproduce_command(s, "tests/mine.py:f"), lang, torch_version="2.x")
    check_golden(f"report_{lang}", console.export_text())
