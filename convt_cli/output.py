"""Consoles and files: where renders go (Rich is imported here, never by the engine)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from rich.console import Console

from .errors import ConvtError
from .render.console import TrimConsole

EXPORT_SUFFIXES = (".svg", ".html", ".txt")


def make_console(*, no_color: bool = False, width: int | None = None, record: bool = False,
                 stderr: bool = False) -> Console:
    """A console for a render. Pipes get no colour codes (Rich detects them); ``no_color`` forces it.
    Lines never end in spaces (see :class:`TrimConsole`)."""
    return TrimConsole(
        no_color=no_color or None,
        color_system=None if no_color else "auto",
        width=width,
        record=record,
        stderr=stderr,
        highlight=False,
        soft_wrap=False,
    )


def check_export_path(path: str | Path, force: bool = False) -> Path:
    """Validate an export target before any work is done."""
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix not in EXPORT_SUFFIXES:
        raise ConvtError(
            f"export file {str(p)!r} has an unsupported extension {suffix or '(none)'}; "
            "use .svg, .html or .txt",
            zh=f"导出文件 {str(p)!r} 的扩展名 {suffix or '（无）'} 不受支持；请用 .svg、.html 或 .txt",
        )
    parent = p.parent if str(p.parent) else Path(".")
    if not parent.exists():
        raise ConvtError(f"export directory {str(parent)!r} does not exist",
                         zh=f"导出目录 {str(parent)!r} 不存在")
    if not parent.is_dir():
        raise ConvtError(f"export directory {str(parent)!r} is not a directory",
                         zh=f"{str(parent)!r} 不是目录")
    if p.is_dir():
        raise ConvtError(f"export path {str(p)!r} is a directory", zh=f"导出路径 {str(p)!r} 是目录")
    if p.exists() and not force:
        raise ConvtError(f"export file {str(p)!r} already exists; use --force to overwrite it",
                         zh=f"导出文件 {str(p)!r} 已存在；用 --force 覆盖")
    if not os.access(parent, os.W_OK):
        raise ConvtError(f"export directory {str(parent)!r} is not writable",
                         zh=f"导出目录 {str(parent)!r} 不可写")
    return p


def write_atomic(path: str | Path, text: str, force: bool = False) -> Path:
    """Write ``text`` to a temporary file beside ``path`` and rename it into place."""
    p = check_export_path(path, force)
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=p.parent if str(p.parent) else ".")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, p)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    return p


def export_console(console: Console, path: str | Path, force: bool = False, title: str = "convt") -> Path:
    """Save what a recording console printed as .svg, .html or .txt, atomically."""
    p = check_export_path(path, force)
    suffix = p.suffix.lower()
    if suffix == ".svg":
        text = console.export_svg(title=title, clear=False)
    elif suffix == ".html":
        text = console.export_html(clear=False)
    else:
        text = console.export_text(clear=False)
    return write_atomic(p, text, force)
