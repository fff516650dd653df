"""Golden text files: compare a render with its file; ``CONVT_REGEN_GOLDEN=1`` rewrites the file."""

from __future__ import annotations

import os
from pathlib import Path


def check_golden_file(path: Path, text: str, *, exact: bool = False) -> None:
    """Compare ``text`` with the file (trailing spaces ignored unless ``exact``).

    Regenerate only after reading the new output.
    """
    if not exact:
        text = "\n".join(line.rstrip() for line in text.splitlines()) + "\n"
    if os.environ.get("CONVT_REGEN_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"missing golden file {path}; run with CONVT_REGEN_GOLDEN=1 after checking the output"
    assert text == path.read_text(encoding="utf-8")
