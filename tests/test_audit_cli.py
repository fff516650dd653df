"""`convt audit` through the CLI: the text report, the JSON schema, Chinese labels, the phase-map PNG,
errors as one sentence, and `audit --help` without torch."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from readme_text import readme_section
from typer.testing import CliRunner

from convt_cli.cli import app

runner = CliRunner()
ROOT = Path(__file__).resolve().parent.parent
SUBPIXEL = ["examples/subpixel.py:build", "--shape", "1x8x32x32", "--weights", "examples/subpixel.safetensors"]
UNET = ["examples/unet.py:build", "--shape", "1x3x64x64", "--weights", "examples/unet.safetensors"]
LAYER_FIELDS = {"name", "op", "input_shape", "output_shape", "params", "macs_scatter", "macs_useful", "bias_adds",
                "overlap", "phase_gain_index", "phase_gain", "checkerboard", "time_ms", "dropped", "index", "kind",
                "overlap_per_cell"}


@pytest.fixture(autouse=True)
def _in_repo(monkeypatch):
    monkeypatch.chdir(ROOT)


def run(*args: str, width: int = 100, **env):
    return runner.invoke(app, ["audit", *args], env={"COLUMNS": str(width), "NO_COLOR": "1", **env})


def test_text_report_names_each_layer_and_the_fix():
    result = run(*UNET)
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "ConvTranspose2d(64, 32, kernel_size=(3, 3), stride=(2, 2), padding=(1, 1)," in out
    assert "uneven overlap, checkerboard (1–4)" in out
    assert "UNet/F.interpolate" in out and "Upsample(scale_factor=2.0, mode='nearest')" in out
    assert "a kernel divisible by the stride" in out
    assert re.search(r"MACs 1\.18 M scatter, 1\.08 M useful \(91\.8 %\)", out)


def test_json_schema_fields_and_totals():
    result = run(*SUBPIXEL, "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["schema"] == "convt.audit/2" and data["weights"]["real"] is True
    assert data["weights"]["missing"] == [] and data["weights"]["unexpected"] == []
    for layer in data["layers"]:
        assert LAYER_FIELDS <= set(layer), set(layer) ^ LAYER_FIELDS
    icnr, rand, shuffle = data["layers"]
    assert icnr["phase_gain_index"] == 0 and icnr["overlap"] == "even" and not icnr["checkerboard"]
    assert rand["phase_gain_index"] > 0.01 and rand["checkerboard"]
    assert shuffle["phase_gain_index"] == 0 and shuffle["overlap"] is None  # Conv2d + PixelShuffle, ICNR
    assert len(rand["phase_gain"]["phase_map"]) == 4 and rand["phase_gain"]["phase_map_shape"] == [2, 2]
    totals = data["totals"]
    assert totals["macs_scatter"] == icnr["macs_scatter"] + rand["macs_scatter"]
    assert totals["macs_cropped"] == totals["macs_scatter"] - totals["macs_useful"] > 0
    assert totals["flagged"] == 1


def all_keys(node, out=None) -> set:
    out = set() if out is None else out
    if isinstance(node, dict):
        for key, value in node.items():
            if key != "onnx_attributes":  # the file's own attribute names
                out.add(key)
                all_keys(value, out)
    elif isinstance(node, list):
        for item in node:
            all_keys(item, out)
    return out


def test_every_json_key_is_documented(tmp_path):
    from test_audit import make_onnx

    doc = (ROOT / "docs" / "audit-json.md").read_text(encoding="utf-8")
    make_onnx(tmp_path / "m.onnx")
    keys = set()
    for args in (SUBPIXEL, UNET, [str(tmp_path / "m.onnx"), "--shape", "1x4x8x8"],
                 ["examples/unet.py:build", "--shape", "1x3x64x64", "--device", "cpu"]):
        result = run(*args, "--json")
        assert result.exit_code == 0, result.output
        keys |= all_keys(json.loads(result.stdout))
    assert not sorted(key for key in keys if f"`{key}`" not in doc)


def test_meta_without_weights_gives_null_phase_gain():
    data = json.loads(run("examples/subpixel.py:build", "--shape", "1x8x32x32", "--json").stdout)
    assert data["weights"]["reason"] == "meta" and data["weights"]["real"] is False
    assert all(layer["phase_gain_index"] is None for layer in data["layers"])


def test_chinese_labels():
    result = run(*SUBPIXEL, "--lang", "zh", width=80)
    assert result.exit_code == 0, result.output
    assert "相位增益" in result.stdout and "棋盘效应" in result.stdout and "phase gain" not in result.stdout


def test_heatmap_png(tmp_path):
    from PIL import Image

    path = tmp_path / "phase.png"
    result = run(*SUBPIXEL, "--heatmap", str(path))
    assert result.exit_code == 0, result.output
    assert f"Wrote {path}" in " ".join(result.stdout.split())  # as show --export says it
    with Image.open(path) as image:
        assert image.format == "PNG" and image.width > 50


def test_heatmap_without_real_weights_is_refused(tmp_path):
    result = run("examples/subpixel.py:build", "--shape", "1x8x32x32", "--heatmap", str(tmp_path / "p.png"))
    assert result.exit_code == 1 and "no transposed convolution" in result.stderr


@pytest.mark.parametrize("args, needle", [
    (["examples/unet.py:nope", "--shape", "1x3x8x8"], "has no 'nope'"),
    (["examples/unet.py:build", "--shape", "1x5x64x64"], "the model rejected the input 1×5×64×64:"),
    (["examples/unet.py:build", "--shape", "1x3x64x64", "--weights", "README.md"], ".md is not read"),
    (["examples/unet.py:build", "--shape", "1x3x64x64", "--device", "tpu"], "--device 'tpu'"),
    (["examples/unet.py:build"], "--shape is needed"),
])
def test_errors_are_one_line_on_stderr_exit_1(args, needle):
    result = run(*args)
    assert result.exit_code == 1, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and needle in lines[0], result.stderr


def test_missing_model_is_a_usage_error():
    assert run().exit_code == 2


def test_audit_help_does_not_import_torch():
    code = ("import sys\nfrom typer.testing import CliRunner\nfrom convt_cli.cli import app\n"
            "r = CliRunner().invoke(app, ['audit', '--help'])\nassert r.exit_code == 0, r.output\n"
            "print('torch' in sys.modules, 'onnx' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False False"


def test_readme_examples_run_as_written():
    section = readme_section("audit")
    commands = [line for block in re.findall(r"```bash\n(.*?)```", section, re.S) for line in block.splitlines()
                if line.startswith("convt audit ")]
    assert len(commands) >= 4
    for line in commands:
        argv = line.split()[1:]
        if "--heatmap" in argv:
            continue
        result = runner.invoke(app, argv, env={"COLUMNS": "80", "NO_COLOR": "1"})
        assert result.exit_code == 0, (line, result.output)
