"""`convt shape` through the CLI: text, JSON, errors, no torch, golden renders at width 80.

Golden files live in tests/golden/shape/; after inspecting a change, regenerate them with
``CONVT_REGEN_GOLDEN=1 pytest tests/test_shape_cmd.py``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from golden import check_golden_file
from readme_text import readme_section
from typer.testing import CliRunner

from convt_cli.cli import app

runner = CliRunner()
ENV = {"COLUMNS": "80", "CONVT_LANG": "en", "LANG": "C"}
GOLDEN = Path(__file__).parent / "golden" / "shape"


def run(*args: str):
    return runner.invoke(app, ["shape", *args], env=ENV)


def hand_out(i, k, s, p, op, d):
    return (i - 1) * s - 2 * p + d * (k - 1) + op + 1


def check_golden(name: str, text: str) -> None:
    check_golden_file(GOLDEN / f"{name}.txt", text)


def test_basic_report():
    r = run("64", "-k", "2", "-s", "2")
    assert r.exit_code == 0, r.output
    out = r.stdout
    assert "ConvTranspose1d: 64 → 128" in out
    assert "(64 − 1)×2 − 2×0 + 1×(2 − 1) + 0 + 1 = 128" in out
    assert "(64 − 1)×2 + 1×(2 − 1) + 1 = 128" in out  # the canvas
    assert "128 (op 0), 129 (op 1)" in out
    assert "no overlap, no gaps" in out
    assert "SAM 3 choice" in out
    assert "Conv1d(kernel_size=2, stride=2, padding=0, dilation=1)" in out
    assert "⌊(128 + 2×0 − 1×(2 − 1) − 1) / 2⌋ + 1 = 64, the input size ✓" in out
    assert r.stderr == ""


def test_shape_does_not_import_torch():
    code = (
        "import sys\n"
        "from typer.testing import CliRunner\n"
        "from convt_cli.cli import app\n"
        "for args in (['shape', '64', '-k', '2', '-s', '2'], ['shape', '64', '--target', '128'],\n"
        "             ['shape', '1x1280x64x64', '-k', '2', '-s', '2', '--out-channels', '640', '--json']):\n"
        "    r = CliRunner().invoke(app, args)\n"
        "    assert r.exit_code == 0, r.output\n"
        "print('torch' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"


def test_full_tensor_shape():
    r = run("1x1280x64x64", "-k", "2", "-s", "2", "--out-channels", "640")
    assert r.exit_code == 0, r.output
    assert "1×640×128×128" in r.stdout
    assert "1280×640×2×2" in r.stdout
    assert "3,277,440 = 1280×640×2×2 + 640" in r.stdout  # 1280·640·4 + 640 by hand
    assert "ConvTranspose2d(1280, 640, kernel_size=(2, 2), stride=(2, 2))" in r.stdout


def test_json_report():
    r = run("1x1280x64x64", "-k", "2", "-s", "2", "--out-channels", "640", "--json")
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    assert data["output_size"] == [128, 128]
    assert data["tensor"]["output_shape"] == [1, 640, 128, 128]
    assert data["tensor"]["weight_shape"] == [1280, 640, 2, 2]
    assert data["tensor"]["parameters"] == 1280 * 640 * 2 * 2 + 640
    assert data["sam3_choice"] is True
    axis = data["axes"][0]
    assert axis["canvas"] == 128 and axis["inverse_conv"]["output"] == 64 and axis["inverse_conv"]["round_trip"]
    assert axis["reachable"] == {"output_padding": [0, 1], "sizes": [128, 129]}
    assert axis["output_padding_range"] == [0, 1] and axis["taps_per_phase"] == [1, 1]


def test_per_dim_sizes_and_options():
    r = run("64x48", "-k", "3", "-s", "2", "-p", "1", "--output-padding", "1", "--json")
    data = json.loads(r.stdout)
    assert data["output_size"] == [hand_out(64, 3, 2, 1, 1, 1), hand_out(48, 3, 2, 1, 1, 1)] == [128, 96]
    assert data["overlap"] == {"kind": "uneven", "min_per_cell": 1, "max_per_cell": 4}
    r = run("10", "-k", "3,2", "-s", "2,1", "--json")
    assert json.loads(r.stdout)["output_size"] == [hand_out(10, 3, 2, 0, 0, 1), hand_out(10, 2, 1, 0, 0, 1)]


def test_target_json_each_result_verified_by_the_formula():
    r = run("64", "--target", "128", "--json")
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    assert data["count"] == len(data["candidates"]) > 10
    for c in data["candidates"]:
        assert hand_out(64, c["kernel_size"], c["stride"], c["padding"][0], c["output_padding"][0],
                        c["dilation"]) == 128
        assert c["kernel_size"] <= 7 and c["stride"] <= 4 and c["dilation"] == 1
    first = data["candidates"][0]
    assert (first["kernel_size"], first["stride"], first["padding"], first["output_padding"]) == (2, 2, [0], [0])
    assert first["sam3_choice"] and sum(c["sam3_choice"] for c in data["candidates"]) == 1


def test_target_text_marks_sam3_on_the_first_row():
    r = run("64", "--target", "128")
    assert r.exit_code == 0, r.output
    rows = [line for line in r.stdout.splitlines() if line.startswith("│")]
    assert "★ SAM 3" in rows[1]  # rows[0] is the header (at 80 columns the note wraps between words)
    assert [c.strip() for c in rows[1].split("│")[1:7]] == ["1", "2", "2", "0", "0", "1"]
    assert "showing 12 of" in r.stdout
    r = run("64", "--target", "128", "--limit", "0")
    assert "showing" not in r.stdout


def test_target_with_a_fixed_kernel_does_not_claim_to_search_kernels():
    r = run("64", "--target", "128", "-k", "3")
    assert r.exit_code == 0, r.output
    head = r.stdout.splitlines()[:2]
    assert head[0].startswith("64 → 128: 5 combinations with s ≤ 4, d = 1"), head
    assert "k ≤" not in head[0]
    assert head[1] == "fixed: k=3"


def test_target_narrowed_and_none_found():
    r = run("64", "--target", "128", "-s", "2", "--json")
    assert {c["stride"] for c in json.loads(r.stdout)["candidates"]} == {2}
    r = run("64", "--target", "100000")
    assert r.exit_code == 0 and "No combination reaches 100000 from 64" in r.stdout


@pytest.mark.parametrize(("args", "message"), [
    (["64", "-k", "2", "-s", "0"], "Error: stride=0 in dim 0 must be positive (non-positive stride is not supported)"),
    (["64", "-k", "2", "-s", "2", "--output-padding", "2"],
     "Error: output_padding=2 in dim 0 must be smaller than stride=2 or dilation=1"),
    (["64", "-k", "0"], "Error: kernel size 0 in dim 0 must be greater than zero"),
    (["2", "-k", "1", "-p", "3"], "Error: output size (-4) computed for input size (2) is too small"),
    (["64", "-k", "2", "-p", "-1"], "Error: padding=-1 in dim 0 must not be negative"),
    (["1x1280x64x64", "-k", "2"], "Error: size 1×1280×64×64 has 4 values"),
    (["1x1280x64x64", "-k", "2", "--out-channels", "641", "-g", "2"], "Error: groups=2 must divide out_channels=641"),
    (["64x48", "-k", "2,2,2"], "Error: kernel=[2, 2, 2] has 3 values"),
    (["abc", "-k", "2"], "Error: size 'abc'"),
    (["64", "--target", "128", "-k", "2,3"], "Error: kernel_size='2,3' lists several values"),
    (["64", "--target", "0"], "Error: target '0': 0 must be at least 1"),
])
def test_errors_are_one_line_exit_1(args, message):
    r = run(*args)
    assert r.exit_code == 1, r.output
    assert r.stdout == ""
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(message), lines


@pytest.mark.parametrize("args", [["64"], ["64", "--target", "128", "--out-channels", "3"], ["64", "-k", "2",
                                                                                              "--lang", "fr"], []])
def test_usage_errors_exit_2(args):
    assert run(*args).exit_code == 2


def test_chinese():
    r = run("64", "-k", "2", "-s", "2", "--lang", "zh")
    assert r.exit_code == 0 and "输出尺寸" in r.stdout and "SAM 3 的选择" in r.stdout
    r = run("64", "-k", "2", "-g", "2", "--lang", "zh")
    assert r.exit_code == 1 and r.stderr.strip().startswith("错误: groups=2 用于拆分通道")


GOLDEN_CASES = {
    "k2_s2": ["64", "-k", "2", "-s", "2"],
    "sam3_tensor": ["1x1280x64x64", "-k", "2", "-s", "2", "--out-channels", "640"],
    "k3_s2_2d_zh": ["64x48", "-k", "3", "-s", "2", "-p", "1", "--output-padding", "1", "--lang", "zh"],
    "dilation_output_padding": ["4", "-k", "3", "-s", "1", "-d", "2", "--output-padding", "1"],
    "target_64_128": ["64", "--target", "128"],
}


@pytest.mark.parametrize("name", sorted(GOLDEN_CASES))
def test_golden(name):
    r = run(*GOLDEN_CASES[name], "--no-color")
    assert r.exit_code == 0, r.output
    check_golden(name, r.stdout)


def doc_commands(name: str) -> list[list[str]]:
    import re
    import shlex

    text = readme_section(name)
    blocks = re.findall(r"```bash\n(.*?)```", text, re.S)
    return [shlex.split(line)[1:] for block in blocks for line in block.splitlines() if line.startswith("convt ")]


def test_readme_section_examples_work_as_written():
    commands = doc_commands("shape")
    assert len(commands) >= 4
    for args in commands:
        r = runner.invoke(app, args, env=ENV)
        assert r.exit_code == 0, (args, r.output)
    r = run("64", "-k", "2", "-s", "2", "--output-padding", "2")
    doc = readme_section("shape")
    assert r.exit_code == 1 and f"`{r.stderr.strip()}`" in doc
