"""`convt show --play`: run in a pseudo-terminal, the steps are drawn in place and Ctrl-C exits 130;
without a terminal it says so and draws the normal report."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import signal
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest
from rich.console import Group
from rich.text import Text
from typer.testing import CliRunner

from convt_cli.cli import app
from convt_cli.render.play import is_step, title_pattern

ROOT = Path(__file__).resolve().parent.parent
ENV = {"COLUMNS": "100", "CONVT_LANG": "", "LANG": "C", "NO_COLOR": "1"}
HIDE, SHOW = "\x1b[?25l", "\x1b[?25h"
UP = re.compile(r"\x1b\[(\d*)A")  # cursor up: a frame drawn over the previous one
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


class Pty:
    """``python -m convt_cli ARGS`` with a pseudo-terminal (100×60) as stdin/stdout/stderr."""

    def __init__(self, *args: str) -> None:
        self.master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 60, 100, 0, 0))
        env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES", "NO_COLOR", "FORCE_COLOR")}
        env.update({"PYTHONPATH": str(ROOT), "TERM": "xterm-256color", "CONVT_LANG": "", "LANG": "C.UTF-8",
                    "PYTHONIOENCODING": "utf-8"})
        self.proc = subprocess.Popen([sys.executable, "-m", "convt_cli", *args], stdin=slave, stdout=slave,
                                     stderr=slave, env=env, close_fds=True)
        os.close(slave)
        self.out = b""

    def read_until(self, pattern: str, timeout: float = 60) -> bool:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if pattern in self.text:
                return True
            if not self._read(0.2) and self.proc.poll() is not None:
                return pattern in self.text
        return pattern in self.text

    def _read(self, wait: float) -> bool:
        ready, _, _ = select.select([self.master], [], [], wait)
        if not ready:
            return False
        try:
            chunk = os.read(self.master, 65536)
        except OSError:  # the child closed the terminal
            return False
        self.out += chunk
        return bool(chunk)

    def finish(self, timeout: float = 60) -> int:
        end = time.monotonic() + timeout
        while self.proc.poll() is None and time.monotonic() < end:
            self._read(0.1)
        while self._read(0.05):
            pass
        os.close(self.master)
        if self.proc.poll() is None:
            self.proc.kill()
        return self.proc.wait()

    @property
    def text(self) -> str:
        return self.out.decode("utf-8", "replace")


def test_play_draws_each_step_in_place_then_holds_the_output():
    term = Pty("show", "--play", "--delay", "0", "--no-torch")
    code = term.finish()
    text = term.text
    assert code == 0, text
    for n in range(1, 5):
        assert f"Step {n}: input[" in text and f"] = {n}" in text
    assert text.index("Step 4") < text.index("Final output 4×4") < text.index("PyTorch check skipped")
    assert HIDE in text and text.rindex(SHOW) > text.rindex(HIDE)  # the cursor comes back
    # Steps 2..4 are each drawn over the previous one: before each, the cursor climbs the previous
    # frame's lines (Rich erases them one line up at a time), and nothing between steps scrolls.
    for n in (2, 3, 4):
        between = text[text.index(f"Step {n - 1}:"):text.index(f"Step {n}:")]
        assert sum(int(m.group(1) or 1) for m in UP.finditer(between)) >= 8, n
    plain = ANSI.sub("", text)
    assert plain.count("Legend:") == 1 and plain.count("Final output 4×4") == 1


def test_play_ctrl_c_exits_130_with_the_terminal_tidy():
    term = Pty("show", "--play", "--delay", "5", "--no-torch")
    assert term.read_until("Step 1"), term.text
    time.sleep(0.3)
    term.proc.send_signal(signal.SIGINT)
    code = term.finish()
    assert code == 130, term.text
    text = term.text
    assert "Interrupted." in text and "Traceback" not in text
    assert "Step 2" not in text
    assert text.rindex(SHOW) > text.rindex(HIDE)


@pytest.mark.parametrize("args,expect", [
    (["--view", "gather", "--lang", "zh"], "输出(3,3) = 4"),
    (["-i", "1,2,3", "-k", "1,1", "-s", "1", "--overlap"], "Verdict: even"),
    (["--view", "matrix"], "Final output 4×4"),
])
def test_play_with_other_views_options_and_languages(args, expect):
    term = Pty("show", "--play", "--delay", "0", "--no-torch", *args)
    code = term.finish()
    assert code == 0, term.text
    assert expect in term.text


def test_play_without_a_terminal_says_so_and_draws_the_normal_report(tmp_path):
    runner = CliRunner()
    result = runner.invoke(app, ["show", "--play", "--no-torch"], env=ENV)
    assert result.exit_code == 0
    assert result.stderr.strip() == "Note: --play needs a terminal; drawing the normal report instead."
    normal = runner.invoke(app, ["show", "--no-torch"], env=ENV)
    assert result.stdout == normal.stdout


def test_play_export_records_the_normal_report(tmp_path):
    term = Pty("show", "--play", "--delay", "0", "--no-torch", "--export", str(tmp_path / "r.txt"))
    assert term.finish() == 0, term.text
    saved = (tmp_path / "r.txt").read_text(encoding="utf-8")
    for n in range(1, 5):
        assert f"Step {n}: input[" in saved
    assert saved.count("Final output 4×4") == 1


def test_step_titles_are_recognised_from_the_catalogue():
    p = [title_pattern("show.step_title", "en"), title_pattern("show.gather_step", "zh")]
    assert is_step(Group(Text("Step 12: input[1,2] = -0.5"), Text("x")), p)
    assert is_step(Group(Text("输出(0,1) = 3"), Text("")), p)
    assert not is_step(Group(Text("Final output 4×4")), p)
    assert not is_step(Text("Step 1: input[0,0] = 1"), p)


def test_delay_is_bounded():
    result = CliRunner().invoke(app, ["show", "--play", "--delay", "-1"], env=ENV)
    assert result.exit_code == 2


def _played(height: int) -> str:
    import io
    import re as _re

    from convt_cli.render.play import PlayConsole

    out = io.StringIO()
    console = PlayConsole(delay=0, lang="en", file=out, force_terminal=True, width=60, height=height,
                          color_system=None, highlight=False)
    console.print(Text("ConvTranspose2d(1→1, kernel_size=2)"))
    console.print(Text(""))
    for n in (1, 2):
        console.print(Group(Text(f"Step {n}: input[0,{n}] = {n}"), Text("\n".join(f"row {r}" for r in range(30)))))
        console.print(Text(""))
    console.print(Text("Final output 4×4"))
    return _re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", out.getvalue())


def test_play_keeps_the_blank_line_before_the_result_and_the_header_above_a_tall_frame():
    tall = _played(height=12)
    assert "\n\nFinal output 4×4" in tall  # the blank line after the last step survives the live area
    # Each frame taller than the screen starts with the report's first line, so it never scrolls away.
    assert tall.count("ConvTranspose2d(1→1, kernel_size=2)") >= 3
    short = _played(height=60)
    assert short.count("ConvTranspose2d(1→1, kernel_size=2)") == 1
