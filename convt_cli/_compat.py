"""Click's pieces as Typer ships them (Typer ≥ 0.29 vendors Click as ``typer._click``)."""

from __future__ import annotations

try:  # Typer ≥ 0.29
    from typer._click.exceptions import ClickException, UsageError
    from typer._click.globals import get_current_context
    from typer._click.utils import echo
except ImportError:  # pragma: no cover - older Typer on top of Click
    from click import ClickException, UsageError, echo, get_current_context  # type: ignore[no-redef]

__all__ = ["ClickException", "UsageError", "echo", "get_current_context"]
