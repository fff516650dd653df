"""Keras 3 ``Conv{1,2,3}DTranspose`` (and ``keras.ops.conv_transpose``) on the NumPy engine.

Channels-last input ``(N, *spatial, C_in)``, kernel ``(*k, filters, C_in)`` — PyTorch's weight with
its axes reversed, not rotated. ``padding='valid'``: no crop (output ``(in-1)*s + max(k_eff, s)``);
``'same'``: output ``in*s``, the crop ``t = k_eff - s`` split ⌊t/2⌋ before, ⌈t/2⌉ after. With
``output_padding`` given, the size is ``(in-1)*s + k_eff - 2*(k_eff//2) + output_padding`` ('same').
The crops follow Keras's own conversion for its JAX backend (``compute_conv_transpose_padding_args_for_jax``).
Keras has no ``groups``, and rejects ``strides > 1`` with ``dilation_rate > 1``.
"""

from __future__ import annotations

import numpy as np

from ..engine import as_array
from ..errors import ConvtError
from .core import Geometry, compute, per_axis

NAME = "Keras"


def keras_pads(k: int, s: int, d: int, padding: str, output_padding: int | None) -> tuple[int, int]:
    """Keras's (left, right) padding of the zero-inserted input, for one axis."""
    k_eff = (k - 1) * d + 1
    if padding == "valid":
        op = max(k_eff, s) - k_eff if output_padding is None else output_padding
        return k_eff - 1, k_eff - 1 + op
    pad_len = s + k_eff - 2 if output_padding is None else k_eff + k_eff % 2 - 2 + output_padding
    left = min(pad_len // 2 + pad_len % 2, k_eff - 1)
    return left, pad_len - left


def keras_crop(k: int, s: int, d: int, padding: str, output_padding: int | None) -> tuple[int, int]:
    """The (begin, end) crop of the full canvas that Keras's arguments give, for one axis."""
    left, right = keras_pads(k, s, d, padding, output_padding)
    k_eff = (k - 1) * d + 1
    return k_eff - 1 - left, k_eff - 1 - right


def keras_geometry(filters: int, kernel_size: object, strides: object = 1, padding: str = "valid",
                   output_padding: object = None, dilation_rate: object = 1, *, nd: int, c_in: int,
                   size: tuple[int, ...], use_bias: bool = True) -> Geometry:
    """``keras.layers.Conv{nd}DTranspose(filters, kernel_size, ...)`` with Keras's rules."""
    if isinstance(filters, bool) or not isinstance(filters, int) or filters <= 0:
        raise ConvtError(f"Keras: invalid value for argument `filters`: expected a strictly positive value, "
                         f"received filters={filters!r}", zh=f"Keras：filters={filters!r} 必须是正整数")
    kernel = per_axis(kernel_size, nd, "kernel_size", NAME)
    s = per_axis(strides, nd, "strides", NAME)
    d = per_axis(dilation_rate, nd, "dilation_rate", NAME)
    if not all(kernel) or min(kernel) < 0:
        raise ConvtError(f"Keras: the argument `kernel_size` must be positive, received kernel_size={list(kernel)}",
                         zh=f"Keras：kernel_size={list(kernel)} 必须为正")
    if min(s) <= 0 or min(d) <= 0:
        raise ConvtError(f"Keras: strides={list(s)} and dilation_rate={list(d)} must be positive",
                         zh=f"Keras：strides={list(s)} 与 dilation_rate={list(d)} 必须为正")
    if not isinstance(padding, str) or padding.lower() not in ("valid", "same"):
        raise ConvtError(f"Keras: the `padding` argument must be one of 'valid', 'same', received "
                         f"padding={padding!r}", zh=f"Keras：padding 必须是 'valid' 或 'same'，收到 {padding!r}")
    mode = padding.lower()
    ops = None if output_padding is None else per_axis(output_padding, nd, "output_padding", NAME)
    if ops is not None:
        for i, (op, si) in enumerate(zip(ops, s)):
            if op >= si or op < 0:
                raise ConvtError(f"Keras: `output_padding` must be strictly less than `strides` for all dimensions; "
                                 f"at dimension {i}, `output_padding` is {op} but `strides` is {si}",
                                 zh=f"Keras：output_padding 必须小于 strides；第 {i} 维 output_padding={op}，"
                                 f"strides={si}")
    if max(s) > 1 and max(d) > 1:
        raise ConvtError(f"Keras: `strides > 1` not supported in conjunction with `dilation_rate > 1` "
                         f"(strides={list(s)}, dilation_rate={list(d)})",
                         zh=f"Keras：strides > 1 时不支持 dilation_rate > 1（strides={list(s)}，"
                         f"dilation_rate={list(d)}）")
    crops = [keras_crop(k, si, di, mode, None if ops is None else ops[i])
             for i, (k, si, di) in enumerate(zip(kernel, s, d))]
    return Geometry(c_in=c_in, c_out=filters, groups=1, kernel=kernel, stride=s, dilation=d,
                    begin=tuple(c[0] for c in crops), end=tuple(c[1] for c in crops), size=tuple(size),
                    bias=bool(use_bias))


def keras_conv_transpose(x: object, kernel: object, bias: object = None, *, strides: object = 1,
                         padding: str = "valid", output_padding: object = None, dilation_rate: object = 1,
                         data_format: str = "channels_last") -> np.ndarray:
    """``keras.ops.conv_transpose`` (plus the layer's bias) in NumPy: ``x (N, *spatial, C_in)``,
    ``kernel (*k, filters, C_in)``; ``data_format='channels_first'`` for ``(N, C_in, *spatial)``."""
    xa, ka = as_array(x, "inputs"), as_array(kernel, "kernel")
    nd = ka.ndim - 2
    if data_format not in ("channels_last", "channels_first"):
        raise ConvtError(f"Keras: data_format={data_format!r} must be 'channels_last' or 'channels_first'",
                         zh=f"Keras：data_format={data_format!r} 必须是 'channels_last' 或 'channels_first'")
    if xa.ndim != nd + 2:
        raise ConvtError(f"Keras: inputs of shape {list(xa.shape)} must have {nd + 2} dims for a kernel of "
                         f"shape {list(ka.shape)}", zh=f"Keras：输入形状 {list(xa.shape)} 必须有 {nd + 2} 维")
    last = data_format == "channels_last"
    x_nc = np.moveaxis(xa, -1, 1) if last else xa
    if x_nc.shape[1] != ka.shape[-1]:
        raise ConvtError(f"Keras: the input has {x_nc.shape[1]} channels but the kernel of shape "
                         f"{list(ka.shape)} expects {ka.shape[-1]} (kernel is (*k, filters, C_in))",
                         zh=f"Keras：输入有 {x_nc.shape[1]} 个通道，而卷积核需要 {ka.shape[-1]} 个")
    geometry = keras_geometry(int(ka.shape[-2]), tuple(ka.shape[:nd]), strides, padding, output_padding,
                              dilation_rate, nd=nd, c_in=int(ka.shape[-1]), size=x_nc.shape[2:],
                              use_bias=bias is not None)
    weight = np.transpose(ka, (nd + 1, nd, *range(nd)))
    y = compute(geometry, x_nc, weight, bias)
    return np.moveaxis(y, 1, -1) if last else y
