"""The overlap verdict in words: one wording for ``show --overlap``, ``shape`` and ``compare``.

The verdict itself (``shapes.overlap_verdict``: even, uneven or gaps, and the contributions per
interior cell) is computed once in ``shapes``; this module is the only place that says it.
"""

from __future__ import annotations

from ..i18n import define, t

define(
    {
        "verdict.none": ("no overlap, no gaps", "无重叠、无空隙"),
        "verdict.even": ("even overlap", "均匀重叠"),
        "verdict.uneven": ("uneven overlap, checkerboard", "不均匀重叠，棋盘效应"),
        "verdict.gaps": ("gaps", "有空隙"),
        "verdict.detail_none": ("every interior output cell receives exactly 1 contribution",
                                "每个内部输出格恰好收到 1 份贡献"),
        "verdict.detail_even": ("every interior output cell receives {n} contributions, no checkerboard",
                                "每个内部输出格收到 {n} 份贡献，无棋盘效应"),
        "verdict.detail_uneven": ("interior output cells receive {lo} to {hi} contributions",
                                  "内部输出格收到 {lo} 到 {hi} 份贡献"),
        "verdict.detail_gaps": ("some interior output cells receive no contribution",
                                "部分内部输出格收不到任何贡献"),
        "verdict.count_one": ("{n} per cell", "每格 {n}"),
        "verdict.count_range": ("{lo} to {hi} per cell", "每格 {lo} 到 {hi}"),
    }
)


def _key(kind: str, per_cell: tuple[int, int]) -> str:
    if kind in ("gaps", "uneven"):
        return kind
    return "none" if per_cell[1] == 1 else "even"


def verdict_short(kind: str, per_cell: tuple[int, int], lang: str = "en") -> str:
    """``no overlap, no gaps`` / ``even overlap`` / ``uneven overlap, checkerboard`` / ``gaps``."""
    return t(f"verdict.{_key(kind, per_cell)}", lang)


def verdict_text(kind: str, per_cell: tuple[int, int], lang: str = "en") -> str:
    """The verdict and what it means per interior cell: ``no overlap, no gaps: every interior output
    cell receives exactly 1 contribution``."""
    lo, hi = per_cell
    key = _key(kind, per_cell)
    sep = "：" if lang == "zh" else ": "
    return verdict_short(kind, per_cell, lang) + sep + t(f"verdict.detail_{key}", lang, n=hi, lo=lo, hi=hi)


def verdict_counts(per_cell: tuple[int, int], lang: str = "en") -> str:
    """``1 per cell`` or ``1 to 4 per cell``."""
    lo, hi = per_cell
    return t("verdict.count_one", lang, n=hi) if lo == hi else t("verdict.count_range", lang, lo=lo, hi=hi)
