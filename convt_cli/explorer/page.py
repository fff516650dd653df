"""The explorer page: convt's step records as JSON, inlined with the page's HTML, CSS and JavaScript
(plain files beside this module: template.html, explorer.css, scatter.js — the page's own scatter — and
explorer.js, the rest) into one self-contained HTML document (nothing is ever fetched).

The cost model (:func:`check_page_cost`) refuses, before anything is traced or written, a page too
large to use, naming what fits.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from importlib import resources

import numpy as np

from ..errors import ConvtError
from ..i18n import define, t
from ..steps import ScatterTrace, times_text

define({
    "ex.formula": ("Output size = (in − 1)×stride − 2×padding + dilation×(k − 1) + output_padding + 1",
                   "输出尺寸 = (输入 − 1)×stride − 2×padding + dilation×(k − 1) + output_padding + 1"),
    "ex.parameters": ("Parameters (PyTorch names; one control per dim)", "参数（PyTorch 名称；每维一个）"),
    "ex.view": ("View", "视图"),
    "ex.out_channel": ("Output channel", "输出通道"),
    "ex.theme": ("Light / dark", "浅色 / 深色"),
    "ex.prev": ("◀ Previous", "◀ 上一步"),
    "ex.next": ("Next ▶", "下一步 ▶"),
    "ex.play": ("Play", "播放"),
    "ex.pause": ("Pause", "暂停"),
    "ex.input": ("Input", "输入"),
    "ex.input_channel": ("Input, channel {c}", "输入，通道 {c}"),
    "ex.kernel": ("Kernel", "卷积核"),
    "ex.kernel_channel": ("Kernel, channel {c}", "卷积核，通道 {c}"),
    "ex.canvas_after": ("Canvas after step {n}: input element {value} at ({pos})",
                        "步骤 {n} 后的画布：输入元素 {value}（位置 {pos}）"),
    "ex.full_canvas": ("Full canvas after all {total} steps", "全部 {total} 步后的完整画布"),
    "ex.skipped": ("Steps shown: {n} of {total} (--max-steps changes this); the canvas has them all.",
                   "显示了 {total} 步中的 {n} 步（可用 --max-steps 调整）；画布包含全部步骤。"),
    "ex.output": ("Output (the canvas without the cropped padding)", "输出（裁掉 padding 后的画布）"),
    "ex.output_bias": ("Output (cropped canvas + bias {b})", "输出（裁剪后的画布 + 偏置 {b}）"),
    "ex.step_of": ("Step {n} of {total}", "第 {n} 步，共 {total} 步"),
    "ex.result_step": ("Result: every step", "结果：全部步骤"),
    "ex.gather_step": ("Output cell {n} of {total}", "输出单元 {n}，共 {total} 个"),
    "ex.step_text": ("Step {n}: input element {value} at ({pos}) is multiplied by the whole kernel and added "
                     "to the canvas from ({origin}) = position × stride.",
                     "步骤 {n}：位置 ({pos}) 的输入元素 {value} 乘以整个卷积核，"
                     "从画布 ({origin}) = 位置 × stride 处加上去。"),
    "ex.hover_hint": ("Hover or tap a cell: an output cell shows the (input, kernel tap) pairs that write it and "
                      "their sum; an input element its footprint; a kernel tap every output cell it writes.",
                      "悬停或点按单元：输出单元显示写入它的（输入, 卷积核元素）对及其和；输入元素显示它的覆盖范围；"
                      "卷积核元素显示它写入的所有输出单元。"),
    "ex.shapes": ("input {x} · kernel {k} → output {o}", "输入 {x} · 卷积核 {k} → 输出 {o}"),
    "ex.depth": ("depth {z}", "深度 {z}"),
    "ex.padded": ("Zero-inserted, padded input (channel {c})", "插零并填充后的输入（通道 {c}）"),
    "ex.gather_note": ("stride−1 zeros between elements ({s}); dilation×(k−1) − padding = {pb} zeros before "
                       "(negative: cropped). Highlighted: the window of the current output cell.",
                       "元素之间插入 stride−1 个零（{s}）；"
                       "前面补 dilation×(k−1) − padding = {pb} 个零（负数表示裁掉）。"
                       "高亮：当前输出单元的窗口。"),
    "ex.rotated": ("Kernel rotated 180° (channel {c})", "旋转 180° 的卷积核（通道 {c}）"),
    "ex.matrix": ("Matrix view", "矩阵视图"),
    "ex.matrix_big": ("The matrix would have {n} entries; the page draws it up to {max}.",
                      "矩阵将有 {n} 个元素；页面最多画 {max} 个。"),
    "ex.matrix_title": ("Cᵀ ({r} output cells × {c} input elements): out = Cᵀ·x",
                        "Cᵀ（{r} 个输出单元 × {c} 个输入元素）：out = Cᵀ·x"),
    "ex.matrix_note": ("Each row is one output cell; hover an output cell to highlight its row.",
                       "每行对应一个输出单元；悬停输出单元可高亮其所在行。"),
    "ex.channel_sum": ("channel {c}:", "通道 {c}："),
    "ex.sum_channels": ("sum over channels", "各通道之和"),
    "ex.no_pairs": ("no pair writes here (0)", "没有任何对写入这里（0）"),
    "ex.cropped_cell": ("This canvas cell is cropped by padding (✂): it is not part of the output.",
                        "这个画布单元被 padding 裁掉（✂）：不属于输出。"),
    "ex.footprint": ("Input element ({i}) writes: {cells}", "输入元素 ({i}) 写入：{cells}"),
    "ex.tap_writes": ("Kernel tap ({j}) writes: {cells}", "卷积核元素 ({j}) 写入：{cells}"),
    "ex.legend_write": ("written by this step", "本步写入"),
    "ex.legend_acc": ("added to an earlier write (overlap)", "叠加到先前的写入（重叠）"),
    "ex.legend_crop": ("cropped by padding", "被 padding 裁掉"),
    "ex.legend_op": ("given back by output_padding", "由 output_padding 补回"),
    "ex.footer": ("Made by convt from its exact engine's step records; a changed parameter is recomputed in this "
                  "page. Works offline.",
                  "由 convt 根据其精确引擎的步骤记录生成；改动参数后由本页重新计算。可离线使用。"),
})

LABEL_KEYS = ("formula", "parameters", "view", "out_channel", "theme", "prev", "next", "play", "pause", "input",
              "input_channel", "kernel", "kernel_channel", "canvas_after", "full_canvas", "skipped", "output",
              "output_bias", "step_of", "result_step", "gather_step", "step_text", "hover_hint", "shapes", "depth",
              "padded", "gather_note", "rotated", "matrix", "matrix_big", "matrix_title", "matrix_note",
              "channel_sum", "sum_channels", "no_pairs", "cropped_cell", "footprint", "tap_writes", "legend_write",
              "legend_acc", "legend_crop", "legend_op", "footer")

# The cost model of a page: drawn grid cells (the browser's DOM) and bytes of page data.
MAX_PAGE_CELLS = 4096  # canvas cells of one output channel (64×64): more is not readable as a grid
MAX_PAGE_BYTES = 8 * 1024**2  # the whole file: it opens in well under a second below this
BASE_BYTES = 40_000  # HTML, CSS, JavaScript and labels (measured: ~33 KB)
CELL_BYTES = 24  # one canvas/input/kernel/output value in the JSON
WRITE_BYTES = 90  # one recorded write (position, tap, terms, contribution, before, after)
TERM_BYTES = 24  # each further channel term of a write
JS_EXACT = 2**53  # integers the page's JavaScript numbers hold exactly


def page_cost(spatial: Sequence[int], ksize: Sequence[int], extent: Sequence[int], channels: int, steps: int,
              traces: int) -> int:
    """Estimated bytes of the page for ``traces`` output channels of ``steps`` recorded steps each."""
    cells = math.prod(extent) * 2 + math.prod(spatial) * channels + math.prod(ksize) * channels
    writes = steps * math.prod(ksize) * (WRITE_BYTES + TERM_BYTES * (channels - 1))
    return BASE_BYTES + traces * (cells * CELL_BYTES + writes)


def check_page_cost(spatial: Sequence[int], ksize: Sequence[int], extent: Sequence[int], channels: int,
                    steps: int, traces: int) -> None:
    """Refuse a page too large to use, before any trace is computed, naming what fits."""
    size = math.prod(extent)
    if size > MAX_PAGE_CELLS:
        raise ConvtError(
            f"the canvas has {size} cells ({times_text(extent)}); the explorer draws at most {MAX_PAGE_CELLS} "
            "(e.g. 64×64): use a smaller input, kernel or stride, or --static for Rich's HTML",
            zh=f"画布有 {size} 个单元（{times_text(extent)}）；交互页面最多画 {MAX_PAGE_CELLS} 个（如 64×64）："
               "请用更小的输入、卷积核或 stride，或用 --static 导出 Rich 的 HTML")
    cost = page_cost(spatial, ksize, extent, channels, steps, traces)
    if cost > MAX_PAGE_BYTES:
        per_step = traces * math.prod(ksize) * (WRITE_BYTES + TERM_BYTES * (channels - 1))
        fixed = page_cost(spatial, ksize, extent, channels, 0, traces)
        fit = max(0, (MAX_PAGE_BYTES - fixed) // per_step) if per_step else 0
        hint = f"use --max-steps {fit} or fewer" + (", or --channel to draw one output channel" if traces > 1 else "")
        hint_zh = f"请把 --max-steps 设为 {fit} 或更少" + ("，或用 --channel 只画一个输出通道" if traces > 1 else "")
        raise ConvtError(
            f"the page would be about {cost / 1024**2:.1f} MB ({steps} step(s) × {traces} output channel(s)); "
            f"the explorer writes pages up to {MAX_PAGE_BYTES // 1024**2} MB: {hint}",
            zh=f"页面约 {cost / 1024**2:.1f} MB（{steps} 步 × {traces} 个输出通道）；"
               f"交互页面最多 {MAX_PAGE_BYTES // 1024**2} MB：{hint_zh}")


def _num(v: object) -> int | float:
    return int(v) if isinstance(v, (int, np.integer)) else float(v)  # type: ignore[arg-type]


def _flat(a: np.ndarray) -> list:
    return a.reshape(-1).tolist()


def trace_json(trace: ScatterTrace, out_channel: int, in_channels: Sequence[int]) -> dict:
    """One output channel's step records in the page's form (the form its JavaScript scatter produces)."""
    steps = []
    for st in trace.steps:
        writes = [{"pos": list(w.position), "tap": list(w.tap), "terms": [[_num(a), _num(b)] for a, b in w.terms],
                   "c": _num(w.contribution), "before": _num(w.before), "after": _num(w.after), "ov": w.overlapped}
                  for w in st.writes]
        steps.append({"index": list(st.index), "value": [_num(v) for v in st.value], "origin": list(st.origin),
                      "writes": writes})
    return {"co": out_channel, "inChannels": list(in_channels), "total": trace.total_steps, "steps": steps,
            "canvas": _flat(trace.canvas), "counts": _flat(trace.write_counts), "extent": list(trace.canvas.shape),
            "out": list(trace.output.shape), "output": _flat(trace.output)}


def check_exact_in_js(traces: Sequence[ScatterTrace]) -> None:
    for tr in traces:
        if tr.canvas.dtype.kind in "iu" and tr.canvas.size and int(np.max(np.abs(tr.canvas))) >= JS_EXACT:
            raise ConvtError("the sums pass 2**53, the largest integer the page's JavaScript holds exactly; "
                             "use smaller values, or --static for Rich's HTML",
                             zh="和超过 2**53，页面的 JavaScript 无法精确表示；"
                                "请用更小的数值，或用 --static 导出 Rich 的 HTML")


def page_data(x_full: np.ndarray, w_full: np.ndarray, traces: Sequence[tuple[int, Sequence[int], ScatterTrace]], *,
              params: object, bias: float | None, channels: bool, lang: str, precision: int, max_steps: int) -> dict:
    """The page's data: the arrays, the parameters, the labels in ``lang`` and each drawn channel's records."""
    check_exact_in_js([tr for _, _, tr in traces])
    p = params
    integer = all(tr.output.dtype.kind in "iu" for _, _, tr in traces)
    return {
        "lang": lang, "precision": precision, "integer": integer, "channels": channels, "maxSteps": max_steps,
        "labels": {k: t(f"ex.{k}", lang) for k in LABEL_KEYS},
        "x": {"shape": list(x_full.shape), "data": [_num(v) for v in _flat(x_full)]},
        "w": {"shape": list(w_full.shape), "data": [_num(v) for v in _flat(w_full)]},
        "groups": p.groups,  # type: ignore[attr-defined]
        "bias": None if bias is None else _num(bias),
        "params": {"stride": list(p.stride), "padding": list(p.padding),  # type: ignore[attr-defined]
                   "output_padding": list(p.output_padding), "dilation": list(p.dilation)},  # type: ignore[attr-defined]
        "traces": [trace_json(tr, co, chs) for co, chs, tr in traces],
    }


def _asset(name: str) -> str:
    return resources.files(__package__).joinpath(name).read_text(encoding="utf-8")


def render_page(data: dict, title: str = "convt explorer") -> str:
    """The self-contained HTML document: template with the CSS, JSON data and JavaScript inlined."""
    import html

    try:
        payload = json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    except ValueError:  # inf or NaN: the values overflowed
        raise ConvtError("the values overflow to inf or NaN, which the page cannot draw; use smaller values, or "
                         "--static for Rich's HTML",
                         zh="数值溢出为 inf 或 NaN，页面无法绘制；"
                            "请用更小的数值，或用 --static 导出 Rich 的 HTML") from None
    # Inside <script>: no "</" or "<!--" may appear; \u003c reads back as "<" in JSON.
    payload = payload.replace("<", "\\u003c")
    js, css = _asset("scatter.js") + "\n" + _asset("explorer.js"), _asset("explorer.css")
    if "</script" in js.lower() or "</style" in css.lower():  # pragma: no cover - a packaging mistake
        raise RuntimeError("the explorer's assets must not close their own element")
    page = _asset("template.html")
    for marker, text in (("/*TITLE*/", html.escape(title)), ("/*CSS*/", css), ("/*DATA*/", payload),
                         ("/*JS*/", js)):
        head, sep, tail = page.partition(marker)
        page = head + text + tail
    return page
