"""Running a checked function (``--impl``) in a worker process, so that nothing it does can take convt
down or touch the reference.

The parent starts ``python -m convt_cli.verify.worker_main TARGET``; the worker loads TARGET (its import-time
code runs there, never in the parent), limits its own address space (``RLIMIT_AS``) and answers calls
over its stdin/stdout pipes. Its fd 1 is pointed at stderr before the target is imported, so the
function's prints can never reach convt's stdout (``--json`` stays clean); SIGINT is ignored there, so
Ctrl-C reaches only the parent.

Wire format, both ways: ``>II`` (header length, array count), a JSON header, then each array as
``>Q`` length + ``.npy`` bytes. Arrays are read back with ``np.load(..., allow_pickle=False)`` and
headers with ``json``: nothing the worker sends is ever unpickled.

A call that does not answer within the timeout is killed; a worker that dies (segfault, ``os._exit``,
the kernel's OOM killer) turns into a failed case with the reason, and the next call starts a fresh
worker. The function's answer is checked in the worker: an exception (any ``BaseException``, even one
whose ``__str__`` raises), a return value that is not a real array, or an input array it wrote into.
"""

from __future__ import annotations

import io
import json
import os
import selectors
import signal
import struct
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from .checks import describe_exception, mutation_message, one_line, to_float64

DEFAULT_TIMEOUT_S = 10.0
LOAD_TIMEOUT_S = 120.0  # importing the target (it may import torch) on a busy machine
MIN_ADDRESS_SPACE = 256 * 1024**2  # the worker may always grow by at least this much after loading
_HEAD = struct.Struct(">II")
_LEN = struct.Struct(">Q")


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
# Wire format
# ---------------------------------------------------------------------------------------------------


def encode(header: dict[str, object], arrays: list[np.ndarray]) -> bytes:
    head = json.dumps(header).encode("utf-8")
    parts = [_HEAD.pack(len(head), len(arrays)), head]
    for arr in arrays:
        buf = io.BytesIO()
        np.save(buf, np.ascontiguousarray(arr), allow_pickle=False)
        parts += [_LEN.pack(buf.tell()), buf.getvalue()]
    return b"".join(parts)


def decode_array(blob: bytes) -> np.ndarray:
    arr = np.load(io.BytesIO(blob), allow_pickle=False)
    if not isinstance(arr, np.ndarray) or arr.dtype.kind not in "biuf":
        raise ValueError("not a real numeric array")
    return arr


# ---------------------------------------------------------------------------------------------------
# The parent's side
# ---------------------------------------------------------------------------------------------------


def _exit_reason(code: int | None) -> str:
    if code is None:
        return "the worker process stopped answering"
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        what = {"SIGSEGV": "a segmentation fault", "SIGBUS": "a bus error", "SIGABRT": "an abort",
                "SIGKILL": "SIGKILL (e.g. the out-of-memory killer)", "SIGFPE": "a floating-point trap"}
        return f"the function crashed its worker process: {what.get(name, name)} ({name})"
    return (f"the function ended its worker process with exit status {code} before answering "
            "(os._exit or an exit from native code); no result")


class WorkerSubject:
    """The parent's handle on a worker: :meth:`start` loads the target, :meth:`call` runs one call."""

    def __init__(self, target: str, timeout: float = DEFAULT_TIMEOUT_S, convention: str | None = None):
        self.target = target
        self.convention = convention  # the function speaks this framework's convention (wrapped in the worker)
        self.timeout = timeout
        self.name = target
        self.address_space: int | None = None
        self.restarts = 0
        self._proc: subprocess.Popen[bytes] | None = None
        from ..limits import max_bytes

        self._max_reply = max_bytes()

    # --- process management ----------------------------------------------------------------------
    def start(self) -> str:
        """Start a worker and load the target; :class:`WorkerLoadError` with the reason when it can't."""
        self.spawn()
        return self.handshake()

    def spawn(self) -> None:
        """Start the worker process (it begins loading the target at once)."""
        root = str(Path(__file__).resolve().parents[2])
        env = dict(os.environ)
        env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
        env["PYTHONUNBUFFERED"] = "1"
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "convt_cli.verify.worker_main", self.target,
             *([self.convention] if self.convention else [])],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=None, env=env,
            start_new_session=False)

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
        limit = header.get("address_space")
        self.address_space = int(limit) if isinstance(limit, int) else None
        return self.name

    def close(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
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

    def _died(self) -> SubjectFailed:
        proc = self._proc
        code = None
        if proc is not None:
            try:
                code = proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                code = None
        self.close()
        self.restarts += 1
        return SubjectFailed("crash", _exit_reason(code))

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
            head_len, count = _HEAD.unpack(self._read(_HEAD.size, deadline))
            if head_len > 1 << 20 or count > 4:
                raise ValueError("malformed reply")
            header = json.loads(self._read(head_len, deadline).decode("utf-8"))
            if not isinstance(header, dict):
                raise ValueError("malformed reply")
            arrays = []
            for _ in range(count):
                (size,) = _LEN.unpack(self._read(_LEN.size, deadline))
                if size > self._max_reply:
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
        except (ValueError, UnicodeDecodeError, struct.error) as exc:
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
        message = encode({"kwargs": kwargs}, arrays)
        try:
            self._proc.stdin.write(message)
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


def _read_exact(stream: io.RawIOBase, n: int) -> bytes:
    chunks, got = [], 0
    while got < n:
        chunk = stream.read(n - got)
        if not chunk:
            raise EOFError
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


def _address_space_now() -> int:
    try:
        with open("/proc/self/statm", encoding="ascii") as f:
            return int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):  # pragma: no cover - not Linux
        return 0


def limit_address_space() -> int | None:
    """``RLIMIT_AS`` = the size after loading + max(memory budget, 256 MiB); the limit set, or None."""
    try:
        import resource

        from ..limits import max_bytes
    except ImportError:  # pragma: no cover - not POSIX
        return None
    limit = _address_space_now() + max(max_bytes(), MIN_ADDRESS_SPACE)
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    try:
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    except (ValueError, OSError):  # pragma: no cover
        return None
    return limit


_LIMIT: dict[str, int | None] = {"bytes": None}


def _answer(func: object, x: np.ndarray, w: np.ndarray, b: np.ndarray | None,
            kwargs: dict[str, object]) -> tuple[dict[str, object], list[np.ndarray]]:
    before = [a.copy() for a in (x, w)] + [None if b is None else b.copy()]
    try:
        out = func(x, w, b, **kwargs)  # type: ignore[operator]
    except BaseException as exc:  # noqa: BLE001 - whatever the function raises is a failed case
        message, signature = describe_exception(exc)
        if isinstance(exc, MemoryError) and _LIMIT["bytes"]:
            from ..limits import human_bytes

            message += (f" (the worker's address space is limited to {human_bytes(_LIMIT['bytes'])}: the memory "
                        "budget, CONVT_MAX_BYTES, on top of what the function's module needed to load)")
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


def _die_with_parent() -> None:
    """Linux: the kernel kills this worker when convt goes away, even by SIGKILL (a hung call included)."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # pragma: no cover - not Linux
        pass


def main(argv: list[str]) -> int:
    proto_in = os.fdopen(os.dup(0), "rb", buffering=0)
    proto_out = os.fdopen(os.dup(1), "wb", buffering=0)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.dup2(2, 1)  # the function's prints, even from C, land on stderr
    sys.stdout = sys.stderr
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's
    _die_with_parent()

    def send(header: dict[str, object], arrays: list[np.ndarray]) -> None:
        proto_out.write(encode(header, arrays))

    from .impl import ImplLoadError, load_impl

    try:
        func, name = load_impl(argv[0], check_contract=len(argv) == 1)
    except ImplLoadError as exc:
        send({"ok": False, "error": str(exc)}, [])
        return 0
    except BaseException as exc:  # noqa: BLE001
        send({"ok": False, "error": f"loading {argv[0]!r} failed: {describe_exception(exc)[0]}"}, [])
        return 0
    if len(argv) > 1:  # --convention: the function is called the way that framework's own op is called
        from .convention import convention_subject

        func, name = convention_subject(argv[1], func), f"{name} ({argv[1]} convention)"
    _LIMIT["bytes"] = limit_address_space()
    send({"ok": True, "name": name, "address_space": _LIMIT["bytes"]}, [])
    while True:
        try:
            head_len, count = _HEAD.unpack(_read_exact(proto_in, _HEAD.size))
            header = json.loads(_read_exact(proto_in, head_len).decode("utf-8"))
            arrays = []
            for _ in range(count):
                (size,) = _LEN.unpack(_read_exact(proto_in, _LEN.size))
                arrays.append(decode_array(_read_exact(proto_in, size)))
        except EOFError:
            return 0
        kwargs = {k: tuple(v) if isinstance(v, list) else v for k, v in header["kwargs"].items()}
        x, w = arrays[0], arrays[1]
        b = arrays[2] if len(arrays) > 2 else None
        reply, out = _answer(func, x, w, b, kwargs)
        send(reply, out)
