"""Renderables for ``convt shape``: the size report and the ``--target`` ranking (reads records only)."""

from __future__ import annotations

from rich import box
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from ..i18n import define, t
from ..sizing import TIMES, Candidate, SizeReport, TargetSearch

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
        "shape.overlap_none": ("no overlap, no gaps: every interior output cell receives exactly 1 contribution",
                               "无重叠、无空隙：每个内部输出格恰好收到 1 份贡献"),
        "shape.overlap_even": ("even overlap: every interior output cell receives {n} contributions "
                               "(no checkerboard)",
                               "均匀重叠：每个内部输出格收到 {n} 份贡献（无棋盘效应）"),
        "shape.overlap_uneven": ("uneven overlap: interior output cells receive {lo} to {hi} contributions "
                                 "→ checkerboard artifacts (k not divisible by stride)",
                                 "不均匀重叠：内部输出格收到 {lo} 到 {hi} 份贡献 → 棋盘效应（k 不能被 stride 整除）"),
        "shape.overlap_gaps": ("gaps: some output cells receive no contribution (the kernel does not cover "
                               "the stride) and hold only the bias",
                               "空隙：部分输出格收不到任何贡献（卷积核盖不满步长），只有 bias"),
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
        "shape.target_title": ("{inp} → {target}: {n} combinations with k ≤ {kmax}, s ≤ {smax}, d = {d}",
                               "{inp} → {target}：在 k ≤ {kmax}、s ≤ {smax}、d = {d} 中找到 {n} 种组合"),
        "shape.target_fixed": ("fixed: {fixed}", "固定：{fixed}"),
        "shape.target_rank": ("Ranked: the crop keeps the edge inputs first, then no or even overlap before "
                              "uneven before gaps, then smaller kernels, strides, paddings.",
                              "排序：先是裁剪后仍保留两端输入的组合，再按无重叠或均匀重叠 → 不均匀 → 空隙，"
                              "然后是更小的卷积核、步长、padding。"),
        "shape.target_none": ("No combination reaches {target} from {inp}; widen the search with "
                              "--max-kernel or --max-stride.",
                              "没有组合能从 {inp} 得到 {target}；可用 --max-kernel 或 --max-stride 扩大搜索。"),
        "shape.target_more": ("showing {shown} of {n}; --limit 0 shows all",
                              "显示 {n} 个中的 {shown} 个；--limit 0 显示全部"),
        "shape.col_overlap": ("overlap", "重叠"),
        "shape.col_note": ("note", "备注"),
        "shape.ov_none": ("none (1 per cell)", "无（每格 1）"),
        "shape.ov_even": ("even ({n} per cell)", "均匀（每格 {n}）"),
        "shape.ov_uneven": ("uneven ({lo}–{hi})", "不均匀（{lo}–{hi}）"),
        "shape.ov_gaps": ("gaps ({lo}–{hi})", "空隙（{lo}–{hi}）"),
        "shape.note_sam3": ("★ SAM 3 choice", "★ SAM 3 的选择"),
        "shape.note_checker": ("checkerboard", "棋盘效应"),
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
    lo, hi = per_cell
    if kind == "gaps":
        return t("shape.overlap_gaps", lang)
    if kind == "uneven":
        return t("shape.overlap_uneven", lang, lo=lo, hi=hi)
    return t("shape.overlap_none", lang) if hi == 1 else t("shape.overlap_even", lang, n=hi)


def render_size_report(report: SizeReport, lang: str = "en") -> RenderableType:
    p = report.params
    title = Text(t("shape.title", lang, nd=report.ndim, inp=_dims(report.in_spatial), out=_dims(report.out_spatial)),
                 style="bold")
    subtitle = Text(t("shape.params", lang, k=_val(report.kernel), s=_val(p.stride), p=_val(p.padding),
                      op=_val(p.output_padding), d=_val(p.dilation)))
    grid = _grid()
    grid.add_row(t("shape.output", lang), Text(t("shape.formula", lang), style="dim"))
    grid.add_row("", _lines(report, lambda a: a.formula))
    grid.add_row(t("shape.canvas", lang), _lines(report, lambda a: a.canvas_formula))
    grid.add_row("", Text(t("shape.canvas_note", lang, p=_val(p.padding), op=_val(p.output_padding)), style="dim"))
    grid.add_row(t("shape.op", lang), _lines(report, lambda a: t(
        "shape.op_values", lang, values=_op_values(a.output_padding_max), s=a.stride, d=a.dilation)))
    grid.add_row(t("shape.reachable", lang), _lines(report, lambda a: _reachable(a, lang)
        + "; " + (t("shape.forward_range", lang, lo=a.output_size_range[0], hi=a.output_size_range[1])
                  if a.output_size_range[1] > a.output_size_range[0]
                  else t("shape.forward_only", lang, lo=a.output_size_range[0]))))
    counts = ", ".join(
        (f"{a.axis} " if report.ndim > 1 else "")
        + ("/".join(map(str, c)) if c is not None else t("shape.too_many_phases", lang))
        for a, c in zip(report.axes, report.overlap_counts)
    )
    grid.add_row(t("shape.overlap", lang), Text(overlap_text(report.overlap_kind, report.per_cell, lang)))
    grid.add_row("", Text(t("shape.overlap_phases", lang, counts=counts), style="dim"))
    if report.sam3:
        grid.add_row("", Text(t("shape.sam3", lang), style="bold green"))
    conv = (f"Conv{report.ndim}d(kernel_size={_val(report.kernel)}, stride={_val(p.stride)}, "
            f"padding={_val(p.padding)}, dilation={_val(p.dilation)})")
    grid.add_row(t("shape.undoes", lang), conv)

    def inverse_line(a) -> str:
        check = (t("shape.roundtrip_ok", lang) if a.round_trip else
                 t("shape.roundtrip_bad", lang, i=a.in_size, op=a.output_padding, s=a.stride))
        return f"{a.inverse_formula}, {check}"

    grid.add_row("", _lines(report, inverse_line))
    rem = _val(tuple(a.inverse.remainder for a in report.axes))
    if all(a.round_trip for a in report.axes):
        grid.add_row("", Text(t("shape.remainder", lang, r=rem), style="dim"))
    tensor = report.tensor
    if tensor is not None:
        grid.add_row("", "")
        grid.add_row(t("shape.module", lang), tensor.module)
        grid.add_row(t("shape.input", lang), _dims(tensor.input_shape))
        grid.add_row(t("shape.output_tensor", lang), _dims(tensor.output_shape))
        grid.add_row(t("shape.weight", lang), f"{_dims(tensor.weight_shape)}  {t('shape.weight_note', lang)}")
        grid.add_row(t("shape.bias", lang),
                     _dims(tensor.bias_shape) if tensor.bias_shape else t("shape.no_bias", lang))
        expr = _dims(tensor.weight_shape) + (f" + {tensor.bias_params}" if tensor.bias_params else "")
        grid.add_row(t("shape.parameters", lang), f"{tensor.parameters:,} = {expr}")
    return Group(title, subtitle, Text(""), grid)


def _overlap_cell(c: Candidate, lang: str) -> str:
    lo, hi = c.per_cell
    if c.overlap_kind == "gaps":
        return t("shape.ov_gaps", lang, lo=lo, hi=hi)
    if c.overlap_kind == "uneven":
        return t("shape.ov_uneven", lang, lo=lo, hi=hi)
    return t("shape.ov_none", lang) if hi == 1 else t("shape.ov_even", lang, n=hi)


def _note(c: Candidate, lang: str) -> Text:
    notes = []
    if c.sam3:
        return Text(t("shape.note_sam3", lang), style="bold green")
    if c.overlap_kind == "uneven":
        notes.append(t("shape.note_checker", lang))
    if not c.keeps_edges:
        notes.append(t("shape.note_crops", lang))
    return Text("; ".join(notes), style="dim")


def render_target_search(search: TargetSearch, lang: str = "en", limit: int = 12) -> RenderableType:
    n = len(search.candidates)
    inp, target = _dims(search.in_spatial), _dims(search.target)
    kmax, smax = max(search.kernels), max(search.strides)
    head = Text(t("shape.target_title", lang, inp=inp, target=target, n=n, kmax=kmax, smax=smax,
                  d=search.dilations[0]), style="bold")
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
    parts.append(Text(t("shape.target_rank", lang), style="dim"))
    table = Table(box=box.SQUARE, padding=(0, 1))
    for name in ("#", "k", "s", "p", "op", "d"):
        table.add_column(name, justify="right")
    table.add_column(t("shape.col_overlap", lang))
    table.add_column(t("shape.col_note", lang))
    shown = search.candidates if limit <= 0 else search.candidates[:limit]
    for rank, c in enumerate(shown, start=1):
        table.add_row(str(rank), str(c.kernel), str(c.stride), _val(c.padding), _val(c.output_padding),
                      str(c.dilation), _overlap_cell(c, lang), _note(c, lang))
    parts.append(table)
    if len(shown) < n:
        parts.append(Text(t("shape.target_more", lang, shown=len(shown), n=n), style="dim"))
    return Group(*parts)
