"""Options shared by several commands (annotations only: no heavy imports)."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from ..context import LANG_KEY
from ..i18n import LANGS


def _check_lang(ctx: typer.Context, value: Optional[str]) -> Optional[str]:
    if value is not None and value.lower() not in LANGS:
        raise typer.BadParameter(f"{value!r} is not a language convt speaks; use en or zh")
    if value:
        ctx.meta[LANG_KEY] = value.lower()  # early (eager), so that a later --help speaks it
    return value.lower() if value else value


LangOption = Annotated[
    Optional[str],
    typer.Option("--lang", callback=_check_lang, metavar="[en|zh]", is_eager=True,
                 help="Language of labels: en or zh (default: CONVT_LANG, LANG)."),
]
NoColorOption = Annotated[bool, typer.Option("--no-color", help="No colour codes.")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print a machine-readable JSON report instead.")]
