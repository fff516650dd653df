"""The memory budget and atomic exports."""

from __future__ import annotations

import os

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from convt_cli import conv_transpose
from convt_cli.errors import ConvtError, MemoryBudgetError
from convt_cli.limits import check_bytes, max_bytes, parse_bytes
from convt_cli.output import export_console, make_console, write_atomic
from convt_cli.render.grid import format_number


def test_parse_bytes():
    assert parse_bytes("2G") == 2 * 1024**3
    assert parse_bytes("512MiB") == 512 * 1024**2
    assert parse_bytes("1000") == 1000
    assert parse_bytes("1.5K") == 1536 and parse_bytes("10.7") == 10  # fractions round down to whole bytes
    for bad in ("", "abc", "-5", "1Q", "0", "1e9", "nan", "1..2", "9" * 60):
        with pytest.raises(ConvtError, match="CONVT_MAX_BYTES"):
            parse_bytes(bad)


@pytest.mark.parametrize("text", ["\u0661\u0660\u0660", "1_000", "1_000M", "\uff11\uff10"])
def test_parse_bytes_takes_ascii_digits_only(text):
    with pytest.raises(ConvtError, match="ASCII digits"):
        parse_bytes(text)


@pytest.mark.parametrize("text", ["0.5", "0.9", "0.0001K", ".4"])
def test_parse_bytes_refuses_less_than_one_byte(text):
    with pytest.raises(ConvtError, match="less than one byte"):
        parse_bytes(text)


@pytest.mark.parametrize("value, precision, shown", [
    (10.4, 0, "10"), (20.5, 0, "20"), (21.5, 0, "22"), (100.2, 0, "100"), (1000.0, 0, "1000"),
    (100.0, 3, "100"), (2.5, 3, "2.5"), (-0.0001, 3, "0"), (-10.0, 2, "-10"), (0.1 + 0.2, 12, "0.3"),
    (7, 0, "7"), (np.int64(-120), 2, "-120"), (float("inf"), 0, "inf"), (float("nan"), 2, "nan"),
])
def test_format_number_examples(value, precision, shown):
    assert format_number(value, precision) == shown


@given(st.floats(allow_nan=False, allow_infinity=False, width=64), st.integers(0, 12))
def test_format_number_reads_back_as_the_rounded_value(value, precision):
    text = format_number(value, precision)
    assert reads_back(value, precision, text)
    mantissa = text.split("e")[0]
    decimals = mantissa.split(".")[1] if "." in mantissa else ""
    assert len(decimals) <= precision and not decimals.endswith("0")
    assert text != "-0"


def reads_back(value: float, precision: int, text: str) -> bool:
    """Plain text: the value rounded to ``precision`` decimals; from 1e15 up, scientific notation with
    ``precision`` decimals in the mantissa (never a run of digits a cell would cut)."""
    if "e" in text:
        return abs(round(value, precision)) >= 1e15 and float(text) == float(f"{value:.{precision}e}")
    return abs(float(text)) < 1e15 and float(text) == round(value, precision)


@given(st.integers(0, 12), st.integers(-300, 300), st.floats(1, 10, exclude_max=True),
       st.sampled_from([np.float64, np.float32, np.float16]))
def test_format_number_every_magnitude(precision, exponent, mantissa, dtype):
    with np.errstate(over="ignore"):
        value = dtype(mantissa * 10.0**exponent)
    if not np.isfinite(value):
        return
    assert reads_back(float(value), precision, format_number(value, precision))


@given(st.integers(-(2**63), 2**63 - 1), st.integers(0, 12))
def test_format_number_integers_are_exact(value, precision):
    assert format_number(value, precision) == str(value)
    assert format_number(np.int64(value), precision) == str(value)


def test_budget_from_env(monkeypatch):
    monkeypatch.setenv("CONVT_MAX_BYTES", "1M")
    assert max_bytes() == 1024**2
    with pytest.raises(MemoryBudgetError, match="memory budget of 1.0 MiB"):
        check_bytes(2 * 1024**2, "the input")
    monkeypatch.delenv("CONVT_MAX_BYTES")
    assert 0 < max_bytes()


def test_engine_refuses_before_allocating(monkeypatch):
    monkeypatch.setenv("CONVT_MAX_BYTES", "10K")
    with pytest.raises(MemoryBudgetError, match="output \\[1, 1, 200, 200\\]"):
        conv_transpose(np.ones((1, 1, 100, 100)), np.ones((1, 1, 2, 2)), stride=2)


def test_write_atomic_refuses_overwrite_and_leaves_no_temp(tmp_path):
    target = tmp_path / "out.txt"
    write_atomic(target, "one")
    assert target.read_text() == "one"
    with pytest.raises(ConvtError, match="--force"):
        write_atomic(target, "two")
    write_atomic(target, "two", force=True)
    assert target.read_text() == "two"
    assert os.listdir(tmp_path) == ["out.txt"]


@pytest.mark.parametrize(
    "name, words",
    [("out.png", "unsupported extension"), ("missing/out.svg", "does not exist"), ("", "unsupported")],
)
def test_export_path_errors(tmp_path, name, words):
    console = make_console(record=True, width=40)
    console.print("hello")
    with pytest.raises(ConvtError, match=words):
        export_console(console, tmp_path / name if name else tmp_path)
    assert not any(p.is_file() for p in tmp_path.rglob("*"))


@pytest.mark.parametrize("suffix, marker", [(".svg", "<svg"), (".html", "<html"), (".txt", "hello")])
def test_export_formats(tmp_path, suffix, marker):
    console = make_console(record=True, width=40)
    console.print("hello")
    path = export_console(console, tmp_path / f"r{suffix}")
    assert marker in path.read_text()


# Exports on a hostile file system (issue 16): the umask, a full disk, names too long, unusable paths.


@pytest.mark.parametrize("mask, mode", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_export_honours_the_umask(tmp_path, mask, mode):
    old = os.umask(mask)
    try:
        write_atomic(tmp_path / "out.txt", "x")
    finally:
        os.umask(old)
    assert (tmp_path / "out.txt").stat().st_mode & 0o777 == mode


def test_overwrite_keeps_the_mode(tmp_path):
    target = tmp_path / "out.txt"
    target.write_text("old")
    target.chmod(0o640)
    write_atomic(target, "new", force=True)
    assert target.read_text() == "new" and target.stat().st_mode & 0o777 == 0o640


def test_full_disk_is_an_error_and_leaves_nothing(tmp_path, monkeypatch):
    import errno

    def no_space(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", no_space)
    with pytest.raises(ConvtError, match=r"cannot write the export file .*out.svg.*No space left on device"):
        write_atomic(tmp_path / "out.svg", "<svg/>")
    assert os.listdir(tmp_path) == []


def test_name_longer_than_the_system_allows(tmp_path):
    name = "a" * 300 + ".svg"
    with pytest.raises(ConvtError, match=r"304 bytes long; this file system allows at most \d+"):
        write_atomic(tmp_path / name, "x")
    write_atomic(tmp_path / ("b" * 250 + ".svg"), "x")  # a name near the limit still works (short temp name)
    assert os.listdir(tmp_path) == ["b" * 250 + ".svg"]


def test_a_path_the_system_refuses_is_an_error(tmp_path, monkeypatch):
    import errno
    import pathlib

    def denied(self, *args, **kwargs):
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(self))

    monkeypatch.setattr(pathlib.Path, "exists", denied)
    with pytest.raises(ConvtError, match="cannot use the export path .*Permission denied"):
        write_atomic(tmp_path / "locked" / "out.txt", "x")
