"""The parent's side of the sandbox: start the child, feed it, watch it, read its answer."""

from __future__ import annotations

import os
import selectors
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..limits import ENV_VAR, human_bytes, max_bytes
from .watch import RssWatch, kill_tree, tree_rss
from .wire import HEAD, LEN, MAX_ARRAYS, MAX_HEADER, decode_array, decode_header, encode

LOAD_ALLOWANCE = 2 * 1024**3  # before the foreign code is loaded: the budget + this much for imports
STDERR_TAIL = 64 * 1024


class SandboxFailure(Exception):
    """The sandboxed run gave no answer, or answered with an error.

    ``kind``: ``timeout``, ``memory`` (its resident memory passed the limit), ``crash`` (it died),
    ``exit`` (it called exit), ``exception`` (it raised; ``type`` names the exception) or ``protocol``.
    """

    def __init__(self, kind: str, message: str, *, type_name: str = "", stderr: str = ""):
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.type_name = type_name
        self.stderr = stderr


@dataclass
class Outcome:
    reply: dict[str, object]
    arrays: list[np.ndarray] = field(default_factory=list)
    peak_rss: int = 0
    stderr: str = ""


def exit_reason(code: int | None) -> str:
    if code is None:
        return "the process stopped answering"
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        what = {"SIGSEGV": "a segmentation fault", "SIGBUS": "a bus error", "SIGABRT": "an abort",
                "SIGKILL": "SIGKILL (e.g. the out-of-memory killer)", "SIGFPE": "a floating-point trap"}
        return f"it crashed: {what.get(name, name)} ({name})"
    return f"it ended with exit status {code} before answering"


def budget_words(budget: int) -> str:
    source = ENV_VAR if os.environ.get(ENV_VAR) else f"half the available RAM; set {ENV_VAR} to change"
    return f"the memory budget of {human_bytes(budget)} ({source})"


def child_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of a child: convt importable, unbuffered, frameworks' log noise and warnings off."""
    root = str(Path(__file__).resolve().parents[2])
    env = dict(os.environ)
    env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env["PYTHONUNBUFFERED"] = "1"
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    env.setdefault("PYTHONWARNINGS", "ignore")
    env.update(extra or {})
    return env


class _Reader:
    """Incremental parser of the child's messages from its stdout bytes."""

    def __init__(self, max_array: int):
        self.buf = bytearray()
        self.max_array = max_array

    def feed(self, data: bytes) -> None:
        self.buf += data

    def take(self) -> tuple[dict[str, object], list[np.ndarray]] | None:
        buf = self.buf
        if len(buf) < HEAD.size:
            return None
        head_len, count = HEAD.unpack_from(buf, 0)
        if head_len > MAX_HEADER or count > MAX_ARRAYS:
            raise ValueError("a malformed message")
        pos = HEAD.size + head_len
        if len(buf) < pos:
            return None
        header = decode_header(bytes(buf[HEAD.size:pos]))
        arrays = []
        for _ in range(count):
            if len(buf) < pos + LEN.size:
                return None
            (size,) = LEN.unpack_from(buf, pos)
            if size > self.max_array:
                raise ValueError(f"an array of {size} bytes, over the memory budget")
            pos += LEN.size
            if len(buf) < pos + size:
                return None
            arrays.append(decode_array(bytes(buf[pos:pos + size])))
            pos += size
        del buf[:pos]
        return header, arrays


def run_isolated(target: str, request: dict[str, object], arrays: list[np.ndarray] | tuple = (), *,
                 timeout: float, budget: int | None = None, env: dict[str, str] | None = None,
                 cwd: str | None = None, what: str = "the run") -> Outcome:
    """Run convt's ``target`` (``"convt_cli.x.y:func"``) in a child process; its answer, or
    :class:`SandboxFailure`.

    ``timeout`` bounds the whole run (start-up and loading included); ``budget`` (default: convt's
    memory budget) bounds the resident memory the child tree may add once it has called
    ``child.loaded()`` (before that: the budget + 2 GiB for imports). ``what`` names the run in
    messages ("the snippet", "the model builder").
    """
    budget = max_bytes() if budget is None else budget
    proc = subprocess.Popen([sys.executable, "-m", "convt_cli.sandbox.child_main", target],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=child_env(env), cwd=cwd)
    payload = encode(request, list(arrays))

    def feed() -> None:
        try:
            assert proc.stdin is not None
            proc.stdin.write(payload)
            proc.stdin.close()
        except (BrokenPipeError, OSError):
            pass

    writer = threading.Thread(target=feed, daemon=True)
    writer.start()
    reader = _Reader(max_array=budget)
    err = bytearray()
    deadline = time.monotonic() + timeout
    final: tuple[dict[str, object], list[np.ndarray]] | None = None
    limit_now = tree_rss(proc.pid) + budget + LOAD_ALLOWANCE
    watch = RssWatch(proc.pid, limit_now)
    limit_words = f"{human_bytes(limit_now)} while loading ({budget_words(budget)} + 2 GiB for imports)"
    timed_out = False
    try:
        with watch, selectors.DefaultSelector() as sel:
            assert proc.stdout is not None and proc.stderr is not None
            sel.register(proc.stdout, selectors.EVENT_READ, "out")
            sel.register(proc.stderr, selectors.EVENT_READ, "err")
            open_streams = 2
            while open_streams and final is None:
                left = deadline - time.monotonic()
                if left <= 0:
                    timed_out = True
                    break
                for key, _ in sel.select(min(left, 0.25)):
                    data = os.read(key.fileobj.fileno(), 1 << 20)  # type: ignore[union-attr]
                    if not data:
                        sel.unregister(key.fileobj)
                        open_streams -= 1
                        continue
                    if key.data == "err":
                        err += data
                        if len(err) > STDERR_TAIL:
                            del err[: len(err) - STDERR_TAIL]
                        continue
                    reader.feed(data)
                    while final is None and (msg := reader.take()) is not None:
                        if msg[0].get("event") == "loaded":
                            held = msg[0].get("rss")
                            limit_now = (held if isinstance(held, int) else tree_rss(proc.pid)) + budget
                            watch.limit = limit_now
                            limit_words = (f"{human_bytes(limit_now)}: what it held after loading + "
                                           f"{budget_words(budget)}")
                        else:
                            final = msg
    except ValueError as exc:
        kill_tree(proc.pid)
        raise SandboxFailure("protocol", f"{what} answered something unreadable ({exc})") from None
    finally:
        if final is None or timed_out:
            kill_tree(proc.pid)
        try:
            code = proc.wait(timeout=10)
        except subprocess.TimeoutExpired:  # pragma: no cover - SIGKILL ends a process
            code = None
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()
    stderr_text = err.decode("utf-8", "replace")
    if final is not None:
        header, out = final
        if header.get("status") == "ok":
            return Outcome(header, out, watch.peak, stderr_text)
        raise SandboxFailure(str(header.get("kind", "exception")), str(header.get("message", "(no message)")),
                             type_name=str(header.get("type", "")), stderr=stderr_text)
    if watch.exceeded is not None:
        raise SandboxFailure("memory", f"{what} used {human_bytes(watch.exceeded)} of resident memory, past its "
                             f"limit of {limit_words}; it was stopped", stderr=stderr_text)
    if timed_out:
        raise SandboxFailure("timeout", f"{what} gave no answer within {timeout:g} s; it was stopped",
                             stderr=stderr_text)
    last = next((ln.strip() for ln in reversed(stderr_text.splitlines()) if ln.strip()), "")
    raise SandboxFailure("crash", f"{what} gave no answer: {exit_reason(code)}"
                         + (f" (its last words: {last[:200]})" if last else ""), stderr=stderr_text)
