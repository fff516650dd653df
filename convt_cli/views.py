"""The gather and matrix views of a transposed convolution, as plain records (pure: no printing).

Both reach the same output as the scatter (``engine.conv_transpose``), from another side
(docs/semantics.md §1):

- gather: insert ``stride-1`` zeros between input elements, pad both ends with
  ``dilation*(k-1) - padding`` zeros (plus ``output_padding`` at the far end; a negative pad crops),
  then slide the kernel rotated by 180° over it (stride 1, same dilation);
- matrix: the ordinary convolution that maps the output space back to the input space is a matrix
  ``C`` (``n_in × n_out``); the transposed convolution is ``out = Cᵀ·x``.

Inputs follow :func:`convt_cli.steps.trace_scatter`: a single-channel input ``(*S)`` with kernel
``(*k)``, or with ``channels=True`` an input ``(C, *S)`` and kernel ``(C, *k)`` summed over C into one
output channel. Never imports Rich or torch.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np

from .engine import result_dtype
from .errors import ConvtError
from .limits import check_bytes
from .shapes import ConvTransposeParams, output_shape
from .steps import MAX_RECORDED_WRITES, MAX_SCATTER_OPS, StepRecord, exact_dtype, read_pair, times_text

# The matrix view is for sizes that fit on a screen: at most this many entries in C.
MATRIX_MAX_CELLS = 1024
MATRIX_MAX_INPUTS = 32  # rows of C (input elements, all channels)

GATHER_STEP_TAP_BYTES = 300  # one tap of a recorded GatherStep (window position, terms); measured ~230
GATHER_TERM_BYTES = 130  # each further channel term (measured ~110)

# Kinds of cells in the gather view's padded input.
PAD, INSERTED, ELEMENT = 0, 1, 2


def _normalise(x: object, kernel: object, channels: bool, params: dict) -> tuple[np.ndarray, np.ndarray,
                                                                                 ConvTransposeParams]:
    xa, ka = read_pair(x, kernel, channels)
    nd = xa.ndim - 1
    p = ConvTransposeParams.make(nd, params.get("stride", 1), params.get("padding", 0),
                                 params.get("output_padding", 0), params.get("dilation", 1))
    return xa, ka, p


@dataclass(frozen=True)
class GatherStep:
    """One output cell of the gather view: the rotated kernel laid over the padded input."""

    number: int  # 1-based
    index: tuple[int, ...]  # output position
    window: tuple[tuple[int, ...], ...]  # padded-input positions read, one per kernel tap (row-major)
    terms: tuple[tuple[tuple[float, float], ...], ...]  # per tap: (padded value, rotated kernel value) per channel
    value: float  # the output value (bias included)


@dataclass(frozen=True)
class GatherView(StepRecord):
    input: np.ndarray  # (C, *S)
    kernel: np.ndarray  # (C, *k)
    params: ConvTransposeParams
    bias: float
    zero_inserted: np.ndarray  # (C, *((S-1)*stride + 1))
    pad_before: tuple[int, ...]  # dilation*(k-1) - padding (negative: that many positions cropped)
    pad_after: tuple[int, ...]  # pad_before + output_padding
    padded: np.ndarray  # (C, *P), P = out + dilation*(k-1)
    kinds: np.ndarray  # (*P): ELEMENT, INSERTED (a stride zero) or PAD
    rotated: np.ndarray  # (C, *k): the kernel rotated 180° (flipped along every spatial axis)
    steps: tuple[GatherStep, ...]  # the first max_steps output cells
    total_steps: int
    output: np.ndarray  # (*out), bias included


def gather_view(
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
) -> GatherView:
    """Record the gather view; the output is computed here, by the gather, not by the engine."""
    xa, ka, params = _normalise(x, kernel, channels,
                                {"stride": stride, "padding": padding, "output_padding": output_padding,
                                 "dilation": dilation})
    spatial, ksize = xa.shape[1:], ka.shape[1:]
    out = output_shape(spatial, ksize, params)
    c = xa.shape[0]
    taps, cells = math.prod(ksize), math.prod(out)
    total = cells
    limit = total if max_steps is None else max(0, min(max_steps, total))
    _gather_cost(ksize, out, c, limit)
    max_terms = c * math.prod(min(k, i) for k, i in zip(ksize, spatial))
    dtype = exact_dtype(xa, ka, bias, max_terms // c)
    if bias is not None:
        dtype = np.result_type(dtype, np.asarray(bias))
    inserted_shape = tuple((i - 1) * s + 1 for i, s in zip(spatial, params.stride))
    before = tuple(d * (k - 1) - p for d, k, p in zip(params.dilation, ksize, params.padding))
    after = tuple(b + op for b, op in zip(before, params.output_padding))
    padded_shape = tuple(o + d * (k - 1) for o, d, k in zip(out, params.dilation, ksize))
    check_bytes(c * (math.prod(inserted_shape) + math.prod(padded_shape)) * dtype.itemsize
                + math.prod(padded_shape) + math.prod(out) * dtype.itemsize
                + limit * taps * (GATHER_STEP_TAP_BYTES + GATHER_TERM_BYTES * (c - 1)),
                "the gather view's padded input and recorded steps")

    zi = np.zeros((c,) + inserted_shape, dtype=dtype)
    zi[(slice(None),) + tuple(slice(None, None, s) for s in params.stride)] = xa
    kinds_zi = np.full(inserted_shape, INSERTED, dtype=np.int8)
    kinds_zi[tuple(slice(None, None, s) for s in params.stride)] = ELEMENT

    # padded[q] = zero_inserted[q - before] where that index exists, else a padding zero.
    padded = np.zeros((c,) + padded_shape, dtype=dtype)
    kinds = np.full(padded_shape, PAD, dtype=np.int8)
    dst, src = [], []
    for b, n_zi, n_p in zip(before, inserted_shape, padded_shape):
        lo, hi = max(0, b), min(n_p, b + n_zi)
        if hi <= lo:
            lo = hi = 0
        dst.append(slice(lo, hi))
        src.append(slice(lo - b, hi - b) if hi > lo else slice(0, 0))
    padded[(slice(None),) + tuple(dst)] = zi[(slice(None),) + tuple(src)]
    kinds[tuple(dst)] = kinds_zi[tuple(src)]

    rotated = ka[(slice(None),) + (slice(None, None, -1),) * len(ksize)].astype(dtype, copy=False)
    output = np.zeros(out, dtype=dtype)
    taps = list(itertools.product(*(range(k) for k in ksize)))
    for tap in taps:
        window = tuple(slice(j * d, j * d + o) for j, d, o in zip(tap, params.dilation, out))
        output += np.einsum("c...,c->...", padded[(slice(None),) + window], rotated[(slice(None),) + tap])
    if bias is not None:
        output = output + np.asarray(bias, dtype=dtype)

    steps = []
    for number, index in enumerate(itertools.islice(itertools.product(*(range(o) for o in out)), limit), start=1):
        window = tuple(tuple(i + j * d for i, j, d in zip(index, tap, params.dilation)) for tap in taps)
        terms = tuple(
            tuple(zip(padded[(slice(None),) + pos].tolist(), rotated[(slice(None),) + tap].tolist()))
            for pos, tap in zip(window, taps)
        )
        steps.append(GatherStep(number, index, window, terms, output[index].item()))
    return GatherView(
        input=xa, kernel=ka, params=params, bias=0.0 if bias is None else bias, zero_inserted=zi,
        pad_before=before, pad_after=after, padded=padded, kinds=kinds, rotated=rotated, steps=tuple(steps),
        total_steps=total, output=output,
    )


def _gather_cost(ksize: tuple[int, ...], out: tuple[int, ...], channels: int, steps: int) -> None:
    """Refuse, before any work, a gather view whose multiply-adds or recorded terms are too many."""
    taps, cells = math.prod(ksize), math.prod(out)
    ops = taps * cells * channels
    if ops > MAX_SCATTER_OPS:
        raise ConvtError(
            f"the gather view lays the {times_text(ksize)} kernel over each of the {cells:,} output cells "
            f"({channels} channel(s)): {ops:.2e} multiply-adds, more than the {MAX_SCATTER_OPS:.0e} it computes; "
            "use --view scatter (it skips the inserted zeros) or a smaller input or kernel",
            zh=f"gather 视图要把 {times_text(ksize)} 的卷积核放到 {cells:,} 个输出单元上（{channels} 个通道）："
               f"{ops:.2e} 次乘加，"
               f"超过上限 {MAX_SCATTER_OPS:.0e}；请用 --view scatter（它跳过插入的零）或更小的输入、卷积核",
        )
    if steps * taps > MAX_RECORDED_WRITES:
        fit = MAX_RECORDED_WRITES // taps
        change = (f"use --max-steps {fit} or fewer" if fit else
                  "use --max-steps 0 to draw only the result, or a smaller kernel")
        change_zh = (f"请把 --max-steps 设为 {fit} 或更少" if fit else
                     "请用 --max-steps 0 只画结果，或用更小的卷积核")
        raise ConvtError(
            f"drawing {steps} gather step(s) of a {times_text(ksize)} kernel records {steps * taps:,} kernel taps, "
            f"more than the {MAX_RECORDED_WRITES:,} the gather view records; {change}",
            zh=f"画 {steps} 个 gather 步骤、{times_text(ksize)} 的卷积核要记录 {steps * taps:,} 个卷积核元素，"
               f"超过上限 {MAX_RECORDED_WRITES:,}；{change_zh}",
        )


@dataclass(frozen=True)
class MatrixView:
    input: np.ndarray  # (C, *S)
    kernel: np.ndarray  # (C, *k)
    params: ConvTransposeParams
    bias: float
    out_shape: tuple[int, ...]
    matrix: np.ndarray  # C: (C*prod(S), prod(out)); row r = input element (channel, position) in row-major order
    row_index: tuple[tuple[int, ...], ...]  # (channel, *position) of each row of C
    col_index: tuple[tuple[int, ...], ...]  # output position of each column of C
    x_flat: np.ndarray  # (C*prod(S),)
    out_flat: np.ndarray  # Cᵀ·x (+ bias), (prod(out),)

    @property
    def output(self) -> np.ndarray:
        return self.out_flat.reshape(self.out_shape)


def matrix_view(
    x: object,
    kernel: object,
    *,
    stride: object = 1,
    padding: object = 0,
    output_padding: object = 0,
    dilation: object = 1,
    bias: float | None = None,
    channels: bool = False,
) -> MatrixView:
    """Build C and compute ``Cᵀ·x``; refuses (ConvtError) sizes beyond the screen-sized limit."""
    xa, ka, params = _normalise(x, kernel, channels,
                                {"stride": stride, "padding": padding, "output_padding": output_padding,
                                 "dilation": dilation})
    c = xa.shape[0]
    spatial, ksize = xa.shape[1:], ka.shape[1:]
    out = output_shape(spatial, ksize, params)
    rows, cols = c * math.prod(spatial), math.prod(out)
    if rows * cols > MATRIX_MAX_CELLS or rows > MATRIX_MAX_INPUTS:
        raise ConvtError(
            f"the matrix view needs a {rows}×{cols} matrix C ({rows * cols} entries); it is drawn only up to "
            f"{MATRIX_MAX_CELLS} entries and {MATRIX_MAX_INPUTS} input elements. Use a smaller input, "
            "or --view scatter or --view gather",
            zh=f"矩阵视图需要 {rows}×{cols} 的矩阵 C（{rows * cols} 个元素）；最多只画 {MATRIX_MAX_CELLS} 个元素、"
               f"{MATRIX_MAX_INPUTS} 个输入元素。请用更小的输入，或 --view scatter / --view gather",
        )
    dtype = result_dtype(xa, ka) if bias is None else result_dtype(xa, ka, np.asarray(bias))
    if dtype.kind in "iu":  # integers compute in int64, refused where a sum could pass it
        dtype = exact_dtype(xa, ka, bias, math.prod(min(k, i) for k, i in zip(ksize, spatial)))
    matrix = np.zeros((rows, cols), dtype=dtype)
    col_index = tuple(itertools.product(*(range(o) for o in out)))
    row_index = tuple((ch,) + pos for ch in range(c) for pos in itertools.product(*(range(i) for i in spatial)))
    # Every tap of a row at once (rows ≤ MATRIX_MAX_INPUTS; a kernel may still be large): the output
    # position of tap j from input position i is i*stride + j*dilation - padding.
    tap_index = np.indices(ksize).reshape(len(ksize), -1)
    offsets = tap_index * np.array(params.dilation)[:, None] - np.array(params.padding)[:, None]
    for r, (ch, *pos) in enumerate(row_index):
        o = offsets + (np.array(pos) * np.array(params.stride))[:, None]
        inside = np.all((o >= 0) & (o < np.array(out)[:, None]), axis=0)
        if inside.any():
            flat = np.ravel_multi_index(tuple(o[:, inside]), out)
            np.add.at(matrix[r], flat, ka[ch].reshape(-1)[inside].astype(dtype, copy=False))
    x_flat = xa.reshape(-1).astype(dtype, copy=False)
    out_flat = matrix.T @ x_flat
    if bias is not None:
        out_flat = out_flat + np.asarray(bias, dtype=dtype)
    return MatrixView(input=xa, kernel=ka, params=params, bias=0.0 if bias is None else bias, out_shape=out,
                      matrix=matrix, row_index=row_index, col_index=col_index, x_flat=x_flat, out_flat=out_flat)
