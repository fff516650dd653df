"""Hostile model code and options against `convt audit` (issue #20 classes 5 and 8), each in a bounded
subprocess (tests/hostile.py): the right answer, or one ``Error:`` line with exit 1/2. The model's code
runs in convt's sandbox: its prints, exit() calls, hangs and memory never reach convt's process."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("torch")

from hostile import assert_answer_or_error, run_convt  # noqa: E402

MODELS = '''
import sys
import time

import torch
import torch.nn as nn


class Up(nn.Module):
    def __init__(self, forward_does=None):
        super().__init__()
        self.up = nn.ConvTranspose2d(2, 3, 4, stride=2, padding=1)
        self.forward_does = forward_does

    def forward(self, x):
        if self.forward_does == "exit5":
            raise SystemExit(5)
        if self.forward_does == "hang":
            while True:
                time.sleep(0.1)
        return self.up(x)


def chatty():
    print("hello from the builder")
    print("{not json")
    return Up()


def exits0():
    sys.exit(0)


def forward_exits5():
    return Up("exit5")


def hangs():
    while True:
        time.sleep(0.1)


def forward_hangs():
    return Up("hang")


def greedy():
    keep = torch.ones(600 * 1024 * 1024 // 4, device="cpu")  # 600 MiB, really touched (not meta)
    keep += 1
    return Up()
'''


@pytest.fixture()
def models(tmp_path):
    path = tmp_path / "hostile_models.py"
    path.write_text(MODELS)
    return str(path)


def test_class5_a_huge_cpu_input_is_refused_before_anything_runs(models):
    out = run_convt(["audit", f"{models}:chatty", "--device", "cpu", "--shape", "1x3x20000x20000"], timeout=30)
    assert_answer_or_error(out, expect="error", words=("memory budget", "--shape"))
    assert out.seconds < 15  # refused before torch or the sandbox start


@pytest.mark.parametrize("func", ["hangs", "forward_hangs"])
def test_class5_a_builder_or_forward_that_never_ends_times_out(models, func):
    out = run_convt(["audit", f"{models}:{func}", "--shape", "1x2x4x4", "--timeout", "8"], timeout=60)
    assert_answer_or_error(out, expect="error", words=("within 8 s", "--timeout"))


def test_class8_prints_never_break_json(models):
    out = run_convt(["audit", f"{models}:chatty", "--shape", "1x2x4x4", "--json"], timeout=90)
    assert_answer_or_error(out, expect="answer")
    assert json.loads(out.stdout)["layers"][0]["name"] == "up" and "hello" not in out.stdout + out.stderr


@pytest.mark.parametrize("func, words", [("exits0", ("exits0()", "exit(0)")),
                                         ("forward_exits5", ("forward pass", "exit(5)"))])
def test_class8_exit_in_the_builder_or_forward_is_one_error_line(models, func, words):
    out = run_convt(["audit", f"{models}:{func}", "--shape", "1x2x4x4"], timeout=90)
    assert_answer_or_error(out, expect="error", words=words)


def test_class8_memory_past_the_budget_stops_the_model(models):
    out = run_convt(["audit", f"{models}:greedy", "--shape", "1x2x4x4"], budget="200M", timeout=90,
                    as_bytes=4 * 1024**3)
    assert_answer_or_error(out, expect="error", words=("memory",))
