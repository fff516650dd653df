"""The README and the docs pages work as written: their console sessions run top to bottom in a fresh
folder and print what the page shows (see tests/doc_runner.py for the format)."""

from pathlib import Path

import pytest
from doc_runner import ROOT, run_document, steps

PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
RUNNABLE = [p for p in PAGES if any(s.kind == "run" for s in steps(p.read_text(encoding="utf-8")))]


def test_the_readme_and_some_docs_pages_are_runnable():
    names = [p.name for p in RUNNABLE]
    assert "README.md" in names and len(names) >= 3, names


@pytest.mark.parametrize("page", RUNNABLE, ids=lambda p: str(p.relative_to(ROOT)))
def test_page_runs_as_written(page: Path, tmp_path):
    problems = run_document(page, tmp_path)
    assert not problems, "\n\n".join(problems)
