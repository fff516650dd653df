"""The phase plan: which taps reach which output phase, and the flat zero-padded input they read.

Pure geometry, computed once per (shapes, params) and cached: ``_plan`` lists every output phase
(its strided output positions, its taps and each tap's flat offset into the padded input);
``_flat_input`` lays the input out at the plan's pitch. The runner (:mod:`.runner`) computes the
phases; the cost model (:mod:`.cost`) prices them.
"""

from __future__ import annotations

import functools
import itertools
import math
from dataclasses import dataclass

import numpy as np

from ..shapes import ConvTransposeParams, TensorShapes

# ----------------------------------------------------------------------------------------------
# The computation. Output position o (canvas position c = o + padding) of phase r = o mod stride
# only receives the taps j with (r + padding - j*dilation) ≡ 0 (mod stride), each from input
# index i = m + t_j where o = r + m*stride and t_j = (r + padding - j*dilation) / stride. So every
# phase is a small dense correlation of the input with a fixed subset of taps. The input is laid
# out once, zero-padded, as (groups, C_in/groups, N * block) with each image padded to a fixed
# pitch per dim; a tap's shift then becomes one flat offset, and every window the computation reads
# is a contiguous run (the padding makes out-of-range reads land on zeros). Each phase is computed
# densely on that flat grid, the bias added there, and copied once into its strided output
# positions. Positions of the grid that are not output positions are computed and discarded.
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Phase:
    index: tuple[slice, ...]  # this phase's output positions, per spatial dim
    sizes: tuple[int, ...]  # how many per dim
    taps: tuple[int, ...]  # flat kernel taps (C order) that reach this phase
    offsets: tuple[int, ...]  # per tap: its flat offset into the padded input


@dataclass(frozen=True)
class _Plan:
    pitch: tuple[int, ...]  # padded size of each spatial dim in the flat layout
    lead: tuple[int, ...]  # zeros before the input in each dim
    block: int  # prod(pitch): one image
    length: int  # N * block: the flat grid every phase is computed on
    x_len: int  # length + the largest offset: the padded input per channel
    copy_free: bool  # the input itself is the flat layout (N == 1, no padding, no offsets)
    phases: tuple[_Phase, ...]
    gaps: bool  # some output phases receive no tap: bias (or zero) only
    taps: int = 1  # prod(kernel): the all-taps GEMM computes every one, reached or not
    spatial: tuple[int, ...] = ()  # the input's spatial size


def _axis_phases(i: int, k: int, s: int, p: int, d: int, o: int) -> list[tuple[int, int, list[tuple[int, int]]]]:
    """The output phases r of one dim that some tap reaches: (r, count, [(tap j, input offset t_j)]).

    Tap j reaches phase r = (j*d - p) mod s (one phase per tap), so this costs O(k) whatever the stride;
    phases no tap reaches (a stride larger than the kernel's span) are not listed."""
    by_phase: dict[int, list[tuple[int, int]]] = {}
    for j in range(k):
        r = (j * d - p) % s
        if r >= o:
            continue
        m = (o - r + s - 1) // s
        t = (r + p - j * d) // s
        if t + m - 1 >= 0 and t <= i - 1:
            by_phase.setdefault(r, []).append((j, t))
    return [(r, (o - r + s - 1) // s, taps) for r, taps in sorted(by_phase.items())]


@functools.lru_cache(maxsize=1024)
def _axis_layout(i: int, k: int, s: int, p: int, d: int, o: int) -> tuple[list, int, int]:
    """One dim of the flat layout: its reached phases, the zeros before the input and the padded pitch."""
    ph = _axis_phases(i, k, s, p, d, o)
    ts = [(m, t) for _, m, taps in ph for _, t in taps]
    lo = max([0] + [-t for _, t in ts])
    hi = max([0] + [m - 1 + t - (i - 1) for m, t in ts])
    return ph, lo, max([i + max(lo, hi)] + [m for _, m, _ in ph])


def _axis_layouts(shapes: TensorShapes, params: ConvTransposeParams) -> list[tuple[list, int, int]]:
    return [_axis_layout(*dims) for dims in zip(shapes.spatial, shapes.kernel, params.stride, params.padding,
                                                 params.dilation, shapes.out_spatial)]


@functools.lru_cache(maxsize=256)
def _plan(shapes: TensorShapes, params: ConvTransposeParams) -> _Plan:
    layouts = _axis_layouts(shapes, params)
    axes = [ph for ph, _, _ in layouts]
    leads = [lo for _, lo, _ in layouts]
    pitches = [pitch for _, _, pitch in layouts]
    strides = [math.prod(pitches[a + 1:]) for a in range(len(pitches))]
    phases = []
    for combo in itertools.product(*axes):
        index = tuple(slice(r, None, s) for (r, _, _), s in zip(combo, params.stride))
        flat_taps, offsets = [], []
        for tap in itertools.product(*(taps for _, _, taps in combo)):
            flat_taps.append(int(np.ravel_multi_index(tuple(j for j, _ in tap), shapes.kernel)))
            offsets.append(sum((t + lo) * st for (_, t), lo, st in zip(tap, leads, strides)))
        phases.append(_Phase(index, tuple(m for _, m, _ in combo), tuple(flat_taps), tuple(offsets)))
    block = math.prod(pitches)
    length = shapes.batch * block
    max_off = max((off for ph in phases for off in ph.offsets), default=0)
    copy_free = shapes.batch == 1 and max_off == 0 and tuple(pitches) == shapes.spatial
    return _Plan(
        pitch=tuple(pitches), lead=tuple(leads), block=block, length=length, x_len=length + max_off,
        copy_free=copy_free, phases=tuple(phases), taps=math.prod(shapes.kernel), spatial=shapes.spatial,
        gaps=any(len(ph) < min(s, o) for ph, s, o in zip(axes, params.stride, shapes.out_spatial)),
    )


def _flat_input(x: np.ndarray, plan: _Plan, g: int, cig: int, dtype: np.dtype) -> np.ndarray:
    """The input as (groups, C_in/groups, x_len): zero-padded images at the plan's pitch, batch inside."""
    n = x.shape[0]
    if plan.copy_free:
        return x.astype(dtype, copy=False).reshape(g, cig, plan.x_len)
    flat = np.zeros((g, cig, plan.x_len), dtype=dtype)
    grid = flat[:, :, : plan.length].reshape((g, cig, n) + plan.pitch)
    inner = tuple(slice(lo, lo + i) for lo, i in zip(plan.lead, x.shape[2:]))
    src = x.reshape((n, g, cig) + x.shape[2:])
    np.copyto(grid[(slice(None),) * 3 + inner], np.moveaxis(src, 0, 2), casting="unsafe")
    return flat
