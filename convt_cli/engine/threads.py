"""The engine's own thread pool and its GEMMs in single-threaded blocks.

``set_threads``/``engine_threads``: how many threads the pool uses; ``_run_all``: a list of items
over the pool (one pool per thread count and process); ``_gemm``: ``np.matmul`` cut into blocks
(``_tile``) small enough for BLAS to run each on the calling thread. Why: see the comment below.
"""

from __future__ import annotations

import os
import threading

import numpy as np

# ----------------------------------------------------------------------------------------------
# Threads. OpenBLAS runs a GEMM of at most ~2^19-2^20 multiply-adds on the calling thread alone and
# splits larger ones over its own worker threads, which spin and synchronise per call: cheap when
# the machine is idle, but when another process holds a core every call waits for a descheduled
# worker (measured: a stack of 8 small GEMMs 6 ms on one thread, 200 ms on two under load). So the
# engine keeps BLAS's threads for few, large GEMMs only ("blas" regime: one call per chunk of
# images) and otherwise cuts its GEMMs into calls below that size, which BLAS runs single-threaded,
# spreading independent pieces (chunks of images, blocks of groups) over its own small pool of
# Python threads (NumPy releases the GIL in matmul and in ufuncs on large arrays) — "pooled"
# regime. In both regimes the memory-bound work after the GEMM (the taps' sums, bias and the
# strided copy into the output) is spread over the pool too.
# ----------------------------------------------------------------------------------------------

_SINGLE_MNK = 1 << 19  # multiply-adds of a GEMM call that BLAS runs on the calling thread alone
_TILE_COLS = 256  # columns wanted per single-threaded GEMM block
_TILE_DEPTH = 128  # the most reduction per block (deeper reductions are summed over blocks)
_TILE_MIN = 32  # the fewest rows, and columns, of a block
_THREADS: int | None = None
_POOLS: dict[tuple[int, int], object] = {}
_POOL_LOCK = threading.Lock()


def set_threads(count: int | None) -> None:
    """Threads the engine's own pool uses (``None``: ``CONVT_THREADS`` if set, else every CPU the
    process may run on). BLAS's own thread count is BLAS's (``OPENBLAS_NUM_THREADS`` etc.)."""
    global _THREADS
    if count is not None and (type(count) is not int or count < 1):
        raise ValueError(f"threads must be a positive int, not {count!r}")
    _THREADS = count


def engine_threads() -> int:
    if _THREADS is not None:
        return _THREADS
    env = os.environ.get("CONVT_THREADS", "")
    if env.isdigit() and int(env) > 0:
        return int(env)
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def _run_all(fn, items: list, threads: int) -> None:
    """``fn(item)`` for every item, over ``threads`` threads (the caller's one among them)."""
    if threads <= 1 or len(items) <= 1:
        for item in items:
            fn(item)
        return
    with _POOL_LOCK:
        key = (threads, os.getpid())  # a forked child has none of its parent's worker threads: a pool of its own
        pool = _POOLS.get(key)
        if pool is None:
            from concurrent.futures import ThreadPoolExecutor

            pool = _POOLS[key] = ThreadPoolExecutor(threads - 1, thread_name_prefix="convt")
    it = iter(items)
    lock = threading.Lock()

    def drain() -> None:
        while True:
            with lock:
                item = next(it, None)
            if item is None:
                return
            fn(item)

    futures = [pool.submit(drain) for _ in range(min(threads, len(items)) - 1)]  # type: ignore[attr-defined]
    try:
        drain()
    finally:
        for f in futures:
            f.result()


def _gemm(a: np.ndarray, bm: np.ndarray, out: np.ndarray, tile: tuple[int, int, int] | None,
          threads: int = 1) -> np.ndarray:
    """``np.matmul(a, bm, out=out)``; with ``tile`` (rows, reduction, columns), in blocks of that
    size — calls small enough for BLAS to run each on the calling thread alone — the partial
    products over the reduction summed into the block; the blocks spread over ``threads``."""
    rows, red, n = a.shape[-2], a.shape[-1], bm.shape[-1]
    if tile is None or (tile[0] >= rows and tile[1] >= red and tile[2] >= n):
        return np.matmul(a, bm, out=out)
    rb, kb, cb = tile

    def block(rc: tuple[int, int]) -> None:
        r0, c0 = rc
        ar = a[..., r0: r0 + rb, :]
        o = out[..., r0: r0 + rb, c0: c0 + cb]
        np.matmul(ar[..., :kb], bm[..., :kb, c0: c0 + cb], out=o)
        if kb < red:
            t = np.empty(o.shape, dtype=o.dtype)
            for k0 in range(kb, red, kb):
                np.matmul(ar[..., k0: k0 + kb], bm[..., k0: k0 + kb, c0: c0 + cb], out=t)
                np.add(o, t, out=o)

    _run_all(block, [(r0, c0) for r0 in range(0, rows, rb) for c0 in range(0, n, cb)], threads)
    return out


def _tile(rows: int, reduction: int, cols: int) -> tuple[int, int, int]:
    """Rows, reduction and columns of a GEMM block small enough (at most _SINGLE_MNK multiply-adds)
    for BLAS to run on the calling thread: as wide and deep as that allows (a GEMM with few columns
    gets taller, deeper blocks), at least _TILE_MIN rows and columns."""
    cb = max(1, min(cols, _TILE_COLS))
    kb = max(1, min(reduction, max(_TILE_DEPTH, _SINGLE_MNK // (cb * _TILE_MIN))))
    rb = max(1, min(rows, max(_TILE_MIN, _SINGLE_MNK // (kb * cb))))
    return rb, kb, max(_TILE_MIN, _SINGLE_MNK // (rb * kb))
