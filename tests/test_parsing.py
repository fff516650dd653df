"""Text and file parsers: values, and one clear ConvtError for every mistake (never another exception)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from convt_cli.errors import ConvtError
from convt_cli.parsing import (
    parse_matrix_text,
    parse_number,
    parse_per_dim,
    parse_size_list,
    read_matrix,
)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("1,2;3,4", [[1, 2], [3, 4]]),
        ("1 2\n3 4", [[1, 2], [3, 4]]),
        ("1, 2, 3", [1, 2, 3]),
        ("[[1, 2], [3, 4]]", [[1, 2], [3, 4]]),
        ("[[[1], [2]]]", [[[1], [2]]]),
        ("-1.5e1;2", [[-15.0], [2.0]]),
    ],
)
def test_matrix_text(text, expected):
    assert parse_matrix_text(text).tolist() == expected


def test_integers_stay_integers_and_floats_are_floats():
    assert parse_matrix_text("1,2").dtype == np.int64
    assert parse_matrix_text("1,2.0").dtype == np.float64


@pytest.mark.parametrize(
    "text, words",
    [
        ("1,2;3", "ragged"),
        ("1,x", "'x' is not a number"),
        ("", "empty"),
        ("  ;  ", "empty"),
        ("nan", "NaN"),
        ("1,inf", "NaN and infinity"),
        ("1e999", "too large"),
        ("[[1],[2,3]]", "ragged"),
        ("[1, \"a\"]", "list of numbers"),
        ("[NaN]", "NaN"),
        ("[]", "empty list"),
        ("[1,2", "not valid JSON"),
        ("١,٢", "not a number"),
        ("1_000", "not a number"),
        ("99999999999999999999", "beyond|within ±2"),
    ],
)
def test_matrix_text_errors(text, words):
    with pytest.raises(ConvtError, match=words):
        parse_matrix_text(text)


def test_files(tmp_path):
    np.save(tmp_path / "a.npy", np.arange(6).reshape(2, 3))
    (tmp_path / "b.json").write_text(json.dumps([[1, 2], [3, 4]]))
    (tmp_path / "c.csv").write_text("1,2\n3,4\n")
    (tmp_path / "d.txt").write_text("1 2 3\n")
    assert read_matrix(str(tmp_path / "a.npy")).tolist() == [[0, 1, 2], [3, 4, 5]]
    assert read_matrix(str(tmp_path / "b.json")).tolist() == [[1, 2], [3, 4]]
    assert read_matrix(str(tmp_path / "c.csv")).tolist() == [[1, 2], [3, 4]]
    assert read_matrix(str(tmp_path / "d.txt")).tolist() == [1, 2, 3]
    assert read_matrix("-", stdin_text="5;6").tolist() == [[5], [6]]


def test_file_errors(tmp_path):
    (tmp_path / "junk.npy").write_bytes(b"\x00\x01garbage" * 10)
    (tmp_path / "empty.csv").write_text("")
    (tmp_path / "ragged.csv").write_text("1,2\n3\n")
    (tmp_path / "obj.json").write_text('{"a": 1}')
    np.save(tmp_path / "nan.npy", np.array([1.0, np.nan]))
    np.save(tmp_path / "str.npy", np.array(["a"]))
    (tmp_path / "bin.txt").write_bytes(b"\xff\xfe\x00")
    cases = {
        "junk.npy": "not a valid .npy",
        "empty.csv": "is empty",
        "ragged.csv": "ragged",
        "obj.json": "list of numbers",
        "nan.npy": "NaN",
        "str.npy": "numeric",
        "bin.txt": "UTF-8",
        "missing.npy": "does not exist",
    }
    for name, words in cases.items():
        with pytest.raises(ConvtError, match=words):
            read_matrix(str(tmp_path / name))
    with pytest.raises(ConvtError, match="directory"):
        read_matrix(str(tmp_path) + "/")


def test_file_over_the_budget(tmp_path, monkeypatch):
    np.save(tmp_path / "big.npy", np.zeros(1000))
    monkeypatch.setenv("CONVT_MAX_BYTES", "1000")
    with pytest.raises(ConvtError, match="memory budget"):
        read_matrix(str(tmp_path / "big.npy"))


def test_sizes_and_per_dim():
    assert parse_size_list("1x1280x64x64") == (1, 1280, 64, 64)
    assert parse_size_list("1,1280,64,64") == (1, 1280, 64, 64)
    assert parse_size_list("(1, 1280, 64, 64)") == (1, 1280, 64, 64)
    assert parse_size_list("3×3") == (3, 3)
    assert parse_per_dim("2", "stride") == 2
    assert parse_per_dim("2,1", "stride") == (2, 1)
    for bad, words in [("0x3", "at least 1"), ("3x", "separated"), ("2.5", "whole number"), ("", "separated")]:
        with pytest.raises(ConvtError, match=words):
            parse_size_list(bad)
    for bad, words in [("a", "whole number"), ("1,2,3,4", "at most 3"), ("", "integer")]:
        with pytest.raises(ConvtError, match=words):
            parse_per_dim(bad, "stride")


def test_number():
    assert parse_number("+3") == 3 and parse_number(".5") == 0.5
    with pytest.raises(ConvtError, match="not a number"):
        parse_number("0x10")


# --- fuzzing: any text gives a value or a ConvtError, never another exception -----------------

_tricky = st.sampled_from(
    ["", " ", ";", ",", "[", "]", "nan", "inf", "-inf", "1e309", "1e-400", "١", "٣", "²", "½", "1_0",
     "0x1F", "(", ")", "x", "×", "\x00", "\n", "9" * 40, "-0", "+", "e5", ".", "[[", "]]", "true", "null"]
)
_texts = st.one_of(
    st.text(max_size=40),
    st.lists(st.one_of(_tricky, st.integers(-10**20, 10**20).map(str), st.floats().map(repr)), max_size=12)
    .map(lambda parts: "".join(parts)),
    st.recursive(st.one_of(st.integers(-10**20, 10**20), st.floats(), st.booleans(), st.none(), st.text(max_size=3)),
                 lambda children: st.lists(children, max_size=4), max_leaves=12).map(
        lambda v: json.dumps(v, allow_nan=True)),
)


@given(_texts)
def test_fuzz_matrix_text(text):
    try:
        arr = parse_matrix_text(text)
    except ConvtError:
        return
    assert arr.dtype.kind in "if" and arr.size > 0 and np.isfinite(arr).all()


@given(_texts)
def test_fuzz_size_list(text):
    try:
        sizes = parse_size_list(text)
    except ConvtError:
        return
    assert sizes and all(isinstance(s, int) and s >= 1 for s in sizes)


@given(_texts)
def test_fuzz_per_dim(text):
    try:
        value = parse_per_dim(text, "stride")
    except ConvtError:
        return
    assert isinstance(value, (int, tuple))


# Hostile input (issue 16): empty values, text too big to parse, stdin read with a bound, .npy byte
# orders and extended precision; and the fast row conversion agrees with value-by-value parsing.


@pytest.mark.parametrize("text", ["1,,2", "1, ,2", "1,2,", ",1", "1,2;3,,4", "1,2\n3,,4"])
def test_an_empty_value_between_commas_is_an_error(text):
    with pytest.raises(ConvtError, match="empty value between commas"):
        parse_matrix_text(text)


def test_text_file_over_the_parse_budget_is_refused_before_reading(tmp_path, monkeypatch):
    import time

    big = tmp_path / "big.csv"
    line = ",".join(["1.5"] * 1000) + "\n"
    big.write_text(line * 4000)  # 15.6 MB
    monkeypatch.setenv("CONVT_MAX_BYTES", "50M")
    start = time.perf_counter()
    with pytest.raises(ConvtError, match=r"parsing input file big.csv \(15.3 MiB of text.*\.npy"):
        read_matrix(str(big), "input")
    assert time.perf_counter() - start < 1.0  # refused from the file size, nothing parsed


def test_stdin_is_read_with_a_bound(monkeypatch):
    import io
    import sys

    class Endless(io.RawIOBase):
        """More text than the budget allows, without end: only a bounded read can finish."""

        def readable(self):
            return True

        def readinto(self, b):
            b[:] = b"1," * (len(b) // 2) + b"1" * (len(b) % 2)
            return len(b)

    monkeypatch.setenv("CONVT_MAX_BYTES", "1M")
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BufferedReader(Endless())))
    with pytest.raises(ConvtError, match=r"input from stdin \(more than 64.0 KiB\)"):
        read_matrix("-", "input")


def test_big_endian_npy_reads_the_same_values(tmp_path):
    for dtype in (">f8", ">f4", ">i4", ">i8", "<f8"):
        a = np.arange(-3, 3, dtype=dtype).reshape(2, 3) * 3
        np.save(tmp_path / "a.npy", a)
        got = read_matrix(str(tmp_path / "a.npy"))
        assert got.dtype.isnative and got.dtype.kind == np.dtype(dtype).kind
        np.testing.assert_array_equal(got, a.astype(float))


def test_extended_precision_npy_is_refused(tmp_path):
    a = np.arange(4, dtype=np.longdouble)
    if a.dtype.itemsize <= 8:
        pytest.skip("this platform's long double is float64")
    np.save(tmp_path / "a.npy", a)
    with pytest.raises(ConvtError, match="float128.*save it as float64"):
        read_matrix(str(tmp_path / "a.npy"))


_numbers = st.one_of(st.integers(-(2**53), 2**53), st.floats(allow_nan=False, allow_infinity=False))


def test_an_integer_beyond_2_53_in_a_row_of_floats_is_still_refused():
    with pytest.raises(ConvtError, match="±2\\*\\*53"):
        parse_matrix_text("9007199254740993, 1.5")


@given(st.lists(st.lists(_numbers, min_size=3, max_size=3), min_size=1, max_size=4),
       st.sampled_from([",", ", ", " ", "\t", " , "]))
def test_fast_rows_agree_with_value_by_value_parsing(rows, sep):
    text = "\n".join(sep.join(repr(v) if isinstance(v, float) else str(v) for v in row) for row in rows)
    arr = parse_matrix_text(text)
    flat = [v for row in rows for v in row]
    expected_kind = "i" if all(isinstance(v, int) for v in flat) else "f"
    assert arr.dtype.kind == expected_kind
    np.testing.assert_array_equal(arr.reshape(-1), np.array(flat, dtype=arr.dtype))
