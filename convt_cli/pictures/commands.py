"""What ``convt show`` calls for its picture options: targets checked before any work, pictures laid
out (and refused when too big) before the report prints, then written after it."""

from __future__ import annotations

from pathlib import Path

from ..errors import ConvtError
from ..i18n import t
from ..output import EXPORT_SUFFIXES
from ..render.console import make_console
from ..steps import ScatterTrace
from .export import (
    PICTURE_SUFFIXES,
    StepsPlan,
    check_picture_path,
    check_picture_size,
    is_picture,
    plan_steps_picture,
    report_written,
    show_heatmap,
    write_steps_picture,
)


def check_show_targets(export: str | None, heatmap: str | None, force: bool, view: str) -> bool:
    """``--export`` (.svg/.html/.txt are the terminal render's; .gif/.png pictures) and ``--heatmap``
    checked before any work. True when ``--export`` is a picture."""
    picture = is_picture(export)
    if export is not None and not picture:
        suffix = Path(export).suffix.lower()
        if suffix not in EXPORT_SUFFIXES:
            names = ", ".join(EXPORT_SUFFIXES + PICTURE_SUFFIXES[:-1]) + " or " + PICTURE_SUFFIXES[-1]
            raise ConvtError(f"export file {export!r} has an unsupported extension {suffix or '(none)'}; use {names}",
                             zh=f"导出文件 {export!r} 的扩展名 {suffix or '（无）'} 不受支持；请用 {names}")
    if picture:
        if view != "scatter":
            raise ConvtError(f"--export {export} draws the scatter steps; it needs --view scatter, not {view} "
                             "(or export .svg, .html or .txt)",
                             zh=f"--export {export} 画的是散射步骤，需要 --view scatter 而不是 {view}"
                                "（或导出 .svg、.html、.txt）")
        check_picture_path(export, force)  # type: ignore[arg-type]
    if heatmap is not None:
        check_picture_path(heatmap, force, (".png",), "--heatmap")
        if export is not None and Path(export).resolve() == Path(heatmap).resolve():
            raise ConvtError(f"--export and --heatmap both name {heatmap!r}; give them different files",
                             zh=f"--export 与 --heatmap 都指向 {heatmap!r}；请用不同的文件")
    return picture


def plan_show_pictures(export: str | None, heatmap: str | None, trace: ScatterTrace, *, lang: str,
                       precision: int, force: bool = False) -> StepsPlan | None:
    """Pictures too big are refused here, before the report prints; returns the laid-out step picture."""
    if not is_picture(export) and heatmap is None:
        return None
    check_picture_size(trace, steps=is_picture(export), heatmap=heatmap is not None)
    if is_picture(export):
        return plan_steps_picture(export, trace, lang=lang, precision=precision,  # type: ignore[arg-type]
                                  force=force)
    return None


def write_show_pictures(plan: StepsPlan | None, heatmap: str | None, trace: ScatterTrace, *, lang: str,
                        no_color: bool, channel: tuple[int, int] | None = None, force: bool = False) -> None:
    """Write the pictures (from the same step records the terminal render drew) and say so; ``channel``
    = (drawn, total) when the report drew several output channels and the pictures draw one."""
    if plan is None and heatmap is None:
        return
    if channel is not None:
        from rich.text import Text

        make_console(no_color=no_color).print(Text(t("pic.channel_note", lang, co=channel[0], last=channel[1] - 1)))
    if plan is not None:
        report_written(*write_steps_picture(plan), lang=lang, no_color=no_color)
    if heatmap is not None:
        report_written(*show_heatmap(Path(heatmap), trace, lang=lang, force=force), lang=lang, no_color=no_color)
