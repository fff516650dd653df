"""PyTorch's ``nn.ConvTranspose{1,2,3}d`` as a :class:`Geometry`, and the (padding, output_padding) of a geometry.

``begin = padding``, ``end = padding - output_padding``. PyTorch crops symmetrically and adds
``output_padding`` (``< max(stride, dilation)``) at the far end only, so a crop that is larger at the
end than at the start, or that adds cells at the start, needs an extra slice or pad.
"""

from __future__ import annotations

from ..errors import ConvtError
from ..shapes import ConvTransposeParams, per_dim
from .core import Geometry


def torch_geometry(in_channels: int, out_channels: int, kernel_size: object, stride: object = 1,
                   padding: object = 0, output_padding: object = 0, groups: int = 1, bias: bool = True,
                   dilation: object = 1, *, nd: int, size: tuple[int, ...]) -> Geometry:
    """``nn.ConvTranspose{nd}d(...)`` with PyTorch's own rules; ``size`` is the input's spatial size."""
    if isinstance(padding, str):
        raise ConvtError(f"PyTorch: padding={padding!r} is not supported for ConvTranspose{nd}d "
                         "(only integers: it crops that many cells from both ends)",
                         zh=f"PyTorch：ConvTranspose{nd}d 不支持 padding={padding!r}（只接受整数）")
    for name, value in (("in_channels", in_channels), ("out_channels", out_channels)):
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise ConvtError(f"PyTorch: {name}={value!r} must be a positive integer",
                             zh=f"PyTorch：{name}={value!r} 必须是正整数")
    params = ConvTransposeParams.make(nd, stride, padding, output_padding, dilation, groups)

    kernel = per_dim(kernel_size, nd, "kernel_size")
    if any(k <= 0 for k in kernel):
        raise ConvtError(f"PyTorch: kernel_size={list(kernel)} must be positive",
                         zh=f"PyTorch：kernel_size={list(kernel)} 必须为正")
    g = params.groups
    for name, value in (("in_channels", in_channels), ("out_channels", out_channels)):
        if value % g:
            raise ConvtError(f"PyTorch: {name} must be divisible by groups ({name}={value}, groups={g})",
                             zh=f"PyTorch：{name} 必须能被 groups 整除（{name}={value}，groups={g}）")
    return Geometry(c_in=in_channels, c_out=out_channels, groups=g, kernel=kernel, stride=params.stride,
                    dilation=params.dilation, begin=params.padding,
                    end=tuple(p - o for p, o in zip(params.padding, params.output_padding)),
                    size=tuple(size), bias=bool(bias))


def torch_padding(geometry: Geometry) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """The closest ``(padding, output_padding)``: the window they give is the wanted one or contains it
    (``begin >= 0``); see :func:`convt_cli.port.plan.residual` for what is left to slice or pad."""
    padding, output_padding = [], []
    for b, e, s, d in zip(geometry.begin, geometry.end, geometry.stride, geometry.dilation):
        if b >= 0 and 0 <= b - e < max(s, d):  # exact: symmetric crop, output_padding gives back the rest
            p, op = b, b - e
        else:
            p = max(0, min(b, e))
            op = min(max(p - e, 0), max(s, d) - 1)
        padding.append(p)
        output_padding.append(op)
    return tuple(padding), tuple(output_padding)
