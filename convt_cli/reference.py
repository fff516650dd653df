"""The PyTorch side: imported lazily, only by the code paths that compare against it."""

from __future__ import annotations

import numpy as np

from .errors import ConvtError
from .shapes import ConvTransposeParams


def torch_module():
    """Import torch on demand (it costs ~1.5 s); a clear error when it is missing."""
    try:
        import torch
    except ImportError:  # pragma: no cover - torch is a dependency
        raise ConvtError("PyTorch is not installed; install torch or use --no-torch") from None
    return torch


def torch_conv_transpose(
    x: np.ndarray,
    weight: np.ndarray,
    bias: np.ndarray | None = None,
    stride: object = 1,
    padding: object = 0,
    output_padding: object = 0,
    dilation: object = 1,
    groups: int = 1,
    dtype: str | None = None,
) -> np.ndarray:
    """``torch.nn.functional.conv_transpose{1,2,3}d`` on NumPy arrays, result as a NumPy array.

    ``dtype`` (a torch dtype name such as ``"float64"``) defaults to float64 for integer inputs and
    to the inputs' own float dtype otherwise. Raises whatever torch raises for invalid input.
    """
    torch = torch_module()
    nd = np.asarray(weight).ndim - 2
    fn = {1: torch.nn.functional.conv_transpose1d, 2: torch.nn.functional.conv_transpose2d,
          3: torch.nn.functional.conv_transpose3d}[nd]
    arrays = [np.asarray(x), np.asarray(weight)] + ([] if bias is None else [np.asarray(bias)])
    if dtype is None:
        rt = np.result_type(*arrays)
        dtype = rt.name if rt.kind == "f" else "float64"
    tdtype = getattr(torch, dtype)
    tx, tw = (torch.as_tensor(np.ascontiguousarray(a)).to(tdtype) for a in arrays[:2])
    tb = None if bias is None else torch.as_tensor(np.ascontiguousarray(arrays[2])).to(tdtype)
    params = ConvTransposeParams(
        stride=_tup(stride, nd), padding=_tup(padding, nd), output_padding=_tup(output_padding, nd),
        dilation=_tup(dilation, nd), groups=int(groups),
    )
    with torch.no_grad():
        out = fn(tx, tw, tb, stride=params.stride, padding=params.padding,
                 output_padding=params.output_padding, groups=params.groups, dilation=params.dilation)
    if out.dtype in (torch.float16, torch.bfloat16):
        out = out.float()
    return out.numpy()


def _tup(value: object, nd: int) -> tuple[int, ...]:
    if isinstance(value, (tuple, list)):
        return tuple(int(v) for v in value) if len(value) != 1 else (int(value[0]),) * nd
    return (int(value),) * nd  # type: ignore[call-overload]
