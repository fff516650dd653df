"""Benchmark: convt's NumPy engine against PyTorch's CPU ``conv_transpose`` (float32).

Both sides run in one process with the same thread count (PyTorch's intra-op threads and the
BLAS threads NumPy uses, set through ``threadpoolctl``). Runs are interleaved (engine, torch,
torch, engine, ...), each timed sample after one untimed call, and the median of several rounds is
reported, so noise from other processes on a shared machine hits both sides alike. Per case it
prints both median times, their ratio (engine / torch; below 1 means the engine is faster), the
max |engine - torch| of the float32 results, the same in float64 relative to max |torch| (the
engine's exactness: at most 1e-10), and the engine's peak extra memory (``tracemalloc``: the peak
of NumPy allocations during one call, minus the output itself) as MiB, as a multiple of the output
size, and as a fraction of issue 6's budget (one output-sized buffer plus the largest GEMM result
the engine computed; at most 1 meets it). Last come the geometric mean of the ratios and a summary.

    python benchmarks/bench_engine.py                  # the whole suite, 2 threads
    python benchmarks/bench_engine.py --threads 1 --rounds 7
    python benchmarks/bench_engine.py --cases dcgan,depthwise
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import statistics
import sys
import time
import tracemalloc
from dataclasses import dataclass

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from convt_cli.engine import conv_transpose  # noqa: E402


@dataclass(frozen=True)
class Case:
    name: str
    x: tuple[int, ...]  # (N, C_in, *spatial)
    c_out: int
    kernel: int
    stride: int
    padding: int = 0
    output_padding: int = 0
    dilation: int = 1
    groups: int = 1

    @property
    def nd(self) -> int:
        return len(self.x) - 2

    def label(self) -> str:
        size = "x".join(map(str, self.x))
        extra = "".join(
            f" {tag}{v}" for tag, v, default in (
                ("p", self.padding, 0), ("op", self.output_padding, 0), ("d", self.dilation, 1),
                ("g", self.groups, 1),
            ) if v != default
        )
        return f"{size}->{self.c_out} k{self.kernel} s{self.stride}{extra}"


CASES = [
    Case("sam3-neck-0", (1, 1024, 72, 72), 512, 2, 2),
    Case("sam3-neck-1", (1, 512, 144, 144), 256, 2, 2),
    Case("explainer", (1, 1280, 64, 64), 640, 2, 2),
    Case("dcgan", (16, 256, 16, 16), 128, 4, 2, padding=1),
    Case("k3s2op1", (4, 128, 32, 32), 64, 3, 2, padding=1, output_padding=1),
    Case("dilated", (4, 64, 32, 32), 64, 3, 2, padding=2, output_padding=1, dilation=2),
    Case("depthwise", (8, 128, 32, 32), 128, 4, 2, padding=1, groups=128),
    Case("grouped", (8, 128, 32, 32), 128, 3, 2, padding=1, output_padding=1, groups=8),
    Case("1d-k16s8", (4, 256, 512), 128, 16, 8, padding=4),
    Case("3d-k2s2", (2, 64, 16, 16, 16), 32, 2, 2),
    Case("tiny", (1, 2, 3, 3), 2, 3, 2),
]


def make_arrays(case: Case, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(case.x, dtype=np.float32)
    w_shape = (case.x[1], case.c_out // case.groups) + (case.kernel,) * case.nd
    w = rng.standard_normal(w_shape, dtype=np.float32)
    b = rng.standard_normal(case.c_out, dtype=np.float32)
    return x, w, b


def runners(case: Case, x: np.ndarray, w: np.ndarray, b: np.ndarray):
    import torch
    import torch.nn.functional as F

    fn = {1: F.conv_transpose1d, 2: F.conv_transpose2d, 3: F.conv_transpose3d}[case.nd]
    tx, tw, tb = torch.from_numpy(x), torch.from_numpy(w), torch.from_numpy(b)
    kw = dict(stride=case.stride, padding=case.padding, output_padding=case.output_padding,
              dilation=case.dilation, groups=case.groups)

    def run_engine() -> np.ndarray:
        return conv_transpose(x, w, b, **kw)

    def run_torch() -> np.ndarray:
        with torch.no_grad():
            return fn(tx, tw, tb, **kw).numpy()

    return run_engine, run_torch


def float64_error(case: Case, x: np.ndarray, w: np.ndarray, b: np.ndarray) -> float:
    """max |engine - torch| / max |torch|, both in float64: the engine must stay exact (1e-10)."""
    run_engine, run_torch = runners(case, x.astype(np.float64), w.astype(np.float64), b.astype(np.float64))
    got, want = run_engine(), run_torch()
    assert got.dtype == np.float64
    return float(np.abs(got - want).max() / max(1.0, np.abs(want).max()))


def timed(fn, inner: int) -> float:
    """Seconds per call over ``inner`` calls, after one untimed call: the other side's thread pool
    (OpenMP or OpenBLAS workers that spin for a while after their work) has settled by then."""
    fn()
    start = time.perf_counter()
    for _ in range(inner):
        fn()
    return (time.perf_counter() - start) / inner


class _MatmulSpy:
    """Stands in for the engine module's ``np`` during one call: records the largest GEMM result."""

    def __init__(self) -> None:
        self.largest = 0

    def matmul(self, *args, **kwargs):
        result = np.matmul(*args, **kwargs)
        self.largest = max(self.largest, result.nbytes)
        return result

    def __getattr__(self, name: str):
        return getattr(np, name)


def peak_extra_bytes(fn) -> tuple[int, int, int]:
    """(peak bytes NumPy allocated during one call minus the result's own bytes, result bytes,
    bytes of the largest GEMM result the engine computed)."""
    from convt_cli import engine

    spy = _MatmulSpy()
    engine.np = spy
    try:
        tracemalloc.start()
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
        out = fn()
        peak = tracemalloc.get_traced_memory()[1] - base
        tracemalloc.stop()
    finally:
        engine.np = np
    return max(0, peak - out.nbytes), out.nbytes, spy.largest


def blas_description(threads: int) -> str:
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return "BLAS: unknown (threadpoolctl not installed)"
    parts = []
    for info in threadpool_info():
        if info.get("user_api") == "blas":
            arch = info.get("architecture") or ""
            parts.append(f"{info.get('internal_api')} {info.get('version')} {arch} ({info.get('num_threads')} threads)")
    return "NumPy BLAS: " + ("; ".join(parts) if parts else "none found")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2, help="threads for both sides (default 2)")
    parser.add_argument("--rounds", type=int, default=9, help="interleaved rounds per case (median taken)")
    parser.add_argument("--min-time", type=float, default=0.03,
                        help="seconds per timed sample; fast cases are looped to reach it")
    parser.add_argument("--cases", default="", help="comma-separated case names (default: all)")
    parser.add_argument("--no-check64", dest="check64", action="store_false",
                        help="skip the float64 exactness column (one float64 call per side and case)")
    args = parser.parse_args(argv)

    import contextlib

    import torch

    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # the dev extra has it; without it NumPy's BLAS keeps its own thread count
        def threadpool_limits(**_kwargs):
            return contextlib.nullcontext()

    torch.set_num_threads(args.threads)
    chosen = [c for c in CASES if not args.cases or c.name in args.cases.split(",")]
    if not chosen:
        parser.error(f"no case named {args.cases!r}; cases: {', '.join(c.name for c in CASES)}")

    with threadpool_limits(limits=args.threads, user_api="blas"):
        print(f"Python {platform.python_version()}, NumPy {np.__version__}, torch {torch.__version__}, "
              f"{os.cpu_count()} CPUs, {args.threads} threads each side")
        print(blas_description(args.threads))
        engine_file = os.path.abspath(sys.modules[conv_transpose.__module__].__file__)
        print(f"engine: {engine_file}")
        print(f"torch: {torch.get_num_threads()} intra-op threads, oneDNN "
              f"{'on' if torch.backends.mkldnn.enabled and torch.backends.mkldnn.is_available() else 'off'}; float32; "
              f"median of {args.rounds} interleaved rounds")
        print()
        head = (f"{'case':<12} {'shape':<38} {'engine ms':>10} {'torch ms':>10} {'ratio':>6} "
                f"{'max|err|':>9} {'f64 rel':>8} {'extra MiB':>9} {'x out':>6} {'budget':>6}")
        print(head)
        print("-" * len(head))
        ratios = []
        over_budget = 0
        worst64 = 0.0
        wall = time.perf_counter()
        for case in chosen:
            x, w, b = make_arrays(case)
            run_engine, run_torch = runners(case, x, w, b)
            x_before = x.copy()
            got, want = run_engine(), run_torch()  # warm-up, and the comparison
            assert got.shape == want.shape and got.dtype == np.float32, (got.shape, want.shape, got.dtype)
            assert np.array_equal(x, x_before), "the engine modified its input"
            err = float(np.abs(got.astype(np.float64) - want).max())
            del got, want
            rel64 = float64_error(case, x, w, b) if args.check64 else float("nan")
            first = timed(run_engine, 1)
            inner = max(1, math.ceil(args.min_time / max(first, 1e-7)))
            t_engine, t_torch = [], []
            for r in range(args.rounds):
                if r % 2 == 0:
                    t_engine.append(timed(run_engine, inner))
                    t_torch.append(timed(run_torch, inner))
                else:
                    t_torch.append(timed(run_torch, inner))
                    t_engine.append(timed(run_engine, inner))
            me, mt = statistics.median(t_engine), statistics.median(t_torch)
            ratio = me / mt
            ratios.append(ratio)
            worst64 = max(worst64, rel64)
            extra, out_bytes, gemm_bytes = peak_extra_bytes(run_engine)
            budget = extra / (out_bytes + gemm_bytes)
            small = out_bytes < 2**20  # KiB-sized calls: Python-object overhead, not the budget's concern
            over_budget += budget > 1 and not small
            print(f"{case.name:<12} {case.label():<38} {me * 1e3:>10.3f} {mt * 1e3:>10.3f} {ratio:>6.2f} "
                  f"{err:>9.2e} {rel64:>8.1e} {extra / 2**20:>9.1f} {extra / out_bytes:>6.2f} "
                  f"{'-' if small else f'{budget:.2f}':>6}", flush=True)
        geo = math.exp(sum(math.log(r) for r in ratios) / len(ratios))
        print("-" * len(head))
        print(f"geometric-mean ratio engine/torch: {geo:.3f}  (worst {max(ratios):.2f}, "
              f"best {min(ratios):.2f}; {len(ratios)} cases, {time.perf_counter() - wall:.0f} s)")
        print(f"cases over 2.0x: {sum(r > 2.0 for r in ratios)}; float64 worst relative error: {worst64:.1e}")
        print(f"cases whose extra memory exceeds one output plus the largest GEMM result (budget > 1; "
              f"outputs under 1 MiB not counted): {over_budget}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
