"""The README's per-command sections, for tests that run their examples as written."""

from __future__ import annotations

import re
from pathlib import Path

README_PATH = Path(__file__).resolve().parent.parent / "README.md"


def readme_section(name: str) -> str:
    """The text between ``<!-- section:NAME -->`` and ``<!-- /section:NAME -->`` in README.md."""
    text = README_PATH.read_text(encoding="utf-8")
    match = re.search(rf"<!-- section:{name} -->\n(.*?)<!-- /section:{name} -->", text, re.S)
    assert match, f"README.md has no section {name!r}"
    return match.group(1)
