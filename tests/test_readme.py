"""The README is honest: its Python example prints what it says, every command is documented."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from typer.main import get_command

from convt_cli.cli import app

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


def test_python_example_prints_what_the_comments_say():
    code = re.search(r"```python\n(.*?)```", README, re.S).group(1)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    promised = [line.split("# ", 1)[1] for line in code.splitlines() if line.startswith("# ")]
    promised += [line.split("# ", 1)[1] for line in code.splitlines() if "print(err)  # " in line]
    printed = out.stdout.splitlines()
    for line in promised:
        assert line.strip() in [p.strip() for p in printed], line


def test_every_command_is_in_the_readme():
    names = sorted(get_command(app).commands)  # type: ignore[attr-defined]
    assert names, "no commands registered"
    for name in names:
        assert f"convt {name}" in README, name


def test_readme_setup_commands():
    section = README.split("## Quick start", 1)[1]
    note = section.index("install its CPU build first")
    block = re.search(r"```bash\n(.*?)```", section, re.S)
    assert note < block.start(), "the torch note comes before the command it concerns"
    block = block.group(1).splitlines()
    assert block[0] == 'pip install -e ".[dev]" && convt show'
    assert block[1] == "pytest"
    ci = (Path(__file__).resolve().parent.parent / ".ci" / "run").read_text()
    assert "torch==2.13.0" in ci and ci.strip().endswith("python -m pytest")
