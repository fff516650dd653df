"""The exact N-d NumPy transposed convolution (PyTorch semantics), as the explainer's scatter.

Every input element multiplies the whole kernel and is added into a canvas at
``i*stride + j*dilation``; then ``padding`` is cropped from both ends and ``output_padding`` gives
back positions at the far end (docs/semantics.md §1). Vectorised per stride phase (see ``_scatter``): one
GEMM per group produces every kernel tap for every input position, the taps of each output phase
are summed densely, and each phase is written once into the output, bias included. Tiny problems
use a cached 0/1 scatter matrix instead. Float32 stays float32; inputs are never written to.
Never imports torch or Rich. ``benchmarks/bench_engine.py`` measures it against PyTorch's CPU kernel.
"""

from __future__ import annotations

import functools
import itertools
import math
import os
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
    (one batched GEMM over channels for all taps), each tap added into the canvas at
    ``i*stride + j*dilation`` with one strided add, then ``padding`` cropped. Slower than
    :func:`_scatter` (a canvas plus an all-taps product), used for inputs holding inf or NaN."""
    nd = params.ndim
    n, c_out, g = shapes.batch, shapes.out_channels, params.groups
    cig, cog = shapes.in_channels // g, c_out // g
    taps, positions = math.prod(shapes.kernel), math.prod(shapes.spatial)
    extent = canvas_extent(shapes, params)
    _check_memory(n * c_out * (math.prod(extent) + taps * positions + math.prod(shapes.out_spatial)), dtype, shapes)
    xb = x if shapes.batched else x[None]
    xg = xb.astype(dtype, copy=False).reshape(n, g, cig, positions)
    wg = w.astype(dtype, copy=False).reshape(g, cig, cog * taps).transpose(0, 2, 1)
    prod = np.matmul(wg[None], xg).reshape((n, c_out) + shapes.kernel + shapes.spatial)
    canvas = np.zeros((n, c_out) + extent, dtype=dtype)
    lead = (slice(None), slice(None))
    if taps <= positions:  # one strided add per tap: every input element's product with that tap
        for tap in itertools.product(*(range(k) for k in shapes.kernel)):
            window = tuple(slice(j * d, j * d + (i - 1) * s + 1, s)
                           for j, d, i, s in zip(tap, params.dilation, shapes.spatial, params.stride))
            canvas[lead + window] += prod[lead + tap]
    else:  # a kernel larger than the input: one add per input element, its whole (dilated) kernel
        every_tap = (slice(None),) * nd
        for pos in itertools.product(*(range(i) for i in shapes.spatial)):
            window = tuple(slice(q * s, q * s + (k - 1) * d + 1, d)
                           for q, s, k, d in zip(pos, params.stride, shapes.kernel, params.dilation))
            canvas[lead + window] += prod[lead + every_tap + pos]
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
        copy_free=copy_free, phases=tuple(phases),
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
    if mode == "gemm" and n == 1 and taps * g * cog * plan.x_len > _PHASED_ABOVE * out_size:
        mode = "phased"  # the all-taps product would be several outputs big: one phase at a time
    runner = _Runner(mode, w.astype(dtype, copy=False).reshape(g, cig, cog, taps), plan, g, cig, cog, dtype)
    _check_memory(out_size + (0 if plan.copy_free else g * cig * plan.x_len) + runner.work, dtype, shapes)

    out = np.empty(out_shape, dtype=dtype)
    out_g = out.reshape((n, g, cog) + shapes.out_spatial)
    bias = None if b is None else b.astype(dtype, copy=False).reshape((1, g, cog) + (1,) * nd)
    if plan.gaps:  # phases no tap reaches hold the bias (or zero); the others are overwritten below
        out_g[...] = 0 if bias is None else bias
    if not plan.phases:
        return out if shapes.batched else out[0]

    xf = _flat_input(xb, plan, g, cig, dtype)
    bias_g = None if bias is None else bias.reshape(g, cog, 1)
    lead = (slice(None),) * 3
    extra = plan.x_len - plan.length
    for n0 in range(0, n, runner.images):
        n1 = min(n, n0 + runner.images)
        xs = xf[:, :, n0 * plan.block: n1 * plan.block + extra]
        for phase, y in runner.phases(xs, (n1 - n0) * plan.block, bias_g):
            # y: (g, cog, images*block), bias included → (images, g, cog, *sizes) on the padded grid,
            # copied once into the phase's (strided) output positions.
            src = y.reshape((g, cog, n1 - n0) + plan.pitch)[lead + tuple(slice(0, m) for m in phase.sizes)]
            np.copyto(out_g[n0:n1][lead + phase.index], np.moveaxis(src, 2, 0))
    return out if shapes.batched else out[0]


def _check_memory(elements: int, dtype: np.dtype, shapes: TensorShapes) -> None:
    nbytes = elements * dtype.itemsize
    if nbytes > _CHECK_FLOOR or os.environ.get(ENV_VAR):
        check_bytes(nbytes, f"the output {list(shapes.output)} with its working buffers")


def _mode(cig: int, cog: int, plan: _Plan) -> str:
    """How to compute the phases: broadcast multiply-adds for depthwise layers; stacked windows and one
    GEMM per phase when the reduction (C_in/groups) is tiny and the outputs wider; else one GEMM for
    all taps (measured best for C_in/groups of 16 and more, benchmarks/bench_engine.py)."""
    if cig == 1 and cog <= 2:
        return "depthwise"
    if cig <= 4 and cog > cig and max((len(ph.taps) for ph in plan.phases), default=1) > 1:
        return "im2col"
    return "gemm"


class _Runner:
    """Computes the phases of a chunk of images, with weights arranged once and buffers reused.

    Modes: "gemm" — one GEMM for every tap (all K), then the taps of each phase summed densely; "phased" —
    the same, one GEMM per phase for its own taps (less memory); "im2col" — each phase's shifted
    input windows stacked, then one GEMM (tiny C_in/groups); "depthwise" — broadcast multiply-adds
    in cache-sized blocks of groups (C_in/groups == 1).
    """

    def __init__(self, mode: str, wk: np.ndarray, plan: _Plan, g: int, cig: int, cog: int, dtype: np.dtype):
        self.mode, self.plan, self.g, self.cig, self.cog, self.dtype = mode, plan, g, cig, cog, dtype
        tmax = max((len(ph.taps) for ph in plan.phases), default=0)
        extra = plan.x_len - plan.length
        if mode == "gemm":
            # (g, cog*K, cig), rows ordered (output channel, tap): a transposed view of the weight as
            # given, which BLAS reads directly — no rearranged copy.
            self.w_all = wk.reshape(g, cig, -1).transpose(0, 2, 1)
            k = wk.shape[3]
            per_image, fixed = k * g * cog * plan.block, k * g * cog * extra
        elif mode == "phased":
            self.w_phase = [_tap_rows(wk, ph.taps) for ph in plan.phases]
            per_image, fixed = tmax * g * cog * plan.block, tmax * g * cog * extra
        elif mode == "im2col":
            self.w_phase = [
                np.ascontiguousarray(wk[:, :, :, list(ph.taps)].transpose(0, 2, 3, 1)).reshape(g, cog, -1)
                for ph in plan.phases
            ]
            per_image, fixed = tmax * g * cig * plan.block, 0
        else:
            self.w_phase = [wk[:, 0][:, :, list(ph.taps)] for ph in plan.phases]  # (g, cog, T)
            per_image, fixed = 0, 0
        # Images per chunk: the product (or stack) of one chunk stays near _BLOCK elements.
        self.images = max(1, min(plan.length // plan.block, _BLOCK // max(1, per_image)))
        self.work = self.images * (per_image + g * cog * plan.block) + fixed + _CHUNK
        self.buffers: dict[str, np.ndarray] = {}

    def _buffer(self, name: str, size: int) -> np.ndarray:
        buf = self.buffers.get(name)
        if buf is None or buf.size < size:
            buf = self.buffers[name] = np.empty(size, dtype=self.dtype)
        return buf[:size]

    def phases(self, xs: np.ndarray, length: int, bias: np.ndarray | None):
        """Yield (phase, y): the phase's dense result plus bias, (g, cog, length), in a buffer of ours."""
        g, cig, cog, mode = self.g, self.cig, self.cog, self.mode
        cols = xs.shape[-1]
        if mode == "gemm":
            nrow = self.w_all.shape[1]
            prod_all = np.matmul(self.w_all, xs, out=self._buffer("prod", g * nrow * cols).reshape(g, nrow, cols))
            prod_all = prod_all.reshape(g, cog, nrow // cog, cols)
        for k, ph in enumerate(self.plan.phases):
            if mode in ("gemm", "phased"):
                if mode == "gemm":
                    parts = [prod_all[:, :, t, off: off + length] for t, off in zip(ph.taps, ph.offsets)]
                else:
                    wm = self.w_phase[k]
                    prod = np.matmul(wm, xs, out=self._buffer("prod", g * wm.shape[1] * cols).reshape(
                        g, wm.shape[1], cols)).reshape(g, len(ph.taps), cog, cols)
                    parts = [prod[:, u, :, off: off + length] for u, off in enumerate(ph.offsets)]
                if len(parts) == 1:
                    y = parts[0]  # a window of the product that only this phase reads: the bias can go in place
                else:
                    y = self._buffer("y", g * cog * length).reshape(g, cog, length)
                    np.add(parts[0], parts[1], out=y)
                    for part in parts[2:]:
                        np.add(y, part, out=y)
                if bias is not None:
                    np.add(y, bias, out=y)
            elif mode == "im2col":
                nt = len(ph.taps)
                if nt == 1:
                    stack = xs[:, :, ph.offsets[0]: ph.offsets[0] + length]
                else:
                    stack = self._buffer("stack", g * nt * cig * length).reshape(g, nt, cig, length)
                    for a, off in enumerate(ph.offsets):
                        stack[:, a] = xs[:, :, off: off + length]
                    stack = stack.reshape(g, nt * cig, length)
                y = np.matmul(self.w_phase[k], stack, out=self._buffer("y", g * cog * length).reshape(g, cog, length))
                if bias is not None:
                    np.add(y, bias, out=y)
            else:
                y = self._depthwise(xs[:, 0], self.w_phase[k], ph.offsets, length, bias)
            yield ph, y

    def _depthwise(self, x0: np.ndarray, wt: np.ndarray, offsets, length: int, bias: np.ndarray | None) -> np.ndarray:
        g, cog = self.g, self.cog
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
            if bias is not None:
                np.add(yc, bias[g0:g1], out=yc)
        return y


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
