"""Hostile weights files against `convt audit --weights` (issue #20 classes 5, 7, 12 and what held), each in a
bounded subprocess (tests/hostile.py): the right answer, or one ``Error:`` line with exit 1/2."""

from __future__ import annotations

import json
import struct

import pytest

torch = pytest.importorskip("torch")

from audit_hostile_helpers import tiny_model, zip_bomb_pt  # noqa: E402
from hostile import assert_answer_or_error, run_convt  # noqa: E402

SHAPE = "1x2x4x4"


def test_class5_a_zip_bomb_is_refused_from_its_directory_before_loading(tmp_path):
    model = tiny_model(tmp_path)
    bomb = zip_bomb_pt(tmp_path / "bomb.pt", 200 << 20)
    assert bomb.stat().st_size < 1_000_000
    out = run_convt(["audit", model, "--shape", SHAPE, "--weights", str(bomb)], budget="64M", timeout=60)
    assert_answer_or_error(out, expect="error", words=("memory budget", "zip entries"))
    assert out.seconds < 30


def _safetensors(path, header: bytes, data: bytes = b""):
    path.write_bytes(struct.pack("<Q", len(header)) + header + data)
    return path


@pytest.mark.parametrize("case", ["safetensors {}", "meta tensor", "sparse tensor"])
def test_class7_weights_files_that_crashed_audit_are_one_error_line(tmp_path, case):
    model = tiny_model(tmp_path)
    if case == "safetensors {}":
        path = _safetensors(tmp_path / "w.safetensors", b"{}")
        words = ("no tensors",)
    elif case == "meta tensor":
        path = tmp_path / "w.pt"
        torch.save({"0.weight": torch.empty(2, 3, 4, 4, device="meta"), "0.bias": torch.zeros(3)}, path)
        words = ("meta tensor", "0.weight")
    else:
        path = tmp_path / "w.pt"
        torch.save({"0.weight": torch.zeros(2, 3, 4, 4).to_sparse(), "0.bias": torch.zeros(3)}, path)
        words = ("sparse", "0.weight")
    out = run_convt(["audit", model, "--shape", SHAPE, "--weights", str(path)], timeout=90)
    assert_answer_or_error(out, expect="error", words=words)


class Payload:
    def __reduce__(self):
        import os

        return (os.system, ("touch PWNED_BY_PICKLE",))


def test_class12_a_reduce_pickle_never_runs_and_prints_no_warning(tmp_path):
    model = tiny_model(tmp_path)
    path = tmp_path / "evil.pt"
    torch.save({"0.weight": Payload()}, path)
    out = run_convt(["audit", model, "--shape", SHAPE, "--weights", str(path)], timeout=90, cwd=tmp_path)
    assert_answer_or_error(out, expect="error", words=("weights_only=True",))
    assert "Warning" not in out.stderr and not (tmp_path / "PWNED_BY_PICKLE").exists()


@pytest.mark.parametrize("case", ["lying header", "truncated"])
def test_what_held_lying_safetensors_headers_are_refused(tmp_path, case):
    model = tiny_model(tmp_path)
    header = {"0.weight": {"dtype": "F32", "shape": [2, 3, 4, 4], "data_offsets": [0, 384]}}
    if case == "lying header":  # the data it names is not in the file
        path = _safetensors(tmp_path / "w.safetensors", json.dumps(header).encode(), b"\0" * 16)
    else:
        path = _safetensors(tmp_path / "w.safetensors", b'{"0.weight": {"dtype"')
    out = run_convt(["audit", model, "--shape", SHAPE, "--weights", str(path)], timeout=90)
    assert_answer_or_error(out, expect="error", words=("safetensors",))


def test_honest_weights_still_give_an_answer(tmp_path):
    model = tiny_model(tmp_path)
    path = tmp_path / "w.pt"
    torch.save({"0.weight": torch.ones(2, 3, 4, 4), "0.bias": torch.zeros(3)}, path)
    out = run_convt(["audit", model, "--shape", SHAPE, "--weights", str(path), "--json"], timeout=90)
    assert_answer_or_error(out, expect="answer")
    assert json.loads(out.stdout)["layers"][0]["phase_gain_index"] == 0.0  # a box kernel k4 s2: flat


def test_class12_inf_weights_are_one_error_line_without_runtime_warnings(tmp_path):
    model = tiny_model(tmp_path)
    path = tmp_path / "inf.pt"
    weight = torch.ones(2, 3, 4, 4)
    weight[0, 0, 0, 0] = float("inf")
    torch.save({"0.weight": weight, "0.bias": torch.zeros(3)}, path)
    out = run_convt(["audit", model, "--shape", SHAPE, "--weights", str(path)], timeout=90)
    assert_answer_or_error(out, expect="error", words=("inf or NaN", "'0'"))
    assert "Warning" not in out.stderr
