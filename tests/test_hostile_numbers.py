"""Hostile numbers (issue #20, classes 3, 11 and 12): cost products that overflow int64, magnitudes up to
1e308 on screen, and warnings that would break the one-line promise.

Every command runs in a subprocess under a time bound and an address-space limit (tests/hostile.py):
the right answer, or one ``Error:`` line with exit 1/2; never exit 3, a traceback or a warning line.
"""

from __future__ import annotations

import math
import re
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from convt_cli.limits import human_bytes
from convt_cli.numbers import format_number, sci
from convt_cli.render.compare import human_flops
from convt_cli.render.neck import si

sys.path.insert(0, str(Path(__file__).resolve().parent))

from hostile import assert_answer_or_error, run_convt  # noqa: E402


def assert_no_warning(outcome) -> None:
    assert not re.search(r"Warning\b|warnings\.warn", outcome.stderr), "a warning line: " + outcome.describe()


def checked(args: list[str], **kw):
    outcome = run_convt(args, **kw)
    assert_no_warning(outcome)
    return outcome


# ------------------------------------------------------------------ class 3: cost products never wrap around

@pytest.mark.parametrize("args", [
    # 2097152**3 == 2**63: an int64 product wraps to a negative number and used to pass the budget
    ["port", "ConvTranspose3d(1, 1, 2)", "--size", "2097152x2097152x2097152", "--to", "onnx"],
    # 3037000500**2 > 2**63 - 1
    ["shape", "8", "--layer", "ConvTranspose2d(1, 1, kernel_size=(3037000500, 3037000500))"],
    ["port", "ConvTranspose2d(1, 1, kernel_size=(3037000500, 3037000500))", "--to", "onnx"],
    ["show", "--random", "2097152x2097152x2097152", "--no-torch"],
])
def test_class3_cost_estimates_do_not_overflow(args):
    outcome = checked(args)
    assert_answer_or_error(outcome, expect="error", words=("memory budget",))
    assert outcome.returncode == 1
    # The size is named as a number that reads (scientific past PiB), never a 25-digit run.
    assert not re.search(r"\d{16,}", outcome.stderr), outcome.describe()


# ----------------------------------------------------------------------- class 11: numbers on screen

def test_class11_numbers_on_screen():
    out = checked(["show", "-i", "1e100", "-k", "1", "-s", "1", "--no-torch"])
    assert_answer_or_error(out, expect="answer")
    assert "│ 1e+100 │" in out.stdout and "Step 1: input[0] = 1e+100" in out.stdout
    assert not re.search(r"\d{16,}", out.stdout), out.describe()  # never a run of digits a cell cuts

    out = checked(["compare", "-i", "1e100,1;1,1"])
    assert_answer_or_error(out, expect="answer")
    # Every bilinear cell holds its value (no blank cells), and each parses back to PyTorch's value.
    assert "7.5e+99" in out.stdout and "5.625e+99" in out.stdout and "6.667e+99" in out.stdout
    for start, end in (("align_corners=False →", "align_corners=True →"), ("align_corners=True →", "nearest and")):
        block = out.stdout.split(start, 1)[1].split(end, 1)[0]
        cells = [float(c) for c in re.findall(r"│ *([-+.e0-9]+) (?=│)", block)]
        assert len(cells) == 16, out.describe()  # a 4×4 grid, no blank cell
        assert max(cells) == 1e100


def test_class11_float16_overflow_to_the_same_inf_as_torch_agrees(tmp_path):
    pytest.importorskip("torch")
    np.save(tmp_path / "x.npy", np.array([60000.0, 1.0], dtype=np.float16))
    np.save(tmp_path / "k.npy", np.array([2.0], dtype=np.float16))
    out = checked(["show", "-i", str(tmp_path / "x.npy"), "-k", str(tmp_path / "k.npy"), "-s", "1"], timeout=90)
    assert_answer_or_error(out, expect="answer")
    assert "│ inf │" in out.stdout
    assert "✓ Equals torch.nn.functional.conv_transpose1d" in out.stdout, out.describe()


def test_class11_prefixes_round_before_choosing():
    assert si(999_600) == "1 M"  # was "1e+03 k"
    assert si(999_400) == "999 k"
    assert si(26_843_545_600, "MAC") == "26.8 GMAC"
    assert si(999) == "999" and si(999.6) == "1 k"
    assert human_flops(999_950) == "1 M" and human_flops(26_843_545_600) == "26.84 G"
    assert human_bytes(1024**2 - 1) == "1.0 MiB"
    assert human_bytes(4.8e30) == "4.26e+15 PiB"
    assert human_bytes(1e308).endswith(" PiB") and "e+" in human_bytes(1e308)


def _reads_back(value: float, precision: int, text: str) -> bool:
    if "e" in text:
        return abs(round(value, precision)) >= 1e15 and float(text) == float(f"{value:.{precision}e}")
    return float(text) == round(value, precision)


@given(st.floats(allow_nan=False, allow_infinity=False, min_value=-1.8e308, max_value=1.8e308),
       st.integers(0, 8))
def test_formatter_reads_back_every_magnitude(value, precision):
    """Every magnitude up to 1e308: the text parses back to the value rounded to the printed precision,
    in scientific notation where a plain number would not fit (1e15 and up), at most 24 characters."""
    text = format_number(value, precision)
    assert _reads_back(value, precision, text), (value, precision, text)
    assert len(text) <= 24 + precision, text
    assert text != "-0"


@given(st.integers(-300, 308), st.floats(1, 10, exclude_max=True), st.integers(0, 6))
def test_formatter_every_decade(exponent, mantissa, precision):
    value = mantissa * 10.0**exponent
    if not math.isfinite(value):
        return
    text = format_number(value, precision)
    assert _reads_back(value, precision, text), (value, text)
    assert float(sci(value, precision)) == float(f"{value:.{precision}e}")


# ---------------------------------------------------------------------- class 12: no warning lines

def test_class12_no_warning_lines(tmp_path):
    out = checked(["show", "--bias", "1e308", "-k", "1e308,1;1,1", "--no-torch"])
    assert_answer_or_error(out, expect="answer")
    assert "inf" in out.stdout
    # A name longer than the file system allows: one Error line, exit 1 (was exit 3).
    out = checked(["show", "-i", "a" * 300 + ".npy", "--no-torch"], cwd=tmp_path)
    assert_answer_or_error(out, expect="error", words=("cannot be read", "File name too long"))
    assert out.returncode == 1


def test_class12_a_verify_function_returning_inf_prints_no_warning(tmp_path):
    pytest.importorskip("torch")
    (tmp_path / "infs.py").write_text(
        "import numpy as np\n"
        "def f(x, weight, bias, **kw):\n"
        "    return np.full((1,), np.inf) * np.array([np.inf]) - np.inf\n", encoding="utf-8")
    out = checked(["verify", "--impl", str(tmp_path / "infs.py") + ":f", "--cases", "2", "--dims", "2"],
                  cwd=tmp_path, timeout=120)
    assert out.returncode == 1 and not out.timed_out, out.describe()  # the cases fail: a report, not a crash
    assert "Traceback" not in out.stderr and "cases failed" in out.stdout
