"""The exact N-d NumPy transposed convolution (PyTorch semantics), as the explainer's scatter.

Every input element multiplies the whole kernel and is added into a canvas at
``i*stride + j*dilation``; then ``padding`` is cropped from both ends and ``output_padding`` gives
back positions at the far end (FACTS.md §1). Vectorised: one batched GEMM per call produces every
kernel tap for every input position, then one strided add per tap places it. Never imports torch
or Rich.
"""

from __future__ import annotations

import itertools
import math

import numpy as np

from .errors import ConvtError
from .limits import check_bytes
from .shapes import ConvTransposeParams, TensorShapes, check_shapes

_NUMERIC_KINDS = "biuf"


def as_array(value: object, name: str) -> np.ndarray:
    """Anything array-like (lists, NumPy, torch CPU tensors) → a numeric ndarray, never copied."""
    try:
        arr = np.asarray(value)
    except (TypeError, ValueError, RuntimeError) as exc:
        raise ConvtError(f"{name} cannot be read as a numeric array: {exc}") from None
    if arr.dtype.kind not in _NUMERIC_KINDS:
        raise ConvtError(f"{name} has dtype {arr.dtype}; a real numeric array is required")
    return arr


def result_dtype(*arrays: np.ndarray) -> np.dtype:
    """NumPy's result type of the inputs; booleans compute as int64."""
    dtype = np.result_type(*arrays)
    return np.dtype(np.int64) if dtype.kind == "b" else dtype


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
    """Read and validate every argument (FACTS.md §2); nothing is computed yet."""
    xa = as_array(x, "input")
    wa = as_array(weight, "weight")
    ba = None if bias is None else as_array(bias, "bias")
    nd = wa.ndim - 2
    if nd not in (1, 2, 3):
        raise ConvtError(
            f"weight of shape {list(wa.shape)} has {wa.ndim} dims; a transposed convolution needs "
            "3, 4 or 5 (C_in, C_out/groups and 1, 2 or 3 kernel dims)"
        )
    params = ConvTransposeParams.make(nd, stride, padding, output_padding, dilation, groups)
    shapes = check_shapes(xa.shape, wa.shape, None if ba is None else ba.shape, params)
    return xa, wa, ba, params, shapes


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
    int per spatial dim. Returns an array of NumPy's result type of the inputs. Raises
    :class:`ConvtError` for every configuration PyTorch rejects, before computing anything.

    >>> conv_transpose([[[[1, 2], [3, 4]]]], [[[[1, 0], [0, 1]]]], stride=2)[0, 0].tolist()
    [[1, 0, 2, 0], [0, 1, 0, 2], [3, 0, 4, 0], [0, 3, 0, 4]]
    """
    xa, wa, ba, params, shapes = prepare(x, weight, bias, stride, padding, output_padding, dilation, groups)
    arrays = (xa, wa) if ba is None else (xa, wa, ba)
    dtype = result_dtype(*arrays)
    return _scatter(xa, wa, ba, params, shapes, dtype)


def canvas_extent(shapes: TensorShapes, params: ConvTransposeParams) -> tuple[int, ...]:
    """Canvas size per dim: the full scatter canvas, extended when output_padding reaches past it."""
    return tuple(
        max((i - 1) * s + d * (k - 1) + 1, p + o)
        for i, k, s, d, p, o in zip(
            shapes.spatial, shapes.kernel, params.stride, params.dilation, params.padding, shapes.out_spatial
        )
    )


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
    taps = math.prod(shapes.kernel)
    positions = math.prod(shapes.spatial)
    extent = canvas_extent(shapes, params)
    itemsize = dtype.itemsize
    check_bytes(
        (n * c_out * math.prod(extent) + n * c_out * taps * positions + n * c_out * math.prod(shapes.out_spatial))
        * itemsize,
        f"the output {list(shapes.output)} with its working buffers",
    )

    xb = x if shapes.batched else x[None]
    xg = xb.astype(dtype, copy=False).reshape(n, g, cig, positions)
    # weight (C_in, C_out/g, *k) → per group (C_out/g * K, C_in/g): every tap of every output channel.
    wg = w.astype(dtype, copy=False).reshape(g, cig, cog * taps).transpose(0, 2, 1)
    # One batched GEMM: (N, G, C_out/g * K, P) — each input element times the whole kernel.
    prod = np.matmul(wg[None], xg)
    prod = prod.reshape((n, c_out) + shapes.kernel + shapes.spatial)

    canvas = np.zeros((n, c_out) + extent, dtype=dtype)
    for tap in itertools.product(*(range(k) for k in shapes.kernel)):
        window = tuple(
            slice(j * d, j * d + (i - 1) * s + 1, s)
            for j, d, i, s in zip(tap, params.dilation, shapes.spatial, params.stride)
        )
        canvas[(slice(None), slice(None)) + window] += prod[(slice(None), slice(None)) + tap]

    crop = tuple(slice(p, p + o) for p, o in zip(params.padding, shapes.out_spatial))
    out = canvas[(slice(None), slice(None)) + crop]
    if b is not None:
        out = out + b.astype(dtype, copy=False).reshape((1, c_out) + (1,) * nd)
    else:
        out = np.ascontiguousarray(out)
    return out if shapes.batched else out[0]
