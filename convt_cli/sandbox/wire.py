"""The pipe format between convt and a sandboxed child, both ways.

``>II`` (header length, array count), a JSON header, then each array as ``>Q`` length + ``.npy``
bytes. Arrays are read back with ``np.load(..., allow_pickle=False)`` and headers with ``json``:
nothing a child sends is ever unpickled.
"""

from __future__ import annotations

import io
import json
import struct

import numpy as np

HEAD = struct.Struct(">II")
LEN = struct.Struct(">Q")
MAX_HEADER = 1 << 22  # a JSON header larger than 4 MiB is not a reply of ours
MAX_ARRAYS = 64


def encode(header: dict[str, object], arrays: list[np.ndarray] | tuple[np.ndarray, ...] = ()) -> bytes:
    head = json.dumps(header).encode("utf-8")
    parts = [HEAD.pack(len(head), len(arrays)), head]
    for arr in arrays:
        buf = io.BytesIO()
        np.save(buf, np.ascontiguousarray(arr), allow_pickle=False)
        parts += [LEN.pack(buf.tell()), buf.getvalue()]
    return b"".join(parts)


def decode_array(blob: bytes) -> np.ndarray:
    arr = np.load(io.BytesIO(blob), allow_pickle=False)
    if not isinstance(arr, np.ndarray) or arr.dtype.kind not in "biuf":
        raise ValueError("not a real numeric array")
    return arr


def decode_header(blob: bytes) -> dict[str, object]:
    header = json.loads(blob.decode("utf-8"))
    if not isinstance(header, dict):
        raise ValueError("a header is not a JSON object")
    return header


def read_exact(stream, n: int) -> bytes:  # type: ignore[no-untyped-def]
    """``n`` bytes from a blocking binary stream; :class:`EOFError` when it ends first."""
    chunks, got = [], 0
    while got < n:
        chunk = stream.read(n - got)
        if not chunk:
            raise EOFError
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


def read_message(stream) -> tuple[dict[str, object], list[np.ndarray]]:  # type: ignore[no-untyped-def]
    """One message (header, arrays) from a blocking binary stream; :class:`EOFError` at its end,
    :class:`ValueError` when it is malformed."""
    head_len, count = HEAD.unpack(read_exact(stream, HEAD.size))
    if head_len > MAX_HEADER or count > MAX_ARRAYS:
        raise ValueError("a malformed message")
    header = decode_header(read_exact(stream, head_len))
    arrays = []
    for _ in range(count):
        (size,) = LEN.unpack(read_exact(stream, LEN.size))
        arrays.append(decode_array(read_exact(stream, size)))
    return header, arrays
