"""The documented examples of each command, for tests that run them as written.

A command's reference lives in ``docs/NAME.md`` (or the README) between ``<!-- section:NAME -->`` and
``<!-- /section:NAME -->``.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README_PATH = ROOT / "README.md"


def readme_section(name: str) -> str:
    """The text of section ``name``: from README.md, else from the docs/ pages."""
    pattern = rf"<!-- section:{name} -->\n(.*?)<!-- /section:{name} -->"
    for page in [README_PATH, *sorted((ROOT / "docs").glob("*.md"))]:
        match = re.search(pattern, page.read_text(encoding="utf-8"), re.S)
        if match:
            return match.group(1)
    raise AssertionError(f"neither README.md nor docs/ has a section {name!r}")
