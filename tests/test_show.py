"""`convt show`: options, channels, random inputs, export, languages, width fallback and every error path."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time

import numpy as np
import pytest
from readme_text import readme_section
from rich.cells import cell_len
from typer.testing import CliRunner

from convt_cli.cli import app
from convt_cli.engine import conv_transpose

ENV = {"COLUMNS": "100", "CONVT_LANG": "", "LANG": "C", "NO_COLOR": "1"}
runner = CliRunner()


def show(*args: str, env: dict | None = None, input: str | None = None):
    return runner.invoke(app, ["show", *args], env={**ENV, **(env or {})}, input=input)


def final_output(text: str, title: str = r"(Final output|最终输出)") -> np.ndarray:
    """The numbers of the (first) box table under the final-output title; row labels dropped."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if re.match(title, line))
    rows = []
    for line in lines[start + 1:]:
        if "│" in line:
            rows.append([float(c.strip()) for c in line.split("│")[1:-1]])
        elif not re.match(r"^\s*[┌├└]|^\s*[\d* ]+$", line):
            break
    return np.array(rows)


def all_final_outputs(text: str) -> list[np.ndarray]:
    outs, rest = [], text
    while re.search(r"^Final output", rest, re.M):
        outs.append(final_output(rest))
        rest = rest[re.search(r"^Final output", rest, re.M).end():]
    return outs


# --------------------------------------------------------------------------------------- the basics

def test_default_is_the_explainer_example_without_torch():
    r = show("--no-torch")
    assert r.exit_code == 0, r.output
    out = r.stdout
    assert out.startswith("ConvTranspose2d(1→1, kernel_size=2, stride=2, padding=0, output_padding=0, dilation=1)")
    assert "H: (2 − 1)×2 − 2×0 + 1×(2 − 1) + 0 + 1 = 4" in out
    for n, (value, pos) in enumerate([(1, "0,0"), (2, "0,1"), (3, "1,0"), (4, "1,1")], start=1):
        assert f"Step {n}: input[{pos}] = {value}" in out
    assert "│ 3×1 │ 3×0 │" in out  # this step's writes shown as products
    assert final_output(out).tolist() == [[1, 0, 2, 0], [0, 1, 0, 2], [3, 0, 4, 0], [0, 3, 0, 4]]
    assert "PyTorch check skipped (--no-torch)." in out
    assert "Equals torch" not in out
    assert r.stderr == ""


def test_torch_check_with_channels_and_groups(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.integers(-3, 4, (4, 3, 3))
    w = rng.integers(-2, 3, (4, 3, 2, 2))  # groups 2: C_out = 6
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "w.npy", w)
    r = show("-i", str(tmp_path / "x.npy"), "-k", str(tmp_path / "w.npy"), "--groups", "2", "-s", "2",
             "-p", "1", "--max-steps", "1")
    assert r.exit_code == 0, r.output
    assert "ConvTranspose2d(4→6, kernel_size=2, stride=2, padding=1" in r.stdout and "groups=2" in r.stdout
    assert "✓ Equals torch.nn.functional.conv_transpose2d: max |Δ| = 0" in r.stdout
    ref = conv_transpose(x, w, None, 2, 1, 0, 1, 2)
    outs = all_final_outputs(r.stdout)
    assert len(outs) == 6
    for co, got in enumerate(outs):
        assert np.array_equal(got, ref[co]), co
    assert "Output channel 4 (channels 0–5): the sum over input channels 2–3 (groups=2)" in r.stdout


def test_channel_picks_one_output_channel(tmp_path):
    x = np.arange(8).reshape(2, 2, 2)
    w = np.arange(16).reshape(2, 2, 2, 2) - 8
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "w.npy", w)
    r = show("-i", str(tmp_path / "x.npy"), "-k", str(tmp_path / "w.npy"), "--channel", "1", "--no-torch")
    assert r.exit_code == 0, r.output
    assert len(all_final_outputs(r.stdout)) == 1
    assert np.array_equal(final_output(r.stdout), conv_transpose(x, w, stride=2)[1])
    assert "Output channel 1 (channels 0–1)" in r.stdout and "Output channel 0" not in r.stdout
    # Each step shows the input column across channels and the sum of products.
    assert "Step 1: input[0,0] = (0, 4)" in r.stdout


def test_inputs_from_json_csv_stdin(tmp_path):
    (tmp_path / "x.json").write_text(json.dumps([[1, 2], [3, 4]]))
    (tmp_path / "k.csv").write_text("1,1\n1,1\n")
    r = show("-i", str(tmp_path / "x.json"), "-k", str(tmp_path / "k.csv"), "-s", "1", "--no-torch")
    assert r.exit_code == 0, r.output
    assert final_output(r.stdout).tolist() == [[1, 3, 2], [4, 10, 6], [3, 7, 4]]
    r = show("-i", "-", "-k", "1 1; 1 1", "-s", "1", "--no-torch", input="1 2\n3 4\n")
    assert r.exit_code == 0, r.output
    assert final_output(r.stdout).tolist() == [[1, 3, 2], [4, 10, 6], [3, 7, 4]]


def test_overlap_accumulation_and_legend():
    r = show("-k", "1,1;1,1", "-s", "1", "--no-torch")
    assert r.exit_code == 0
    assert "s+a×b added onto the value s already there (overlap)" in r.stdout
    assert "│ 1+2×1 │" in r.stdout  # step 2 adds onto step 1's value
    assert "3+3×1" in r.stdout


def test_per_dim_parameters_and_floats():
    r = show("-i", "0.5,1.25;2,3", "-k", "1,-1", "-s", "2,1", "--precision", "2", "--no-torch")
    assert r.exit_code == 1  # kernel rank 1 vs input rank 2
    r = show("-i", "0.5,1.25;2,3", "-k", "1,-1;2,0.5", "-s", "2,1", "-p", "0,1", "--precision", "2", "--no-torch")
    assert r.exit_code == 0, r.output
    assert "stride=(2, 1)" in r.stdout and "padding=(0, 1)" in r.stdout
    ref = conv_transpose([[[[0.5, 1.25], [2, 3]]]], [[[[1, -1], [2, 0.5]]]], stride=(2, 1), padding=(0, 1))[0, 0]
    np.testing.assert_allclose(final_output(r.stdout), np.round(ref, 2))
    assert "0.5×(-1)" in r.stdout


def test_bias_and_output_padding_notes():
    r = show("--output-padding", "1", "--bias", "0.5", "--no-torch")
    assert r.exit_code == 0, r.output
    assert "index 4 lies past every kernel tap and holds 0 + bias" in r.stdout
    out = final_output(r.stdout)
    assert out.shape == (5, 5) and out[4].tolist() == [0.5] * 5
    r = show("-k", "1,2,3;4,5,6;7,8,9", "-p", "1", "--output-padding", "1", "--no-torch")
    assert "index 3 holds computed canvas values (padding=1 ≥ output_padding)" in r.stdout


def test_max_steps_skips_but_final_output_always_shows():
    r = show("--random", "4x4", "--seed", "7", "--max-steps", "3", "--no-torch")
    assert r.exit_code == 0
    assert r.stdout.count("Step ") == 3
    assert "… 13 more steps not shown (showing 3 of 16; --max-steps changes this)" in r.stdout
    assert final_output(r.stdout).shape == (8, 8)
    r = show("--max-steps", "0", "--no-torch")
    assert "Step 1" not in r.stdout and final_output(r.stdout).shape == (4, 4)


def test_random_is_seeded_and_small():
    a = show("--random", "3x3", "--random-kernel", "2x2", "--seed", "5", "--no-torch")
    b = show("--random", "3x3", "--random-kernel", "2x2", "--seed", "5", "--no-torch")
    c = show("--random", "3x3", "--random-kernel", "2x2", "--seed", "6", "--no-torch")
    assert a.exit_code == 0 and a.stdout == b.stdout != c.stdout
    assert "random values, seed=5" in a.stdout
    d = show("--random", "3x3", "--no-torch")
    assert re.search(r"random values, seed=\d+", d.stdout)


def test_random_over_budget_is_refused_before_allocating():
    start = time.perf_counter()
    r = show("--random", "100000x100000", "--no-torch")
    assert r.exit_code == 1
    assert r.stderr.startswith("Error: --random 100000x100000 would need 74.5 GiB, more than the memory budget")
    assert time.perf_counter() - start < 5
    r = show("--random", "2000x2000", "--no-torch", env={"CONVT_MAX_BYTES": "1M"})
    assert r.exit_code == 1 and "memory budget of 1.0 MiB" in r.stderr


def test_overlap_map_and_verdicts():
    r = show("-k", "1,1,1;1,1,1;1,1,1", "-i", "1,1,1;1,1,1;1,1,1", "--overlap", "--max-steps", "0", "--no-torch")
    flat = " ".join(r.stdout.split())
    assert "Verdict: uneven overlap, checkerboard: interior output cells receive 1 to 4 contributions" in flat
    r = show("--overlap", "--max-steps", "0", "--no-torch")
    flat = " ".join(r.stdout.split())
    assert "Verdict: no overlap, no gaps: every interior output cell receives exactly 1 contribution" in flat
    lines = r.stdout.splitlines()
    start = lines.index("Contributions per output cell (how many input elements feed it)")
    assert lines[start + 2] == "│ 1 │ 1 │ 1 │ 1 │"
    r = show("-k", "1,1", "-i", "1,2,3", "-s", "3", "--overlap", "--no-torch")
    assert "Verdict: gaps: some interior output cells receive no contribution" in " ".join(r.stdout.split())


def test_k2_s2_verdict_reads_the_same_in_show_shape_and_compare():
    words = "no overlap, no gaps"
    outputs = {
        "show": show("--overlap", "--max-steps", "0", "--no-torch").stdout,
        "shape": runner.invoke(app, ["shape", "64", "-k", "2", "-s", "2"], env=ENV).stdout,
        "compare": runner.invoke(app, ["compare"], env=ENV).stdout,
    }
    for name, text in outputs.items():
        assert words in " ".join(text.split()), name
        assert "contribution(s)" not in text and "even —" not in text, name


def test_dilation_spreads_the_kernel():
    r = show("-s", "1", "-d", "2", "--max-steps", "1", "--no-torch")
    assert "kernel, d=2" in r.stdout
    assert "│ · │ · │ · │" in r.stdout  # the dilated kernel's gap row
    assert "· a gap between kernel taps spread out by dilation" in r.stdout


def test_three_d_depth_slices():
    r = show("--random", "2x2x2", "--random-kernel", "1x2x2", "--seed", "3", "--max-steps", "1", "--no-torch")
    assert r.exit_code == 0
    assert "depth 0" in r.stdout and "depth 1" in r.stdout
    assert "ConvTranspose3d" in r.stdout


@pytest.mark.parametrize("view", ["gather", "matrix"])
def test_views_reach_the_engine_output(view):
    r = show("--view", view, "-k", "1,2;3,4", "-s", "1,2", "-p", "0,1", "--output-padding", "0,1", "--no-torch")
    assert r.exit_code == 0, r.output
    ref = conv_transpose([[[[1, 2], [3, 4]]]], [[[[1, 2], [3, 4]]]], stride=(1, 2), padding=(0, 1),
                         output_padding=(0, 1))[0, 0]
    assert np.array_equal(final_output(r.stdout), ref)
    assert "✓ Same as the scatter (convt's engine): max |Δ| = 0" in r.stdout


def test_zh_labels_everywhere():
    for view in ("scatter", "gather", "matrix"):
        r = show("--lang", "zh", "--view", view, "--overlap", "-p", "1", "--output-padding", "1", "--no-torch")
        assert r.exit_code == 0, r.output
        body = "\n".join(line for line in r.stdout.splitlines() if not line.startswith("ConvTranspose"))
        for word in ("Step", "Final", "Legend", "kernel", "input", "output", "canvas", "Verdict", "Contrib",
                     "Same as", "Gather", "Matrix", "skipped", "cropped", "depth", "rows"):
            # parameter names (output_padding, kernel_size) are code, not labels: whole words only
            assert not re.search(rf"\b{word}\b", body), (view, word)
    r = show("--no-torch", env={"CONVT_LANG": "zh"})
    assert "步骤1：输入[0,0] = 1" in r.stdout
    r = show("--no-torch", env={"LANG": "zh_CN.UTF-8"})
    assert "步骤1：输入[0,0] = 1" in r.stdout
    r = show("-s", "0", "--lang", "zh")
    assert r.exit_code == 1 and r.stderr.startswith("错误: ")


# ---------------------------------------------------------------------------------- width and colour

def test_narrow_terminal_falls_back_without_garbage():
    for width, args in ((40, ()), (80, ("--random", "3x40", "--seed", "1", "--max-steps", "2")),
                        (60, ("--view", "matrix")), (50, ("--view", "gather", "--max-steps", "1"))):
        r = show(*args, "--no-torch", env={"COLUMNS": str(width)})
        assert r.exit_code == 0, r.output
        for line in r.stdout.splitlines():
            assert cell_len(line) <= width, (width, line)
    r = show("--random", "3x40", "--seed", "1", "--max-steps", "1", "--no-torch", env={"COLUMNS": "80"})
    assert "(compact form: the grid is wider than the terminal)" in r.stdout
    assert re.search(r"\(showing 6 of 6 rows and \d+ of 80 columns\)", r.stdout)


def test_no_colour_codes_in_pipes_or_with_no_color():
    r = show("--no-torch", env={"NO_COLOR": ""})
    assert "\x1b[" not in r.stdout
    forced = show("--no-torch", env={"NO_COLOR": "", "FORCE_COLOR": "1", "TERM": "xterm-256color"})
    assert "\x1b[" in forced.stdout  # the highlight really is colour when a terminal is forced
    r = show("--no-torch", "--no-color", env={"NO_COLOR": "", "FORCE_COLOR": "1", "TERM": "xterm-256color"})
    assert "\x1b[" not in r.stdout


# --------------------------------------------------------------------------------------------- export

@pytest.mark.parametrize("suffix,marker", [(".svg", "<svg"), (".html", "<html"), (".txt", "Step 1: input[0,0] = 1")])
def test_export(tmp_path, suffix, marker):
    path = tmp_path / f"render{suffix}"
    r = show("--no-torch", "--export", str(path))
    assert r.exit_code == 0, r.output
    assert r.stdout.rstrip().endswith(f"Wrote {path}")
    text = path.read_text(encoding="utf-8")
    assert marker in text
    if suffix == ".txt":
        assert text == r.stdout[: r.stdout.rindex("Wrote ")]
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]  # no temporary file left


def test_text_export_fits_80_columns_without_trailing_spaces(tmp_path):
    from rich.cells import cell_len

    path = tmp_path / "show.txt"
    r = show("--no-torch", "--export", str(path), env={"COLUMNS": "80"})
    assert r.exit_code == 0, r.output
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[:2] == ["ConvTranspose2d(1→1, kernel_size=2, stride=2, padding=0,",
                         "                output_padding=0, dilation=1)"]
    assert all(cell_len(line) <= 80 and line == line.rstrip() for line in lines)


def test_export_refuses_overwrite_without_force(tmp_path):
    path = tmp_path / "r.txt"
    path.write_text("keep")
    r = show("--no-torch", "--export", str(path))
    assert r.exit_code == 1 and "already exists; use --force" in r.stderr
    assert path.read_text() == "keep"
    r = show("--no-torch", "--export", str(path), "--force")
    assert r.exit_code == 0 and "Step 1" in path.read_text()


# ---------------------------------------------------------------------------------------- error paths

ERRORS = [
    (["-i", "1,2;3"], "Error: input is ragged: rows have 2, 1 values; every row needs the same count"),
    (["-i", "1,a"], "Error: input row 1: value 'a' is not a number"),
    (["-i", ""], "Error: input is empty: give at least one number, e.g. \"1,2;3,4\""),
    (["-i", "1,nan"], "Error: input row 1: value 'nan' is not a finite number: NaN and infinity are not allowed"),
    (["-k", "1,inf"], "Error: kernel row 1: value 'inf' is not a finite number: NaN and infinity are not allowed"),
    (["-i", "1,2,3"], "Error: the kernel has 2 dims but the input has 1: the kernel needs the input's rank, or one "
                      "more for a channel input (C_in, *spatial) with a kernel (C_in, C_out/groups, *k)"),
    (["-s", "0"], "Error: stride=0 in dim 0 must be positive (non-positive stride is not supported)"),
    (["-p", "-1"], "Error: padding=-1 in dim 0 must not be negative (negative padding is not supported)"),
    (["--output-padding", "2"], "Error: output_padding=2 in dim 0 must be smaller than stride=2 or dilation=1"),
    (["-d", "0"], "Error: dilation=0 in dim 0 must be greater than zero"),
    (["-i", "1", "-k", "1", "-p", "1"], "Error: output size (-1) computed for input size (1) is too small"),
    (["-s", "1,2,3"], "Error: stride=[1, 2, 3] has 3 values; a 2-d transposed convolution needs"),
    (["-s", "x"], "Error: stride 'x' must be an integer or one integer per dim, e.g. 2 or 2,1"),
    (["--bias", "nan"], "Error: --bias 'nan' is not a finite number"),
    (["--export", "out.jpg"],
     "Error: export file 'out.jpg' has an unsupported extension .jpg; use .svg, .html, .txt, .gif or .png"),
    (["--export", "no/such/dir/out.txt"], "Error: export directory 'no/such/dir' does not exist"),
    (["-i", "nothere.npy"], "Error: input file 'nothere.npy' does not exist"),
    (["--random", "2x2x2x2"], "Error: --random size '2x2x2x2' has 4 dims; convt show draws 1, 2 or 3 dims"),
    (["--random-kernel", "0x2"], "Error: --random-kernel size '0x2': 0 must be at least 1"),
    (["--channel", "5"], "Error: --channel 5 does not exist: the output has 1 channel(s), 0 to 0"),
    (["--groups", "2"], "Error: --groups 2 needs channels"),
    (["--random", "8x8", "--view", "matrix"], "Error: the matrix view needs a 64×256 matrix C (16384 entries); "
                                              "it is drawn only up to 1024 entries"),
    (["-i", "[[[[1]]]]", "-k", "[[[[1]]]]"],
     "Error: input of shape [1, 1, 1, 1] has 4 dims; convt show draws 1, 2 or 3"),
]


@pytest.mark.parametrize("args,message", ERRORS, ids=[" ".join(a) for a, _ in ERRORS])
def test_errors_exit_1_with_one_line(tmp_path, args, message):
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        r = show(*args, "--no-torch")
    finally:
        os.chdir(cwd)
    assert r.exit_code == 1, r.output
    assert r.stderr.startswith(message), r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
    assert "Traceback" not in r.output
    assert r.stdout == ""  # nothing printed half-way
    assert list(tmp_path.iterdir()) == []  # no file left behind


USAGE = [
    (["--view", "sideways"], "'sideways' is not a view; use scatter, gather or matrix"),
    (["--lang", "fr"], "'fr' is not a language convt speaks"),
    (["--random", "3x3", "-i", "1,2"], "give either --input or --random, not both"),
    (["--random-kernel", "3x3", "-k", "1,2"], "give either --kernel or --random-kernel, not both"),
    (["--max-steps", "-1"], "--max-steps"),
    (["--precision", "20"], "20 is out of range; use 0 to 12 decimal places"),
]


@pytest.mark.parametrize("args,message", USAGE, ids=[" ".join(a) for a, _ in USAGE])
def test_usage_errors_exit_2(args, message):
    r = show(*args, "--no-torch", env={"COLUMNS": "200"})
    assert r.exit_code == 2, r.output
    assert message in " ".join(r.stderr.split())
    assert r.stdout == "" and "Traceback" not in r.output


def test_bad_input_with_export_leaves_no_file(tmp_path):
    path = tmp_path / "r.svg"
    r = show("-i", "1,a", "--export", str(path))
    assert r.exit_code == 1 and not path.exists() and list(tmp_path.iterdir()) == []


# ------------------------------------------------------------------------------------ no torch, speed

def test_no_torch_never_imports_torch_in_process(tmp_path):
    code = (
        "import sys\n"
        "from typer.testing import CliRunner\n"
        "from convt_cli.cli import app\n"
        "r = CliRunner().invoke(app, ['--help'])\n"
        "assert r.exit_code == 0, r.output\n"
        "r = CliRunner().invoke(app, ['show', '--no-torch'])\n"
        "assert r.exit_code == 0, r.output\n"
        "r = CliRunner().invoke(app, ['show', '--no-torch', '--view', 'gather', '--overlap',\n"
        "                             '--export', sys.argv[1]])\n"
        "assert r.exit_code == 0, r.output\n"
        "print('torch' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code, str(tmp_path / "r.txt")], capture_output=True, text=True,
                         env={**os.environ, "COLUMNS": "100"})
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"
    assert (tmp_path / "r.txt").read_text(encoding="utf-8").startswith("ConvTranspose2d(")


# ------------------------------------------------------------------------------------- README examples

def test_readme_examples_work_as_written(tmp_path):
    """Every command in the README's show section runs as written (in an empty directory)."""
    import shlex

    doc = readme_section("show")
    commands = [line for block in re.findall(r"```bash\n(.*?)```", doc, re.S) for line in block.splitlines()
                if line.strip()]
    assert len(commands) >= 12
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        for line in commands:
            stdin = None
            if line.startswith("python -c "):
                subprocess.run([sys.executable, "-c", shlex.split(line)[2]], check=True)
                continue
            if line.startswith("echo "):
                echo, line = line.split(" | ", 1)
                stdin = shlex.split(echo)[1] + "\n"
            words = shlex.split(line)
            assert words[:2] == ["convt", "show"], line
            r = show(*words[2:], input=stdin)
            assert r.exit_code == 0, (line, r.output)
            assert "Final output" in r.stdout or "最终输出" in r.stdout, line
    finally:
        os.chdir(cwd)
    assert (tmp_path / "show.svg").read_text(encoding="utf-8").startswith("<svg")
    # The excerpt in the README is the default render's step 3 at 80 columns, verbatim.
    excerpt = re.search(r"```text\n(.*?)```", doc, re.S).group(1)
    default = show("--no-torch", env={**ENV, "COLUMNS": "80"}).stdout
    assert excerpt.rstrip("\n") in default


def test_a_torch_mismatch_is_reported_and_exits_1(monkeypatch):
    import convt_cli.reference as reference

    real = reference.torch_conv_transpose

    def off_by_a_bit(*args, **kwargs):
        out = real(*args, **kwargs)
        out.flat[0] += 0.25
        return out

    monkeypatch.setattr(reference, "torch_conv_transpose", off_by_a_bit)
    r = show()
    assert r.exit_code == 1
    assert "✗ DIFFERS from torch.nn.functional.conv_transpose2d: max |Δ| = 0.25" in r.stdout


def test_a_big_step_draws_a_window_around_its_cells_not_blank_screens():
    r = show("-s", "2500", "--no-torch")
    assert r.exit_code == 0, r.output
    lines = r.stdout.splitlines()
    assert len(lines) < 200  # was 505, ~46 empty lines per step around a lone →
    blank_runs = "\n".join("" if not line.strip() else "x" for line in lines)
    assert "\n\n\n" not in blank_runs  # never two blank lines in a row
    # Step 2 writes rows 0–1, columns 2500–2501: shown with those indices, around the products.
    step2 = r.stdout.split("Step 2:")[1].split("Step 3:")[0]
    assert "(rows 0–1, columns 2500–2501 of 2502×2502: this step's cells)" in step2
    assert re.search(r"^\s+2500\s+2501$", step2, re.M)
    assert re.search(r"^→ 0  2×1  2×0$", step2, re.M) and re.search(r"^= 0    2    0$", step2, re.M)


def test_a_random_input_and_kernel_are_printed_once_before_the_steps():
    r = show("--random", "5x5", "--random-kernel", "3x3", "--seed", "0", "--max-steps", "4", "--no-torch")
    assert r.exit_code == 0, r.output
    out = r.stdout
    assert out.count("The random input 5×5") == 1 and out.count("The random kernel 3×3") == 1
    assert out.index("The random kernel 3×3") < out.index("Step 1:")
    grid = out.split("The random input 5×5")[1].split("The random kernel")[0]
    values = [[int(v) for v in re.findall(r"-?\d+", row)] for row in grid.splitlines() if row.startswith("│")]
    assert len(values) == 5 and all(len(row) == 5 for row in values)
    # The steps use exactly these values, in order.
    steps = [int(v) for v in re.findall(r"Step \d+: input\[[0-9,]+\] = (-?\d+)", out)]
    assert steps == values[0][:4]
