"""User-facing labels in English and Chinese, one catalogue shared by every command.

Each module adds its labels with :func:`define` (``{"key": ("English {x}", "中文 {x}")}``) and looks
them up with :func:`t`. The language is ``--lang``, else ``CONVT_LANG``, else ``zh`` when ``LANG``
starts with ``zh``, else English.
"""

from __future__ import annotations

import os

LANGS = ("en", "zh")
_CATALOGUE: dict[str, tuple[str, str]] = {}


def define(labels: dict[str, tuple[str, str]]) -> None:
    """Add labels; a key defined twice with different text is a programming error."""
    for key, pair in labels.items():
        if key in _CATALOGUE and _CATALOGUE[key] != pair:
            raise KeyError(f"label {key!r} is defined twice with different text")
        _CATALOGUE[key] = pair


def t(key: str, lang: str = "en", /, **fields: object) -> str:
    """The label ``key`` in ``lang``, with ``{fields}`` filled in."""
    en, zh = _CATALOGUE[key]
    text = zh if lang == "zh" else en
    return text.format(**fields) if fields else text


def resolve_lang(option: str | None = None) -> str:
    """The language in force: the option, else CONVT_LANG, else LANG, else English."""
    for candidate in (option, os.environ.get("CONVT_LANG")):
        if candidate:
            value = candidate.strip().lower()
            if value.startswith("zh"):
                return "zh"
            if value.startswith("en"):
                return "en"
    if os.environ.get("LANG", "").lower().startswith("zh"):
        return "zh"
    return "en"


define(
    {
        "error": ("Error", "错误"),
        "internal_error": (
            "Internal error: {kind}: {message}. This is a bug in convt; please report it "
            "(run again with --debug for the traceback).",
            "内部错误: {kind}: {message}。这是 convt 的缺陷，请报告（加 --debug 可查看调用栈）。",
        ),
        "interrupted": ("Interrupted.", "已中断。"),
        "output_failed": ("could not write the output: {reason}", "无法写出输出：{reason}"),
        "exported": ("Wrote {path}", "已写入 {path}"),
        "layout.stacked": ("(stacked form: the table is wider than the terminal)", "（堆叠形式：表格比终端更宽）"),
    }
)
