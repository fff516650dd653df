"""The doc runner itself: what it parses, what it accepts, what it refuses."""

from pathlib import Path

from doc_runner import matches, run_document, steps

PAGE = """Intro.

```bash
pip install something   # not run
```

```python file=hello.py
print("hi")
```

```console
$ python hello.py
hi
$ echo one && \\
  echo two
one
two
$ python -c "import sys; print('Error: bad'); sys.exit(1)"
Error: bad
$ python -c "import sys; sys.exit(3)"  # exit 3
```
"""


def test_steps_parse_commands_outputs_and_files():
    got = steps(PAGE)
    assert [s.kind for s in got] == ["file", "run", "run", "run", "run"]
    assert got[0].name == "hello.py" and got[0].text == 'print("hi")\n'
    assert got[2].text == "echo one && \n  echo two" and got[2].expected == ["one", "two"]


def test_matches_with_and_without_wildcards():
    assert matches(["a", "...", "d"], ["a", "b", "c", "d"])
    assert matches(["a", "...", "b"], ["a", "b"])
    assert not matches(["a", "d"], ["a", "b", "d"])
    assert not matches(["a"], ["a", "extra"])
    assert matches(["a  "], ["a"])


def test_a_page_runs_and_a_wrong_output_is_reported(tmp_path):
    (tmp_path / "examples").mkdir()
    page = tmp_path / "page.md"
    page.write_text(PAGE)
    work = tmp_path / "w1"
    work.mkdir()
    assert run_document(page, work) == []
    page.write_text(PAGE.replace("$ python hello.py\nhi", "$ python hello.py\nho"))
    work2 = tmp_path / "w2"
    work2.mkdir()
    problems = run_document(page, work2)
    assert len(problems) == 1 and "ho" in problems[0]
    page.write_text(PAGE.replace("Error: bad\n", "bad\n").replace("print('Error: bad')", "print('bad')"))
    work3 = tmp_path / "w3"
    work3.mkdir()
    assert "exited 1" in run_document(page, work3)[0]  # a failing command whose page shows no Error: line


def test_no_document_in_the_repository_is_malformed():
    root = Path(__file__).resolve().parent.parent
    for page in [root / "README.md", *sorted((root / "docs").glob("*.md"))]:
        steps(page.read_text(encoding="utf-8"))
