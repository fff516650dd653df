"""Benchmark: convt's NumPy engine against PyTorch's CPU kernel and onnxruntime (float32).

Three peers run in one process with the same thread count: convt (NumPy's BLAS limited through
``threadpoolctl``), PyTorch (``torch.set_num_threads``) and onnxruntime's ``ConvTranspose`` (a
model built with ``onnx.helper``, CPU execution provider, ``intra_op_num_threads``). Per case the
peers are interleaved round by round in a rotating order, each timed sample after one untimed call,
and the median of the rounds is reported, so noise from other processes hits every peer alike.

The suite is the issues' named layers plus a seeded grid over the space (1-3 spatial dims, batch 1
and 16, channels 8-1024, groups from 1 to depthwise, kernels 1-5, strides 1-3, padding,
output_padding, dilation), sized to 10^7-10^9 multiply-adds. Per case: the three median times,
convt/torch and convt/onnxruntime, the float32 max |convt - torch|, the float64 relative error
(convt's exactness: at most 1e-10), convt's peak extra memory (``tracemalloc``: NumPy allocations
during one call minus the output) in MiB and as a fraction of issue 6's budget (one output-sized
buffer plus one GEMM block; at most 1 meets it), and GFLOP/s (multiply-add = 2
flops, counting every kernel tap as torch does). For dense layers (groups 1, ≥ 0.5 GFLOP) numpy's
sgemm of the same GEMM shape (C_out*K × C_in · C_in × N*positions) is timed in the same rounds:
convt's GFLOP/s over that GEMM's shows how near the machine's GEMM limit the layer runs.

``--contention`` reruns every case with a competing CPU-bound process started by the benchmark
and compares convt/torch per case with the quiet ratio. The start-up section times whole
processes: ``python -m convt_cli show --no-torch`` and ``python -m convt_cli --help`` against
``python -c "import numpy, rich, typer"`` (interleaved, median).

    python benchmarks/bench_engine.py                    # the whole suite, 2 threads (~5-8 min)
    python benchmarks/bench_engine.py --contention       # plus the run beside a CPU-bound process
    python benchmarks/bench_engine.py --threads 1
    python benchmarks/bench_engine.py --quick            # named cases and a few grid cases, 3 rounds
    python benchmarks/bench_engine.py --cases sam3-neck-0,dcgan --out /tmp/r.txt
"""

from __future__ import annotations

import argparse
import contextlib
import io
import math
import os
import platform
import random
import statistics
import subprocess
import sys
import time
import tracemalloc
from dataclasses import dataclass

import numpy as np

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
sys.path.insert(0, ROOT)

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

    @property
    def w_shape(self) -> tuple[int, ...]:
        return (self.x[1], self.c_out // self.groups) + (self.kernel,) * self.nd

    @property
    def out_spatial(self) -> tuple[int, ...]:
        return tuple((i - 1) * self.stride - 2 * self.padding + self.dilation * (self.kernel - 1)
                     + self.output_padding + 1 for i in self.x[2:])

    @property
    def flops(self) -> int:
        """2 × multiply-adds of the scatter, every tap counted (as torch and onnxruntime compute)."""
        return 2 * self.x[0] * self.x[1] * (self.c_out // self.groups) * self.kernel ** self.nd * math.prod(self.x[2:])

    def gemm_shape(self) -> tuple[int, int, int, int]:
        """(groups, M, K, N) of the all-taps GEMM the layer reduces to."""
        g = self.groups
        return g, self.c_out // g * self.kernel ** self.nd, self.x[1] // g, self.x[0] * math.prod(self.x[2:])

    def label(self) -> str:
        size = "x".join(map(str, self.x))
        extra = "".join(
            f" {tag}{v}" for tag, v, default in (
                ("p", self.padding, 0), ("op", self.output_padding, 0), ("d", self.dilation, 1),
                ("g", self.groups, 1),
            ) if v != default
        )
        return f"{size}->{self.c_out} k{self.kernel} s{self.stride}{extra}"


NAMED = [
    # issue 6's suite
    Case("sam3-neck-0", (1, 1024, 72, 72), 512, 2, 2),  # SAM 3 ConvTranspose2d 1024->512 k2 s2 at 72^2
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
    # issue 17's named layers
    Case("dcgan-b16", (16, 512, 16, 16), 256, 4, 2, padding=1),  # batch 16 of 16x16 maps, k4 s2 p1
    Case("small-b16", (16, 64, 16, 16), 32, 4, 2, padding=1),
    Case("3d-grouped", (2, 64, 8, 16, 16), 64, 3, 2, padding=1, output_padding=1, groups=8),
    Case("g8", (4, 256, 32, 32), 256, 4, 2, padding=1, groups=8),
    Case("g32", (4, 256, 32, 32), 256, 3, 2, padding=1, output_padding=1, groups=32),
    Case("dilated-d3", (2, 128, 32, 32), 128, 3, 1, padding=3, dilation=3),
    Case("1d-long-g", (1, 256, 8192), 256, 4, 2, padding=1, groups=16),
    Case("s1k5p2", (1, 64, 48, 48), 64, 5, 1, padding=2),  # stride 1, k5 p2, 64->64 at 48^2
]


def grid(count: int, seed: int = 17) -> list[Case]:
    """A seeded sample of the space, each layer sized to 10^7-10^9 multiply-adds."""
    rng = random.Random(seed)
    cases: list[Case] = []
    while len(cases) < count:
        nd = rng.choice((1, 2, 2, 3))
        batch = rng.choice((1, 16))
        c_in = rng.choice((8, 16, 32, 64, 128, 256, 512, 1024))
        kind = rng.choice(("dense", "dense", "few", "many", "depthwise"))
        if kind == "dense":
            groups = 1
        elif kind == "few":  # few groups with many channels each
            groups = rng.choice((2, 4, 8))
        elif kind == "many":  # many groups with few channels each
            groups = rng.choice((16, 32, 64))
        else:
            groups = c_in
        if c_in % groups or c_in // groups < 1:
            continue
        mult = rng.choice((1, 2)) if kind == "depthwise" else rng.choice((0.25, 0.5, 1, 2))
        c_out = max(groups, int(c_in * mult) // groups * groups)
        kernel, stride = rng.randint(1, 5), rng.randint(1, 3)
        dilation = rng.choice((1, 1, 1, 2))
        padding = rng.randint(0, dilation * (kernel - 1) // 2)
        output_padding = rng.randint(0, max(stride, dilation) - 1) if rng.random() < 0.4 else 0
        macs = rng.uniform(math.log(1e7), math.log(3e8))
        per_pos = batch * c_in * (c_out // groups) * kernel ** nd
        side = max(2, int(round((math.exp(macs) / per_pos) ** (1 / nd))))
        side = min(side, {1: 32768, 2: 160, 3: 40}[nd])
        case = Case(f"grid-{len(cases):02d}", (batch, c_in) + (side,) * nd, c_out, kernel, stride, padding,
                    output_padding, dilation, groups)
        out = case.out_spatial
        if min(out) < 1 or batch * c_out * math.prod(out) * 4 > 256 * 2**20 or case.flops < 2e7:
            continue
        cases.append(case)
    return cases


def make_arrays(case: Case, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(case.x, dtype=np.float32)
    w = rng.standard_normal(case.w_shape, dtype=np.float32)
    b = rng.standard_normal(case.c_out, dtype=np.float32)
    return x, w, b


def torch_runner(case: Case, x: np.ndarray, w: np.ndarray, b: np.ndarray):
    import torch
    import torch.nn.functional as F

    fn = {1: F.conv_transpose1d, 2: F.conv_transpose2d, 3: F.conv_transpose3d}[case.nd]
    tx, tw, tb = torch.from_numpy(x), torch.from_numpy(w), torch.from_numpy(b)
    kw = dict(stride=case.stride, padding=case.padding, output_padding=case.output_padding,
              dilation=case.dilation, groups=case.groups)

    def run() -> np.ndarray:
        with torch.no_grad():
            return fn(tx, tw, tb, **kw).numpy()

    return run


def engine_runner(case: Case, x: np.ndarray, w: np.ndarray, b: np.ndarray):
    kw = dict(stride=case.stride, padding=case.padding, output_padding=case.output_padding,
              dilation=case.dilation, groups=case.groups)
    return lambda: conv_transpose(x, w, b, **kw)


def ort_runner(case: Case, x: np.ndarray, w: np.ndarray, b: np.ndarray, threads: int):
    """onnxruntime's ConvTranspose, or (None, why). onnxruntime rejects output_padding >= stride
    (torch allows it below the dilation): then the far end's pad is reduced by output_padding
    instead, the same output; where padding is too small for that, the case has no onnxruntime time."""
    try:
        import onnx
        import onnxruntime as ort
        from onnx import TensorProto, helper, numpy_helper
    except ImportError:
        return None, "onnxruntime/onnx not installed"
    nd, p, op = case.nd, case.padding, case.output_padding
    if op >= case.stride:
        if op > p:
            return None, "output_padding >= stride and > padding"
        pads, out_pad = [p] * nd + [p - op] * nd, [0] * nd
    else:
        pads, out_pad = [p] * (2 * nd), [op] * nd
    attrs = dict(kernel_shape=[case.kernel] * nd, strides=[case.stride] * nd, pads=pads,
                 dilations=[case.dilation] * nd, group=case.groups)
    if any(out_pad):
        attrs["output_padding"] = out_pad
    node = helper.make_node("ConvTranspose", ["X", "W", "B"], ["Y"], **attrs)
    graph = helper.make_graph(
        [node], "convt",
        [helper.make_tensor_value_info("X", TensorProto.FLOAT, list(x.shape))],
        [helper.make_tensor_value_info("Y", TensorProto.FLOAT, None)],
        initializer=[numpy_helper.from_array(w, "W"), numpy_helper.from_array(b, "B")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = min(model.ir_version, 9)
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    opts.log_severity_level = 3
    sess = ort.InferenceSession(model.SerializeToString(), opts, providers=["CPUExecutionProvider"])
    del onnx
    return (lambda: sess.run(None, {"X": x})[0]), ""


def float64_error(case: Case, x: np.ndarray, w: np.ndarray, b: np.ndarray) -> float:
    """max |convt - torch| / max |torch|, both in float64: the engine must stay exact (1e-10)."""
    x64, w64, b64 = (a.astype(np.float64) for a in (x, w, b))
    got, want = engine_runner(case, x64, w64, b64)(), torch_runner(case, x64, w64, b64)()
    assert got.dtype == np.float64
    return float(np.abs(got - want).max() / max(1.0, np.abs(want).max()))


def timed(fn, inner: int, warm: bool = True) -> float:
    """Seconds per call over ``inner`` calls, after one untimed call when ``warm`` (the previous
    peer's spinning worker threads have settled by then; calls over 50 ms skip it)."""
    if warm:
        fn()
    start = time.perf_counter()
    for _ in range(inner):
        fn()
    return (time.perf_counter() - start) / inner


def interleaved(fns: dict[str, object], rounds: int, min_time: float) -> dict[str, float]:
    """Median seconds per call of each peer over ``rounds`` rounds, the order rotating each round."""
    names = list(fns)
    first = {k: timed(fns[k], 1) for k in names}
    inner = {k: max(1, math.ceil(min_time / max(first[k], 1e-7))) for k in names}
    samples: dict[str, list[float]] = {k: [] for k in names}
    for r in range(rounds):
        order = names[r % len(names):] + names[: r % len(names)]
        if r % 2:
            order.reverse()
        for k in order:
            samples[k].append(timed(fns[k], inner[k], warm=first[k] < 0.05))
    return {k: statistics.median(v) for k, v in samples.items()}


BLOCK_ELEMENTS = 1 << 21  # the engine's GEMM block (_BLOCK in convt_cli/engine/runner.py)


class _MatmulSpy:
    """Stands in for the engine modules' ``np`` during one call: records the largest GEMM result."""

    def __init__(self) -> None:
        self.largest = 0

    def matmul(self, *args, **kwargs):
        result = np.matmul(*args, **kwargs)
        self.largest = max(self.largest, result.nbytes)
        return result

    def __getattr__(self, name: str):
        return getattr(np, name)


def engine_modules():
    """Every loaded module of the engine that holds ``np``: the package convt_cli/engine/ and its
    submodules (or, for an engine from before the split, the one module convt_cli/engine.py)."""
    return [m for name, m in sorted(sys.modules.items())
            if (name == "convt_cli.engine" or name.startswith("convt_cli.engine.")) and hasattr(m, "np")]


def engine_path() -> str:
    """Where the engine that runs lives: the package's folder, or the single module's file."""
    mod = sys.modules["convt_cli.engine"]
    return os.path.abspath(os.path.dirname(mod.__file__) if hasattr(mod, "__path__") else mod.__file__)


def peak_extra_bytes(fn) -> tuple[int, int, int]:
    """(peak bytes NumPy allocated during one call minus the result's own bytes, result bytes,
    bytes of the largest GEMM result the engine computed)."""
    spy = _MatmulSpy()
    mods = engine_modules()
    for m in mods:
        m.np = spy
    try:
        tracemalloc.start()
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
        out = fn()
        peak = tracemalloc.get_traced_memory()[1] - base
        tracemalloc.stop()
    finally:
        for m in mods:
            m.np = np
    return max(0, peak - out.nbytes), out.nbytes, spy.largest


def blas_description() -> str:
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return "BLAS: unknown (threadpoolctl not installed)"
    parts = []
    for info in threadpool_info():
        if info.get("user_api") == "blas":
            arch = info.get("architecture") or ""
            parts.append(f"{info.get('internal_api')} {info.get('version')} kernel {arch} "
                         f"({info.get('num_threads')} threads)")
    return "NumPy BLAS: " + ("; ".join(parts) if parts else "none found")


def gemm_runner(case: Case):
    """numpy sgemm of the layer's all-taps GEMM shape, output preallocated (the engine reuses buffers)."""
    g, m, k, n = case.gemm_shape()
    rng = np.random.default_rng(1)
    a = rng.standard_normal((g, m, k), dtype=np.float32)
    bm = rng.standard_normal((g, k, n), dtype=np.float32)
    out = np.empty((g, m, n), dtype=np.float32)
    return lambda: np.matmul(a, bm, out=out)


def start_burner(count: int) -> list[subprocess.Popen]:
    code = "import time\nx = 0\nwhile True:\n    x += 1\n"
    return [subprocess.Popen([sys.executable, "-c", code]) for _ in range(count)]


def startup_times(rounds: int) -> dict[str, float]:
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    # As installed: bytecode cached (the warm-up runs write it), which PYTHONDONTWRITEBYTECODE would
    # prevent, making every run compile convt's sources while numpy, rich and typer load theirs.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    cmds = {
        "import numpy, rich, typer": [sys.executable, "-c", "import numpy, rich, typer"],
        "convt show --no-torch": [sys.executable, "-m", "convt_cli", "show", "--no-torch"],
        "convt --help": [sys.executable, "-m", "convt_cli", "--help"],
    }

    def wall(cmd: list[str]) -> float:
        start = time.perf_counter()
        subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        return time.perf_counter() - start

    for cmd in cmds.values():  # warm the file cache
        wall(cmd)
    samples: dict[str, list[float]] = {k: [] for k in cmds}
    for _ in range(rounds):
        for k, cmd in cmds.items():
            samples[k].append(wall(cmd))
    return {k: statistics.median(v) for k, v in samples.items()}


def geomean(values: list[float]) -> float:
    values = [v for v in values if v == v]
    return math.exp(sum(math.log(v) for v in values) / len(values)) if values else float("nan")


class Tee(io.TextIOBase):
    def __init__(self, *streams) -> None:
        self.streams = streams

    def write(self, s: str) -> int:
        for st in self.streams:
            st.write(s)
            st.flush()
        return len(s)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2, help="threads for every peer (default 2)")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds per case (median taken)")
    parser.add_argument("--min-time", type=float, default=0.02,
                        help="seconds per timed sample; fast cases are looped to reach it")
    parser.add_argument("--grid", type=int, default=24, help="seeded grid cases besides the named ones")
    parser.add_argument("--quick", action="store_true", help="named cases, 6 grid cases, 3 rounds")
    parser.add_argument("--cases", default="", help="comma-separated case names (default: all)")
    parser.add_argument("--contention", action="store_true",
                        help="also run every case beside a CPU-bound process the benchmark starts")
    parser.add_argument("--burners", type=int, default=1, help="competing processes for --contention")
    parser.add_argument("--no-startup", dest="startup", action="store_false", help="skip the start-up timing")
    parser.add_argument("--no-check64", dest="check64", action="store_false",
                        help="skip the float64 exactness column")
    parser.add_argument("--out", default="", help="results file (default benchmarks/results-latest.txt)")
    args = parser.parse_args(argv)
    if args.quick:
        args.grid, args.rounds = min(args.grid, 6), min(args.rounds, 3)

    import torch

    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # the dev extra has it; without it NumPy's BLAS keeps its own thread count
        def threadpool_limits(**_kwargs):
            return contextlib.nullcontext()

    torch.set_num_threads(args.threads)
    engine_mod = sys.modules["convt_cli.engine"]  # the package (or, before the split, the one module)
    if hasattr(engine_mod, "set_threads"):
        engine_mod.set_threads(args.threads)  # the engine's own pool (pooled GEMMs, memory-bound tails)
    suite = NAMED + grid(args.grid)
    chosen = [c for c in suite if not args.cases or c.name in args.cases.split(",")]
    if not chosen:
        parser.error(f"no case named {args.cases!r}; cases: {', '.join(c.name for c in suite)}")
    out_path = args.out or os.path.join(os.path.dirname(os.path.abspath(__file__)), "results-latest.txt")
    results_file = open(out_path, "w", encoding="utf-8")  # noqa: SIM115
    tee = Tee(sys.stdout, results_file)

    def say(line: str = "") -> None:
        print(line, file=tee)

    with threadpool_limits(limits=args.threads, user_api="blas"):
        try:
            import onnxruntime
            ort_version = onnxruntime.__version__
        except ImportError:  # the dev extra has it; without it the onnxruntime column is empty
            ort_version = "not installed"

        say(f"# python benchmarks/bench_engine.py {' '.join(argv if argv is not None else sys.argv[1:])}")
        say(f"# {time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime())}, load average "
            f"{', '.join(f'{v:.2f}' for v in os.getloadavg())}")
        say(f"Python {platform.python_version()}, NumPy {np.__version__}, torch {torch.__version__}, "
            f"onnxruntime {ort_version}, {os.cpu_count()} CPUs, {args.threads} threads each peer")
        say(blas_description())
        say("OPENBLAS_CORETYPE=" + os.environ.get("OPENBLAS_CORETYPE", "(unset)")
            + " OPENBLAS_L2_SIZE=" + os.environ.get("OPENBLAS_L2_SIZE", "(unset)"))
        say(f"engine: {engine_path()}")
        say(f"float32; median of {args.rounds} interleaved rounds (order rotating), >= {args.min_time}s per sample")
        say()
        head = (f"{'case':<12} {'shape':<40} {'convt ms':>9} {'torch ms':>9} {'ort ms':>9} {'/torch':>6} "
                f"{'/ort':>5} {'GF/s':>5} {'/sgemm':>6} {'f32 err':>8} {'f64 rel':>7} {'xMiB':>6} {'budg':>5}")
        say(head)
        say("-" * len(head))
        rows = []
        wall = time.perf_counter()
        for case in chosen:
            x, w, b = make_arrays(case)
            fns = {"convt": engine_runner(case, x, w, b), "torch": torch_runner(case, x, w, b)}
            ort_fn, why = ort_runner(case, x, w, b, args.threads)
            if ort_fn is not None:
                fns["ort"] = ort_fn
            x_before = x.copy()
            got, want = fns["convt"](), fns["torch"]()
            assert got.shape == want.shape and got.dtype == np.float32, (got.shape, want.shape, got.dtype)
            assert np.array_equal(x, x_before), "the engine modified its input"
            err = float(np.abs(got.astype(np.float64) - want).max())
            if ort_fn is not None:
                got_ort = ort_fn()
                assert got_ort.shape == want.shape, (case.name, got_ort.shape, want.shape)
                scale = max(1.0, float(np.abs(want).max()))
                assert float(np.abs(got_ort - want).max()) <= 1e-3 * scale, (case.name, "onnxruntime disagrees")
            del got, want
            rel64 = float64_error(case, x, w, b) if args.check64 else float("nan")
            dense = case.groups == 1 and case.flops >= 1e9
            if dense:
                fns["sgemm"] = gemm_runner(case)
            t = interleaved(fns, args.rounds, args.min_time)
            extra, out_bytes, gemm_bytes = peak_extra_bytes(fns["convt"])
            row = dict(case=case, t=t, err=err, rel64=rel64, extra=extra, out_bytes=out_bytes,
                       gemm_bytes=gemm_bytes, why=why)
            row["r_torch"] = t["convt"] / t["torch"]
            row["r_ort"] = t["convt"] / t["ort"] if "ort" in t else float("nan")
            row["gflops"] = case.flops / t["convt"] / 1e9
            row["r_sgemm"] = t["sgemm"] / t["convt"] if "sgemm" in t else float("nan")
            # issue 6's budget: one output-sized buffer plus one GEMM block (the larger of the largest
            # GEMM result the engine computed and its block, 2^21 elements); at most 1 meets it
            row["blk"] = extra / (out_bytes + max(gemm_bytes, BLOCK_ELEMENTS * 4))
            rows.append(row)
            ort_ms = f"{t['ort'] * 1e3:9.3f}" if "ort" in t else f"{'-':>9}"
            say(f"{case.name:<12} {case.label():<40} {t['convt'] * 1e3:9.3f} {t['torch'] * 1e3:9.3f} {ort_ms} "
                f"{row['r_torch']:6.2f} {row['r_ort']:5.2f} {row['gflops']:5.1f} "
                f"{'' if 'sgemm' not in t else format(row['r_sgemm'], '.2f'):>6} {err:8.1e} {rel64:7.0e} "
                f"{extra / 2**20:6.1f} {row['blk']:5.2f}")
            del x, w, b, fns
        say("-" * len(head))
        say(f"{len(rows)} cases in {time.perf_counter() - wall:.0f} s")
        say(f"geometric mean convt/torch: {geomean([r['r_torch'] for r in rows]):.3f}    "
            f"convt/onnxruntime: {geomean([r['r_ort'] for r in rows]):.3f}")
        for key, peer, target in (("r_torch", "torch", 1.2), ("r_ort", "onnxruntime", 1.5)):
            ranked = sorted((r for r in rows if r[key] == r[key]), key=lambda r: -r[key])
            worst = ", ".join(f"{r['case'].name} {r[key]:.2f}" for r in ranked[:4])
            over = sum(r[key] > target for r in ranked)
            say(f"worst convt/{peer}: {worst}   ({over} over {target})")
        skipped = [f"{r['case'].name} ({r['why']})" for r in rows if r["why"]]
        if skipped:
            say("no onnxruntime time: " + "; ".join(skipped))
        dense_rows = [r for r in rows if r["r_sgemm"] == r["r_sgemm"]]
        if dense_rows:
            say("dense layers, convt GFLOP/s / numpy sgemm GFLOP/s of the same GEMM shape (same rounds): "
                + ", ".join(f"{r['case'].name} {r['gflops']:.0f}/{r['gflops'] / r['r_sgemm']:.0f} = "
                            f"{r['r_sgemm']:.2f}" for r in dense_rows))
        big = [r for r in rows if r["out_bytes"] >= 2**20]
        say(f"peak extra memory / (output + one GEMM block) (outputs >= 1 MiB): worst "
            f"{max(r['blk'] for r in big):.2f} ({max(big, key=lambda r: r['blk'])['case'].name}); "
            f"cases over 1: {sum(r['blk'] > 1 for r in big)}; float64 worst relative error: "
            f"{max(r['rel64'] for r in rows):.1e}")

        if args.contention:
            say()
            say(f"## with {args.burners} competing CPU-bound process(es) running: convt/torch against the quiet ratio")
            procs = start_burner(args.burners)
            try:
                time.sleep(0.5)
                say(f"{'case':<12} {'convt ms':>9} {'torch ms':>9} {'ort ms':>9} {'/torch':>6} {'quiet':>6} "
                    f"{'change':>6}")
                changes = []
                for row in rows:
                    case = row["case"]
                    x, w, b = make_arrays(case)
                    fns = {"convt": engine_runner(case, x, w, b), "torch": torch_runner(case, x, w, b)}
                    ort_fn, _ = ort_runner(case, x, w, b, args.threads)
                    if ort_fn is not None:
                        fns["ort"] = ort_fn
                    t = interleaved(fns, args.rounds, args.min_time)
                    ratio = t["convt"] / t["torch"]
                    change = ratio / row["r_torch"]
                    changes.append((change, case.name, ratio))
                    ort_ms = f"{t['ort'] * 1e3:9.3f}" if "ort" in t else f"{'-':>9}"
                    say(f"{case.name:<12} {t['convt'] * 1e3:9.3f} {t['torch'] * 1e3:9.3f} {ort_ms} {ratio:6.2f} "
                        f"{row['r_torch']:6.2f} {change:6.2f}")
            finally:
                for p in procs:
                    p.kill()
                    p.wait()
            changes.sort(reverse=True)
            say(f"contended/quiet convt/torch: geometric mean {geomean([c for c, _, _ in changes]):.2f}, worst "
                + ", ".join(f"{n} {c:.2f} (ratio {r:.2f})" for c, n, r in changes[:4])
                + f"; cases over 1.5: {sum(c > 1.5 for c, _, _ in changes)}")

    if args.startup:
        say()
        st = startup_times(3 if args.quick else 7)
        base = st["import numpy, rich, typer"]
        say("## start-up: whole-process wall time, median of interleaved runs (bytecode cached, as installed)")
        for k, v in st.items():
            say(f"{k:<28} {v * 1e3:7.0f} ms  {v / base:5.2f}x")
        say("targets: show --no-torch <= 2x, --help <= 1.3x")
    results_file.close()
    print(f"\nresults written to {out_path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
