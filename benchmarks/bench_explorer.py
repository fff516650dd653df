"""The explorer page for the explainer's example: its size and how long headless Chromium takes to open it.

    python benchmarks/bench_explorer.py            # 7 loads, the median and the slowest reported

Needs selenium and Debian's chromium + chromium-driver (see tests/explorer_helpers.py).
The load time is the browser's own Navigation Timing: navigation start to the end of the load event,
which includes parsing the inlined JSON, running the page's script and drawing every grid.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.explorer_helpers import browser_missing, make_driver, quit_driver  # noqa: E402


def main(loads: int = 7) -> None:
    reason = browser_missing()
    if reason:
        sys.exit(f"needs headless Chromium: {reason}")
    with tempfile.TemporaryDirectory() as d:
        page = Path(d) / "explainer.html"
        subprocess.run([sys.executable, "-m", "convt_cli", "show", "--no-torch", "--export", str(page)], check=True,
                       stdout=subprocess.DEVNULL)
        size = page.stat().st_size
        driver = make_driver()
        try:
            times = []
            for _ in range(loads):
                driver.get(page.as_uri())
                times.append(driver.execute_script(
                    "const t = performance.getEntriesByType('navigation')[0]; return t.loadEventEnd - t.startTime"))
        finally:
            quit_driver(driver)
    print(f"explainer page: {size} bytes ({size / 1024:.1f} KiB)")
    print(f"load (navigation start → load event end), {loads} loads: median {statistics.median(times):.0f} ms, "
          f"slowest {max(times):.0f} ms")


if __name__ == "__main__":
    main()
