"""One geometry every convention maps onto: the full scatter canvas and what each end crops.

A transposed convolution in any framework is, per spatial axis, the same scatter: input element
``i`` adds the (dilated) kernel into a canvas at ``i*stride + j*dilation``; the full canvas has
``(in - 1)*stride + d*(k - 1) + 1`` cells. Conventions differ only in which window of that canvas
they return: ``begin`` cells cropped at the start, ``end`` at the far end (a negative number means
that many cells added, holding zeros plus the bias). PyTorch: ``begin = padding``,
``end = padding - output_padding``. Computed by the NumPy engine; no framework is imported here.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..engine import as_array, conv_transpose
from ..errors import ConvtError


@dataclass(frozen=True)
class Geometry:
    """One transposed convolution in PyTorch's layout, whatever convention it was written in.

    ``size`` is the input's spatial size (ONNX ``output_shape`` and TF crops depend on it);
    ``begin``/``end`` are the cells cropped from each end of the full canvas (negative: added).
    """

    c_in: int
    c_out: int
    groups: int
    kernel: tuple[int, ...]
    stride: tuple[int, ...]
    dilation: tuple[int, ...]
    begin: tuple[int, ...]
    end: tuple[int, ...]
    size: tuple[int, ...]
    bias: bool = True

    @property
    def nd(self) -> int:
        return len(self.kernel)

    @property
    def k_eff(self) -> tuple[int, ...]:
        return tuple(d * (k - 1) + 1 for k, d in zip(self.kernel, self.dilation))

    @property
    def canvas(self) -> tuple[int, ...]:
        return tuple((n - 1) * s + ke for n, s, ke in zip(self.size, self.stride, self.k_eff))

    @property
    def out(self) -> tuple[int, ...]:
        return tuple(c - b - e for c, b, e in zip(self.canvas, self.begin, self.end))

    def weight_shape(self) -> tuple[int, ...]:
        return (self.c_in, self.c_out // self.groups, *self.kernel)

    def with_size(self, size: tuple[int, ...]) -> Geometry:
        from dataclasses import replace

        return replace(self, size=tuple(size))


def per_axis(value: object, nd: int, name: str, convention: str) -> tuple[int, ...]:
    """An int or a list/tuple of ``nd`` ints (bools refused), as a tuple."""
    if isinstance(value, bool):
        raise ConvtError(f"{convention}: {name}={value!r} must be an integer or a list of {nd} integers",
                         zh=f"{convention}：{name}={value!r} 必须是整数或 {nd} 个整数的列表")
    if isinstance(value, (int, np.integer)):
        return (int(value),) * nd
    try:
        items = tuple(value)  # type: ignore[arg-type]
    except TypeError:
        items = None
    if items is None or len(items) != nd or not all(
            isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in items):
        raise ConvtError(f"{convention}: {name}={value!r} must be an integer or a list of {nd} integers",
                         zh=f"{convention}：{name}={value!r} 必须是整数或 {nd} 个整数的列表")
    return tuple(int(v) for v in items)


def window(y: np.ndarray, begin: tuple[int, ...], end: tuple[int, ...]) -> np.ndarray:
    """Crop ``begin``/``end`` cells from each spatial end of ``y`` (N, C, *spatial); negative adds zeros."""
    pads = [(0, 0), (0, 0)] + [(max(-b, 0), max(-e, 0)) for b, e in zip(begin, end)]
    if any(p != (0, 0) for p in pads):
        y = np.pad(y, pads)
    index = (slice(None), slice(None)) + tuple(
        slice(max(b, 0), n - max(e, 0)) for b, e, n in zip(begin, end, y.shape[2:]))
    return y[index]


def compute(geometry: Geometry, x: object, weight: object, bias: object = None) -> np.ndarray:
    """The geometry's output for PyTorch-layout arrays (x batched ``(N, C_in, *spatial)``)."""
    xa = as_array(x, "input")
    wa = as_array(weight, "weight")
    canvas = conv_transpose(xa, wa, None, stride=geometry.stride, dilation=geometry.dilation,
                            groups=geometry.groups)
    if any(o <= 0 for o in geometry.out):
        raise ConvtError(f"the output size {list(geometry.out)} is not positive for input size "
                         f"{list(geometry.size)}", zh=f"输入大小 {list(geometry.size)} 的输出大小 "
                         f"{list(geometry.out)} 不是正数")
    y = window(canvas, geometry.begin, geometry.end)
    if bias is not None:
        ba = as_array(bias, "bias")
        y = y + ba.reshape(1, -1, *([1] * geometry.nd))
    return y
