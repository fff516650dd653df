"""Panels of grids laid out in pixels (pure: no Pillow): a grid's cell boxes and axis labels, titled
panels flowed into rows with separators, and the :class:`Frame` record a drawer paints.

Every frame built from one arrangement shares its geometry: a cell's box depends on the widest text
*any* frame puts in that panel, never on one frame's text.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from ..i18n import t
from ..render.show_common import CROP_MARK, OP_MARK
from .geometry import AXIS, AXIS_CROP, AXIS_OP, NOTE, SEPARATOR, SUBTITLE, TITLE, Box, Cell, Label, Metrics


@dataclass
class GridSpec:
    """One grid of a panel: its shape, optional axis labels per dim and a subtitle."""

    shape: tuple[int, ...]
    key: tuple[int, ...] = ()  # prefixed to every cell index (the channel of per-channel grids)
    labels: Sequence[Sequence[str] | None] | None = None
    subtitle: str | None = None


@dataclass
class PanelSpec:
    """A titled panel of grids; ``titles`` and ``contents`` hold one entry per frame it appears in."""

    name: str
    grids: list[GridSpec]
    titles: list[str]
    contents: list[Callable[[GridSpec, tuple[int, ...]], tuple[str, str]]]


@dataclass
class _Placed:
    """A panel laid out at the origin: cell boxes per (grid key + index), static labels, size."""

    cells: dict[tuple[int, ...], Box]
    labels: list[Label]
    title_box: Box
    width: int
    height: int
    body_top: int


@dataclass(frozen=True)
class Frame:
    width: int
    height: int
    font_px: int
    cells: tuple[Cell, ...]
    labels: tuple[Label, ...]
    panels: dict = field(hash=False, compare=False)  # panel name → Box
    step: int | None  # the step number, None for the final frame
    duration_ms: int

    def cell(self, panel: str, index: tuple[int, ...]) -> Cell:
        for c in self.cells:
            if c.panel == panel and c.index == index:
                return c
        raise KeyError((panel, index))

    def panel_cells(self, panel: str) -> list[Cell]:
        return [c for c in self.cells if c.panel == panel]


def _axis_role(text: str) -> str:
    if text == CROP_MARK:
        return AXIS_CROP
    return AXIS_OP if text.endswith(OP_MARK) else AXIS


def _grid_geometry(g: GridSpec, cw: int, m: Metrics, lang: str) -> tuple[dict, list[Label], int, int]:
    """Cell boxes and axis labels of one grid at the origin: 1-d one row, 2-d a grid, 3-d slices side by side."""
    shape = g.shape
    nd = len(shape)
    ch = m.cell_h
    if nd == 1:
        slices = [(None, 1, shape[0])]
    elif nd == 2:
        slices = [(None, shape[0], shape[1])]
    else:
        slices = [(z, shape[1], shape[2]) for z in range(shape[0])]
    labels = g.labels
    row_labels = labels[-2] if labels and nd >= 2 else None
    col_labels = labels[-1] if labels else None
    lab_px = max(8, round(m.px * 0.8))
    row_w = m.widest(list(row_labels), lab_px) + m.pad if row_labels is not None else 0
    top = (m.line_h if nd == 3 else 0) + (m.line_h if col_labels is not None else 0)
    boxes: dict[tuple[int, ...], Box] = {}
    out: list[Label] = []
    x = 0
    rows = 1
    for z, rows, cols in slices:
        x0 = x + row_w
        if z is not None:
            text = t("show.depth", lang, z=z)
            if labels and labels[0] is not None and labels[0][z] != str(z):
                text += f" [{labels[0][z]}]"
            out.append(Label(Box(x0, 0, x0 + max(cols * cw, m.width(text, lab_px)), m.line_h), text, SUBTITLE,
                             "left"))
        if col_labels is not None:
            for c in range(cols):
                out.append(Label(Box(x0 + c * cw, top - m.line_h, x0 + (c + 1) * cw, top), col_labels[c],
                                 _axis_role(col_labels[c])))
        if row_labels is not None:
            for r in range(rows):
                out.append(Label(Box(x, top + r * ch, x0, top + (r + 1) * ch), row_labels[r],
                                 _axis_role(row_labels[r])))
        for r in range(rows):
            for c in range(cols):
                index = (c,) if nd == 1 else (r, c) if nd == 2 else (z, r, c)
                boxes[g.key + index] = Box(x0 + c * cw, top + r * ch, x0 + (c + 1) * cw, top + (r + 1) * ch)
        x = x0 + cols * cw + m.gap
    return boxes, out, x - m.gap, top + rows * ch


def _all_indices(shape: tuple[int, ...]) -> list[tuple[int, ...]]:
    return [tuple(int(v) for v in i) for i in np.ndindex(*shape)]


def _place_panel(spec: PanelSpec, m: Metrics, lang: str) -> _Placed:
    """Lay a panel out once for all its frames: the cell width fits the widest text any frame puts there."""
    texts = [spec.contents[f](g, i)[0] for f in range(len(spec.contents)) for g in spec.grids
             for i in _all_indices(g.shape)]
    cw = max(m.cell_h, m.widest(texts, m.px) + 2 * m.pad)
    title_w = m.widest(spec.titles, m.px)
    y = m.line_h + m.pad // 2
    cells: dict[tuple[int, ...], Box] = {}
    labels: list[Label] = []
    width = title_w
    body_top = y
    for g in spec.grids:
        if g.subtitle:
            labels.append(Label(Box(0, y, m.width(g.subtitle, m.px), y + m.line_h), g.subtitle, SUBTITLE, "left"))
            width = max(width, m.width(g.subtitle, m.px))
            y += m.line_h
        boxes, labs, w, h = _grid_geometry(g, cw, m, lang)
        cells.update({k: b.shifted(0, y) for k, b in boxes.items()})
        labels.extend(Label(lab.box.shifted(0, y), lab.text, lab.role, lab.align) for lab in labs)
        width = max(width, w)
        y += h + m.gap
    return _Placed(cells, labels, Box(0, 0, title_w, m.line_h), width, y - m.gap, body_top)


@dataclass
class _Row:
    items: list[tuple[str, PanelSpec, _Placed]]
    width: int = 0
    height: int = 0


def _flow(items: list[tuple[str, PanelSpec]], m: Metrics, max_width: int, lang: str) -> list[_Row]:
    """Panels left to right with separators between them, wrapping onto a new row (which then starts
    with its separator) when ``max_width`` runs out."""
    rows: list[_Row] = [_Row([])]
    for sep, spec in items:
        placed = _place_panel(spec, m, lang)
        extra = (m.sep_w if sep else 0) + placed.width
        row = rows[-1]
        if row.items and row.width + m.gap + extra > max_width:
            row = _Row([])
            rows.append(row)
        row.width += (m.gap if row.items else 0) + extra
        row.height = max(row.height, placed.height)
        row.items.append((sep, spec, placed))
    return rows


@dataclass
class Arrangement:
    """Where each panel sits: panel name → (placed panel, offset), plus separators and the size."""

    panels: dict[str, tuple[PanelSpec, _Placed, int, int]]
    separators: list[Label]
    width: int
    body_bottom: int


def arrange(items: list[tuple[str, PanelSpec]], m: Metrics, max_width: int, lang: str, top: int) -> Arrangement:
    panels: dict[str, tuple[PanelSpec, _Placed, int, int]] = {}
    seps: list[Label] = []
    y = top
    width = 0
    for row in _flow(items, m, max_width, lang):
        x = m.margin
        for sep, spec, placed in row.items:
            if x > m.margin:
                x += m.gap
            if sep:
                mid = y + placed.body_top + (placed.height - placed.body_top) // 2
                seps.append(Label(Box(x, mid - m.line_h // 2, x + m.sep_w, mid + m.line_h // 2), sep, SEPARATOR))
                x += m.sep_w
            panels[spec.name] = (spec, placed, x, y)
            x += placed.width
        width = max(width, x + m.margin)
        y += row.height + m.line_h
    return Arrangement(panels, seps, width, y - m.line_h)


def legend_lines(legend: Sequence[tuple[str, str, str]], m: Metrics, width: int, top: int
                  ) -> tuple[list[Cell], list[Label], int]:
    """Legend entries (a sample cell in its role's colours, then the words), wrapped to ``width``."""
    cells: list[Cell] = []
    labels: list[Label] = []
    x, y = m.margin, top
    for role, sample, text in legend:
        sw = m.width(sample, m.px) + 2 * m.pad
        tw = m.width(text, m.px)
        if x > m.margin and x + sw + m.pad + tw > width - m.margin:
            x, y = m.margin, y + m.cell_h + m.pad
        cells.append(Cell("legend", (len(cells),), Box(x, y, x + sw, y + m.cell_h), sample, role))
        labels.append(Label(Box(x + sw + m.pad, y, x + sw + m.pad + tw, y + m.cell_h), text, NOTE, "left"))
        x += sw + m.pad + tw + 2 * m.gap
    return cells, labels, (y + m.cell_h if legend else top)


def build_frame(geo: Arrangement, frame_no: int, title: str, notes: list[str], legend, m: Metrics,
                size: tuple[int, int], step: int | None, duration: int) -> Frame:
    cells: list[Cell] = []
    labels: list[Label] = [Label(Box(m.margin, m.margin, m.margin + m.width(title, m.px), m.margin + m.line_h),
                                 title, TITLE, "left")]
    boxes: dict[str, Box] = {}
    for name, (spec, placed, x, y) in geo.panels.items():
        boxes[name] = Box(x, y, x + placed.width, y + placed.height)
        ptitle = spec.titles[frame_no]
        labels.append(Label(Box(x, y, x + placed.title_box.width, y + m.line_h), ptitle, TITLE, "left"))
        labels.extend(Label(lab.box.shifted(x, y), lab.text, lab.role, lab.align) for lab in placed.labels)
        for g in spec.grids:
            for index in _all_indices(g.shape):
                text, role = spec.contents[frame_no](g, index)
                cells.append(Cell(name, g.key + index, placed.cells[g.key + index].shifted(x, y), text, role))
    labels.extend(geo.separators)
    y = geo.body_bottom + m.gap
    for note in notes:
        labels.append(Label(Box(m.margin, y, m.margin + m.width(note, m.px), y + m.line_h), note, NOTE, "left"))
        y += m.line_h
    if legend:
        lc, ll, _ = legend_lines(legend, m, size[0], y + m.gap)
        cells.extend(lc)
        labels.extend(ll)
    return Frame(size[0], size[1], m.px, tuple(cells), tuple(labels), boxes, step, duration)


