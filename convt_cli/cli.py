"""The Typer app: the thin edge that parses options, calls the library, renders, maps errors.

Every command lives in ``convt_cli/commands/<name>.py`` and registers itself on ``app``. Errors are
mapped once, here: :class:`ConvtError` → ``Error: …`` on stderr, exit 1; usage mistakes → Click's
exit 2; Ctrl-C → exit 130; anything unexpected → a one-line internal-error message, exit 3
(``--debug`` or ``CONVT_DEBUG=1`` shows the traceback instead).
"""

from __future__ import annotations

import errno
import os
import re
import sys
from typing import Annotated, Optional

import typer
from typer.core import TyperCommand, TyperGroup

from . import __version__, help_zh
from ._compat import ClickException, echo, get_current_context
from .commands import audit, compare, neck, port, shape, show, verify
from .context import DEBUG_KEY, LANG_KEY, current_lang, debug_on, set_debug, set_lang  # noqa: F401 (re-exported)
from .errors import ConvtError
from .i18n import resolve_lang, t
from .render.console import make_streams_safe

# Errors writing our own output (a full disk, a closed pipe, a broken terminal): one plain line, exit 1.
OUTPUT_ERRNOS = {errno.ENOSPC, errno.EPIPE, errno.EIO, errno.EFBIG, getattr(errno, "EDQUOT", errno.ENOSPC)}


# Metavars in --help: what each option takes, by option name first, else by type.
OPTION_METAVARS = {
    "--input": "MATRIX", "--kernel": "MATRIX", "--random": "SIZE", "--random-kernel": "SIZE", "--size": "SIZE",
    "--target": "SIZE", "--stride": "INTS", "--padding": "INTS", "--output-padding": "INTS", "--dilation": "INTS",
    "--kernel-size": "INTS", "--bias": "NUMBER", "--export": "FILE", "--channels": "C_IN,C_OUT",
}
TYPE_METAVARS = {"int": "INT", "float": "NUMBER", "str": "TEXT"}


def _bare_type(param) -> str:  # noqa: ANN001 - a Typer option
    try:
        return str(param.bare_type())
    except Exception:  # noqa: BLE001 - any Typer version without it: plain TEXT
        return "str"


def print_error(message: str, lang: str = "en") -> None:
    echo(f"{t('error', lang)}: {message}", err=True)


def first_sentence(text: str) -> str:
    """The first sentence of a help text, whole (Click would cut it at the terminal width)."""
    flat = " ".join(text.split("\n\n")[0].split())
    for end in (". ", "; "):
        if end in flat:
            return flat.split(end, 1)[0] + "."
    return flat if flat.endswith(".") else flat + "."


class ConvtCommand(TyperCommand):
    """Help that reads whole: the short help is the first sentence (wrapped, never cut with ``...``),
    and the usage line names a required argument plainly (``SIZE``, not ``{SIZE}``)."""

    def get_short_help_str(self, limit: int = 45) -> str:  # noqa: ARG002 - whole, whatever the limit
        if help_lang() == "zh" and self.name in help_zh.SHORT:
            return help_zh.SHORT[self.name]
        if self.short_help:
            return self.short_help
        return first_sentence(self.help or "")

    def get_help(self, ctx: typer.Context) -> str:  # type: ignore[override]
        """``--help``; in Chinese under ``--lang zh --help`` or a Chinese ``LANG`` (texts in help_zh)."""
        texts = help_zh.COMMANDS.get(self.name or "") if help_lang(ctx) == "zh" else None
        if not texts:
            return super().get_help(ctx)
        return _help_in(self, ctx, texts.get("", self.help), {**help_zh.APP_OPTIONS, **texts})

    def get_params(self, ctx: typer.Context) -> list:  # type: ignore[override]
        params = super().get_params(ctx)
        for param in params:  # "--stride INTS", "--seed INT", never "<str>" (an explicit metavar wins)
            if param.param_type_name != "option" or param.metavar is not None or getattr(param, "is_flag", False):
                continue
            names = set(param.opts)
            named = next((m for opt, m in OPTION_METAVARS.items() if opt in names), None)
            kind = _bare_type(param)
            param.metavar = (named if kind == "str" else None) or TYPE_METAVARS.get(kind, "TEXT")
        return params

    def collect_usage_pieces(self, ctx: typer.Context) -> list[str]:  # type: ignore[override]
        pieces = super().collect_usage_pieces(ctx)
        return [p[1:-1] if p.startswith("{") and p.endswith("}") else p for p in pieces]

    def parse_args(self, ctx: typer.Context, args: list[str]) -> list[str]:  # type: ignore[override]
        _fast_coercion(self, ctx)
        return super().parse_args(ctx, args)


class _FastCoercion:
    """Typer (0.29) coerces every parameter through a pydantic TypeAdapter built on first use, and
    importing pydantic costs ~0.2 s of start-up. Values that already have their annotated type
    (defaults; None) and meet its range come back unchanged from pydantic too: pass them through,
    and build typer's own coercion for anything else (strings to convert, out of range, choices)."""

    def __init__(self, param, kind: type) -> None:  # noqa: ANN001 - a Typer parameter
        self.param, self.kind, self.real = param, kind, type(param).get_runtime_param

    def coerce(self, value, param, ctx):  # noqa: ANN001, ANN201 - Typer's RuntimeParam.coerce
        info = param.type_descriptor.parameter_info
        if value is None and not (param.multiple or param.nargs == -1):
            return None
        if type(value) is self.kind and not getattr(info, "clamp", False) and (
                getattr(info, "min", None) is None or value >= info.min) and (
                getattr(info, "max", None) is None or value <= info.max):
            return value
        return self.real(param).coerce(value, param=param, ctx=ctx)


def _fast_coercion(command, ctx) -> None:  # noqa: ANN001 - a Typer command or group, its context
    for param in command.get_params(ctx):
        desc = getattr(param, "type_descriptor", None)
        if desc is None or not hasattr(type(param), "get_runtime_param") or "get_runtime_param" in vars(param):
            continue
        args = [a for a in getattr(desc.annotation, "__args__", ()) if a is not type(None)]
        kind = args[0] if len(args) == 1 and type(None) in desc.annotation.__args__ else desc.annotation
        if kind in (str, int, float, bool):
            fast = _FastCoercion(param, kind)
            param.get_runtime_param = lambda fast=fast: fast


def help_lang(ctx=None) -> str:  # noqa: ANN001 - a Click context
    """The language of ``--help``: an eager ``--lang`` given before ``--help``, else the environment."""
    ctx = ctx or get_current_context(silent=True)
    if ctx is not None and LANG_KEY in ctx.meta:
        return ctx.meta[LANG_KEY]
    return resolve_lang(None)


def _help_in(command, ctx: typer.Context, text: str, option_texts: dict[str, str]) -> str:  # noqa: ANN001
    """The command's help with its description and option texts swapped for the given ones."""
    params = command.get_params(ctx)
    saved = command.help, [(p, getattr(p, "help", None)) for p in params]
    try:
        command.help = text
        for param, _ in saved[1]:
            if param.name in option_texts:
                param.help = option_texts[param.name]
        rendered = super(type(command), command).get_help(ctx)
    finally:
        command.help = saved[0]
        for param, old in saved[1]:
            param.help = old
    return fit_help(rendered, ctx.make_formatter().width)


DL_ENTRY = re.compile(r"^(  \S(?:\S| (?! ))*\s{2,})(\S.*)$")  # "  -s, --stride INTS   help text"


def fit_help(text: str, width: int) -> str:
    """Click wraps help by characters, and a Chinese character takes two cells: re-flow each
    paragraph and each option's text (keeping its column) to ``width`` cells."""
    # lazy for start-up: plain convt --help never loads render.layout (≈ 7 ms, measured with -X importtime)
    from rich.cells import cell_len

    from .render.layout import prose_lines

    def joined(parts: list[str]) -> str:
        text = parts[0]
        for part in parts[1:]:
            wide = cell_len(text[-1]) == 2 and cell_len(part[0]) == 2
            text += part if wide else " " + part
        return text

    lines = text.split("\n")
    out: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        entry = DL_ENTRY.match(line)
        if not line.startswith(" ") or not line.strip():
            out.append(line)
            i += 1
            continue
        head = entry.group(1) if entry else line[:len(line) - len(line.lstrip())]
        parts = [entry.group(2) if entry else line.strip()]
        i += 1
        while i < len(lines) and lines[i].strip() and not DL_ENTRY.match(lines[i]) \
                and len(lines[i]) - len(lines[i].lstrip()) == len(head):
            parts.append(lines[i].strip())
            i += 1
        indent = " " * len(head)
        wrapped = prose_lines(joined(parts), max(width - len(head), 20))
        out.append(head + wrapped[0])
        out.extend(indent + piece for piece in wrapped[1:])
    return "\n".join(out)


def is_output_error(exc: BaseException) -> bool:
    return isinstance(exc, OSError) and exc.errno in OUTPUT_ERRNOS


def output_error_text(exc: OSError, lang: str = "en") -> str:
    reason = exc.strerror or str(exc)
    return t("output_failed", lang, reason=reason)

class ConvtGroup(TyperGroup):
    """Maps every exception raised by a command to a plain message and an exit code."""

    def get_help(self, ctx: typer.Context) -> str:  # type: ignore[override]
        if help_lang(ctx) != "zh":
            return super().get_help(ctx)
        return _help_in(self, ctx, help_zh.APP, help_zh.APP_OPTIONS)

    def parse_args(self, ctx: typer.Context, args: list[str]) -> list[str]:  # type: ignore[override]
        _fast_coercion(self, ctx)
        return super().parse_args(ctx, args)

    def invoke(self, ctx: typer.Context):  # type: ignore[override]
        try:
            return super().invoke(ctx)
        except (typer.Exit, typer.Abort, ClickException):
            raise
        except ConvtError as exc:
            lang = current_lang(ctx)
            print_error(" ".join(exc.text(lang).split("\n")), lang)
            raise typer.Exit(1) from None
        except OSError as exc:
            if is_output_error(exc):
                raise  # reported once, in run(), after the last flush
            if debug_on(ctx):
                raise
            _internal_error(ctx, exc)
        except KeyboardInterrupt:
            echo(t("interrupted", current_lang(ctx)), err=True)
            raise typer.Exit(130) from None
        except Exception as exc:
            if debug_on(ctx):
                raise
            _internal_error(ctx, exc)


def _internal_error(ctx: typer.Context, exc: Exception) -> None:
    message = " ".join(str(exc).split()) or "(no message)"
    echo(t("internal_error", current_lang(ctx), kind=type(exc).__name__, message=message[:300]), err=True)
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
    set_debug(debug)


def _register_commands() -> None:
    for module in (show, verify, port, audit, neck, shape, compare):
        module.register(app)
    for info in app.registered_commands:  # whole short help and plain usage for every command
        if info.cls in (None, TyperCommand):
            info.cls = ConvtCommand


_register_commands()


def run() -> None:  # console-script entry point
    """Run the app; make the output survive an ASCII-only terminal and report a failed write plainly."""
    make_streams_safe()
    quiet_warnings()
    try:
        try:
            app(prog_name="convt")
        finally:
            sys.stdout.flush()
    except OSError as exc:
        if not is_output_error(exc):
            raise
        _silence_stdout()
        if exc.errno != errno.EPIPE:  # a closed pipe (| head) is not an error worth a line
            print_error(output_error_text(exc, current_lang()), current_lang())
            sys.exit(1)
        sys.exit(0)


def quiet_warnings() -> None:
    """No warning lines: a library's warning (NumPy's overflow to inf, torch's notes) never reaches the
    terminal beside convt's own output or its one Error line. ``--debug`` and ``PYTHONWARNINGS`` keep
    them, for whoever is looking for them."""
    import warnings

    if "--debug" in sys.argv[1:] or os.environ.get("PYTHONWARNINGS"):
        return
    warnings.simplefilter("ignore")


def _silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's last flush cannot fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass
