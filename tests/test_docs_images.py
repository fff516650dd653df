"""The committed pictures in docs/images are what the code draws today: every ``convt`` line of
docs/images/make.sh is run in a fresh directory and its picture compared, pixel by pixel and frame by
frame, with the committed file (so a wording or layout change cannot leave a stale figure behind).

The pictures are drawn with the fonts make.sh names (DejaVu, WenQuanYi); without them the comparison
is skipped, saying why.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

PIL = pytest.importorskip("PIL.Image")

ROOT = Path(__file__).resolve().parent.parent
IMAGES = ROOT / "docs" / "images"


def make_lines() -> list[list[str]]:
    lines = []
    for line in (IMAGES / "make.sh").read_text(encoding="utf-8").splitlines():
        if line.startswith("convt "):
            words = shlex.split(line.split(" >", 1)[0])
            lines.append(words[1:])
    return lines


def frames(path: Path) -> list[tuple[tuple[int, int], bytes]]:
    out = []
    with PIL.open(path) as image:
        for n in range(getattr(image, "n_frames", 1)):
            image.seek(n)
            rgb = image.convert("RGB")
            out.append((rgb.size, rgb.tobytes()))
    return out


def target_of(args: list[str]) -> str:
    for flag in ("--export", "--heatmap"):
        if flag in args:
            return args[args.index(flag) + 1]
    raise AssertionError(f"no picture in {args}")


def test_make_sh_draws_every_committed_picture():
    targets = sorted(target_of(a) for a in make_lines())
    committed = sorted(p.name for p in IMAGES.iterdir() if p.suffix in (".png", ".gif"))
    # explorer.png is a browser screenshot, made by make_explorer.py (a screenshot is not pixel-stable)
    assert targets == [name for name in committed if name != "explorer.png"]
    assert "explorer.png" in (IMAGES / "make_explorer.py").read_text()


@pytest.mark.parametrize("args", make_lines(), ids=lambda a: target_of(a))
def test_committed_picture_is_what_the_code_draws(args, tmp_path):
    from convt_cli.pictures.fonts import font_paths

    fonts = " ".join(font_paths("en"))
    if "DejaVu" not in fonts:
        pytest.skip("the committed pictures are drawn with DejaVu fonts (fonts-dejavu-core), not installed here")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "100"}
    env.pop("CONVT_FONT", None)
    done = subprocess.run([sys.executable, "-m", "convt_cli", *args], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    name = target_of(args)
    drawn, kept = frames(tmp_path / name), frames(IMAGES / name)
    assert [s for s, _ in drawn] == [s for s, _ in kept], f"{name}: sizes differ; run sh docs/images/make.sh"
    for n, ((_, a), (_, b)) in enumerate(zip(drawn, kept)):
        assert a == b, f"{name}: frame {n} differs from what the code draws; run sh docs/images/make.sh"
