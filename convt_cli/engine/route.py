"""The entry point ``conv_transpose`` and the dispatcher ``_scatter``: which route computes a layer.

In order: an empty output returns at once; tiny problems take the cached scatter matrix
(:func:`.literal._tiny`); inputs holding inf/NaN, and kernels whose span dwarfs the input, take
the literal scatter (:func:`.literal._scatter_direct`); otherwise the phase plan (:mod:`.plan`) is
priced by the cost model (:mod:`.cost`) and computed by a :class:`.runner._Runner`, each phase
written once into the output, bias included. The size thresholds of these decisions live here,
where they are read (tests patch them on this module).
"""

from __future__ import annotations

import math

import numpy as np

from ..shapes import ConvTransposeParams, TensorShapes
from .arguments import _check_memory, exact_result_dtype, prepare, result_dtype
from .cost import _direct_cheaper, _grid_dwarfs_input, _mode
from .literal import _scatter_direct, _tiny
from .plan import _flat_input, _plan
from .runner import _BLOCK, _Runner
from .threads import engine_threads

_TINY_MATRIX = 1 << 14  # (taps x input positions) x output positions: the largest cached scatter matrix
_TINY_WORK = 1 << 18  # multiply-adds of the scatter-matrix GEMM below which the tiny path is used
_PHASED_ABOVE = 3  # all-taps GEMM result / output size above which the GEMM runs per phase


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

    if _grid_dwarfs_input(shapes, params):  # decided before the plan, whose size grows with the taps
        return _scatter_direct(x, w, b, params, shapes, dtype)

    plan = _plan(shapes, params)
    mode = _mode(cig, cog, plan)
    if mode != "depthwise" and _direct_cheaper(shapes, params, plan, cig, cog):
        return _scatter_direct(x, w, b, params, shapes, dtype)
    if mode == "gemm" and n == 1 and taps * g * cog * plan.x_len > max(_PHASED_ABOVE * out_size, _BLOCK):
        # the all-taps product would be several outputs big (and past one GEMM block): one phase at a
        # time; a small one stays one GEMM (a 3-d 6³ map, 128→32, k4 s2: 11.6 ms phased, 3.1 ms not)
        mode = "phased"
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
