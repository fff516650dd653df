"""The CLI edge: version, fast start without torch, and the one error path."""

from __future__ import annotations

import subprocess
import sys

import pytest
import typer
from typer.testing import CliRunner

from convt_cli import __version__
from convt_cli.cli import ConvtGroup, app, set_lang
from convt_cli.errors import ConvtError

runner = CliRunner()


def test_version():
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.stdout.strip() == f"convt {__version__}"


def test_python_dash_m():
    out = subprocess.run([sys.executable, "-m", "convt_cli", "--version"], capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.strip() == f"convt {__version__}"


def test_help_lists_every_command_and_does_not_import_torch():
    code = (
        "import sys\n"
        "from typer.testing import CliRunner\n"
        "from convt_cli.cli import app\n"
        "r = CliRunner().invoke(app, ['--help'])\n"
        "assert r.exit_code == 0, r.output\n"
        "for name in ('show', 'verify', 'neck', 'shape', 'compare'):\n"
        "    assert name in r.stdout, name\n"
        "print('torch' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"


def _toy_app() -> typer.Typer:
    toy = typer.Typer(cls=ConvtGroup)

    @toy.callback()
    def main(ctx: typer.Context) -> None:
        pass

    @toy.command()
    def bad(lang: str = "en") -> None:
        set_lang(lang)
        raise ConvtError("stride=0 in dim 0 must be positive", zh="第 0 维的 stride=0 必须为正")

    @toy.command()
    def boom() -> None:
        raise ZeroDivisionError("division by zero")

    @toy.command()
    def interrupt() -> None:
        raise KeyboardInterrupt

    return toy


def test_convt_error_is_one_line_on_stderr_exit_1():
    result = runner.invoke(_toy_app(), ["bad"])
    assert result.exit_code == 1
    assert result.stderr == "Error: stride=0 in dim 0 must be positive\n"
    assert result.stdout == ""


def test_convt_error_in_chinese():
    result = runner.invoke(_toy_app(), ["bad", "--lang", "zh"])
    assert result.exit_code == 1
    assert result.stderr == "错误: 第 0 维的 stride=0 必须为正\n"


def test_unexpected_exception_is_an_internal_error_exit_3():
    result = runner.invoke(_toy_app(), ["boom"])
    assert result.exit_code == 3
    assert "Internal error: ZeroDivisionError: division by zero" in result.stderr
    assert "Traceback" not in result.output


def test_ctrl_c_exits_130():
    result = runner.invoke(_toy_app(), ["interrupt"])
    assert result.exit_code == 130
    assert "Interrupted" in result.stderr


def test_unknown_command_is_a_usage_error():
    result = runner.invoke(app, ["frobnicate"])
    assert result.exit_code == 2


@pytest.mark.parametrize("env, want", [({"CONVT_LANG": "zh"}, "zh"), ({"LANG": "zh_CN.UTF-8"}, "zh"),
                                       ({"LANG": "C.UTF-8"}, "en")])
def test_language_from_environment(monkeypatch, env, want):
    from convt_cli.i18n import resolve_lang

    monkeypatch.delenv("CONVT_LANG", raising=False)
    monkeypatch.delenv("LANG", raising=False)
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    assert resolve_lang(None) == want
    assert resolve_lang("en") == "en"
