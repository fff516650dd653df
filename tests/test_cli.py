"""The CLI edge: version, fast start without torch, and the one error path."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

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
        "for name in ('show', 'verify', 'neck', 'audit', 'shape', 'compare'):\n"
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


# ----------------------------------------------------------------- help texts, environment, output errors

def _run(args: list[str], env: dict | None = None, stdout=subprocess.PIPE) -> subprocess.CompletedProcess:
    full = {**os.environ, "COLUMNS": "80", "CONVT_LANG": "en", **(env or {})}
    return subprocess.run([sys.executable, "-m", "convt_cli", *args], stdout=stdout, stderr=subprocess.PIPE,
                          env=full, timeout=120)


def test_help_gives_every_command_a_whole_sentence():
    result = runner.invoke(app, ["--help"], env={"COLUMNS": "80"})
    assert result.exit_code == 0
    commands = result.stdout.split("Commands:")[1]
    assert "..." not in commands and "…" not in commands
    entries = re.split(r"\n  (?=\w)", "\n" + commands.strip("\n"))
    texts = {e.split()[0]: " ".join(e.split()[1:]) for e in entries if e.strip()}
    assert set(texts) == {"show", "verify", "port", "audit", "neck", "shape", "compare"}
    for name, text in texts.items():
        assert text.endswith("."), (name, text)
    assert all(len(line) <= 80 for line in result.stdout.splitlines())


def test_help_metavars_and_usage():
    show_help = runner.invoke(app, ["show", "--help"], env={"COLUMNS": "100"}).stdout
    assert "--view [scatter|gather|matrix]" in show_help
    assert "--lang [en|zh]" in show_help
    assert "-s, --stride INTS" in show_help and "--seed INT " in show_help
    assert "<str>" not in show_help and "<int>" not in show_help
    shape_help = runner.invoke(app, ["shape", "--help"], env={"COLUMNS": "100"}).stdout
    assert "Usage: convt shape [OPTIONS] SIZE\n" in shape_help
    compare_help = runner.invoke(app, ["compare", "--help"], env={"COLUMNS": "100"}).stdout
    assert "SAM 3's first layer" not in compare_help
    assert "detectron2's ViTDet-H pyramid" in " ".join(compare_help.split()) and "SAM 1" not in compare_help


def test_unknown_language_in_the_environment_is_an_error_like_the_option():
    env_run = runner.invoke(app, ["shape", "64", "-k", "2"], env={"CONVT_LANG": "fr"})
    assert env_run.exit_code == 1
    assert env_run.stderr == "Error: CONVT_LANG='fr' is not a language convt speaks; use en or zh (or unset it)\n"
    assert env_run.stdout == ""
    option_run = runner.invoke(app, ["shape", "64", "-k", "2", "--lang", "fr"])
    assert option_run.exit_code == 2
    assert "'fr' is not a language convt speaks; use en or zh" in option_run.stderr
    assert runner.invoke(app, ["shape", "64", "-k", "2", "--lang", "en"], env={"CONVT_LANG": "fr"}).exit_code == 0


def test_context_module_does_not_import_the_app():
    code = "import sys, convt_cli.context, convt_cli.commands.show; print('convt_cli.cli' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"


def test_ascii_terminal_gets_ascii_output_not_an_error():
    out = _run(["show", "--no-torch", "--overlap"], env={"PYTHONIOENCODING": "ascii"})
    assert out.returncode == 0, out.stderr
    text = out.stdout.decode("ascii")  # every byte is ASCII
    assert "ConvTranspose2d(1->1, kernel_size=2, stride=2, padding=0," in text
    assert "| 1x1 |" in text and "+---" in text  # products and ASCII boxes
    assert not any(line.endswith(" ") for line in text.splitlines())


def test_ascii_stand_ins_keep_the_boxes_aligned():
    """Every line of a row of panels is as wide in ASCII as in UTF-8 (a two-character ``->`` would push
    its row one column right), and formulas read ``2*padding``, not ``2xpadding``."""
    args = ["show", "--no-torch", "-s", "1", "-k", "1,1;1,1", "--overlap"]
    utf8 = _run(args).stdout.decode("utf-8").splitlines()
    ascii_ = _run(args, env={"PYTHONIOENCODING": "ascii"}).stdout.decode("ascii").splitlines()
    assert len(utf8) == len(ascii_)
    boxed = [(u, a) for u, a in zip(utf8, ascii_) if "│" in u]
    assert boxed
    for u, a in boxed:
        assert len(a) == len(u), (u, a)
    text = "\n".join(ascii_)
    assert "2*padding" in text and "dilation*(k - 1)" in text and "Input 2x2 | kernel 2x2" in text
    assert "xpadding" not in text and "dilationx" not in text


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
@pytest.mark.parametrize("args", [["--help"], ["show", "--no-torch"], ["shape", "64", "-k", "2", "-s", "2"]])
def test_a_full_disk_is_one_error_line(args):
    with open("/dev/full", "w") as full:
        out = _run(args, stdout=full)
    err = out.stderr.decode()
    assert out.returncode == 1, err
    assert err == "Error: could not write the output: No space left on device\n"


def test_the_project_stands_on_its_own():
    root = Path(__file__).resolve().parent.parent
    # the outside notes' names, assembled so that this file does not name them itself
    outside = tuple(a + b for a, b in (("FACTS", ".md"), ("STYLE", ".md"), ("convtranspose", "-explainer"),
                                       ("../", "shared"), ("/work/", "shared")))
    files = [p for p in (root / "convt_cli").rglob("*.py")] + list((root / "docs").glob("*.md"))
    files += list((root / "tests").glob("*.py")) + list((root / "examples").glob("*.py"))
    files += list((root / "benchmarks").glob("*.py"))
    for path in files:
        rel = path.relative_to(root).as_posix()
        text = path.read_text(encoding="utf-8")
        for word in outside:
            assert word not in text, (rel, word)
    readme = (root / "README.md").read_text(encoding="utf-8")
    for word in outside:
        assert word not in readme, word
    semantics = (root / "docs" / "semantics.md").read_text(encoding="utf-8")
    for heading in ("## 1. The operation", "## 2. The rules PyTorch enforces", "## 3. Tolerances",
                    "## 4. The SAM 3 neck"):
        assert heading in semantics, heading


@pytest.mark.parametrize("argv, env", [(["show", "--lang", "zh", "--help"], {}),
                                       (["shape", "--help"], {"CONVT_LANG": "zh"}),
                                       (["compare", "--help"], {"LANG": "zh_CN.UTF-8", "CONVT_LANG": ""}),
                                       (["verify", "--lang", "zh", "--help"], {}),
                                       (["neck", "--help"], {"CONVT_LANG": "zh"}),
                                       (["--help"], {"LANG": "zh_CN.UTF-8", "CONVT_LANG": ""})])
def test_help_in_chinese(argv, env):
    from rich.cells import cell_len

    result = runner.invoke(app, argv, env={"COLUMNS": "80", **env})
    assert result.exit_code == 0, result.output
    text = result.stdout
    assert all(cell_len(line) <= 80 for line in text.splitlines()), text
    assert re.search(r"[\u4e00-\u9fff]{4}", text)  # Chinese prose
    assert "No colour codes." not in text and "Show this message and exit." not in text
    for name in ("stride", "padding", "output_padding"):  # parameter names stay as they are
        if f"--{name.replace('_', '-')}" in text and argv[0] != "--help":
            assert "步幅" not in text and "填充" not in text


def test_help_in_english_by_default():
    text = runner.invoke(app, ["show", "--help"], env={"COLUMNS": "80", "CONVT_LANG": "", "LANG": "C"}).stdout
    assert "Draw every placement step of a transposed convolution" in text
    assert not re.search(r"[\u4e00-\u9fff]", text)
