"""The run context: the language and the debug switch of this run, shared by ``cli`` and ``commands/``.

Kept apart from ``cli.py`` so that commands can read and set it without importing the app that
imports them. The values live in the Click context's ``meta`` (one run, one context tree); outside a
command (tests, the library) the language falls back to the environment.
"""

from __future__ import annotations

import os

from ._compat import get_current_context
from .errors import ConvtError
from .i18n import LANGS, resolve_lang

LANG_KEY = "convt.lang"
DEBUG_KEY = "convt.debug"
LANG_ENV = "CONVT_LANG"


def check_lang_env() -> None:
    """``CONVT_LANG`` set to a language convt does not speak is an error, like ``--lang fr``."""
    value = os.environ.get(LANG_ENV, "").strip()
    if value and not value.lower().startswith(LANGS):
        raise ConvtError(
            f"{LANG_ENV}={value!r} is not a language convt speaks; use en or zh (or unset it)",
            zh=f"{LANG_ENV}={value!r} 不是 convt 支持的语言；请用 en 或 zh（或不设置）",
        )


def current_lang(ctx=None) -> str:  # noqa: ANN001 - a Click context
    """The language of this run (never raises: used while reporting errors)."""
    ctx = ctx or get_current_context(silent=True)
    if ctx is not None and LANG_KEY in ctx.meta:
        return ctx.meta[LANG_KEY]
    return resolve_lang(None)


def set_lang(lang_option: str | None) -> str:
    """Resolve the language for this run (``--lang``, else CONVT_LANG, else LANG) and remember it."""
    if lang_option is None:
        check_lang_env()
    lang = resolve_lang(lang_option)
    ctx = get_current_context(silent=True)
    if ctx is not None:
        ctx.meta[LANG_KEY] = lang
    return lang


def set_debug(debug: bool) -> None:
    ctx = get_current_context(silent=True)
    if ctx is not None:
        ctx.meta[DEBUG_KEY] = debug


def debug_on(ctx=None) -> bool:  # noqa: ANN001 - a Click context
    """``--debug`` on this run, or ``CONVT_DEBUG`` set in the environment."""
    ctx = ctx or get_current_context(silent=True)
    return bool((ctx is not None and ctx.meta.get(DEBUG_KEY)) or os.environ.get("CONVT_DEBUG"))
