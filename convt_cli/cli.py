"""The Typer app: the thin edge that parses options, calls the library, renders, maps errors.

Every command lives in ``convt_cli/commands/<name>.py`` and registers itself on ``app``. Errors are
mapped once, here: :class:`ConvtError` → ``Error: …`` on stderr, exit 1; usage mistakes → Click's
exit 2; Ctrl-C → exit 130; anything unexpected → a one-line internal-error message, exit 3
(``--debug`` or ``CONVT_DEBUG=1`` shows the traceback instead).
"""

from __future__ import annotations

import os
from typing import Annotated, Optional

import typer
from typer.core import TyperGroup

from . import __version__
from ._compat import ClickException, echo, get_current_context
from .errors import ConvtError
from .i18n import resolve_lang, t

LANG_KEY = "convt.lang"
DEBUG_KEY = "convt.debug"


def current_lang(ctx: typer.Context | None = None) -> str:
    ctx = ctx or get_current_context(silent=True)
    if ctx is not None and LANG_KEY in ctx.meta:
        return ctx.meta[LANG_KEY]
    return resolve_lang(None)


def set_lang(lang_option: str | None) -> str:
    """Resolve the language for this run and remember it for error messages."""
    lang = resolve_lang(lang_option)
    ctx = get_current_context(silent=True)
    if ctx is not None:
        ctx.meta[LANG_KEY] = lang
    return lang


def print_error(message: str, lang: str = "en") -> None:
    echo(f"{t('error', lang)}: {message}", err=True)


class ConvtGroup(TyperGroup):
    """Maps every exception raised by a command to a plain message and an exit code."""

    def invoke(self, ctx: typer.Context):  # type: ignore[override]
        try:
            return super().invoke(ctx)
        except (typer.Exit, typer.Abort, ClickException):
            raise
        except ConvtError as exc:
            lang = current_lang(ctx)
            print_error(" ".join(exc.text(lang).split("\n")), lang)
            raise typer.Exit(1) from None
        except KeyboardInterrupt:
            echo(t("interrupted", current_lang(ctx)), err=True)
            raise typer.Exit(130) from None
        except Exception as exc:
            if ctx.meta.get(DEBUG_KEY) or os.environ.get("CONVT_DEBUG"):
                raise
            message = " ".join(str(exc).split()) or "(no message)"
            echo(
                t("internal_error", current_lang(ctx), kind=type(exc).__name__, message=message[:300]),
                err=True,
            )
            raise typer.Exit(3) from None


app = typer.Typer(
    cls=ConvtGroup,
    name="convt",
    help="See, prove and trace transposed convolution (PyTorch's ConvTranspose1d/2d/3d).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # plain help and plain one-line usage errors (no boxes to wrap)
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"convt {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    ctx: typer.Context,
    version: Annotated[
        Optional[bool],
        typer.Option("--version", "-V", callback=_version, is_eager=True, help="Print the version and exit."),
    ] = None,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks of internal errors.")] = False,
) -> None:
    """convt — see, prove and trace transposed convolution.

    Example: convt show   (the explainer's 2×2 example, step by step)
    """
    ctx.meta[DEBUG_KEY] = debug


def _register_commands() -> None:
    from .commands import compare, neck, shape, show, verify

    for module in (show, verify, neck, shape, compare):
        module.register(app)


_register_commands()


def run() -> None:  # console-script entry point
    app(prog_name="convt")
