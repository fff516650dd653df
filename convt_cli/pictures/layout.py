"""The layout of a step figure (pure: no Pillow): every frame's cells, their text, role and pixel box.

:func:`step_figure` reads a :class:`convt_cli.steps.ScatterTrace` — the same step records the
terminal render reads — and returns one :class:`Frame` per recorded step plus a final frame. Every
step frame has the same geometry (a cell's box never moves), so between two frames only the cells
whose text or role changed differ; :meth:`Frame.cell` exposes the boxes for the tests.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from ..i18n import define, t
from ..render.scatter import canvas_labels, cropped_mask, has_crop, op_notes
from ..render.show_common import (
    CROP_MARK,
    OP_MARK,
    Style,
    num,
    output_labels,
    per_dim_text,
    pos_text,
    product_text,
    shape_text,
    value_text,
)
from ..steps import ScatterTrace, Step
from .geometry import ACCUM, CROP, CURRENT, EMPTY, GAP, OP, PLAIN, WRITE, Box, Cell, Label, Measure, Metrics
from .panels import Arrangement, Frame, GridSpec, PanelSpec, arrange, build_frame, legend_lines

GAP_MARK = "·"
STEP_MS = 1200
FINAL_MS = 4000

define({
    "pic.input": ("input {shape}", "输入 {shape}"),
    "pic.channel": ("channel {c}", "通道{c}"),
    "pic.final_frame": ("After all {total} steps", "全部 {total} 步之后"),
})


@dataclass(frozen=True)
class Figure:
    frames: tuple[Frame, ...]
    width: int
    height: int
    legend: tuple[tuple[str, str, str], ...]  # (role, sample, text)
    metrics: Metrics = field(compare=False)


def _legend(trace: ScatterTrace, lang: str) -> tuple[tuple[str, str, str], ...]:
    def rest(key: str) -> str:
        return t(key, lang).split(" ", 1)[1]

    p = trace.params
    out = [(WRITE, "a×b", rest("show.legend_write"))]
    if int(trace.write_counts.max()) > 1:
        out.append((ACCUM, "s+a×b", rest("show.legend_accum")))
    if any(d > 1 for d in p.dilation):
        out.append((GAP, GAP_MARK, rest("show.legend_gap")))
    if any(p.padding):
        out.append((CROP, CROP_MARK, rest("show.legend_crop")))
    if any(p.output_padding):
        out.append((OP, OP_MARK, rest("show.legend_op")))
    return tuple(out)


def step_figure(trace: ScatterTrace, *, lang: str = "en", precision: int = 3, font_px: int = 18,
                max_width: int = 1500, legend: bool = True, measure: Measure | None = None) -> Figure:
    """One frame per recorded step, then a final frame (the full canvas and the output), all one size."""
    st = Style(lang=lang, precision=precision)
    m = Metrics(font_px, measure)
    steps = trace.steps
    chans = trace.input.shape[0]
    multi = chans > 1
    spatial = trace.input.shape[1:]
    ksize = trace.kernel.shape[1:]
    dil = trace.params.dilation
    spread = tuple(d * (k - 1) + 1 for d, k in zip(dil, ksize))
    crop = cropped_mask(trace)
    op_canvas = np.zeros(trace.canvas.shape, dtype=bool)
    for dim, (region, pad) in enumerate(zip(trace.output_padding_region, trace.params.padding)):
        if len(region):
            sl = [slice(None)] * trace.ndim
            sl[dim] = slice(region.start + pad, region.stop + pad)
            op_canvas[tuple(sl)] = True
    labels = canvas_labels(trace)
    nframes = len(steps)

    def base_role(index: tuple[int, ...]) -> str:
        return CROP if crop[index] else OP if op_canvas[index] else PLAIN

    def per_channel(name: str, shape: tuple[int, ...]) -> list[GridSpec]:
        return [GridSpec(shape, (c,), subtitle=t("pic.channel", lang, c=c) if multi else None) for c in range(chans)]

    def tap(values: np.ndarray, index: tuple[int, ...]) -> tuple[str, str]:
        if all(a % d == 0 for a, d in zip(index, dil)):
            return num(values[tuple(a // d for a, d in zip(index, dil))], st), PLAIN
        return GAP_MARK, GAP

    # Per step: written-before set and the canvas before it.
    written_before: list[set] = []
    previous: list[np.ndarray] = []
    seen: set = set()
    prev = np.zeros(trace.canvas.shape, dtype=trace.canvas.dtype)
    for step in steps:
        written_before.append(set(seen))
        previous.append(prev)
        seen |= {w.position for w in step.writes}
        prev = step.canvas_after

    def input_content(step: Step | None) -> Callable:
        def content(g: GridSpec, index: tuple[int, ...]) -> tuple[str, str]:
            text = num(trace.input[g.key + index].item(), st)
            return text, (CURRENT if step is not None and index == step.index else PLAIN)
        return content

    def kernel_content(g: GridSpec, index: tuple[int, ...]) -> tuple[str, str]:
        return tap(trace.kernel[g.key[0]], index)

    def products_content(step: Step) -> Callable:
        contributions = np.zeros(ksize, dtype=object)
        for w in step.writes:
            contributions[w.tap] = w.contribution

        def content(g: GridSpec, index: tuple[int, ...]) -> tuple[str, str]:
            text, role = tap(contributions, index)
            return text, (WRITE if role == PLAIN else role)
        return content

    def placed_content(k: int) -> Callable:
        step = steps[k]
        writes = {w.position: w for w in step.writes}

        def content(g: GridSpec, index: tuple[int, ...]) -> tuple[str, str]:
            w = writes.get(index)
            if w is not None:
                prod = product_text(w.terms, st)
                return (f"{num(w.before, st)}+{prod}", ACCUM) if w.overlapped else (prod, WRITE)
            if index in written_before[k]:
                return num(previous[k][index].item(), st), base_role(index)
            return "", (EMPTY if base_role(index) == PLAIN else base_role(index))
        return content

    def after_content(k: int) -> Callable:
        step = steps[k]
        done = written_before[k] | {w.position for w in step.writes}

        def content(g: GridSpec, index: tuple[int, ...]) -> tuple[str, str]:
            if index in done:
                return num(step.canvas_after[index].item(), st), base_role(index)
            return "", (EMPTY if base_role(index) == PLAIN else base_role(index))
        return content

    in_title = t("pic.input", lang, shape=shape_text(trace.input.shape if multi else spatial))
    k_title = t("show.kernel", lang) + (t("show.dilated", lang, d=per_dim_text(dil)) if any(d > 1 for d in dil)
                                        else "")
    def product_title(s: Step) -> str:
        return t("show.product_sum", lang) if multi else t("show.product", lang, value=value_text(s.value, st))

    placed_key = "show.placed_canvas" if has_crop(trace) else "show.placed"
    step_items = [
        ("", PanelSpec("input", per_channel("input", spatial), [in_title] * nframes,
                       [input_content(s) for s in steps])),
        ("×", PanelSpec("kernel", per_channel("kernel", spread), [k_title] * nframes, [kernel_content] * nframes)),
        ("=", PanelSpec("products", [GridSpec(spread)], [product_title(s) for s in steps],
                        [products_content(s) for s in steps])),
        ("→", PanelSpec("placed", [GridSpec(trace.canvas.shape, labels=labels)],
                        [t(placed_key, lang, pos=pos_text(s.origin)) for s in steps],
                        [placed_content(k) for k in range(nframes)])),
        ("=", PanelSpec("after", [GridSpec(trace.canvas.shape, labels=labels)],
                        [t("show.canvas_after", lang, n=s.number) for s in steps],
                        [after_content(k) for k in range(nframes)])),
    ]

    # The final frame: input and kernel, the full canvas when padding crops it or output_padding
    # extends it, and the output.
    out = trace.output
    op_regions = trace.output_padding_region

    def output_content(g: GridSpec, index: tuple[int, ...]) -> tuple[str, str]:
        in_op = any(i in r for i, r in zip(index, op_regions))
        return num(out[index].item(), st), (OP if in_op else PLAIN)

    def canvas_content(g: GridSpec, index: tuple[int, ...]) -> tuple[str, str]:
        return num(trace.canvas[index].item(), st), base_role(index)

    final_items = [("", PanelSpec("input", per_channel("input", spatial), [in_title], [input_content(None)])),
                   ("×", PanelSpec("kernel", per_channel("kernel", spread), [k_title], [kernel_content]))]
    if has_crop(trace):
        key = "show.full_canvas" if any(trace.params.padding) else "show.full_canvas_op"
        final_items.append(("→", PanelSpec("canvas", [GridSpec(trace.canvas.shape, labels=labels)],
                                           [t(key, lang, total=trace.total_steps,
                                              p=per_dim_text(trace.params.padding))], [canvas_content])))
    final_items.append(("→" if not has_crop(trace) else "✂", PanelSpec(
        "output", [GridSpec(out.shape, labels=output_labels(out.shape, op_regions))],
        [_final_title(trace, st)],
        [output_content])))
    final_notes = []
    if trace.skipped_steps:
        final_notes.append(t("show.skipped", lang, k=trace.skipped_steps, n=len(steps), total=trace.total_steps))
    final_notes.extend(n.plain for n in op_notes(trace, st))

    legend_all = _legend(trace, lang)
    legend_items = legend_all if legend else ()
    top = m.margin + m.line_h + m.gap
    step_geo = arrange(step_items, m, max_width, lang, top) if steps else None
    final_geo = arrange(final_items, m, max_width, lang, top)
    width = max(g.width for g in (step_geo, final_geo) if g is not None)
    width = max(width, m.width(t("show.step_title", lang, n=99, value="0", pos="0"), m.px) + 2 * m.margin)

    def height_of(geo: Arrangement, notes: list[str]) -> int:
        y = geo.body_bottom + m.gap + len(notes) * m.line_h
        if legend_items:
            _, _, y = legend_lines(legend_items, m, width, y + m.gap)
        return y + m.margin

    height = max(height_of(g, n) for g, n in ((step_geo, []), (final_geo, final_notes)) if g is not None)
    size = (width, height)
    frames = [build_frame(step_geo, k, t("show.step_title", lang, n=s.number, value=value_text(s.value, st),
                                    pos=pos_text(s.index)), [], legend_items, m, size, s.number, STEP_MS)
              for k, s in enumerate(steps)]
    # The final frame: its own title (the output panel already says "Final output 4×4"), and only the
    # legend entries for what it shows (nothing in it is "written by this step").
    final_legend = tuple(item for item in legend_items if item[0] not in (WRITE, ACCUM))
    frames.append(build_frame(final_geo, 0, t("pic.final_frame", lang, total=trace.total_steps), final_notes,
                              final_legend, m, size, None, FINAL_MS))
    return Figure(tuple(frames), width, height, legend_all, m)


def _final_title(trace: ScatterTrace, st: Style) -> str:
    shape = shape_text(trace.output.shape)
    if trace.bias:
        return t("show.final_bias", st.lang, shape=shape, b=num(trace.bias, st))
    return t("show.final", st.lang, shape=shape)


@dataclass(frozen=True)
class Sheet:
    """Frames drawn small and tiled: ``tiles[i]`` is where ``frames[i]`` goes."""

    width: int
    height: int
    frames: tuple[Frame, ...]
    tiles: tuple[Box, ...]
    legend: tuple[Cell, ...]
    legend_labels: tuple[Label, ...]


def sheet_layout(figure: Figure, *, max_width: int = 2000, gap: int = 12) -> Sheet:
    """Every frame of ``figure`` (drawn without its own legend) as a tile, left to right, top to bottom,
    with the legend once at the bottom."""
    fw, fh = figure.width, figure.height
    per_row = max(1, (max_width + gap) // (fw + gap))
    n = len(figure.frames)
    per_row = min(per_row, n)
    rows = -(-n // per_row)
    tiles = tuple(Box(gap + (i % per_row) * (fw + gap), gap + (i // per_row) * (fh + gap),
                      gap + (i % per_row) * (fw + gap) + fw, gap + (i // per_row) * (fh + gap) + fh)
                  for i in range(n))
    width = gap + per_row * (fw + gap)
    top = gap + rows * (fh + gap)
    m = figure.metrics
    cells, labels, bottom = legend_lines(figure.legend, m, width, top)
    return Sheet(width, bottom + gap, figure.frames, tiles, tuple(cells), tuple(labels))
