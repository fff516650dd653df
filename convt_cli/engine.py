"""The exact N-d NumPy transposed convolution (PyTorch semantics), as the explainer's scatter.

Every input element multiplies the whole kernel and is added into a canvas at
``i*stride + j*dilation``; then ``padding`` is cropped from both ends and ``output_padding`` gives
back positions at the far end (docs/semantics.md §1). Vectorised per stride phase (see ``_scatter``):
a cost model (``_mode``, ``_costs``, ``_direct_cheaper``) prices each way from the layer's numbers —
one GEMM for every tap straight from the input, then each phase's taps summed over the boxes they
reach ("gemm"); each phase's shifted windows stacked into one GEMM on a padded grid ("im2col");
broadcast multiply-adds (depthwise); or the literal scatter (few input positions under a wide
kernel) — and each phase is written once into the output, bias included. Small GEMMs are cut into
blocks that BLAS runs single-threaded, spread over the engine's own thread pool (``set_threads``),
so the engine does not collapse when other processes hold the CPUs (see "Threads" below). Tiny
problems use a cached 0/1 scatter matrix. Float32 stays float32; inputs are never written to.
Never imports torch or Rich. ``benchmarks/bench_engine.py`` measures it against PyTorch's CPU
kernel and onnxruntime.
"""

from __future__ import annotations

import functools
import itertools
import math
import os
import threading
from dataclasses import dataclass

import numpy as np

from .errors import ConvtError
from .limits import ENV_VAR, check_bytes
from .shapes import ConvTransposeParams, TensorShapes, check_shapes

_NUMERIC_KINDS = "biuf"


def as_array(value: object, name: str) -> np.ndarray:
    """Anything array-like (lists, NumPy, torch CPU tensors) → a numeric ndarray, never copied."""
    if getattr(value, "requires_grad", False) and hasattr(value, "detach"):
        value = value.detach()  # a trainable weight: read its values, as F.conv_transpose does
    try:
        arr = np.asarray(value)
    except (TypeError, ValueError, RuntimeError) as exc:
        raise ConvtError(f"{name} cannot be read as a numeric array: {exc}",
                         zh=f"{name} 无法读作数值数组：{exc}") from None
    if arr.dtype.kind not in _NUMERIC_KINDS:
        raise ConvtError(f"{name} has dtype {arr.dtype}; a real numeric array is required",
                         zh=f"{name} 的数据类型是 {arr.dtype}；需要实数数组")
    return arr


def result_dtype(*arrays: np.ndarray) -> np.dtype:
    """NumPy's result type of the inputs; booleans compute as int64."""
    dtype = np.result_type(*arrays)
    return np.dtype(np.int64) if dtype.kind == "b" else dtype


_INT64_MAX = 2**63 - 1


def exact_result_dtype(arrays: tuple[np.ndarray, np.ndarray], terms: int, int_bias: int = 0) -> np.dtype:
    """The result type of (input, weight): NumPy's for floats; for integers int64 (PyTorch's one integer
    type for transposed convolution), refused where a sum of ``terms`` products could pass it."""
    dtype = result_dtype(*arrays)
    if dtype.kind not in "iu":
        return dtype

    def max_abs(a: np.ndarray) -> int:
        return max(abs(int(a.min())), abs(int(a.max()))) if a.size else 0

    largest = max_abs(arrays[0]) * max_abs(arrays[1]) * terms + int_bias
    if largest > _INT64_MAX:
        raise ConvtError(
            f"these integer values could make sums of up to {largest:.3e} (max |input| × max |kernel| × terms per "
            "cell), beyond int64 (±9.22e18), so the exact sum cannot be shown; give the values as floats "
            "(e.g. 4294967296.0) to compute in float64, or use smaller values",
            zh=f"这些整数的和可能达到 {largest:.3e}（最大 |输入| × 最大 |卷积核| × 每格项数），超出 int64（±9.22e18），"
               "无法给出精确的和；请把值写成浮点数（如 4294967296.0）以 float64 计算，或用更小的值",
        )
    return np.dtype(np.int64)


def prepare(
    x: object,
    weight: object,
    bias: object = None,
    stride: object = 1,
    padding: object = 0,
    output_padding: object = 0,
    dilation: object = 1,
    groups: object = 1,
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, ConvTransposeParams, TensorShapes]:
    """Read and validate every argument (docs/semantics.md §2); nothing is computed yet."""
    xa = as_array(x, "input")
    wa = as_array(weight, "weight")
    ba = None if bias is None else as_array(bias, "bias")
    nd = wa.ndim - 2
    if nd not in (1, 2, 3):
        raise ConvtError(
            f"weight of shape {list(wa.shape)} has {wa.ndim} dims; a transposed convolution needs "
            "3, 4 or 5 (C_in, C_out/groups and 1, 2 or 3 kernel dims)",
            zh=f"形状为 {list(wa.shape)} 的权重有 {wa.ndim} 维；转置卷积需要 3、4 或 5 维"
            "（C_in、C_out/groups 以及 1、2 或 3 个卷积核维）",
        )
    params = _make_params(nd, stride, padding, output_padding, dilation, groups)
    shapes = _check_shapes_cached(xa.shape, wa.shape, None if ba is None else ba.shape, params)
    return xa, wa, ba, params, shapes


def _plain(value: object) -> bool:
    """A Python int (not bool, not a NumPy scalar), or a tuple/list of them: safe as a cache key."""
    if type(value) is int:
        return True
    return type(value) in (tuple, list) and all(type(v) is int for v in value)  # type: ignore[union-attr]


def _make_params(nd: int, *args: object) -> ConvTransposeParams:
    """``ConvTransposeParams.make`` — memoised for plain int arguments (validation is pure: the same
    arguments give the same result or the same error, and errors are never cached)."""
    if all(_plain(a) for a in args):
        return _make_params_cached(nd, *(tuple(a) if type(a) is list else a for a in args))
    return ConvTransposeParams.make(nd, *args)


@functools.lru_cache(maxsize=256)
def _make_params_cached(nd: int, *args: object) -> ConvTransposeParams:
    return ConvTransposeParams.make(nd, *args)


@functools.lru_cache(maxsize=256)
def _check_shapes_cached(
    x_shape: tuple[int, ...], w_shape: tuple[int, ...], b_shape: tuple[int, ...] | None, params: ConvTransposeParams
) -> TensorShapes:
    return check_shapes(x_shape, w_shape, b_shape, params)


def conv_transpose(
    x: object,
    weight: object,
    bias: object = None,
    stride: object = 1,
    padding: object = 0,
    output_padding: object = 0,
    dilation: object = 1,
    groups: object = 1,
) -> np.ndarray:
    """PyTorch's ``conv_transpose{1,2,3}d``, exactly, in NumPy.

    ``x`` is ``(N, C_in, *spatial)`` or unbatched ``(C_in, *spatial)``; ``weight`` is
    ``(C_in, C_out/groups, *k)``; ``bias`` is ``(C_out,)``. Per-dim parameters are an int or one
    int per spatial dim. Returns an array of NumPy's result type of the inputs; integer inputs compute
    exactly in int64 (as PyTorch's integer type), refused where a sum could pass int64. Raises
    :class:`ConvtError` for every configuration PyTorch rejects, before computing anything.

    >>> conv_transpose([[[[1, 2], [3, 4]]]], [[[[1, 0], [0, 1]]]], stride=2)[0, 0].tolist()
    [[1, 0, 2, 0], [0, 1, 0, 2], [3, 0, 4, 0], [0, 3, 0, 4]]
    """
    xa, wa, ba, params, shapes = prepare(x, weight, bias, stride, padding, output_padding, dilation, groups)
    nd = params.ndim
    dtype = result_dtype(*((xa, wa) if ba is None else (xa, wa, ba)))
    if dtype.kind in "iu":  # every term of one output cell: C_in/groups × the taps that can reach it
        terms = xa.shape[-nd - 1] // params.groups * math.prod(min(k, i) for k, i in zip(wa.shape[2:], xa.shape[2:]))
        int_bias = max(abs(int(ba.min())), abs(int(ba.max()))) if ba is not None and ba.size else 0
        dtype = exact_result_dtype((xa, wa), terms, int_bias)
    return _scatter(xa, wa, ba, params, shapes, dtype)


def _scatter_direct(
    x: np.ndarray,
    w: np.ndarray,
    b: np.ndarray | None,
    params: ConvTransposeParams,
    shapes: TensorShapes,
    dtype: np.dtype,
) -> np.ndarray:
    """The scatter exactly as the explainer draws it: every input element times the whole kernel
    (one GEMM per group for all taps and images), each tap added into the canvas at
    ``i*stride + j*dilation`` with one strided add, then ``padding`` cropped. Used for inputs
    holding inf or NaN, and where the cost model finds it cheaper than the phases (few input
    positions, many taps: the phases' padded grid would be mostly padding)."""
    nd = params.ndim
    n, c_out, g = shapes.batch, shapes.out_channels, params.groups
    cig, cog = shapes.in_channels // g, c_out // g
    taps, positions = math.prod(shapes.kernel), math.prod(shapes.spatial)
    extent = canvas_extent(shapes, params)
    _check_memory(n * c_out * (math.prod(extent) + taps * positions + math.prod(shapes.out_spatial)), dtype, shapes)
    xb = x if shapes.batched else x[None]
    # (g, C_in/g, N * positions): the batch in the GEMM's columns, one call per group
    xg = xb.astype(dtype, copy=False).reshape(n, g, cig, positions).transpose(1, 2, 0, 3).reshape(g, cig, -1)
    wg = w.astype(dtype, copy=False).reshape(g, cig, cog * taps).transpose(0, 2, 1)
    prod = np.matmul(wg, xg).reshape((g, cog) + shapes.kernel + (n,) + shapes.spatial)
    canvas = np.zeros((n, c_out) + extent, dtype=dtype)
    canvas_g = canvas.reshape((n, g, cog) + extent)
    lead = (slice(None),) * 3
    if taps <= positions:  # one strided add per tap: every input element's product with that tap
        for tap in itertools.product(*(range(k) for k in shapes.kernel)):
            window = tuple(slice(j * d, j * d + (i - 1) * s + 1, s)
                           for j, d, i, s in zip(tap, params.dilation, shapes.spatial, params.stride))
            canvas_g[lead + window] += np.moveaxis(prod[(slice(None), slice(None)) + tap], 2, 0)
    else:  # a kernel larger than the input: one add per input element, its whole (dilated) kernel
        every_tap = (slice(None),) * (nd + 3)  # g, cog, *kernel, n
        for pos in itertools.product(*(range(i) for i in shapes.spatial)):
            window = tuple(slice(q * s, q * s + (k - 1) * d + 1, d)
                           for q, s, k, d in zip(pos, params.stride, shapes.kernel, params.dilation))
            canvas_g[lead + window] += np.moveaxis(prod[every_tap + pos], -1, 0)
    lead = (slice(None), slice(None))
    out = canvas[lead + tuple(slice(p, p + o) for p, o in zip(params.padding, shapes.out_spatial))]
    out = out + b.astype(dtype, copy=False).reshape((1, c_out) + (1,) * nd) if b is not None else out.copy()
    return out if shapes.batched else out[0]


def canvas_extent(shapes: TensorShapes, params: ConvTransposeParams) -> tuple[int, ...]:
    """Canvas size per dim: the full scatter canvas, extended when output_padding reaches past it."""
    return tuple(
        max((i - 1) * s + d * (k - 1) + 1, p + o)
        for i, k, s, d, p, o in zip(
            shapes.spatial, shapes.kernel, params.stride, params.dilation, params.padding, shapes.out_spatial
        )
    )


# ----------------------------------------------------------------------------------------------
# The computation. Output position o (canvas position c = o + padding) of phase r = o mod stride
# only receives the taps j with (r + padding - j*dilation) ≡ 0 (mod stride), each from input
# index i = m + t_j where o = r + m*stride and t_j = (r + padding - j*dilation) / stride. So every
# phase is a small dense correlation of the input with a fixed subset of taps. The input is laid
# out once, zero-padded, as (groups, C_in/groups, N * block) with each image padded to a fixed
# pitch per dim; a tap's shift then becomes one flat offset, and every window the computation reads
# is a contiguous run (the padding makes out-of-range reads land on zeros). Each phase is computed
# densely on that flat grid, the bias added there, and copied once into its strided output
# positions. Positions of the grid that are not output positions are computed and discarded.
# ----------------------------------------------------------------------------------------------

_TINY_MATRIX = 1 << 14  # (taps x input positions) x output positions: the largest cached scatter matrix
_TINY_WORK = 1 << 18  # multiply-adds of the scatter-matrix GEMM below which the tiny path is used
_CHECK_FLOOR = 1 << 20  # working sets below this many bytes skip the RAM probe (unless CONVT_MAX_BYTES is set)
_DIRECT_ABOVE = 8  # padded phase grid / input positions above which the literal scatter is cheaper
_PHASED_ABOVE = 3  # all-taps GEMM result / output size above which the GEMM runs per phase
_BLOCK = 1 << 21  # elements of GEMM product per chunk of images (bounds memory, keeps buffers reused)
_CHUNK = 1 << 18  # elements per block of the elementwise (depthwise) path (measured: 2^17..2^19 best)


@dataclass(frozen=True)
class _Phase:
    index: tuple[slice, ...]  # this phase's output positions, per spatial dim
    sizes: tuple[int, ...]  # how many per dim
    taps: tuple[int, ...]  # flat kernel taps (C order) that reach this phase
    offsets: tuple[int, ...]  # per tap: its flat offset into the padded input


@dataclass(frozen=True)
class _Plan:
    pitch: tuple[int, ...]  # padded size of each spatial dim in the flat layout
    lead: tuple[int, ...]  # zeros before the input in each dim
    block: int  # prod(pitch): one image
    length: int  # N * block: the flat grid every phase is computed on
    x_len: int  # length + the largest offset: the padded input per channel
    copy_free: bool  # the input itself is the flat layout (N == 1, no padding, no offsets)
    phases: tuple[_Phase, ...]
    gaps: bool  # some output phases receive no tap: bias (or zero) only
    taps: int = 1  # prod(kernel): the all-taps GEMM computes every one, reached or not
    spatial: tuple[int, ...] = ()  # the input's spatial size


def _axis_phases(i: int, k: int, s: int, p: int, d: int, o: int) -> list[tuple[int, int, list[tuple[int, int]]]]:
    """The output phases r of one dim that some tap reaches: (r, count, [(tap j, input offset t_j)]).

    Tap j reaches phase r = (j*d - p) mod s (one phase per tap), so this costs O(k) whatever the stride;
    phases no tap reaches (a stride larger than the kernel's span) are not listed."""
    by_phase: dict[int, list[tuple[int, int]]] = {}
    for j in range(k):
        r = (j * d - p) % s
        if r >= o:
            continue
        m = (o - r + s - 1) // s
        t = (r + p - j * d) // s
        if t + m - 1 >= 0 and t <= i - 1:
            by_phase.setdefault(r, []).append((j, t))
    return [(r, (o - r + s - 1) // s, taps) for r, taps in sorted(by_phase.items())]


@functools.lru_cache(maxsize=1024)
def _axis_layout(i: int, k: int, s: int, p: int, d: int, o: int) -> tuple[list, int, int]:
    """One dim of the flat layout: its reached phases, the zeros before the input and the padded pitch."""
    ph = _axis_phases(i, k, s, p, d, o)
    ts = [(m, t) for _, m, taps in ph for _, t in taps]
    lo = max([0] + [-t for _, t in ts])
    hi = max([0] + [m - 1 + t - (i - 1) for m, t in ts])
    return ph, lo, max([i + max(lo, hi)] + [m for _, m, _ in ph])


def _axis_layouts(shapes: TensorShapes, params: ConvTransposeParams) -> list[tuple[list, int, int]]:
    return [_axis_layout(*dims) for dims in zip(shapes.spatial, shapes.kernel, params.stride, params.padding,
                                                 params.dilation, shapes.out_spatial)]


@functools.lru_cache(maxsize=256)
def _plan(shapes: TensorShapes, params: ConvTransposeParams) -> _Plan:
    layouts = _axis_layouts(shapes, params)
    axes = [ph for ph, _, _ in layouts]
    leads = [lo for _, lo, _ in layouts]
    pitches = [pitch for _, _, pitch in layouts]
    strides = [math.prod(pitches[a + 1:]) for a in range(len(pitches))]
    phases = []
    for combo in itertools.product(*axes):
        index = tuple(slice(r, None, s) for (r, _, _), s in zip(combo, params.stride))
        flat_taps, offsets = [], []
        for tap in itertools.product(*(taps for _, _, taps in combo)):
            flat_taps.append(int(np.ravel_multi_index(tuple(j for j, _ in tap), shapes.kernel)))
            offsets.append(sum((t + lo) * st for (_, t), lo, st in zip(tap, leads, strides)))
        phases.append(_Phase(index, tuple(m for _, m, _ in combo), tuple(flat_taps), tuple(offsets)))
    block = math.prod(pitches)
    length = shapes.batch * block
    max_off = max((off for ph in phases for off in ph.offsets), default=0)
    copy_free = shapes.batch == 1 and max_off == 0 and tuple(pitches) == shapes.spatial
    return _Plan(
        pitch=tuple(pitches), lead=tuple(leads), block=block, length=length, x_len=length + max_off,
        copy_free=copy_free, phases=tuple(phases), taps=math.prod(shapes.kernel), spatial=shapes.spatial,
        gaps=any(len(ph) < min(s, o) for ph, s, o in zip(axes, params.stride, shapes.out_spatial)),
    )


def _flat_input(x: np.ndarray, plan: _Plan, g: int, cig: int, dtype: np.dtype) -> np.ndarray:
    """The input as (groups, C_in/groups, x_len): zero-padded images at the plan's pitch, batch inside."""
    n = x.shape[0]
    if plan.copy_free:
        return x.astype(dtype, copy=False).reshape(g, cig, plan.x_len)
    flat = np.zeros((g, cig, plan.x_len), dtype=dtype)
    grid = flat[:, :, : plan.length].reshape((g, cig, n) + plan.pitch)
    inner = tuple(slice(lo, lo + i) for lo, i in zip(plan.lead, x.shape[2:]))
    src = x.reshape((n, g, cig) + x.shape[2:])
    np.copyto(grid[(slice(None),) * 3 + inner], np.moveaxis(src, 0, 2), casting="unsafe")
    return flat


def _scatter(
    x: np.ndarray,
    w: np.ndarray,
    b: np.ndarray | None,
    params: ConvTransposeParams,
    shapes: TensorShapes,
    dtype: np.dtype,
) -> np.ndarray:
    nd = params.ndim
    n, c_out = shapes.batch, shapes.out_channels
    g = params.groups
    cig = shapes.in_channels // g
    cog = c_out // g
    out_shape = (n, c_out) + shapes.out_spatial
    out_size = math.prod(out_shape)
    taps = math.prod(shapes.kernel)
    xb = x if shapes.batched else x[None]
    if out_size == 0:  # an empty batch (or no output channels): nothing to compute, whatever the geometry
        out = np.empty(out_shape, dtype=dtype)
        return out if shapes.batched else out[0]
    positions = math.prod(shapes.spatial)
    kp = taps * positions
    o_flat = math.prod(shapes.out_spatial)
    if kp * o_flat <= _TINY_MATRIX and n * c_out * kp * o_flat <= _TINY_WORK:
        _check_memory(kp * o_flat + n * c_out * (kp + 1) + out_size, dtype, shapes)
        with np.errstate(invalid="ignore", over="ignore"):  # inf/NaN inputs spread as in PyTorch, silently
            out = _tiny(xb, w, b, params, shapes, dtype)
        return out if shapes.batched else out[0]

    _check_memory(out_size, dtype, shapes)  # the output alone, before any planning (a huge stride)
    if dtype.kind == "f" and not all(np.isfinite(a).all() for a in (x, w, b) if a is not None and a.dtype.kind == "f"):
        # inf/NaN: the phase paths multiply by padding zeros (0 * inf = NaN) where PyTorch does not;
        # the literal scatter touches exactly the products PyTorch computes.
        with np.errstate(invalid="ignore", over="ignore"):
            return _scatter_direct(x, w, b, params, shapes, dtype)

    if math.prod(pitch for _, _, pitch in _axis_layouts(shapes, params)) > _DIRECT_ABOVE * positions:
        # The phases are computed on a grid of the input padded by the kernel's span; when that span
        # dwarfs the input (a kernel much larger than the input), scattering each input element costs
        # positions × taps, as PyTorch's col2im does, instead of grid × taps.
        return _scatter_direct(x, w, b, params, shapes, dtype)

    plan = _plan(shapes, params)
    mode = _mode(cig, cog, plan)
    if mode != "depthwise" and _direct_cheaper(shapes, params, plan, cig, cog):
        return _scatter_direct(x, w, b, params, shapes, dtype)
    if mode == "gemm" and n == 1 and taps * g * cog * plan.x_len > _PHASED_ABOVE * out_size:
        mode = "phased"  # the all-taps product would be several outputs big: one phase at a time
    runner = _Runner(mode, w.astype(dtype, copy=False).reshape(g, cig, cog, taps), plan, g, cig, cog, dtype,
                     engine_threads())
    _check_memory(out_size + (0 if plan.copy_free else g * cig * plan.x_len) + runner.work, dtype, shapes)

    out = np.empty(out_shape, dtype=dtype)
    out_g = out.reshape((n, g, cog) + shapes.out_spatial)
    bias = None if b is None else b.astype(dtype, copy=False).reshape((1, g, cog) + (1,) * nd)
    if plan.gaps:  # phases no tap reaches hold the bias (or zero); the others are overwritten below
        out_g[...] = 0 if bias is None else bias
    if not plan.phases:
        return out if shapes.batched else out[0]

    if runner.unpadded:
        runner.run_unpadded(xb.astype(dtype, copy=False), out_g, bias)
    else:
        runner.run(_flat_input(xb, plan, g, cig, dtype), out_g, bias)
    return out if shapes.batched else out[0]


def _check_memory(elements: int, dtype: np.dtype, shapes: TensorShapes) -> None:
    nbytes = elements * dtype.itemsize
    if nbytes > _CHECK_FLOOR or os.environ.get(ENV_VAR):
        check_bytes(nbytes, f"the output {list(shapes.output)} with its working buffers")


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
_THREADED_MNK = 1 << 25  # multiply-adds per GEMM call from which BLAS's own threads are used
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


def _mode(cig: int, cog: int, plan: _Plan) -> str:
    """The cost model: per image and group, the multiply-adds each way (weighted by how well BLAS
    does with that GEMM's reduction and row count) plus the elements it moves through memory.

    "gemm": one GEMM for every tap (rows C_out/groups * taps, reduction C_in/groups), then each
    phase's taps summed from the product; "im2col": each phase's shifted input windows stacked
    (reduction taps * C_in/groups) and one GEMM per phase straight to that phase's output;
    "depthwise" (C_in/groups == 1, C_out/groups <= 2): broadcast multiply-adds, no GEMM.
    """
    if cig == 1 and cog <= 2:
        return "depthwise"
    costs = _costs(cig, cog, plan)
    return "im2col" if costs["im2col"] < costs["gemm"] else "gemm"


def _costs(cig: int, cog: int, plan: _Plan) -> dict[str, float]:
    """Per image and group, in elements moved: see :func:`_mode`."""
    counts = [len(ph.taps) for ph in plan.phases] or [1]
    k_all = max(1, plan.taps)
    phases = len(counts)
    gemm = (k_all * cog * cig / (_MACS_PER_ELEMENT * _efficiency(k_all * cog, cig))
            + cog * (k_all + sum(counts) + 2 * sum(max(0, t - 1) for t in counts)))
    im2col = (sum(t * cog * cig / (_MACS_PER_ELEMENT * _efficiency(cog, t * cig)) for t in counts)
              + 3 * cig * sum(t for t in counts if t > 1) + 2 * cog * phases)
    return {"gemm": gemm * plan.block, "im2col": im2col * plan.block}


def _direct_cheaper(shapes: TensorShapes, params: ConvTransposeParams, plan: _Plan, cig: int, cog: int) -> bool:
    """The literal scatter (:func:`_scatter_direct`) instead of the phases, when the cost model
    prices it lower (the phases work on a padded grid, which for a few input positions and a wide
    kernel is mostly padding) and its canvas and all-taps product stay near the output's size."""
    taps, positions = plan.taps, math.prod(shapes.spatial)
    canvas = math.prod(canvas_extent(shapes, params))
    if taps * positions + canvas > 2 * math.prod(shapes.out_spatial) + _BLOCK // max(1, shapes.batch * cog):
        return False
    # product written and read, then a strided read-modify-write per tap (counted double: strided)
    direct = (taps * cog * cig * positions / (_MACS_PER_ELEMENT * _efficiency(taps * cog, cig))
              + cog * (6 * taps * positions + 2 * canvas))
    return 2 * direct < min(_costs(cig, cog, plan).values())  # only a clear win: its adds are strided


_UNPADDED = False  # mode "gemm" on the input as it is, boxes summed per phase: slower measured (short rows)
_MACS_PER_ELEMENT = 8  # BLAS multiply-adds per element moved by a memory-bound pass, same time (measured ~6-12)


def _efficiency(rows: int, reduction: int) -> float:
    """BLAS's speed on a GEMM with this many rows and this reduction, relative to a large one."""
    return min(1.0, reduction / 48) * min(1.0, rows / 16)


class _Runner:
    """Computes the phases for every chunk of images and block of groups, with weights arranged
    once and per-thread buffers reused.

    Modes: "gemm" — one GEMM for every tap (all K), then the taps of each phase summed densely; "phased" —
    the same, one GEMM per phase for its own taps (less memory); "im2col" — each phase's shifted
    input windows stacked, then one GEMM; "depthwise" — broadcast multiply-adds in cache-sized
    blocks of groups (C_in/groups == 1).
    """

    def __init__(self, mode: str, wk: np.ndarray, plan: _Plan, g: int, cig: int, cog: int, dtype: np.dtype,
                 threads: int = 1):
        self.mode, self.plan, self.g, self.cig, self.cog, self.dtype = mode, plan, g, cig, cog, dtype
        tmax = max((len(ph.taps) for ph in plan.phases), default=0)
        extra = plan.x_len - plan.length
        self.unpadded = mode == "gemm" and _UNPADDED
        if mode == "gemm":
            # (g, cog*K, cig), rows ordered (output channel, tap): a transposed view of the weight as
            # given, which BLAS reads directly — no rearranged copy. The GEMM reads the input as it
            # is (no padded grid: no work on padding); each phase then sums its taps' boxes.
            self.w_all = wk.reshape(g, cig, -1).transpose(0, 2, 1)
            k = wk.shape[3]
            positions = math.prod(plan.spatial)
            per_image, fixed = k * g * cog * positions, 0
            rows, red = k * cog, cig
            self.shifts = [[tuple(int(v) - lo for v, lo in zip(np.unravel_index(off, plan.pitch), plan.lead))
                            for off in ph.offsets] for ph in plan.phases]
        elif mode == "phased":
            self.w_phase = [_tap_rows(wk, ph.taps) for ph in plan.phases]
            per_image, fixed = tmax * g * cog * plan.block, tmax * g * cog * extra
            rows, red = tmax * cog, cig
        elif mode == "im2col":
            self.w_phase = [
                # (g, cog, cig * T), reduction ordered (input channel, tap): the copy reads runs of taps
                np.ascontiguousarray(_taps_of(wk, ph.taps).transpose(0, 2, 1, 3)).reshape(g, cog, -1)
                for ph in plan.phases
            ]
            per_image, fixed = min(tmax * g * cig * plan.block, _BLOCK), 0  # the stack: in runs of columns
            rows, red = cog, tmax * cig
        else:
            self.w_phase = [wk[:, 0][:, :, list(ph.taps)] for ph in plan.phases]  # (g, cog, T)
            per_image, fixed = 0, 0
            rows, red = 0, 0
        n = plan.length // plan.block
        # Regime: BLAS's threads only for a few huge GEMM calls; else single-threaded blocks on our pool.
        budget = max(1, _BLOCK // threads)
        images = max(1, min(n, budget // max(1, per_image)))
        cols = math.prod(plan.spatial) if self.unpadded else plan.block  # GEMM columns per image
        self.pooled = threads > 1 and rows * red * images * cols < _THREADED_MNK
        self.threads = threads
        lanes = threads if self.pooled else 1  # chunks computed at once
        # Images per chunk: the product (or stack) of the chunks in flight stays near _BLOCK elements;
        # when one image is over it, groups are split into blocks instead.
        budget = max(1, _BLOCK // lanes)
        self.images = max(1, min(n, budget // max(1, per_image)))
        self.gblock = g if per_image <= budget else max(1, g * budget // max(1, per_image))
        if self.pooled and -(-n // self.images) * -(-g // self.gblock) < threads and g > 1:
            self.gblock = max(1, -(-g // threads))  # too few pieces to share: split the groups
        # Pieces over the pool when there are enough of them; else one piece at a time with its GEMM
        # blocks and tails over the pool.
        self.outer = self.pooled and -(-n // self.images) * -(-g // self.gblock) >= threads
        # BLAS's own threads spin for a while after each call: tails on our pool beside them would
        # fight them for the cores, so with BLAS's threads (not pooled) everything else stays inline.
        self.inner_threads = 1 if self.outer or not self.pooled else threads
        self.tile = _tile(rows, red, self.images * cols) if self.pooled and mode != "depthwise" else None
        piece = math.ceil(self.images * (per_image + g * (cog + cig) * plan.block) * self.gblock / g) + fixed
        self.work = lanes * piece + _CHUNK * threads
        self.stack_budget = max(1, _BLOCK // (2 * lanes))  # stacked windows per piece in flight: half a block
        self.local = threading.local()

    def _buffer(self, name: str, size: int) -> np.ndarray:
        buffers = getattr(self.local, "buffers", None)
        if buffers is None:
            buffers = self.local.buffers = {}
        buf = buffers.get(name)
        if buf is None or buf.size < size:
            buf = buffers[name] = np.empty(size, dtype=self.dtype)
        return buf[:size]

    def run(self, xf: np.ndarray, out_g: np.ndarray, bias: np.ndarray | None) -> None:
        plan, g = self.plan, self.g
        n = out_g.shape[0]
        items = [(n0, min(n, n0 + self.images), g0, min(g, g0 + self.gblock))
                 for n0 in range(0, n, self.images) for g0 in range(0, g, self.gblock)]
        extra = plan.x_len - plan.length

        def one(item) -> None:
            n0, n1, g0, g1 = item
            xs = xf[g0:g1, :, n0 * plan.block: n1 * plan.block + extra]
            self._chunk(xs, (n1 - n0) * plan.block, out_g[n0:n1, g0:g1],
                        None if bias is None else bias[:, g0:g1], g0, g1)

        if self.outer:
            _run_all(one, items, self.threads)
        else:
            for item in items:
                one(item)

    def run_unpadded(self, xb: np.ndarray, out_g: np.ndarray, bias: np.ndarray | None) -> None:
        """Mode "gemm": per chunk of images and block of groups, one GEMM for every tap straight from
        the input (batch in the columns), then per phase (and block of output channels) the taps'
        products summed over the boxes of the phase's grid they reach, bias added in the copy out."""
        plan, g, cig, cog = self.plan, self.g, self.cig, self.cog
        n, spatial = xb.shape[0], plan.spatial
        positions = math.prod(spatial)
        items = [(n0, min(n, n0 + self.images), g0, min(g, g0 + self.gblock))
                 for n0 in range(0, n, self.images) for g0 in range(0, g, self.gblock)]

        def one(item) -> None:
            n0, n1, g0, g1 = item
            gb, k = g1 - g0, n1 - n0
            src = xb[n0:n1].reshape(k, g, cig, positions)[:, g0:g1]
            if k == 1:
                xs = src[0]
            else:
                xs = self._buffer("x", gb * cig * k * positions).reshape(gb, cig, k, positions)
                np.copyto(xs, src.transpose(1, 2, 0, 3))
                xs = xs.reshape(gb, cig, k * positions)
            w_all = self.w_all[g0:g1]
            nrow = w_all.shape[1]
            prod = _gemm(w_all, xs, self._buffer("prod", gb * nrow * k * positions).reshape(gb, nrow, -1),
                         self.tile, self.inner_threads).reshape((gb, cog, nrow // cog, k) + spatial)
            out = out_g[n0:n1, g0:g1]
            bias_b = None if bias is None else bias[:, g0:g1]
            self._posts([functools.partial(self._box_tail, prod, pi, out, bias_b, c0, c1)
                         for pi in range(len(plan.phases)) for c0, c1 in self._splits(cog)])

        if self.outer:
            _run_all(one, items, self.threads)
        else:
            for item in items:
                one(item)

    def _box_tail(self, prod: np.ndarray, pi: int, out: np.ndarray, bias: np.ndarray | None,
                  c0: int, c1: int) -> None:
        ph, spatial = self.plan.phases[pi], self.plan.spatial
        gb, k = prod.shape[0], prod.shape[3]
        lead = (slice(None),) * 3  # (group, channel, image)
        boxes = []
        for t, shift in zip(ph.taps, self.shifts[pi]):
            lo = [max(0, -d) for d in shift]
            hi = [min(m, i - d) for m, i, d in zip(ph.sizes, spatial, shift)]
            if all(h > lo_ for lo_, h in zip(lo, hi)):
                boxes.append((t, tuple(slice(a, b) for a, b in zip(lo, hi)),
                              tuple(slice(a + d, b + d) for a, b, d in zip(lo, hi, shift))))
        covering = next((i for i, (_, dst, _) in enumerate(boxes)
                         if all(sl.start == 0 and sl.stop == m for sl, m in zip(dst, ph.sizes))), None)
        if covering is not None and len(boxes) == 1:
            t, _, src = boxes[0]
            y = prod[(slice(None), slice(c0, c1), t) + (slice(None),) + src]  # a view: no copy
        else:
            y = self._buffer("y", gb * (c1 - c0) * k * math.prod(ph.sizes)).reshape((gb, c1 - c0, k) + ph.sizes)
            if covering is None:
                y.fill(0)
            else:
                t, _, src = boxes.pop(covering)
                np.copyto(y, prod[(slice(None), slice(c0, c1), t, slice(None)) + src])
            for t, dst, src in boxes:
                np.add(y[lead + dst], prod[(slice(None), slice(c0, c1), t, slice(None)) + src], out=y[lead + dst])
        dst_out = out[:, :, c0:c1][lead + ph.index]
        src_y = np.moveaxis(y, 2, 0)
        if bias is None:
            np.copyto(dst_out, src_y)
        else:
            np.add(src_y, bias[:, :, c0:c1], out=dst_out)

    def _write(self, ph: _Phase, y: np.ndarray, out: np.ndarray, bias: np.ndarray | None) -> None:
        """y (g, cog, images*block) on the padded grid → the phase's strided output positions, bias added."""
        gb, cog = out.shape[1], out.shape[2]
        lead = (slice(None),) * 3
        src = y.reshape((gb, cog, out.shape[0]) + self.plan.pitch)[lead + tuple(slice(0, m) for m in ph.sizes)]
        src = np.moveaxis(src, 2, 0)
        dst = out[lead + ph.index]
        if bias is None:
            np.copyto(dst, src)
        else:
            np.add(src, bias, out=dst)

    def _sum(self, parts: list[np.ndarray], name: str) -> np.ndarray:
        if len(parts) == 1:
            return parts[0]
        y = self._buffer(name, parts[0].size).reshape(parts[0].shape)
        np.add(parts[0], parts[1], out=y)
        for part in parts[2:]:
            np.add(y, part, out=y)
        return y

    def _posts(self, jobs: list) -> None:
        """Run the memory-bound tails (job() each) over the pool (blas regime: the chunk's GEMM is done)."""
        _run_all(lambda job: job(), jobs, self.inner_threads)

    def _splits(self, cog: int) -> list[tuple[int, int]]:
        """Blocks of output channels for the tails when the chunk is not already one thread's piece."""
        parts = min(cog, 2 * self.inner_threads) if self.inner_threads > 1 else 1
        step = -(-cog // parts)
        return [(c0, min(cog, c0 + step)) for c0 in range(0, cog, step)]

    def _chunk(self, xs: np.ndarray, length: int, out: np.ndarray, bias: np.ndarray | None, g0: int, g1: int) -> None:
        gb, cig, cog, mode = g1 - g0, self.cig, self.cog, self.mode
        cols = xs.shape[-1]
        if mode == "depthwise":
            jobs = [functools.partial(self._depthwise_phase, xs, k, ph, length, out, bias, g0, a, z)
                    for k, ph in enumerate(self.plan.phases) for a, z in self._group_splits(gb)]
            self._posts(jobs)
            return
        if mode == "gemm":
            w_all = self.w_all[g0:g1]
            nrow = w_all.shape[1]
            prod_all = _gemm(w_all, xs, self._buffer("prod", gb * nrow * cols).reshape(gb, nrow, cols),
                             self.tile, self.inner_threads)
            prod_all = prod_all.reshape(gb, cog, nrow // cog, cols)

            def tail(ph: _Phase, c0: int, c1: int) -> None:
                parts = [prod_all[:, c0:c1, t, off: off + length] for t, off in zip(ph.taps, ph.offsets)]
                self._write(ph, self._sum(parts, "y"), out[:, :, c0:c1], None if bias is None else bias[:, :, c0:c1])

            self._posts([functools.partial(tail, ph, c0, c1)
                         for ph in self.plan.phases for c0, c1 in self._splits(cog)])
            return
        for k, ph in enumerate(self.plan.phases):
            wm = self.w_phase[k][g0:g1]
            if mode == "phased":
                prod = _gemm(wm, xs, self._buffer("prod", gb * wm.shape[1] * cols).reshape(gb, wm.shape[1], cols),
                             self.tile, self.inner_threads).reshape(gb, len(ph.taps), cog, cols)

                def tail(ph=ph, prod=prod, c0=0, c1=cog) -> None:
                    parts = [prod[:, u, c0:c1, off: off + length] for u, off in enumerate(ph.offsets)]
                    self._write(ph, self._sum(parts, "y"), out[:, :, c0:c1],
                                None if bias is None else bias[:, :, c0:c1])
            else:
                nt = len(ph.taps)
                y = self._buffer("ph", gb * cog * length).reshape(gb, cog, length)
                if nt == 1:
                    _gemm(wm, xs[:, :, ph.offsets[0]: ph.offsets[0] + length], y, self.tile, self.inner_threads)
                else:
                    # the stacked windows in runs of columns, so the stack stays within a GEMM block
                    step = max(1, min(length, self.stack_budget // (gb * nt * cig)))
                    buf = self._buffer("stack", gb * nt * cig * step)
                    for c0 in range(0, length, step):
                        c1 = min(length, c0 + step)
                        stack = buf[: gb * nt * cig * (c1 - c0)].reshape(gb, cig, nt, c1 - c0)
                        for a, off in enumerate(ph.offsets):
                            stack[:, :, a] = xs[:, :, off + c0: off + c1]
                        _gemm(wm, stack.reshape(gb, cig * nt, c1 - c0), y[:, :, c0:c1], self.tile, self.inner_threads)

                def tail(ph=ph, y=y, c0=0, c1=cog) -> None:
                    self._write(ph, y[:, c0:c1], out[:, :, c0:c1], None if bias is None else bias[:, :, c0:c1])
            self._posts([functools.partial(tail, c0=c0, c1=c1) for c0, c1 in self._splits(cog)])

    def _group_splits(self, gb: int) -> list[tuple[int, int]]:
        parts = min(gb, 2 * self.inner_threads) if self.inner_threads > 1 else 1
        step = -(-gb // parts)
        return [(a, min(gb, a + step)) for a in range(0, gb, step)]

    def _depthwise_phase(self, xs, k, ph, length, out, bias, g0, a, z) -> None:
        wt = self.w_phase[k][g0 + a: g0 + z]
        y = self._depthwise(xs[a:z, 0], wt, ph.offsets, length)
        self._write(ph, y, out[:, a:z], None if bias is None else bias[:, a:z])

    def _depthwise(self, x0: np.ndarray, wt: np.ndarray, offsets, length: int) -> np.ndarray:
        g, cog = wt.shape[0], self.cog
        y = self._buffer("y", g * cog * length).reshape(g, cog, length)
        step = max(1, _CHUNK // max(1, cog * length))  # groups per cache-sized block
        tmp = self._buffer("tmp", min(g, step) * cog * length)
        for g0 in range(0, g, step):
            g1 = min(g, g0 + step)
            yc = y[g0:g1]
            tc = tmp[: yc.size].reshape(yc.shape)
            for a, off in enumerate(offsets):
                xw, wa = x0[g0:g1, None, off: off + length], wt[g0:g1, :, a, None]
                if a == 0:
                    np.multiply(xw, wa, out=yc)
                else:
                    np.multiply(xw, wa, out=tc)
                    np.add(yc, tc, out=yc)
        return y


def _taps_of(wk: np.ndarray, taps: tuple[int, ...]) -> np.ndarray:
    """wk[..., taps]: a view when the taps are evenly spaced (all of them, for stride 1), else a copy."""
    if len(taps) == 1:
        return wk[..., taps[0]: taps[0] + 1]
    step = taps[1] - taps[0]
    if step > 0 and all(b - a == step for a, b in zip(taps, taps[1:])):
        return wk[..., taps[0]: taps[-1] + 1: step]
    return wk[..., list(taps)]


def _tap_rows(wk: np.ndarray, taps: tuple[int, ...]) -> np.ndarray:
    """Weight (g, cig, cog, K) → (g, T*cog, cig): row block u holds tap ``taps[u]`` of every output channel."""
    g, cig, cog, _ = wk.shape
    return np.ascontiguousarray(wk[:, :, :, list(taps)].transpose(0, 3, 2, 1)).reshape(g, len(taps) * cog, cig)


def _tiny(x, w, b, params: ConvTransposeParams, shapes: TensorShapes, dtype: np.dtype) -> np.ndarray:
    """Small problems: one GEMM for every tap of every input element, then one GEMM with the 0/1
    matrix that sends each (tap, input position) to its output position (cached per geometry)."""
    n, c_out = shapes.batch, shapes.out_channels
    g = params.groups
    cig = shapes.in_channels // g
    cog = c_out // g
    taps, positions = math.prod(shapes.kernel), math.prod(shapes.spatial)
    kp = taps * positions
    wg = w.astype(dtype, copy=False).reshape(g, cig, cog * taps).transpose(0, 2, 1)
    xg = x.astype(dtype, copy=False).reshape(n, g, cig, positions)
    prod = np.matmul(wg, xg).reshape(n * c_out, kp)
    if dtype.kind != "f" or np.isfinite(prod).all():
        out = prod @ _scatter_matrix(shapes, params, dtype)
    else:  # inf/nan: 0 * inf would spread NaN to every output; sum only the real contributions
        ext = np.concatenate([prod, np.zeros((n * c_out, 1), dtype=dtype)], axis=1)
        out = ext[:, _gather_index(shapes, params)].sum(axis=-1)
    if b is not None:
        out = out.reshape(n, c_out, math.prod(shapes.out_spatial))
        out += b.astype(dtype, copy=False)[:, None]
    return out.reshape((n, c_out) + shapes.out_spatial)


def _contributions(shapes: TensorShapes, params: ConvTransposeParams) -> tuple[np.ndarray, np.ndarray]:
    """Flat (tap, input position) → flat output position, for every pair that lands inside the output."""
    nd = params.ndim
    grids = np.meshgrid(*(np.arange(k) for k in shapes.kernel), *(np.arange(i) for i in shapes.spatial),
                        indexing="ij")
    dst = np.zeros(grids[0].shape, dtype=np.intp)
    valid = np.ones(grids[0].shape, dtype=bool)
    for a in range(nd):
        pos = grids[nd + a] * params.stride[a] + grids[a] * params.dilation[a] - params.padding[a]
        valid &= (pos >= 0) & (pos < shapes.out_spatial[a])
        dst = dst * shapes.out_spatial[a] + pos
    src = np.arange(dst.size).reshape(dst.shape)
    return src[valid], dst[valid]


@functools.lru_cache(maxsize=32)  # at most _TINY_MATRIX elements each
def _scatter_matrix(shapes: TensorShapes, params: ConvTransposeParams, dtype: np.dtype) -> np.ndarray:
    src, dst = _contributions(shapes, params)
    matrix = np.zeros((math.prod(shapes.kernel) * math.prod(shapes.spatial), math.prod(shapes.out_spatial)),
                      dtype=dtype)
    matrix[src, dst] = 1
    matrix.setflags(write=False)
    return matrix


@functools.lru_cache(maxsize=32)
def _gather_index(shapes: TensorShapes, params: ConvTransposeParams) -> np.ndarray:
    """(outputs, most contributions): per output position the flat (tap, input) indices that reach
    it, padded with the index one past the last (a zero appended by the caller)."""
    src, dst = _contributions(shapes, params)
    kp = math.prod(shapes.kernel) * math.prod(shapes.spatial)
    total = math.prod(shapes.out_spatial)
    counts = np.bincount(dst, minlength=total)
    index = np.full((total, max(1, int(counts.max(initial=0)))), kp, dtype=np.intp)
    order = np.argsort(dst, kind="stable")
    dst, src = dst[order], src[order]
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    index[dst, np.arange(len(dst)) - starts[dst]] = src
    index.setflags(write=False)
    return index
