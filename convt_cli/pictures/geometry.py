"""Pixel boxes, text-width estimates and the records a picture is made of (pure: no Pillow).

A picture is a list of :class:`Cell` (a grid cell: its box, its text, its role) and :class:`Label`
(any other text: titles, axis labels, separators, notes). Roles name what a cell *means*; the
drawer maps them to colours, so the layout never deals in colours.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass

# Cell roles.
PLAIN, EMPTY, CURRENT, WRITE, ACCUM, CROP, OP, GAP = "plain", "empty", "current", "write", "accum", "crop", "op", "gap"
# Label roles.
TITLE, SUBTITLE, AXIS, AXIS_CROP, AXIS_OP, SEPARATOR, NOTE = "title", "subtitle", "axis", "axis_crop", "axis_op", \
    "separator", "note"

NARROW_EM = 0.62  # estimated advance of a Latin character, in ems (DejaVu Sans Mono: 0.602)
WIDE_EM = 1.0  # a CJK character


@dataclass(frozen=True)
class Box:
    """A pixel rectangle: ``x0 <= x < x1``, ``y0 <= y < y1``."""

    x0: int
    y0: int
    x1: int
    y1: int

    @property
    def width(self) -> int:
        return self.x1 - self.x0

    @property
    def height(self) -> int:
        return self.y1 - self.y0

    def shifted(self, dx: int, dy: int) -> Box:
        return Box(self.x0 + dx, self.y0 + dy, self.x1 + dx, self.y1 + dy)

    def contains(self, other: Box) -> bool:
        return self.x0 <= other.x0 and self.y0 <= other.y0 and other.x1 <= self.x1 and other.y1 <= self.y1


@dataclass(frozen=True)
class Cell:
    """One grid cell: ``panel`` names its grid, ``index`` is (channel,) + position for per-channel
    grids and the position otherwise."""

    panel: str
    index: tuple[int, ...]
    box: Box
    text: str
    role: str


@dataclass(frozen=True)
class Label:
    box: Box
    text: str
    role: str
    align: str = "center"  # or "left"


Measure = Callable[[str, int], float]  # (text, font px) → width in pixels


@dataclass(frozen=True)
class Metrics:
    """Sizes derived from the font size, in pixels; ``measure`` gives text widths (the drawer passes
    its fonts' real advances; without it, :func:`text_width` estimates them)."""

    px: int
    measure: Measure | None = None

    def width(self, text: str, px: int | None = None) -> int:
        size = self.px if px is None else px
        if self.measure is None:
            return text_width(text, size)
        return int(self.measure(text, size) + 0.999)

    def widest(self, texts: Sequence[str], px: int | None = None) -> int:
        return max((self.width(s, px) for s in texts), default=0)

    @property
    def cell_h(self) -> int:
        return round(self.px * 1.9)

    @property
    def pad(self) -> int:
        return max(2, round(self.px * 0.45))

    @property
    def line_h(self) -> int:
        return round(self.px * 1.5)

    @property
    def gap(self) -> int:
        return max(4, round(self.px * 0.8))

    @property
    def sep_w(self) -> int:
        return round(self.px * 2.2)

    @property
    def margin(self) -> int:
        return max(4, self.px)


def text_width(text: str, px: int) -> int:
    """An upper estimate of the width of ``text`` at ``px`` pixels (the drawer shrinks what overflows)."""
    ems = sum(WIDE_EM if unicodedata.east_asian_width(ch) in "WF" else NARROW_EM for ch in text)
    return int(ems * px + 0.999)


def widest(texts: Sequence[str], px: int) -> int:
    return max((text_width(s, px) for s in texts), default=0)


def wrap(text: str, width: int, m: Metrics, px: int | None = None) -> list[str]:
    """``text`` broken at spaces into lines no wider than ``width`` pixels (a longer word stays whole)."""
    lines: list[str] = []
    current = ""
    for word in text.split(" "):
        candidate = f"{current} {word}" if current else word
        if current and m.width(candidate, px) > width:
            lines.append(current)
            current = word
        else:
            current = candidate
    lines.append(current)
    return lines
