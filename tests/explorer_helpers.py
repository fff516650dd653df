"""A headless Chromium for the explorer's browser tests (skipped, with the reason, where it is missing)."""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-default-apps", "--disable-extensions")


def browser_missing() -> str | None:
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install selenium)"
    for path, package in ((CHROMIUM, "chromium"), (CHROMEDRIVER, "chromium-driver")):
        if not Path(path).exists():
            return f"{path} is missing (apt-get install {package})"
    return None


def make_driver(width: int = 1280, height: int = 800):
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="convt-chromium-")
    options = Options()
    options.binary_location = CHROMIUM
    for flag in FLAGS + (f"--user-data-dir={profile}", f"--window-size={width},{height}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.convt_profile = profile
    return driver


def quit_driver(driver) -> None:
    try:
        driver.quit()
    finally:
        shutil.rmtree(driver.convt_profile, ignore_errors=True)


def console_errors(driver) -> list[dict]:
    return [e for e in driver.get_log("browser") if e.get("level") in ("SEVERE", "ERROR")]


def requested_urls(driver) -> list[str]:
    """Every URL the browser asked for since the last call (the DevTools performance log), except data:
    URLs and the browser's own chrome:// pages (its new-tab page loads them on start): neither leaves the
    machine. What remains must be the page's own file:// URL and nothing else."""
    urls = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message.get("method") == "Network.requestWillBeSent":
            url = message["params"]["request"]["url"]
            if not url.startswith(("chrome://", "data:")):
                urls.append(url)
    return urls


def screenshot_not_blank(png: bytes) -> tuple[int, float]:
    """Distinct colours and the grey-level standard deviation of a screenshot."""
    import io

    import numpy as np
    from PIL import Image

    image = Image.open(io.BytesIO(png)).convert("RGB")
    pixels = np.asarray(image).reshape(-1, 3)
    return len(np.unique(pixels[::7], axis=0)), float(pixels.mean(axis=1).std())


@pytest.fixture(scope="module")
def driver():
    reason = browser_missing()
    if reason:
        pytest.skip(f"browser tests need headless Chromium: {reason}")
    d = make_driver()
    yield d
    quit_driver(d)
