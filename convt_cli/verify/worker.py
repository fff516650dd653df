"""Running a checked function (``--impl``) in a worker process, so that nothing it does can take convt
down or touch the reference.

The parent starts ``python -m convt_cli.verify.worker_main TARGET [CONVENTION]``; the worker loads TARGET
(its import-time code runs there, never in the parent), reports what it holds resident, and answers
calls over its stdin/stdout pipes until they close. It is built from the sandbox's pieces
(:mod:`convt_cli.sandbox`): the same pipe format (:mod:`~convt_cli.sandbox.wire`: JSON headers and
``.npy`` arrays, never pickle), the same stdio isolation (the function's prints land on the worker's
stderr, which convt keeps and never shows; Ctrl-C reaches only the parent; the worker dies with it)
and the same memory guard: :class:`~convt_cli.sandbox.watch.RssWatch` kills the worker when its
resident memory passes what it held after loading + the memory budget (``CONVT_MAX_BYTES``) — memory
used, not address space, which XLA and TensorFlow reserve by the gigabyte.

A call that does not answer within the timeout is killed; a worker that dies (segfault, ``os._exit``,
the memory guard, the kernel's OOM killer) turns into a failed case with the reason, and the next call
starts a fresh worker. The function's answer is checked in the worker: an exception (any
``BaseException``, even one whose ``__str__`` raises), a return value that is not a real array, or an
input array it wrote into.
"""

from __future__ import annotations

import os
import selectors
import subprocess
import sys
import tempfile
import time

import numpy as np

from ..limits import human_bytes, max_bytes
from ..sandbox.run import LOAD_ALLOWANCE, budget_words, child_env, exit_reason
from ..sandbox.watch import RssWatch, tree_rss
from ..sandbox.wire import HEAD, LEN, MAX_ARRAYS, MAX_HEADER, decode_array, decode_header, encode, read_message
from .checks import describe_exception, mutation_message, one_line, to_float64
from .convention import convention_subject
from .impl import ImplLoadError, load_impl

DEFAULT_TIMEOUT_S = 10.0
LOAD_TIMEOUT_S = 120.0  # importing the target (it may import torch) on a busy machine
STDERR_TAIL = 4096  # bytes of the worker's stderr read for a crash's "last words"


class SubjectFailed(Exception):
    """The checked function failed a call: ``kind`` is a failure kind of :mod:`.checks`."""

    def __init__(self, kind: str, message: str, signature: str = ""):
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.signature = signature or kind


class WorkerLoadError(Exception):
    """The worker could not load the target (the parent turns this into a usage error)."""


# ---------------------------------------------------------------------------------------------------
# The parent's side
# ---------------------------------------------------------------------------------------------------


class WorkerSubject:
    """The parent's handle on a worker: :meth:`start` loads the target, :meth:`call` runs one call."""

    def __init__(self, target: str, timeout: float = DEFAULT_TIMEOUT_S, convention: str | None = None):
        self.target = target
        self.convention = convention  # the function speaks this framework's convention (wrapped in the worker)
        self.timeout = timeout
        self.name = target
        self.memory_limit: int | None = None  # resident bytes the worker may hold once loaded
        self.restarts = 0
        self.budget = max_bytes()
        self._proc: subprocess.Popen[bytes] | None = None
        self._watch: RssWatch | None = None
        self._err = None  # the worker's stderr: kept, never shown (a crash quotes its last line)
        self._limit_words = ""
        self._peak = 0

    @property
    def peak_rss(self) -> int:
        """The largest resident size seen of any of this subject's workers (bytes)."""
        return max(self._peak, 0 if self._watch is None else self._watch.peak)

    # --- process management ----------------------------------------------------------------------
    def start(self) -> str:
        """Start a worker and load the target; :class:`WorkerLoadError` with the reason when it can't."""
        self.spawn()
        return self.handshake()

    def spawn(self) -> None:
        """Start the worker process (it begins loading the target at once) and watch its resident memory."""
        self._err = tempfile.TemporaryFile()
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "convt_cli.verify.worker_main", self.target,
             *([self.convention] if self.convention else [])],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._err, env=child_env())
        limit = tree_rss(self._proc.pid) + self.budget + LOAD_ALLOWANCE
        self._limit_words = f"{human_bytes(limit)} while loading ({budget_words(self.budget)} + 2 GiB for imports)"
        self._watch = RssWatch(self._proc.pid, limit)
        self._watch.__enter__()

    def handshake(self) -> str:
        """Wait for the worker to report the target loaded; the display name, or :class:`WorkerLoadError`."""
        try:
            header, _ = self._receive(time.monotonic() + LOAD_TIMEOUT_S)
        except SubjectFailed as exc:
            self.close()
            raise WorkerLoadError(f"loading {self.target!r} failed: {exc.message}") from None
        if not header.get("ok"):
            self.close()
            raise WorkerLoadError(str(header.get("error", "the worker could not load it")))
        self.name = str(header.get("name", self.target))
        held = header.get("rss")
        assert self._proc is not None and self._watch is not None
        self.memory_limit = (held if isinstance(held, int) else tree_rss(self._proc.pid)) + self.budget
        self._watch.limit = self.memory_limit
        self._limit_words = f"{human_bytes(self.memory_limit)}: what it held after loading + " \
                            f"{budget_words(self.budget)}"
        return self.name

    def close(self) -> None:
        proc, self._proc = self._proc, None
        watch, self._watch = self._watch, None
        if watch is not None:
            watch.stop()
            self._peak = max(self._peak, watch.peak)
        if proc is not None:
            for stream in (proc.stdin, proc.stdout):
                try:
                    if stream is not None:
                        stream.close()
                except OSError:
                    pass
            if proc.poll() is None:
                proc.kill()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:  # pragma: no cover - SIGKILL always ends a process
                pass
        err, self._err = self._err, None
        if err is not None:
            err.close()

    def _last_words(self) -> str:
        err = self._err
        if err is None:
            return ""
        try:
            size = err.seek(0, os.SEEK_END)
            err.seek(max(0, size - STDERR_TAIL))
            text = err.read().decode("utf-8", "replace")
        except (OSError, ValueError):
            return ""
        return next((ln.strip() for ln in reversed(text.splitlines()) if ln.strip()), "")

    def _died(self) -> SubjectFailed:
        proc, watch = self._proc, self._watch
        code = None
        if proc is not None:
            try:
                code = proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                code = None
        exceeded = None if watch is None else watch.exceeded
        last = self._last_words()
        self.close()
        self.restarts += 1
        if exceeded is not None:
            return SubjectFailed("memory", f"the function used {human_bytes(exceeded)} of resident memory, past "
                                 f"the worker's limit of {self._limit_words}; it was stopped")
        reason = exit_reason(code).replace("it crashed: ", "the function crashed its worker process: ").replace(
            "it ended with exit status", "the function ended its worker process with exit status")
        if code is not None and code >= 0:
            reason += " (os._exit or an exit from native code); no result"
        return SubjectFailed("crash", reason + (f" (its last words: {one_line(last, 160)})" if last else ""))

    # --- I/O ---------------------------------------------------------------------------------------
    def _read(self, n: int, deadline: float) -> bytes:
        assert self._proc is not None and self._proc.stdout is not None
        fd = self._proc.stdout.fileno()
        chunks: list[bytes] = []
        got = 0
        with selectors.DefaultSelector() as sel:
            sel.register(fd, selectors.EVENT_READ)
            while got < n:
                left = deadline - time.monotonic()
                if left <= 0 or not sel.select(left):
                    raise TimeoutError
                chunk = os.read(fd, min(n - got, 1 << 20))
                if not chunk:
                    raise EOFError
                chunks.append(chunk)
                got += len(chunk)
        return b"".join(chunks)

    def _receive(self, deadline: float) -> tuple[dict[str, object], list[np.ndarray]]:
        try:
            head_len, count = HEAD.unpack(self._read(HEAD.size, deadline))
            if head_len > MAX_HEADER or count > MAX_ARRAYS:
                raise ValueError("malformed reply")
            header = decode_header(self._read(head_len, deadline))
            arrays = []
            for _ in range(count):
                (size,) = LEN.unpack(self._read(LEN.size, deadline))
                if size > self.budget:
                    raise ValueError(f"a reply of {size} bytes is over the memory budget")
                arrays.append(decode_array(self._read(size, deadline)))
            return header, arrays
        except EOFError:
            raise self._died() from None
        except TimeoutError:
            self.close()
            self.restarts += 1
            raise SubjectFailed("timeout", f"no answer within {self.timeout:g} s (--timeout): the call was "
                                "stopped and the worker restarted") from None
        except (ValueError, UnicodeDecodeError) as exc:
            self.close()
            self.restarts += 1
            raise SubjectFailed("crash", f"the worker's reply could not be read ({one_line(str(exc), 80)}); "
                                "did the function write to the file descriptors convt uses?") from None

    def call(self, x: np.ndarray, w: np.ndarray, b: np.ndarray | None, kwargs: dict[str, object]) -> np.ndarray:
        """The function's answer as float64; :class:`SubjectFailed` for every way a call can fail."""
        if self._proc is None or self._proc.poll() is not None:
            if self._proc is not None:
                self.close()
            try:
                self.start()
            except WorkerLoadError as exc:
                raise SubjectFailed("crash", f"the worker could not be restarted: {exc}") from None
        assert self._proc is not None and self._proc.stdin is not None
        arrays = [x, w] + ([] if b is None else [b])
        try:
            self._proc.stdin.write(encode({"kwargs": kwargs}, arrays))
            self._proc.stdin.flush()
        except (BrokenPipeError, OSError):
            raise self._died() from None
        header, out = self._receive(time.monotonic() + self.timeout)
        if header.get("status") == "ok" and len(out) == 1:
            return out[0].astype(np.float64, copy=False)
        raise SubjectFailed(str(header.get("kind", "exception")), str(header.get("message", "(no message)")),
                            str(header.get("signature", "")))


# ---------------------------------------------------------------------------------------------------
# The worker's side
# ---------------------------------------------------------------------------------------------------


def _answer(func: object, x: np.ndarray, w: np.ndarray, b: np.ndarray | None,
            kwargs: dict[str, object]) -> tuple[dict[str, object], list[np.ndarray]]:
    before = [a.copy() for a in (x, w)] + [None if b is None else b.copy()]
    try:
        out = func(x, w, b, **kwargs)  # type: ignore[operator]
    except BaseException as exc:  # noqa: BLE001 - whatever the function raises is a failed case
        message, signature = describe_exception(exc)
        return {"status": "error", "kind": "exception", "message": message, "signature": signature}, []
    mutated = mutation_message(before, [x, w, b])
    if mutated:
        return {"status": "error", "kind": "mutation", "message": mutated}, []
    try:
        arr = to_float64(out)
    except BaseException as exc:  # noqa: BLE001 - __array__ and friends are the function's code too
        message = str(exc) if isinstance(exc, ValueError) else describe_exception(exc)[0]
        return {"status": "error", "kind": "returned", "message": message}, []
    return {"status": "ok"}, [arr]


def main(argv: list[str]) -> int:
    from ..sandbox.child import take_pipes

    proto_in, proto_out = take_pipes()

    def send(header: dict[str, object], arrays: list[np.ndarray]) -> None:
        proto_out.write(encode(header, arrays))

    try:
        func, name = load_impl(argv[0], check_contract=len(argv) == 1)
    except ImplLoadError as exc:
        send({"ok": False, "error": str(exc)}, [])
        return 0
    except BaseException as exc:  # noqa: BLE001
        send({"ok": False, "error": f"loading {argv[0]!r} failed: {describe_exception(exc)[0]}"}, [])
        return 0
    if len(argv) > 1:  # --convention: the function is called the way that framework's own op is called
        func, name = convention_subject(argv[1], func), f"{name} ({argv[1]} convention)"
    send({"ok": True, "name": name, "rss": tree_rss(os.getpid())}, [])
    while True:
        try:
            header, arrays = read_message(proto_in)
        except EOFError:
            return 0
        kwargs = {k: tuple(v) if isinstance(v, list) else v for k, v in header["kwargs"].items()}  # type: ignore[union-attr]
        x, w = arrays[0], arrays[1]
        b = arrays[2] if len(arrays) > 2 else None
        reply, out = _answer(func, x, w, b, kwargs)
        send(reply, out)
