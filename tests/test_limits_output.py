"""The memory budget and atomic exports."""

from __future__ import annotations

import os

import numpy as np
import pytest

from convt_cli import conv_transpose
from convt_cli.errors import ConvtError, MemoryBudgetError
from convt_cli.limits import check_bytes, max_bytes, parse_bytes
from convt_cli.output import export_console, make_console, write_atomic


def test_parse_bytes():
    assert parse_bytes("2G") == 2 * 1024**3
    assert parse_bytes("512MiB") == 512 * 1024**2
    assert parse_bytes("1000") == 1000
    for bad in ("", "abc", "-5", "1Q", "0"):
        with pytest.raises(ConvtError, match="CONVT_MAX_BYTES"):
            parse_bytes(bad)


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
