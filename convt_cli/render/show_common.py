"""Pieces shared by the renders of ``convt show``: labels, number text, box grids that fit the width.

Everything here only lays out what the records hold; nothing is computed that a record does not
already carry (apart from formatting).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from rich import box
from rich.cells import cell_len
from rich.console import Console, Group, RenderableType
from rich.measure import Measurement
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from ..i18n import t
from ..shapes import ConvTransposeParams
from . import show_labels  # noqa: F401 - puts the labels of convt show in the catalogue
from .grid import format_number
from .layout import formula_lines, prose_lines, signature_lines

STYLE_WRITE = "bold black on yellow"
STYLE_ACCUM = "bold white on magenta"
STYLE_CROP = "dim"
STYLE_OP = "cyan"
STYLE_ELEMENT = "bold"
STYLE_PAD = "dim"
STYLE_TITLE = "bold"
STYLE_OK = "bold green"
STYLE_BAD = "bold red"

COMPACT_MAX_ROWS = 48  # rows of one grid shown in the compact form
COMPACT_MAX_SLICES = 8  # depth slices of a 3-d grid shown in the compact form

CROP_MARK = "✂"
OP_MARK = "*"

DIM_NAMES = {1: ("L",), 2: ("H", "W"), 3: ("D", "H", "W")}


@dataclass(frozen=True)
class Style:
    """How a show render looks: language, number precision and the console width it must fit."""

    lang: str = "en"
    precision: int = 3
    width: int = 100


def prose(st: Style, text: str, style: str | None = None) -> Text:
    """A sentence wrapped to the width by :func:`prose_lines` (sizes like ``3×3 → 5×5`` kept whole)."""
    return Text("\n".join(prose_lines(text, st.width)), style=style or "")


def num(value: float | int, st: Style) -> str:
    return format_number(value, st.precision)


def factor(value: float | int, st: Style) -> str:
    """A number as a factor of a product: negatives in parentheses, ``3×(-1)``."""
    text = num(value, st)
    return f"({text})" if text.startswith("-") else text


def product_text(terms: Sequence[tuple[float, float]], st: Style) -> str:
    """``3×1`` for one channel, ``1×1+5×2`` for several."""
    return "+".join(f"{factor(a, st)}×{factor(b, st)}" for a, b in terms)


def pos_text(index: Sequence[int]) -> str:
    return ",".join(str(i) for i in index)


def shape_text(shape: Sequence[int]) -> str:
    return "×".join(str(s) for s in shape)


def per_dim_text(values: Sequence[int]) -> str:
    return str(values[0]) if len(set(values)) == 1 else "(" + ", ".join(map(str, values)) + ")"


def value_text(values: Sequence[float], st: Style) -> str:
    return num(values[0], st) if len(values) == 1 else "(" + ", ".join(num(v, st) for v in values) + ")"


def header(params: ConvTransposeParams, x_shape: Sequence[int], k_shape: Sequence[int],
           out_shape: Sequence[int], st: Style, *, c_in: int = 1, c_out: int = 1,
           bias: float | None = None, seed: int | None = None) -> RenderableType:
    """The module line, the shapes and the output-size formula filled in per dim."""
    nd = params.ndim
    parts = [f"{c_in}→{c_out}", f"kernel_size={per_dim_text(k_shape[-nd:])}", f"stride={per_dim_text(params.stride)}",
             f"padding={per_dim_text(params.padding)}", f"output_padding={per_dim_text(params.output_padding)}",
             f"dilation={per_dim_text(params.dilation)}"]
    if params.groups != 1:
        parts.append(f"groups={params.groups}")
    tail = "" if bias is None else f" + bias {num(bias, st)}"
    # Wrapped between whole parameters (never inside one), lines evened out: no lone "dilation=1)".
    module = "\n".join(signature_lines(f"ConvTranspose{nd}d", parts, st.width, tail))
    shapes_key = "show.input_line_channels" if len(k_shape) > nd else "show.input_line"
    lines: list[RenderableType] = [Text(module, style=STYLE_TITLE),
                                   Text(t(shapes_key, st.lang, x=shape_text(x_shape), k=shape_text(k_shape)))]
    if seed is not None:
        lines.append(Text(t("show.seed", st.lang, seed=seed)))
    lines.append(Text("\n".join(formula_lines(t("show.output_size", st.lang), st.width))))
    for name, i, k, s, p, op, d, o in zip(DIM_NAMES[nd], x_shape[-nd:], k_shape[-nd:], params.stride,
                                          params.padding, params.output_padding, params.dilation, out_shape):
        filled = f"{name}: ({i} − 1)×{s} − 2×{p} + {d}×({k} − 1) + {op} + 1 = {o}"
        lines.append(Text("\n".join(formula_lines(filled, st.width, lead="  "))))
    return Group(*lines)


def legend(st: Style, *, overlap: bool, crop: bool, output_padding: bool, dilation: bool = False) -> RenderableType:
    items: list[Text] = []
    sample_write = Text("a×b", style=STYLE_WRITE)
    sample_write.append(" " + t("show.legend_write", st.lang).split(" ", 1)[1])
    items.append(sample_write)
    if overlap:
        sample = Text("s+a×b", style=STYLE_ACCUM)
        sample.append(" " + t("show.legend_accum", st.lang).split(" ", 1)[1])
        items.append(sample)
    items.append(Text(t("show.legend_plain", st.lang)))
    if dilation:
        items.append(Text(t("show.legend_gap", st.lang)))
    if crop:
        items.append(Text(t("show.legend_crop", st.lang), style=STYLE_CROP))
    if output_padding:
        items.append(Text(t("show.legend_op", st.lang), style=STYLE_OP))
    if crop or output_padding:
        items.append(Text(t("show.legend_labels", st.lang)))
    # Each entry two spaces in, and so are its wrapped lines.
    lines: list[RenderableType] = [Text(t("show.legend", st.lang), style=STYLE_TITLE)]
    lines.extend(Padding(item, (0, 0, 0, 2), expand=False) for item in items)
    return Group(*lines)


# ----------------------------------------------------------------------------------------------- grids

CellFn = Callable[[tuple[int, ...]], "Text | str"]


def _box_table(rows: list[list[Text | str]], row_labels: Sequence[str] | None,
               col_labels: Sequence[str] | None, compact: bool) -> RenderableType:
    """A grid of cells. Boxed: labels sit outside the box (column labels above, row labels left)."""
    ncols = len(rows[0]) if rows else 0
    if compact:
        # Plain aligned text (cheap to lay out and measure, whatever the size): one space between columns.
        widths = [max([1] + [cell_len(str(row[c])) for row in rows]) for c in range(ncols)]
        if col_labels is not None:
            widths = [max(w, cell_len(lab)) for w, lab in zip(widths, col_labels)]
        lab_w = max([cell_len(x) for x in row_labels]) if row_labels is not None else 0
        out = Text(no_wrap=True, overflow="crop")
        lines: list[tuple[str, list[Text | str]]] = []
        if col_labels is not None:
            lines.append(("", list(col_labels)))
        lines.extend((row_labels[r] if row_labels is not None else "", row) for r, row in enumerate(rows))
        for n, (lab, row) in enumerate(lines):
            if n:
                out.append("\n")
            if row_labels is not None:
                out.append(lab.rjust(lab_w), style="dim")
            for c, value in enumerate(row):
                text = value if isinstance(value, Text) else Text(str(value))
                out.append(" " * (widths[c] - cell_len(text.plain) + 1))
                out.append_text(text)
        return out
    widths = [max([1] + [cell_len(str(row[c])) for row in rows]) for c in range(ncols)]
    if col_labels is not None:
        widths = [max(w, cell_len(lab)) for w, lab in zip(widths, col_labels)]
    table = Table(box=box.SQUARE, show_header=False, show_lines=True, padding=(0, 1), pad_edge=True,
                  collapse_padding=False)
    for w in widths:
        table.add_column("", justify="right", width=w, no_wrap=True)
    for row in rows:
        table.add_row(*row)
    if col_labels is None and row_labels is None:
        return table
    body: RenderableType = table
    if col_labels is not None:
        head = Text(" " + "".join(" " + lab.rjust(w) + "  " for lab, w in zip(col_labels, widths)).rstrip(),
                    style="dim", no_wrap=True)
        body = Group(head, table)
    if row_labels is None:
        return body
    lines = [""] * (2 if col_labels is not None else 1)
    for r, lab in enumerate(row_labels):
        lines.extend([lab, ""] if r < len(row_labels) - 1 else [lab])
    outer = Table.grid(padding=(0, 1, 0, 0))
    outer.add_column(justify="right", no_wrap=True)
    outer.add_column(no_wrap=True)
    outer.add_row(Text("\n".join(lines), style="dim", no_wrap=True), body)
    return outer


def _window(n: int, span: tuple[int, int] | None, limit: int) -> tuple[int, int]:
    """The indices ``[lo, hi)`` of one axis shown in the compact form: ``span`` when given, else from
    the start; at most ``limit`` long."""
    if span is None:
        return 0, min(n, limit)
    lo, hi = max(0, span[0]), min(n, span[1])
    return lo, min(hi, lo + limit)


def _slice_table(shape2: tuple[int, ...], cell: Callable[[int, int], Text | str], labels: tuple | None,
                 compact: bool, width: int, focus: tuple | None = None
                 ) -> tuple[RenderableType, tuple[tuple[int, int], tuple[int, int]] | None]:
    """One 2-d (or 1-row) table; in the compact form, rows and columns beyond what fits are left out.

    With ``focus`` (a ``(lo, hi)`` span or ``None`` per axis), the compact form shows a window around
    those cells, labelled with their indices, instead of the top-left corner. Returns the table and the
    rows/columns shown (``None`` when all of them are)."""
    nrows, ncols = shape2
    row_labels = list(labels[0]) if labels and labels[0] is not None else None
    col_labels = list(labels[1]) if labels and labels[1] is not None else None
    r0, r1, c0, c1 = 0, nrows, 0, ncols
    if compact:
        if focus is not None:
            # Indices as labels, so the window's offsets read off the grid.
            if row_labels is None and nrows > 1:
                row_labels = [str(r) for r in range(nrows)]
            if col_labels is None:
                col_labels = [str(c) for c in range(ncols)]
        r0, r1 = _window(nrows, focus[0] if focus else None, COMPACT_MAX_ROWS)
        c0, c_end = _window(ncols, focus[1] if focus else None, max(1, width // 2))
        texts = [[cell(r, c) for c in range(c0, c_end)] for r in range(r0, r1)]
        widths = [max(cell_len(str(row[c])) for row in texts) + 1 for c in range(c_end - c0)]
        if col_labels is not None:
            widths = [max(w, cell_len(lab) + 1) for w, lab in zip(widths, col_labels[c0:c_end])]
        budget = width - (max(cell_len(x) for x in row_labels[r0:r1]) + 1 if row_labels else 0) - 2
        used, shown_c = 0, 0
        for w in widths:
            if used + w > budget:
                break
            used += w
            shown_c += 1
        c1 = c0 + max(1, shown_c)
        rows = [row[:c1 - c0] for row in texts]
    else:
        rows = [[cell(r, c) for c in range(ncols)] for r in range(nrows)]
    table = _box_table(rows, row_labels[r0:r1] if row_labels else None,
                       col_labels[c0:c1] if col_labels else None, compact)
    cut = ((r0, r1), (c0, c1)) if (r0, r1, c0, c1) != (0, nrows, 0, ncols) else None
    return table, cut


def min_box_width(shape: Sequence[int]) -> int:
    """A lower bound on the width of the boxed form (each boxed column takes at least 4 characters)."""
    cols = shape[-1]
    one = 4 * cols + 1
    return one if len(shape) < 3 else shape[0] * one + 2 * (shape[0] - 1)


def grid(shape: Sequence[int], cell: CellFn, st: Style, *, title: str | None = None,
         labels: Sequence[Sequence[str] | None] | None = None, compact: bool = False,
         focus: Sequence[tuple[int, int]] | None = None) -> RenderableType:
    """An N-d (1, 2 or 3) array as box tables: 1-d one row, 2-d a grid, 3-d depth slices side by side.

    ``cell(index)`` gives each cell's text; ``labels`` optionally names each index along each dim
    (rows/columns get a label column/header; 3-d depth labels go into the slice titles). ``focus``
    (one ``(lo, hi)`` span per dim) is where the compact form looks: a window around those cells, with
    their indices, rather than the top-left corner and screens of blank cells.
    """
    shape = tuple(shape)
    nd = len(shape)
    head: list[RenderableType] = []
    parts: list[RenderableType] = []
    if not compact and min_box_width(shape) > st.width:
        # Certainly too wide for boxes: go compact now, without building (and measuring) a huge table.
        compact = True
        head.append(Text(t("show.compact", st.lang), style="dim"))
    if title:
        head.append(Text(title, style=STYLE_TITLE))
    cuts = []
    if nd == 1:
        table, cut = _slice_table((1, shape[0]), lambda r, c: cell((c,)),
                                  (None, labels[0]) if labels else None, compact, st.width,
                                  (None, focus[0]) if focus else None)
        parts.append(table)
        cuts.append((cut, (1, shape[0])))
    elif nd == 2:
        table, cut = _slice_table(shape, lambda r, c: cell((r, c)), tuple(labels) if labels else None,
                                  compact, st.width, tuple(focus) if focus else None)
        parts.append(table)
        cuts.append((cut, shape))
    else:
        slices: list[RenderableType] = []
        slice_widths: list[int] = []
        z0, z1 = _window(shape[0], focus[0] if focus else None, COMPACT_MAX_SLICES) if compact else (0, shape[0])
        depth = z1 - z0
        for z in range(z0, z1):
            lab = (labels[1], labels[2]) if labels else None
            table, cut = _slice_table(shape[1:], lambda r, c, z=z: cell((z, r, c)), lab, compact, st.width,
                                      tuple(focus[1:]) if focus else None)
            zlabel = t("show.depth", st.lang, z=z)
            if labels and labels[0] is not None and labels[0][z] != str(z):
                zlabel += f" [{labels[0][z]}]"
            slices.append(Group(Text(zlabel), table))
            if compact and isinstance(table, Text):
                slice_widths.append(max(cell_len(x) for x in (table.plain.split("\n") + [zlabel])))
            cuts.append((cut, shape[1:]))
        if compact:
            # Compact slices side by side while they fit the width, in as many rows as needed.
            rows_of: list[list[RenderableType]] = [[]]
            used = 0
            for piece, w in zip(slices, slice_widths or [st.width] * len(slices)):
                if rows_of[-1] and used + 2 + w > st.width:
                    rows_of.append([])
                    used = 0
                rows_of[-1].append(piece)
                used += (2 if used else 0) + w
            for pieces in rows_of:
                if len(pieces) == 1:
                    parts.append(pieces[0])
                    continue
                line = Table.grid(padding=(0, 2))
                for _ in pieces:
                    line.add_column(no_wrap=True)
                line.add_row(*pieces)
                parts.append(line)
            if depth < shape[0]:
                key = "show.truncated_depth" if focus is None else "show.window_depth"
                parts.append(Text(t(key, st.lang, z=depth, depth=shape[0], z0=z0, z1=z1 - 1), style="dim"))
        else:
            row = Table.grid(padding=(0, 2))
            for _ in slices:
                row.add_column()
            row.add_row(*slices)
            parts.append(row)
    if compact:
        for cut, full in cuts:
            if cut is not None:
                (r0, r1), (c0, c1) = cut
                if focus is None:
                    note = t("show.truncated", st.lang, r=r1, rows=full[0], c=c1, cols=full[1])
                elif len(full) == 1 or full[0] == 1:
                    note = t("show.window_cols", st.lang, c0=c0, c1=c1 - 1, cols=full[-1])
                else:
                    note = t("show.window", st.lang, r0=r0, r1=r1 - 1, c0=c0, c1=c1 - 1, rows=full[0],
                             cols=full[1])
                parts.append(Text(note, style="dim"))
                break
    if compact:
        height = None
    else:
        rows = 1 if nd == 1 else shape[-2]
        height = 2 * rows + 1 + (1 if labels and labels[-1] is not None else 0) + (1 if nd == 3 else 0)
    return Titled(head, Group(*parts) if len(parts) > 1 else parts[0], height)


class Titled:
    """Title lines above a body. In a row of panels the titles share one line and the separators sit
    beside the bodies, as in the explainer's drawings."""

    def __init__(self, head: list[RenderableType], body: RenderableType, body_height: int | None = None) -> None:
        self.head = head
        self.body = body
        self.body_height = body_height  # lines of the body, when known (for placing separators)

    def __rich_console__(self, console: Console, options):  # noqa: ANN201
        yield from self.head
        yield self.body

    def __rich_measure__(self, console: Console, options) -> Measurement:  # noqa: ANN001
        return Measurement.get(console, options, Group(*self.head, self.body))


def width_of(console: Console, renderable: RenderableType) -> int:
    """The natural width of a renderable (measured without the console's width cap)."""
    return Measurement.get(console, console.options.update_width(100_000), renderable).maximum


def fitted(console: Console, st: Style, build: Callable[[bool], RenderableType]) -> RenderableType:
    """``build(compact=False)`` when it fits the width, else ``build(compact=True)`` with a note."""
    full = build(False)
    if width_of(console, full) <= st.width:
        return full
    note = Text(t("show.compact", st.lang), style="dim")
    compact = build(True)
    if isinstance(compact, Titled):
        if not any(isinstance(h, Text) and h.plain == note.plain for h in compact.head):
            compact.head.insert(0, note)
        return compact
    return Group(note, compact)


def flow(console: Console, st: Style, builders: Sequence[Callable[[bool], RenderableType]],
         separators: Sequence[str], tail: str = "") -> RenderableType:
    """Panels side by side with separators, wrapped onto more rows when the width runs out (a row then
    starts with its separator); a panel too wide on its own falls back to its compact form."""
    rows: list[RenderableType] = []
    current: list[tuple[str, RenderableType]] = []
    for i, build in enumerate(builders):
        item = (separators[i - 1] if i else "", build(False))
        if current and width_of(console, _row(current + [item])) <= st.width:
            current.append(item)
            continue
        if current:
            rows.append(_row(current))
        if width_of(console, _row([item])) > st.width:
            item = (item[0], fitted(console, st, build))
        current = [item]
    rows.append(_row(current, tail))
    return rows[0] if len(rows) == 1 else Group(*rows)


def _row(items: Sequence[tuple[str, RenderableType]], tail: str = "") -> Table:
    """One row of panels: a line of titles, then the bodies with the separators centred beside them."""
    row = Table.grid(padding=(0, 1))
    titles: list[RenderableType] = []
    cells: list[RenderableType] = []
    heights = [getattr(panel, "body_height", None) for _, panel in items]
    for i, (sep, panel) in enumerate(items):
        if sep:
            # Beside the middle of the shorter neighbour, like the explainer's "×1 →"; else centred.
            near = [h for h in (heights[i - 1] if i else None, heights[i]) if h is not None]
            if near and len(near) == (2 if i else 1):
                row.add_column(vertical="top")
                cells.append(Text("\n" * (min(near) // 2) + sep))
            else:
                row.add_column(vertical="middle")
                cells.append(Text(sep))
            titles.append("")
        row.add_column(vertical="top")
        if isinstance(panel, Titled):
            titles.append(Group(*panel.head) if panel.head else "")
            cells.append(panel.body)
        else:
            titles.append("")
            cells.append(panel)
    if tail:
        row.add_column(vertical="middle")
        titles.append("")
        cells.append(Text(tail, style=STYLE_TITLE))
    if any(not isinstance(x, str) for x in titles):
        row.add_row(*titles)
    row.add_row(*cells)
    return row


def axis_labels(size: int, crop_before: int, keep: int, op_region: range | None) -> list[str]:
    """Canvas index → label: ``✂`` when padding crops it, else its output index, ``*`` for output_padding."""
    labels = []
    for c in range(size):
        o = c - crop_before
        if o < 0 or o >= keep:
            labels.append(CROP_MARK)
        elif op_region is not None and o in op_region:
            labels.append(f"{o}{OP_MARK}")
        else:
            labels.append(str(o))
    return labels


def output_labels(out_shape: Sequence[int], op_regions: Sequence[range]) -> list[list[str]] | None:
    if not any(len(r) for r in op_regions):
        return None
    return [[f"{o}{OP_MARK}" if o in r else str(o) for o in range(n)] for n, r in zip(out_shape, op_regions)]


def values_grid(arr: np.ndarray, st: Style, *, title: str | None = None, labels=None, compact: bool = False,
                style_of: Callable[[tuple[int, ...]], str | None] | None = None) -> RenderableType:
    def cell(index: tuple[int, ...]) -> Text | str:
        text = num(arr[index].item(), st)
        s = style_of(index) if style_of else None
        return Text(text, style=s) if s else text

    return grid(arr.shape, cell, st, title=title, labels=labels, compact=compact)


def compare_outputs(a: np.ndarray, b: np.ndarray) -> tuple[float, bool]:
    """max |a - b| and whether they agree: exactly for integers, to float rounding otherwise."""
    a64, b64 = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    delta = float(np.abs(a64 - b64).max()) if a64.size else 0.0
    exact = np.asarray(a).dtype.kind in "biu" and np.asarray(b).dtype.kind in "biu"
    ok = delta == 0 if exact else bool(np.allclose(a64, b64, rtol=1e-5, atol=1e-6))
    return delta, ok


def delta_text(delta: float) -> str:
    return "0" if delta == 0 else f"{delta:.3g}"


def check_line(st: Style, key_ok: str, key_bad: str, delta: float, ok: bool, **fields: object) -> Text:
    key = key_ok if ok else key_bad
    return Text(("✓ " if ok else "✗ ") + t(key, st.lang, delta=delta_text(delta), **fields),
                style=STYLE_OK if ok else STYLE_BAD)
