"""TensorFlow ``tf.nn.conv_transpose`` on the NumPy engine.

The gradient of ``tf.nn.conv{n}d`` with respect to its input, whose shape ``output_shape`` names:
input ``(N, *spatial, C_in)``, filters ``(*k, C_out, C_in)`` (PyTorch's weight with its axes reversed,
not rotated). ``'VALID'``: the canvas from its first cell (cells past it are zeros);
``'SAME'``: the forward convolution's padding ``max((in-1)*s + k_eff - out, 0)``, ⌊·/2⌋ of it before.
The output size must convolve back to the input size, as TensorFlow checks. No groups.
"""

from __future__ import annotations

import numpy as np

from ..engine import as_array
from ..errors import ConvtError
from .core import Geometry, compute, per_axis


def tf_crops(size: tuple[int, ...], kernel: tuple[int, ...], strides: tuple[int, ...], dilations: tuple[int, ...],
             padding: str, output_shape: tuple[int, ...]) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """(begin, end) crops of the full canvas for ``output_shape`` and 'SAME'/'VALID', with TF's size check."""
    begin, end = [], []
    for i, (n, k, s, d, out) in enumerate(zip(size, kernel, strides, dilations, output_shape)):
        k_eff = d * (k - 1) + 1
        canvas = (n - 1) * s + k_eff
        back = -(-out // s) if padding == "SAME" else -(-(out - k_eff + 1) // s)
        if out <= 0 or back != n:
            raise ConvtError(f"TensorFlow: output_shape {list(output_shape)} does not match the input: a {padding} "
                             f"convolution of size {out} in spatial dim {i} gives {back}, not {n}",
                             zh=f"TensorFlow：output_shape {list(output_shape)} 与输入不符：第 {i} 维 {padding} "
                             f"卷积后大小为 {back}，不是 {n}")
        b = max(canvas - out, 0) // 2 if padding == "SAME" else 0
        begin.append(b)
        end.append(canvas - b - out)
    return tuple(begin), tuple(end)


def tf_conv_transpose(input: object, filters: object, output_shape: object, strides: object,  # noqa: A002
                      padding: str = "SAME", data_format: str | None = None, dilations: object = None,
                      name: str | None = None) -> np.ndarray:
    """``tf.nn.conv_transpose`` (channels-last) in NumPy, with TF's signature: ``output_shape`` is the full
    ``(N, *spatial, C_out)``; ``data_format`` must be channels-last (``None``, ``NWC``, ``NHWC``, ``NDHWC``)."""
    x, f = as_array(input, "input"), as_array(filters, "filters")
    nd = f.ndim - 2
    if nd not in (1, 2, 3) or x.ndim != nd + 2:
        raise ConvtError(f"TensorFlow: input of shape {list(x.shape)} and filters of shape {list(f.shape)} must "
                         "have the same number of dims, 3 to 5",
                         zh=f"TensorFlow：输入 {list(x.shape)} 与 filters {list(f.shape)} 维数必须相同（3 到 5）")
    if data_format not in (None, ("NWC", "NHWC", "NDHWC")[nd - 1]):
        raise ConvtError(f"TensorFlow: data_format={data_format!r}: convt models the channels-last layout only",
                         zh=f"TensorFlow：data_format={data_format!r}：convt 只支持通道在后的布局")
    if padding not in ("SAME", "VALID"):
        raise ConvtError(f"TensorFlow: padding={padding!r} must be 'SAME' or 'VALID'",
                         zh=f"TensorFlow：padding={padding!r} 必须是 'SAME' 或 'VALID'")
    shape = tuple(int(v) for v in output_shape)  # type: ignore[union-attr]
    if len(shape) != nd + 2 or shape[0] != x.shape[0] or shape[-1] != f.shape[-2]:
        raise ConvtError(f"TensorFlow: output_shape {list(shape)} must be (N, *spatial, C_out) = "
                         f"({x.shape[0]}, …, {f.shape[-2]})",
                         zh=f"TensorFlow：output_shape {list(shape)} 必须是 (N, *空间, C_out)")
    if x.shape[-1] != f.shape[-1]:
        raise ConvtError(f"TensorFlow: the input has {x.shape[-1]} channels but filters of shape {list(f.shape)} "
                         f"expect {f.shape[-1]}",
                         zh=f"TensorFlow：输入有 {x.shape[-1]} 个通道，而 filters 需要 {f.shape[-1]} 个")
    s = per_axis(strides, nd, "strides", "TensorFlow")
    d = (1,) * nd if dilations is None else per_axis(dilations, nd, "dilations", "TensorFlow")
    kernel = tuple(int(k) for k in f.shape[:nd])
    size = tuple(int(n) for n in x.shape[1:-1])
    begin, end = tf_crops(size, kernel, s, d, padding, shape[1:-1])
    geometry = Geometry(c_in=int(f.shape[-1]), c_out=int(f.shape[-2]), groups=1, kernel=kernel, stride=s,
                        dilation=d, begin=begin, end=end, size=size, bias=False)
    weight = np.transpose(f, (nd + 1, nd, *range(nd)))
    return np.moveaxis(compute(geometry, np.moveaxis(x, -1, 1), weight), 1, -1)
