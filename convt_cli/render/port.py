"""Renderables for ``convt port``: the target's code, the verdict, both size formulas, the proof (reads records)."""

from __future__ import annotations

import re

from rich.cells import cell_len
from rich.console import Group, RenderableType
from rich.text import Text

from ..i18n import define, t
from ..port.plan import EXACT, IMPOSSIBLE
from ..port.report import NAMES, PortReport
from ..port.texts import say
from .layout import prose_lines, signature_lines

define(
    {
        "port.title": ("{source} → {target}", "{source} → {target}"),
        "port.exact": ("Exact: the same arguments compute the same output, no extra op.",
                       "完全等价：参数一一对应，无需额外操作。"),
        "port.extra": ("Needs an extra op after the call (the arguments alone cannot place the crop):",
                       "调用之后需要额外操作（仅靠参数无法放置裁剪）："),
        "port.slice": ("slice: drop {cells}", "切片：去掉 {cells}"),
        "port.pad": ("pad: add {cells} of zeros (+ bias)", "填充：补 {cells} 个零（再加 bias）"),
        "port.expand": ("kernel: dilation {d} written into the kernel as zeros (kernel size {k}, dilation 1)",
                        "卷积核：把 dilation {d} 以零写入卷积核（尺寸 {k}，dilation 1）"),
        "port.impossible": ("Impossible: {reason}.", "无法表达：{reason}。"),
        "port.closest": ("Closest workable construction: {text}.", "最接近的可行构造：{text}。"),
        "port.call": ("Target", "目标写法"),
        "port.weights": ("Weights", "权重转换"),
        "port.extra_code": ("Extra op", "额外操作"),
        "port.sizes": ("Output size (input {size})", "输出尺寸（输入 {size}）"),
        "port.proof": ("Proof", "验证"),
        "port.proof_line": ("both conventions on the engine, seed {seed}, input {shape}: max |Δ| = {diff} "
                            "(values up to {top})", "两种约定都在引擎上计算，种子 {seed}，输入 {shape}："
                            "max |Δ| = {diff}（数值最大 {top}）"),
        "port.proof_reduced": ("(fewer channels than the layer: the crops and layouts do not depend on them)",
                               "（通道数少于该层：裁剪与布局与通道数无关）"),
        "port.proof_ok": ("equal up to float rounding ✓", "在浮点舍入范围内相等 ✓"),
        "port.proof_bad": ("NOT equal ✗", "不相等 ✗"),
        "port.notes": ("Notes", "说明"),
        "port.at_start": ("{n} at the start of {axis}", "{axis} 开头 {n} 格"),
        "port.at_end": ("{n} at the end of {axis}", "{axis} 末尾 {n} 格"),
        "port.check": ("Check ({target}, for real)", "实测（{target}）"),
        "port.check_line": ("the emitted snippet run with {target} (separate process), seed {seed}: max |Δ| = {diff} "
                            "against the engine {mark} (float32 tolerance {tol})",
                            "用 {target} 运行生成的代码（独立进程），种子 {seed}：与引擎相比 max |Δ| = {diff} {mark}"
                            "（float32 容差 {tol}）"),
        "port.check_failed": ("✗ the emitted snippet did not run with {target}: {why}",
                              "✗ 生成的代码未能用 {target} 运行：{why}"),
    }
)

AXES = {1: ("L",), 2: ("H", "W"), 3: ("D", "H", "W")}


def _cells(report: PortReport, negative: bool, lang: str) -> str:
    axes = AXES[report.plan.nd]
    parts = []
    for axis, (b, e) in zip(axes, report.plan.residual):
        for n, key in ((b, "port.at_start"), (e, "port.at_end")):
            if (n < 0) == negative and n != 0:
                parts.append(t(key, lang, n=abs(n), axis=axis))
    return ", ".join(parts) if lang != "zh" else "，".join(parts)


def _code(text: str, width: int, indent: str = "  ") -> list[str]:
    """A call wrapped between whole arguments; other code as it is (wrapped at spaces if it must)."""
    match = re.fullmatch(r"([\w.]+ = )?([\w.]+)\((.*)\)", text)
    room = width - len(indent)
    if cell_len(text) <= room:
        return [indent + text]
    if match:
        parts, depth, cur = [], 0, ""
        for ch in match.group(3):
            depth += 1 if ch in "([" else -1 if ch in ")]" else 0
            if ch == "," and depth == 0:
                parts.append(cur.strip())
                cur = ""
            else:
                cur += ch
        parts.append(cur.strip())
        name = (match.group(1) or "") + match.group(2)
        return [indent + line for line in signature_lines(name, parts, room)]
    return prose_lines(text, width, indent)


def render_port(report: PortReport, lang: str, width: int) -> RenderableType:
    p, layer = report.plan, report.layer
    out: list[Text] = []

    def heading(text: str) -> None:
        out.append(Text(""))
        out.append(Text(text, style="bold"))

    out.append(Text(t("port.title", lang, source=NAMES[layer.framework], target=NAMES[p.target]), style="bold"))
    out.extend(Text(line) for line in _code(layer.text.strip(), width))
    out.append(Text(""))
    if p.status == IMPOSSIBLE:
        for line in prose_lines(t("port.impossible", lang, reason=say(p.reason, lang)), width):
            out.append(Text(line, style="red"))
        out.extend(Text(line) for line in prose_lines(t("port.closest", lang, text=say(p.closest, lang)), width))
    elif p.status == EXACT:
        out.append(Text(t("port.exact", lang), style="green"))
    else:
        out.extend(Text(line, style="yellow") for line in prose_lines(t("port.extra", lang), width))
        items = []
        if p.expand:
            g = p.geometry
            items.append(t("port.expand", lang, d=tuple(p.expand), k=tuple(g.k_eff)))
        if p.slices:
            items.append(t("port.slice", lang, cells=_cells(report, False, lang)))
        if p.pads:
            items.append(t("port.pad", lang, cells=_cells(report, True, lang)))
        for item in items:
            out.extend(Text(line) for line in prose_lines("• " + item, width, ""))
    if p.status != IMPOSSIBLE:
        heading(t("port.call", lang))
        out.extend(Text(line) for line in _code(report.target_call, width))
        heading(t("port.weights", lang))
        for code, words in report.weight_code:
            out.extend(Text(x) for x in _code(code, width))
            if words is not None:
                out.extend(Text(x, style="dim") for x in prose_lines("# " + say(words, lang), width, "    "))
        if report.extra_code:
            heading(t("port.extra_code", lang))
            for line in report.extra_code:
                out.extend(Text(x) for x in _code(line, width))
    size = "×".join(str(n) for n in p.geometry.size)
    heading(t("port.sizes", lang, size=size))
    sides = [(NAMES[layer.framework], report.source_sizes)]
    if report.target_sizes and p.target != layer.framework:
        sides.append((NAMES[p.target], report.target_sizes))
    for name, formulas in sides:
        for formula in formulas:
            out.extend(Text(line) for line in prose_lines(f"{name}: {formula}", width, "  "))
    if report.proof is not None:
        pr = report.proof
        heading(t("port.proof", lang))
        shape = "×".join(str(n) for n in pr.input_shape)
        diff = "inf" if pr.max_abs_diff == float("inf") else f"{pr.max_abs_diff:.2g}"
        line = t("port.proof_line", lang, seed=pr.seed, shape=shape, diff=diff, top=f"{pr.max_abs_value:.3g}")
        out.extend(Text(x) for x in prose_lines(line, width, "  "))
        if pr.reduced:
            out.extend(Text(x, style="dim") for x in prose_lines(t("port.proof_reduced", lang), width, "  "))
        ok = pr.max_abs_diff <= 1e-9 * max(1.0, pr.max_abs_value)
        out.append(Text("  " + t("port.proof_ok" if ok else "port.proof_bad", lang), style="green" if ok else "red"))
    if report.notes:
        heading(t("port.notes", lang))
        for note in report.notes:
            out.extend(Text(x) for x in prose_lines("• " + say(note, lang), width, "  "))
    return Group(*out)


def render_check(checked, lang: str, width: int) -> RenderableType:  # noqa: ANN001 - a port.check.CheckResult
    target = NAMES[checked.target]
    lines = [Text(""), Text(t("port.check", lang, target=target), style="bold")]
    if checked.max_abs_diff is None:
        text = t("port.check_failed", lang, target=target, why=checked.failure)
    else:
        text = t("port.check_line", lang, target=target, seed=checked.seed, diff=f"{checked.max_abs_diff:.2g}",
                 tol=f"{checked.tolerance:.2g}", mark="✓" if checked.ok else "✗")
    style = "green" if checked.ok else "red"
    lines.extend(Text(x, style=style) for x in prose_lines(text, width, "  "))
    return Group(*lines)


define(
    {
        "port.crops_title": ("{fw} layer, input {size}: canvas {canvas} → output {out}",
                             "{fw} 层，输入 {size}：画布 {canvas} → 输出 {out}"),
        "port.crop_axis": ("{axis}: crop {b} at the start, {e} at the end",
                           "{axis}：开头裁 {b} 格，末尾裁 {e} 格"),
        "port.crop_axis_add": ("{axis}: crop {b} at the start, add {e} at the end",
                               "{axis}：开头裁 {b} 格，末尾补 {e} 格"),
        "port.crop_axis_add_start": ("{axis}: add {b} at the start, crop {e} at the end",
                                     "{axis}：开头补 {b} 格，末尾裁 {e} 格"),
        "port.crop_axis_add_both": ("{axis}: add {b} at the start, add {e} at the end",
                                    "{axis}：开头补 {b} 格，末尾补 {e} 格"),
        "port.as_torch": ("As PyTorch: padding={p}, output_padding={op}",
                          "写成 PyTorch：padding={p}，output_padding={op}"),
    }
)


def crop_lines(report: PortReport, lang: str, width: int) -> list[Text]:
    """Where each crop of a layer in another convention falls, and the PyTorch layer drawn for it."""
    layer, g, p = report.layer, report.layer.geometry, report.plan
    size = "×".join(map(str, g.size))
    lines = [Text(t("port.crops_title", lang, fw=NAMES[layer.framework], size=size,
                    canvas="×".join(map(str, g.canvas)), out="×".join(map(str, g.out))), style="bold")]
    lines.extend(Text(x) for x in _code(layer.text.strip(), width))
    for axis, b, e in zip(AXES[g.nd], g.begin, g.end):
        key = {(False, False): "port.crop_axis", (False, True): "port.crop_axis_add",
               (True, False): "port.crop_axis_add_start", (True, True): "port.crop_axis_add_both"}[(b < 0, e < 0)]
        lines.append(Text("  " + t(key, lang, axis=axis, b=abs(b), e=abs(e))))
    if p.target == "torch" and p.status != IMPOSSIBLE:
        lines.append(Text(t("port.as_torch", lang, p=tuple(p.args["padding"]), op=tuple(p.args["output_padding"]))))
        if p.status != EXACT:
            if p.slices:
                lines.extend(Text(x, style="yellow") for x in prose_lines(
                    "• " + t("port.slice", lang, cells=_cells(report, False, lang)), width))
            if p.pads:
                lines.extend(Text(x, style="yellow") for x in prose_lines(
                    "• " + t("port.pad", lang, cells=_cells(report, True, lang)), width))
    for formula in report.source_sizes:
        lines.extend(Text(x) for x in prose_lines(f"{NAMES[layer.framework]}: {formula}", width, "  "))
    return lines
