"""Property: for any layer text (random strings, random Python literals in a layer's argument slots,
mutated valid layers), `convt port … --emit python` either refuses with one Error line or prints a
snippet that compiles, does not contain the text, and - run with the real framework (PyTorch,
onnxruntime) - equals the source layer on the engine. No text has a side effect (a temporary working
directory stays empty)."""

from __future__ import annotations

import os

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from convt_cli.cli import app
from convt_cli.port.layer import parse_layer
from convt_cli.port.plan import proof_data
from convt_cli.port.run import run

pytest.importorskip("torch")
runner = CliRunner()

SCALARS = (st.none() | st.booleans() | st.integers(-3, 9) | st.integers(2**62, 2**70) | st.floats(allow_nan=True)
           | st.text(max_size=5) | st.binary(max_size=3))
LITERALS = st.recursive(SCALARS, lambda c: st.lists(c, max_size=3) | st.tuples(c, c)
                        | st.dictionaries(st.integers(0, 4), c, max_size=2), max_leaves=6)
SMALL = st.integers(1, 3)


@st.composite
def valid_torch(draw) -> str:
    nd = draw(st.integers(1, 3))
    k, s = draw(st.lists(SMALL, min_size=nd, max_size=nd)), draw(st.lists(SMALL, min_size=nd, max_size=nd))
    p = [draw(st.integers(0, ki - 1)) for ki in k]
    op = [draw(st.integers(0, si - 1)) for si in s]
    return (f"ConvTranspose{nd}d({draw(SMALL)}, {draw(SMALL)}, kernel_size={tuple(k)}, stride={tuple(s)}, "
            f"padding={tuple(p)}, output_padding={tuple(op)}, bias={draw(st.booleans())})")


@st.composite
def literal_slots(draw) -> tuple[str, str]:
    fw = draw(st.sampled_from(["torch", "onnx", "keras", "flax", "mlx"]))
    values = draw(st.lists(LITERALS, min_size=0, max_size=4))
    args = ", ".join(repr(v) for v in values)
    if fw == "torch":
        return f"ConvTranspose{draw(st.integers(1, 3))}d(1, 1, {args})", fw
    if fw == "onnx":
        keys = draw(st.lists(st.sampled_from(["kernel_shape", "strides", "pads", "group", "auto_pad", "dilations",
                                              "output_padding", "output_shape"]), max_size=3))
        return ", ".join(f"{key}={v!r}" for key, v in zip(keys, values)) or "kernel_shape=[2]", fw
    if fw == "keras":
        return f"Conv{draw(st.integers(1, 3))}DTranspose(2, {args})", fw
    if fw == "flax":
        return f"ConvTranspose(2, {args})", fw
    return f"nn.ConvTranspose{draw(st.integers(1, 3))}d(1, 1, {args})", fw


@st.composite
def mutated(draw) -> tuple[str, str]:
    text = draw(valid_torch())
    for _ in range(draw(st.integers(1, 3))):
        i = draw(st.integers(0, len(text)))
        op = draw(st.sampled_from(["del", "ins", "rep"]))
        ch = draw(st.sampled_from(list("0123456789(),=[]'\"\\_ .-*:{}bjxN")))
        text = text[:i] + ("" if op == "del" else ch) + text[i + (op != "ins"):]
    return text, "torch"


TEXTS = st.one_of(st.tuples(st.text(max_size=60), st.sampled_from(["torch", "onnx", "keras", "jax"])),
                  literal_slots(), mutated(), mutated(), st.tuples(valid_torch(), st.just("torch")),
                  st.tuples(valid_torch(), st.just("torch")))


def _invoke(text: str, fw: str, target: str):
    extra = ["--in-channels", "2"] if fw in ("keras", "flax") else []
    return runner.invoke(app, ["port", text, "--from", fw, "--to", target, "--emit", "python", "--size", "3", *extra],
                         env={"COLUMNS": "80", "NO_COLOR": "1", "CONVT_LANG": "en"})


@settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture], deadline=None)
@given(case=TEXTS, target=st.sampled_from(["torch", "onnx"]))
def test_any_text_is_refused_or_ported_exactly(case, target, tmp_path):
    _refused_or_exact(case, target, tmp_path)


@pytest.mark.heavy
@settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture], deadline=None,
          max_examples=150)
@given(case=TEXTS, target=st.sampled_from(["jax", "flax", "keras", "tf", "mlx"]))
def test_any_text_is_refused_or_ported_exactly_heavy_frameworks(case, target, tmp_path):
    os.environ.setdefault("KERAS_BACKEND", "jax")
    _refused_or_exact(case, target, tmp_path)


def _refused_or_exact(case, target, tmp_path):
    text, fw = case
    old = os.getcwd()
    os.chdir(tmp_path)
    try:
        result = _invoke(text, fw, target)
        assert result.exception is None or isinstance(result.exception, SystemExit), (text, result.exception)
        assert result.exit_code in (0, 1, 2), (text, result.output)
        if result.exit_code:
            lines = [ln for ln in result.stderr.splitlines() if ln.startswith("Error:")]
            assert len(lines) == 1 and "Traceback" not in result.output, (text, result.stderr)
            event(f"refused ({fw})")
            return
        code = result.stdout
        compile(code, "<snippet>", "exec")
        if len(text) > 16:
            assert text not in code
        extra = {"in_channels": 2} if fw in ("keras", "flax") else {}
        layer = parse_layer(text, fw, size=(3,), **extra)
        x, w, b = proof_data(layer.geometry, seed=1)
        expected = run(fw, layer.args, x, w, b, groups=layer.geometry.groups)
        namespace: dict = {}
        exec(compile(code, "<snippet>", "exec"), namespace)  # noqa: S102 - convt's own emitted snippet
        got = np.asarray(namespace["convt_port"](x.astype(np.float32), w.astype(np.float32),
                                                 None if b is None else b.astype(np.float32)))
        assert got.shape == expected.shape, text
        assert float(np.abs(got - expected).max()) < 1e-4 * max(1.0, float(np.abs(expected).max())), text
        event(f"ported and equal ({fw} → {target})")
    finally:
        os.chdir(old)
        assert list(tmp_path.iterdir()) == [], (text, list(tmp_path.iterdir()))
