"""Regenerates docs/images/explorer.png, a screenshot of the explorer page: python docs/images/make_explorer.py

The page is written by convt itself (convt show … --export FILE.html) and photographed in headless
Chromium (Debian's chromium + chromium-driver, and selenium) at 1280×800, at step 3 with an output
cell hovered. For the same look, install the fonts-dejavu-core package.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))

from tests.explorer_helpers import browser_missing, make_driver, quit_driver  # noqa: E402

ARGS = ["--random", "3x3", "--random-kernel", "3x3", "--seed", "4", "-s", "2", "-p", "1", "--output-padding", "1"]


def main() -> None:
    reason = browser_missing()
    if reason:
        sys.exit(f"needs headless Chromium: {reason}")
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    with tempfile.TemporaryDirectory() as d:
        page = Path(d) / "explorer.html"
        subprocess.run([sys.executable, "-m", "convt_cli", "show", "--no-torch", *ARGS, "--export", str(page)],
                       check=True, stdout=subprocess.DEVNULL)
        driver = make_driver(1280, 800)
        try:
            driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                                   {"width": 1280, "height": 720, "deviceScaleFactor": 1, "mobile": False})
            driver.get(page.as_uri())
            for _ in range(2):
                driver.find_element(By.ID, "next").click()
            cell = driver.find_element(By.CSS_SELECTOR, '[data-grid="output"][data-index="1,2"]')
            ActionChains(driver).move_to_element(cell).perform()
            out = HERE / "explorer.png"
            out.write_bytes(driver.get_screenshot_as_png())
            print(f"Wrote {out}")
        finally:
            quit_driver(driver)


if __name__ == "__main__":
    main()
