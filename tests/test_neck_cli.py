"""`convt neck` through the CLI: shapes in every spelling, presets, JSON, --verify, errors, Ctrl-C, renders.

Golden files live in tests/golden/neck/ (meta runs: no times, no torch version); after inspecting a
change, regenerate them with ``CONVT_REGEN_GOLDEN=1 pytest tests/test_neck_cli.py``.
"""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest
import torch
from golden import check_golden_file
from readme_text import readme_section
from rich.console import Console
from typer.testing import CliRunner

from convt_cli import neck as neck_mod
from convt_cli.cli import app
from convt_cli.neck import make_config, trace_neck
from convt_cli.render.neck import BranchView, render_trace, si, summary_table

runner = CliRunner()
GOLDEN = Path(__file__).parent / "golden" / "neck"
SMALL = ["--shape", "1x12x6x6", "--d-model", "4"]


def run(*args: str, **kw):
    return runner.invoke(app, ["neck", *args], env={"COLUMNS": "100", "NO_COLOR": "1", **kw.pop("env", {})}, **kw)


def as_json(result):
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def check_golden(name: str, text: str) -> None:
    check_golden_file(GOLDEN / name, text, exact=True)


def render(renderable, width: int) -> str:
    buf = io.StringIO()
    Console(file=buf, width=width, color_system=None, force_terminal=False, highlight=False).print(renderable)
    return "\n".join(line.rstrip() for line in buf.getvalue().splitlines()) + "\n"


# ---------------------------------------------------------------- happy paths


@pytest.mark.parametrize("spelling", ["1x12x6x6", "1,12,6,6", "(1, 12, 6, 6)", "1×12×6×6"])
def test_every_shape_spelling_gives_the_same_trace(spelling):
    data = as_json(run("--shape", spelling, "--d-model", "4", "--device", "meta", "--json"))
    assert data["input"]["shape"] == [1, 12, 6, 6]
    assert [b["out_shape"] for b in data["branches"]] == [[1, 4, 24, 24], [1, 4, 12, 12], [1, 4, 6, 6], [1, 4, 3, 3]]


@pytest.mark.parametrize("args,sides,dual,dropped", [
    (["--shape", "1x1280x64x64"], [256, 128, 64, 32], False, True),  # SAM 3's structure on the explainer's input
    (["--preset", "sam3"], [288, 144, 72, 36], False, True),  # the image model: single neck
    (["--preset", "sam3-video"], [288, 144, 72, 36], True, True),  # the video model: dual neck
    (["--preset", "sam3.1"], [288, 144, 72], False, False),  # three heads, scalp=0
])
def test_presets_on_meta(args, sides, dual, dropped):
    data = as_json(run(*args, "--device", "meta", "--json"))
    convs = [b for b in data["branches"] if b["group"] == "convs"]
    assert [b["out_shape"] for b in convs] == [[1, 256, s, s] for s in sides]
    assert data["config"]["dual"] is dual
    assert [b["dropped"] for b in convs] == [False] * (len(sides) - 1) + [dropped]
    assert data["checks"] == {"shapes_ok": True, "flops_ok": True, "verify_ok": None}
    assert data["totals"]["flops"] == data["totals"]["flops_counted"]


def test_default_run_is_the_sam3_image_model():
    r = run("--device", "meta")
    assert r.exit_code == 0, r.stderr
    out = " ".join(r.stdout.split())
    assert "1×1024×72²" in out and "no --shape or --preset given" in out and "(--preset sam3)" in out
    assert "single neck (convs)" in out and "torch " + torch.__version__ in out
    r2 = run("--preset", "sam3", "--device", "meta")
    assert "no --shape or --preset given" not in r2.stdout and "1×1024×72²" in r2.stdout


def test_text_report_shows_each_layer_with_its_check_marks():
    r = run(*SMALL, "--scalp", "0", "--device", "cpu", env={"COLUMNS": "200"})  # no dropped-level mark
    assert r.exit_code == 0, r.stderr
    out = r.stdout
    assert "ConvTranspose2d(12→6, k=2, s=2)" in out and "ConvTranspose2d(6→3, k=2, s=2)" in out
    assert "1×12×6² → 1×6×12²" in out and "1×6×12² ✓" in out
    for name in ("dconv_2x2_0", "gelu", "dconv_2x2_1", "dconv_2x2", "maxpool_2x2", "conv_1x1", "conv_3x3"):
        assert name in out
    assert "✗" not in out
    assert "FlopCounterMode" in out and "device cpu" in out and "perf_counter" in out
    assert re.search(r"\d+(\.\d+)? (µs|ms)", out)  # measured times


def test_json_records_are_complete_and_consistent():
    data = as_json(run(*SMALL, "--device", "cpu", "--dual", "--seed", "5", "--json"))
    assert data["schema"] == "convt.neck/2" and data["device"] == "cpu" and data["timer"] == "perf_counter"
    assert data["config"]["seed"] == 5 and data["config"]["dual"] is True and len(data["branches"]) == 8
    for branch in data["branches"]:
        layers = branch["layers"]
        assert branch["totals"]["params"] == sum(layer["params"] for layer in layers)
        assert branch["totals"]["flops"] == sum(layer["flops"] for layer in layers)
        for a, b in zip(layers, layers[1:]):
            assert b["in_shape"] == a["out_shape"]
        for layer in layers:
            assert layer["shape_ok"] and layer["out_shape"] == layer["predicted_shape"]
            assert layer["flops_ok"] and layer["params"] == layer["params_predicted"]
            assert layer["time_ms"] >= 0
            assert (layer["fan_in"] == [1, 1]) == (layer["kind"] == "ConvTranspose2d")
    assert data["totals"]["params"] == sum(b["totals"]["params"] for b in data["branches"])


def test_verify_passes_on_a_small_shape():
    r = run(*SMALL, "--device", "cpu", "--verify")
    assert r.exit_code == 0, r.stderr
    assert "Verified" in r.stdout and "convs.0.dconv_2x2_0" in r.stdout
    data = as_json(run(*SMALL, "--device", "cpu", "--verify", "--json", "--dtype", "bfloat16"))
    assert data["checks"]["verify_ok"] is True
    assert sum(1 for b in data["branches"] for la in b["layers"] if la["verify"]) == 3


def test_verify_mismatch_exits_1(monkeypatch):
    import convt_cli.engine as engine

    real = engine.conv_transpose
    monkeypatch.setattr(engine, "conv_transpose", lambda *a, **k: real(*a, **k) * 1.01)
    r = run(*SMALL, "--device", "cpu", "--verify")
    assert r.exit_code == 1
    assert "FAIL" in r.stdout and "Mismatch" in r.stdout


def test_chinese_labels():
    r = run(*SMALL, "--device", "meta", "--lang", "zh")
    assert r.exit_code == 0, r.stderr
    assert "缩放" in r.stdout and "总计" in r.stdout


def test_ctrl_c_prints_what_completed_and_exits_130(monkeypatch):
    real = neck_mod.trace_neck

    def interrupted(config, **kw):
        def stop(done, total, path):
            if done == 4:
                raise KeyboardInterrupt

        kw["progress"] = stop
        return real(config, **kw)

    monkeypatch.setattr(neck_mod, "trace_neck", interrupted)
    r = run(*SMALL, "--device", "cpu")
    assert r.exit_code == 130
    assert "Interrupted after 4 of 13 layers" in r.stdout and "dconv_2x2_1" in r.stdout
    assert r.stderr.strip() == "Interrupted."


@pytest.mark.parametrize("json_out", [True, False])
def test_ctrl_c_before_the_first_layer_still_reports(monkeypatch, json_out):
    """Ctrl-C while torch loads or the neck is built: the JSON object is still printed (interrupted, no
    layers), the text report says 0 of 13, exit 130."""

    def too_early(config, **kw):
        raise KeyboardInterrupt

    monkeypatch.setattr(neck_mod, "trace_neck", too_early)
    r = run(*SMALL, "--device", "cpu", *(["--json"] if json_out else []))
    assert r.exit_code == 130 and r.stderr.strip() == "Interrupted."
    if json_out:
        doc = json.loads(r.stdout)
        assert doc["interrupted"] is True and doc["branches"] == []
        assert doc["totals"]["completed_layers"] == 0 and doc["totals"]["layers"] == 13
    else:
        assert "Interrupted after 0 of 13 layers" in r.stdout


def test_ctrl_c_while_convt_loads_is_one_line_and_exit_130():
    import subprocess
    import sys

    code = ("import sys\n"
            "class Stop:\n"
            "    def find_spec(self, name, path=None, target=None):\n"
            "        if name == 'convt_cli.cli': raise KeyboardInterrupt\n"
            "sys.meta_path.insert(0, Stop())\n"
            "from convt_cli.__main__ import main\n"
            "sys.argv = ['convt', 'neck', '--json']\n"
            "main()\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 130 and out.stderr == "Interrupted.\n" and out.stdout == ""


def test_memory_guard_suggests_meta():
    r = run("--shape", "1x64x32x32", "--device", "cpu", env={"CONVT_MAX_BYTES": "100K"})
    assert r.exit_code == 1 and r.stdout == ""
    assert r.stderr.startswith("Error: running the neck on 1×64×32×32 would need about")
    assert "--device meta" in r.stderr and r.stderr.count("\n") == 1


# ---------------------------------------------------------------- errors


@pytest.mark.parametrize(
    "args,needle",
    [
        (["--shape", "1x1280x64"], "has 3 sizes; the neck takes a 4-d feature map"),
        (["--shape", "1x0x64x64"], "0 must be at least 1"),
        (["--shape", "1x-4x64x64"], "-4 must be at least 1"),
        (["--shape", "1x12x6.5x6"], "'6.5' is not a whole number"),
        (["--shape", "1x3x8x8"], "scale 4 needs at least 4 input channels"),
        (["--shape", "1x8x8x8", "--scales", "3"], "scale 3 is not supported"),
        (["--preset", "vit-b"], "--preset 'vit-b' is not known"),
        (["--device", "tpu"], "--device 'tpu' is not a device"),
        (["--dtype", "int8"], "--dtype 'int8' is not supported"),
        (["--d-model", "0"], "--d-model 0 must be at least 1"),
        (["--device", "meta", "--verify"], "--verify needs real values"),
    ],
)
def test_errors_are_one_line_exit_1(args, needle):
    r = run(*args)
    assert r.exit_code == 1, (r.stdout, r.stderr)
    assert r.stdout == ""
    assert r.stderr.startswith("Error: ") and needle in r.stderr
    assert r.stderr.count("\n") == 1 and "Traceback" not in r.stderr


@pytest.mark.skipif(torch.cuda.is_available(), reason="a GPU is present")
def test_cuda_without_a_gpu_exits_1():
    r = run(*SMALL, "--device", "cuda")
    assert r.exit_code == 1 and r.stderr.startswith("Error: --device cuda: ")
    assert "--device cpu" in r.stderr and r.stderr.count("\n") == 1


def test_usage_errors_exit_2():
    assert run("--d-model", "abc").exit_code == 2
    assert run("--seed", "x").exit_code == 2
    assert run("--no-such-option").exit_code == 2


def test_zh_error():
    r = run("--device", "tpu", "--lang", "zh")
    assert r.exit_code == 1 and r.stderr.startswith("错误: --device 'tpu' 不是可用的设备")


# ---------------------------------------------------------------- renders


@pytest.fixture(scope="module")
def small_meta_trace():
    return trace_neck(make_config(shape="1x12x6x6", d_model=4, device="meta", scales="4,0.5", scalp=0))


def test_branch_is_a_table_when_wide_and_a_tree_when_narrow(small_meta_trace):
    branch = small_meta_trace.branches[0]
    wide, narrow = render(BranchView(branch), 160), render(BranchView(branch), 80)
    assert "fan-in" in wide and "├──" not in wide
    assert "├── dconv_2x2_0  ConvTranspose2d(12→6, k=2, s=2)" in narrow
    check_golden("branch_table_160.txt", wide)
    check_golden("branch_tree_80.txt", narrow)
    check_golden("summary_100.txt", render(summary_table(small_meta_trace), 100))


def test_every_rendered_line_fits_the_width(small_meta_trace):
    for width in (80, 100, 160):
        text = render(render_trace(small_meta_trace), width)
        assert max(len(line) for line in text.splitlines()) <= width


def test_si_units():
    assert si(0) == "0" and si(999) == "999" and si(3_277_440) == "3.28 M"
    assert si(26_843_545_600, "FLOP") == "26.8 GFLOP" and si(1000) == "1 k"


def test_a_terminal_gets_a_progress_display():
    from convt_cli.commands.neck import _run
    from convt_cli.neck import plan_neck

    buf = io.StringIO()
    err = Console(file=buf, force_terminal=True, width=100, color_system=None)
    config = make_config(shape="1x12x6x6", d_model=4, device="cpu")
    trace = _run(config, plan_neck(config), False, "en", True, False, err=err)
    assert trace.completed_layers == 13 and not trace.interrupted
    shown = buf.getvalue()
    assert "building the neck" in shown and "/13" in shown  # the bar, counting the 13 layers


# ---------------------------------------------------------------- docs


DOCS = Path(__file__).resolve().parent.parent / "docs"


def all_keys(node, out=None):
    out = set() if out is None else out
    if isinstance(node, dict):
        for key, value in node.items():
            out.add(key)
            all_keys(value, out)
    elif isinstance(node, list):
        for item in node:
            all_keys(item, out)
    return out


def test_every_json_key_is_documented():
    data = as_json(run(*SMALL, "--device", "cpu", "--dual", "--verify", "--json"))
    doc = (DOCS / "neck-json.md").read_text(encoding="utf-8")
    audit = data.pop("audit")  # the audit's own schema, documented in audit-json.md
    assert audit["schema"] == "convt.audit/2" and "audit-json.md" in doc
    audit_doc = (DOCS / "audit-json.md").read_text(encoding="utf-8")
    assert not sorted(key for key in all_keys(audit) if f"`{key}`" not in audit_doc)
    missing = sorted(key for key in all_keys(data) if f"`{key}`" not in doc)
    assert not missing, missing
    assert f"`{data['schema']}`" in doc or data["schema"] in doc


def test_readme_section_examples_work_as_written():
    import shlex

    text = readme_section("neck")
    blocks = re.findall(r"```bash\n(.*?)```", text, re.S)
    commands = [shlex.split(line)[1:] for block in blocks for line in block.splitlines() if line.startswith("convt ")]
    assert len(commands) >= 5 and all(c[0] == "neck" for c in commands)
    for args in commands:
        # the full-size CPU runs would take seconds each here: run them on meta; options are parsed as written
        if "--device" not in args and "--verify" not in args:
            args = [*args, "--device", "meta"]
        r = runner.invoke(app, args, env={"COLUMNS": "100"})
        assert r.exit_code == 0, (args, r.stdout, r.stderr)
    r = run("--scales", "4,3")
    assert r.exit_code == 1 and f"`{r.stderr.strip()}`" in text
