"""The gather view of ``convt show``: zero-inserted, padded input and the 180°-rotated kernel sliding over it."""

from __future__ import annotations

import numpy as np
from rich.console import Console, Group, RenderableType
from rich.text import Text

from ..i18n import define, t
from ..steps import ScatterTrace
from ..views import ELEMENT, PAD, GatherStep, GatherView
from .scatter import final_output, op_notes
from .show_common import (
    DIM_NAMES,
    STYLE_CROP,
    STYLE_ELEMENT,
    STYLE_PAD,
    STYLE_TITLE,
    STYLE_WRITE,
    Style,
    check_line,
    compare_outputs,
    fitted,
    flow,
    grid,
    num,
    per_dim_text,
    pos_text,
    product_text,
    prose,
    shape_text,
    values_grid,
)

PAD_MARK = "·"

define(
    {
        "show.gather_title": ("Gather view: the same output, read from the input side",
                              "聚集视角：同一个输出，从输入一侧来读"),
        "show.gather_insert": ("1. Insert stride − 1 zeros between input elements: {a} → {b}",
                               "1. 在输入元素之间插入 stride − 1 个零：{a} → {b}"),
        "show.gather_pad": ("2. Pad each end with dilation×(k − 1) − padding zeros, plus output_padding at the far end "
                            "(a negative pad crops): {a} → {b}",
                            "2. 两端各补 dilation×(k − 1) − padding 个零，末端再补 output_padding 个"
                            "（负数表示裁掉）：{a} → {b}"),
        "show.gather_pad_dim": ("  {dim}: before {b}, after {a}", "  {dim}：前 {b}，后 {a}"),
        "show.gather_rotate": ("3. Rotate the kernel 180°", "3. 将卷积核旋转 180°"),
        "show.gather_slide": ("4. Slide the rotated kernel over the padded input (stride 1, dilation {d}): "
                              "each output cell is the sum of the products under it",
                              "4. 让旋转后的卷积核在补零后的输入上滑动（stride 1，dilation {d}）："
                              "每个输出单元等于其下乘积之和"),
        "show.gather_legend": ("bold: input elements; 0: inserted zeros; · padding zeros; a×b: under the kernel",
                               "粗体：输入元素；0：插入的零；·：补的零；a×b：卷积核覆盖的位置"),
        "show.gather_legend_plain": ("input elements every stride cells, 0: the zeros inserted between them; "
                                     "· padding zeros; a×b: under the kernel",
                                     "输入元素每隔 stride 个单元一个，0：其间插入的零；·：补的零；"
                                     "a×b：卷积核覆盖的位置"),
        "show.gather_channel": ("channel {c}", "通道{c}"),
        "show.gather_step": ("Output ({pos}) = {value}", "输出({pos}) = {value}"),
        "show.gather_skipped": ("… {k} more output cells not shown (showing {n} of {total}; --max-steps changes this)",
                                "… 还有 {k} 个输出单元未显示（共 {total} 个，显示了前 {n} 个；可用 --max-steps 调整）"),
        "show.kernel_rotated": ("rotated 180°", "旋转 180°"),
    }
)


def _padded_cell(view: GatherView, c: int, index: tuple[int, ...], st: Style) -> Text | str:
    kind = view.kinds[index]
    if kind == PAD:
        return Text(PAD_MARK, style=STYLE_PAD)
    text = num(view.padded[(c,) + index].item(), st)
    return Text(text, style=STYLE_ELEMENT) if kind == ELEMENT else Text(text, style=STYLE_CROP)


def _step(console: Console, st: Style, view: GatherView, step: GatherStep) -> RenderableType:
    channels = view.padded.shape[0]
    under = {pos: i for i, pos in enumerate(step.window)}
    panels = []
    for c in range(channels):
        def cell(index: tuple[int, ...], c: int = c) -> Text | str:
            i = under.get(index)
            if i is not None:
                return Text(product_text([step.terms[i][c]], st), style=STYLE_WRITE)
            return _padded_cell(view, c, index, st)

        title = t("show.gather_channel", st.lang, c=c) if channels > 1 else None
        panels.append(lambda compact, cell=cell, title=title: grid(view.padded.shape[1:], cell, st, title=title,
                                                                     compact=compact))
    row = flow(console, st, panels, ["+"] * (channels - 1), tail="= " + num(step.value, st))
    title = prose(st, t("show.gather_step", st.lang, pos=pos_text(step.index), value=num(step.value, st)),
                 style=STYLE_TITLE)
    return Group(title, row)


def render_gather(console: Console, st: Style, view: GatherView, trace: ScatterTrace) -> list[RenderableType]:
    lang = st.lang
    channels = view.padded.shape[0]
    items: list[RenderableType] = [prose(st, t("show.gather_title", lang), style=STYLE_TITLE), Text("")]
    # Bold only where the terminal shows it: piped or without colour, the legend says where the input is.
    key = "show.gather_legend_plain" if console.color_system is None else "show.gather_legend"
    items.append(prose(st, t(key, lang)))
    items.append(Text(""))

    items.append(prose(st, t("show.gather_insert", lang, a=shape_text(view.input.shape[1:]),
                        b=shape_text(view.zero_inserted.shape[1:]))))
    stride_mask = np.zeros(view.zero_inserted.shape[1:], dtype=bool)
    stride_mask[tuple(slice(None, None, s) for s in view.params.stride)] = True
    for c in range(channels):
        title = t("show.gather_channel", lang, c=c) if channels > 1 else None
        items.append(fitted(console, st, lambda compact, c=c, title=title: values_grid(
            view.zero_inserted[c], st, title=title, compact=compact,
            style_of=lambda i: STYLE_ELEMENT if stride_mask[i] else STYLE_CROP)))
    items.append(Text(""))

    items.append(prose(st, t("show.gather_pad", lang, a=shape_text(view.zero_inserted.shape[1:]),
                        b=shape_text(view.padded.shape[1:]))))
    for name, b, a in zip(DIM_NAMES[view.ndim], view.pad_before, view.pad_after):
        items.append(prose(st, t("show.gather_pad_dim", lang, dim=name, b=b, a=a)))
    for c in range(channels):
        title = t("show.gather_channel", lang, c=c) if channels > 1 else None
        items.append(fitted(console, st, lambda compact, c=c, title=title: grid(
            view.padded.shape[1:], lambda i: _padded_cell(view, c, i, st), st, title=title, compact=compact)))
    items.append(Text(""))

    items.append(prose(st, t("show.gather_rotate", lang)))
    for c in range(channels):
        suffix = " · " + t("show.gather_channel", lang, c=c) if channels > 1 else ""
        pair = [lambda compact, c=c, suffix=suffix: values_grid(view.kernel[c], st, compact=compact,
                                                                 title=t("show.kernel", lang) + suffix),
                lambda compact, c=c, suffix=suffix: values_grid(view.rotated[c], st, compact=compact,
                                                                 title=t("show.kernel_rotated", lang) + suffix)]
        items.append(flow(console, st, pair, ["→"]))
    items.append(Text(""))

    items.append(prose(st, t("show.gather_slide", lang, d=per_dim_text(view.params.dilation))))
    items.append(Text(""))
    for step in view.steps:
        items.append(_step(console, st, view, step))
        items.append(Text(""))
    if view.skipped_steps:
        items.append(prose(st, t("show.gather_skipped", lang, k=view.skipped_steps, n=len(view.steps),
                            total=view.total_steps), style="italic"))
        items.append(Text(""))
    items.append(final_output(console, st, view.output, trace.output_padding_region,
                              view.bias if view.bias else None))
    items.extend(op_notes(trace, st))
    delta, ok = compare_outputs(view.output, trace.output)
    items.append(check_line(st, "show.engine_same", "show.engine_differs", delta, ok))
    return items
