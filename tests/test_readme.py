"""The README is honest: every command is in it, its set-up is the two commands CI relies on, and its
links lead somewhere. (Its console sessions are run by tests/test_docs_run.py.)"""

from __future__ import annotations

import re
from pathlib import Path

from typer.main import get_command

from convt_cli.cli import app

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_every_command_is_in_the_readme():
    names = sorted(get_command(app).commands)  # type: ignore[attr-defined]
    assert names, "no commands registered"
    for name in names:
        assert f"convt {name}" in README, name


def test_readme_setup_commands():
    section = README.split("## Install", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```bash\n(.*?)```", section, re.S)
    assert "pip install torch --index-url" in blocks[0]  # the CPU build, before convt's torch requirement
    first, second = blocks[1].strip().splitlines()
    assert first == "pip install -e . && convt show"  # the light install and the main job
    assert second == 'pip install -e ".[dev]" && pytest'
    ci = (ROOT / ".ci" / "run").read_text()
    assert "torch==2.13.0" in ci and ci.strip().endswith("python -m pytest")


def test_every_extra_the_readme_names_exists():
    pyproject = (ROOT / "pyproject.toml").read_text()
    table = pyproject.split("[project.optional-dependencies]")[1].split("\n[", 1)[0]
    extras = set(re.findall(r"^(\w+) = \[", table, re.M))
    section = README.split("## Install", 1)[1].split("\n## ", 1)[0]
    named = set(re.findall(r"`(\w+)`", section.split("with the extra that installs it:", 1)[1]))
    assert named <= extras, named - extras


def test_every_local_link_leads_to_a_file():
    for page in [ROOT / "README.md", *(ROOT / "docs").glob("*.md")]:
        for target in re.findall(r"\]\(([^)#:]+)(?:#[^)]*)?\)", page.read_text(encoding="utf-8")):
            assert (page.parent / target).exists(), f"{page.name}: {target}"
