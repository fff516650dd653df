"""The layout of a heatmap figure (pure: no Pillow): 2-d maps of numbers, a colour per value from
one shared scale, the numbers written in the cells, and a colour bar with its ticks.

Generic: any 2-d array with a title and optional row/column labels (the contribution counts of
``convt show --heatmap``, the overlap maps of ``convt compare --heatmap``, a phase map).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..render.grid import format_number
from .geometry import AXIS, NOTE, SUBTITLE, TITLE, Box, Label, Measure, Metrics, wrap

# A light-to-dark sequential scale (ColorBrewer YlGnBu): darker means more, and luminance falls
# monotonically along it, so the colours order like the values even in grey.
SCALE = ((255, 255, 217), (199, 233, 180), (127, 205, 187), (65, 182, 196), (29, 145, 192), (34, 94, 168),
         (37, 52, 148), (8, 29, 88))
BAR_STEPS = 64
DARK_INK, LIGHT_INK = (25, 25, 25), (255, 255, 255)


def colour(value: float, lo: float, hi: float) -> tuple[int, int, int]:
    """The scale's colour for ``value`` in ``[lo, hi]`` (the middle of the scale when lo == hi)."""
    f = 0.5 if hi == lo else min(1.0, max(0.0, (value - lo) / (hi - lo)))
    pos = f * (len(SCALE) - 1)
    i = min(int(pos), len(SCALE) - 2)
    a, b = SCALE[i], SCALE[i + 1]
    u = pos - i
    return tuple(round(x + (y - x) * u) for x, y in zip(a, b))  # type: ignore[return-value]


def luminance(rgb: Sequence[int]) -> float:
    r, g, b = rgb
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def ink_for(fill: Sequence[int]) -> tuple[int, int, int]:
    return LIGHT_INK if luminance(fill) < 140 else DARK_INK


@dataclass(frozen=True)
class HeatMap:
    """One 2-d map to draw: ``title`` may hold several lines separated by newlines."""

    values: np.ndarray
    title: str = ""
    row_labels: Sequence[str] | None = None
    col_labels: Sequence[str] | None = None


@dataclass(frozen=True)
class HeatCell:
    box: Box
    text: str
    fill: tuple[int, int, int]
    ink: tuple[int, int, int]
    map: int  # which map; -1 for the colour bar
    index: tuple[int, ...]
    value: float


@dataclass(frozen=True)
class HeatmapLayout:
    width: int
    height: int
    font_px: int
    cells: tuple[HeatCell, ...]
    labels: tuple[Label, ...]
    lo: float
    hi: float

    def map_cells(self, k: int) -> list[HeatCell]:
        return [c for c in self.cells if c.map == k]


def _ticks(lo: float, hi: float) -> list[float]:
    if lo == hi:
        return [lo]
    if float(lo).is_integer() and float(hi).is_integer() and hi - lo <= 10:
        return [float(v) for v in range(int(lo), int(hi) + 1)]
    # Round ticks: a step of 1, 2 or 5 × 10ⁿ giving about four intervals, 0 among them when in range.
    span = hi - lo
    if not math.isfinite(span) or span <= 0:
        return [lo, hi]
    raw = span / 4
    mag = 10.0 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 5, 10) if m * mag >= raw)
    first = math.ceil(lo / step - 1e-9)
    ticks = [round(k * step, 12) for k in range(first, math.floor(hi / step + 1e-9) + 1)]
    return ticks if len(ticks) >= 2 else [lo, hi]


def heatmap_layout(maps: Sequence[HeatMap], *, title: str = "", notes: Sequence[str] = (), precision: int = 3,
                   font_px: int = 16, scale_label: str = "", measure: Measure | None = None) -> HeatmapLayout:
    """Maps side by side on one shared colour scale, then a vertical colour bar; ``notes`` below."""
    if not maps:
        raise ValueError("heatmap_layout needs at least one map")
    arrays = [np.asarray(m.values, dtype=np.float64) for m in maps]
    for a in arrays:
        if a.ndim != 2 or a.size == 0:
            raise ValueError(f"a heatmap needs a non-empty 2-d array, not shape {a.shape}")
    lo = min(float(a.min()) for a in arrays)
    hi = max(float(a.max()) for a in arrays)
    m = Metrics(font_px, measure)
    lab_px = round(font_px * 0.8)
    cells: list[HeatCell] = []
    labels: list[Label] = []
    y0 = m.margin
    title_w = 0
    for line in title.split("\n") if title else []:
        title_w = max(title_w, m.width(line, font_px))
        labels.append(Label(Box(m.margin, y0, m.margin + m.width(line, font_px), y0 + m.line_h), line, TITLE,
                            "left"))
        y0 += m.line_h
    if title:
        y0 += m.gap // 2
    x = m.margin
    bottom = y0
    head_lines = max(len(hm.title.split("\n")) if hm.title else 0 for hm in maps)
    for k, (hm, a) in enumerate(zip(maps, arrays)):
        texts = [format_number(v.item() if hasattr(v, "item") else v, precision) for v in np.asarray(hm.values).flat]
        cw = max(m.cell_h, m.widest(texts, font_px) + 2 * m.pad)
        if hm.col_labels is not None:
            cw = max(cw, m.widest(list(hm.col_labels), lab_px) + m.pad)
        ch = m.cell_h
        title_lines = hm.title.split("\n") if hm.title else []
        row_w = m.widest(list(hm.row_labels), lab_px) + m.pad if hm.row_labels is not None else 0
        width = max(row_w + a.shape[1] * cw, m.widest(title_lines, font_px))
        y = y0
        for line in title_lines:
            labels.append(Label(Box(x, y, x + m.width(line, font_px), y + m.line_h), line, SUBTITLE, "left"))
            y += m.line_h
        y = y0 + head_lines * m.line_h  # every map's grid starts at the same height
        if hm.col_labels is not None:
            for c, lab in enumerate(hm.col_labels):
                labels.append(Label(Box(x + row_w + c * cw, y, x + row_w + (c + 1) * cw, y + m.line_h), lab, AXIS))
            y += m.line_h
        flat = iter(texts)
        for r in range(a.shape[0]):
            if hm.row_labels is not None:
                labels.append(Label(Box(x, y + r * ch, x + row_w, y + (r + 1) * ch), hm.row_labels[r], AXIS))
            for c in range(a.shape[1]):
                fill = colour(a[r, c], lo, hi)
                cells.append(HeatCell(Box(x + row_w + c * cw, y + r * ch, x + row_w + (c + 1) * cw, y + (r + 1) * ch),
                                      next(flat), fill, ink_for(fill), k, (r, c), float(a[r, c])))
        bottom = max(bottom, y + a.shape[0] * ch)
        x += width + 2 * m.gap

    # The colour bar: BAR_STEPS slices from hi (top) to lo (bottom), ticks beside it.
    bar_w = m.px
    bar_top = y0 + m.line_h
    bar_h = max(bottom - bar_top, 6 * m.px)
    if scale_label:
        labels.append(Label(Box(x, y0, x + m.width(scale_label, lab_px), y0 + m.line_h), scale_label, SUBTITLE,
                            "left"))
    for i in range(BAR_STEPS):
        v = hi - (hi - lo) * (i + 0.5) / BAR_STEPS
        fill = colour(v, lo, hi)
        top = bar_top + bar_h * i // BAR_STEPS
        cells.append(HeatCell(Box(x, top, x + bar_w, bar_top + bar_h * (i + 1) // BAR_STEPS), "", fill, fill, -1,
                              (i,), v))
    tick_w = 0
    for v in _ticks(lo, hi):
        f = 0.5 if hi == lo else (hi - v) / (hi - lo)
        ty = bar_top + round(f * bar_h)
        text = format_number(v, precision)
        tick_w = max(tick_w, m.width(text, lab_px))
        labels.append(Label(Box(x + bar_w + m.pad, ty - m.line_h // 2, x + bar_w + m.pad + m.width(text, lab_px),
                                ty + m.line_h // 2), text, AXIS, "left"))
    width = x + bar_w + m.pad + max(tick_w, m.width(scale_label, lab_px) - bar_w - m.pad) + m.margin
    width = max(width, title_w + 2 * m.margin)
    y = max(bottom, bar_top + bar_h) + m.gap
    room = max(width - 2 * m.margin, 40 * m.px)
    for note in [line for text in notes for line in wrap(text, room, m, font_px)]:
        labels.append(Label(Box(m.margin, y, m.margin + m.width(note, font_px), y + m.line_h), note, NOTE, "left"))
        width = max(width, 2 * m.margin + m.width(note, font_px))
        y += m.line_h
    return HeatmapLayout(width, y + m.margin, font_px, tuple(cells), tuple(labels), lo, hi)
