"""Rich renderables for a :class:`convt_cli.neck.NeckTrace`: header, one table per branch, totals, checks.

Reads the records only; computes nothing but formatting.
"""

from __future__ import annotations

from rich import box
from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text
from rich.tree import Tree

from ..i18n import define, t
from ..limits import human_bytes
from ..neck import NeckTrace
from ..numbers import prefixed

define(
    {
        "neck.title": ("SAM 3 ViTDet neck", "SAM 3 ViTDet neck（特征金字塔）"),
        "neck.header": (
            "input {shape} (dim {dim}) · d_model {d_model} · scales {scales}{dual} · seed {seed}",
            "输入 {shape}（dim {dim}）· d_model {d_model} · 缩放 {scales}{dual} · 种子 {seed}",
        ),
        "neck.dual": (" · dual (SAM 3 + SAM 2 twin)", " · 双 neck（SAM 3 + SAM 2 孪生分支）"),
        "neck.runtime": (
            "device {device} ({name}) · {dtype} · torch {torch} · time: {timer}",
            "设备 {device}（{name}）· {dtype} · torch {torch} · 计时：{timer}",
        ),
        "neck.timer.perf_counter": ("perf_counter, one pass after a warm-up", "perf_counter，预热后单次运行"),
        "neck.timer.cuda_events": ("CUDA events, one pass after a warm-up", "CUDA 事件，预热后单次运行"),
        "neck.timer.none": ("none (meta: shapes only)", "无（meta：只算形状）"),
        "neck.meta_name": ("shapes only, no memory", "只算形状，不占内存"),
        "neck.note.sam3": (
            "--preset sam3 builds what upstream's model builder builds: the dual neck (convs.* for the detector, "
            "sam2_convs.* for the tracker). The last level ({scale}×) is computed and then dropped downstream "
            "(SAM3VLBackbone(scalp=1)).",
            "--preset sam3 与上游 model builder 一致：双 neck（convs.* 供检测器，sam2_convs.* 供跟踪器）。"
            "最后一级（{scale}×）算完后在下游被丢弃（SAM3VLBackbone(scalp=1)）。",
        ),
        "neck.dropped": ("dropped downstream", "下游丢弃"),
        "neck.dropped_line": (
            "Dropped downstream (scalp=1): {branches} — {flops} ({macs} multiply-adds) computed and thrown away, "
            "{share} of the neck.",
            "下游丢弃（scalp=1）：{branches} — {flops}（{macs} 次乘加）算完即丢弃，占 neck 的 {share}。",
        ),
        "neck.audit_title": (
            "Transposed convolutions, as convt audit records them:",
            "转置卷积（与 convt audit 的记录相同）：",
        ),
        "neck.audit_line": (
            "{name}: {verdict} · {useful} of {scatter} MACs useful · phase gain — (random weights)",
            "{name}：{verdict} · {scatter} 次乘加中 {useful} 次有用 · 相位增益 —（随机权重）",
        ),
        "neck.note.default": (
            "Note: no --shape or --preset given, so this is the explainer's 1×1280×64×64 (SAM 1's ViT-H "
            "geometry); the shipped SAM 3 is 1024 channels at 72×72: --preset sam3.",
            "注：未给 --shape 或 --preset，使用讲解文中的 1×1280×64×64（SAM 1 ViT-H 的尺寸）；"
            "实际发布的 SAM 3 是 1024 通道、72×72：--preset sam3。",
        ),
        "neck.branch_title": (
            "{name} · scale {scale} · {inp} → {out}",
            "{name} · 缩放 {scale} · {inp} → {out}",
        ),
        "neck.twin": ("SAM 2 twin", "SAM 2 孪生分支"),
        "neck.col.layer": ("layer", "层"),
        "neck.col.op": ("op", "运算"),
        "neck.col.shapes": ("in → out", "输入 → 输出"),
        "neck.col.formula": ("formula", "公式预测"),
        "neck.col.params": ("params", "参数"),
        "neck.col.flops": ("FLOPs", "FLOPs"),
        "neck.col.memory": ("out mem", "输出内存"),
        "neck.col.time": ("time", "时间"),
        "neck.col.fan_in": ("fan-in", "每格来源"),
        "neck.total": ("total", "合计"),
        "neck.not_run": ("(not run)", "（未运行）"),
        "neck.summary_title": ("Totals", "总计"),
        "neck.col.branch": ("branch", "分支"),
        "neck.col.output": ("output", "输出"),
        "neck.all": ("all branches", "全部分支"),
        "neck.memory": (
            "Memory estimate: {device} peak ≈ {peak}: 1.5×(weights {weights} + input {inp} + largest layer's "
            "in + out + workspace {step}){host}{budget}",
            "内存估计：{device} 峰值 ≈ {peak}：1.5×（权重 {weights} + 输入 {inp} + "
            "最大一层的输入+输出+工作区 {step}）{host}{budget}",
        ),
        "neck.real_run": ("a real run's", "实际运行的"),
        "neck.memory.host": (" · host extra {host} (staging, --verify)", " · 主机额外 {host}（暂存、--verify）"),
        "neck.memory.budget": (" · budget {budget}", " · 预算 {budget}"),
        "neck.check.shapes_ok": (
            "✓ every executed shape equals the formula's prediction",
            "✓ 每层实际形状都等于公式预测",
        ),
        "neck.check.shapes_bad": ("✗ some executed shapes differ from the formula", "✗ 有实际形状与公式预测不符"),
        "neck.check.flops_ok": (
            "✓ analytic FLOPs equal torch.utils.flop_counter.FlopCounterMode's count ({flops}) on every layer",
            "✓ 每层解析 FLOPs 都等于 torch.utils.flop_counter.FlopCounterMode 的计数（{flops}）",
        ),
        "neck.check.flops_bad": (
            "✗ analytic FLOPs differ from FlopCounterMode's on some layer",
            "✗ 有层的解析 FLOPs 与 FlopCounterMode 不符",
        ),
        "neck.check.params_ok": (
            "✓ parameter counts equal the built modules' sum(p.numel())",
            "✓ 参数量等于所建模块的 sum(p.numel())",
        ),
        "neck.check.params_bad": (
            "✗ some parameter counts differ from the formula",
            "✗ 有参数量与公式不符",
        ),
        "neck.fan_in_note": (
            "fan-in: input cells feeding each output cell, per input channel (k=2, s=2: exactly one — no overlap, "
            "no gaps). FLOPs = 2 × multiply-adds (FlopCounterMode's convention; GELU, max-pool and bias: 0).",
            "每格来源：每个输出格（每个输入通道）由几个输入格贡献（k=2, s=2：恰好 1 个，无重叠、无空洞）。"
            "FLOPs = 2 × 乘加次数（FlopCounterMode 的口径；GELU、最大池化和偏置计 0）。",
        ),
        "neck.verify_title": (
            "--verify: each ConvTranspose2d output against the NumPy engine (float64) on the same input",
            "--verify：每个 ConvTranspose2d 的输出与 NumPy 引擎（float64）在同一输入上的对比",
        ),
        "neck.col.max_diff": ("max |Δ|", "最大 |Δ|"),
        "neck.col.tolerance": ("rtol/atol", "rtol/atol"),
        "neck.col.ratio": ("worst |Δ|/tol", "最差 |Δ|/容差"),
        "neck.col.result": ("result", "结果"),
        "neck.pass": ("✓ pass", "✓ 通过"),
        "neck.fail": ("✗ FAIL", "✗ 不符"),
        "neck.tol_rule": (
            "tolerance per cell: atol + rtol·(|x|·|w| + |b|) with assert_close's rtol/atol for {dtype}; "
            "the magnitude term grows with the reduction length C_in·k².",
            "每格容差：atol + rtol·(|x|·|w| + |b|)，rtol/atol 取 assert_close 对 {dtype} 的默认值；"
            "幅值项随归约长度 C_in·k² 增长。",
        ),
        "neck.verify_ok": ("Verified: every ConvTranspose2d layer matches the engine.",
                           "验证通过：每个 ConvTranspose2d 层都与引擎一致。"),
        "neck.verify_bad": ("Mismatch: {count} ConvTranspose2d layer(s) differ from the engine beyond tolerance.",
                            "不一致：{count} 个 ConvTranspose2d 层与引擎的差超出容差。"),
        "neck.interrupted": (
            "Interrupted after {done} of {total} layers; the tables show what completed.",
            "已在 {total} 层中的第 {done} 层后中断；表中是已完成的部分。",
        ),
        "neck.progress": ("running {path}", "运行 {path}"),
        "neck.preparing": ("importing torch, building the neck, counting FLOPs…", "导入 torch、构建 neck、统计 FLOPs…"),
    }
)


def shape_text(shape: list[int] | tuple[int, ...] | None) -> str:
    """``1×1280×64×64`` → ``1×1280×64²`` (square maps as the explainer writes them)."""
    if shape is None:
        return "—"
    dims = [str(s) for s in shape]
    if len(shape) == 4 and shape[2] == shape[3]:
        dims = dims[:2] + [f"{shape[2]}²"]
    return "×".join(dims)


def si(value: int | float, unit: str = "") -> str:
    """3 significant digits with k/M/G/T/P: 26843545600 → ``26.8 G``; 999,600 → ``1 M`` (the prefix is
    chosen after rounding); an integer under 1000 exactly; past P, scientific notation."""
    if float(value).is_integer() and abs(float(value)) < 1000:
        return f"{int(value):d} {unit}".rstrip()
    text, prefix = prefixed(value, ("", "k", "M", "G", "T", "P"), 1000)
    return f"{text} {prefix}{unit}".rstrip()


def time_text(ms: float | None) -> str:
    if ms is None:
        return "—"
    if ms >= 1000:
        return f"{ms / 1000:.2f} s"
    if ms >= 1:
        return f"{ms:.1f} ms"
    return f"{ms * 1000:.0f} µs"


def _fan_in(value: list[int] | None, lang: str) -> str:
    if value is None:
        return ""
    lo, hi = value
    return str(lo) if lo == hi else f"{lo}–{hi}"


def _branch_title(branch, lang: str) -> str:
    name = branch.name + (f" ({t('neck.twin', lang)})" if branch.group == "sam2_convs" else "")
    if branch.dropped:
        name += f" · {t('neck.dropped', lang)}"
    return t("neck.branch_title", lang, name=name, scale=f"{branch.scale:g}", inp=shape_text(branch.in_shape),
             out=shape_text(branch.out_shape) if branch.complete else t("neck.not_run", lang))


def _formula(layer) -> Text:
    text = Text(shape_text(layer.predicted_shape))
    if layer.shape_ok is True:
        text.append(" ✓", style="green")
    elif layer.shape_ok is False:
        text.append(" ✗", style="bold red")
    return text


class BranchView:
    """One branch: a table when the console is wide enough for every row on one line, else a tree."""

    def __init__(self, branch, lang: str = "en") -> None:
        self.branch = branch
        self.lang = lang

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        table = branch_table(self.branch, self.lang)
        if Measurement.get(console, options.update(width=10_000), table).maximum <= options.max_width:
            yield table
        else:
            yield branch_tree(self.branch, self.lang)
            yield Text("")


def branch_tree(branch, lang: str = "en") -> Tree:
    """The narrow layout: one node per layer, its numbers on a second line."""
    tree = Tree(Text(_branch_title(branch, lang), style="bold"), guide_style="dim")
    for layer in branch.layers:
        node = Text(layer.name, style="bold")
        node.append(f"  {layer.op}")
        line = Text(f"{shape_text(layer.in_shape)} → {shape_text(layer.out_shape)}  ")
        line.append(f"{t('neck.col.formula', lang)} ")
        line.append_text(_formula(layer))
        parts = [f"{si(layer.params)} {t('neck.col.params', lang)}", si(layer.flops, "FLOP"),
                 human_bytes(layer.out_bytes)]
        if layer.time_ms is not None:
            parts.append(time_text(layer.time_ms))
        if layer.fan_in is not None:
            parts.append(f"{t('neck.col.fan_in', lang)} {_fan_in(layer.fan_in, lang)}")
        line.append("\n" + " · ".join(parts), style="dim")
        tree.add(Group(node, line))
    totals = f"{t('neck.total', lang)}: {si(branch.params)} {t('neck.col.params', lang)} · {si(branch.flops, 'FLOP')}"
    if branch.time_ms is not None:
        totals += f" · {time_text(branch.time_ms)}"
    tree.add(Text(totals, style="bold"))
    return tree


def branch_table(branch, lang: str = "en") -> Table:
    title = _branch_title(branch, lang)
    table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, show_footer=True, pad_edge=False)
    table.add_column(t("neck.col.layer", lang), footer=t("neck.total", lang), no_wrap=True)
    table.add_column(t("neck.col.op", lang))
    table.add_column(t("neck.col.shapes", lang))
    table.add_column(t("neck.col.formula", lang))
    table.add_column(t("neck.col.params", lang), justify="right", footer=si(branch.params))
    table.add_column(t("neck.col.flops", lang), justify="right", footer=si(branch.flops))
    table.add_column(t("neck.col.memory", lang), justify="right")
    table.add_column(t("neck.col.time", lang), justify="right", footer=time_text(branch.time_ms))
    table.add_column(t("neck.col.fan_in", lang))
    for layer in branch.layers:
        table.add_row(
            layer.name, layer.op,
            f"{shape_text(layer.in_shape)} → {shape_text(layer.out_shape)}",
            _formula(layer), si(layer.params), si(layer.flops), human_bytes(layer.out_bytes),
            time_text(layer.time_ms), _fan_in(layer.fan_in, lang),
        )
    return table


def summary_table(trace: NeckTrace, lang: str = "en") -> Table:
    table = Table(title=t("neck.summary_title", lang), title_justify="left", box=box.SIMPLE_HEAD,
                  show_footer=True, pad_edge=False)
    table.add_column(t("neck.col.branch", lang), footer=t("neck.all", lang), no_wrap=True)
    table.add_column(t("neck.col.output", lang))
    table.add_column(t("neck.col.params", lang), justify="right", footer=si(trace.params))
    table.add_column(t("neck.col.flops", lang), justify="right", footer=si(trace.flops))
    table.add_column(t("neck.col.time", lang), justify="right", footer=time_text(trace.time_ms))
    for b in trace.branches:
        out = shape_text(b.out_shape) if b.complete else t("neck.not_run", lang)
        name = f"{b.name} ×{b.scale:g}" + (" ✗" if b.dropped else "")
        table.add_row(name, out, si(b.params), si(b.flops), time_text(b.time_ms))
    return table


def dropped_line(trace: NeckTrace, lang: str = "en") -> Text | None:
    dropped = [b for b in trace.branches if b.dropped]
    if not dropped:
        return None
    share = f"{100 * trace.dropped_flops / trace.flops:.2f} %" if trace.flops else "—"
    return Text(t("neck.dropped_line", lang, branches=", ".join(b.name for b in dropped),
                  flops=si(trace.dropped_flops, "FLOP"), macs=si(trace.dropped_flops // 2), share=share),
                style="yellow")


def audit_lines(trace: NeckTrace, lang: str = "en") -> Text | None:
    """The audit's records of the transposed convolutions: overlap and useful multiply-adds."""
    from .verdict import verdict_short

    report = trace.audit
    if report is None or not report.layers:
        return None
    text = Text(t("neck.audit_title", lang), style="bold")
    for la in report.layers:
        lo, hi = la.overlap_per_cell
        verdict = verdict_short("even" if la.overlap == "none" else la.overlap, (lo, hi), lang)
        text.append("\n")
        text.append(t("neck.audit_line", lang, name=la.name, verdict=verdict, useful=si(la.macs_useful),
                      scatter=si(la.macs_scatter)))
    return text


def verify_table(trace: NeckTrace, lang: str = "en") -> Table:
    table = Table(title=t("neck.verify_title", lang), title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
    table.add_column(t("neck.col.layer", lang), no_wrap=True)
    table.add_column(t("neck.col.max_diff", lang), justify="right")
    table.add_column(t("neck.col.tolerance", lang))
    table.add_column(t("neck.col.ratio", lang), justify="right")
    table.add_column(t("neck.col.result", lang))
    for layer in trace.layers:
        v = layer.verify
        if v is None:
            continue
        result = Text(t("neck.pass", lang), style="green") if v.ok else Text(t("neck.fail", lang), style="bold red")
        table.add_row(layer.path, f"{v.max_abs_diff:.3g}", f"{v.tolerance} {v.rtol:g}/{v.atol:g}",
                      f"{v.worst_ratio:.3g}", result)
    return table


def header(trace: NeckTrace, lang: str = "en") -> Text:
    cfg = trace.config
    text = Text(t("neck.title", lang), style="bold")
    text.append("\n")
    text.append(t(
        "neck.header", lang, shape=shape_text(cfg.shape), dim=cfg.dim, d_model=cfg.d_model,
        scales=", ".join(f"{s:g}" for s in cfg.scales), dual=t("neck.dual", lang) if cfg.dual else "",
        seed=cfg.seed,
    ))
    text.append("\n")
    name = t("neck.meta_name", lang) if trace.device == "meta" else trace.device_name
    text.append(t(
        "neck.runtime", lang, device=trace.device, name=name, dtype=trace.dtype,
        torch=trace.torch_version, timer=t(f"neck.timer.{trace.timer}", lang),
    ))
    if "default" in trace.notes:
        text.append("\n")
        text.append(t("neck.note.default", lang), style="yellow")
    if cfg.scalp and cfg.dual:
        text.append("\n")
        text.append(t("neck.note.sam3", lang, scale=f"{cfg.scales[-1]:g}"), style="yellow")
    return text


def memory_line(trace: NeckTrace, lang: str = "en") -> Text:
    m = trace.memory
    host_bytes = m.verify_bytes + (m.staging_bytes if trace.device == "cuda" else 0)
    host = t("neck.memory.host", lang, host=human_bytes(host_bytes)) if host_bytes else ""
    budget = "" if trace.memory_budget is None else t("neck.memory.budget", lang,
                                                      budget=human_bytes(trace.memory_budget))
    device = t("neck.real_run", lang) if trace.device == "meta" else trace.device
    return Text(t(
        "neck.memory", lang, device=device, peak=human_bytes(m.device_bytes),
        weights=human_bytes(m.weights_bytes), inp=human_bytes(m.input_bytes), step=human_bytes(m.largest_step_bytes),
        host=host, budget=budget,
    ), style="dim")


def checks(trace: NeckTrace, lang: str = "en") -> Text:
    text = Text()
    lines = []
    lines.append((t("neck.check.shapes_ok", lang), "green") if trace.shapes_ok
                 else (t("neck.check.shapes_bad", lang), "bold red"))
    if trace.flops_counted is not None:
        lines.append((t("neck.check.flops_ok", lang, flops=si(trace.flops_counted, "FLOP")), "green")
                     if trace.flops_ok else (t("neck.check.flops_bad", lang), "bold red"))
    params_ok = all(layer.params == layer.params_predicted for layer in trace.layers)
    lines.append((t("neck.check.params_ok", lang), "green") if params_ok
                 else (t("neck.check.params_bad", lang), "bold red"))
    for i, (line, style) in enumerate(lines):
        if i:
            text.append("\n")
        text.append(line, style=style)
    return text


def render_trace(trace: NeckTrace, lang: str = "en") -> RenderableType:
    """The whole report, top to bottom."""
    parts: list[RenderableType] = [header(trace, lang), Text("")]
    for branch in trace.branches:
        parts.append(BranchView(branch, lang))
    parts.append(summary_table(trace, lang))
    for extra in (dropped_line(trace, lang), audit_lines(trace, lang)):
        if extra is not None:
            parts.append(extra)
    parts.append(Text(t("neck.fan_in_note", lang), style="dim"))
    parts.append(memory_line(trace, lang))
    parts.append(Text(""))
    parts.append(checks(trace, lang))
    if trace.verified:
        parts.append(Text(""))
        parts.append(verify_table(trace, lang))
        parts.append(Text(t("neck.tol_rule", lang, dtype=trace.dtype), style="dim"))
        bad = [layer for layer in trace.layers if layer.verify is not None and not layer.verify.ok]
        parts.append(Text(t("neck.verify_bad", lang, count=len(bad)), style="bold red") if bad
                     else Text(t("neck.verify_ok", lang), style="bold green"))
    if trace.interrupted:
        parts.append(Text(""))
        parts.append(Text(t("neck.interrupted", lang, done=trace.completed_layers, total=trace.total_layers),
                          style="bold yellow"))
    return Group(*parts)
