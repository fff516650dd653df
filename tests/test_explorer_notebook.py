"""explore() in a real Jupyter kernel (nbclient + ipykernel): the output cell is the page, inline."""

from __future__ import annotations

import html
import json
import os
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _missing() -> str | None:
    try:
        import ipykernel  # noqa: F401
        import nbclient  # noqa: F401
        import nbformat  # noqa: F401
    except ImportError as exc:
        return f"{exc.name} is not installed (pip install nbclient nbformat ipykernel)"
    from jupyter_client.kernelspec import KernelSpecManager

    if "python3" not in KernelSpecManager().find_kernel_specs():
        return "no python3 kernelspec (python -m ipykernel install --user)"
    return None


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    reason = _missing()
    if reason:
        pytest.skip(f"the notebook test needs Jupyter: {reason}")
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell("from convt_cli import explore\n"
                                  "explore([[1, 2], [3, 4]], [[1, 0], [0, 1]], stride=2)"),
        nbformat.v4.new_code_cell("explore(layer=\"nn.ConvTranspose1d(1, 1, 3, stride=2, padding=1)\", size=4)"),
    ]
    old = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), old]))  # the kernel imports this checkout
    try:
        NotebookClient(nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(ROOT)}}).execute()
    finally:
        if old is None:
            os.environ.pop("PYTHONPATH")
        else:
            os.environ["PYTHONPATH"] = old
    path = tmp_path_factory.mktemp("nb") / "explore.ipynb"
    nbformat.write(nb, str(path))
    return nb, path


def _page(cell) -> str:
    (out,) = [o for o in cell.outputs if o.output_type == "execute_result"]
    shown = out.data["text/html"]
    m = re.fullmatch(r'<iframe class="convt-explorer" srcdoc="([^"]*)" .*</iframe>', shown, re.S)
    assert m, shown[:200]
    return html.unescape(m.group(1))


def test_output_cell_is_the_page_in_an_iframe(executed):
    nb, _ = executed
    page = _page(nb.cells[0])
    assert page.startswith("<!DOCTYPE html>") and "window.convtExplorer" in page
    data = json.loads(re.search(r'id="convt-data">(.*?)</script>', page, re.S).group(1))
    assert data["traces"][0]["output"] == [1, 0, 2, 0, 0, 1, 0, 2, 3, 0, 4, 0, 0, 3, 0, 4]


def test_a_layer_in_a_notebook(executed):
    nb, _ = executed
    data = json.loads(re.search(r'id="convt-data">(.*?)</script>', _page(nb.cells[1]), re.S).group(1))
    assert data["params"] == {"stride": [2], "padding": [1], "output_padding": [0], "dilation": [1]}
    assert data["traces"][0]["out"] == [7]  # (4-1)*2 - 2 + 3 = 7


def test_the_inline_page_works_in_a_browser(executed, tmp_path):
    """The notebook's output HTML, opened as a page: the iframe's explorer draws, with no request."""
    from tests.explorer_helpers import browser_missing, console_errors, make_driver, quit_driver, requested_urls

    reason = browser_missing()
    if reason:
        pytest.skip(f"needs headless Chromium: {reason}")
    nb, _ = executed
    (out,) = [o for o in nb.cells[0].outputs if o.output_type == "execute_result"]
    host = tmp_path / "host.html"
    host.write_text(f"<!DOCTYPE html><html><body>{out.data['text/html']}</body></html>", encoding="utf-8")
    driver = make_driver()
    try:
        requested_urls(driver)
        driver.get(host.as_uri())
        driver.switch_to.frame(driver.find_element("css selector", "iframe.convt-explorer"))
        values = driver.execute_script(
            "return [...document.querySelectorAll('[data-grid=output]')].map(e => Number(e.dataset.exact))")
        assert values == [1, 0, 2, 0, 0, 1, 0, 2, 3, 0, 4, 0, 0, 3, 0, 4]
        assert requested_urls(driver) == [host.as_uri()] and console_errors(driver) == []
    finally:
        quit_driver(driver)
