"""`convt show` — placeholder until its issue lands."""

from __future__ import annotations

import typer

from ..errors import ConvtError


def register(app: typer.Typer) -> None:
    @app.command("show")
    def show() -> None:
        """Not built yet."""
        raise ConvtError("convt show is not built yet")
