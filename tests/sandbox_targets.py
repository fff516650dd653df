"""Functions run inside the sandbox by tests/test_sandbox.py (each as the child's ``MODULE:FUNC``)."""

import ctypes
import os
import sys
import time

import numpy as np

from convt_cli.sandbox.child import loaded


def echo(request, arrays):
    print("a print that must not reach the parent's stdout")
    return {"got": request["a"]}, [a * 2 for a in arrays]


def raises(request, arrays):
    raise ValueError("bad\nthing")


def exits(request, arrays):
    sys.exit(request.get("code", 0))


def hangs(request, arrays):
    time.sleep(3600)


def hard_exit(request, arrays):
    os._exit(7)


def segfault(request, arrays):
    ctypes.string_at(0)


def allocate(request, arrays):
    loaded()
    block = np.ones(request["mib"] * 1024 * 1024 // 8)  # touched: really resident
    time.sleep(0.3)
    return {"sum": float(block.sum())}, []


def reserve(request, arrays):
    """Maps a lot of address space, touches little: what XLA does; it must pass a resident limit."""
    loaded()
    mm = __import__("mmap").mmap(-1, request["mib"] * 1024 * 1024)
    mm[:4096] = b"x" * 4096
    return {"ok": True}, []
