"""Runs the shell sessions written in the README and docs/ pages, top to bottom, in a fresh folder.

A document's runnable parts are its fenced blocks:

- ```` ```console ````: lines ``$ COMMAND`` (continued while a line ends with ``\\``), each followed
  by the output it prints (stdout and stderr together). A line that is exactly ``...`` stands for
  any number of lines. A command whose shown output has a line starting ``Error:`` must fail with
  exit status 1 or 2; a command ending in a comment ``# exit N`` must exit with N; every other
  command must exit 0.
- ```` ```LANG file=NAME ````: the block's text is written to ``NAME`` in the folder before the next
  command runs (so the page can show the file a later command uses).

Other blocks (``bash`` install lines, ``text`` excerpts) are not run. The folder starts with a copy
of the repository's ``examples/``; commands run with ``COLUMNS=80`` and the repository on
``PYTHONPATH``.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
_FENCE = re.compile(r"^```([^\n]*)\n(.*?)^```\s*$", re.S | re.M)


@dataclass
class Step:
    kind: str  # "run" or "file"
    text: str  # the command, or the file's content
    expected: list[str]
    name: str = ""
    line: int = 0


def steps(text: str) -> list[Step]:
    found: list[Step] = []
    for match in _FENCE.finditer(text):
        info, body = match.group(1).strip(), match.group(2)
        line = text.count("\n", 0, match.start()) + 1
        file_name = re.search(r"\bfile=(\S+)", info)
        if file_name:
            found.append(Step("file", body, [], file_name.group(1), line))
            continue
        if info.split()[:1] != ["console"]:
            continue
        lines = body.splitlines()
        i = 0
        while i < len(lines):
            if not lines[i].startswith("$ "):
                raise ValueError(f"line {line + i + 1}: a console block's output has no command before it")
            command = lines[i][2:]
            while command.endswith("\\") and i + 1 < len(lines):
                i += 1
                command = command[:-1] + "\n" + lines[i]
            i += 1
            expected = []
            while i < len(lines) and not lines[i].startswith("$ "):
                expected.append(lines[i])
                i += 1
            found.append(Step("run", command, expected, line=line))
    return found


def matches(expected: list[str], actual: list[str]) -> bool:
    exp = [e.rstrip() for e in expected]
    act = [a.rstrip() for a in actual]
    while exp and not exp[-1]:
        exp.pop()
    while act and not act[-1]:
        act.pop()

    def go(i: int, j: int) -> bool:
        if i == len(exp):
            return j == len(act)
        if exp[i] == "...":
            return any(go(i + 1, k) for k in range(j, len(act) + 1))
        return j < len(act) and exp[i] == act[j] and go(i + 1, j + 1)

    return go(0, 0)


def env_for(folder: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CONVT_", "COLUMNS", "LINES"))}
    env.update(COLUMNS="80", LANG="C.UTF-8", LC_ALL="C.UTF-8", TERM="dumb", PYTHONWARNINGS="ignore",
               PYTHONPATH=str(ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else ""))
    env.pop("NO_COLOR", None)
    return env


def run_document(path: Path, folder: Path, timeout: float = 600) -> list[str]:
    """Run every step of ``path`` in ``folder``; the list of mismatches (empty when all hold)."""
    shutil.copytree(ROOT / "examples", folder / "examples")
    env = env_for(folder)
    problems = []
    for step in steps(path.read_text(encoding="utf-8")):
        if step.kind == "file":
            (folder / step.name).write_text(step.text, encoding="utf-8")
            continue
        out = subprocess.run(["bash", "-c", step.text], cwd=folder, env=env, stdin=subprocess.DEVNULL,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=timeout)
        actual = out.stdout.splitlines()
        wants_error = any(e.startswith("Error:") for e in step.expected)
        said = re.search(r"#\s*exit\s+(\d+)\b[^\n]*$", step.text)
        if said:
            ok_code = out.returncode == int(said.group(1))
        else:
            ok_code = out.returncode in (1, 2) if wants_error else out.returncode == 0
        if not ok_code or not matches(step.expected, actual):
            problems.append(f"{path.name}:{step.line}: `{step.text}` exited {out.returncode}; printed:\n"
                            + "\n".join(actual[:60]) + "\n--- the page shows:\n" + "\n".join(step.expected[:60]))
    return problems
