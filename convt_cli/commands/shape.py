"""`convt shape` — placeholder until its issue lands."""

from __future__ import annotations

import typer

from ..errors import ConvtError


def register(app: typer.Typer) -> None:
    @app.command("shape")
    def shape() -> None:
        """Not built yet."""
        raise ConvtError("convt shape is not built yet")
