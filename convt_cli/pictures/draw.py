"""Pixels for the layouts: frames, GIFs, PNG sheets and heatmaps, drawn with Pillow (imported here only).

Everything drawn comes from a layout record (:mod:`.layout`, :mod:`.heatmap`): cell boxes, texts and
roles. Roles map to colours here and nowhere else.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

from PIL import Image, ImageDraw

from .fonts import FontChain
from .geometry import (
    ACCUM,
    AXIS,
    AXIS_CROP,
    AXIS_OP,
    CROP,
    CURRENT,
    EMPTY,
    GAP,
    NOTE,
    OP,
    PLAIN,
    SEPARATOR,
    SUBTITLE,
    TITLE,
    WRITE,
    Box,
    Cell,
    Label,
)
from .heatmap import HeatmapLayout
from .layout import Figure, Frame, Sheet

BACKGROUND = (255, 255, 255)
LINE = (90, 90, 90)
INK = (25, 25, 25)
CELL_COLOURS = {  # role → (fill, text)
    PLAIN: (BACKGROUND, INK),
    EMPTY: (BACKGROUND, INK),
    CURRENT: ((255, 200, 40), INK),
    WRITE: ((255, 236, 130), INK),
    ACCUM: ((176, 38, 140), (255, 255, 255)),
    CROP: ((226, 226, 226), (140, 140, 140)),
    OP: ((212, 240, 248), (0, 105, 135)),
    GAP: (BACKGROUND, (165, 165, 165)),
}
LABEL_COLOURS = {TITLE: INK, SUBTITLE: (90, 90, 90), AXIS: (110, 110, 110), AXIS_CROP: (150, 150, 150),
                 AXIS_OP: (0, 120, 155), SEPARATOR: (60, 60, 60), NOTE: (60, 60, 60)}
MIN_PX = 7


def _fit_px(fonts: FontChain, text: str, px: int, width: int) -> int:
    """The font size at which ``text`` fits ``width`` pixels (``px`` when it already does)."""
    while px > MIN_PX and fonts.length(text, px) > width:
        px -= 1
    return px


def _text(draw: ImageDraw.ImageDraw, fonts: FontChain, box: Box, text: str, px: int, fill, align: str,
          dx: int = 0, dy: int = 0) -> None:
    if not text:
        return
    room = box.width - 4 if align == "center" else max(box.width, 1) + 10_000
    size = _fit_px(fonts, text, px, room)
    w = fonts.length(text, size)
    x = box.x0 + dx + ((box.width - w) / 2 if align == "center" else 0)
    baseline = box.y0 + dy + box.height / 2 + size * 0.36
    fonts.draw(draw, x, baseline, text, size, fill)


def draw_cell(draw: ImageDraw.ImageDraw, fonts: FontChain, cell: Cell, px: int, dx: int = 0, dy: int = 0) -> None:
    fill, ink = CELL_COLOURS[cell.role]
    b = cell.box
    draw.rectangle([b.x0 + dx, b.y0 + dy, b.x1 + dx, b.y1 + dy], fill=fill, outline=LINE)
    _text(draw, fonts, Box(b.x0, b.y0, b.x1, b.y1), cell.text, px, ink, "center", dx, dy)


def draw_label(draw: ImageDraw.ImageDraw, fonts: FontChain, label: Label, px: int, dx: int = 0, dy: int = 0) -> None:
    small = label.role in (AXIS, AXIS_OP, SUBTITLE)
    size = round(px * 0.8) if small else round(px * 1.3) if label.role == SEPARATOR else px
    _text(draw, fonts, label.box, label.text, size, LABEL_COLOURS[label.role], label.align, dx, dy)


def draw_frame(frame: Frame, fonts: FontChain, image: Image.Image | None = None, at: tuple[int, int] = (0, 0)
               ) -> Image.Image:
    """``frame`` on a new white image, or onto ``image`` with its top-left corner at ``at``."""
    if image is None:
        image = Image.new("RGB", (frame.width, frame.height), BACKGROUND)
    draw = ImageDraw.Draw(image)
    dx, dy = at
    for cell in frame.cells:
        draw_cell(draw, fonts, cell, frame.font_px, dx, dy)
    for label in frame.labels:
        draw_label(draw, fonts, label, frame.font_px, dx, dy)
    return image


def _shared_palette(images: Sequence[Image.Image]) -> Image.Image:
    """One 256-colour palette for every frame (so a pixel that does not change keeps its colour index)."""
    picks = [images[0], images[len(images) // 2], images[-1]] if len(images) > 2 else list(images)
    w = max(im.width for im in picks)
    montage = Image.new("RGB", (w, sum(im.height for im in picks)), BACKGROUND)
    y = 0
    for im in picks:
        montage.paste(im, (0, y))
        y += im.height
    return montage.quantize(colors=256, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE)


def gif_bytes(figure: Figure, fonts: FontChain) -> bytes:
    """The animated GIF: one frame per step, then the final frame held longer; loops forever."""
    n = len(figure.frames)
    picks = sorted({0, n // 2, n - 1})
    palette = _shared_palette([draw_frame(figure.frames[i], fonts) for i in picks])
    # One RGB frame at a time, kept only as its palette image (a quarter of the memory).
    frames = [draw_frame(f, fonts).quantize(palette=palette, dither=Image.Dither.NONE) for f in figure.frames]
    buf = io.BytesIO()
    frames[0].save(buf, format="GIF", save_all=True, append_images=frames[1:], loop=0,
                   duration=[f.duration_ms for f in figure.frames], disposal=1, optimize=False)
    return buf.getvalue()


def sheet_image(sheet: Sheet, fonts: FontChain) -> Image.Image:
    image = Image.new("RGB", (sheet.width, sheet.height), BACKGROUND)
    draw = ImageDraw.Draw(image)
    for frame, tile in zip(sheet.frames, sheet.tiles):
        draw.rectangle([tile.x0 - 1, tile.y0 - 1, tile.x1, tile.y1], outline=(200, 200, 200))
        draw_frame(frame, fonts, image, (tile.x0, tile.y0))
    px = sheet.frames[0].font_px
    for cell in sheet.legend:
        draw_cell(draw, fonts, cell, px)
    for label in sheet.legend_labels:
        draw_label(draw, fonts, label, px)
    return image


def png_bytes(image: Image.Image) -> bytes:
    buf = io.BytesIO()
    image.save(buf, format="PNG", optimize=True)
    return buf.getvalue()


def heatmap_image(layout: HeatmapLayout, fonts: FontChain) -> Image.Image:
    image = Image.new("RGB", (layout.width, layout.height), BACKGROUND)
    draw = ImageDraw.Draw(image)
    for cell in layout.cells:
        b = cell.box
        draw.rectangle([b.x0, b.y0, b.x1, b.y1], fill=cell.fill, outline=LINE if cell.text else None)
        if cell.text:
            _text(draw, fonts, b, cell.text, layout.font_px, cell.ink, "center")
    for label in layout.labels:
        draw_label(draw, fonts, label, layout.font_px)
    return image
