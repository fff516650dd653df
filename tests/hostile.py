"""A small harness for hostile inputs: run convt (or a snippet of Python) in a subprocess under a
time bound and an address-space limit, and check that it answered or refused properly.

``run_convt(args)`` runs ``python -m convt_cli ARGS``; ``run_python(code)`` runs a snippet (for the
library). Both return a :class:`Outcome`. The address-space limit is set with
``resource.setrlimit(RLIMIT_AS)`` in the child before it starts Python: importing torch alone maps
about 650 MiB of address space (measured with ``ulimit -v``: 500, 550 and 600 MiB fail; 650 MiB
imports torch 2.13 and runs a conv_transpose2d), so the default limit, 2 GiB, leaves room for
torch plus a modest budget, while a run that grows past it dies with a MemoryError (exit 3) or is
killed, both of which the checks reject. The memory budget inside the child is set below the
limit (``CONVT_MAX_BYTES``), so a proper refusal comes first.

``assert_answer_or_error(outcome)``: exit 0 (an answer), or exit 1/2 with exactly one ``Error:``
line on stderr (usage errors may add Click's ``Usage:``/``Try`` lines) and no traceback; never exit
3 and never past the time bound.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_TIMEOUT_S = 30.0
DEFAULT_AS_BYTES = 2 * 1024**3
DEFAULT_BUDGET = "200M"  # CONVT_MAX_BYTES inside the child, well under the address-space limit


@dataclass(frozen=True)
class Outcome:
    args: tuple[str, ...]
    returncode: int | None  # None: killed at the time bound
    stdout: str
    stderr: str
    seconds: float
    timed_out: bool

    def describe(self) -> str:
        return (f"{' '.join(self.args)!r}: exit {self.returncode} after {self.seconds:.1f} s"
                f"{' (timed out)' if self.timed_out else ''}\nstdout: {self.stdout[-600:]!r}\n"
                f"stderr: {self.stderr[-1200:]!r}")


def _limit(as_bytes: int):
    def preexec() -> None:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (as_bytes, as_bytes))

    return preexec


def _env(extra: dict[str, str] | None, budget: str | None) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env.setdefault("OMP_NUM_THREADS", "1")
    env.setdefault("OPENBLAS_NUM_THREADS", "1")
    env.setdefault("COLUMNS", "80")
    env.pop("CONVT_DEBUG", None)
    if budget is not None:
        env["CONVT_MAX_BYTES"] = budget
    env.update(extra or {})
    return env


def _run(cmd: list[str], shown: tuple[str, ...], *, stdin: str | bytes | None, env: dict[str, str] | None,
         budget: str | None, timeout: float, as_bytes: int, cwd: str | Path | None) -> Outcome:
    data = stdin.encode() if isinstance(stdin, str) else stdin
    start = time.monotonic()
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE if data is not None else subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=_env(env, budget),
                            cwd=cwd or ROOT, preexec_fn=_limit(as_bytes))
    try:
        out, err = proc.communicate(data, timeout=timeout)
        timed_out = False
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        timed_out = True
    return Outcome(shown, None if timed_out else proc.returncode, out.decode("utf-8", "replace"),
                   err.decode("utf-8", "replace"), time.monotonic() - start, timed_out)


def run_convt(args: list[str], *, stdin: str | bytes | None = None, env: dict[str, str] | None = None,
              budget: str | None = DEFAULT_BUDGET, timeout: float = DEFAULT_TIMEOUT_S,
              as_bytes: int = DEFAULT_AS_BYTES, cwd: str | Path | None = None) -> Outcome:
    """``python -m convt_cli ARGS`` under the bounds."""
    return _run([sys.executable, "-m", "convt_cli", *args], tuple(args), stdin=stdin, env=env, budget=budget,
                timeout=timeout, as_bytes=as_bytes, cwd=cwd)


def run_python(code: str, *, env: dict[str, str] | None = None, budget: str | None = DEFAULT_BUDGET,
               timeout: float = DEFAULT_TIMEOUT_S, as_bytes: int = DEFAULT_AS_BYTES,
               cwd: str | Path | None = None) -> Outcome:
    """A Python snippet under the bounds (for library calls); print what the test should check."""
    return _run([sys.executable, "-c", code], ("python", "-c", code[:80]), stdin=None, env=env, budget=budget,
                timeout=timeout, as_bytes=as_bytes, cwd=cwd)


def error_lines(outcome: Outcome) -> list[str]:
    return [ln for ln in outcome.stderr.splitlines() if ln.startswith("Error:")]


def assert_bounded(outcome: Outcome) -> None:
    """Finished within the time bound, not killed, no internal error (exit 3), no traceback."""
    assert not outcome.timed_out, "ran past the time bound: " + outcome.describe()
    assert outcome.returncode is not None and outcome.returncode >= 0, "killed: " + outcome.describe()
    assert outcome.returncode != 3, "internal error (exit 3): " + outcome.describe()
    assert "Traceback" not in outcome.stderr, "traceback: " + outcome.describe()


def assert_answer_or_error(outcome: Outcome, *, expect: str = "either", words: tuple[str, ...] = ()) -> None:
    """An answer (exit 0) or one plain ``Error:`` line with exit 1/2; ``expect`` = answer/error/either.

    ``words`` must all appear in the error line (case-sensitive) when it is an error.
    """
    assert_bounded(outcome)
    rc = outcome.returncode
    assert rc in (0, 1, 2), "unexpected exit code: " + outcome.describe()
    if expect == "answer":
        assert rc == 0, "expected an answer: " + outcome.describe()
    if expect == "error":
        assert rc in (1, 2), "expected a refusal: " + outcome.describe()
    if rc == 0:
        return
    lines = error_lines(outcome)
    assert len(lines) == 1, "expected exactly one Error: line: " + outcome.describe()
    if rc == 1:  # a plain refusal is that one line and nothing else on stderr
        assert outcome.stderr.strip() == lines[0], "stderr holds more than the Error: line: " + outcome.describe()
    for word in words:
        assert word in lines[0], f"{word!r} missing from the error: " + outcome.describe()
