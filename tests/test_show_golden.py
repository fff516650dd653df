"""Golden renders of `convt show` at a fixed width (80 columns, no colour).

The files under tests/golden/show/ were inspected by hand when written; they are rewritten only with
CONVT_REGEN_GOLDEN=1. Independently of the files, every case's final output is read back from the text
and compared with values stated in the issue/explainer or with the engine.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np
import pytest
from golden import check_golden_file
from typer.testing import CliRunner

from convt_cli.cli import app
from convt_cli.engine import conv_transpose

GOLDEN = Path(__file__).parent / "golden" / "show"
REGEN = os.environ.get("CONVT_REGEN_GOLDEN") == "1"
ENV = {"COLUMNS": "80", "CONVT_LANG": "", "LANG": "C", "NO_COLOR": "1"}
runner = CliRunner()

K3 = "1,2,3;4,5,6;7,8,9"
# name: (arguments, input, kernel, engine keyword arguments, expected final output or None)
CASES = {
    "default": ([], [[1, 2], [3, 4]], [[1, 0], [0, 1]], dict(stride=2),
                [[1, 0, 2, 0], [0, 1, 0, 2], [3, 0, 4, 0], [0, 3, 0, 4]]),
    "overlap": (["-k", "1,1;1,1", "-s", "1", "--no-torch"], [[1, 2], [3, 4]], [[1, 1], [1, 1]], dict(stride=1),
                [[1, 3, 2], [4, 10, 6], [3, 7, 4]]),
    "padding": (["-k", K3, "-p", "1", "--no-torch"], [[1, 2], [3, 4]], np.arange(1, 10).reshape(3, 3),
                dict(stride=2, padding=1), None),
    "output_padding": (["-k", K3, "-p", "1", "--output-padding", "1", "--max-steps", "2", "--no-torch"],
                       [[1, 2], [3, 4]], np.arange(1, 10).reshape(3, 3),
                       dict(stride=2, padding=1, output_padding=1), None),
    "output_padding_zero_bias": (["--output-padding", "1", "--bias", "0.5", "--max-steps", "1", "--no-torch"],
                                 [[1, 2], [3, 4]], [[1, 0], [0, 1]], dict(stride=2, output_padding=1, bias=0.5),
                                 None),
    "dilation": (["-s", "1", "-d", "2", "--max-steps", "2", "--no-torch"], [[1, 2], [3, 4]], [[1, 0], [0, 1]],
                 dict(stride=1, dilation=2), [[1, 2, 0, 0], [3, 4, 0, 0], [0, 0, 1, 2], [0, 0, 3, 4]]),
    "one_d": (["-i", "1,2,3", "-k", "1,1", "--no-torch"], [1, 2, 3], [1, 1], dict(stride=2), [[1, 1, 2, 2, 3, 3]]),
    "checkerboard": (["-i", "1,1,1;1,1,1;1,1,1", "-k", "1,1,1;1,1,1;1,1,1", "--overlap", "--max-steps", "2",
                      "--no-torch"], np.ones((3, 3), int), np.ones((3, 3), int), dict(stride=2), None),
    "three_d": (["--random", "2x2x2", "--random-kernel", "2x2x2", "--seed", "1", "--max-steps", "1", "--no-torch"],
                None, None, None, None),
    "zh": (["--lang", "zh", "--no-torch"], [[1, 2], [3, 4]], [[1, 0], [0, 1]], dict(stride=2),
           [[1, 0, 2, 0], [0, 1, 0, 2], [3, 0, 4, 0], [0, 3, 0, 4]]),
    "gather": (["--view", "gather", "--max-steps", "3", "--no-torch"], [[1, 2], [3, 4]], [[1, 0], [0, 1]],
               dict(stride=2), [[1, 0, 2, 0], [0, 1, 0, 2], [3, 0, 4, 0], [0, 3, 0, 4]]),
    "gather_padding": (["--view", "gather", "-k", K3, "-p", "1", "--max-steps", "1", "--no-torch"],
                       [[1, 2], [3, 4]], np.arange(1, 10).reshape(3, 3), dict(stride=2, padding=1), None),
    "matrix": (["--view", "matrix", "--no-torch"], [[1, 2], [3, 4]], [[1, 0], [0, 1]], dict(stride=2),
               [[1, 0, 2, 0], [0, 1, 0, 2], [3, 0, 4, 0], [0, 3, 0, 4]]),
    "matrix_overlap": (["--view", "matrix", "-k", "1,1;1,1", "-s", "1", "--no-torch"], [[1, 2], [3, 4]],
                       [[1, 1], [1, 1]], dict(stride=1), [[1, 3, 2], [4, 10, 6], [3, 7, 4]]),
}


def final_output(text: str) -> list[list[float]]:
    """The numbers of the box table under the 'Final output' title (row labels, if any, dropped)."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if re.match(r"(Final output|最终输出)", line))
    rows = []
    for line in lines[start + 1:]:
        if "│" in line:
            cells = line.split("│")[1:-1]
            rows.append([float(c.strip()) for c in cells])
        elif not re.match(r"^\s*[┌├└]|^\s*[\d* ]+$", line):
            break
    return rows


def engine_output(x, k, kw) -> np.ndarray:
    kw = dict(kw)
    bias = kw.pop("bias", None)
    b = None if bias is None else np.array([bias])
    x = np.asarray(x)
    k = np.asarray(k)
    return conv_transpose(x[None, None], k[None, None], b, **kw)[0, 0]


@pytest.mark.parametrize("name", sorted(CASES))
def test_golden(name):
    args, x, k, kw, expected = CASES[name]
    result = runner.invoke(app, ["show", *args], env=ENV)
    assert result.exit_code == 0, result.output
    assert "\x1b[" not in result.stdout
    check_golden_file(GOLDEN / f"{name}.txt", result.stdout, exact=True)
    if x is None:
        return
    got = final_output(result.stdout)
    ref = engine_output(x, k, kw)
    assert np.array(got).shape == (ref.shape if ref.ndim == 2 else (1,) + ref.shape)
    np.testing.assert_allclose(np.array(got).reshape(ref.shape), ref)
    if expected is not None:
        assert got == expected


def test_golden_lines_fit_the_width():
    for path in GOLDEN.glob("*.txt"):
        from rich.cells import cell_len

        for line in path.read_text(encoding="utf-8").splitlines():
            assert cell_len(line) <= 80, (path.name, line)


def test_default_golden_checks_torch():
    text = (GOLDEN / "default.txt").read_text(encoding="utf-8")
    assert "✓ Equals torch.nn.functional.conv_transpose2d: max |Δ| = 0" in text
    # At 80 columns the signature wraps between whole parameters, lined up under the first one.
    assert ("ConvTranspose2d(1→1, kernel_size=2, stride=2, padding=0,\n"
            "                output_padding=0, dilation=1)\n") in text
    assert text.count("Step ") == 4


def test_zh_golden_is_chinese():
    text = (GOLDEN / "zh.txt").read_text(encoding="utf-8")
    # The module line is code (PyTorch's own signature); every other label must be Chinese.
    text = "\n".join(line for line in text.splitlines() if not line.startswith("ConvTranspose"))
    assert "步骤1：输入[0,0] = 1" in text
    assert "步骤4：输入[1,1] = 4" in text
    for english in ("Step", "Final output", "Legend", "kernel", "input value", "canvas after", "checked", "skipped"):
        assert english not in text, english
