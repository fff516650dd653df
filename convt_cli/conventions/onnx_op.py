"""ONNX ``ConvTranspose`` (opset 11 onward) exactly as onnxruntime computes it, on the NumPy engine.

Inputs ``X (N, C, *spatial)``, weights ``W (C, M/group, *k)``, bias ``B (M,)``; attributes as the
node's lists. The full canvas is ``stride*(in-1) + output_padding + dilation*(k-1) + 1``:

- explicit ``pads`` (begin values, then end values) crop it (``auto_pad='NOTSET'``);
- ``auto_pad='VALID'``: no crop; ``'SAME_UPPER'``/``'SAME_LOWER'``: output ``min(in*stride, full)``,
  the odd cell cropped at the end (UPPER) or at the start (LOWER);
- ``output_shape`` (pads then ignored): total crop ``full - output_shape``; the odd cell at the start,
  except with ``SAME_UPPER`` (onnxruntime's reading; the spec's text disagreed, onnx/onnx#2333, #4527).
  A larger ``output_shape`` appends zeros (plus bias).

onnxruntime's rules are enforced with its wording: ``output_padding < max(stride, dilation)`` and
the output must convolve back to the input size (which makes ``output_padding < stride``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..engine import as_array
from ..errors import ConvtError
from .core import Geometry, compute

AUTO_PADS = ("NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID")


def _ints(value: object, name: str, length: int | Sequence[int]) -> tuple[int, ...]:
    lengths = (length,) if isinstance(length, int) else tuple(length)
    try:
        items = tuple(value)  # type: ignore[arg-type]
    except TypeError:
        items = None
    if items is None or len(items) not in lengths or not all(
            isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in items):
        want = " or ".join(str(n) for n in lengths)
        raise ConvtError(f"ONNX ConvTranspose: {name}={value!r} must be a list of {want} integers",
                         zh=f"ONNX ConvTranspose：{name}={value!r} 必须是 {want} 个整数的列表")
    return tuple(int(v) for v in items)


def onnx_geometry(
    x_shape: Sequence[int],
    w_shape: Sequence[int],
    *,
    auto_pad: str = "NOTSET",
    dilations: Sequence[int] | None = None,
    group: int = 1,
    kernel_shape: Sequence[int] | None = None,
    output_padding: Sequence[int] | None = None,
    output_shape: Sequence[int] | None = None,
    pads: Sequence[int] | None = None,
    strides: Sequence[int] | None = None,
    bias: bool = False,
) -> Geometry:
    """The node's geometry for an input of shape ``x_shape`` and weights of shape ``w_shape``."""
    x_shape, w_shape = tuple(x_shape), tuple(w_shape)
    nd = len(w_shape) - 2
    if nd not in (1, 2, 3):
        raise ConvtError(f"ONNX ConvTranspose: W of shape {list(w_shape)} must have 3, 4 or 5 dims "
                         "(C, M/group and 1-3 kernel dims)",
                         zh=f"ONNX ConvTranspose：形状为 {list(w_shape)} 的 W 必须有 3、4 或 5 维")
    if len(x_shape) != nd + 2:
        raise ConvtError(f"ONNX ConvTranspose: X of shape {list(x_shape)} must have {nd + 2} dims "
                         f"(N, C and {nd} spatial) to match W of shape {list(w_shape)}",
                         zh=f"ONNX ConvTranspose：形状为 {list(x_shape)} 的 X 必须有 {nd + 2} 维以匹配 W")
    if not isinstance(auto_pad, str) or auto_pad.upper() not in AUTO_PADS:
        raise ConvtError(f"ONNX ConvTranspose: auto_pad={auto_pad!r} must be one of {', '.join(AUTO_PADS)}",
                         zh=f"ONNX ConvTranspose：auto_pad={auto_pad!r} 必须是 {'、'.join(AUTO_PADS)} 之一")
    auto_pad = auto_pad.upper()
    if isinstance(group, bool) or not isinstance(group, (int, np.integer)) or group < 1:
        raise ConvtError(f"ONNX ConvTranspose: group={group!r} must be a positive integer",
                         zh=f"ONNX ConvTranspose：group={group!r} 必须是正整数")
    group = int(group)
    kernel = tuple(int(k) for k in w_shape[2:])
    if kernel_shape is not None and _ints(kernel_shape, "kernel_shape", nd) != kernel:
        raise ConvtError(f"ONNX ConvTranspose: kernel_shape={list(kernel_shape)} does not match W's kernel "
                         f"dims {list(kernel)}", zh=f"ONNX ConvTranspose：kernel_shape={list(kernel_shape)} "
                         f"与 W 的卷积核维 {list(kernel)} 不符")
    s = (1,) * nd if strides is None else _ints(strides, "strides", nd)
    d = (1,) * nd if dilations is None else _ints(dilations, "dilations", nd)
    op = (0,) * nd if output_padding is None else _ints(output_padding, "output_padding", nd)
    pd = (0,) * (2 * nd) if pads is None else _ints(pads, "pads", 2 * nd)
    for name, values, low in (("strides", s, 1), ("dilations", d, 1), ("output_padding", op, 0), ("pads", pd, 0)):
        bad = [v for v in values if v < low]
        if bad:
            rule = "positive" if low else "non-negative"
            raise ConvtError(f"ONNX ConvTranspose: {name}={list(values)} must be {rule}",
                             zh=f"ONNX ConvTranspose：{name}={list(values)} 必须{'为正' if low else '非负'}")
    c_in = int(x_shape[1])
    if c_in != w_shape[0]:
        raise ConvtError(f"ONNX ConvTranspose: X has {c_in} channels but W of shape {list(w_shape)} expects "
                         f"{w_shape[0]} (W is (C, M/group, *k))",
                         zh=f"ONNX ConvTranspose：X 有 {c_in} 个通道，而 W（{list(w_shape)}）需要 {w_shape[0]} 个")
    if c_in % group:
        raise ConvtError(f"ONNX ConvTranspose: group={group} does not divide the {c_in} input channels",
                         zh=f"ONNX ConvTranspose：group={group} 不能整除 {c_in} 个输入通道")
    for i, (o, si, di) in enumerate(zip(op, s, d)):
        if o >= max(si, di):
            raise ConvtError(f"ONNX ConvTranspose: output_padding[{i}] ({o}) must be less than "
                             f"max(stride, dilation) ({max(si, di)}) for spatial dimension {i}",
                             zh=f"ONNX ConvTranspose：第 {i} 维的 output_padding ({o}) 必须小于 "
                             f"max(stride, dilation) ({max(si, di)})")
    size = tuple(int(n) for n in x_shape[2:])
    k_eff = [di * (k - 1) + 1 for k, di in zip(kernel, d)]
    full = [(n - 1) * si + ke for n, si, ke in zip(size, s, k_eff)]  # without output_padding
    begin: list[int] = []
    end: list[int] = []
    out_spec = None if output_shape is None else _ints(output_shape, "output_shape", (nd, nd + 2))[-nd:]
    for i in range(nd):
        with_op = full[i] + op[i]
        if out_spec is not None:
            total = max(0, with_op - out_spec[i])
            b = total // 2 if auto_pad == "SAME_UPPER" else total - total // 2
            e = with_op - b - out_spec[i]  # negative when output_shape asks for more than the canvas
        elif auto_pad in ("SAME_UPPER", "SAME_LOWER"):
            total = max(0, with_op - size[i] * s[i])
            b = total // 2 if auto_pad == "SAME_UPPER" else total - total // 2
            e = total - b
        elif auto_pad == "VALID":
            b = e = 0
        else:
            b, e = pd[i], pd[nd + i]
        out = with_op - b - e
        if out <= 0:
            raise ConvtError(f"ONNX ConvTranspose: the output size {out} in spatial dimension {i} is not positive",
                             zh=f"ONNX ConvTranspose：第 {i} 维的输出大小 {out} 不是正数")
        back = (out + max(b + e, 0) - k_eff[i]) // s[i] + 1  # the forward convolution's input size
        if back != size[i]:
            raise ConvtError(
                f"ONNX ConvTranspose: the output size {out} in spatial dimension {i} is inconsistent with the "
                f"input size {size[i]} (it convolves back to {back}; output_padding={op[i]} may be too large "
                f"for stride={s[i]})",
                zh=f"ONNX ConvTranspose：第 {i} 维的输出大小 {out} 与输入大小 {size[i]} 不一致"
                f"（卷积回去是 {back}；output_padding={op[i]} 对 stride={s[i]} 可能过大）")
        begin.append(b)
        end.append(e - op[i])
    return Geometry(c_in=c_in, c_out=int(w_shape[1]) * group, groups=group, kernel=kernel, stride=s,
                    dilation=d, begin=tuple(begin), end=tuple(end), size=size, bias=bias)


def onnx_conv_transpose(
    X: object,
    W: object,
    B: object = None,
    *,
    auto_pad: str = "NOTSET",
    dilations: Sequence[int] | None = None,
    group: int = 1,
    kernel_shape: Sequence[int] | None = None,
    output_padding: Sequence[int] | None = None,
    output_shape: Sequence[int] | None = None,
    pads: Sequence[int] | None = None,
    strides: Sequence[int] | None = None,
) -> np.ndarray:
    """ONNX ``ConvTranspose`` as onnxruntime computes it (opset 11+), in NumPy.

    ``X`` is ``(N, C, *spatial)`` with 1-3 spatial dims, ``W`` is ``(C, M/group, *k)``, ``B`` is
    ``(M,)`` or ``None``; the attributes are the node's, as lists. Returns ``(N, M, *out)``.
    Raises :class:`ConvtError` for what onnxruntime rejects.

    >>> onnx_conv_transpose([[[1., 2.]]], [[[1., 1., 1.]]], strides=[2], auto_pad="SAME_UPPER").tolist()
    [[[1.0, 1.0, 3.0, 2.0]]]
    """
    xa = as_array(X, "X")
    wa = as_array(W, "W")
    geometry = onnx_geometry(xa.shape, wa.shape, auto_pad=auto_pad, dilations=dilations, group=group,
                             kernel_shape=kernel_shape, output_padding=output_padding, output_shape=output_shape,
                             pads=pads, strides=strides, bias=B is not None)
    if B is not None:
        ba = as_array(B, "B")
        if ba.shape != (geometry.c_out,):
            raise ConvtError(f"ONNX ConvTranspose: B of shape {list(ba.shape)} must be ({geometry.c_out},), one "
                             "value per output channel", zh=f"ONNX ConvTranspose：B 的形状 {list(ba.shape)} "
                             f"必须是 ({geometry.c_out},)")
    return compute(geometry, xa, wa, B)
