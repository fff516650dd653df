"""The console every render prints through: no trailing spaces, and output that survives an ASCII terminal.

Rich pads lines to the full width (tables in a row, grids beside shorter ones); piped into a file or
another program those spaces are noise, so :class:`TrimConsole` drops the blank tail of each line
(spaces without a background colour) before anything is written or recorded for ``--export``.
"""

from __future__ import annotations

import codecs
import sys
from collections.abc import Iterable

from rich.console import Console
from rich.segment import Segment

# What an ASCII-only stream gets instead of the characters convt prints (box drawing Rich swaps itself).
ASCII_FALLBACK = {
    "×": "x", "−": "-", "→": "->", "←": "<-", "…": "...", "·": "*", "≤": "<=", "≥": ">=", "Δ": "d",
    "✓": "ok", "✗": "X", "✂": "%", "★": "*", "Σ": "sum", "²": "^2", "³": "^3", "⁶": "6", "⁹": "9",
    "—": "--", "–": "-", "’": "'", "“": '"', "”": '"', "│": "|", "─": "-", "┌": "+", "┐": "+", "└": "+",
    "┘": "+", "├": "+", "┤": "+", "┬": "+", "┴": "+", "┼": "+", "━": "=", "╴": "-", "▕": "|", "█": "#",
}
ERROR_HANDLER = "convt-ascii"


SINGLE_FALLBACK = {"→": ">", "←": "<", "…": "~", "≤": "<", "≥": ">", "Σ": "S", "²": "2", "³": "3", "✓": "v"}


def _stand_in(text: str, i: int) -> str:
    ch = text[i]
    if ch == "×":
        # Between digits a size or a product of numbers (2x2, 3x1); elsewhere a multiplication in a
        # formula, which reads as "*" (2*padding, dilation*(k - 1)), not as a letter glued to a word.
        before = text[i - 1] if i else ""
        after = text[i + 1] if i + 1 < len(text) else ""
        return "x" if before.isdigit() and after.isdigit() else "*"
    if ch == "·" and 0 < i < len(text) - 1 and text[i - 1] == " " and text[i + 1] == " ":
        return "|"  # a separator ("Input 2x2 | kernel 2x2"); between words it multiplies (per_term*L)
    return ASCII_FALLBACK.get(ch, "?")


def _ascii_fallback(exc: UnicodeError) -> tuple[str, int]:
    """Stand-ins for what ASCII cannot encode, without moving what follows on the line: a stand-in
    longer than its character takes the width back from the spaces after it (the padding of a box
    cell or of a row of panels); where there are none to spare, a one-character stand-in is used."""
    if not isinstance(exc, UnicodeEncodeError):
        raise exc
    text = exc.object
    out = "".join(_stand_in(text, i) for i in range(exc.start, exc.end))
    extra = len(out) - (exc.end - exc.start)
    end = exc.end
    if extra > 0:
        spaces = len(text[end:]) - len(text[end:].lstrip(" "))
        line_ends = end + spaces >= len(text) or text[end + spaces] in "\r\n"
        if spaces >= extra + 1 or (line_ends and spaces >= extra):
            end += extra  # eat spaces after it: the columns to the right stay where they were
        elif spaces and not line_ends:
            out = "".join(SINGLE_FALLBACK.get(text[i], _stand_in(text, i)) for i in range(exc.start, exc.end))
    return out, end


codecs.register_error(ERROR_HANDLER, _ascii_fallback)


def make_streams_safe() -> None:
    """On a stream that cannot encode UTF-8 (``PYTHONIOENCODING=ascii``, a C locale), write ASCII
    stand-ins (``×`` → ``x``, anything else → ``?``) instead of failing."""
    for stream in (sys.stdout, sys.stderr):
        encoding = (getattr(stream, "encoding", None) or "").lower().replace("-", "")
        if encoding in ("utf8", "utf16", "utf32", "gb18030") or not hasattr(stream, "reconfigure"):
            continue
        try:
            stream.reconfigure(errors=ERROR_HANDLER)
        except (ValueError, OSError):  # pragma: no cover - a stream that cannot be reconfigured
            pass


def _is_blank(segment: Segment) -> bool:
    style = segment.style
    if style is not None and (style.bgcolor is not None or style.reverse or style.underline):
        return False
    return not segment.control and segment.text.strip(" ") == ""


def trim_trailing_spaces(segments: Iterable[Segment]) -> list[Segment]:
    """The segments with the blank tail of every line removed (newlines kept)."""
    out: list[Segment] = []
    pending: list[Segment] = []  # blank segments that may still be followed by text on the same line
    for segment in segments:
        if segment.control:
            out.extend(pending)
            pending = []
            out.append(segment)
            continue
        pieces = segment.text.split("\n")
        for i, piece in enumerate(pieces):
            if i:  # a line ends here: its blank tail goes
                pending = []
                out.append(Segment("\n", segment.style))
            if not piece:
                continue
            part = Segment(piece, segment.style)
            if _is_blank(part):
                pending.append(part)
                continue
            out.extend(pending)
            pending = []
            stripped = piece.rstrip(" ")
            if stripped != piece and not _is_blank(Segment(" ", segment.style)):
                stripped = piece  # a styled background: the spaces are part of the drawing
            out.append(Segment(stripped, segment.style))
            if stripped != piece:
                pending.append(Segment(piece[len(stripped):], segment.style))
    out.extend(pending)  # text without a final newline keeps its spaces (the next print may continue it)
    return out


class TrimConsole(Console):
    """A Rich console whose lines never end in spaces (in the terminal, in pipes and in ``--export``)."""

    def _write_buffer(self) -> None:
        with self._lock:
            if self._buffer_index == 0:  # a whole print is ready: trim it before it is recorded and written
                self._buffer[:] = trim_trailing_spaces(self._buffer)
        super()._write_buffer()

    def export_text(self, *, clear: bool = True, styles: bool = False) -> str:
        text = super().export_text(clear=clear, styles=styles)
        return "\n".join(line.rstrip(" ") for line in text.split("\n"))


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
