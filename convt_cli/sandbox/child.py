"""``python -m convt_cli.sandbox.child_main MODULE:FUNC``: the sandboxed side (see :mod:`convt_cli.sandbox`).

The child reads one request from stdin, imports convt's own ``MODULE`` and calls
``FUNC(request, arrays) -> (reply, arrays)``, which loads and runs the foreign code. Its fd 1 points at
stderr before anything runs, so foreign prints never reach convt's stdout; SIGINT is ignored (Ctrl-C
is the parent's); the kernel kills the child when convt goes away. ``loaded()`` tells the parent that
foreign code is imported, so that the memory limit becomes "resident now + the budget".
"""

from __future__ import annotations

import importlib
import os
import signal
import sys

from .wire import encode, read_message

_OUT: dict[str, object] = {}


def _send(header: dict[str, object], arrays=()) -> None:  # type: ignore[no-untyped-def]
    out = _OUT.get("stream")
    if out is not None:
        out.write(encode(header, list(arrays)))  # type: ignore[attr-defined]


def loaded() -> None:
    """Say that the foreign code is loaded: from now on the limit is what is resident now + the budget."""
    from .watch import tree_rss

    _send({"event": "loaded", "rss": tree_rss(os.getpid())})


def die_with_parent() -> None:
    """Linux: the kernel kills this process when its parent goes away, even by SIGKILL."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # pragma: no cover - not Linux
        pass


def describe(exc: BaseException) -> tuple[str, str]:
    """``(type name, one-line message)`` of any exception, whatever its ``__str__`` does."""
    try:
        name = type(exc).__name__
    except Exception:  # pragma: no cover
        name = "exception"
    try:
        text = " ".join(str(exc).split())
    except BaseException as inner:  # noqa: BLE001 - foreign __str__ may raise anything
        text = f"(its message could not be read: str() raised {type(inner).__name__})"
    return name, text[:2000]


def take_pipes():  # type: ignore[no-untyped-def]
    """Keep the protocol pipes (stdin, stdout) for convt, and leave foreign code none of them: fd 0 reads
    /dev/null, fd 1 points at stderr (foreign prints, even from C, land there); SIGINT ignored (Ctrl-C is
    the parent's); the process dies with its parent. Returns the protocol's (input, output) streams."""
    proto_in = os.fdopen(os.dup(0), "rb", buffering=0)
    proto_out = os.fdopen(os.dup(1), "wb", buffering=0)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    die_with_parent()
    return proto_in, proto_out


def main(argv: list[str]) -> int:
    proto_in, _OUT["stream"] = take_pipes()
    try:
        request, arrays = read_message(proto_in)
    except (EOFError, ValueError):
        return 2
    module, _, name = argv[0].partition(":")
    func = getattr(importlib.import_module(module), name)
    try:
        reply, out = func(request, arrays)
    except SystemExit as exc:
        _send({"status": "error", "kind": "exit", "type": "SystemExit",
               "message": f"it called exit({describe(exc)[1] or 0}) (SystemExit) before answering"})
        return 0
    except BaseException as exc:  # noqa: BLE001 - whatever foreign code raises is an answer
        kind, text = describe(exc)
        _send({"status": "error", "kind": "exception", "type": kind, "message": f"{kind}: {text or '(no message)'}"})
        return 0
    _send({"status": "ok", **reply}, out)
    return 0
