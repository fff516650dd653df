"""Renderables for ``convt compare``: the four upsampled grids, the cost table, the overlap maps."""

from __future__ import annotations

from rich import box
from rich.columns import Columns
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from ..i18n import define, t
from ..numbers import prefixed
from ..upsampling import BILINEAR_FLOPS_PER_VALUE, OVERLAP_INPUT, RESIZE_CONV_KERNEL, CompareReport, OverlapMap
from .grid import format_number
from .layout import fit_table, prose_lines, stacked_rows
from .show_common import Style, fitted, values_grid
from .verdict import verdict_counts, verdict_short

define(
    {
        "compare.title": ("Upsampling a {h}×{w} input by {s}: nearest, bilinear and ConvTranspose2d",
                          "将 {h}×{w} 输入放大 {s} 倍：最近邻、双线性与 ConvTranspose2d"),
        "compare.input": ("input {h}×{w}", "输入 {h}×{w}"),
        "compare.kernel": ("kernel {h}×{w} (stride {s})", "卷积核 {h}×{w}（stride {s}）"),
        "compare.m.nearest": ("nearest", "最近邻 nearest"),
        "compare.m.bilinear": ("bilinear, align_corners=False", "双线性 bilinear，align_corners=False"),
        "compare.m.bilinear_align_corners": ("bilinear, align_corners=True", "双线性 bilinear，align_corners=True"),
        "compare.m.conv_transpose": ("ConvTranspose2d, k={kh}×{kw}, s={s}{more}",
                                     "ConvTranspose2d，k={kh}×{kw}，s={s}{more}"),
        "compare.m.resize_conv": ("nearest + Conv2d {k}×{k} (resize-conv)", "最近邻 + Conv2d {k}×{k}（先放大再卷积）"),
        "compare.sources": ("nearest and bilinear: torch.nn.functional.interpolate (float64); ConvTranspose2d: "
                            "the NumPy engine, checked against torch.nn.functional.conv_transpose2d: {check} "
                            "(max |Δ| = {diff})",
                            "最近邻与双线性：torch.nn.functional.interpolate（float64）；ConvTranspose2d：NumPy 引擎，"
                            "已与 torch.nn.functional.conv_transpose2d 对照：{check}（最大 |Δ| = {diff}）"),
        "compare.agrees": ("agrees", "一致"),
        "compare.disagrees": ("DISAGREES", "不一致"),
        "compare.same_as": ("With this kernel ConvTranspose2d gives exactly the {methods} output.",
                            "用这个卷积核时，ConvTranspose2d 的结果与 {methods} 完全相同。"),
        "compare.learned": ("Interpolation follows a fixed rule; ConvTranspose2d's kernel is learned, so it can "
                            "produce this or any other pattern a kernel can (a {s}×{s} kernel of ones reproduces "
                            "nearest exactly).",
                            "插值遵循固定规则；ConvTranspose2d 的卷积核是学习得到的，可以产生这种或任何卷积核能表达的"
                            "模式（{s}×{s} 的全 1 卷积核恰好复现最近邻）。"),
        "compare.cost_title": ("Cost on 1×{c}×{h}×{w}, ×{s}, channels {c} → {co}",
                               "在 1×{c}×{h}×{w} 上放大 {s} 倍、通道 {c} → {co} 的代价"),
        "compare.col.method": ("method", "方法"),
        "compare.col.params": ("parameters", "可学习参数"),
        "compare.col.flops": ("FLOPs", "FLOPs"),
        "compare.col.shape": ("output shape", "输出形状"),
        "compare.col.channels": ("changes channels", "能改通道数"),
        "compare.yes": ("yes", "能"),
        "compare.no": ("no", "不能"),
        "compare.flops_note": ("Parameters are learnable (weight + bias). FLOPs (M = 10⁶, G = 10⁹): 2 per "
                               "multiply-add, bias adds not counted; bilinear {b} per output value ({b_mul} "
                               "multiplies + {b_add} adds); nearest only copies (0). Interpolation keeps the C_in "
                               "channels: changing them needs an extra conv.",
                               "参数均可学习（权重 + 偏置）。FLOPs（M = 10⁶，G = 10⁹）：每次乘加计 2，不计偏置加法；"
                               "双线性每个输出值 {b}（{b_mul} 次乘 + {b_add} 次加）；最近邻只复制（0）。"
                               "插值保持 C_in 个通道：要改通道数需再加一层卷积。"),
        "compare.overlap_title": ("Overlap maps: contributions per cell, a {n}×{n} input of ones scattering a "
                                  "k×k kernel of ones",
                                  "重叠图：{n}×{n} 的全 1 输入散射 k×k 全 1 卷积核时每格收到的贡献数"),
        "compare.map_title": ("k={k}, s={s}", "k={k}，s={s}"),
        "compare.sam3": ("★ SAM 3 choice", "★ SAM 3 的选择"),
        "compare.yours": (" (yours)", "（本次）"),
        "compare.distill": ("Distill's rule (Odena et al. 2016): when k is not divisible by the stride, output cells "
                            "receive uneven numbers of contributions and a checkerboard appears; the borders get "
                            "fewer in every case. Their fix is resize-then-convolve: nearest or bilinear "
                            "upsampling followed by an ordinary convolution (the resize-conv row above). k=2, s=2 "
                            "avoids the problem by construction: one contribution per cell.",
                            "Distill 的规则（Odena 等，2016）：k 不能被 stride 整除时，各输出格收到的贡献数不均，"
                            "出现棋盘效应；任何情况下边界格都更少。他们的办法是先放大再卷积：先最近邻或双线性上采样，"
                            "再做普通卷积（即上表的 resize-conv 一行）。"
                            "k=2、s=2 从结构上避免了这个问题：每格一份贡献。"),
    }
)


def _dims(shape: tuple[int, ...]) -> str:
    return "×".join(map(str, shape))


def human_flops(n: int) -> str:
    """``26843545600`` → ``26.84 G`` (4 significant digits; decimal prefixes, chosen after rounding:
    999,950 is ``1 M``, never ``1000 k``)."""
    if abs(n) < 1000:
        return str(n)
    text, prefix = prefixed(n, ("", "k", "M", "G", "T"), 1000, digits=4)
    return f"{text} {prefix}".rstrip()


def _grid(title: str, values, precision: int, width: int, lang: str) -> RenderableType:
    """A titled box grid, or its compact form (said so) when the boxes are wider than ``width``."""
    import io

    from rich.console import Console

    st = Style(lang=lang, precision=precision, width=width)
    console = Console(width=width, file=io.StringIO(), color_system=None)
    return fitted(console, st, lambda compact: values_grid(values, st, title=title, compact=compact))


def method_label(method: str, report: CompareReport, lang: str) -> str:
    kh, kw = report.kernel.shape
    sep = "，" if lang == "zh" else ", "
    more = (f"{sep}p={report.padding}" if report.padding else "") + \
        (f"{sep}op={report.output_padding}" if report.output_padding else "")
    return t(f"compare.m.{method}", lang, kh=kh, kw=kw, s=report.scale, k=RESIZE_CONV_KERNEL, more=more)


def _verdict(m: OverlapMap, lang: str) -> str:
    return verdict_short(m.verdict.kind, m.verdict.per_cell, lang) + "\n" + verdict_counts(m.verdict.per_cell, lang)


def _prose(text: str, width: int, style: str = "") -> Text:
    return Text("\n".join(prose_lines(text, width)), style=style)


def render_compare(report: CompareReport, lang: str = "en", precision: int = 3, width: int = 100) -> RenderableType:
    h, w = report.input.shape
    kh, kw = report.kernel.shape
    parts: list[RenderableType] = [
        _prose(t("compare.title", lang, h=h, w=w, s=report.scale), width, "bold"),
        Columns([
            _grid(t("compare.input", lang, h=h, w=w), report.input, precision, width, lang),
            _grid(t("compare.kernel", lang, h=kh, w=kw, s=report.scale), report.kernel, precision, width, lang),
        ], padding=(0, 4)),
        Text(""),
    ]
    grids = {}
    for out in report.outputs:
        title = f"{method_label(out.method, report, lang)} → {_dims(out.values.shape)}"
        grids[out.method] = _grid(title, out.values, precision, width, lang)
    # The two block-like results side by side, then the two smooth ones.
    parts.append(Columns([grids["nearest"], grids["conv_transpose"]], padding=(1, 4)))
    parts.append(Text(""))
    parts.append(Columns([grids["bilinear"], grids["bilinear_align_corners"]], padding=(1, 4)))
    check = report.torch_check
    parts.append(_prose(t("compare.sources", lang, check=t("compare.agrees" if check.agrees else "compare.disagrees",
                                                            lang),
                          diff=format_number(check.max_abs_diff, 3) if check.max_abs_diff else "0"), width, "dim"))
    if report.same_as_conv_transpose:
        methods = ", ".join(method_label(m, report, lang) for m in report.same_as_conv_transpose)
        parts.append(_prose(t("compare.same_as", lang, methods=methods), width))
    else:
        parts.append(_prose(t("compare.learned", lang, s=report.scale), width, "dim"))
    parts.append(Text(""))

    c_in, c_out = report.channels
    sh, sw = report.size
    parts.append(_prose(t("compare.cost_title", lang, c=c_in, co=c_out, h=sh, w=sw, s=report.scale), width, "bold"))
    headers = [t(f"compare.col.{k}", lang) for k in ("method", "params", "flops", "shape", "channels")]
    rows = [[method_label(row.method, report, lang), f"{row.parameters:,}", human_flops(row.flops),
             _dims(row.output_shape), t("compare.yes" if row.changes_channels else "compare.no", lang)]
            for row in report.costs]
    table = Table(box=box.SQUARE, padding=(0, 1))
    table.add_column(headers[0])
    table.add_column(headers[1], justify="right")
    table.add_column(headers[2], justify="right")
    table.add_column(headers[3])
    table.add_column(headers[4])
    for row in rows:
        table.add_row(*row)
    if fit_table(table, width):
        parts.append(table)
    else:
        parts.append(Text(t("layout.stacked", lang), style="dim"))
        parts.append(Text("\n".join(stacked_rows(headers, rows, width))))
    b = BILINEAR_FLOPS_PER_VALUE
    parts.append(_prose(t("compare.flops_note", lang, b=b, b_mul=4, b_add=b - 4), width, "dim"))
    parts.append(Text(""))

    parts.append(_prose(t("compare.overlap_title", lang, n=OVERLAP_INPUT), width, "bold"))
    maps = []
    for m in report.overlap_maps:
        title = t("compare.map_title", lang, k=m.kernel, s=m.stride)
        lines = [title + (t("compare.yours", lang) if m.yours else ""), _verdict(m, lang)]
        if m.sam3:
            lines.append(t("compare.sam3", lang))
        maps.append(Group(Text("\n".join(lines), style="bold"), _grid("", m.counts, precision, width, lang)))
    parts.append(Columns(maps, padding=(0, 3)))
    parts.append(_prose(t("compare.distill", lang), width, "dim"))
    return Group(*parts)
