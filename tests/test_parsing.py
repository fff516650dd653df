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
