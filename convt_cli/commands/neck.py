"""`convt neck` — placeholder until its issue lands."""

from __future__ import annotations

import typer

from ..errors import ConvtError


def register(app: typer.Typer) -> None:
    @app.command("neck")
    def neck() -> None:
        """Not built yet."""
        raise ConvtError("convt neck is not built yet")
