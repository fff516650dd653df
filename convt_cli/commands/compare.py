"""`convt compare` — placeholder until its issue lands."""

from __future__ import annotations

import typer

from ..errors import ConvtError


def register(app: typer.Typer) -> None:
    @app.command("compare")
    def compare() -> None:
        """Not built yet."""
        raise ConvtError("convt compare is not built yet")
