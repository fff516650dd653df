"""The explorer page without a browser: what `convt show --export FILE.html` writes (and --static keeps),
the page's data against convt's records, the cost model's refusals, explore() and its notebook form."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from convt_cli.explorer import explore
from convt_cli.steps import trace_scatter
from tests.test_show import show


def page_json(text: str) -> dict:
    m = re.search(r'<script type="application/json" id="convt-data">(.*?)</script>', text, re.S)
    assert m
    return json.loads(m.group(1))


def test_html_export_is_the_explorer_and_static_keeps_richs_html(tmp_path):
    page = tmp_path / "explorer.html"
    r = show("--no-torch", "--export", str(page))
    assert r.exit_code == 0, r.output
    assert r.stdout.rstrip().endswith(f"Wrote {page}")
    text = page.read_text(encoding="utf-8")
    assert 'id="convt-data"' in text and "window.convtExplorer" in text
    size = len(text.encode("utf-8"))
    assert size < 150 * 1024, size  # the explainer's example: a small page
    static = tmp_path / "static.html"
    r = show("--no-torch", "--export", str(static), "--static")
    assert r.exit_code == 0, r.output
    rich = static.read_text(encoding="utf-8")
    assert "<html" in rich and "Step 1: input[0,0] = 1" in rich and "convt-data" not in rich
    assert sorted(p.name for p in tmp_path.iterdir()) == ["explorer.html", "static.html"]  # no temporary file left


def test_page_is_self_contained():
    text = explore([[1, 2], [3, 4]], [[1, 0], [0, 1]], stride=2).html
    # Nothing to fetch: no external URL, no src/href other than the empty data: icon; a CSP forbids requests.
    assert not re.search(r"https?://", text)
    assert re.findall(r'\b(?:src|href)\s*=\s*"([^"]*)"', text) == ["data:,"]
    assert "default-src 'none'" in text
    assert "@import" not in text and "url(" not in text and "fetch(" not in text and "XMLHttpRequest" not in text


def test_page_data_are_the_step_records():
    x, k = np.array([[1, 2], [3, 4]]), np.array([[1, 1], [1, 1]])
    data = page_json(explore(x, k, stride=1, padding=(1, 0), bias=2).html)
    tr = trace_scatter(x, k, stride=1, padding=(1, 0), bias=2)
    rec = data["traces"][0]
    assert rec["total"] == 4 and len(rec["steps"]) == 4
    for st, want in zip(rec["steps"], tr.steps):
        assert st["index"] == list(want.index) and st["origin"] == list(want.origin)
        assert [(w["pos"], w["tap"], w["c"], w["before"], w["after"], w["ov"]) for w in st["writes"]] == \
            [(list(w.position), list(w.tap), w.contribution, w.before, w.after, w.overlapped) for w in want.writes]
    assert rec["output"] == tr.output.reshape(-1).tolist() and data["bias"] == 2
    assert data["params"] == {"stride": [1, 1], "padding": [1, 0], "output_padding": [0, 0], "dilation": [1, 1]}
    assert data["integer"] is True


def test_floats_keep_full_precision():
    x = np.array([0.1, 1 / 3, -2.5e-7])
    data = page_json(explore(x, np.array([np.pi, -1.0]), stride=2).html)
    tr = trace_scatter(x, np.array([np.pi, -1.0]), stride=2)
    assert data["traces"][0]["output"] == tr.output.tolist()  # JSON floats read back bit for bit
    assert data["integer"] is False


def test_lang_zh_labels():
    data = page_json(explore([1, 2], [1, 1], lang="zh").html)
    assert data["lang"] == "zh" and data["labels"]["prev"] == "◀ 上一步"


def test_repr_html_is_an_iframe_with_srcdoc():
    ex = explore([[1, 2], [3, 4]], [[1, 0], [0, 1]], stride=2)
    html = ex._repr_html_()
    assert html.startswith("<iframe") and 'srcdoc="' in html and "<script" not in html  # all of it escaped
    import html as html_mod

    srcdoc = re.search(r'srcdoc="([^"]*)"', html).group(1)
    assert html_mod.unescape(srcdoc) == ex.html


def test_explore_a_layer_in_another_convention():
    ex = explore(layer="Conv2DTranspose(1, 3, strides=2, padding='same')", source="keras", size=(4, 4))
    data = page_json(ex.html)
    assert data["params"]["stride"] == [2, 2] and data["x"]["shape"] == [1, 4, 4] and data["w"]["shape"] == [1, 1, 3, 3]
    # The PyTorch form is drawn (a 9×9 output); the note says where Keras crops it to 8×8.
    assert data["traces"][0]["out"] == [9, 9]
    assert data["note"].startswith("Keras layer, input 4×4: canvas 9×9 → output 8×8")
    assert "H: crop 0 at the start, 1 at the end" in data["note"]


def test_explore_channels_and_groups():
    x = np.arange(2 * 2 * 2).reshape(2, 2, 2)
    w = np.ones((2, 3, 2, 2), dtype=np.int64)
    data = page_json(explore(x, w, stride=2, groups=2).html)
    assert [t["co"] for t in data["traces"]] == list(range(6))
    assert data["traces"][4]["inChannels"] == [1]


@pytest.mark.parametrize("args,message", [
    (["--random", "80x80", "--max-steps", "0"],
     "the canvas has 25600 cells (160×160); the explorer draws at most 4096 (e.g. 64×64): use a smaller input, "
     "kernel or stride, or --static for Rich's HTML"),
    (["--random", "45x45", "--random-kernel", "9x9", "-s", "1", "--max-steps", "2025"],
     "the page would be about 14.3 MB (2025 step(s) × 1 output channel(s)); the explorer writes pages up to 8 MB: "
     "use --max-steps 1119 or fewer"),
    (["--static"], "--static applies to --export FILE.html"),
])
def test_too_large_pages_are_refused_before_writing(tmp_path, args, message):
    page = tmp_path / "big.html"
    extra = ["--export", str(page)] if args != ["--static"] else []
    r = show("--no-torch", *args, *extra)
    assert r.exit_code == 1 and message in r.stderr, r.stderr
    assert "Step 1" not in r.stdout  # refused before the report
    assert list(tmp_path.iterdir()) == []


def test_the_fitting_step_count_is_what_the_cost_model_accepts():
    from convt_cli.errors import ConvtError
    from convt_cli.explorer.page import MAX_PAGE_BYTES, check_page_cost, page_cost

    shape = ((45, 45), (9, 9), (53, 53), 1)
    check_page_cost(*shape, 1119, 1)
    assert page_cost(*shape, 1119, 1) <= MAX_PAGE_BYTES < page_cost(*shape, 1120, 1)
    with pytest.raises(ConvtError, match="use --max-steps 1119 or fewer"):
        check_page_cost(*shape, 1120, 1)


def test_the_cost_model_holds_for_a_real_page(tmp_path):
    """The estimate is an upper bound of what is written (integers, several channels)."""
    from convt_cli.explorer.page import page_cost

    rng = np.random.default_rng(0)
    x, w = rng.integers(-9, 10, (2, 6, 6)), rng.integers(-9, 10, (2, 2, 3, 3))
    ex = explore(x, w, stride=2, max_steps=36)
    assert len(ex) <= page_cost((6, 6), (3, 3), (13, 13), 2, 36, 2)
    assert len(ex) > page_cost((6, 6), (3, 3), (13, 13), 2, 36, 2) / 3  # and not a wild overestimate


def test_existing_page_needs_force(tmp_path):
    page = tmp_path / "p.html"
    page.write_text("keep")
    r = show("--no-torch", "--export", str(page))
    assert r.exit_code == 1 and "already exists; use --force" in r.stderr and page.read_text() == "keep"
    r = show("--no-torch", "--export", str(page), "--force")
    assert r.exit_code == 0 and "convt-data" in page.read_text()


def test_explore_refuses_bad_input():
    from convt_cli.errors import ConvtError

    with pytest.raises(ConvtError, match="output_padding=2 in dim 0 must be smaller than stride=2"):
        explore([1, 2], [1, 1], stride=2, output_padding=2)
    with pytest.raises(ConvtError, match="explore needs an input x and a kernel w"):
        explore([1, 2])
    with pytest.raises(ConvtError, match="arrays of numbers"):
        explore(["a"], [1])
    with pytest.raises(ConvtError, match="overflow to inf or NaN"):
        explore([1e308, 1e308], [1e308, 1.0], stride=1)
