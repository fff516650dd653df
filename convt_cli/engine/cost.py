"""The cost model: which way of computing the phases is cheapest, from the layer's numbers alone.

``_mode`` picks "gemm", "im2col" or "depthwise" (``_costs`` prices the first two per image and
group in elements moved, BLAS's multiply-adds weighted by ``_efficiency``); ``_direct_cheaper``
says when the literal scatter (:func:`.literal._scatter_direct`) beats the phases, and
``_grid_dwarfs_input`` says so before any plan is built (a kernel much larger than the input). Reads the
runner's chunk size ``_BLOCK`` (defined in :mod:`.runner`; a test that changes it patches both).
"""

from __future__ import annotations

import math

from ..shapes import ConvTransposeParams, TensorShapes
from .literal import canvas_extent
from .plan import _axis_layouts, _Plan
from .runner import _BLOCK

_DIRECT_ABOVE = 8  # padded phase grid / input positions above which the literal scatter is cheaper


def _grid_dwarfs_input(shapes: TensorShapes, params: ConvTransposeParams) -> bool:
    """The phases run on a grid of the input padded by the kernel's span; when that grid is many times
    the input (a kernel much larger than the input), scattering each input element — positions × taps,
    as PyTorch's col2im — is cheaper than grid × taps, and the per-tap plan is not worth building."""
    grid = math.prod(pitch for _, _, pitch in _axis_layouts(shapes, params))
    return grid > _DIRECT_ABOVE * math.prod(shapes.spatial)


def _mode(cig: int, cog: int, plan: _Plan) -> str:
    """The cost model: per image and group, the multiply-adds each way (weighted by how well BLAS
    does with that GEMM's reduction and row count) plus the elements it moves through memory.

    "gemm": one GEMM for every tap (rows C_out/groups * taps, reduction C_in/groups), then each
    phase's taps summed from the product; "im2col": each phase's shifted input windows stacked
    (reduction taps * C_in/groups) and one GEMM per phase straight to that phase's output;
    "depthwise" (C_in/groups == 1, C_out/groups <= 2): broadcast multiply-adds, no GEMM.
    """
    if cig == 1 and cog <= 2:
        return "depthwise"
    costs = _costs(cig, cog, plan)
    return "im2col" if costs["im2col"] < costs["gemm"] else "gemm"


def _costs(cig: int, cog: int, plan: _Plan) -> dict[str, float]:
    """Per image and group, in elements moved: see :func:`_mode`."""
    counts = [len(ph.taps) for ph in plan.phases] or [1]
    k_all = max(1, plan.taps)
    phases = len(counts)
    gemm = (k_all * cog * cig / (_MACS_PER_ELEMENT * _efficiency(k_all * cog, cig))
            + cog * (k_all + sum(counts) + 2 * sum(max(0, t - 1) for t in counts)))
    im2col = (sum(t * cog * cig / (_MACS_PER_ELEMENT * _efficiency(cog, t * cig)) for t in counts)
              + 3 * cig * sum(t for t in counts if t > 1) + 2 * cog * phases)
    return {"gemm": gemm * plan.block, "im2col": im2col * plan.block}


def _direct_cheaper(shapes: TensorShapes, params: ConvTransposeParams, plan: _Plan, cig: int, cog: int) -> bool:
    """The literal scatter (:func:`_scatter_direct`) instead of the phases, when the cost model
    prices it lower (the phases work on a padded grid, which for a few input positions and a wide
    kernel is mostly padding) and its canvas and all-taps product stay near the output's size."""
    taps, positions = plan.taps, math.prod(shapes.spatial)
    canvas = math.prod(canvas_extent(shapes, params))
    if taps * positions + canvas > 2 * math.prod(shapes.out_spatial) + _BLOCK // max(1, shapes.batch * cog):
        return False
    # product written and read, then a strided read-modify-write per tap (counted double: strided)
    direct = (taps * cog * cig * positions / (_MACS_PER_ELEMENT * _efficiency(taps * cog, cig))
              + cog * (6 * taps * positions + 2 * canvas))
    return 2 * direct < min(_costs(cig, cog, plan).values())  # only a clear win: its adds are strided


_MACS_PER_ELEMENT = 8  # BLAS multiply-adds per element moved by a memory-bound pass, same time (measured ~6-12)


def _efficiency(rows: int, reduction: int) -> float:
    """BLAS's speed on a GEMM with this many rows and this reduction, relative to a large one."""
    return min(1.0, reduction / 48) * min(1.0, rows / 16)
