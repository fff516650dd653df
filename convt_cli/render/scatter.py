"""The scatter view of ``convt show``: every recorded placement step as box tables, like the explainer.

Reads a :class:`convt_cli.steps.ScatterTrace`; computes nothing beyond text and styles.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from rich.console import Console, Group, RenderableType
from rich.text import Text

from ..i18n import define, t
from ..shapes import overlap_verdict
from ..steps import ScatterTrace, Step
from .show_common import (
    DIM_NAMES,
    STYLE_ACCUM,
    STYLE_CROP,
    STYLE_OP,
    STYLE_TITLE,
    STYLE_WRITE,
    Style,
    axis_labels,
    fitted,
    flow,
    grid,
    num,
    output_labels,
    per_dim_text,
    pos_text,
    product_text,
    prose,
    shape_text,
    value_text,
    values_grid,
)
from .verdict import verdict_text

GAP_MARK = "·"

define({
    "show.placed_canvas": ("placed at canvas ({pos})", "放置到画布({pos})"),
    "show.full_canvas_op": ("Full canvas after all {total} steps, extended by output_padding (0 past the last tap)",
                            "全部 {total} 步后的完整画布，由 output_padding 延长（最后一个落点之后为 0）"),
    "show.dilated": (", d={d}", "，d={d}"),
})


def has_crop(trace: ScatterTrace) -> bool:
    return any(trace.params.padding) or any(trace.params.output_padding)


def canvas_labels(trace: ScatterTrace) -> list[list[str]] | None:
    if not has_crop(trace):
        return None
    out = trace.output.shape
    return [axis_labels(n, p, o, r) for n, p, o, r in
            zip(trace.canvas.shape, trace.params.padding, out, trace.output_padding_region)]


def cropped_mask(trace: ScatterTrace) -> np.ndarray:
    mask = np.ones(trace.canvas.shape, dtype=bool)
    mask[trace.crop] = False
    return mask


def render_step(console: Console, st: Style, trace: ScatterTrace, step: Step, written_before: set,
                previous: np.ndarray) -> RenderableType:
    """One step: input element × kernel = products → placed on the canvas = canvas after."""
    lang = st.lang
    labels = canvas_labels(trace)
    crop = cropped_mask(trace)
    multi = len(step.value) > 1
    value = value_text(step.value, st)
    title = prose(st, t("show.step_title", lang, n=step.number, value=value, pos=pos_text(step.index)),
                 style=STYLE_TITLE)
    writes = {w.position: w for w in step.writes}
    ksize = trace.kernel.shape[1:]

    def input_panel(compact: bool) -> RenderableType:
        if not multi:
            return grid((1,), lambda i: num(step.value[0], st), st,
                        title=t("show.input_value", lang, value=value), compact=compact)
        return grid((len(step.value),), lambda i: num(step.value[i[0]], st), st,
                    title=t("show.input_values", lang), compact=compact)

    dil = trace.params.dilation
    dilated = any(d > 1 for d in dil)
    spread = tuple(d * (k - 1) + 1 for d, k in zip(dil, ksize))

    def tap_grid(values: np.ndarray, title: str, compact: bool) -> RenderableType:
        """The kernel's taps; with dilation, spread out over d*(k-1)+1 cells with the gaps shown as ·."""
        if not dilated:
            return grid(ksize, lambda i: num(values[i], st), st, title=title, compact=compact)

        def cell(i: tuple[int, ...]) -> Text | str:
            if all(a % d == 0 for a, d in zip(i, dil)):
                return num(values[tuple(a // d for a, d in zip(i, dil))], st)
            return Text(GAP_MARK, style=STYLE_CROP)

        return grid(spread, cell, st, title=title + t("show.dilated", lang, d=per_dim_text(dil)),
                    compact=compact)

    def kernel_panel(compact: bool) -> RenderableType:
        if not multi:
            return tap_grid(trace.kernel[0], t("show.kernel", lang), compact)
        return Group(*(tap_grid(trace.kernel[c], t("show.kernel_channel", lang, c=c), compact)
                       for c in range(trace.kernel.shape[0])))

    contributions = np.zeros(ksize, dtype=object)
    for w in step.writes:
        contributions[w.tap] = w.contribution

    def product_panel(compact: bool) -> RenderableType:
        title_p = t("show.product_sum", lang) if multi else t("show.product", lang, value=value)
        return tap_grid(contributions, title_p, compact)

    def placed_cell(index: tuple[int, ...]) -> Text | str:
        w = writes.get(index)
        if w is not None:
            prod = product_text(w.terms, st)
            if w.overlapped:
                return Text(f"{num(w.before, st)}+{prod}", style=STYLE_ACCUM)
            return Text(prod, style=STYLE_WRITE)
        if index in written_before:
            text = num(previous[index].item(), st)
            return Text(text, style=STYLE_CROP) if crop[index] else text
        return ""

    def after_cell(index: tuple[int, ...]) -> Text | str:
        if index in writes or index in written_before:
            text = num(step.canvas_after[index].item(), st)
            return Text(text, style=STYLE_CROP) if crop[index] else text
        return ""

    placed_key = "show.placed_canvas" if has_crop(trace) else "show.placed"
    # The cells this step writes: where a canvas too big for boxes is looked at (a window, not a corner).
    spots = [w.position for w in step.writes]
    focus = [(min(p[d] for p in spots), max(p[d] for p in spots) + 1) for d in range(trace.ndim)] if spots else None

    def placed_panel(compact: bool) -> RenderableType:
        return grid(trace.canvas.shape, placed_cell, st, title=t(placed_key, lang, pos=pos_text(step.origin)),
                    labels=labels, compact=compact, focus=focus)

    def after_panel(compact: bool) -> RenderableType:
        return grid(trace.canvas.shape, after_cell, st, title=t("show.canvas_after", lang, n=step.number),
                    labels=labels, compact=compact, focus=focus)

    builders = [input_panel, kernel_panel, product_panel, placed_panel, after_panel]
    separators = ["×", "=", "→", "="]
    return Group(title, flow(console, st, builders, separators))


def render_steps(console: Console, st: Style, trace: ScatterTrace) -> list[RenderableType]:
    items: list[RenderableType] = []
    written: set = set()
    previous = np.zeros(trace.canvas.shape, dtype=trace.canvas.dtype)
    for step in trace.steps:
        items.append(render_step(console, st, trace, step, written, previous))
        items.append(Text(""))
        written |= {w.position for w in step.writes}
        previous = step.canvas_after
    if trace.skipped_steps:
        items.append(prose(st, t("show.skipped", st.lang, k=trace.skipped_steps, n=len(trace.steps),
                            total=trace.total_steps), style="italic"))
        items.append(Text(""))
    return items


def random_values(console: Console, st: Style, x: np.ndarray, w: np.ndarray, *, channels: bool, input_: bool,
                  kernel: bool) -> list[RenderableType]:
    """A ``--random`` input and kernel, printed once before the steps so the output can be checked by hand.

    ``x`` is ``(C_in, *S)``, ``w`` is ``(C_in, C_out/groups, *k)``; without channels both have one."""
    items: list[RenderableType] = []
    lang = st.lang

    def show(arr: np.ndarray, title: str) -> None:
        items.append(fitted(console, st, lambda c: values_grid(arr, st, title=title, compact=c)))
        items.append(Text(""))

    if input_:
        if not channels:
            show(x[0], t("show.random_input", lang, shape=shape_text(x.shape[1:])))
        else:
            for c in range(x.shape[0]):
                show(x[c], t("show.random_input_channel", lang, shape=shape_text(x.shape), c=c))
    if kernel:
        if not channels:
            show(w[0, 0], t("show.random_kernel", lang, shape=shape_text(w.shape[2:])))
        else:
            for ci in range(w.shape[0]):
                for co in range(w.shape[1]):
                    show(w[ci, co], t("show.random_kernel_channel", lang, shape=shape_text(w.shape), ci=ci, co=co))
    return items


def op_notes(trace: ScatterTrace, st: Style) -> list[RenderableType]:
    """Per dim with output_padding: which given-back indices hold computed values, which hold 0 + bias."""
    notes: list[RenderableType] = []
    names = DIM_NAMES[trace.ndim]
    for dim, (region, p, full) in enumerate(zip(trace.output_padding_region, trace.params.padding, trace.canvas_size)):
        if not len(region):
            continue
        computed = [o for o in region if p + o < full]
        zeros = [o for o in region if p + o >= full]
        op = trace.params.output_padding[dim]
        if computed:
            notes.append(prose(st, t("show.op_computed", st.lang, op=op, dim=names[dim], p=p,
                                idx=", ".join(map(str, computed))), style=STYLE_OP))
        if zeros:
            notes.append(prose(st, t("show.op_zero", st.lang, op=op, dim=names[dim], idx=", ".join(map(str, zeros))),
                              style=STYLE_OP))
    return notes


def render_result(console: Console, st: Style, trace: ScatterTrace, output: np.ndarray | None = None
                  ) -> list[RenderableType]:
    """The full canvas (when padding crops it or output_padding extends it), then the final output."""
    items: list[RenderableType] = []
    lang = st.lang
    if has_crop(trace):
        labels = canvas_labels(trace)
        crop = cropped_mask(trace)
        if any(trace.params.padding):
            title = t("show.full_canvas", lang, total=trace.total_steps, p=per_dim_text(trace.params.padding))
        else:
            title = t("show.full_canvas_op", lang, total=trace.total_steps)
        items.append(fitted(console, st, lambda c: values_grid(
            trace.canvas, st, title=title, labels=labels, compact=c,
            style_of=lambda i: STYLE_CROP if crop[i] else None)))
        items.append(Text(""))
    out = trace.output if output is None else output
    items.append(final_output(console, st, out, trace.output_padding_region, trace.bias if trace.bias else None))
    items.extend(op_notes(trace, st))
    return items


def final_output(console: Console, st: Style, out: np.ndarray, op_regions: Sequence[range],
                 bias: float | None) -> RenderableType:
    shape = shape_text(out.shape)
    title = (t("show.final_bias", st.lang, shape=shape, b=num(bias, st)) if bias
             else t("show.final", st.lang, shape=shape))
    labels = output_labels(out.shape, op_regions)

    def style_of(index: tuple[int, ...]) -> str | None:
        return STYLE_OP if any(i in r for i, r in zip(index, op_regions)) else None

    return fitted(console, st, lambda c: values_grid(out, st, title=title, labels=labels, compact=c,
                                                      style_of=style_of))


def render_overlap(console: Console, st: Style, trace: ScatterTrace) -> list[RenderableType]:
    """The contribution-count map over the output, and the even/uneven verdict with its reason."""
    lang = st.lang
    counts = trace.write_counts[trace.crop]
    labels = output_labels(counts.shape, trace.output_padding_region)
    items: list[RenderableType] = [fitted(console, st, lambda c: values_grid(
        counts, st, title=t("show.overlap_title", lang), labels=labels, compact=c))]
    ksize = trace.kernel.shape[1:]
    verdict = overlap_verdict(tuple(ksize), trace.params.stride, trace.params.dilation)
    names = DIM_NAMES[trace.ndim]
    axes = "; ".join(t("show.why_axis", lang, dim=n, k=k, s=s, d=d, counts="/".join(map(str, c)))
                     for n, k, s, d, c in zip(names, ksize, trace.params.stride, trace.params.dilation,
                                              verdict.counts))
    why = {"even": "show.why_divisible", "uneven": "show.why_not_divisible", "gaps": "show.why_gaps"}[verdict.kind]
    line = t("show.verdict", lang, verdict=verdict_text(verdict.kind, verdict.per_cell, lang), why=t(why, lang),
             axes=axes)
    items.append(prose(st, line))
    return items
