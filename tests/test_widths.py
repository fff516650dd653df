"""Every command reads well at 60, 80 and 120 columns, and in Chinese at 80.

Table-driven: a command joins with one line in ``RUNS`` (or one example in its README section). Each
render is checked for lines longer than the width, numbers cut short (``…`` next to a digit), a
wrapped formula or signature that leaves a fragment on a line of its own, trailing spaces, and, under
``--lang zh``, English catalogue labels left untranslated.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from readme_text import readme_section
from rich.cells import cell_len
from typer.testing import CliRunner

from convt_cli import i18n
from convt_cli.cli import app

runner = CliRunner()
ROOT = Path(__file__).resolve().parent.parent
WIDTHS = (60, 80, 120)

# (arguments, {render ("60", "80", "120" or "zh"): why it fails until another branch is merged})
RUNS: list[tuple[str, dict[str, str]]] = [
    ("show", {}),
    ("show --view gather --max-steps 2 --no-torch", {}),
    ("show --view matrix --no-torch", {}),
    ("show --random 2x2x2 --random-kernel 2x2x2 --seed 1 --max-steps 1 --no-torch", {}),
    ("shape 64 -k 2 -s 2", {}),
    ("shape 64 --target 128 -k 3", {}),
    ("compare", {}),
    ("verify --dims 1 --cases 20", {}),
    ("neck --device meta", {}),
    ("neck --preset sam3 --device meta", {}),
    ("port 'ConvTranspose3d(6, 4, kernel_size=(1, 2, 3), stride=(3, 1, 2), padding=(0, 2, 1), dilation=(1, 2, 1), "
     "groups=2)' --to mlx --size 2x3x4", {}),
    ("port 'nn.ConvTranspose(features=4, kernel_size=(1,), strides=(3,))' --from flax --to tf", {}),
    ("shape 8x6 --layer \"Conv2DTranspose(16, (3, 4), strides=(2, 3), padding='same')\" --from keras", {}),
    ("show --layer \"Conv2DTranspose(1, 3, strides=2, padding='same')\" --from keras --max-steps 1 --seed 1 "
     "--no-torch", {}),
    ("show -s 2500 --no-torch --max-steps 2", {}),  # a big canvas: each step's window, with its indices
    ("show --random 32x32 --random-kernel 4x4 --seed 3 --max-steps 2 --no-torch", {}),
]

SKIP_README = ("--json", "--export", "--heatmap", ".npy", "--impl", "my_convt", "--emit", "--check")


def readme_runs(section: str) -> list[str]:
    """The examples of a README section that print text (no JSON, files or user code)."""
    text = readme_section(section)
    lines = []
    for block in re.findall(r"```bash\n(.*?)```", text, re.S):
        for line in block.splitlines():
            if line.startswith("convt ") and not any(s in line for s in SKIP_README):
                lines.append(line[len("convt "):])
    return lines


README_RUNS = [(args, {}) for section in ("show", "shape", "compare", "audit", "port")
               for args in readme_runs(section)]
ALL_RUNS = RUNS + [r for r in README_RUNS if r[0] not in {a for a, _ in RUNS}]

CASES = [(args, width, "en", known.get(str(width))) for args, known in ALL_RUNS for width in WIDTHS]
CASES += [(args, 80, "zh", known.get("zh")) for args, known in ALL_RUNS if "--lang" not in args]


@pytest.fixture(autouse=True)
def _in_repo(monkeypatch):
    monkeypatch.chdir(ROOT)  # the audit examples are named relative to the repository


def render(args: str, width: int, lang: str) -> str:
    argv = shlex.split(args) + (["--lang", lang] if lang == "zh" else [])
    result = runner.invoke(app, argv, env={"COLUMNS": str(width), "NO_COLOR": "1", "CONVT_LANG": "en",
                                           "LANG": "C"})
    assert result.exit_code == 0, result.output
    return result.stdout


BOX = set("│┌└├┬┴┼─┐┘┤")
FRAGMENT = re.compile(r"(?=.*\d)[\d.,()=+−×-]{1,4}")  # "1", "1)", "= 4": a piece of a formula
SEPARATOR = {"=", "→", "×", "+"}  # drawn beside a grid in a row of panels


def problems(text: str, width: int) -> list[str]:
    found = []
    for n, line in enumerate(text.splitlines(), 1):
        where = f"line {n}: {line!r}"
        if cell_len(line) > width:
            found.append(f"longer than {width} ({cell_len(line)}): {where}")
        if re.search(r"\d…|…\d", line):
            found.append(f"a number cut short: {where}")
        if line != line.rstrip():
            found.append(f"trailing spaces: {where}")
        body = line.strip()
        if not BOX & set(line) and body and FRAGMENT.fullmatch(body):
            found.append(f"a lone fragment: {where}")
        if not BOX & set(line) and body not in SEPARATOR and re.search(r"[=×(_]$", body):
            found.append(f"broken inside a term: {where}")
    return found


TRANSLATED_NAMES = ("步幅", "步长", "膨胀", "扩张", "输出填充", "分组数", "核大小")
ENGLISH_PROSE = re.compile(r"\b[a-z]{2,}(?:,? [a-z]{2,}){2,}\b")  # three English words in a row


def untranslated(text: str) -> list[str]:
    """Under --lang zh: catalogue labels left in English, and English prose the catalogue never saw."""
    found = [f"untranslated label {piece!r}" for piece in english_only_labels() if piece in text]
    found += [f"English prose {m.group(0)!r} in {line.strip()!r}" for line in text.splitlines()
              for m in ENGLISH_PROSE.finditer(line)]
    # PyTorch's parameter names stay as they are in Chinese output (see docs/glossary.md).
    found += [f"translated parameter name {word!r}" for word in TRANSLATED_NAMES if word in text]
    return found


def english_only_labels() -> list[str]:
    """Pieces of English catalogue text (3+ words) that no Chinese label contains."""
    zh_all = " ".join(zh for _, zh in i18n._CATALOGUE.values())
    pieces = set()
    for en, zh in i18n._CATALOGUE.values():
        if en == zh:
            continue
        for piece in re.split(r"\{[^}]*\}|[():;,.\n]", en):
            piece = piece.strip()
            if len(piece.split()) >= 3 and re.search(r"[a-z]{3}", piece) and piece not in zh_all:
                pieces.add(piece)
    return sorted(pieces)


def _param(args: str, width: int, lang: str, reason: str | None):
    marks = [pytest.mark.xfail(reason=reason, strict=True)] if reason else []
    return pytest.param(args, width, lang, marks=marks, id=f"{args}@{width}{'-zh' if lang == 'zh' else ''}")


@pytest.mark.parametrize("args,width,lang", [_param(*case) for case in CASES])
def test_render_fits(args, width, lang):
    text = render(args, width, lang)
    found = problems(text, width)
    if lang == "zh":
        found += untranslated(text)
    assert not found, "\n".join(found[:20])


def test_checks_catch_what_they_should():
    assert problems("ConvTranspose2d(1→1, kernel_size=2, output_padding=0,\n1", 80)  # a lone fragment
    assert problems("x" * 81, 80)
    assert problems("│ 1.4… │", 80)
    assert problems("trailing ", 80)
    assert problems("a=(in − 1)×\nstride", 80)
    assert not problems("│ 1 │ 2 │\n  H: (2 − 1)×2 = 4", 80)
    render("show --no-torch", 80, "en")  # the show labels are in the catalogue
    assert any("written by an earlier step" in piece for piece in english_only_labels())


def test_readme_examples_are_covered():
    assert len(README_RUNS) >= 10


# ------------------------------------------------------------------ the layout helpers themselves

FORMULA = "Output size = (in − 1)×stride − 2×padding + dilation×(k − 1) + output_padding + 1"


@given(st.integers(min_value=30, max_value=130))
def test_formula_wraps_between_whole_terms(width):
    from convt_cli.render.layout import formula_lines, formula_tokens

    lines = formula_lines(FORMULA, width)
    assert all(cell_len(line) <= width for line in lines)
    assert " ".join(" ".join(lines).split()) == FORMULA  # nothing lost, nothing cut
    tokens = formula_tokens(FORMULA)
    for line in lines:  # every line is a run of whole terms
        assert " ".join(line.split()) in {" ".join(tokens[i:j]) for i in range(len(tokens))
                                          for j in range(i + 1, len(tokens) + 1)}
    assert len(lines) == 1 or lines[-1].strip() != "+ 1"


@given(st.integers(min_value=24, max_value=130))
def test_signature_wraps_between_whole_parameters(width):
    from convt_cli.render.layout import signature_lines

    parts = ["1→1", "kernel_size=(3, 3)", "stride=2", "padding=1", "output_padding=1", "dilation=1", "groups=2"]
    lines = signature_lines("ConvTranspose2d", parts, width)
    assert all(cell_len(line) <= width for line in lines)
    text = " ".join(" ".join(lines).split())
    assert text == "ConvTranspose2d(" + ", ".join(parts) + ")"
    for line in lines[1:]:
        assert re.match(r"\s+[a-z_]+=", line), line  # a continuation starts with a parameter


@given(st.integers(min_value=20, max_value=100))
def test_prose_keeps_sizes_and_chinese_within_the_width(width):
    from convt_cli.render.layout import prose_lines

    text = "2. Pad each end with dilation×(k − 1) − padding zeros (a negative pad crops): 3×3 → 5×5"
    lines = prose_lines(text, width)
    assert all(cell_len(line) <= width for line in lines)
    assert any("3×3 → 5×5" in line for line in lines)
    zh = "Distill 的规则：k 不能被 stride 整除时，各输出格收到的贡献数不均，出现棋盘效应；边界格更少。"
    zh_lines = prose_lines(zh, width)
    assert all(cell_len(line) <= width for line in zh_lines)
    assert "".join(zh_lines).replace(" ", "") == zh.replace(" ", "")
    assert not any(line.startswith(("，", "。", "；")) for line in zh_lines)
