"""Issue 16: hostile input, one class per test, each run in a subprocess under a time bound and an
address-space limit (tests/hostile.py). Every command and the library either answer right or refuse
with one ``Error:`` line (exit 1/2): never exit 3, never past the bound.

The engine's classes (huge stride or kernel inside the engine, integer overflow) are in
tests/test_hostile_engine.py; ``--impl`` that fights back is verify's.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from hostile import assert_answer_or_error, run_convt, run_python  # noqa: E402

FAST_S = 15.0  # a refusal or a small answer, without torch
TORCH_S = 40.0  # with torch imported (about 5 s alone on a busy 2-core machine)


# ------------------------------------------------------------------ work before the budget check


def test_huge_stride_in_show_is_computed():
    out = run_convt(["show", "-s", "2500", "--no-torch", "--max-steps", "1"], timeout=FAST_S)
    assert_answer_or_error(out, expect="answer")
    assert "2502 rows" in out.stdout  # the 2502×2502 canvas, drawn compact


def test_huge_kernel_in_show_is_refused_with_what_to_change_or_computed():
    out = run_convt(["show", "--random-kernel", "1000x1000", "--seed", "1", "--no-torch"], timeout=FAST_S)
    assert_answer_or_error(out, expect="error", words=("4,000,000 cell writes", "--max-steps 0"))
    out = run_convt(["show", "--random-kernel", "1000x1000", "--seed", "1", "--no-torch", "--max-steps", "0"],
                    timeout=FAST_S)
    assert_answer_or_error(out, expect="answer")
    assert "of 1002 rows" in out.stdout  # (2 - 1)·2 + 1000 = 1002


def test_per_step_canvases_are_budgeted():
    out = run_convt(["show", "--random", "300x300", "--seed", "1", "--max-steps", "5000", "--no-torch"],
                    budget="500M", timeout=FAST_S)
    assert_answer_or_error(out, expect="error", words=("5000 step(s)", "600×600 canvas", "--max-steps 178"))


def test_views_of_a_big_case_are_refused_before_any_work():
    out = run_convt(["show", "--random-kernel", "1000x1000", "--seed", "1", "--no-torch", "--max-steps", "0",
                     "--view", "gather"], timeout=FAST_S)
    assert_answer_or_error(out, expect="error", words=("multiply-adds", "--view scatter"))
    out = run_convt(["show", "--random", "300x300", "--seed", "1", "--no-torch", "--max-steps", "0",
                     "--view", "matrix"], timeout=FAST_S)
    assert_answer_or_error(out, expect="error", words=("matrix C", "--view scatter"))


def test_target_search_is_bounded():
    out = run_convt(["shape", "7x7x7", "--target", "20x20x20", "--max-kernel", "64", "--max-stride", "64"],
                    timeout=FAST_S)
    assert_answer_or_error(out, expect="error", words=("34,635,764 combinations", "--max-stride 14"))
    out = run_convt(["shape", "7x7x7", "--target", "20x20x20", "--max-kernel", "64", "--max-stride", "6",
                     "--limit", "3"], timeout=FAST_S)
    assert_answer_or_error(out, expect="answer")
    assert re.search(r"showing 3 of \d+", out.stdout)


def test_big_text_file_is_refused_before_parsing(tmp_path):
    big = tmp_path / "big.csv"
    big.write_text((",".join(["0.5"] * 1000) + "\n") * 4000)  # 15.6 MB
    out = run_convt(["show", "-i", str(big), "--no-torch"], budget="50M", timeout=5.0)
    assert_answer_or_error(out, expect="error", words=("parsing input file big.csv", "15.3 MiB of text", ".npy"))


def test_stdin_is_read_with_a_bound():
    text = "1," * 10_000_000 + "1"  # 20 MB on stdin, budget 50M: 3.1 MiB of text may be parsed
    out = run_convt(["show", "-i", "-", "-k", "1", "--no-torch"], stdin=text, budget="50M", timeout=FAST_S)
    assert_answer_or_error(out, expect="error", words=("input from stdin (more than 3.1 MiB)",))


def test_verify_empty_batch_with_a_huge_stride_is_answered():
    """PyTorch answers an empty batch at once whatever the stride; so does verify (its batch-of-one rule
    check reads the shapes when a batch of one would not fit)."""
    out = run_convt(["verify", "--case", "2d x=0x1x2x2 w=1x1x1x1 s=100000"], timeout=TORCH_S)
    assert_answer_or_error(out, expect="answer")
    assert "The case passed" in out.stdout


def test_library_huge_stride_trace():
    out = run_python("import numpy as np; from convt_cli.steps import trace_scatter; "
                     "t = trace_scatter(np.ones((2, 3)), np.ones((1, 2)), stride=(100000, 1), max_steps=6); "
                     "print(t.output.shape, t.output.sum(), t.output[100000].tolist())", timeout=FAST_S)
    assert_answer_or_error(out, expect="answer")
    assert out.stdout.strip() == "(100001, 4) 12.0 [1.0, 2.0, 2.0, 1.0]"


# ------------------------------------------------------------------ wrong numbers


def test_precision_zero_keeps_the_digits_of_integers():
    out = run_convt(["show", "-i", "10.4,20.5,100.2", "-k", "1", "-s", "1", "--precision", "0", "--no-torch",
                     "--max-steps", "0"], timeout=FAST_S)
    assert_answer_or_error(out, expect="answer")
    assert "│ 10 │ 20 │ 100 │" in out.stdout


def test_show_torch_check_infinities_and_cancellation(tmp_path):
    rng = np.random.default_rng(0)
    x = (1000 + rng.normal(size=(100, 3, 3))).astype(np.float32)
    w = np.ones((100, 1, 2, 2), np.float32)
    w[::2] *= -1  # 100 channels of values near 1000 that cancel: float32 sums are off by ~0.02
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "w.npy", w)
    code = (
        "import sys; from convt_cli.cli import run\n"
        "for args in ([], ['-i', '1e200,-1e200', '-k', '1e200,1e200', '-s', '1'],\n"
        f"             ['-i', {str(tmp_path / 'x.npy')!r}, '-k', {str(tmp_path / 'w.npy')!r}, '-s', '1',\n"
        "              '--max-steps', '0']):\n"
        "    sys.argv = ['convt', 'show', *args]\n"
        "    try:\n"
        "        run()\n"
        "    except SystemExit as e:\n"
        "        print('exit', e.code)\n"
    )
    out = run_python(code, timeout=TORCH_S)
    assert_answer_or_error(out, expect="answer")
    assert out.stdout.count("exit 0") == 3, out.describe()
    assert out.stdout.count("✓ Equals torch.nn.functional.conv_transpose") == 3
    assert "nan" not in out.stdout.split("│ inf │ nan │ -inf │")[-1]  # the check line says no nan
    assert "DIFFERS" not in out.stdout


# ------------------------------------------------------------------ the environment: exit 1, never 3


@pytest.mark.parametrize("value, words", [
    ("١٠٠", ("ASCII digits",)), ("1_000", ("ASCII digits",)), ("0.5", ("less than one byte",)),
    ("1e9", ("ASCII digits",)),
])
def test_hostile_budget_values(value, words):
    out = run_convt(["show", "--no-torch"], budget=value, timeout=FAST_S)
    assert_answer_or_error(out, expect="error", words=("CONVT_MAX_BYTES",) + words)


def test_empty_value_between_commas():
    out = run_convt(["show", "-i", "1,,2", "-k", "1", "--no-torch"], timeout=FAST_S)
    assert_answer_or_error(out, expect="error", words=("'1,,2'", "empty value between commas"))


def test_npy_byte_order_and_extended_precision(tmp_path):
    x = np.arange(1, 5, dtype=">f8").reshape(2, 2)
    np.save(tmp_path / "be.npy", x)
    np.save(tmp_path / "le.npy", x.astype("<f8"))
    runs = [run_convt(["show", "-i", str(tmp_path / name), "--no-torch", "--max-steps", "0"], timeout=FAST_S)
            for name in ("be.npy", "le.npy")]
    for out in runs:
        assert_answer_or_error(out, expect="answer")
    assert runs[0].stdout.replace("be.npy", "le.npy") == runs[1].stdout
    if np.dtype(np.longdouble).itemsize > 8:
        np.save(tmp_path / "ld.npy", x.astype(np.longdouble))
        out = run_convt(["show", "-i", str(tmp_path / "ld.npy"), "--no-torch"], timeout=FAST_S)
        assert_answer_or_error(out, expect="error", words=("float128", "float64"))


def test_export_targets_the_system_refuses(tmp_path):
    long_name = str(tmp_path / ("a" * 300 + ".svg"))
    out = run_convt(["show", "--no-torch", "--export", long_name], timeout=FAST_S)
    assert_answer_or_error(out, expect="error", words=("bytes long", "at most"))
    out = run_convt(["show", "--no-torch", "--export", str(tmp_path / "no" / "such" / "dir.svg")], timeout=FAST_S)
    assert_answer_or_error(out, expect="error", words=("does not exist",))
    assert os.listdir(tmp_path) == []


def test_export_on_a_full_disk(tmp_path):
    target = tmp_path / "out.svg"
    code = (
        "import errno, os, sys\n"
        "def full(fd):\n"
        "    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))\n"
        "os.fsync = full\n"
        "from convt_cli.cli import run\n"
        f"sys.argv = ['convt', 'show', '--no-torch', '--export', {str(target)!r}]\n"
        "run()\n"
    )
    out = run_python(code, timeout=FAST_S)
    assert_answer_or_error(out, expect="error", words=("No space left on device", "out.svg"))
    assert os.listdir(tmp_path) == []


def test_export_honours_the_umask(tmp_path):
    old = os.umask(0o022)
    try:
        out = run_convt(["show", "--no-torch", "--export", str(tmp_path / "out.txt")], timeout=FAST_S)
    finally:
        os.umask(old)
    assert_answer_or_error(out, expect="answer")
    assert (tmp_path / "out.txt").stat().st_mode & 0o777 == 0o644
