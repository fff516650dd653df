"""Fonts for the pictures: a chain of installed TrueType fonts, each character drawn with the first
font that has it (Pillow imported lazily, by the callers that draw).

Latin, digits and ``× − ✂ · →`` come from DejaVu Sans Mono (Debian's ``fonts-dejavu-core``); Chinese
labels from WenQuanYi Micro Hei (``fonts-wqy-microhei``), WenQuanYi Zen Hei or Noto Sans CJK, or the
usual macOS/Windows fonts. ``CONVT_FONT`` names a font file tried first. A character no font has is
drawn as an ASCII stand-in (``×`` → ``x``) and the export says so.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

FONT_ENV = "CONVT_FONT"
LATIN_FONTS = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu/DejaVuSansMono.ttf",
    "/System/Library/Fonts/Menlo.ttc",
    "C:/Windows/Fonts/consola.ttf",
    "C:/Windows/Fonts/seguisym.ttf",
)
CJK_FONTS = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/System/Library/Fonts/PingFang.ttc",
    "/System/Library/Fonts/STHeiti Medium.ttc",
    "C:/Windows/Fonts/msyh.ttc",
    "C:/Windows/Fonts/simhei.ttf",
)
ASCII_STAND_INS = {"×": "x", "−": "-", "✂": "X", "·": ".", "→": ">", "Σ": "S", "…": "...", "≥": ">=", "Δ": "d",
                   "ᵀ": "T", "✓": "v", "✗": "x", "★": "*"}
CJK_SAMPLE = "输入卷积核画布步骤"
INSTALL_HINT = "fonts-dejavu-core and fonts-wqy-microhei (Debian/Ubuntu), or set CONVT_FONT to a .ttf/.ttc file"
INSTALL_HINT_ZH = ("fonts-dejavu-core 和 fonts-wqy-microhei（Debian/Ubuntu），"
                   "或把 CONVT_FONT 设为一个 .ttf/.ttc 字体文件")


def install_hint(lang: str) -> str:
    """What to install for the fonts, in the language of the sentence it goes into."""
    return INSTALL_HINT_ZH if lang == "zh" else INSTALL_HINT


def font_paths(lang: str) -> list[str]:
    """Installed candidates in the order they are tried: CONVT_FONT, then Latin first for English
    (monospaced digits) and a CJK font first for Chinese (its Latin is fine, DejaVu fills the rest)."""
    env = os.environ.get(FONT_ENV)
    order = (CJK_FONTS + LATIN_FONTS) if lang == "zh" else (LATIN_FONTS + CJK_FONTS)
    paths = [env] if env else []
    paths += [p for p in order if Path(p).is_file()]
    return paths


class FontChain:
    """Fonts tried in order for each character; ``None`` stands for Pillow's built-in font."""

    def __init__(self, paths: list[str]) -> None:
        from PIL import ImageFont

        self._ImageFont = ImageFont
        self.paths: list[str | None] = []
        for p in paths:
            try:
                ImageFont.truetype(p, 12)
            except OSError:
                continue
            self.paths.append(p)
        if not self.paths:
            self.paths.append(None)

    @lru_cache(maxsize=256)  # noqa: B019 - one chain per export, a handful of sizes
    def font(self, i: int, px: int):  # noqa: ANN201
        path = self.paths[i]
        if path is None:
            return self._ImageFont.load_default(size=px)
        return self._ImageFont.truetype(path, px, layout_engine=self._ImageFont.Layout.BASIC)

    @lru_cache(maxsize=4096)  # noqa: B019
    def has(self, i: int, ch: str) -> bool:
        """Whether font ``i`` draws ``ch`` as its own glyph rather than the missing-glyph box."""
        if ch.isspace():
            return True
        from PIL import Image, ImageDraw

        f = self.font(i, 16)

        def ink(c: str) -> bytes:
            im = Image.new("L", (40, 40))
            ImageDraw.Draw(im).text((4, 4), c, font=f, fill=255)
            return im.tobytes()

        return ink(ch) != ink("\U0010fffd")

    def pick(self, ch: str) -> int | None:
        for i in range(len(self.paths)):
            if self.has(i, ch):
                return i
        return None

    def missing(self, texts: list[str]) -> list[str]:
        """The characters in ``texts`` that no font in the chain has."""
        chars = sorted({ch for s in texts for ch in s})
        return [ch for ch in chars if self.pick(ch) is None]

    def runs(self, text: str) -> list[tuple[int, str]]:
        """``text`` as (font index, piece) runs; characters no font has become ASCII stand-ins."""
        out: list[tuple[int, str]] = []
        for ch in text:
            i = self.pick(ch)
            if i is None:
                ch = ASCII_STAND_INS.get(ch, "?")
                i = 0
            if out and out[-1][0] == i:
                out[-1] = (i, out[-1][1] + ch)
            else:
                out.append((i, ch))
        return out

    @lru_cache(maxsize=8192)  # noqa: B019
    def length(self, text: str, px: int) -> float:
        return sum(self.font(i, px).getlength(piece) for i, piece in self.runs(text))

    def draw(self, draw, x: float, baseline: float, text: str, px: int, fill) -> None:  # noqa: ANN001
        for i, piece in self.runs(text):
            f = self.font(i, px)
            draw.text((x, baseline), piece, font=f, fill=fill, anchor="ls")
            x += f.getlength(piece)

    def has_cjk(self) -> bool:
        return all(self.pick(ch) is not None for ch in CJK_SAMPLE)
