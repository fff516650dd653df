"""Renderables for ``convt shape``: the size report and the ``--target`` ranking (reads records only)."""

from __future__ import annotations

from rich import box
from rich.cells import cell_len
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from ..i18n import define, t
from ..sizing import TIMES, Candidate, SizeReport, TargetSearch
from .layout import fit_lines, fit_table, prose_lines, stacked_rows
from .verdict import verdict_short, verdict_text

define(
    {
        "shape.title": ("ConvTranspose{nd}d: {inp} → {out}", "ConvTranspose{nd}d：{inp} → {out}"),
        "shape.params": ("kernel {k}, stride {s}, padding {p}, output_padding {op}, dilation {d}",
                         "kernel {k}，stride {s}，padding {p}，output_padding {op}，dilation {d}"),
        "shape.output": ("Output size", "输出尺寸"),
        "shape.formula": ("out = (in − 1)×stride − 2×padding + dilation×(k − 1) + output_padding + 1",
                          "out = (in − 1)×stride − 2×padding + dilation×(k − 1) + output_padding + 1"),
        "shape.canvas": ("Canvas", "画布"),
        "shape.canvas_note": ("full scatter canvas before cropping; padding {p} is cropped from each end, "
                              "output_padding {op} given back at the far end",
                              "裁剪前的完整散射画布；两端各裁掉 padding {p}，output_padding {op} 在末端补回"),
        "shape.op": ("output_padding", "output_padding"),
        "shape.op_values": ("{values} (smaller than stride {s} or dilation {d})",
                            "{values}（须小于 stride {s} 或 dilation {d}）"),
        "shape.reachable": ("Reachable sizes", "可达尺寸"),
        "shape.reachable_item": ("{size} (op {op})", "{size}（op {op}）"),
        "shape.reachable_span": ("{lo} … {hi} (op {op0} … {op1})", "{lo} … {hi}（op {op0} … {op1}）"),
        "shape.too_many_phases": ("(stride > 64: not listed)", "（stride > 64：不逐一列出）"),
        "shape.forward_range": ("forward(output_size=…) accepts {lo} to {hi}",
                                "forward(output_size=…) 接受 {lo} 到 {hi}"),
        "shape.forward_only": ("forward(output_size=…) accepts only {lo}", "forward(output_size=…) 只接受 {lo}"),
        "shape.overlap": ("Overlap", "重叠"),
        "shape.why_uneven": ("k is not a multiple of stride", "k 不是 stride 的整数倍"),
        "shape.why_gaps": ("the kernel does not cover the stride; those cells hold only the bias",
                           "卷积核盖不满 stride；这些格只有 bias"),
        "shape.overlap_phases": ("taps per output phase (o mod stride): {counts}; cells near the borders get fewer",
                                 "每个输出相位（o mod stride）的抽头数：{counts}；靠近边界的格更少"),
        "shape.sam3": ("★ k=2, s=2: the SAM 3 choice — exact 2× upsampling, one contribution per cell",
                       "★ k=2, s=2：SAM 3 的选择 —— 精确 2 倍上采样，每格一份贡献"),
        "shape.undoes": ("Undoes", "对应的卷积"),
        "shape.roundtrip_ok": ("the input size ✓", "即输入尺寸 ✓"),
        "shape.roundtrip_bad": ("not the input size {i} ✗ (output_padding {op} ≥ stride {s})",
                                "不是输入尺寸 {i} ✗（output_padding {op} ≥ stride {s}）"),
        "shape.remainder": ("remainder {r} = what the Conv's floor division forgets; output_padding restores it",
                            "余数 {r} = 卷积向下取整丢掉的部分；output_padding 把它补回"),
        "shape.module": ("Module", "模块"),
        "shape.input": ("Input", "输入"),
        "shape.output_tensor": ("Output", "输出"),
        "shape.weight": ("Weight", "权重"),
        "shape.weight_note": ("(C_in, C_out/groups, *kernel)", "(C_in, C_out/groups, *kernel)"),
        "shape.bias": ("Bias", "偏置"),
        "shape.no_bias": ("none (--no-bias)", "无（--no-bias）"),
        "shape.parameters": ("Parameters", "参数量"),
        "shape.target_title": ("{inp} → {target}: {n} combinations with {limits}",
                               "{inp} → {target}：在 {limits} 中找到 {n} 种组合"),
        "shape.target_fixed": ("fixed: {fixed}", "固定：{fixed}"),
        "shape.target_rank": ("Ranked: the crop keeps the edge inputs first, then no or even overlap before "
                              "uneven before gaps, then smaller kernels, strides, paddings.",
                              "排序：先是裁剪后仍保留两端输入的组合，再按无重叠或均匀重叠 → 不均匀 → 空隙，"
                              "然后是更小的 kernel_size、stride、padding。"),
        "shape.target_none": ("No combination reaches {target} from {inp}; widen the search with "
                              "--max-kernel or --max-stride.",
                              "没有组合能从 {inp} 得到 {target}；可用 --max-kernel 或 --max-stride 扩大搜索。"),
        "shape.target_more": ("showing {shown} of {n}; --limit 0 shows all",
                              "显示 {n} 个中的 {shown} 个；--limit 0 显示全部"),
        "shape.col_overlap": ("overlap", "重叠"),
        "shape.col_note": ("note", "备注"),
        "shape.col_per_cell": ("per cell", "每格"),
        "shape.note_sam3": ("★ SAM 3 choice", "★ SAM 3 的选择"),
        "shape.note_crops": ("crop drops edge inputs", "裁剪丢掉两端输入"),
    }
)


def _dims(values: tuple[int, ...]) -> str:
    return TIMES.join(map(str, values))


def _val(values: tuple[int, ...]) -> str:
    return str(values[0]) if len(set(values)) == 1 else "(" + ", ".join(map(str, values)) + ")"


def _op_values(top: int) -> str:
    return ", ".join(map(str, range(top + 1))) if top < 4 else f"0 … {top}"


def _reachable(a, lang: str) -> str:
    (op0, op1), (s0, _) = a.reachable_ops, a.reachable_sizes
    if op1 - op0 < 4:
        return ", ".join(t("shape.reachable_item", lang, size=s0 + i, op=op0 + i) for i in range(op1 - op0 + 1))
    return t("shape.reachable_span", lang, lo=s0, hi=a.reachable_sizes[1], op0=op0, op1=op1)


def _grid() -> Table:
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column(overflow="fold")
    return grid


def _lines(report: SizeReport, make) -> Text:
    multi = report.ndim > 1
    return Text("\n".join((f"{a.axis}: " if multi else "") + make(a) for a in report.axes))


def overlap_text(kind: str, per_cell: tuple[int, int], lang: str) -> str:
    """The verdict in the words ``show --overlap`` and ``compare`` use, with the reason when it is bad."""
    text = verdict_text(kind, per_cell, lang)
    if kind in ("uneven", "gaps"):
        text += ("（" if lang == "zh" else " (") + t(f"shape.why_{kind}", lang) + ("）" if lang == "zh" else ")")
    return text


Line = tuple[str, str, str]  # (kind for layout.fit_lines, text, style)


def _rows_layout(rows: list[tuple[str, list[Line]]], width: int, min_value: int = 36) -> RenderableType:
    """Labels on the left, values beside them, each value wrapped at its own joints to what is left of
    the width; when that is under ``min_value`` cells, the stacked form: each label above its values."""
    label_w = max(cell_len(label) for label, _ in rows) + 2
    stacked = width - label_w < min_value

    def value_text(values: list[Line], w: int, indent: str = "") -> Text:
        text = Text(no_wrap=True, overflow="fold")
        for n, (kind, value, style) in enumerate(values):
            if n:
                text.append("\n")
            text.append("\n".join(indent + ln for ln in fit_lines(kind, value, w - len(indent))), style=style)
        return text

    if stacked:
        parts: list[RenderableType] = []
        for label, values in rows:
            if label:
                parts.append(Text(label, style="bold"))
            if values:
                parts.append(value_text(values, width, "  "))
        return Group(*parts)
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column(no_wrap=True)
    for label, values in rows:
        grid.add_row(label, value_text(values, width - label_w))
    return grid


def render_size_report(report: SizeReport, lang: str = "en", width: int = 100) -> RenderableType:
    p = report.params
    title = Text(t("shape.title", lang, nd=report.ndim, inp=_dims(report.in_spatial), out=_dims(report.out_spatial)),
                 style="bold")
    subtitle = Text("\n".join(prose_lines(t("shape.params", lang, k=_val(report.kernel), s=_val(p.stride),
                                                 p=_val(p.padding), op=_val(p.output_padding), d=_val(p.dilation)),
                                           width)))
    multi = report.ndim > 1

    def per_axis(kind: str, make, style: str = "") -> list[Line]:
        return [(kind, (f"{a.axis}: " if multi else "") + make(a), style) for a in report.axes]

    def reachable(a) -> str:
        forward = (t("shape.forward_range", lang, lo=a.output_size_range[0], hi=a.output_size_range[1])
                   if a.output_size_range[1] > a.output_size_range[0]
                   else t("shape.forward_only", lang, lo=a.output_size_range[0]))
        return _reachable(a, lang) + "; " + forward

    counts = ", ".join(
        (f"{a.axis} " if report.ndim > 1 else "")
        + ("/".join(map(str, c)) if c is not None else t("shape.too_many_phases", lang))
        for a, c in zip(report.axes, report.overlap_counts)
    )
    overlap: list[Line] = [("prose", overlap_text(report.overlap_kind, report.per_cell, lang), ""),
                           ("prose", t("shape.overlap_phases", lang, counts=counts), "dim")]
    if report.sam3:
        overlap.append(("prose", t("shape.sam3", lang), "bold green"))
    conv = (f"Conv{report.ndim}d(kernel_size={_val(report.kernel)}, stride={_val(p.stride)}, "
            f"padding={_val(p.padding)}, dilation={_val(p.dilation)})")

    def inverse_line(a) -> str:
        check = (t("shape.roundtrip_ok", lang) if a.round_trip else
                 t("shape.roundtrip_bad", lang, i=a.in_size, op=a.output_padding, s=a.stride))
        return f"{a.inverse_formula}, {check}"

    undoes: list[Line] = [("call", conv, "")] + per_axis("formula", inverse_line)
    if all(a.round_trip for a in report.axes):
        rem = _val(tuple(a.inverse.remainder for a in report.axes))
        undoes.append(("prose", t("shape.remainder", lang, r=rem), "dim"))
    rows: list[tuple[str, list[Line]]] = [
        (t("shape.output", lang),
         [("formula", t("shape.formula", lang), "dim")] + per_axis("formula", lambda a: a.formula)),
        (t("shape.canvas", lang), per_axis("formula", lambda a: a.canvas_formula)
         + [("prose", t("shape.canvas_note", lang, p=_val(p.padding), op=_val(p.output_padding)), "dim")]),
        (t("shape.op", lang), per_axis("prose", lambda a: t("shape.op_values", lang, values=_op_values(
            a.output_padding_max), s=a.stride, d=a.dilation))),
        (t("shape.reachable", lang), per_axis("prose", reachable)),
        (t("shape.overlap", lang), overlap),
        (t("shape.undoes", lang), undoes),
    ]
    tensor = report.tensor
    if tensor is not None:
        expr = _dims(tensor.weight_shape) + (f" + {tensor.bias_params}" if tensor.bias_params else "")
        rows += [
            ("", []),
            (t("shape.module", lang), [("call", tensor.module, "")]),
            (t("shape.input", lang), [("prose", _dims(tensor.input_shape), "")]),
            (t("shape.output_tensor", lang), [("prose", _dims(tensor.output_shape), "")]),
            (t("shape.weight", lang), [("prose", f"{_dims(tensor.weight_shape)}  {t('shape.weight_note', lang)}", "")]),
            (t("shape.bias", lang), [("prose", _dims(tensor.bias_shape) if tensor.bias_shape
                                      else t("shape.no_bias", lang), "")]),
            (t("shape.parameters", lang), [("formula", f"{tensor.parameters:,} = {expr}", "")]),
        ]
    return Group(title, subtitle, Text(""), _rows_layout(rows, width))


def _per_cell(c: Candidate) -> str:
    lo, hi = c.per_cell
    return str(hi) if lo == hi else f"{lo}–{hi}"


def _note(c: Candidate, lang: str) -> Text:
    if c.sam3:
        return Text(t("shape.note_sam3", lang), style="bold green")
    return Text(t("shape.note_crops", lang) if not c.keeps_edges else "", style="dim")


def render_target_search(search: TargetSearch, lang: str = "en", limit: int = 12, width: int = 100) -> RenderableType:
    n = len(search.candidates)
    inp, target = _dims(search.in_spatial), _dims(search.target)
    kmax, smax = max(search.kernels), max(search.strides)
    # Only what was searched goes in the range; what the user fixed is said once, on the next line.
    limits = [f"k ≤ {kmax}" if len(search.kernels) > 1 else "", f"s ≤ {smax}" if len(search.strides) > 1 else "",
              f"d = {search.dilations[0]}"]
    joiner = "、" if lang == "zh" else ", "
    head = Text(t("shape.target_title", lang, inp=inp, target=target, n=n,
                  limits=joiner.join(x for x in limits if x)), style="bold")
    parts: list[RenderableType] = [head]
    fixed = [f"{name}={v}" for name, v in (
        ("k", search.kernels[0] if len(search.kernels) == 1 and kmax > 1 else None),
        ("s", search.strides[0] if len(search.strides) == 1 and smax > 1 else None),
        ("p", search.padding), ("output_padding", search.output_padding)) if v is not None]
    if fixed:
        parts.append(Text(t("shape.target_fixed", lang, fixed=", ".join(fixed)), style="dim"))
    if n == 0:
        parts.append(Text(t("shape.target_none", lang, inp=inp, target=target)))
        return Group(*parts)
    parts.append(Text("\n".join(prose_lines(t("shape.target_rank", lang), width)), style="dim"))
    headers = ["#", "k", "s", "p", "op", "d", t("shape.col_overlap", lang), t("shape.col_per_cell", lang),
               t("shape.col_note", lang)]
    table = Table(box=box.SQUARE, padding=(0, 1))
    for name in headers[:6]:
        table.add_column(name, justify="right")
    table.add_column(headers[6])
    table.add_column(headers[7], justify="right")
    table.add_column(headers[8])
    shown = search.candidates if limit <= 0 else search.candidates[:limit]
    cells = [[str(rank), str(c.kernel), str(c.stride), _val(c.padding), _val(c.output_padding), str(c.dilation),
              verdict_short(c.overlap_kind, c.per_cell, lang), _per_cell(c), _note(c, lang)]
             for rank, c in enumerate(shown, start=1)]
    for row in cells:
        table.add_row(*row)
    if fit_table(table, width):
        parts.append(table)
    else:
        parts.append(Text(t("layout.stacked", lang), style="dim"))
        plain = [["#" + row[0]] + [str(x) if not isinstance(x, Text) else x.plain for x in row[1:]] for row in cells]
        parts.append(Text("\n".join(stacked_rows(["#", "k", "s", "p", "op", "d", "", headers[7], ""], plain,
                                                  width))))
    if len(shown) < n:
        parts.append(Text(t("shape.target_more", lang, shown=len(shown), n=n), style="dim"))
    return Group(*parts)
