"""Hostile ONNX files against `convt audit` (issue #20 classes 5, 6, 9 and what held), each in a bounded
subprocess (tests/hostile.py): the right answer, or one ``Error:`` line with exit 1/2."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

pytest.importorskip("onnx")

from audit_hostile_helpers import (  # noqa: E402
    conv_onnx,
    cyclic_onnx,
    external_tensor,
    onnxruntime_refuses,
    short_tensor,
)
from hostile import assert_answer_or_error, run_convt  # noqa: E402


def test_class5_huge_strides_are_summarised_not_drawn(tmp_path):
    # ONNX stride 50000 in 2-d: the phase map has 2.5e9 cells — never built, never printed
    path = conv_onnx(tmp_path / "s.onnx", x_shape=(1, 2, 2, 2), attrs={"strides": [50000, 50000]})
    out = run_convt(["audit", str(path)], timeout=60)
    assert_answer_or_error(out, expect="answer")
    assert "2,500,000,000 phases, not listed" in " ".join(out.stdout.split()) and len(out.stdout.splitlines()) < 60
    # 1-d stride 10⁶ under a 64M budget: an answer, not a million cells (JSON too)
    path1 = conv_onnx(tmp_path / "s1.onnx", x_shape=(1, 2, 3), w_shape=(2, 1, 3), attrs={"strides": [10**6]})
    out = run_convt(["audit", str(path1), "--json"], budget="64M", timeout=60)
    assert_answer_or_error(out, expect="answer")
    pg = json.loads(out.stdout)["layers"][0]["phase_gain"]
    assert pg["phase_map"] is None and pg["phase_map_shape"] == [10**6] and len(out.stdout) < 20_000


def test_class5_external_data_is_sized_before_it_is_read(tmp_path):
    big = tmp_path / "w.bin"
    with open(big, "wb") as f:  # a 10 GiB sparse file: costs no disk, would cost 10 GiB of memory
        f.truncate(10 * 1024**3)
    path = conv_onnx(tmp_path / "ext.onnx", w_data=external_tensor("w.bin"))
    out = run_convt(["audit", str(path)], budget="64M", timeout=60)
    assert_answer_or_error(out, expect="error", words=("memory budget", "10.0 GiB"))


BAD_NODES = {
    "negative input dim": dict(x_shape=(1, 2, -4, 4)),
    "kernel_shape not the weight's": dict(attrs={"strides": [2, 2], "kernel_shape": [2, 2]}),
    "weight channels not the input's": dict(x_shape=(1, 5, 4, 4)),
    "output_padding reaches the stride": dict(attrs={"strides": [2, 2], "output_padding": [2, 0]}),
    "auto_pad BOGUS": dict(attrs={"strides": [2, 2], "auto_pad": "BOGUS"}),
    "kernel_shape a single int": dict(attrs={"strides": [2, 2], "kernel_shape": 3}),
}


@pytest.mark.parametrize("case", list(BAD_NODES) + ["initializer shorter than its dims"])
def test_class6_invalid_nodes_are_refused_where_onnxruntime_refuses(tmp_path, case):
    if case == "initializer shorter than its dims":
        path = conv_onnx(tmp_path / "bad.onnx", w_data=short_tensor())
        x_shape = (1, 2, 4, 4)
    else:
        spec = BAD_NODES[case]
        path = conv_onnx(tmp_path / "bad.onnx", **spec)
        x_shape = tuple(abs(d) for d in spec.get("x_shape", (1, 2, 4, 4)))
    if case != "negative input dim":  # a negative dim cannot be fed at all
        assert onnxruntime_refuses(path, x_shape), f"onnxruntime accepts {case}: the test is wrong"
    out = run_convt(["audit", str(path)], timeout=60)
    assert_answer_or_error(out, expect="error")


def test_the_valid_twin_is_accepted_by_both(tmp_path):
    path = conv_onnx(tmp_path / "ok.onnx", attrs={"strides": [2, 2], "output_padding": [1, 1], "kernel_shape": [3, 3]})
    assert not onnxruntime_refuses(path, (1, 2, 4, 4))
    out = run_convt(["audit", str(path), "--json"], timeout=60)
    assert_answer_or_error(out, expect="answer")
    assert json.loads(out.stdout)["layers"][0]["output_shape"] == [1, 3, 10, 10]


def test_class9_node_names_never_reach_the_terminal_raw(tmp_path):
    name = "evil\x1b[31mRED\x1b]0;pwned\x07\x9b2J\u202e"
    path = conv_onnx(tmp_path / "esc.onnx", name=name)
    text = run_convt(["audit", str(path)], timeout=60)
    assert_answer_or_error(text, expect="answer")
    js = run_convt(["audit", str(path), "--json"], timeout=60)
    assert_answer_or_error(js, expect="answer")
    for out in (text.stdout, js.stdout):
        assert not any(ch in out for ch in "\x1b\x07\x9b\u202e"), out
    assert "evil\\x1b[31mRED" in text.stdout
    assert json.loads(js.stdout)["layers"][0]["name"] == name  # JSON keeps the value, escaped
    bad = conv_onnx(tmp_path / "esc2.onnx", name=name, x_shape=(1, 5, 4, 4))  # …and in an error message
    err = run_convt(["audit", str(bad)], timeout=60)
    assert_answer_or_error(err, expect="error")
    assert not any(ch in err.stderr for ch in "\x1b\x07\x9b\u202e")


@pytest.mark.parametrize("case", ["garbage", "truncated", "cyclic", "traversal", "symlink"])
def test_what_held_still_holds(tmp_path, case):
    if case == "cyclic":
        path = cyclic_onnx(tmp_path / "cyc.onnx")
    elif case in ("garbage", "truncated"):
        good = conv_onnx(tmp_path / "good.onnx").read_bytes()
        path = tmp_path / "bad.onnx"
        path.write_bytes(os.urandom(4096) if case == "garbage" else good[: len(good) // 2])
    else:
        secret = tmp_path / "secret.bin"
        secret.write_bytes(np.zeros(54, np.float32).tobytes())
        sub = tmp_path / "model"
        sub.mkdir()
        if case == "symlink":
            (sub / "w.bin").symlink_to(secret)
        w = external_tensor("../secret.bin" if case == "traversal" else "w.bin")
        path = conv_onnx(sub / "m.onnx", w_data=w)
    out = run_convt(["audit", str(path)], timeout=60)
    assert_answer_or_error(out, expect="error")
