"""Files: where renders go (export paths, atomic writes); the console itself is :mod:`convt_cli.render.console`'s."""

from __future__ import annotations

import errno
import os
import tempfile
from pathlib import Path

from rich.console import Console

from .errors import ConvtError
from .render.console import make_console  # noqa: F401 (re-exported: commands print through it)

EXPORT_SUFFIXES = (".svg", ".html", ".txt")


def _os_error(path: Path, exc: OSError, doing: str, doing_zh: str) -> ConvtError:
    reason = exc.strerror or str(exc)
    return ConvtError(f"cannot {doing} {str(path)!r}: {reason}", zh=f"无法{doing_zh} {str(path)!r}：{reason}")


def _name_max(parent: Path) -> int:
    try:
        return os.pathconf(parent, "PC_NAME_MAX")
    except (OSError, ValueError, AttributeError):
        return 255


def check_export_path(path: str | Path, force: bool = False) -> Path:
    """Validate an export target before any work is done (every OS refusal becomes a ConvtError)."""
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix not in EXPORT_SUFFIXES:
        raise ConvtError(
            f"export file {str(p)!r} has an unsupported extension {suffix or '(none)'}; "
            "use .svg, .html or .txt",
            zh=f"导出文件 {str(p)!r} 的扩展名 {suffix or '（无）'} 不受支持；请用 .svg、.html 或 .txt",
        )
    parent = p.parent if str(p.parent) else Path(".")
    try:
        if not parent.exists():
            raise ConvtError(f"export directory {str(parent)!r} does not exist",
                             zh=f"导出目录 {str(parent)!r} 不存在")
        if not parent.is_dir():
            raise ConvtError(f"export directory {str(parent)!r} is not a directory",
                             zh=f"{str(parent)!r} 不是目录")
        limit = _name_max(parent)
        if len(os.fsencode(p.name)) > limit:
            raise ConvtError(
                f"export file name {p.name[:40]!r}… is {len(os.fsencode(p.name))} bytes long; this file system "
                f"allows at most {limit}",
                zh=f"导出文件名 {p.name[:40]!r}… 长 {len(os.fsencode(p.name))} 字节；此文件系统最多允许 {limit} 字节",
            )
        if p.is_dir():
            raise ConvtError(f"export path {str(p)!r} is a directory", zh=f"导出路径 {str(p)!r} 是目录")
        if p.exists() and not force:
            raise ConvtError(f"export file {str(p)!r} already exists; use --force to overwrite it",
                             zh=f"导出文件 {str(p)!r} 已存在；用 --force 覆盖")
    except OSError as exc:  # e.g. a directory that cannot be searched, a name too long for the system
        raise _os_error(p, exc, "use the export path", "使用导出路径") from None
    if not os.access(parent, os.W_OK | os.X_OK):
        raise ConvtError(f"export directory {str(parent)!r} is not writable",
                         zh=f"导出目录 {str(parent)!r} 不可写")
    probe_writable(p)
    return p


def probe_writable(target: Path, what: str = "export") -> None:
    """Before any work: a file can really be created beside ``target`` (``os.access`` says yes to root in
    ``/proc`` or on a read-only mount). A temporary file of the writer's own short name, removed at once."""
    parent = target.parent if str(target.parent) else Path(".")
    try:
        fd, tmp = tempfile.mkstemp(prefix=TEMP_PREFIX, suffix=".tmp", dir=parent)
    except OSError as exc:
        raise _os_error(target, exc, f"write the {what} file", "写入文件") from None
    os.close(fd)
    try:
        os.unlink(tmp)
    except OSError:
        pass


def _new_file_mode(existing: Path) -> int:
    """The mode a plainly created file gets (0666 less the umask), or the overwritten file's mode."""
    try:
        return existing.stat().st_mode & 0o7777
    except OSError:
        pass
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


TEMP_PREFIX = ".convt-"  # + 8 random characters + ".tmp": 19 bytes, shorter than any name limit


def write_file_atomic(path: str | Path, data: bytes, *, force: bool = False, what: str = "export") -> Path:
    """Every export's one way to write: ``data`` into a temporary file beside ``path``, then into place.

    - The temporary name is short and fixed in length (``.convt-XXXXXXXX.tmp``), so a target whose own
      name is as long as the file system allows can still be written.
    - Without ``force`` the file is linked into place, which fails if anything appeared at the target
      since it was checked (a file created meanwhile is never overwritten); with ``force`` it replaces
      the target atomically.
    - The file gets the mode an ordinary new file would (the umask honoured; an overwritten file keeps
      its mode). Any failure (a full disk, a vanished or read-only directory, ``/proc``) leaves nothing
      behind and is a ConvtError naming the path and the system's reason.
    """
    p = Path(path)
    parent = p.parent if str(p.parent) else Path(".")
    try:
        fd, tmp = tempfile.mkstemp(prefix=TEMP_PREFIX, suffix=".tmp", dir=parent)
    except OSError as exc:
        raise _os_error(p, exc, f"write the {what} file", "写入文件") from None
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, _new_file_mode(p))
        if force:
            os.replace(tmp, p)
        else:
            _place_new(Path(tmp), p, what)
    except BaseException as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if isinstance(exc, OSError):
            raise _os_error(p, exc, f"write the {what} file", "写入文件") from None
        raise
    return p


def _place_new(tmp: Path, target: Path, what: str) -> None:
    """Move ``tmp`` to ``target`` only if nothing is there (a hard link fails on an existing name)."""
    try:
        os.link(tmp, target)
    except FileExistsError:
        raise ConvtError(f"{what} file {str(target)!r} appeared while it was being drawn; it is left as it is "
                         "(use --force to overwrite it)",
                         zh=f"{what} 文件 {str(target)!r} 在绘制期间被创建；保持原样（用 --force 覆盖）") from None
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.EOPNOTSUPP, errno.EXDEV, errno.EMLINK, errno.ENOSYS):
            raise
        # A file system without hard links: claim the name exclusively, then replace the empty claim.
        os.close(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        os.replace(tmp, target)
        return
    os.unlink(tmp)


def write_atomic(path: str | Path, text: str, force: bool = False) -> Path:
    """``text`` (UTF-8) to an export file: checked again now, then :func:`write_file_atomic`."""
    p = check_export_path(path, force)
    return write_file_atomic(p, text.encode("utf-8"), force=force)


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
