"""Step pictures: the layout model against the step records, and the GIF / PNG that were written,
decoded and checked against the layout's boxes."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from convt_cli.cli import app
from convt_cli.errors import ConvtError
from convt_cli.pictures.geometry import ACCUM, CROP, CURRENT, EMPTY, OP, PLAIN, TITLE, WRITE, Box
from convt_cli.pictures.layout import sheet_layout, step_figure
from convt_cli.render.show_common import Style, num, product_text
from convt_cli.steps import trace_scatter

Image = pytest.importorskip("PIL.Image")

ENV = {"COLUMNS": "100", "CONVT_LANG": "", "LANG": "C", "NO_COLOR": "1"}
runner = CliRunner()
ST = Style(precision=3)

CASES = {  # name: (cli args, trace arguments)
    "explainer": ([], dict(x=[[1, 2], [3, 4]], kernel=[[1, 0], [0, 1]], stride=2)),
    "overlap_crop": (["-i", "1,2,3;4,5,6;7,8,9", "-k", "1,-1,2;0,1,1;2,1,0", "-p", "1", "--output-padding", "1"],
                     dict(x=[[1, 2, 3], [4, 5, 6], [7, 8, 9]], kernel=[[1, -1, 2], [0, 1, 1], [2, 1, 0]], stride=2,
                          padding=1, output_padding=1)),
    "dilated_1d": (["-i", "1,2,3", "-k", "1,2", "-s", "1", "-d", "2"],
                   dict(x=[1, 2, 3], kernel=[1, 2], stride=1, dilation=2)),
}


def show(*args: str):
    return runner.invoke(app, ["show", "--no-torch", *args], env=ENV)


def fonts_and_figure(trace, lang="en", **kw):
    from convt_cli.pictures.export import fonts_for

    fonts, lang, _ = fonts_for(lang)
    return fonts, step_figure(trace, lang=lang, precision=3, measure=fonts.length, **kw)


def decode_gif(path) -> tuple[list[np.ndarray], list[int]]:
    im = Image.open(path)
    frames, durations = [], []
    for i in range(im.n_frames):
        im.seek(i)
        frames.append(np.asarray(im.convert("RGB")).astype(np.int16))
        durations.append(im.info.get("duration"))
    return frames, durations


def mask_of(boxes, shape) -> np.ndarray:
    mask = np.zeros(shape[:2], dtype=bool)
    for b in boxes:
        mask[b.y0:b.y1, b.x0:b.x1] = True
    return mask


# ------------------------------------------------------------------------------------ layout model


@pytest.mark.parametrize("name", CASES)
def test_layout_cells_say_what_the_step_records_say(name):
    trace = trace_scatter(**CASES[name][1])
    fig = step_figure(trace)
    assert len(fig.frames) == len(trace.steps) + 1
    assert [f.step for f in fig.frames] == [s.number for s in trace.steps] + [None]
    written: set = set()
    previous = np.zeros(trace.canvas.shape)
    for frame, step in zip(fig.frames, trace.steps):
        writes = {w.position: w for w in step.writes}
        for cell in frame.panel_cells("placed"):
            w = writes.get(cell.index)
            if w is not None:
                prod = product_text(w.terms, ST)
                assert (cell.text, cell.role) == ((f"{num(w.before, ST)}+{prod}", ACCUM) if w.overlapped
                                                  else (prod, WRITE))
            elif cell.index in written:
                assert cell.text == num(previous[cell.index].item(), ST) and cell.role in (PLAIN, CROP, OP)
            else:
                assert cell.text == "" and cell.role in (EMPTY, CROP, OP)
        for cell in frame.panel_cells("after"):
            done = cell.index in written or cell.index in writes
            assert cell.text == (num(step.canvas_after[cell.index].item(), ST) if done else "")
        current = [c.index for c in frame.panel_cells("input") if c.role == CURRENT]
        assert current == [(0,) + step.index]
        products = sorted(c.text for c in frame.panel_cells("products") if c.role == WRITE)
        assert products == sorted(num(w.contribution, ST) for w in step.writes)
        written |= set(writes)
        previous = step.canvas_after
    final = fig.frames[-1]
    out = [c for c in final.panel_cells("output")]
    assert len(out) == trace.output.size
    for c in out:
        assert c.text == num(trace.output[c.index].item(), ST)


@pytest.mark.parametrize("name", CASES)
def test_layout_geometry_is_shared_by_every_step_frame_and_inside_it(name):
    trace = trace_scatter(**CASES[name][1])
    fig = step_figure(trace)
    first = fig.frames[0]
    for frame in fig.frames:
        assert (frame.width, frame.height) == (fig.width, fig.height)
        for cell in frame.cells:
            b = cell.box
            assert 0 <= b.x0 < b.x1 <= frame.width and 0 <= b.y0 < b.y1 <= frame.height
    for frame in fig.frames[1:-1]:
        assert [(c.panel, c.index, c.box) for c in frame.cells] == [(c.panel, c.index, c.box) for c in first.cells]
    # Cells never overlap (their interiors are disjoint), so a change in one cannot spill into another.
    boxes = [c.box for c in first.cells]
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            assert a.x1 <= b.x0 or b.x1 <= a.x0 or a.y1 <= b.y0 or b.y1 <= a.y0


@settings(max_examples=25)
@given(nd=st.integers(1, 3), data=st.data())
def test_layout_property_every_position_has_one_cell(nd, data):
    size = st.integers(1, 3)
    x = np.arange(math.prod(s := tuple(data.draw(size) for _ in range(nd))), dtype=np.int64).reshape(s) % 5
    k = np.ones(tuple(data.draw(size) for _ in range(nd)), dtype=np.int64)
    stride = data.draw(st.integers(1, 3))
    dilation = data.draw(st.integers(1, 2))
    kext = [dilation * (kk - 1) + 1 for kk in k.shape]
    padding = data.draw(st.integers(0, min(kext) - 1))
    op = data.draw(st.integers(0, max(0, min(stride, dilation) - 1)))
    try:
        trace = trace_scatter(x, k, stride=stride, padding=padding, output_padding=op, dilation=dilation, max_steps=4)
    except ConvtError:  # padding ate the whole output: not a picture
        assume(False)
    fig = step_figure(trace, legend=False)
    assert len(fig.frames) == len(trace.steps) + 1
    for frame in fig.frames[:-1]:
        assert len(frame.panel_cells("placed")) == trace.canvas.size
        assert len(frame.panel_cells("input")) == x.size
        assert {c.index for c in frame.panel_cells("after")} == {tuple(i) for i in np.ndindex(*trace.canvas.shape)}
    assert len(fig.frames[-1].panel_cells("output")) == trace.output.size


# ------------------------------------------------------------------------------------ GIF


@pytest.mark.parametrize("name", CASES)
def test_gif_frames_change_only_inside_the_cells_each_step_writes(name, tmp_path):
    args, kw = CASES[name]
    path = tmp_path / "steps.gif"
    result = show(*args, "--export", str(path))
    assert result.exit_code == 0, result.output
    assert f"Wrote {path}" in result.output
    trace = trace_scatter(**kw)
    _, fig = fonts_and_figure(trace)
    frames, durations = decode_gif(path)
    assert len(frames) == len(trace.steps) + 1
    assert frames[0].shape[:2] == (fig.height, fig.width)
    assert durations[-1] > durations[0]
    for k in range(1, len(trace.steps)):
        before, after = fig.frames[k - 1], fig.frames[k]
        step, prev = trace.steps[k], trace.steps[k - 1]
        diff = np.any(frames[k] != frames[k - 1], axis=2)
        # The canvas after the step: its pixels change only inside the cells this step writes.
        now = [after.cell("after", w.position).box for w in step.writes]
        panel = mask_of([c.box for c in after.panel_cells("after")], diff.shape)
        assert not np.any(diff & panel & ~mask_of(now, diff.shape))
        # Anywhere: only inside this step's and the previous step's cells, the input elements, the
        # products and the titles that changed.
        allowed = now + [after.cell("placed", w.position).box for w in step.writes + prev.writes]
        allowed += [after.cell("input", (0,) + s.index).box for s in (step, prev)]
        allowed += [c.box for c in after.panel_cells("products")]
        allowed += [lab.box for f in (before, after) for lab in f.labels if lab.role == TITLE]
        assert not np.any(diff & ~mask_of(allowed, diff.shape))
        # And every cell the step writes does change on the canvas where it is placed.
        for w in step.writes:
            b = after.cell("placed", w.position).box
            assert diff[b.y0:b.y1, b.x0:b.x1].any(), w.position


def test_gif_in_chinese_and_with_channels(tmp_path):
    np.save(tmp_path / "x.npy", np.arange(8).reshape(2, 2, 2))
    np.save(tmp_path / "w.npy", np.ones((2, 1, 2, 2), int))
    path = tmp_path / "c.gif"
    result = show("-i", str(tmp_path / "x.npy"), "-k", str(tmp_path / "w.npy"), "--lang", "zh", "--export", str(path))
    assert result.exit_code == 0, result.output
    frames, _ = decode_gif(path)
    assert len(frames) == 4 + 1
    trace = trace_scatter(np.arange(8).reshape(2, 2, 2), np.ones((2, 2, 2), int), channels=True, stride=2)
    fig = step_figure(trace, lang="zh")
    assert [lab.text for lab in fig.frames[0].labels][:2] == ["步骤1：输入[0,0] = (0, 4)", "输入 2×2×2"]
    assert {c.index[0] for c in fig.frames[0].panel_cells("input")} == {0, 1}  # one grid per channel
    assert fig.frames[0].cell("placed", (0, 0)).text == "0×1+4×1"


def test_gif_multi_channel_output_draws_one_channel_and_says_so(tmp_path):
    np.save(tmp_path / "x.npy", np.arange(8).reshape(2, 2, 2))
    np.save(tmp_path / "w.npy", np.ones((2, 2, 2, 2), int))
    path = tmp_path / "c.gif"
    result = show("-i", str(tmp_path / "x.npy"), "-k", str(tmp_path / "w.npy"), "--export", str(path))
    assert result.exit_code == 0, result.output
    assert "the picture draws output channel 0 (channels 0–1); --channel picks another" in result.output
    result = show("-i", str(tmp_path / "x.npy"), "-k", str(tmp_path / "w.npy"), "--channel", "1", "--export",
                  str(path), "--force")
    assert result.exit_code == 0 and "picture draws" not in result.output


# ------------------------------------------------------------------------------------ PNG sheet


@pytest.mark.parametrize("name", ["explainer", "overlap_crop"])
def test_png_sheet_holds_one_panel_per_step_plus_the_output(name, tmp_path):
    from convt_cli.pictures.draw import draw_frame

    args, kw = CASES[name]
    path = tmp_path / "figure.png"
    result = show(*args, "--export", str(path))
    assert result.exit_code == 0, result.output
    trace = trace_scatter(**kw)
    fonts, fig = fonts_and_figure(trace, font_px=13, legend=False, max_width=1000)
    sheet = sheet_layout(fig)
    png = np.asarray(Image.open(path).convert("RGB"))
    assert png.shape[:2] == (sheet.height, sheet.width)
    assert len(sheet.tiles) == len(trace.steps) + 1
    for frame, tile in zip(sheet.frames, sheet.tiles):
        alone = np.asarray(draw_frame(frame, fonts))
        assert np.array_equal(png[tile.y0:tile.y1, tile.x0:tile.x1], alone)
    steps_drawn = [f.step for f in sheet.frames]
    assert steps_drawn == [s.number for s in trace.steps] + [None]


def test_png_sheet_respects_max_steps(tmp_path):
    path = tmp_path / "f.png"
    result = show("--random", "3x3", "--random-kernel", "2x2", "--seed", "1", "--max-steps", "3", "--export", str(path))
    assert result.exit_code == 0, result.output
    x = np.random.default_rng([1, 0]).integers(0, 10, size=(3, 3))
    k = np.random.default_rng([1, 1]).integers(-1, 3, size=(2, 2))
    trace = trace_scatter(x, k, stride=2, max_steps=3)
    fonts, fig = fonts_and_figure(trace, font_px=13, legend=False, max_width=1000)
    assert len(sheet_layout(fig).tiles) == 4
    assert "6 more steps not shown" in " ".join(lab.text for lab in fig.frames[-1].labels)
    assert np.asarray(Image.open(path)).shape[:2] == (sheet_layout(fig).height, sheet_layout(fig).width)


def test_box_helpers():
    b = Box(1, 2, 5, 7)
    assert (b.width, b.height) == (4, 5)
    assert b.shifted(1, 1) == Box(2, 3, 6, 8)
    assert Box(0, 0, 10, 10).contains(b) and not b.contains(Box(0, 0, 10, 10))


def test_no_steps_drawn_leaves_the_final_frame(tmp_path):
    gif, png = tmp_path / "z.gif", tmp_path / "z.png"
    assert show("--max-steps", "0", "--export", str(gif)).exit_code == 0
    assert show("--max-steps", "0", "--export", str(png)).exit_code == 0
    trace = trace_scatter([[1, 2], [3, 4]], [[1, 0], [0, 1]], stride=2, max_steps=0)
    _, fig = fonts_and_figure(trace)
    frames, _ = decode_gif(gif)
    assert len(frames) == 1 and frames[0].shape[:2] == (fig.height, fig.width)
    assert [f.step for f in fig.frames] == [None]
    assert "4 more steps not shown" in " ".join(lab.text for lab in fig.frames[0].labels)


def test_final_frame_says_final_output_once_and_keeps_only_its_own_legend():
    trace = trace_scatter(np.array([[1, 2], [3, 4]]), np.array([[1, 0], [0, 1]]), stride=1)
    fig = step_figure(trace)
    final, step = fig.frames[-1], fig.frames[0]
    texts = [lab.text for lab in final.labels]
    assert sum("Final output 3×3" in x for x in texts) == 1
    assert "After all 4 steps" in texts
    assert any("written by this step" in x for x in (lab.text for lab in step.labels))
    assert not any("written by this step" in x or "added onto" in x for x in texts)
    assert not any(c.role in (WRITE, ACCUM) for c in final.cells)
