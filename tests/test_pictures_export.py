"""Heatmaps (show --heatmap, compare --heatmap), picture-export errors, fonts, and life without Pillow."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from convt_cli.cli import app
from convt_cli.pictures.heatmap import HeatMap, colour, heatmap_layout, luminance
from convt_cli.steps import trace_scatter

Image = pytest.importorskip("PIL.Image")

ROOT = Path(__file__).resolve().parent.parent
ENV = {"COLUMNS": "100", "CONVT_LANG": "", "LANG": "C", "NO_COLOR": "1"}
runner = CliRunner()


def invoke(*args: str):
    return runner.invoke(app, list(args), env=ENV)


def fill_at(png: np.ndarray, box) -> tuple[int, ...]:
    """The fill colour of a cell: a pixel just inside its corner (the number sits in the middle)."""
    return tuple(int(v) for v in png[box.y0 + 3, box.x0 + 3])


def measured_layout(maps, **kw):
    from convt_cli.pictures.export import fonts_for

    fonts, _, _ = fonts_for("en")
    return heatmap_layout(maps, measure=fonts.length, **kw)


# ------------------------------------------------------------------------------------ heatmaps


@settings(max_examples=40)
@given(st.floats(0, 100), st.floats(0, 100))
def test_colour_scale_gets_darker_as_values_grow(a, b):
    lo, hi = 0.0, 100.0
    if a < b:
        assert luminance(colour(a, lo, hi)) >= luminance(colour(b, lo, hi))
    if b - a > 100 / 7:  # at least one anchor apart: strictly darker
        assert luminance(colour(a, lo, hi)) > luminance(colour(b, lo, hi))


def test_show_heatmap_cell_colours_order_like_the_counts(tmp_path):
    path = tmp_path / "counts.png"
    args = ["-i", "1,2,3;4,5,6;7,8,9", "-k", "1,1,1;1,1,1;1,1,1", "-s", "2"]
    result = invoke("show", "--no-torch", *args, "--heatmap", str(path))
    assert result.exit_code == 0, result.output
    assert f"Wrote {path}" in result.output
    trace = trace_scatter([[1, 2, 3], [4, 5, 6], [7, 8, 9]], np.ones((3, 3), int), stride=2)
    from convt_cli.pictures.export import _verdict_lines, count_maps

    verdict = _verdict_lines(trace, "en")
    assert verdict[0].startswith("Verdict: uneven overlap, checkerboard")
    layout = measured_layout(count_maps(trace, "en"), title="Contributions per output cell (how many input "
                             "elements feed it)\nkernel_size=3, stride=2, dilation=1", scale_label="contributions",
                             notes=verdict)
    png = np.asarray(Image.open(path).convert("RGB"))
    assert png.shape[:2] == (layout.height, layout.width)
    cells = layout.map_cells(0)
    counts = trace.write_counts[trace.crop]
    assert sorted(c.index for c in cells) == sorted(tuple(i) for i in np.ndindex(*counts.shape))
    assert {c.text for c in cells} == {str(v) for v in np.unique(counts)}
    seen: dict[int, tuple] = {}
    for c in cells:
        assert c.value == counts[c.index]
        got = fill_at(png, c.box)
        seen.setdefault(int(c.value), got)
        assert got == seen[int(c.value)]  # equal counts, equal colours
    ordered = sorted(seen)
    assert len(ordered) >= 3  # 1, 2 and 4 contributions: a checkerboard
    lums = [luminance(seen[v]) for v in ordered]
    assert all(x > y for x, y in zip(lums, lums[1:])), lums


def test_compare_heatmap_has_one_map_per_overlap_case_on_one_scale(tmp_path):
    import json

    from convt_cli.upsampling import OVERLAP_CASES, overlap_map

    path = tmp_path / "maps.png"
    result = invoke("compare", "--json", "--heatmap", str(path))
    assert result.exit_code == 0, result.output
    json.loads(result.stdout)  # stdout stays JSON; "Wrote" goes to stderr
    assert f"Wrote {path}" in result.stderr
    png = np.asarray(Image.open(path).convert("RGB"))
    maps = [HeatMap(np.asarray(overlap_map(k, s).counts)) for k, s in OVERLAP_CASES]
    layout = measured_layout(maps)
    assert len({c.map for c in layout.cells if c.map >= 0}) == len(OVERLAP_CASES) == 3
    assert (layout.lo, layout.hi) == (1.0, 4.0)
    # The colour of every cell depends on its count only, and more is darker, across all maps.
    colours: dict[float, set] = {}
    for c in layout.cells:
        if c.map >= 0:
            colours.setdefault(c.value, set()).add(c.fill)
    assert sorted(colours) == [1.0, 2.0, 4.0] and all(len(v) == 1 for v in colours.values())
    lums = [luminance(next(iter(colours[v]))) for v in sorted(colours)]
    assert all(x > y for x, y in zip(lums, lums[1:]))
    # The written picture holds those colours.
    written = {tuple(int(v) for v in px) for px in png.reshape(-1, 3)[:: 7]}
    for fills in colours.values():
        assert next(iter(fills)) in written


def test_heatmap_layout_rejects_what_is_not_a_2d_map():
    with pytest.raises(ValueError, match="2-d"):
        heatmap_layout([HeatMap(np.zeros((2, 2, 2)))])
    with pytest.raises(ValueError, match="at least one"):
        heatmap_layout([])


@pytest.mark.parametrize("args,n_maps", [(["-i", "1,2,3", "-k", "1,1,1"], 1),
                                         (["-i", "[[[1,2],[3,4]],[[5,6],[7,8]]]", "-k", "[[[1,1],[1,1]],[[1,1],[1,1]]]",
                                           "-s", "1"], 3)])
def test_show_heatmap_1d_and_3d(args, n_maps, tmp_path):
    path = tmp_path / "h.png"
    result = invoke("show", "--no-torch", *args, "--heatmap", str(path))
    assert result.exit_code == 0, result.output
    assert Image.open(path).size[0] > 50


# ------------------------------------------------------------------------------------ errors


@pytest.mark.parametrize("args,message", [
    (["--export", "{d}/s.gif", "--view", "gather"], "draws the scatter steps; it needs --view scatter, not gather"),
    (["--heatmap", "{d}/h.jpg"], "--heatmap file '{d}/h.jpg' has the extension .jpg; use .png"),
    (["--heatmap", "{d}/missing/h.png"], "--heatmap directory '{d}/missing' does not exist"),
    (["--export", "{d}/old.gif"], "export file '{d}/old.gif' already exists; use --force to overwrite it"),
    (["--export", "{d}/dir.gif"], "export path '{d}/dir.gif' is a directory"),
    (["--export", "{d}/s.jpg"], "has an unsupported extension .jpg; use .svg, .html, .txt, .gif or .png"),
    (["--export", "{d}/a.png", "--heatmap", "{d}/a.png"], "--export and --heatmap both name '{d}/a.png'"),
])
def test_picture_export_errors_before_any_work(args, message, tmp_path):
    (tmp_path / "old.gif").write_bytes(b"keep")
    (tmp_path / "dir.gif").mkdir()
    args = [a.format(d=tmp_path) for a in args]
    result = invoke("show", "--no-torch", *args)
    assert result.exit_code == 1
    assert result.stdout == ""  # refused before the report
    assert message.format(d=tmp_path) in result.stderr
    assert (tmp_path / "old.gif").read_bytes() == b"keep"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dir.gif", "old.gif"]


def test_force_overwrites_atomically(tmp_path):
    path = tmp_path / "old.gif"
    path.write_bytes(b"keep")
    result = invoke("show", "--no-torch", "--export", str(path), "--force")
    assert result.exit_code == 0, result.output
    assert Image.open(path).n_frames == 5
    assert sorted(p.name for p in tmp_path.iterdir()) == ["old.gif"]  # no temporary file left


def test_compare_heatmap_errors(tmp_path):
    (tmp_path / "m.png").write_bytes(b"x")
    result = invoke("compare", "--heatmap", str(tmp_path / "m.png"))
    assert result.exit_code == 1 and "already exists; use --force" in result.stderr
    result = invoke("compare", "--heatmap", str(tmp_path / "m.gif"))
    assert result.exit_code == 1 and "has the extension .gif; use .png" in result.stderr


# ------------------------------------------------------------------------------------ fonts


def test_chinese_picture_without_a_chinese_font_falls_back_to_english(tmp_path, monkeypatch):
    from convt_cli.pictures import fonts

    monkeypatch.setattr(fonts, "CJK_FONTS", ())
    monkeypatch.delenv(fonts.FONT_ENV, raising=False)
    path = tmp_path / "s.png"
    result = invoke("show", "--no-torch", "--lang", "zh", "--export", str(path))
    assert result.exit_code == 0, result.output
    assert "没有已安装的字体含有中文字符；图片中的标注改用英文" in result.output
    assert path.exists()


def test_no_font_at_all_draws_ascii_stand_ins_and_says_so(tmp_path, monkeypatch):
    from convt_cli.pictures import fonts

    monkeypatch.setattr(fonts, "CJK_FONTS", ())
    monkeypatch.setattr(fonts, "LATIN_FONTS", ())
    monkeypatch.delenv(fonts.FONT_ENV, raising=False)
    chain = fonts.FontChain(fonts.font_paths("en"))
    assert chain.paths == [None]  # Pillow's own font
    assert chain.runs("3×1") == [(0, "3x1")]
    path = tmp_path / "s.gif"
    result = invoke("show", "--no-torch", "--export", str(path))
    assert result.exit_code == 0, result.output
    assert "no installed font has ×" in result.output and "drawn as ASCII stand-ins" in result.output
    assert Image.open(path).n_frames == 5


def test_installed_fonts_cover_the_marks_and_chinese():
    from convt_cli.pictures.fonts import FontChain, font_paths

    chain = FontChain(font_paths("zh"))
    if not chain.has_cjk():
        pytest.skip("no CJK font installed here (fonts-wqy-microhei)")
    assert chain.missing(["×−✂·→ 步骤卷积核 0123456789"]) == []


# ------------------------------------------------------------------------------------ without Pillow

NO_PIL = """
import sys
sys.modules["PIL"] = None
from convt_cli.cli import run
sys.argv = ["convt"] + sys.argv[1:]
run()
"""


def run_without_pillow(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, **ENV, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-c", NO_PIL, *args], capture_output=True, text=True, cwd=cwd, env=env,
                          timeout=120)


def test_without_pillow_picture_export_says_what_to_install_and_the_rest_works(tmp_path):
    out = run_without_pillow("show", "--no-torch", "--export", "s.gif", cwd=tmp_path)
    assert out.returncode == 1
    assert out.stderr.strip() == ("Error: picture export needs Pillow, which is not installed; install Pillow: "
                                  "pip install 'convt[images]'")
    assert out.stdout == "" and not (tmp_path / "s.gif").exists()
    out = run_without_pillow("compare", "--heatmap", "m.png", cwd=tmp_path)
    assert out.returncode == 1 and "install Pillow: pip install 'convt[images]'" in out.stderr
    out = run_without_pillow("show", "--no-torch", "--export", "s.svg", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert (tmp_path / "s.svg").exists()


def test_show_does_not_import_pillow_unless_a_picture_is_asked_for():
    code = ("import sys; from typer.testing import CliRunner; from convt_cli.cli import app; "
            "r = CliRunner().invoke(app, ['show', '--no-torch']); assert r.exit_code == 0; print('PIL' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                         env={**os.environ, **ENV, "PYTHONPATH": str(ROOT)})
    assert out.stdout.strip() == "False", out.stderr


def test_readme_figures_are_what_the_readme_says():
    from readme_text import readme_section

    doc = readme_section("show")
    found = re.findall(r"\(`(docs/images/[\w.-]+)`, (\d+)×(\d+) px, (\d+) KB\)", doc)
    assert len(found) == 3
    for name, w, h, kb in found:
        path = ROOT / name
        assert Image.open(path).size == (int(w), int(h)), name
        assert round(path.stat().st_size / 1000) == int(kb), name
        assert f"]({name})" in doc or f"]({name.removeprefix('docs/')})" in doc  # README or a docs/ page
    assert Image.open(ROOT / "docs/images/explainer.gif").n_frames == 5
    script = (ROOT / "docs/images/make.sh").read_text()
    for name, *_ in found:
        assert Path(name).name in script


def test_write_heatmap_is_generic(tmp_path):
    from convt_cli.pictures.export import write_heatmap

    phases = np.array([[0.5, 1.0], [1.5, 2.0]])
    path, notes = write_heatmap(tmp_path / "phase.png", phases, title="phase map", row_labels=["r0", "r1"],
                                col_labels=["c0", "c1"])
    png = np.asarray(Image.open(path).convert("RGB"))
    layout = measured_layout([HeatMap(phases, row_labels=["r0", "r1"], col_labels=["c0", "c1"])], title="phase map")
    assert png.shape[:2] == (layout.height, layout.width)
    lums = [luminance(fill_at(png, c.box)) for c in sorted(layout.map_cells(0), key=lambda c: c.value)]
    assert all(x > y for x, y in zip(lums, lums[1:]))
    with pytest.raises(Exception, match="already exists"):
        write_heatmap(tmp_path / "phase.png", phases)


@pytest.mark.parametrize("args,message", [
    (["--random", "20x20", "--random-kernel", "2x2", "--export", "{d}/big.gif"],
     "the canvas has 1600 cells (40×40); a step picture draws at most 1024"),
    (["--random", "9x9", "--random-kernel", "2x2", "-s", "1", "--max-steps", "70", "--export", "{d}/long.png"],
     "--max-steps 70 draws 70 steps; a step picture draws at most 64"),
    (["--random", "70x70", "--random-kernel", "1x1", "-s", "1", "--heatmap", "{d}/big.png"],
     "the output has 4900 cells; a heatmap draws at most 4096"),
    (["--random", "16x16", "--random-kernel", "2x2", "--export", "{d}/sheet.png"],
     r"the sheet of 17 panels would be \d+×\d+ px \([\d.]+ megapixels\); pictures are drawn up to 40 "
     r"megapixels: use --max-steps \d+ or fewer"),
])
def test_pictures_too_big_are_refused_before_the_report(args, message, tmp_path):
    result = invoke("show", "--no-torch", "--seed", "0", *[a.format(d=tmp_path) for a in args])
    assert result.exit_code == 1
    assert result.stdout == "" and (message in result.stderr or re.search(message, result.stderr)), result.stderr
    assert list(tmp_path.iterdir()) == []
