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

from .engine import as_array, exact_result_dtype, result_dtype
from .errors import ConvtError
from .limits import check_bytes, human_bytes, max_bytes
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


# The cost model, checked before anything is allocated or computed (see ``scatter_cost``).
MAX_RECORDED_WRITES = 200_000  # cell writes recorded for the drawn steps: each is a Python record
MAX_SCATTER_OPS = 10**9  # multiply-adds of the whole canvas (C · input cells · kernel taps): a few seconds
WRITE_BYTES = 400  # one recorded CellWrite with one channel term (measured with tracemalloc: ~375)
TERM_BYTES = 130  # each further channel term of a CellWrite (measured: ~125)


def times_text(shape: tuple[int, ...]) -> str:
    return "×".join(map(str, shape))


def _fitting_steps(per_step: int, other: int, budget: int) -> int:
    return max(0, (budget - other) // per_step) if per_step else 0


def scatter_cost(spatial: tuple[int, ...], ksize: tuple[int, ...], channels: int, extent: tuple[int, ...],
                 itemsize: int, steps: int, traces: int = 1) -> None:
    """Refuse, with the numbers and what to change, a trace whose work or memory is too big.

    The canvas and its count map; the whole scatter's multiply-adds; the cell writes recorded for
    the ``steps`` drawn steps (a Python record each) and their canvas copies: all before any work.
    ``traces``: how many such traces the caller keeps at once (one per output channel drawn); the
    recorded writes and the memory are counted for all of them.
    """
    traces = max(1, traces)
    each = "" if traces == 1 else f" in each of {traces} output channels"
    each_zh = "" if traces == 1 else f"（{traces} 个输出通道各画一遍）"
    taps, cells, size = math.prod(ksize), math.prod(spatial), math.prod(extent)
    check_bytes(traces * (size * (2 * itemsize + 8) + channels * (cells + taps) * 8),
                f"the {times_text(extent)} canvas and its count map" + each)
    ops = channels * cells * taps
    if ops > MAX_SCATTER_OPS:
        raise ConvtError(
            f"the scatter of a {times_text(spatial)} input ({channels} channel(s)) with a {times_text(ksize)} "
            "kernel is "
            f"{ops:.2e} multiply-adds, more than the {MAX_SCATTER_OPS:.0e} the step view computes; "
            "use a smaller input or kernel",
            zh=f"{times_text(spatial)} 的输入（{channels} 个通道）与 {times_text(ksize)} 的卷积核的散射需要 "
               f"{ops:.2e} 次乘加，"
               f"超过步骤视图的上限 {MAX_SCATTER_OPS:.0e}；请用更小的输入或卷积核",
        )
    writes = traces * steps * taps
    if writes > MAX_RECORDED_WRITES:
        fit = MAX_RECORDED_WRITES // (taps * traces)
        change = (f"use --max-steps {fit} or fewer" if fit else
                  "use --max-steps 0 to draw only the result, or a smaller kernel"
                  + (", or --channel to draw one output channel" if traces > 1 else ""))
        change_zh = (f"请把 --max-steps 设为 {fit} 或更少" if fit else
                     "请用 --max-steps 0 只画结果，或用更小的卷积核"
                     + ("，或用 --channel 只画一个输出通道" if traces > 1 else ""))
        raise ConvtError(
            f"drawing {steps} step(s) of a {times_text(ksize)} kernel{each} records {writes:,} cell writes (steps × "
            f"kernel taps), more than the {MAX_RECORDED_WRITES:,} the step view records; {change}",
            zh=f"画 {steps} 步、{times_text(ksize)} 的卷积核{each_zh}要记录 {writes:,} 次单元写入"
               "（步数 × 卷积核元素数），"
               f"超过步骤视图的上限 {MAX_RECORDED_WRITES:,}；{change_zh}",
        )
    per_step = traces * (size * itemsize + taps * (WRITE_BYTES + TERM_BYTES * (channels - 1)))
    other = traces * size * (2 * itemsize + 8)
    if steps and other + steps * per_step > max_bytes():
        fit = _fitting_steps(per_step, other, max_bytes())
        check_bytes(other + steps * per_step,
                    f"drawing {steps} step(s){each}, each keeping a copy of the {times_text(extent)} canvas "
                    f"({human_bytes(per_step)} per step),",
                    hint=f"use --max-steps {fit} or fewer", hint_zh=f"请把 --max-steps 设为 {fit} 或更少")


def _direct_scatter(xa: np.ndarray, ka: np.ndarray, stride: tuple[int, ...], dilation: tuple[int, ...],
                    extent: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
    """The whole canvas (no crop, no bias) by the scatter itself, vectorised along the longer side:
    one strided slice per kernel tap (each adding the whole input times that tap), or one per input
    position (each adding the whole kernel times that value), whichever makes fewer NumPy calls.
    Its cost is C · input cells · kernel taps multiply-adds, like PyTorch's, whatever the stride."""
    canvas = np.zeros(extent, dtype=dtype)
    xa, ka = xa.astype(dtype, copy=False), ka.astype(dtype, copy=False)
    with np.errstate(over="ignore", invalid="ignore"):  # inf/NaN from huge values are the answer
        _scatter_into(canvas, xa, ka, stride, dilation)
    return canvas


def _scatter_into(canvas: np.ndarray, xa: np.ndarray, ka: np.ndarray, stride: tuple[int, ...],
                  dilation: tuple[int, ...]) -> None:
    spatial, ksize = xa.shape[1:], ka.shape[1:]
    if math.prod(ksize) <= math.prod(spatial):
        for tap in np.ndindex(*ksize):
            window = tuple(slice(j * d, j * d + (n - 1) * s + 1, s)
                           for j, d, n, s in zip(tap, dilation, spatial, stride))
            canvas[window] += np.tensordot(ka[(slice(None),) + tap], xa, axes=(0, 0))
    else:
        for index in np.ndindex(*spatial):
            window = tuple(slice(i * s, i * s + (k - 1) * d + 1, d)
                           for i, s, k, d in zip(index, stride, ksize, dilation))
            canvas[window] += np.tensordot(xa[(slice(None),) + index], ka, axes=(0, 0))


def _write_counts(spatial: tuple[int, ...], ksize: tuple[int, ...], stride: tuple[int, ...],
                  dilation: tuple[int, ...], extent: tuple[int, ...]) -> np.ndarray:
    """Contributions per canvas cell: the product of the per-axis counts (the count map separates)."""
    counts = np.ones((), dtype=np.int64)
    for n, k, s, d, e in zip(spatial, ksize, stride, dilation, extent):
        axis = np.zeros(e, dtype=np.int64)
        for j in range(k):
            axis[j * d: j * d + (n - 1) * s + 1: s] += 1
        counts = np.multiply.outer(counts, axis)
    return counts


def exact_dtype(xa: np.ndarray, ka: np.ndarray, bias: float | None, max_count: int) -> np.dtype:
    """NumPy's result type, except that integers compute in int64; refused where the sums could pass it."""
    int_bias = abs(int(bias)) if isinstance(bias, (int, np.integer)) else 0  # a float bias makes a float output
    return exact_result_dtype((xa, ka), xa.shape[0] * max_count, int_bias)


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
    traces: int = 1,
) -> ScatterTrace:
    """Record the scatter, step by step. ``channels=True``: axis 0 of both arrays is C_in.

    Every cost (memory, multiply-adds, recorded writes) is checked by :func:`scatter_cost` first;
    ``traces`` says how many traces like this one the caller keeps at once (one per output channel).
    Integer inputs compute in int64 (exact), refused where a sum could pass int64.
    """
    xa, ka = read_pair(x, kernel, channels)
    nd = xa.ndim - 1
    params = ConvTransposeParams.make(nd, stride, padding, output_padding, dilation)
    spatial, ksize = xa.shape[1:], ka.shape[1:]
    out_spatial = output_shape(spatial, ksize, params)  # the size rule, before anything is computed
    full = tuple(canvas_size(i, k, s, d) for i, k, s, d in zip(spatial, ksize, params.stride, params.dilation))
    extent = tuple(max(f, p + o) for f, p, o in zip(full, params.padding, out_spatial))
    total = math.prod(spatial)
    limit = total if max_steps is None else max(0, min(max_steps, total))
    scatter_cost(spatial, ksize, xa.shape[0], extent, result_dtype(xa, ka).itemsize, limit, traces)
    write_counts = _write_counts(spatial, ksize, params.stride, params.dilation, extent)
    dtype = exact_dtype(xa, ka, bias, int(write_counts.max()))

    canvas = np.zeros(extent, dtype=dtype)
    counts = np.zeros(extent, dtype=np.int64)
    steps: list[Step] = []
    taps = list(itertools.product(*(range(k) for k in ksize))) if limit else []
    with np.errstate(over="ignore", invalid="ignore"):  # inf/NaN from huge values are the answer
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

    # The full canvas and the count map (every step, shown or not): no padding crops it, and
    # output_padding extends it by what the output reads past its last tap.
    canvas = _direct_scatter(xa, ka, params.stride, params.dilation, extent, dtype)

    crop = tuple(slice(p, p + o) for p, o in zip(params.padding, out_spatial))
    with np.errstate(over="ignore", invalid="ignore"):  # an overflow to inf is the IEEE answer, as in PyTorch
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
        write_counts=write_counts,
    )
