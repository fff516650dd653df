"""Reading and checking the arguments, and the result dtype: everything decided before computing.

``as_array`` reads anything array-like without copying; ``prepare`` validates every argument against
PyTorch's rules (docs/semantics.md §2) through the memoised ``ConvTransposeParams.make`` and
``check_shapes``; ``result_dtype``/``exact_result_dtype`` give the dtype the engine computes in
(integers exactly in int64, refused where a sum could overflow); ``_check_memory`` holds each
route's working set against the memory budget (``CONVT_MAX_BYTES``) before it allocates. Shared by
:mod:`.route` (the entry point) and :mod:`.literal` (the literal scatter checks its own canvas).
"""

from __future__ import annotations

import functools
import os

import numpy as np

from ..errors import ConvtError
from ..limits import ENV_VAR, check_bytes
from ..shapes import ConvTransposeParams, TensorShapes, check_shapes

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


_CHECK_FLOOR = 1 << 20  # working sets below this many bytes skip the RAM probe (unless CONVT_MAX_BYTES is set)


def _check_memory(elements: int, dtype: np.dtype, shapes: TensorShapes) -> None:
    nbytes = elements * dtype.itemsize
    if nbytes > _CHECK_FLOOR or os.environ.get(ENV_VAR):
        check_bytes(nbytes, f"the output {list(shapes.output)} with its working buffers")
