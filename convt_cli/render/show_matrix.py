"""The matrix view of ``convt show``: the convolution matrix C and the output as Cᵀ·x."""

from __future__ import annotations

from rich.console import Console, RenderableType
from rich.text import Text

from ..i18n import define, t
from ..steps import ScatterTrace
from ..views import MatrixView
from .scatter import final_output, op_notes
from .show_common import (
    STYLE_TITLE,
    Style,
    check_line,
    compare_outputs,
    fitted,
    flow,
    grid,
    num,
    pos_text,
    prose,
    shape_text,
)

define(
    {
        "show.matrix_title": ("Matrix view: out = Cᵀ·x", "矩阵视角：out = Cᵀ·x"),
        "show.matrix_c": (
            "C ({r}×{c}) is the matrix of the ordinary convolution (same kernel, stride, padding, dilation) that maps "
            "an output of size {out} back to the input's size {inp}: row = input element, column = output cell, "
            "entry = the kernel tap joining them (blank: 0)",
            "C（{r}×{c}）是普通卷积（同一卷积核、stride、padding、dilation）的矩阵，"
            "它把尺寸 {out} 的输出映射回输入尺寸 {inp}："
            "行 = 输入元素，列 = 输出单元，元素 = 连接二者的卷积核值（空白为 0）",
        ),
        "show.matrix_ct": ("The transposed convolution multiplies by Cᵀ ({c}×{r}): out = Cᵀ·x{bias}",
                           "转置卷积乘以 Cᵀ（{c}×{r}）：out = Cᵀ·x{bias}"),
        "show.matrix_reshape": ("reshaped to {shape}", "重排为 {shape}"),
        "show.matrix_x": ("x (flattened)", "x（展平）"),
        "show.matrix_out": ("out", "out"),
    }
)


def _row_label(index: tuple[int, ...], multi: bool) -> str:
    ch, *pos = index
    return (f"c{ch}:" if multi else "") + "x" + pos_text(pos)


def render_matrix(console: Console, st: Style, view: MatrixView, trace: ScatterTrace) -> list[RenderableType]:
    lang = st.lang
    multi = view.input.shape[0] > 1
    rows, cols = view.matrix.shape
    row_labels = [_row_label(i, multi) for i in view.row_index]
    col_labels = ["o" + pos_text(i) for i in view.col_index]
    items: list[RenderableType] = [prose(st, t("show.matrix_title", lang), style=STYLE_TITLE), Text("")]
    items.append(prose(st, t("show.matrix_c", lang, r=rows, c=cols, out=shape_text(view.out_shape),
                        inp=shape_text(view.input.shape[1:]))))

    def c_cell(index: tuple[int, ...]) -> str:
        v = view.matrix[index].item()
        return "" if v == 0 else num(v, st)

    items.append(fitted(console, st, lambda compact: grid((rows, cols), c_cell, st, title="C",
                                                           labels=[row_labels, col_labels], compact=compact)))
    items.append(Text(""))
    bias = f" + {num(view.bias, st)}" if view.bias else ""
    items.append(prose(st, t("show.matrix_ct", lang, r=rows, c=cols, bias=bias)))

    def ct_panel(compact: bool) -> RenderableType:
        return grid((cols, rows), lambda i: c_cell((i[1], i[0])), st, title="Cᵀ",
                    labels=[col_labels, row_labels], compact=compact)

    def x_panel(compact: bool) -> RenderableType:
        return grid((rows, 1), lambda i: num(view.x_flat[i[0]].item(), st), st, title=t("show.matrix_x", lang),
                    labels=[row_labels, [""]], compact=compact)

    def out_panel(compact: bool) -> RenderableType:
        return grid((cols, 1), lambda i: num(view.out_flat[i[0]].item(), st), st, title=t("show.matrix_out", lang),
                    labels=[col_labels, [""]], compact=compact)

    seps = ["·", "="]
    builders = [ct_panel, x_panel, out_panel]
    items.append(flow(console, st, builders, seps))
    items.append(Text(""))
    items.append(prose(st, t("show.matrix_reshape", lang, shape=shape_text(view.out_shape))))
    items.append(final_output(console, st, view.output, trace.output_padding_region,
                              view.bias if view.bias else None))
    items.extend(op_notes(trace, st))
    delta, ok = compare_outputs(view.output, trace.output)
    items.append(check_line(st, "show.engine_same", "show.engine_differs", delta, ok))
    return items
