"""Run a layer written in any framework's words on the NumPy engine, from PyTorch-layout arrays.

Each runner converts ``x (N, C_in, *spatial)``, ``w (C_in, C_out/g, *k)`` and ``b`` to the framework's
layouts, calls that framework's adapter (``convt_cli.conventions``) with the framework's own
arguments, and brings the output back to ``(N, C_out, *out)``. The proof in ``convt port`` runs the
source layer and the ported one this way and compares.
"""

from __future__ import annotations

import numpy as np

from ..conventions import jax_conv, keras_conv, mlx_conv, onnx_op, tf_conv
from ..engine import conv_transpose


def expand_kernel(w: np.ndarray, dilation: tuple[int, ...]) -> np.ndarray:
    """The dilated kernel as an ordinary one: ``d - 1`` zeros between taps (size ``d*(k-1)+1``)."""
    k = w.shape[2:]
    out = np.zeros((*w.shape[:2], *(d * (n - 1) + 1 for n, d in zip(k, dilation))), dtype=w.dtype)
    out[(slice(None), slice(None), *(slice(None, None, d) for d in dilation))] = w
    return out


def to_last(a: np.ndarray) -> np.ndarray:
    return np.moveaxis(a, 1, -1)


def to_first(a: np.ndarray) -> np.ndarray:
    return np.moveaxis(a, -1, 1)


def spatial_axes(nd: int) -> tuple[int, ...]:
    return tuple(range(2, nd + 2))


def keras_kernel(w: np.ndarray) -> np.ndarray:
    """PyTorch ``(C_in, C_out, *k)`` → Keras/TF ``(*k, C_out, C_in)``: axes reversed, not rotated."""
    nd = w.ndim - 2
    return np.transpose(w, (*range(2, nd + 2), 1, 0))


def jax_rhs(w: np.ndarray, dn: tuple[str, str, str], transpose_kernel: bool) -> np.ndarray:
    """PyTorch weight → ``lax.conv_transpose``'s rhs in the ``dimension_numbers`` layout."""
    nd = w.ndim - 2
    _, rhs_perm, _ = jax_conv.dn_perms(dn, nd)
    oi = w if transpose_kernel else np.swapaxes(np.flip(w, spatial_axes(nd)), 0, 1)
    return np.transpose(oi, np.argsort(rhs_perm))


def jax_grouped_rhs(w: np.ndarray, groups: int) -> np.ndarray:
    """PyTorch weight → ``conv_general_dilated``'s OI… kernel ``(C_out, C_in/g, *k)``, rotated, per group."""
    c_in, cog, *k = w.shape
    cig = c_in // groups
    flipped = np.flip(w, spatial_axes(len(k)))
    return flipped.reshape(groups, cig, cog, *k).swapaxes(1, 2).reshape(groups * cog, cig, *k)


def run(framework: str, args: dict, x: np.ndarray, w: np.ndarray, b: np.ndarray | None, *, groups: int = 1,
        expand: tuple[int, ...] | None = None) -> np.ndarray:
    """The layer ``framework(**args)`` on PyTorch-layout arrays; ``expand``: the kernel is expanded first
    (dilation written into it) and the call's own dilation is 1."""
    nd = w.ndim - 2
    if expand is not None:
        w = expand_kernel(w, expand)
    bias_after = True
    if framework == "torch":
        y = conv_transpose(x, w, b, args["stride"], args["padding"], args["output_padding"], args["dilation"],
                           args["groups"])
        bias_after = False
    elif framework == "mlx":
        g = args.get("groups", 1)
        y = to_first(mlx_conv.mlx_conv_transpose(to_last(x), mlx_conv.torch_weight_to_mlx(w, g), args["stride"],
                                                 args["padding"], args["dilation"], args["output_padding"], g))
    elif framework == "onnx":
        attrs = {k: v for k, v in args.items() if v is not None}
        y = onnx_op.onnx_conv_transpose(x, w, b, **attrs)
        bias_after = False
    elif framework == "keras" or (framework == "tf" and args.get("output_shape") is None):
        first = args.get("data_format") == "channels_first"
        y = keras_conv.keras_conv_transpose(x if first else to_last(x), keras_kernel(w), b, strides=args["strides"],
                                            padding=args["padding"], output_padding=args["output_padding"],
                                            dilation_rate=args["dilation_rate"],
                                            data_format="channels_first" if first else "channels_last")
        y = y if first else to_first(y)
        bias_after = False
    elif framework == "tf":
        out = tuple(args["output_shape"])
        out = out[1:-1] if len(out) == nd + 2 else out
        y = to_first(tf_conv.tf_conv_transpose(to_last(x), keras_kernel(w), (x.shape[0], *out, w.shape[1]),
                                               args["strides"], padding=args["padding"],
                                               dilations=args.get("dilations")))
    elif framework == "jax" and args.get("feature_group_count", 1) > 1:
        y = jax_conv.jax_conv_general_dilated_transpose(x, jax_grouped_rhs(w, groups), args["lhs_dilation"],
                                                        args["padding"], args["rhs_dilation"],
                                                        args["feature_group_count"])
    elif framework == "jax":
        dn = tuple(args["dimension_numbers"] or jax_conv.DEFAULT_DN[nd])
        lhs_perm, _, out_perm = jax_conv.dn_perms(dn, nd)
        y = jax_conv.jax_conv_transpose(np.transpose(x, np.argsort(lhs_perm)), jax_rhs(w, dn, args["transpose_kernel"]),
                                        args["strides"], args["padding"], args["rhs_dilation"], dn,
                                        args["transpose_kernel"], args.get("use_consistent_padding", False))
        y = np.transpose(y, out_perm)
    elif framework == "flax":
        tk = bool(args.get("transpose_kernel"))
        kernel = jax_rhs(w, jax_conv.DEFAULT_DN[nd], tk)
        y = to_first(jax_conv.jax_conv_transpose(to_last(x), kernel, jax_conv.per_axis(args["strides"], nd, "strides",
                                                                                        "Flax"),
                                                 jax_conv.flax_padding(args["padding"], nd),
                                                 jax_conv.per_axis(args["kernel_dilation"], nd, "kernel_dilation",
                                                                   "Flax"), None, tk))
    else:  # pragma: no cover - frameworks are checked when parsed
        raise ValueError(framework)
    if bias_after and b is not None:
        y = y + b.reshape(1, -1, *([1] * nd))
    return y
