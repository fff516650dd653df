"""The explorer page in a real browser (headless Chromium through selenium): its numbers against the
engine's, its controls, hover explanations, views, and that it makes no request and logs no error.

Skipped, with the reason, where Chromium, chromedriver or selenium is missing.
"""

from __future__ import annotations

import itertools
import math
import random

import numpy as np
import pytest

from convt_cli.engine import conv_transpose
from convt_cli.steps import trace_scatter
from tests.explorer_helpers import console_errors, driver, requested_urls, screenshot_not_blank  # noqa: F401
from tests.test_show import show

PARAM_NAMES = ("stride", "padding", "output_padding", "dilation", "kernel_size", "input_size")
RANDOM_CONFIGS = 170  # per page (one 1-d, one 2-d page): 340 in all (a few invalid on purpose), two page loads
FLOAT_RTOL = 1e-12


@pytest.fixture(scope="module")
def pages(tmp_path_factory):
    """The pages under test, written by the CLI (the explainer's example and a few others)."""
    d = tmp_path_factory.mktemp("pages")
    made = {}
    for name, args in {
        "explainer": [],
        "overlap": ["-i", "1,2;3,4", "-k", "1,1;1,1", "-s", "1"],
        "cropped": ["--random", "3x3", "--random-kernel", "3x3", "--seed", "4", "-s", "2", "-p", "1",
                    "--output-padding", "1"],
        "oned": ["-i", "1,2,3", "-k", "1,-1,2", "-s", "2"],
        "threed": ["--random", "2x2x2", "--random-kernel", "2x2x2", "--seed", "1", "-s", "2"],
        "zh": ["--lang", "zh"],
    }.items():
        path = d / f"{name}.html"
        r = show("--no-torch", *args, "--export", str(path))
        assert r.exit_code == 0, r.output
        made[name] = path
    return made


def load(driver, path):  # noqa: F811
    driver.get(path.as_uri())
    driver.get_log("performance")  # drop the page's own request: later checks see only what the page asked for
    return driver


def cells(driver, grid):  # noqa: F811
    return driver.execute_script(
        "return [...document.querySelectorAll(`[data-grid='${arguments[0]}']`)].map(e => "
        "[e.dataset.index, e.dataset.value, e.dataset.exact, e.className, e.textContent])", grid)


def as_array(entries, integer=True):
    idx = [tuple(map(int, i.split(","))) for i, *_ in entries]
    shape = tuple(max(i[d] for i in idx) + 1 for d in range(len(idx[0])))
    a = np.zeros(shape, dtype=np.int64 if integer else np.float64)
    for i, (_, _, exact, *_rest) in zip(idx, entries):
        a[i] = int(exact) if integer else float(exact)
    return a


# ------------------------------------------------------------------------------------ loading, safety

def test_page_loads_without_errors_or_requests(driver, pages):  # noqa: F811
    requested_urls(driver)  # the log so far (the browser's own start page) is not the page's
    driver.get(pages["explainer"].as_uri())
    urls = requested_urls(driver)
    assert urls == [pages["explainer"].as_uri()], urls  # the document itself, nothing else
    assert console_errors(driver) == []
    colours, spread = screenshot_not_blank(driver.get_screenshot_as_png())
    assert colours > 20 and spread > 5, (colours, spread)
    out = as_array(cells(driver, "output"))
    np.testing.assert_array_equal(out, [[1, 0, 2, 0], [0, 1, 0, 2], [3, 0, 4, 0], [0, 3, 0, 4]])
    for name in PARAM_NAMES:  # one control per dim, named as PyTorch names the parameter
        assert driver.execute_script(f"return document.querySelectorAll('select[name={name}]').length") == 2


def test_every_cell_carries_its_data(driver, pages):  # noqa: F811
    load(driver, pages["cropped"])
    for grid in ("input", "kernel", "output"):
        entries = cells(driver, grid)
        assert entries and all(e[0] and e[1] and e[2] for e in entries), grid


def test_the_pages_scatter_equals_the_embedded_records(driver, pages):  # noqa: F811
    """The page's JavaScript scatter, run on the page's own arrays, reproduces convt's records exactly."""
    for name in ("explainer", "overlap", "cropped", "oned", "threed"):
        load(driver, pages[name])
        same = driver.execute_script("""
            const d = JSON.parse(document.getElementById('convt-data').textContent), E = window.convtExplorer;
            return d.traces.map(tr => {
              const mine = E.scatter(d.x, d.w, d.params, d.groups, d.bias, tr.co, d.maxSteps);
              return ['steps', 'canvas', 'counts', 'extent', 'out', 'output', 'total']
                .filter(k => JSON.stringify(mine[k]) !== JSON.stringify(tr[k]));
            });""")
        assert same == [[]], (name, same)
    assert console_errors(driver) == []


# ------------------------------------------------------------------------------------ steps

def test_steps_prev_next_keys_slider_and_play(driver, pages):  # noqa: F811
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    load(driver, pages["overlap"])
    trace = trace_scatter(np.array([[1, 2], [3, 4]]), np.ones((2, 2), dtype=np.int64), stride=1)
    label = driver.find_element(By.ID, "step-label")

    def written():
        return sorted((e[0], e[4], "acc" in e[3]) for e in cells(driver, "canvas") if "write" in e[3] or "acc" in e[3])

    def expected(n):
        st = trace.steps[n]
        return sorted((",".join(map(str, w.position)),
                       (f"{w.before}+" if w.overlapped else "") + "×".join(map(str, w.terms[0])), w.overlapped)
                      for w in st.writes)

    assert label.text == "Step 1 of 4" and written() == expected(0)
    driver.find_element(By.ID, "next").click()
    assert label.text == "Step 2 of 4" and written() == expected(1)  # overlaps: s+a×b in the accumulated cells
    assert any(acc for *_, acc in written())
    driver.find_element(By.TAG_NAME, "body").send_keys(Keys.ARROW_RIGHT)
    assert label.text == "Step 3 of 4" and written() == expected(2)
    driver.find_element(By.ID, "prev").click()
    driver.find_element(By.TAG_NAME, "body").send_keys(Keys.ARROW_LEFT)
    assert label.text == "Step 1 of 4"
    slider = driver.find_element(By.NAME, "step")
    slider.send_keys(Keys.END)
    assert label.text == "Result: every step" and written() == []
    slider.send_keys(Keys.HOME)
    assert label.text == "Step 1 of 4"
    driver.find_element(By.ID, "play").click()
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(driver, 10).until(lambda d: label.text == "Result: every step")
    assert driver.find_element(By.ID, "play").get_attribute("aria-pressed") == "false"  # stopped at the end
    canvas = as_array(cells(driver, "canvas"))
    np.testing.assert_array_equal(canvas, trace.canvas)


def test_cropped_padding_and_output_padding_are_marked(driver, pages):  # noqa: F811
    load(driver, pages["cropped"])
    axis = driver.execute_script(
        "return [...document.querySelectorAll('table.canvas tr.axis td')].map(e => e.textContent)")
    assert "✂" in axis and any(a.endswith("*") for a in axis)
    canvas = cells(driver, "canvas")
    crop = [e for e in canvas if "crop" in e[3]]
    # padding 1 crops the first row and column (and the last where output_padding does not give them back)
    assert {"0,0", "0,3", "3,0"} <= {e[0] for e in crop}
    assert any("op" in e[3] for e in cells(driver, "output"))


# ------------------------------------------------------------------------------------ hover

def _pairs(o, p, S, K):
    q = [v + pd for v, pd in zip(o, p["padding"])]
    out = []
    for tap in itertools.product(*(range(k) for k in K)):
        r = [qq - t * d for qq, t, d in zip(q, tap, p["dilation"])]
        if all(v >= 0 and v % s == 0 and v // s < n for v, s, n in zip(r, p["stride"], S)):
            out.append((tuple(v // s for v, s in zip(r, p["stride"])), tap))
    return out


def test_hover_output_input_and_kernel_cells(driver, pages):  # noqa: F811
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    load(driver, pages["cropped"])
    data = driver.execute_script("return JSON.parse(document.getElementById('convt-data').textContent)")
    x = np.array(data["x"]["data"]).reshape(data["x"]["shape"])[0]
    w = np.array(data["w"]["data"]).reshape(data["w"]["shape"])[0, 0]
    p = data["params"]
    y = conv_transpose(x[None], w[None, None], None, p["stride"], p["padding"], p["output_padding"], p["dilation"])[0]

    def highlighted(grid):
        return {tuple(map(int, e[0].split(","))) for e in cells(driver, grid) if "hl" in e[3].split()}

    for o in [(0, 0), (1, 2), (4, 4), (2, 3)]:
        cell = driver.find_element(By.CSS_SELECTOR, f'[data-grid="output"][data-index="{o[0]},{o[1]}"]')
        ActionChains(driver).move_to_element(cell).perform()
        pairs = _pairs(o, p, x.shape, w.shape)
        assert highlighted("input") == {i for i, _ in pairs} and highlighted("kernel") == {t for _, t in pairs}
        text = driver.find_element(By.ID, "explain").text
        factor = lambda v: f"({v})" if v < 0 else str(v)  # noqa: E731
        products = " + ".join(f"{factor(x[i])}×{factor(w[t])}" for i, t in pairs)
        assert f"{products} = {y[o]}" in text if pairs else "no pair writes here" in text
        assert text.rstrip().endswith(f"= {y[o]}") and cell.get_attribute("data-exact") == str(y[o])
    cell = driver.find_element(By.CSS_SELECTOR, '[data-grid="input"][data-index="1,1"]')
    cell.click()  # a tap works as a hover
    foot = {(1 * 2 + a - 1, 1 * 2 + b - 1) for a in range(3) for b in range(3)}
    assert highlighted("output") == {q for q in foot if all(0 <= v < y.shape[d] for d, v in enumerate(q))}
    cell = driver.find_element(By.CSS_SELECTOR, '[data-grid="kernel"][data-index="2,0"]')
    ActionChains(driver).move_to_element(cell).perform()
    writes = {(i * 2 + 2 - 1, j * 2 + 0 - 1) for i in range(3) for j in range(3)}
    assert highlighted("output") == {q for q in writes if all(0 <= v < y.shape[d] for d, v in enumerate(q))}


# ------------------------------------------------------------------------------------ views

def test_gather_and_matrix_views(driver, pages):  # noqa: F811
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    load(driver, pages["explainer"])
    Select(driver.find_element(By.NAME, "view")).select_by_value("gather")
    padded = cells(driver, "padded")
    assert len(padded) == 25  # (2-1)*2+1 = 3 zero-inserted, + 1 pad each side: 5×5
    assert [e[0] for e in padded if "el" in e[3].split()] == ["1,1", "1,3", "3,1", "3,3"]
    assert driver.find_element(By.ID, "step-label").text == "Output cell 1 of 16"
    load(driver, pages["cropped"])
    Select(driver.find_element(By.NAME, "view")).select_by_value("gather")
    data = driver.execute_script("return JSON.parse(document.getElementById('convt-data').textContent)")
    w = np.array(data["w"]["data"]).reshape(data["w"]["shape"])[0, 0]
    np.testing.assert_array_equal(as_array(cells(driver, "rotated")), w[::-1, ::-1])
    load(driver, pages["explainer"])
    Select(driver.find_element(By.NAME, "view")).select_by_value("matrix")
    rows = driver.execute_script("return document.querySelectorAll('table.matrix tr').length")
    assert rows == 17  # a header and one row per output cell
    cell = driver.find_element(By.CSS_SELECTOR, '[data-grid="output"][data-index="2,2"]')
    ActionChains(driver).move_to_element(cell).perform()
    row = driver.execute_script("const r = document.querySelector('table.matrix tr.row-now');"
                                "return [...r.cells].map(c => c.textContent)")
    assert row == ["y2,2", "·", "·", "·", "1"]  # y[2,2] = x[1,1]·w[0,0]
    assert console_errors(driver) == []


# ------------------------------------------------------------------------------------ live parameters

def _random_config(rng, nd, mode):
    s = [rng.randint(1, 4) for _ in range(nd)]
    d = [rng.randint(1, 3) for _ in range(nd)]
    op = [rng.randint(0, max(a, b) - 1) for a, b in zip(s, d)]
    k = [rng.randint(1, 4) for _ in range(nd)]
    i = [rng.randint(1, 6) for _ in range(nd)]
    full = [(n - 1) * a + b * (kk - 1) + o + 1 for n, a, b, kk, o in zip(i, s, d, k, op)]
    p = [rng.randint(0, min(3, (f - 1) // 2)) for f in full]  # a positive output size
    bad = rng.random()
    if bad < 0.04:  # now and then an invalid output_padding: the page must show PyTorch's rule
        op[0] = max(s[0], d[0])
    elif bad < 0.08 and (full[0] + 1) // 2 <= 8:  # or a padding that leaves no output
        p[0] = (full[0] + 1) // 2
    return {"mode": mode, "stride": s, "padding": p, "output_padding": op, "dilation": d, "kernel_size": k,
            "input_size": i}


DRIVE = """
const cfgs = arguments[0], out = [], E = window.convtExplorer;
const set = (name, vals) => document.querySelectorAll(`select[name="${name}"]`).forEach((s, d) => {
  s.value = String(vals[d]); s.dispatchEvent(new Event('change', {bubbles: true})); });
const read = (g) => [...document.querySelectorAll(`[data-grid="${g}"]`)].map(e => [e.dataset.index, e.dataset.value,
  e.dataset.exact]);
for (const c of cfgs) {
  if (c.mode === 'controls') for (const n of arguments[1]) set(n, c[n]);
  else E.apply({params: {stride: c.stride, padding: c.padding, output_padding: c.output_padding,
                         dilation: c.dilation}, x: c.x, w: c.w, bias: c.bias, integer: false});
  const err = document.getElementById('error');
  out.push({input: read('input'), kernel: read('kernel'), output: read('output'),
            error: err.hidden ? null : err.textContent, selects: c.mode === 'hook' ? null :
              Object.fromEntries(arguments[1].map(n => [n, [...document.querySelectorAll(`select[name="${n}"]`)]
                .map(s => Number(s.value))]))});
}
return out;
"""


def _rule(cfg):
    nd = len(cfg["stride"])
    for a, s, d in zip(cfg["output_padding"], cfg["stride"], cfg["dilation"]):
        if a >= s and a >= d:
            return "output padding must be smaller than either stride or dilation"
    out = [(i - 1) * s - 2 * p + d * (k - 1) + a + 1 for i, s, p, d, k, a in
           zip(cfg["input_size"], cfg["stride"], cfg["padding"], cfg["dilation"], cfg["kernel_size"],
               cfg["output_padding"])]
    if min(out) <= 0:
        return f"Given input size per channel: ({' x '.join(map(str, cfg['input_size']))}). Calculated output " \
               f"size per channel: ({' x '.join(map(str, out))}). Output size is too small"
    assert nd
    return None


def compare_random(driver, page, nd, n, seed):  # noqa: F811
    """``n`` random configurations on one page: half set through the page's <select> controls (integer
    values, the page's own resize), half through its apply() hook with float arrays; every one recomputed
    by the page's scatter and read back from the DOM. Returns (compared, rule messages checked)."""
    rng = random.Random(seed)
    np_rng = np.random.default_rng(seed)
    cfgs = []
    for i in range(n):
        c = _random_config(rng, nd, "controls" if i < n // 2 else "hook")
        if c["mode"] == "hook":
            c["x"] = {"shape": [1, *c["input_size"]],
                      "data": np_rng.uniform(-3, 3, math.prod(c["input_size"])).tolist()}
            c["w"] = {"shape": [1, 1, *c["kernel_size"]],
                      "data": np_rng.uniform(-2, 2, math.prod(c["kernel_size"])).tolist()}
            c["bias"] = float(np_rng.uniform(-1, 1)) if rng.random() < 0.3 else None
        cfgs.append(c)
    load(driver, page)
    results = driver.execute_script(DRIVE, cfgs, list(PARAM_NAMES))
    compared = rules = 0
    for c, r in zip(cfgs, results):
        if c["mode"] == "controls":
            assert r["selects"] == {k: c[k] for k in PARAM_NAMES}
        rule = _rule(c)
        if rule is not None:
            assert r["error"] is not None and r["error"].startswith(rule), (c, r["error"])
            assert r["output"] == []
            rules += 1
            continue
        assert r["error"] is None, (c, r["error"])
        integer = c["mode"] == "controls"
        x = as_array(r["input"], integer) if integer else np.array(c["x"]["data"]).reshape(c["input_size"])
        w = as_array(r["kernel"], integer) if integer else np.array(c["w"]["data"]).reshape(c["kernel_size"])
        assert list(x.shape) == c["input_size"] and list(w.shape) == c["kernel_size"]
        bias = None if integer or c["bias"] is None else np.array([c["bias"]])
        want = conv_transpose(x[None], w[None, None], bias, c["stride"], c["padding"], c["output_padding"],
                              c["dilation"])[0]
        got = as_array(r["output"], integer)
        assert got.shape == want.shape, c
        if integer:
            np.testing.assert_array_equal(got, want)
        else:
            scale = np.maximum(np.abs(want), 1e-300)
            assert np.all(np.abs(got - want) <= FLOAT_RTOL * scale), (c, np.max(np.abs(got - want) / scale))
        compared += 1
    assert console_errors(driver) == [] and requested_urls(driver) == []
    return compared, rules


def test_random_configurations_match_the_engine(driver, pages):  # noqa: F811
    total = rules = 0
    for page, nd, seed in ((pages["oned"], 1, 11), (pages["cropped"], 2, 12)):
        c, r = compare_random(driver, page, nd, RANDOM_CONFIGS, seed)
        total, rules = total + c, rules + r
    print(f"explorer: {total} random configurations compared with the engine, {rules} rule messages checked")
    assert total + rules == 2 * RANDOM_CONFIGS and total >= 300


@pytest.mark.heavy
def test_many_more_random_configurations(driver, pages):  # noqa: F811
    total = 0
    for page, nd, seed in ((pages["oned"], 1, 21), (pages["cropped"], 2, 22)):
        c, _ = compare_random(driver, page, nd, 1500, seed)
        assert c > 1000
        total += c
    print(f"explorer (heavy): {total} random configurations compared with the engine")


# ------------------------------------------------------------------------------------ channels, 3-d, language

def test_channels_and_groups(driver, tmp_path):  # noqa: F811
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    from convt_cli import explore

    rng = np.random.default_rng(3)
    x = rng.integers(-3, 4, (4, 3, 3))
    w = rng.integers(-2, 3, (4, 3, 2, 2))  # groups=2: C_out = 6
    page = tmp_path / "channels.html"
    explore(x, w, stride=2, padding=1, groups=2, channel=4).save(str(page))
    load(driver, page)
    y = conv_transpose(x, w, None, 2, 1, 0, 1, 2)
    chan = Select(driver.find_element(By.NAME, "out_channel"))
    assert [o.text for o in chan.options] == [str(c) for c in range(6)] and chan.first_selected_option.text == "4"
    for co in (4, 0, 5, 2):
        chan.select_by_value(str(co))
        np.testing.assert_array_equal(as_array(cells(driver, "output")), y[co])
        g = co // 3
        titles = driver.execute_script("return [...document.querySelectorAll('.panel h2')].map(h => h.textContent)")
        assert f"Input, channel {2 * g}" in titles and f"Input, channel {2 * g + 1}" in titles
    cell = driver.find_element(By.CSS_SELECTOR, '[data-grid="output"][data-index="1,1"]')
    cell.click()
    text = driver.find_element(By.ID, "explain").text
    assert "channel 0:" in text and "channel 1:" in text and "sum over channels" in text  # channel 2: group 0
    assert text.rstrip().endswith(f"= {y[2][1, 1]}")
    assert console_errors(driver) == []


def test_three_d_as_depth_slices_and_chinese(driver, pages):  # noqa: F811
    load(driver, pages["threed"])
    slices = driver.execute_script("return [...document.querySelectorAll('.slice')].map(e => e.textContent)")
    assert "depth 0" in slices and "depth 3" in slices  # the canvas and the output: depth 0..3
    data = driver.execute_script("return JSON.parse(document.getElementById('convt-data').textContent)")
    x = np.array(data["x"]["data"]).reshape(data["x"]["shape"])
    w = np.array(data["w"]["data"]).reshape(data["w"]["shape"])
    np.testing.assert_array_equal(as_array(cells(driver, "output")), conv_transpose(x, w, None, 2)[0])
    load(driver, pages["zh"])
    assert driver.execute_script("return document.documentElement.lang") == "zh"
    assert "上一步" in driver.execute_script("return document.getElementById('prev').textContent")


# ------------------------------------------------------------------------------------ look and reach

def test_theme_keyboard_and_phone_width(driver, pages):  # noqa: F811
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    load(driver, pages["cropped"])
    bg = "return getComputedStyle(document.body).backgroundColor"
    before = driver.execute_script(bg)
    driver.find_element(By.ID, "theme").click()
    assert driver.execute_script(bg) != before
    driver.find_element(By.ID, "theme").click()
    assert driver.execute_script(bg) == before
    # Tab reaches every control.
    driver.find_element(By.ID, "signature").click()  # the heading: Tab goes on from the top of the page
    seen = set()
    from selenium.webdriver.common.action_chains import ActionChains

    for _ in range(40):
        ActionChains(driver).send_keys(Keys.TAB).perform()
        el = driver.switch_to.active_element
        seen.add(el.get_attribute("id") or el.get_attribute("name"))
    assert {"stride", "padding", "output_padding", "dilation", "kernel_size", "input_size", "view", "theme",
            "prev", "play", "next", "step"} <= seen, seen
    try:
        for width, height, name in ((375, 740, "explainer"), (375, 740, "cropped"), (1280, 800, "cropped")):
            driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                                   {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 500})
            load(driver, pages[name])
            overflow = driver.execute_script("return document.documentElement.scrollWidth")
            assert overflow <= width, (width, overflow)  # nothing wider than the screen: no sideways page scroll
            font = driver.execute_script(
                "return parseFloat(getComputedStyle(document.querySelector('td.cell')).fontSize)")
            assert font >= 12
            colours, spread = screenshot_not_blank(driver.get_screenshot_as_png())
            assert colours > 20 and spread > 5
    finally:
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
