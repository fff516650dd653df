"""A function written in another framework's convention, wrapped as a PyTorch-convention subject.

For ``convt verify --impl FILE:FUNC --convention NAME``: the sweep's cases are PyTorch's; each one is
translated by the port planner (:mod:`convt_cli.port.plan`) into the convention's own arguments and
layouts, the user's function computes, the planned extra op (slice/pad) and the bias are applied, and
the result comes back as ``(N, C_out, *out)``. :func:`expressible` says which cases the convention
cannot express at all (skipped and counted by the sweep).

The user's function is called as the convention's own functional op:

- ``onnx``: ``fn(X, W, B, *, kernel_shape, strides, pads, output_padding, dilations, group)`` (NCHW);
- ``keras``: ``fn(x, kernel, bias, *, strides, padding, output_padding, dilation_rate)``, channels-last,
  kernel ``(*k, C_out, C_in)`` (``keras.ops.conv_transpose`` plus the bias);
- ``jax``: ``fn(lhs, rhs, strides, padding, rhs_dilation=…, dimension_numbers=…, transpose_kernel=True)``
  (``lax.conv_transpose``), NCHW/OIHW, ungrouped;
- ``tf``: ``fn(input, filters, output_shape, strides, padding, dilations)`` (``tf.nn.conv_transpose``), NHWC;
- ``mlx``: ``fn(input, weight, stride, padding, dilation, output_padding, groups)``, NHWC, weight
  ``(C_out, *k, C_in/groups)``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .core import window
from .torch_conv import torch_geometry

CONVENTIONS = ("onnx", "keras", "jax", "tf", "mlx")


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
    p = _plan(convention, x_shape, w_shape, stride, padding, output_padding, dilation, groups, False)
    if p.status == "impossible":
        return False, say(p.reason)
    if convention == "jax" and p.geometry.groups > 1:
        return False, "lax.conv_transpose has no groups"
    return True, ""


def convention_subject(convention: str, fn: Callable[..., object]) -> Callable[..., np.ndarray]:
    """``subject(x, weight, bias, *, stride, padding, output_padding, dilation, groups)`` in PyTorch's
    convention, computed by ``fn`` written in ``convention``'s (see the module docstring)."""
    from ..conventions.mlx_conv import torch_weight_to_mlx
    from ..port.run import expand_kernel, jax_rhs, keras_kernel, to_first, to_last

    def subject(x, weight, bias, *, stride, padding, output_padding, dilation, groups):  # noqa: ANN001, ANN202
        x, w = np.asarray(x), np.asarray(weight)
        b = None if bias is None else np.asarray(bias)
        unbatched = x.ndim == w.ndim - 1
        if unbatched:
            x = x[None]
        p = _plan(convention, x.shape, w.shape, stride, padding, output_padding, dilation, groups, b is not None)
        ok, why = expressible(convention, x.shape, w.shape, stride=stride, padding=padding,
                              output_padding=output_padding, dilation=dilation, groups=groups)
        if not ok:
            raise ValueError(f"{convention} cannot express this case: {why}")
        a, nd = p.args, p.nd
        if p.expand:
            w = expand_kernel(w, p.expand)
        if convention == "onnx":
            attrs = {k: v for k, v in a.items() if v is not None}
            y = np.asarray(fn(x, w, None, **attrs))
        elif convention == "keras":
            y = to_first(np.asarray(fn(to_last(x), keras_kernel(w), None, strides=a["strides"], padding=a["padding"],
                                       output_padding=a["output_padding"], dilation_rate=a["dilation_rate"])))
        elif convention == "jax":
            y = np.asarray(fn(x, jax_rhs(w, a["dimension_numbers"], True), a["strides"], a["padding"],
                              rhs_dilation=a["rhs_dilation"], dimension_numbers=a["dimension_numbers"],
                              transpose_kernel=True))
        elif convention == "tf":
            shape = (x.shape[0], *a["output_shape"], p.geometry.c_out)
            y = to_first(np.asarray(fn(to_last(x), keras_kernel(w), shape, a["strides"], a["padding"],
                                       a["dilations"])))
        else:  # mlx
            y = to_first(np.asarray(fn(to_last(x), torch_weight_to_mlx(w, a["groups"]), a["stride"], a["padding"],
                                       a["dilation"], a["output_padding"], a["groups"])))
        y = window(y, tuple(r[0] for r in p.residual), tuple(r[1] for r in p.residual))
        if b is not None:
            y = y + b.reshape(1, -1, *([1] * nd))
        return y[0] if unbatched else y

    return subject
