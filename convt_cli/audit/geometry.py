"""The record of one transposed convolution from its geometry: shared by the PyTorch trace
(:mod:`.run`) and the ONNX reader (:mod:`.onnx_read`), below both."""

from __future__ import annotations

import numpy as np

from ..errors import ConvtError
from ..shapes import overlap_verdict
from .costs import bias_adds, scatter_macs, useful_macs
from .phase import phase_gain
from .records import LayerRecord
from .text import shown

MAX_KERNEL_TAPS = 1 << 24


def _tup(value, nd: int) -> tuple[int, ...]:
    if isinstance(value, (tuple, list)):
        return tuple(int(v) for v in value)
    return (int(value),) * nd


def conv_record(index: int, name: str, kind: str, op: str, input_shape: list[int], output_shape: list[int],
                w_shape: tuple[int, ...], stride, padding, dilation, groups: int, has_bias: bool,
                params: int, weight_values=None, time_ms: float | None = None) -> LayerRecord:
    """The record of one transposed convolution from its geometry (and weights, when they are real)."""
    kernel = tuple(int(k) for k in w_shape[2:])
    nd = len(kernel)
    if sum(kernel) > MAX_KERNEL_TAPS:  # the useful-MAC count walks every tap of every axis
        raise ConvtError(f"layer {shown(name)!r}: a kernel of {'×'.join(map(str, kernel))} taps is more than the "
                         f"audit counts ({MAX_KERNEL_TAPS:,} per layer along all axes)",
                         zh=f"层 {shown(name)!r}：卷积核 {'×'.join(map(str, kernel))} 超过审计可计数的上限")
    stride, padding, dilation = _tup(stride, nd), _tup(padding, nd), _tup(dilation, nd)
    batch = input_shape[0] if len(input_shape) == nd + 2 else 1
    c_in, c_out = int(w_shape[0]), int(w_shape[1]) * groups
    in_sp, out_sp = input_shape[-nd:], output_shape[-nd:]
    verdict = overlap_verdict(kernel, stride, dilation, list_limit=0)  # min/max only: no per-phase list
    kind_word = verdict.kind
    per_cell = list(verdict.per_cell)
    if in_sp and all(int(n) == 1 for n in in_sp):
        # One input element per channel: every output cell gets at most one product, whatever k and s are.
        # (Gaps remain only between dilated taps.) The render says why: the input is 1 element per channel.
        gaps = any(k > 1 and d > 1 for k, d in zip(kernel, dilation))
        kind_word, per_cell = ("gaps", [0, 1]) if gaps else ("none", [1, 1])
    elif kind_word == "even" and verdict.per_cell[1] == 1:
        kind_word = "none"
    pg = None
    if weight_values is not None:
        if not np.isfinite(weight_values).all():
            raise ConvtError(f"layer {shown(name)!r}: its weights hold inf or NaN; the phase-gain index needs finite "
                             "weights", zh=f"层 {shown(name)!r}：权重含 inf 或 NaN；相位增益需要有限的权重")
        pg = phase_gain(weight_values, stride, padding, dilation, groups)
    return LayerRecord(
        index=index, name=name, kind=kind, op=op, input_shape=list(input_shape), output_shape=list(output_shape),
        params=params, macs_scatter=scatter_macs(batch, c_in, c_out, groups, in_sp, kernel),
        macs_useful=useful_macs(batch, c_in, c_out, groups, in_sp, kernel, stride, padding, dilation, out_sp),
        bias_adds=bias_adds(batch, c_out, out_sp, has_bias), overlap=kind_word,
        overlap_per_cell=per_cell, phase_gain=pg, time_ms=time_ms,
    )
