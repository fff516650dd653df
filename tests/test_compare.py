"""`convt compare`: the numbers against torch and against hand computation; costs against torch modules;
overlap maps against the recorded scatter; CLI text, JSON, errors, golden renders at width 80.

Golden files live in tests/golden/compare/; after inspecting a change, regenerate them with
``CONVT_REGEN_GOLDEN=1 pytest tests/test_compare.py``.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from golden import check_golden_file
from readme_text import readme_section
from typer.testing import CliRunner

from convt_cli.cli import app
from convt_cli.errors import ConvtError
from convt_cli.steps import trace_scatter
from convt_cli.upsampling import compare, compare_dict, cost_table

torch = pytest.importorskip("torch")
F = torch.nn.functional

runner = CliRunner()
ENV = {"COLUMNS": "80", "CONVT_LANG": "en", "LANG": "C"}
GOLDEN = Path(__file__).parent / "golden" / "compare"
GRID = np.arange(1, 17).reshape(4, 4)


def run(*args: str):
    return runner.invoke(app, ["compare", *args], env=ENV)


def check_golden(name: str, text: str) -> None:
    check_golden_file(GOLDEN / f"{name}.txt", text)


def bilinear_by_hand(x: np.ndarray, scale: int, align_corners: bool) -> np.ndarray:
    """PyTorch's bilinear rule written out with loops (no torch, no engine)."""
    h, w = x.shape
    oh, ow = h * scale, w * scale

    def src(dst: int, n_in: int, n_out: int) -> float:
        if align_corners:
            return dst * (n_in - 1) / (n_out - 1) if n_out > 1 else 0.0
        return max((dst + 0.5) / scale - 0.5, 0.0)

    out = np.zeros((oh, ow))
    for r in range(oh):
        sy = src(r, h, oh)
        y0 = min(int(np.floor(sy)), h - 1)
        y1 = min(y0 + 1, h - 1)
        fy = sy - y0
        for c in range(ow):
            sx = src(c, w, ow)
            x0 = min(int(np.floor(sx)), w - 1)
            x1 = min(x0 + 1, w - 1)
            fx = sx - x0
            out[r, c] = ((1 - fy) * ((1 - fx) * x[y0, x0] + fx * x[y0, x1])
                         + fy * ((1 - fx) * x[y1, x0] + fx * x[y1, x1]))
    return out


def test_default_numbers_by_hand():
    report = compare()
    assert report.input.tolist() == GRID.tolist()
    # nearest: each input value fills a 2×2 block
    assert report.output("nearest").tolist() == np.repeat(np.repeat(GRID, 2, 0), 2, 1).tolist()
    # ConvTranspose with the explainer's kernel [[1, 0], [0, 1]], stride 2: each value on its block's diagonal
    hand = np.zeros((8, 8))
    for i in range(4):
        for j in range(4):
            hand[2 * i, 2 * j] = hand[2 * i + 1, 2 * j + 1] = GRID[i, j]
    assert report.output("conv_transpose").tolist() == hand.tolist()
    # bilinear, align_corners=False: first row 1, 1.25, 1.75, ... , 3.75, 4 (src x = (dst + 0.5)/2 - 0.5)
    assert report.output("bilinear")[0].tolist() == [1, 1.25, 1.75, 2.25, 2.75, 3.25, 3.75, 4]
    assert report.output("bilinear")[:, 0].tolist() == [1, 2, 4, 6, 8, 10, 12, 13]
    # align_corners=True keeps the four corners and steps by 3/7 along the first row
    ac = report.output("bilinear_align_corners")
    assert (ac[0, 0], ac[0, -1], ac[-1, 0], ac[-1, -1]) == (1, 4, 13, 16)
    np.testing.assert_allclose(ac[0], 1 + np.arange(8) * 3 / 7, rtol=0, atol=1e-12)
    np.testing.assert_allclose(report.output("bilinear"), bilinear_by_hand(GRID, 2, False), atol=1e-12)
    np.testing.assert_allclose(ac, bilinear_by_hand(GRID, 2, True), atol=1e-12)
    assert report.torch_check.agrees and report.torch_check.max_abs_diff == 0
    assert report.same_as_conv_transpose == ()


@pytest.mark.parametrize(("x", "k", "scale", "p", "op"), [
    (GRID, [[1, 0], [0, 1]], 2, 0, 0),
    ([[0.5, -1.0, 2.0], [3.0, 0.25, -2.0]], [[1, 2, 3], [4, 5, 6], [7, 8, 9]], 2, 1, 1),
    ([[1, 2], [3, 4]], [[1, 1, 1], [1, 1, 1], [1, 1, 1]], 3, 0, 2),
    (np.linspace(-1, 1, 15).reshape(3, 5), [[0.1, 0.2], [0.3, 0.4]], 4, 0, 0),
])
def test_numbers_against_torch(x, k, scale, p, op):
    report = compare(x, k, scale=scale, padding=p, output_padding=op)
    tx = torch.as_tensor(np.asarray(x, dtype=np.float64))[None, None]
    tk = torch.as_tensor(np.asarray(k, dtype=np.float64))[None, None]
    expected = {
        "nearest": F.interpolate(tx, scale_factor=scale, mode="nearest"),
        "bilinear": F.interpolate(tx, scale_factor=scale, mode="bilinear", align_corners=False),
        "bilinear_align_corners": F.interpolate(tx, scale_factor=scale, mode="bilinear", align_corners=True),
        "conv_transpose": F.conv_transpose2d(tx, tk, stride=scale, padding=p, output_padding=op),
    }
    for method, want in expected.items():
        got = report.output(method)
        assert got.shape == tuple(want.shape[2:]), method
        torch.testing.assert_close(torch.as_tensor(got, dtype=torch.float64), want[0, 0], msg=method)
    assert report.torch_check.agrees


def test_kernel_of_ones_reproduces_nearest():
    report = compare(GRID, np.ones((2, 2)))
    assert report.same_as_conv_transpose == ("nearest",)
    report = compare([[1, 2], [3, 4]], np.ones((3, 3)), scale=3)
    assert report.same_as_conv_transpose == ("nearest",)


def test_costs_against_torch_modules():
    rows = {r.method: r for r in cost_table((1280, 640), (64, 64), (2, 2), 2)}
    convt = torch.nn.ConvTranspose2d(1280, 640, 2, 2, device="meta")
    conv = torch.nn.Conv2d(1280, 640, 3, padding=1, device="meta")
    x = torch.empty(1, 1280, 64, 64, device="meta")
    up = F.interpolate(x, scale_factor=2, mode="nearest")
    assert rows["conv_transpose"].parameters == sum(p.numel() for p in convt.parameters()) == 3_277_440
    assert rows["resize_conv"].parameters == sum(p.numel() for p in conv.parameters()) == 7_373_440
    assert rows["conv_transpose"].output_shape == tuple(convt(x).shape) == (1, 640, 128, 128)
    assert rows["resize_conv"].output_shape == tuple(conv(up).shape)
    for name in ("nearest", "bilinear", "bilinear_align_corners"):
        assert rows[name].parameters == 0 and rows[name].output_shape == tuple(up.shape)
        assert not rows[name].changes_channels
    assert rows["conv_transpose"].changes_channels and rows["resize_conv"].changes_channels
    # FLOPs by hand: 2 per multiply-add; each of 64·64 inputs meets 1280·640·4 weights
    assert rows["conv_transpose"].flops == 2 * 1280 * 640 * 4 * 64 * 64 == 26_843_545_600
    assert rows["resize_conv"].flops == 2 * 1280 * 640 * 9 * 128 * 128
    assert rows["nearest"].flops == 0 and rows["bilinear"].flops == 7 * 1280 * 128 * 128


def test_cost_shape_with_other_kernels_matches_torch():
    rows = {r.method: r for r in cost_table((8, 3), (5, 7), (3, 4), 2, 1, 1)}
    m = torch.nn.ConvTranspose2d(8, 3, (3, 4), 2, 1, 1, device="meta")
    assert rows["conv_transpose"].output_shape == tuple(m(torch.empty(1, 8, 5, 7, device="meta")).shape)
    assert rows["conv_transpose"].parameters == sum(p.numel() for p in m.parameters())


def test_overlap_maps_match_the_recorded_scatter():
    report = compare()
    maps = {(m.kernel, m.stride): m for m in report.overlap_maps}
    assert list(maps) == [(3, 2), (4, 2), (2, 2)]
    for (k, s), m in maps.items():
        trace = trace_scatter(np.ones((3, 3)), np.ones((k, k)), stride=s)
        assert m.counts.tolist() == trace.write_counts.tolist()
    # interior pattern of k=3, s=2 by hand: per axis 1/2 → 1, 2, 4 in 2-D (docs/semantics.md §1)
    assert maps[(3, 2)].counts[1:-1, 1:-1].tolist() == [[1, 2, 1, 2, 1], [2, 4, 2, 4, 2], [1, 2, 1, 2, 1],
                                                         [2, 4, 2, 4, 2], [1, 2, 1, 2, 1]]
    assert maps[(3, 2)].verdict.kind == "uneven"
    assert (maps[(4, 2)].counts[2:-2, 2:-2] == 4).all() and maps[(4, 2)].verdict.kind == "even"
    assert (maps[(2, 2)].counts == 1).all() and maps[(2, 2)].sam3 and maps[(2, 2)].yours
    extra = compare(GRID, np.ones((5, 5)), scale=3).overlap_maps
    assert (extra[-1].kernel, extra[-1].stride, extra[-1].yours) == (5, 3, True)


def test_invalid_inputs():
    with pytest.raises(ConvtError, match="2-d grid"):
        compare([1, 2, 3])
    with pytest.raises(ConvtError, match="scale=0"):
        compare(scale=0)
    with pytest.raises(ConvtError, match="output_padding=2 in dim 0 must be smaller than stride=2"):
        compare(output_padding=2)
    with pytest.raises(ConvtError, match="too small"):
        compare([[1, 2], [3, 4]], padding=5)


# ---------------------------------------------------------------- CLI


def test_cli_default_text():
    r = run()
    assert r.exit_code == 0, r.output
    out = " ".join(r.stdout.split())  # prose wraps at the width
    for label in ("nearest → 8×8", "bilinear, align_corners=False → 8×8", "bilinear, align_corners=True → 8×8",
                  "ConvTranspose2d, k=2×2, s=2 → 8×8", "3,277,440", "26.84 G", "1×640×128×128", "★ SAM 3 choice",
                  "resize-then-convolve", "checked against torch.nn.functional.conv_transpose2d: agrees"):
        assert label in out, label


def test_cli_json_against_torch():
    r = run("-i", "1,2;3,4", "-k", "1,2;3,4", "--scale", "2", "--json")
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    tx = torch.tensor([[[[1.0, 2.0], [3.0, 4.0]]]], dtype=torch.float64)
    assert data["outputs"]["conv_transpose"]["values"] == F.conv_transpose2d(tx, tx, stride=2)[0, 0].tolist()
    assert data["outputs"]["bilinear"]["values"] == F.interpolate(tx, scale_factor=2, mode="bilinear",
                                                                 align_corners=False)[0, 0].tolist()
    assert data["torch_check"]["agrees"] is True
    costs = {c["method"]: c for c in data["costs"]}
    assert costs["conv_transpose"]["parameters"] == 1280 * 640 * 4 + 640
    assert data == json.loads(json.dumps(compare_dict(compare([[1, 2], [3, 4]], [[1, 2], [3, 4]]))))


def test_cli_channels_and_size():
    r = run("--channels", "640,320", "--size", "128", "--json")
    costs = {c["method"]: c for c in json.loads(r.stdout)["costs"]}
    assert costs["conv_transpose"]["parameters"] == 640 * 320 * 4 + 320
    assert costs["conv_transpose"]["output_shape"] == [1, 320, 256, 256]
    assert costs["nearest"]["output_shape"] == [1, 640, 256, 256]


@pytest.mark.parametrize(("args", "message"), [
    (["-i", "1,2,3"], "Error: input has shape [3]; compare needs a 2-d grid"),
    (["-k", "1,2;3"], "Error: kernel is ragged"),
    (["--scale", "0"], "Error: scale=0 must be a positive whole number"),
    (["--channels", "1280"], "Error: channels '1280' must be two numbers"),
    (["--size", "0x3"], "Error: size '0x3': 0 must be at least 1"),
    (["--output-padding", "2"], "Error: output_padding=2 in dim 0 must be smaller than stride=2 or dilation=1"),
    (["-i", "missing.npy"], "Error: input file 'missing.npy' does not exist"),
    (["-p", "5", "-i", "1,2;3,4"], "Error: output size (-6 x -6) computed for input size (2 x 2) is too small"),
])
def test_cli_errors_one_line_exit_1(args, message):
    r = run(*args)
    assert r.exit_code == 1, r.output
    assert r.stdout == ""
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(message), lines


@pytest.mark.parametrize("args", [["--precision", "11"], ["--scale", "two"], ["--lang", "de"]])
def test_cli_usage_errors_exit_2(args):
    assert run(*args).exit_code == 2


def test_cli_chinese_error():
    r = run("--scale", "0", "--lang", "zh")
    assert r.exit_code == 1 and r.stderr.strip() == "错误: scale=0 必须是正整数（它也是 stride）"


GOLDEN_CASES = {
    "default": [],
    "default_zh": ["--lang", "zh"],
    "ones_kernel_same_as_nearest": ["-i", "1,2;3,4", "-k", "1,1;1,1", "--channels", "640,320", "--size", "128x128"],
    "k3_s2_padding": ["-i", "1,2,3;4,5,6", "-k", "1,2,1;2,4,2;1,2,1", "-p", "1", "--output-padding", "1"],
}


@pytest.mark.parametrize("name", sorted(GOLDEN_CASES))
def test_golden(name):
    r = run(*GOLDEN_CASES[name], "--no-color")
    assert r.exit_code == 0, r.output
    check_golden(name, r.stdout)


def test_readme_section_examples_work_as_written():
    import re
    import shlex

    text = readme_section("compare")
    blocks = re.findall(r"```bash\n(.*?)```", text, re.S)
    commands = [shlex.split(line)[1:] for b in blocks for line in b.splitlines() if line.startswith("convt ")]
    assert len(commands) >= 3
    for args in commands:
        r = runner.invoke(app, args, env=ENV)
        assert r.exit_code == 0, (args, r.output)
    default = run().stdout
    for claim in ("3,277,440", "26.84 G"):
        assert claim in text and claim in default


def test_low_precision_files_are_compared_at_float64(tmp_path):
    path = tmp_path / "x.npy"
    np.save(path, np.linspace(0.1, 1.7, 12, dtype=np.float16).reshape(3, 4))
    r = run("-i", str(path), "-k", "0.3,0.7;0.1,0.9", "--json")
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    assert data["torch_check"]["agrees"] is True
    x64 = torch.as_tensor(np.load(path).astype(np.float64))[None, None]
    k64 = torch.tensor([[[[0.3, 0.7], [0.1, 0.9]]]], dtype=torch.float64)
    assert data["outputs"]["conv_transpose"]["values"] == F.conv_transpose2d(x64, k64, stride=2)[0, 0].tolist()


def test_grids_too_large_for_tables_are_refused_before_work():
    r = run("--scale", "20")
    assert r.exit_code == 1 and r.stdout == ""
    assert r.stderr.startswith("Error: the 4×4 input upsampled by 20 gives grids of up to 80 per side")
    r = run("--scale", "20", "--json")
    assert r.exit_code == 0 and json.loads(r.stdout)["outputs"]["nearest"]["shape"] == [80, 80]


def test_input_from_stdin():
    r = runner.invoke(app, ["compare", "-i", "-", "--json"], input="1 2\n3 4\n", env=ENV)
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["outputs"]["nearest"]["values"] == [[1, 1, 2, 2], [1, 1, 2, 2],
                                                                     [3, 3, 4, 4], [3, 3, 4, 4]]
