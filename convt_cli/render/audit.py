"""Rich renderables for a :class:`convt_cli.audit.records.AuditReport` (reads the records only)."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.text import Text
from rich.tree import Tree

from ..audit.phase import THRESHOLD
from ..audit.text import shown
from ..i18n import define, t
from .layout import Hanging
from .neck import shape_text, si, time_text  # also defines the neck.* labels used here
from .verdict import verdict_short

define(
    {
        "audit.title": ("convt audit · {model}", "convt audit · {model}"),
        "audit.input": ("input {shape} · device {device} ({name}){torch}",
                        "输入 {shape} · 设备 {device}（{name}）{torch}"),
        "audit.onnx_input": ("input {shape} · shapes from ONNX shape inference",
                             "输入 {shape} · 形状来自 ONNX 形状推断"),
        "audit.weights.weights": ("weights {path} ({fmt}): {missing} missing, {unexpected} unexpected keys",
                                  "权重 {path}（{fmt}）：缺少 {missing} 个键，多出 {unexpected} 个键"),
        "audit.weights.init": ("weights: the builder's own (--init-weights)", "权重：构建函数自带的（--init-weights）"),
        "audit.weights.onnx": ("weights: the ONNX file's initializers", "权重：ONNX 文件中的初始值"),
        "audit.weights.meta": (
            "weights: none (meta device) — phase gain needs --weights FILE, or --init-weights",
            "权重：无（meta 设备）— 相位增益需要 --weights FILE 或 --init-weights"),
        "audit.weights.random": (
            "weights: freshly random — phase gain needs --weights FILE, or --init-weights",
            "权重：刚随机初始化 — 相位增益需要 --weights FILE 或 --init-weights"),
        "audit.keys_missing": ("missing: {keys}", "缺少：{keys}"),
        "audit.keys_unexpected": ("unexpected: {keys}", "多出：{keys}"),
        "audit.nothing": ("No transposed convolution or upsampling op ran.", "没有运行任何转置卷积或上采样运算。"),
        "audit.layers": ("{n} layer(s), in execution order", "{n} 层，按执行顺序"),
        "audit.params": ("params", "参数"),
        "audit.macs": ("MACs {scatter} scatter, {useful} useful ({share})",
                       "乘加 {scatter} 散射，{useful} 有用（{share}）"),
        "audit.no_macs": ("no multiply-adds by weights", "无权重乘加"),
        "audit.subpixel": ("its input comes straight from a stride-1 Conv2d: a sub-pixel layer",
                           "输入直接来自 stride 为 1 的 Conv2d：亚像素层"),
        "audit.bias": ("bias adds {n}", "偏置加法 {n}"),
        "audit.overlap": ("overlap: {verdict}", "重叠：{verdict}"),
        "audit.phase": ("phase gain: worst {worst} (channel {ch}), median {median}",
                        "相位增益：最差 {worst}（通道 {ch}），中位数 {median}"),
        "audit.phase_none": ("phase gain: — (no real weights)", "相位增益：—（没有真实权重）"),
        "audit.phase_map": ("all-ones response by output phase − its mean, in % of full scale (channel {ch}):",
                            "全 1 输入的各输出相位响应 − 其均值，以满量程的 % 计（通道 {ch}）："),
        "audit.phase_map_big": (
            "all-ones response by output phase − its mean (channel {ch}): {cells} phases, not listed; "
            "from {lo} % to {hi} % of full scale",
            "全 1 输入的各输出相位响应 − 其均值（通道 {ch}）：{cells} 个相位，不逐一列出；"
            "范围为满量程的 {lo} % 到 {hi} %"),
        "audit.single": ("a {shape} input (one element per channel): each output cell gets at most one product",
                         "{shape} 的输入（每个通道一个元素）：每个输出格至多收到一份乘积"),
        "audit.flag": ("⚠ checkerboard", "⚠ 棋盘效应"),
        "audit.heatmap_title": (
            "All-ones response by output phase − its mean, in % of full scale, worst channel of each layer "
            "(0 everywhere: flat)",
            "全 1 输入的各输出相位响应 − 其均值，以满量程的 % 计，每层取最差通道（处处为 0：平坦）"),
        "audit.heatmap_bar": ("% of full scale", "满量程的 %"),
        "audit.heatmap_map": ("{name}: phase gain {worst}", "{name}：相位增益 {worst}"),
        "audit.dropped": ("dropped downstream", "下游丢弃"),
        "audit.fix_geometry": (
            "fix: a kernel divisible by the stride (e.g. k=4, s=2), or resize-then-convolve (Upsample + Conv)",
            "修正：让卷积核能被 stride 整除（如 k=4, s=2），或先缩放再卷积（Upsample + Conv）"),
        "audit.fix_weights": (
            "fix: ICNR initialisation (every phase starts from one sub-kernel), or resize-then-convolve; "
            "an even overlap alone does not fix the weights",
            "修正：ICNR 初始化（各相位从同一子核开始），或先缩放再卷积；仅靠均匀重叠不能修正权重"),
        "audit.totals": ("Totals", "合计"),
        "audit.total_line": (
            "{layers} layer(s), {convs} transposed conv · {params} params · MACs {scatter} scatter, "
            "{useful} useful — {cropped} ({share}) computed then cropped · bias adds {bias}",
            "{layers} 层，其中 {convs} 个转置卷积 · {params} 参数 · 乘加 {scatter} 散射，{useful} 有用 — "
            "{cropped}（{share}）算完即被裁掉 · 偏置加法 {bias}"),
        "audit.dropped_line": ("{macs} MACs feed levels that are dropped downstream",
                               "{macs} 次乘加用于下游丢弃的层级"),
        "audit.time_line": ("measured time of these layers: {time} ({timer}, after one warm-up pass)",
                            "这些层的实测时间：{time}（{timer}，先预热一次）"),
        "audit.flagged": ("{n} layer(s) flagged for checkerboard (phase gain > {thr} or uneven overlap/gaps)",
                          "{n} 层有棋盘效应风险（相位增益 > {thr}，或重叠不均匀/有空隙）"),
        "audit.clean": ("No layer flagged for checkerboard (phase gain ≤ {thr}, no uneven overlap or gaps).",
                        "没有层有棋盘效应风险（相位增益 ≤ {thr}，无不均匀重叠或空隙）。"),
        "audit.rule": (
            "phase gain = std of an output channel's sᵈ phase sums S = Σ w[:, c, a::s, b::s] ÷ the rms of "
            "Σ|w[:, c, a::s, b::s]| (its full scale): 0 a flat input stays flat, 1 all ripple; threshold {thr}: "
            "a 1 % ripple.",
            "相位增益 = 输出通道 sᵈ 个相位和 S = Σ w[:, c, a::s, b::s] 的标准差 ÷ Σ|w[:, c, a::s, b::s]| 的均方根"
            "（满量程）：0 表示平坦输入仍平坦，1 表示全是波纹；阈值 {thr}：1 % 的波纹。"),
        "audit.timer.perf_counter": ("perf_counter", "perf_counter"),
        "audit.timer.cuda_events": ("CUDA events", "CUDA 事件"),
    }
)

MAX_KEYS = 4
MAX_MAP_ROWS, MAX_MAP_COLS = 8, 8  # a larger phase map is cut, its range printed


def _num(value: float | None) -> str:
    if value is None:
        return "—"
    if value == float("inf"):
        return "∞"
    return f"{value:.3g}"


def _share(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f} %" if whole else "—"


def header(report, lang: str) -> Text:
    text = Text(t("audit.title", lang, model=shown(report.model)), style="bold")
    text.append("\n")
    shape = shape_text(report.input_shape) if report.input_shape else "?"
    if report.source == "onnx":
        text.append(t("audit.onnx_input", lang, shape=shape))
    else:
        torch = f" · torch {report.torch_version}" if report.torch_version else ""
        name = t("neck.meta_name", lang) if report.device == "meta" else report.device_name
        text.append(t("audit.input", lang, shape=shape, device=report.device, name=name, torch=torch))
    w = report.weights
    text.append("\n")
    if w.reason == "weights":
        text.append(t("audit.weights.weights", lang, path=shown(w.path), fmt=w.format, missing=len(w.missing),
                      unexpected=len(w.unexpected)))
        for key, names in (("audit.keys_missing", w.missing), ("audit.keys_unexpected", w.unexpected)):
            if names:
                listed = ", ".join(shown(n) for n in names[:MAX_KEYS]) + (
                    f", … (+{len(names) - MAX_KEYS})" if len(names) > MAX_KEYS else "")
                text.append("\n  " + t(key, lang, keys=listed), style="yellow")
    else:
        text.append(t(f"audit.weights.{w.reason}", lang), style="dim" if w.real else "yellow")
    return text


def phase_map_text(pg, lang: str) -> Text:
    if not pg.phase_sums:  # too many phases to list: their range
        return Text(t("audit.phase_map_big", lang, ch=pg.worst_channel, cells=f"{pg.cells:,}",
                      lo=f"{100 * pg.ripple_min:+.3g}", hi=f"{100 * pg.ripple_max:+.3g}"), style="dim")
    grid = pg.phase_map
    rows = grid.reshape(1, -1) if grid.ndim == 1 else grid.reshape(-1, grid.shape[-1])
    text = Text(t("audit.phase_map", lang, ch=pg.worst_channel), style="dim")
    shown_rows = rows[:MAX_MAP_ROWS]
    for row in shown_rows:
        text.append("\n  ")
        for i, value in enumerate(row[:MAX_MAP_COLS]):
            if i:
                text.append(" ")
            off = abs(value) > pg.threshold
            text.append(f"{100 * value:+7.2f}", style="bold red" if off else "green")
        if len(row) > MAX_MAP_COLS:
            text.append(f" … (+{len(row) - MAX_MAP_COLS})", style="dim")
    if len(rows) > MAX_MAP_ROWS:
        text.append(f"\n  … (+{len(rows) - MAX_MAP_ROWS} rows; range {100 * pg.ripple_min:+.3g} % to "
                    f"{100 * pg.ripple_max:+.3g} %)", style="dim")
    return text


def layer_node(layer, lang: str) -> RenderableType:
    head = Text(f"{layer.index}  ", style="dim")
    head.append(shown(layer.name), style="bold")
    if layer.flagged:
        head.append("  " + t("audit.flag", lang), style="bold red")
    if layer.dropped:
        head.append("  " + t("audit.dropped", lang), style="yellow")
    lines = [head, Text(shown(layer.op))]
    facts = f"{shape_text(layer.input_shape)} → {shape_text(layer.output_shape)}"
    if layer.params:
        facts += f" · {si(layer.params)} {t('audit.params', lang)}"
    if layer.time_ms is not None:
        facts += f" · {time_text(layer.time_ms)}"
    lines.append(Text(facts))
    if layer.runtime is not None:
        lines.append(runtime_line(layer.runtime, lang))
    if not layer.is_conv:
        lines.append(Text(t("audit.no_macs", lang), style="dim"))
        if layer.phase_gain is not None:  # a sub-pixel layer: the convolution before this pixel shuffle
            lines.append(Text(t("audit.subpixel", lang), style="dim"))
            lines += _phase_lines(layer, lang)
        return Group(*lines)
    macs = t("audit.macs", lang, scatter=si(layer.macs_scatter), useful=si(layer.macs_useful),
             share=_share(layer.macs_useful, layer.macs_scatter))
    if layer.bias_adds:
        macs += " · " + t("audit.bias", lang, n=si(layer.bias_adds))
    lines.append(Text(macs))
    lo, hi = layer.overlap_per_cell
    verdict = verdict_short("even" if layer.overlap == "none" else layer.overlap, (lo, hi), lang)
    count = f"{lo}" if lo == hi else f"{lo}–{hi}"
    style = "bold red" if layer.overlap in ("uneven", "gaps") else ""
    nd = len(layer.input_shape) - 2
    if nd > 0 and all(n == 1 for n in layer.input_shape[-nd:]):  # one input element: the kernel never overlaps
        lines.append(Text(t("audit.overlap", lang, verdict=f"{verdict} — " + t(
            "audit.single", lang, shape="×".join(["1"] * nd))), style=style))
    else:
        lines.append(Text(t("audit.overlap", lang, verdict=f"{verdict} ({count})"), style=style))
    if layer.phase_gain is None:
        lines.append(Text(t("audit.phase_none", lang), style="dim"))
    lines += _phase_lines(layer, lang)
    return Group(*lines)


def _phase_lines(layer, lang: str) -> list[RenderableType]:
    """The phase-gain index, the phase map and the fixes for a flagged layer."""
    lines = []
    pg = layer.phase_gain
    if pg is not None:
        lines.append(Text(t("audit.phase", lang, worst=_num(pg.worst), ch=pg.worst_channel, median=_num(pg.median)),
                          style="bold red" if pg.flagged else "green"))
        if pg.cells > 1:
            lines.append(phase_map_text(pg, lang))
    # Wrapped between words, and between Chinese characters, never leaving "修正：ICNR" alone on a line.
    if layer.overlap in ("uneven", "gaps"):
        lines.append(Hanging(t("audit.fix_geometry", lang), style="yellow"))
    if pg is not None and pg.flagged:
        lines.append(Hanging(t("audit.fix_weights", lang), style="yellow"))
    return lines


def totals(report, lang: str) -> Text:
    tot = report.totals
    text = Text(t("audit.totals", lang), style="bold")
    text.append("\n")
    text.append(t("audit.total_line", lang, layers=tot["layers"], convs=tot["transposed_convolutions"],
                  params=si(tot["params"]), scatter=si(tot["macs_scatter"]), useful=si(tot["macs_useful"]),
                  cropped=si(tot["macs_cropped"]), share=_share(tot["macs_cropped"], tot["macs_scatter"]),
                  bias=si(tot["bias_adds"])))
    if tot["macs_dropped"]:
        text.append("\n")
        text.append(t("audit.dropped_line", lang, macs=si(tot["macs_dropped"])), style="yellow")
    if tot["time_ms"] is not None:
        timer = next((n[len("timer_"):] for n in report.notes if n.startswith("timer_")), "perf_counter")
        text.append("\n")
        text.append(t("audit.time_line", lang, time=time_text(tot["time_ms"]), timer=t(f"audit.timer.{timer}", lang)))
    text.append("\n")

    if tot["flagged"]:
        text.append(t("audit.flagged", lang, n=tot["flagged"], thr=THRESHOLD), style="bold red")
    else:
        text.append(t("audit.clean", lang, thr=THRESHOLD), style="green")
    text.append("\n")
    text.append(t("audit.rule", lang, thr=THRESHOLD), style="dim")
    return text


def runtime_line(verdict: dict, lang: str) -> Text:
    """``--runtime``: the layer's verdict in that toolchain (convt_cli.runtimes.layers)."""
    from .runtimes import layer_verdict_text

    return layer_verdict_text(verdict, lang)


def render_audit(report, lang: str = "en") -> RenderableType:
    parts: list[RenderableType] = [header(report, lang), Text("")]
    if report.runtime is not None:
        from .runtimes import audit_runtime_header

        parts[1:1] = [audit_runtime_header(report.runtime, lang)]
    if not report.layers:
        parts.append(Text(t("audit.nothing", lang), style="yellow"))
        return Group(*parts)
    tree = Tree(Text(t("audit.layers", lang, n=len(report.layers)), style="bold"), guide_style="dim")
    for layer in report.layers:
        tree.add(layer_node(layer, lang))
    parts += [tree, Text(""), totals(report, lang)]
    return Group(*parts)
