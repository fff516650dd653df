"""A function written in another framework's convention, wrapped as a PyTorch-convention subject.

For ``convt verify --impl FILE:FUNC --convention NAME``: the sweep's cases are PyTorch's; each one is
translated by the port planner (:mod:`convt_cli.port.plan`) into the convention's own arguments and
layouts, the function computes, the planned extra slice/pad and the bias are applied, and the result
comes back as ``(N, C_out, *out)``. :func:`expressible` says which cases the convention cannot express
at all (skipped and counted by the sweep). This runs in the worker process: the framework is imported
there, never in convt's.

The function is called exactly as the framework's documentation calls its own op — its argument names
(keywords where the op has them), its array type, its layout — so the op itself passes:

- ``onnx``: ``fn(X, W, B, *, kernel_shape, strides, pads, output_padding, dilations, group)``, NumPy,
  NCHW, attributes as lists (a wrapper around onnxruntime or ``onnx.reference``; B is None when convt
  pads the output afterwards, and then convt adds the bias);
- ``keras``: ``fn(inputs, kernel, strides=…, padding=…, output_padding=…, data_format="channels_last",
  dilation_rate=…)`` — ``keras.ops.conv_transpose``; NumPy arrays, channels-last, kernel
  ``(*k, C_out, C_in)``. The op has no bias: convt adds it to the result, as the layer would;
- ``jax``: ``fn(lhs, rhs, strides, padding, rhs_dilation=…, dimension_numbers=…, transpose_kernel=True)``
  — ``jax.lax.conv_transpose``; NumPy, NCHW/OIHW, ungrouped; no bias (added by convt);
- ``tf``: ``fn(input, filters, output_shape, strides, padding=…, dilations=…)`` —
  ``tf.nn.conv_transpose``; NumPy, NHWC, filters ``(*k, C_out, C_in)``; no groups, no bias;
- ``mlx``: ``fn(input, weight, stride=…, padding=…, dilation=…, output_padding=…, groups=…)`` —
  ``mlx.core.conv_transpose1d/2d/3d``; ``mx.array`` inputs, NHWC, weight ``(C_out, *k, C_in/groups)``,
  ints in 1-d and tuples in 2-d/3-d; no bias;
- ``tinygrad``: ``fn(x, weight, bias, groups=…, stride=…, dilation=…, padding=…, output_padding=…)`` —
  ``tinygrad.Tensor.conv_transpose2d`` (PyTorch's arithmetic and layout, any number of spatial dims),
  ``tinygrad.Tensor`` arrays.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..conventions.core import window
from ..conventions.torch_conv import torch_geometry

PLANNED = ("onnx", "keras", "jax", "tf", "mlx")  # translated by the port planner
CONVENTIONS = (*PLANNED, "tinygrad")


def _plan(convention: str, x_shape: tuple[int, ...], w_shape: tuple[int, ...], stride: object, padding: object,
          output_padding: object, dilation: object, groups: int, bias: bool):  # noqa: ANN202 - a Plan
    from ..port.plan import plan

    nd = len(w_shape) - 2
    g = torch_geometry(int(w_shape[0]), int(w_shape[1]) * int(groups), tuple(w_shape[2:]), stride, padding,
                       output_padding, int(groups), bias, dilation, nd=nd, size=tuple(x_shape[-nd:]))
    return plan(g, convention)


def expressible(convention: str, x_shape: tuple[int, ...], w_shape: tuple[int, ...], *, stride: object,
                padding: object, output_padding: object, dilation: object, groups: int) -> tuple[bool, str]:
    """Whether a PyTorch-convention case can be computed in ``convention`` (with at most the planned extra
    slice/pad and kernel expansion); if not, the reason in one sentence."""
    from ..port.texts import say

    if convention not in CONVENTIONS:
        return False, f"unknown convention {convention!r}; use one of {', '.join(CONVENTIONS)}"
    if convention == "tinygrad":  # PyTorch's own arithmetic
        return True, ""
    p = _plan(convention, x_shape, w_shape, stride, padding, output_padding, dilation, groups, False)
    if p.status == "impossible":
        return False, say(p.reason)
    if convention == "jax" and p.geometry.groups > 1:
        return False, "lax.conv_transpose has no groups"
    return True, ""


def to_numpy(y: object) -> np.ndarray:
    """A framework's array as NumPy: ``.numpy()`` (TensorFlow, tinygrad, PyTorch) or the array protocol
    (JAX, MLX, NumPy)."""
    if isinstance(y, np.ndarray):
        return y
    numpy = getattr(y, "numpy", None)
    if callable(numpy):
        return np.asarray(numpy())
    return np.asarray(y)


def _mlx_ints(values: tuple[int, ...]) -> int | tuple[int, ...]:
    """``mx.conv_transpose1d`` takes ints; 2-d and 3-d take tuples."""
    return int(values[0]) if len(values) == 1 else tuple(int(v) for v in values)


def _call(convention: str, fn: Callable[..., object], p, x: np.ndarray, w: np.ndarray,  # noqa: ANN001 - a Plan
          b: np.ndarray | None) -> tuple[np.ndarray, bool]:
    """The function's answer in PyTorch's layout, before the residual window; and whether it added the bias."""
    from ..port.run import jax_rhs, keras_kernel, to_first, to_last

    a = p.args
    if convention == "onnx":
        attrs = {k: v for k, v in a.items() if v is not None}
        give_bias = b is not None and not any(r != (0, 0) for r in p.residual)
        return to_numpy(fn(x, w, b if give_bias else None, **attrs)), give_bias
    if convention == "keras":
        ops = a["output_padding"]
        y = fn(to_last(x), keras_kernel(w), strides=a["strides"], padding=a["padding"],
               output_padding=None if ops is None else tuple(ops), data_format="channels_last",
               dilation_rate=a["dilation_rate"])
        return to_first(to_numpy(y)), False
    if convention == "jax":
        y = fn(x, jax_rhs(w, a["dimension_numbers"], True), a["strides"], a["padding"],
               rhs_dilation=a["rhs_dilation"], dimension_numbers=a["dimension_numbers"], transpose_kernel=True)
        return to_numpy(y), False
    if convention == "tf":
        shape = (x.shape[0], *a["output_shape"], p.geometry.c_out)
        y = fn(to_last(x), keras_kernel(w), shape, a["strides"], padding=a["padding"], dilations=a["dilations"])
        return to_first(to_numpy(y)), False
    # mlx
    import mlx.core as mx

    from ..conventions.mlx_conv import torch_weight_to_mlx

    def mx_array(arr: np.ndarray):  # noqa: ANN202 - mx.array keeps the dtype only when told (float64 → float32)
        return mx.array(np.ascontiguousarray(arr), dtype=getattr(mx, arr.dtype.name))

    xm, wm = mx_array(to_last(x)), mx_array(torch_weight_to_mlx(w, a["groups"]))
    y = fn(xm, wm, stride=_mlx_ints(a["stride"]), padding=_mlx_ints(a["padding"]),
           dilation=_mlx_ints(a["dilation"]), output_padding=_mlx_ints(a["output_padding"]), groups=int(a["groups"]))
    return to_first(to_numpy(y)), False


def _tinygrad(fn: Callable[..., object], x: np.ndarray, w: np.ndarray, b: np.ndarray | None, *, stride: object,
              padding: object, output_padding: object, dilation: object, groups: int) -> np.ndarray:
    from tinygrad import Tensor

    y = fn(Tensor(x), Tensor(w), None if b is None else Tensor(b), groups=int(groups), stride=tuple(stride),
           dilation=tuple(dilation), padding=tuple(padding), output_padding=tuple(output_padding))
    return to_numpy(y)


def convention_subject(convention: str, fn: Callable[..., object]) -> Callable[..., np.ndarray]:
    """``subject(x, weight, bias, *, stride, padding, output_padding, dilation, groups)`` in PyTorch's
    convention, computed by ``fn`` written in ``convention``'s (see the module docstring)."""
    from ..port.run import expand_kernel

    def subject(x, weight, bias, *, stride, padding, output_padding, dilation, groups):  # noqa: ANN001, ANN202
        x, w = np.asarray(x), np.asarray(weight)
        b = None if bias is None else np.asarray(bias)
        unbatched = x.ndim == w.ndim - 1
        if unbatched:
            x = x[None]
        if convention == "tinygrad":
            y = _tinygrad(fn, x, w, b, stride=stride, padding=padding, output_padding=output_padding,
                          dilation=dilation, groups=groups)
            return y[0] if unbatched else y
        ok, why = expressible(convention, x.shape, w.shape, stride=stride, padding=padding,
                              output_padding=output_padding, dilation=dilation, groups=groups)
        if not ok:
            raise ValueError(f"{convention} cannot express this case: {why}")
        p = _plan(convention, x.shape, w.shape, stride, padding, output_padding, dilation, groups, b is not None)
        if p.expand:
            w = expand_kernel(w, p.expand)
        y, has_bias = _call(convention, fn, p, x, w, b)
        y = window(y, tuple(r[0] for r in p.residual), tuple(r[1] for r in p.residual))
        if b is not None and not has_bias:
            y = y + b.reshape(1, -1, *([1] * p.nd))
        return y[0] if unbatched else y

    return subject
