"""What a transposed convolution costs, counted exactly (pure integers; no torch, no NumPy).

* scatter MACs ``N·∏in·C_in·(C_out/g)·∏k``: every input element times the whole kernel — what
  ``torch.utils.flop_counter.FlopCounterMode`` counts (FLOPs = 2 × MACs) and what the kernel does;
* useful MACs: only the products that land inside the kept output, after the ``padding`` crop (and
  none are lost to ``output_padding``, which only adds cells); counted per axis in closed form;
* bias adds ``N·C_out·∏out`` when the layer has a bias.
"""

from __future__ import annotations

import math
from collections.abc import Sequence


def scatter_macs(batch: int, c_in: int, c_out: int, groups: int, in_spatial: Sequence[int],
                 kernel: Sequence[int]) -> int:
    """Multiply-adds of the full scatter: every input element times the whole (grouped) kernel."""
    return batch * c_in * (c_out // groups) * math.prod(in_spatial) * math.prod(kernel)


def kept_taps(in_size: int, kernel: int, stride: int, padding: int, dilation: int, out_size: int) -> int:
    """Along one axis, the (input position, kernel tap) pairs whose product lands in the kept output.

    Input ``i`` and tap ``j`` write to ``o = i·s + j·d − p``; kept when ``0 ≤ o < out_size``. For each
    tap, the kept inputs form one interval: ``ceil((p − j·d)/s) ≤ i ≤ floor((out − 1 + p − j·d)/s)``,
    clipped to ``[0, in − 1]``. The sum runs over the k taps, not over the input.
    """
    total = 0
    for j in range(kernel):
        shift = padding - j * dilation
        lo = max(0, -((-shift) // stride))  # ceil(shift / stride)
        hi = min(in_size - 1, (out_size - 1 + shift) // stride)
        total += max(0, hi - lo + 1)
    return total


def useful_macs(batch: int, c_in: int, c_out: int, groups: int, in_spatial: Sequence[int],
                kernel: Sequence[int], stride: Sequence[int], padding: Sequence[int],
                dilation: Sequence[int], out_spatial: Sequence[int]) -> int:
    """Multiply-adds whose products land in the kept output: the axes multiply (the crop is a box)."""
    per_axis = [kept_taps(n, k, s, p, d, o)
                for n, k, s, p, d, o in zip(in_spatial, kernel, stride, padding, dilation, out_spatial)]
    return batch * c_in * (c_out // groups) * math.prod(per_axis)


def bias_adds(batch: int, c_out: int, out_spatial: Sequence[int], has_bias: bool) -> int:
    return batch * c_out * math.prod(out_spatial) if has_bias else 0
