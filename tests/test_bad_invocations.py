"""Issue 8: a table of bad invocations across every command — one plain answer each, no traceback.

Each row: the arguments, the exit code (1 for bad input, 2 for usage) and words the message must
contain. Files the rows need are made in a temporary directory that is also the working directory,
and afterwards it must hold nothing new (nothing is written half-way).
"""

from __future__ import annotations

import os

import numpy as np
import pytest
from typer.testing import CliRunner

from convt_cli.cli import app

runner = CliRunner()

CASES = [
    # show: matrices
    (["show", "-i", "1,2;3"], 1, ["ragged", "2, 1"]),
    (["show", "-i", "1,x"], 1, ["'x'", "not a number"]),
    (["show", "-i", ""], 1, ["empty"]),
    (["show", "-i", "nan,1"], 1, ["NaN"]),
    (["show", "-i", "1,inf"], 1, ["infinity"]),
    (["show", "-i", "1e999"], 1, ["too large"]),
    (["show", "-i", "١,٢"], 1, ["not a number"]),
    (["show", "-k", "1,2"], 1, ["kernel", "dims"]),
    (["show", "-i", "[[1,2],[3]]"], 1, ["ragged"]),
    (["show", "-i", "[1, true]"], 1, ["list of numbers"]),
    # show: parameters
    (["show", "-s", "0"], 1, ["stride=0", "positive"]),
    (["show", "-s", "2", "--output-padding", "2"], 1, ["output_padding=2", "smaller than stride=2 or dilation=1"]),
    (["show", "-p", "-1"], 1, ["padding=-1", "negative"]),
    (["show", "-d", "0"], 1, ["dilation=0"]),
    (["show", "-s", "2,1,1"], 1, ["stride=[2, 1, 1]", "2 values"]),
    (["show", "-s", "two"], 1, ["stride", "whole number"]),
    (["show", "-i", "1,2;3,4", "-k", "1,1,1;1,1,1;1,1,1", "-p", "5"], 1, ["too small"]),
    # show: files
    (["show", "-i", "nofile.npy"], 1, ["nofile.npy", "does not exist"]),
    (["show", "-i", "ragged.csv"], 1, ["ragged"]),
    (["show", "-i", "junk.npy"], 1, ["not a valid .npy"]),
    (["show", "-i", "empty.csv"], 1, ["empty"]),
    (["show", "-i", "obj.json"], 1, ["list of numbers"]),
    (["show", "-i", "adir.npy"], 1, ["directory"]),
    (["show", "-i", "strings.npy"], 1, ["numeric"]),
    (["show", "-i", "-"], 1, ["empty"]),  # empty stdin
    # show: limits, export, options
    (["show", "--random", "100000x100000"], 1, ["74.5 GiB", "memory budget"]),
    (["show", "--random", "0x3"], 1, ["at least 1"]),
    (["show", "--export", "out.jpg", "--no-torch"], 1, ["unsupported extension"]),
    (["show", "--export", "missing/out.svg", "--no-torch"], 1, ["does not exist"]),
    (["show", "--export", "exists.txt", "--no-torch"], 1, ["already exists", "--force"]),
    (["show", "--view", "sideways"], 2, ["sideways"]),
    (["show", "--lang", "fr"], 2, ["fr"]),
    (["show", "--max-steps", "-1"], 2, ["max-steps"]),
    # show: hostile input (issue 16), refused before any work with what to change
    (["show", "-i", "1,,2", "-k", "1"], 1, ["'1,,2'", "empty value between commas"]),
    (["show", "--random-kernel", "1000x1000", "--no-torch"], 1, ["4,000,000 cell writes", "--max-steps 0"]),
    (["show", "--random", "10x10", "--random-kernel", "100x100", "--no-torch", "--max-steps", "50"], 1,
     ["500,000 cell writes", "--max-steps 20 or fewer"]),
    (["show", "--random-kernel", "1000x1000", "--no-torch", "--max-steps", "0", "--view", "gather"], 1,
     ["1.00e+12 multiply-adds", "--view scatter"]),
    (["show", "--random", "1000x1000", "--random-kernel", "1000x1000", "--no-torch", "--max-steps", "0"], 1,
     ["1.00e+12 multiply-adds", "smaller input or kernel"]),
    (["show", "--export", "a" * 300 + ".svg", "--no-torch"], 1, ["bytes long", "at most"]),
    # verify
    (["verify", "--dims", "4"], 2, ["dims"]),
    (["verify", "--dtype", "int8"], 2, ["int8"]),
    (["verify", "--cases", "0"], 2, ["--cases"]),
    (["verify", "--case", "garbage"], 2, ["1d, 2d or 3d"]),
    (["verify", "--case", "2d x=1x4x99999x99999 w=4x4x3x3"], 1, ["memory budget"]),
    (["verify", "--impl", "nosuchmodule:f"], 2, ["nosuchmodule"]),
    (["verify", "--impl", "notmod.py:f"], 2, ["no attribute 'f'"]),
    (["verify", "--impl", "missing.py:f"], 2, ["does not exist"]),
    (["verify", "--lang", "xx"], 2, ["xx"]),
    # neck
    (["neck", "--shape", "1x1280x64"], 1, ["4-d"]),
    (["neck", "--shape", "1x0x64x64"], 1, ["at least 1"]),
    (["neck", "--shape", "1x1280x64.5x64"], 1, ["whole number"]),
    (["neck", "--shape", "1x-3x64x64"], 1, ["at least 1"]),
    (["neck", "--scales", "3"], 1, ["scale 3", "not supported"]),
    (["neck", "--preset", "sam4"], 1, ["sam4"]),
    (["neck", "--device", "tpu"], 1, ["tpu"]),
    (["neck", "--dtype", "float64"], 1, ["float64"]),
    (["neck", "--d-model", "0"], 1, ["--d-model 0"]),
    (["neck", "--shape", "1x2x8x8", "--scales", "4"], 1, ["at least 4 input channels"]),
    (["neck", "--shape", "1x65536x4096x4096", "--device", "cpu"], 1, ["memory", "--device meta"]),
    # audit
    (["audit", "notmod.py:build", "--shape", "1x3x8x8"], 1, ["has no 'build'"]),
    (["audit", "notmod.py:x", "--shape", "1x3x8x8"], 1, ["x is not callable"]),
    (["audit", "missing.py:build", "--shape", "1x3x8x8"], 1, ["no such file missing.py"]),
    (["audit", "missing.onnx"], 1, ["no such ONNX file"]),
    (["audit", "notmod.py"], 1, ["path/to/file.py:FUNC"]),
    (["audit", "notmod.py:x", "--shape", "1x0x8"], 1, ["at least 1"]),
    (["audit", "notmod.py:x", "--shape", "1x3x8x8", "--weights", "exists.txt"], 1, [".txt is not read"]),
    (["audit", "notmod.py:x", "--shape", "1x3", "--heatmap", "out.svg"], 1, [".svg"]),
    (["audit"], 2, []),
    # shape
    (["shape", "0", "-k", "2", "-s", "2"], 1, ["at least 1"]),
    (["shape", "64", "-k", "2", "-s", "2", "--output-padding", "2"], 1, ["output_padding=2"]),
    (["shape", "64", "-k", "0"], 1, ["kernel size 0"]),
    (["shape", "abc"], 1, ["whole number"]),
    (["shape", "7x7x7", "--target", "20x20x20", "--max-kernel", "64", "--max-stride", "64"], 1,
     ["34,635,764 combinations", "--max-stride 14"]),
    (["shape", "2", "-k", "1", "-p", "5"], 1, ["too small"]),
    (["shape"], 2, []),
    # compare
    (["compare", "--scale", "0"], 1, ["scale=0"]),
    (["compare", "-i", "1,2,3"], 1, ["2-d grid"]),
    (["compare", "--channels", "1280"], 1, ["C_in,C_out"]),
    (["compare", "--lang", "xx"], 2, ["xx"]),
    # the app itself
    (["frobnicate"], 2, ["frobnicate"]),
    (["show", "--no-such-option"], 2, ["--no-such-option"]),
]


@pytest.fixture()
def workdir(tmp_path):
    (tmp_path / "ragged.csv").write_text("1,2\n3\n")
    (tmp_path / "junk.npy").write_bytes(b"\x93NUMPY garbage")
    (tmp_path / "empty.csv").write_text("")
    (tmp_path / "obj.json").write_text('{"a": 1}')
    (tmp_path / "adir.npy").mkdir()
    (tmp_path / "exists.txt").write_text("keep me")
    (tmp_path / "notmod.py").write_text("x = 1\n")
    np.save(tmp_path / "strings.npy", np.array(["a", "b"]))
    before = sorted(os.listdir(tmp_path))
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        yield tmp_path
    finally:
        os.chdir(cwd)
    assert sorted(os.listdir(tmp_path)) == before, "a bad invocation left a file behind"
    assert (tmp_path / "exists.txt").read_text() == "keep me"


def test_the_table_is_large_enough():
    assert len(CASES) >= 40
    assert {c[0][0] for c in CASES} >= {"show", "verify", "neck", "audit", "shape", "compare"}


@pytest.mark.parametrize("args, code, words", CASES, ids=[" ".join(c[0])[:60] for c in CASES])
def test_bad_invocation(workdir, args, code, words):
    result = runner.invoke(app, args, input="", env={"COLUMNS": "100", "CONVT_LANG": "en"})
    assert result.exit_code == code, (result.stdout, result.stderr)
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    if code == 1:
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
        assert result.stdout == ""
    for word in words:
        assert word in " ".join(result.stderr.split()), (word, result.stderr)


ZH_CASES = [
    (["show", "-s", "0"], "第 0 维的 stride=0 必须为正数"),
    (["show", "-s", "2", "--output-padding", "2"], "第 0 维的 output_padding=2 必须小于 stride=2 或 dilation=1"),
    (["show", "-i", "1,2;3"], "输入参差不齐"),
    (["show", "-i", "1,x"], "输入 第 1 行的值 'x' 不是数字"),
    (["show", "-i", "nofile.npy"], "输入文件 'nofile.npy' 不存在"),
    (["show", "-p", "3"], "太小"),
    (["show", "--export", "out.jpg", "--no-torch"], "不受支持"),
    (["show", "-i", "1,,2", "-k", "1"], "在逗号之间缺少值"),
    (["show", "--random-kernel", "1000x1000", "--no-torch"], "超过步骤视图的上限 200,000"),
    (["shape", "7x7x7", "--target", "20x20x20", "--max-kernel", "64", "--max-stride", "64"], "超过上限 100,000"),
]


@pytest.mark.parametrize("args, words", ZH_CASES)
def test_bad_input_in_chinese(workdir, args, words):
    result = runner.invoke(app, [*args, "--lang", "zh"], env={"COLUMNS": "100"})
    assert result.exit_code == 1
    assert result.stderr.startswith("错误: ") and words in result.stderr, result.stderr
    assert "must" not in result.stderr  # the sentence itself is Chinese, not only the prefix
