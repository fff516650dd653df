"""`convt verify` — placeholder until its issue lands."""

from __future__ import annotations

import typer

from ..errors import ConvtError


def register(app: typer.Typer) -> None:
    @app.command("verify")
    def verify() -> None:
        """Not built yet."""
        raise ConvtError("convt verify is not built yet")
