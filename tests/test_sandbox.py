"""The sandbox: foreign code runs in a child process bounded in time and resident memory."""

import subprocess
import sys

import numpy as np
import pytest

from convt_cli.sandbox import SandboxFailure, run_isolated

T = "tests.sandbox_targets:"


def test_answer_and_arrays_come_back_and_prints_stay_off_stdout(capfd):
    out = run_isolated(T + "echo", {"a": 5}, [np.arange(3.0)], timeout=60)
    assert out.reply["got"] == 5
    np.testing.assert_array_equal(out.arrays[0], [0.0, 2.0, 4.0])
    assert "must not reach" not in capfd.readouterr().out
    assert "must not reach" in out.stderr


@pytest.mark.parametrize(("func", "kind", "words"), [
    ("raises", "exception", "ValueError: bad thing"),
    ("exits", "exit", "exit(3)"),
    ("hard_exit", "crash", "exit status 7"),
    ("segfault", "crash", "SIGSEGV"),
])
def test_every_way_to_fail_is_a_failure_with_its_reason(func, kind, words):
    with pytest.raises(SandboxFailure) as info:
        run_isolated(T + func, {"code": 3}, timeout=60)
    assert info.value.kind == kind
    assert words in info.value.message


def test_a_hang_is_stopped_at_the_timeout():
    with pytest.raises(SandboxFailure) as info:
        run_isolated(T + "hangs", {}, timeout=3)
    assert info.value.kind == "timeout" and "3 s" in info.value.message


def test_resident_memory_past_the_budget_is_stopped_and_named():
    with pytest.raises(SandboxFailure) as info:
        run_isolated(T + "allocate", {"mib": 400}, timeout=60, budget=100 * 1024**2)
    assert info.value.kind == "memory"
    assert "100.0 MiB" in info.value.message


def test_memory_within_the_budget_passes_even_with_a_huge_mapping():
    out = run_isolated(T + "allocate", {"mib": 50}, timeout=60, budget=200 * 1024**2)
    assert out.reply["sum"] == 50 * 1024 * 1024 // 8
    # 8 GiB of address space mapped, almost none resident: RLIMIT_AS would have killed this
    assert run_isolated(T + "reserve", {"mib": 8192}, timeout=60, budget=100 * 1024**2).reply["ok"] is True


def test_the_child_dies_with_its_parent(tmp_path):
    script = ("import sys; sys.path[:0] = ['.'];"
              "from convt_cli.sandbox import run_isolated;"
              "run_isolated('tests.sandbox_targets:hangs', {}, timeout=600)")
    parent = subprocess.Popen([sys.executable, "-c", script])
    import time

    from convt_cli.sandbox.watch import tree_pids
    time.sleep(3)
    kids = [p for p in tree_pids(parent.pid) if p != parent.pid]
    assert kids
    parent.kill()
    parent.wait()
    time.sleep(1)
    for pid in kids:
        try:
            with open(f"/proc/{pid}/status") as fh:
                state = [ln for ln in fh if ln.startswith("State:")][0]
            assert "Z" in state  # only a zombie is left
        except FileNotFoundError:
            pass
