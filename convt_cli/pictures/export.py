"""Picture exports for the commands: path checks before any work, the missing-Pillow message, fonts,
and atomic writes (a temporary file beside the target, renamed into place).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import ConvtError
from ..i18n import define, t
from ..steps import ScatterTrace

# Lazy below, for start-up: convt show imports this module for its checks; the picture modules cost it ~20 ms CPU.

PICTURE_SUFFIXES = (".gif", ".png")
INSTALL = "pip install 'convt[images]'"

define({
    "pic.font_missing": ("Note: no installed font has {chars}; drawn as ASCII stand-ins (install {hint}).",
                         "注意：没有已安装的字体含有 {chars}；改用 ASCII 代替（请安装 {hint}）。"),
    "pic.no_cjk": ("Note: no installed font has Chinese characters; the picture's labels are in English "
                   "(install {hint}).",
                   "注意：没有已安装的字体含有中文字符；图片中的标注改用英文（请安装 {hint}）。"),
    "pic.channel_note": ("Note: the picture draws output channel {co} (channels 0–{last}); --channel picks another.",
                         "注意：图片只画输出通道 {co}（通道 0–{last}）；用 --channel 选择其他通道。"),
    "pic.counts_scale": ("contributions", "贡献数"),
    "pic.counts_params": ("kernel_size={k}, stride={s}, dilation={d}", "kernel_size={k}, stride={s}, dilation={d}"),
})


MAX_CANVAS_CELLS = 1024  # per drawn canvas (32×32): a frame stays a few thousand pixels wide
MAX_FRAMES = 64  # drawn steps in one GIF / sheet
MAX_HEATMAP_CELLS = 4096  # 64×64
MAX_PIXELS = 40_000_000  # one frame or sheet


def check_picture_size(trace: ScatterTrace, *, steps: bool, heatmap: bool) -> None:
    """Refuse, before anything is drawn, pictures too big to be legible (or to fit in memory)."""
    cells = trace.canvas.size
    if steps and cells > MAX_CANVAS_CELLS:
        shape = "×".join(map(str, trace.canvas.shape))
        raise ConvtError(f"the canvas has {cells} cells ({shape}); a step picture draws at most {MAX_CANVAS_CELLS} "
                         "(e.g. 32×32): use a smaller input, kernel or stride, or export .svg/.html/.txt",
                         zh=f"画布有 {cells} 个单元（{shape}）；步骤图最多画 {MAX_CANVAS_CELLS} 个（如 32×32）："
                            "请用更小的输入、卷积核或 stride，或导出 .svg/.html/.txt")
    if steps and len(trace.steps) > MAX_FRAMES:
        raise ConvtError(f"--max-steps {len(trace.steps)} draws {len(trace.steps)} steps; a step picture draws at "
                         f"most {MAX_FRAMES}: use --max-steps {MAX_FRAMES} or fewer",
                         zh=f"--max-steps {len(trace.steps)} 要画 {len(trace.steps)} 步；步骤图最多画 {MAX_FRAMES} 步："
                            f"请用 --max-steps {MAX_FRAMES} 或更少")
    out = trace.output.size
    if heatmap and out > MAX_HEATMAP_CELLS:
        raise ConvtError(f"the output has {out} cells; a heatmap draws at most {MAX_HEATMAP_CELLS} (e.g. 64×64)",
                         zh=f"输出有 {out} 个单元；热图最多画 {MAX_HEATMAP_CELLS} 个（如 64×64）")


def is_picture(path: str | Path | None) -> bool:
    return path is not None and Path(path).suffix.lower() in PICTURE_SUFFIXES


def require_pillow() -> None:
    try:
        import PIL.Image  # noqa: F401
    except ImportError:
        raise ConvtError(f"picture export needs Pillow, which is not installed; install Pillow: {INSTALL}",
                         zh=f"导出图片需要 Pillow，但它没有安装；请安装 Pillow：{INSTALL}") from None


def check_picture_path(path: str | Path, force: bool = False, suffixes: Sequence[str] = PICTURE_SUFFIXES,
                       what: str = "export") -> Path:
    """Validate a picture target before any work is done (and that Pillow is there to draw it)."""
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix not in suffixes:
        names = " or ".join(suffixes)
        raise ConvtError(f"{what} file {str(p)!r} has the extension {suffix or '(none)'}; use {names}",
                         zh=f"{what} 文件 {str(p)!r} 的扩展名 {suffix or '（无）'} 不受支持；请用 {names}")
    parent = p.parent if str(p.parent) else Path(".")
    if not parent.is_dir():
        raise ConvtError(f"{what} directory {str(parent)!r} does not exist or is not a directory",
                         zh=f"{what} 目录 {str(parent)!r} 不存在或不是目录")
    if p.is_dir():
        raise ConvtError(f"{what} path {str(p)!r} is a directory", zh=f"{what} 路径 {str(p)!r} 是目录")
    if p.exists() and not force:
        raise ConvtError(f"{what} file {str(p)!r} already exists; use --force to overwrite it",
                         zh=f"{what} 文件 {str(p)!r} 已存在；用 --force 覆盖")
    if not os.access(parent, os.W_OK):
        raise ConvtError(f"{what} directory {str(parent)!r} is not writable", zh=f"{what} 目录 {str(parent)!r} 不可写")
    from ..output import probe_writable

    probe_writable(p, "picture")
    require_pillow()
    return p


def write_bytes_atomic(path: Path, data: bytes, force: bool = False) -> Path:
    """A picture into place through the one export writer (:func:`convt_cli.output.write_file_atomic`)."""
    from ..output import write_file_atomic

    return write_file_atomic(path, data, force=force, what="picture")


def report_written(path: Path, notes: Sequence[str], *, lang: str, no_color: bool = False,
                   stderr: bool = False) -> None:
    """The font notes, then ``Wrote PATH`` (on stderr when stdout carries JSON)."""
    from rich.text import Text

    from ..render.console import make_console

    out = make_console(no_color=no_color, stderr=stderr)
    for note in notes:
        out.print(Text(note))
    out.print(Text(t("exported", lang, path=str(path))), soft_wrap=True)  # a path stays whole, copyable


def fonts_for(lang: str) -> tuple[object, str, list[str]]:
    """The font chain for ``lang``, the language the picture can actually be labelled in, and notes."""
    from .fonts import FontChain, font_paths, install_hint

    chain = FontChain(font_paths(lang))
    notes = []
    said = lang  # the notes are in the user's language, the install hint included
    if lang == "zh" and not chain.has_cjk():
        notes.append(t("pic.no_cjk", said, hint=install_hint(said)))
        lang = "en"
    missing = chain.missing(["×−✂·→"])
    if missing:
        notes.append(t("pic.font_missing", said, chars=" ".join(missing), hint=install_hint(said)))
    return chain, lang, notes


@dataclass
class StepsPlan:
    """A step picture laid out and checked, not yet drawn."""

    path: Path
    fonts: object
    notes: list[str]
    figure: object  # layout.Figure
    sheet: object | None  # layout.Sheet for .png
    force: bool = False  # overwrite a file at the target (else one that appears meanwhile is left alone)


def _megapixels(w: int, h: int) -> str:
    return f"{w}×{h} px ({w * h / 1e6:.1f} megapixels)"


def plan_steps_picture(path: str | Path, trace: ScatterTrace, *, lang: str, precision: int,
                       force: bool = False) -> StepsPlan:
    """Lay the picture out (``.gif``: one frame per recorded step plus the final frame; ``.png``: every
    frame tiled on one sheet) and refuse it, naming the sizes, when it would pass :data:`MAX_PIXELS`."""
    from .layout import sheet_layout, step_figure

    path = Path(path)
    fonts, lang, notes = fonts_for(lang)
    if path.suffix.lower() == ".gif":
        figure = step_figure(trace, lang=lang, precision=precision, measure=fonts.length)  # type: ignore[attr-defined]
        if figure.width * figure.height > MAX_PIXELS:
            size = _megapixels(figure.width, figure.height)
            raise ConvtError(f"a frame would be {size}; pictures are drawn up to {MAX_PIXELS // 10**6} megapixels: "
                             "use a smaller input, kernel or stride",
                             zh=f"一帧将有 {size}；图片最多 {MAX_PIXELS // 10**6} 百万像素："
                                "请用更小的输入、卷积核或 stride")
        return StepsPlan(path, fonts, notes, figure, None, force)
    figure = step_figure(trace, lang=lang, precision=precision, font_px=13, legend=False, max_width=1000,
                         measure=fonts.length)  # type: ignore[attr-defined]
    sheet = sheet_layout(figure)
    if sheet.width * sheet.height > MAX_PIXELS:
        fit = max(1, MAX_PIXELS // ((figure.width + 12) * (figure.height + 12)) - 2)
        size = _megapixels(sheet.width, sheet.height)
        raise ConvtError(f"the sheet of {len(figure.frames)} panels would be {size}; pictures are drawn up to "
                         f"{MAX_PIXELS // 10**6} megapixels: use --max-steps {fit} or fewer, or a smaller input",
                         zh=f"{len(figure.frames)} 个面板的总图将有 {size}；图片最多 {MAX_PIXELS // 10**6} 百万像素："
                            f"请用 --max-steps {fit} 或更少，或更小的输入")
    return StepsPlan(path, fonts, notes, figure, sheet, force)


def write_steps_picture(plan: StepsPlan) -> tuple[Path, list[str]]:
    from . import draw

    if plan.sheet is None:
        data = draw.gif_bytes(plan.figure, plan.fonts)  # type: ignore[arg-type]
    else:
        data = draw.png_bytes(draw.sheet_image(plan.sheet, plan.fonts))  # type: ignore[arg-type]
    return write_bytes_atomic(plan.path, data, plan.force), plan.notes


def steps_picture(path: Path, trace: ScatterTrace, *, lang: str, precision: int) -> tuple[Path, list[str]]:
    return write_steps_picture(plan_steps_picture(path, trace, lang=lang, precision=precision))


def heatmap_picture(path: Path, fonts: object, maps: Sequence, *, title: str, notes: Sequence[str] = (),
                    precision: int = 3, scale_label: str = "", force: bool = False) -> Path:
    from . import draw
    from .heatmap import heatmap_layout

    layout = heatmap_layout(maps, title=title, notes=notes, precision=precision, scale_label=scale_label,
                            measure=fonts.length)  # type: ignore[attr-defined]
    return write_bytes_atomic(path, draw.png_bytes(draw.heatmap_image(layout, fonts)), force)


def write_heatmap(path: str | Path, values: object, *, title: str = "", row_labels: Sequence[str] | None = None,
                  col_labels: Sequence[str] | None = None, notes: Sequence[str] = (), lang: str = "en",
                  scale_label: str = "", precision: int = 3, force: bool = False) -> tuple[Path, list[str]]:
    """Any 2-d array (or a list of them, drawn side by side on one scale) as a PNG heatmap: the generic
    entry point for maps other commands want (a phase map, say). Returns the path and the font notes."""
    from .heatmap import HeatMap

    p = check_picture_path(path, force, (".png",), "heatmap")
    arrays = values if isinstance(values, (list, tuple)) else [values]
    maps = [HeatMap(np.asarray(a), row_labels=row_labels, col_labels=col_labels) for a in arrays]
    fonts, _, font_notes = fonts_for(lang)
    return heatmap_picture(p, fonts, maps, title=title, notes=notes, precision=precision,
                           scale_label=scale_label, force=force), font_notes


def count_maps(trace: ScatterTrace, lang: str) -> list:
    """The contribution counts over the output as 2-d maps: 1-d one row, 3-d one map per depth slice."""
    from ..render.show_common import OP_MARK
    from .heatmap import HeatMap

    counts = trace.write_counts[trace.crop]
    regions = trace.output_padding_region

    def labels(dim: int) -> list[str]:
        return [f"{o}{OP_MARK}" if o in regions[dim] else str(o) for o in range(counts.shape[dim])]

    if counts.ndim == 1:
        return [HeatMap(counts[None, :], col_labels=labels(0), row_labels=["0"])]
    if counts.ndim == 2:
        return [HeatMap(counts, row_labels=labels(0), col_labels=labels(1))]
    return [HeatMap(counts[z], title=t("show.depth", lang, z=z), row_labels=labels(1), col_labels=labels(2))
            for z in range(counts.shape[0])]


def show_heatmap(path: Path, trace: ScatterTrace, *, lang: str, force: bool = False) -> tuple[Path, list[str]]:
    """``convt show --heatmap``: the contribution-count map of the output on a colour scale."""
    from ..render.show_common import per_dim_text

    fonts, lang, notes = fonts_for(lang)
    p = trace.params
    ksize = tuple(int(k) for k in trace.kernel.shape[1:])
    title = t("show.overlap_title", lang) + "\n" + t(
        "pic.counts_params", lang, k=per_dim_text(ksize), s=per_dim_text(p.stride), d=per_dim_text(p.dilation))
    return heatmap_picture(path, fonts, count_maps(trace, lang), title=title, notes=_verdict_lines(trace, lang),
                           scale_label=t("pic.counts_scale", lang), force=force), notes


def _verdict_lines(trace: ScatterTrace, lang: str) -> list[str]:
    """The even/uneven verdict under the map, in the very words ``show --overlap`` prints."""
    import io

    from rich.console import Console
    from rich.text import Text

    from ..render.scatter import render_overlap
    from ..render.show_common import Style

    console = Console(file=io.StringIO(), width=200)
    last = render_overlap(console, Style(lang=lang, width=200), trace)[-1]
    return last.plain.splitlines() if isinstance(last, Text) else []


def compare_heatmap(path: Path, report: object, *, lang: str, force: bool = False) -> tuple[Path, list[str]]:
    """``convt compare --heatmap``: its overlap maps side by side on one scale, each with its verdict."""
    from ..render.compare import _verdict
    from ..upsampling import OVERLAP_INPUT
    from .heatmap import HeatMap

    fonts, lang, notes = fonts_for(lang)
    maps = []
    for m in report.overlap_maps:  # type: ignore[attr-defined]
        head = t("compare.map_title", lang, k=m.kernel, s=m.stride) + (t("compare.yours", lang) if m.yours else "")
        lines = [head, _verdict(m, lang)] + ([t("compare.sam3", lang)] if m.sam3 else [])
        maps.append(HeatMap(np.asarray(m.counts), title="\n".join(lines)))
    return heatmap_picture(path, fonts, maps, title=t("compare.overlap_title", lang, n=OVERLAP_INPUT),
                           scale_label=t("pic.counts_scale", lang), force=force), notes
