"""The scatter exactly as the explainer draws it, and the cached scatter matrix for tiny problems.

``_scatter_direct``: every input element times the whole kernel, each tap added into the canvas at
``i*stride + j*dilation``, then ``padding`` cropped — for inputs holding inf/NaN (it touches exactly
the products PyTorch computes) and where the cost model finds it cheaper than the phases.
``_tiny``: one GEMM for every (tap, input position), then one GEMM with the 0/1 matrix that sends
each to its output position (``_scatter_matrix``, cached per geometry; ``_gather_index`` when the
products hold inf/NaN). ``canvas_extent`` is the canvas both the explainer and this scatter draw on.
"""

from __future__ import annotations

import functools
import itertools
import math

import numpy as np

from ..shapes import ConvTransposeParams, TensorShapes
from .arguments import _check_memory


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


@functools.lru_cache(maxsize=32)  # at most route._TINY_MATRIX elements each
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
