"""Hostile export targets (issue #20, class 10): every export (show --export .svg/.html/.txt/.gif/.png,
--heatmap on show and compare) goes through one atomic writer — a legal 254-byte name works, an
unwritable place (``/proc``) is one Error line before any work, and a file that appears at the target
while the picture is drawn is never overwritten without --force.

Each run is a subprocess under a time bound and an address-space limit (tests/hostile.py).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from hostile import ROOT, _env, assert_answer_or_error, run_convt, run_python  # noqa: E402

LONG = "a" * 250  # + ".gif" = 254 bytes: legal on ext4/tmpfs (255 at most)


def listing(d: Path) -> list[str]:
    return sorted(p.name for p in d.iterdir())


@pytest.mark.parametrize("cmd,suffix", [
    (["show", "--no-torch", "--export"], ".gif"),
    (["show", "--no-torch", "--export"], ".png"),
    (["show", "--no-torch", "--export"], ".svg"),
    (["show", "--no-torch", "--heatmap"], ".png"),
    (["compare", "--heatmap"], ".png"),
])
def test_class10_long_names_and_unwritable_places(cmd, suffix, tmp_path):
    name = LONG + suffix
    assert len(name.encode()) == 254
    out = run_convt([*cmd, name], cwd=tmp_path, timeout=60)
    assert_answer_or_error(out, expect="answer")
    assert listing(tmp_path) == [name]  # the file, and no temporary file beside it
    assert f"Wrote {name}" in out.stdout  # one rule for every export: "Wrote PATH" on stdout

    out = run_convt([*cmd, "/proc/x" + suffix], cwd=tmp_path, timeout=60)
    assert_answer_or_error(out, expect="error", words=("/proc/x" + suffix,))
    assert out.stdout == ""  # refused before the report
    assert listing(tmp_path) == [name]


# A child that runs convt in-process but creates the target itself just before the picture is written
# (the drawing function is wrapped): the race the write-time check must win.
RACE = """
import sys
from pathlib import Path
target = Path(sys.argv[1])
import convt_cli.pictures.draw as draw
import rich.console
def racing(original):
    def wrapped(*args, **kwargs):
        data = original(*args, **kwargs)
        target.write_bytes(b"theirs")
        return data
    return wrapped
draw.gif_bytes = racing(draw.gif_bytes)
draw.png_bytes = racing(draw.png_bytes)
rich.console.Console.export_svg = racing(rich.console.Console.export_svg)
sys.argv = ["convt", *sys.argv[2:]]
from convt_cli.cli import run
run()
"""


@pytest.mark.parametrize("cmd,suffix", [
    (["show", "--no-torch", "--export"], ".gif"),
    (["show", "--no-torch", "--export"], ".svg"),
    (["show", "--no-torch", "--heatmap"], ".png"),
    (["compare", "--heatmap"], ".png"),
])
def test_class10_a_file_created_meanwhile_is_never_overwritten(cmd, suffix, tmp_path):
    target = tmp_path / ("out" + suffix)
    code = "import sys; sys.argv[1:] = " + json.dumps([str(target), *cmd, str(target)]) + "\n" + RACE
    out = run_python(code, cwd=tmp_path, timeout=60)
    assert_answer_or_error(out, expect="error", words=(str(target), "--force"))
    # The re-check ("already exists") or the no-clobber link ("appeared while it was being drawn").
    assert "already exists" in out.stderr or "appeared while it was being drawn" in out.stderr
    assert target.read_bytes() == b"theirs"
    assert listing(tmp_path) == [target.name]  # no temporary file left behind

    # With --force the same race ends with convt's file in place.
    code = "import sys; sys.argv[1:] = " + json.dumps([str(target), *cmd, str(target), "--force"]) + "\n" + RACE
    out = run_python(code, cwd=tmp_path, timeout=60)
    assert_answer_or_error(out, expect="answer")
    assert target.read_bytes() != b"theirs"
    assert listing(tmp_path) == [target.name]


def test_class10_concurrent_runs_write_once(tmp_path):
    """Three runs at the same target: exactly one writes it, the others refuse with one Error line."""
    target = tmp_path / "same.gif"
    procs = [subprocess.Popen([sys.executable, "-m", "convt_cli", "show", "--no-torch", "--export", str(target)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=_env(None, "200M"), cwd=ROOT)
             for _ in range(3)]
    results = [(p.wait(timeout=120), p.stdout.read().decode(), p.stderr.read().decode()) for p in procs]
    for p in procs:
        p.stdout.close()
        p.stderr.close()
    codes = sorted(rc for rc, _, _ in results)
    assert codes == [0, 1, 1], results
    for rc, _, err in results:
        assert "Traceback" not in err
        if rc == 1:
            assert len([ln for ln in err.splitlines() if ln.startswith("Error:")]) == 1, err
            assert "--force" in err
    assert listing(tmp_path) == ["same.gif"]


@pytest.mark.heavy
def test_audit_heatmap_says_wrote_like_every_export(tmp_path):
    """One rule for every export: ``Wrote PATH`` on stdout; on stderr when stdout carries --json."""
    pytest.importorskip("torch")
    model = str(ROOT / "examples" / "subpixel.py") + ":build"
    base = ["audit", model, "--shape", "1x8x32x32", "--init-weights", "--heatmap"]
    out = run_convt([*base, "h.png"], cwd=tmp_path, timeout=120, budget=None, as_bytes=8 * 1024**3)
    assert_answer_or_error(out, expect="answer")
    assert out.stdout.rstrip().endswith("Wrote h.png") and out.stderr == ""
    out = run_convt([*base, "j.png", "--json"], cwd=tmp_path, timeout=120, budget=None, as_bytes=8 * 1024**3)
    assert_answer_or_error(out, expect="answer")
    json.loads(out.stdout)  # stdout is the JSON alone
    assert out.stderr.strip() == "Wrote j.png"
    assert listing(tmp_path) == ["h.png", "j.png"]
