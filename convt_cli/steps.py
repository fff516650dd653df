"""The recorded placement steps of the scatter view, for ``convt show`` (pure: no printing).

For a single-channel case (input ``(*S)``, kernel ``(*k)``) or a channel-summed one (input
``(C, *S)``, kernel ``(C, *k)`` feeding one output channel) it returns the ordered steps — one per
input position, in row-major order — each with the cells it writes, their contributions and their
values before and after, plus the full canvas, the crop window and the output_padding region.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field

import numpy as np

from .engine import as_array, conv_transpose, result_dtype
from .errors import ConvtError
from .shapes import ConvTransposeParams, canvas_size, output_shape


@dataclass(frozen=True)
class CellWrite:
    """One canvas cell written by one step."""

    position: tuple[int, ...]  # canvas coordinates (uncropped)
    tap: tuple[int, ...]  # kernel index j: position = origin + j*dilation
    terms: tuple[tuple[float, float], ...]  # (input value, kernel value) per input channel
    contribution: float  # sum of the products
    before: float
    after: float
    overlapped: bool = False  # an earlier step wrote this cell: the write accumulates (overlap)


@dataclass(frozen=True)
class Step:
    number: int  # 1-based
    index: tuple[int, ...]  # input position
    value: tuple[float, ...]  # input value per channel (one entry for single-channel)
    origin: tuple[int, ...]  # index * stride in canvas coordinates
    writes: tuple[CellWrite, ...]
    canvas_after: np.ndarray  # the full canvas after this step (no bias)


class StepRecord:
    """What every step-by-step record (scatter, gather) offers; it holds ``params``, ``steps``
    (the first ``max_steps``) and ``total_steps``."""

    params: ConvTransposeParams
    steps: tuple
    total_steps: int

    @property
    def ndim(self) -> int:
        return self.params.ndim

    @property
    def skipped_steps(self) -> int:
        return self.total_steps - len(self.steps)


@dataclass(frozen=True)
class ScatterTrace(StepRecord):
    input: np.ndarray  # (C, *S), C = 1 for single-channel
    kernel: np.ndarray  # (C, *k)
    params: ConvTransposeParams
    bias: float
    channels_summed: bool
    steps: tuple[Step, ...]  # the first ``max_steps`` steps
    total_steps: int
    canvas: np.ndarray  # the full canvas after every step, extended past its last tap if needed
    canvas_size: tuple[int, ...]  # (in-1)*stride + dilation*(k-1) + 1 per dim, before extension
    crop: tuple[slice, ...]  # output = canvas[crop] (+ bias)
    output_padding_region: tuple[range, ...]  # per dim, output indices given back by output_padding
    output: np.ndarray  # cropped canvas + bias
    write_counts: np.ndarray = field(repr=False)  # contributions per canvas cell


def read_pair(x: object, kernel: object, channels: bool) -> tuple[np.ndarray, np.ndarray]:
    """Input and kernel of a single-channel (``channels=False``) or channel-summed case as
    ``(C, *S)`` and ``(C, *k)`` arrays, with their ranks and channel counts checked."""
    xa = as_array(x, "input")
    ka = as_array(kernel, "kernel")
    if not channels:
        xa, ka = xa[None], ka[None]
    nd = xa.ndim - 1
    if nd not in (1, 2, 3):
        shown = list(xa.shape if channels else xa.shape[1:])
        raise ConvtError(f"input of shape {shown} must have 1, 2 or 3 spatial dims",
                         zh=f"形状为 {shown} 的输入必须有 1、2 或 3 个空间维")
    if ka.ndim != xa.ndim:
        raise ConvtError(f"kernel has {ka.ndim - 1} dims but the input has {nd}; both must have the same rank",
                         zh=f"卷积核有 {ka.ndim - 1} 维而输入有 {nd} 维；两者的维数必须相同")
    if ka.shape[0] != xa.shape[0]:
        raise ConvtError(f"kernel has {ka.shape[0]} channels but the input has {xa.shape[0]}",
                         zh=f"卷积核有 {ka.shape[0]} 个通道而输入有 {xa.shape[0]} 个")
    return xa, ka


def trace_scatter(
    x: object,
    kernel: object,
    *,
    stride: object = 1,
    padding: object = 0,
    output_padding: object = 0,
    dilation: object = 1,
    bias: float | None = None,
    channels: bool = False,
    max_steps: int | None = None,
) -> ScatterTrace:
    """Record the scatter, step by step. ``channels=True``: axis 0 of both arrays is C_in."""
    xa, ka = read_pair(x, kernel, channels)
    nd = xa.ndim - 1
    params = ConvTransposeParams.make(nd, stride, padding, output_padding, dilation)
    spatial, ksize = xa.shape[1:], ka.shape[1:]
    out_spatial = output_shape(spatial, ksize, params)  # the size rule, before anything is computed
    full = tuple(canvas_size(i, k, s, d) for i, k, s, d in zip(spatial, ksize, params.stride, params.dilation))
    extent = tuple(max(f, p + o) for f, p, o in zip(full, params.padding, out_spatial))
    dtype = result_dtype(xa, ka)

    canvas = np.zeros(extent, dtype=dtype)
    counts = np.zeros(extent, dtype=np.int64)
    total = math.prod(spatial)
    limit = total if max_steps is None else max(0, min(max_steps, total))
    steps: list[Step] = []
    taps = list(itertools.product(*(range(k) for k in ksize)))
    for number, index in enumerate(itertools.product(*(range(i) for i in spatial)), start=1):
        if number > limit:
            break
        origin = tuple(i * s for i, s in zip(index, params.stride))
        values = tuple(xa[(slice(None),) + index].tolist())
        writes = []
        for tap in taps:
            pos = tuple(o + j * d for o, j, d in zip(origin, tap, params.dilation))
            kv = ka[(slice(None),) + tap].tolist()
            terms = tuple(zip(values, kv))
            contribution = sum(a * b_ for a, b_ in terms)
            before = canvas[pos].item()
            overlapped = bool(counts[pos])
            canvas[pos] += contribution
            counts[pos] += 1
            writes.append(CellWrite(pos, tap, terms, contribution, before, canvas[pos].item(), overlapped))
        steps.append(Step(number, index, values, origin, tuple(writes), canvas.copy()))

    # The full canvas and the count map, vectorised by the engine (every step, shown or not): no
    # padding crops it, and output_padding extends it by what the output reads past its last tap.
    extend = tuple(e - f for e, f in zip(extent, full))
    canvas = conv_transpose(xa[None], ka[:, None], None, params.stride, 0, extend, params.dilation)[0, 0]
    counts = conv_transpose(np.ones((1, 1) + spatial, dtype=np.int64), np.ones((1, 1) + ksize, dtype=np.int64),
                            None, params.stride, 0, extend, params.dilation)[0, 0]

    crop = tuple(slice(p, p + o) for p, o in zip(params.padding, out_spatial))
    output = canvas[crop].copy() if bias is None else canvas[crop] + bias
    op_region = tuple(range(o - op, o) for o, op in zip(out_spatial, params.output_padding))
    return ScatterTrace(
        input=xa,
        kernel=ka,
        params=params,
        bias=0.0 if bias is None else bias,
        channels_summed=channels and xa.shape[0] > 1,
        steps=tuple(steps),
        total_steps=total,
        canvas=canvas,
        canvas_size=full,
        crop=crop,
        output_padding_region=op_region,
        output=output,
        write_counts=counts,
    )
