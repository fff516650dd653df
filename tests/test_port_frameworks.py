"""`convt port --emit python` snippets run with the real frameworks, against the frameworks' own outputs.

Forward: 200+ seeded random PyTorch layers per target (1-3 d, odd crops, output_padding, dilation and
groups wherever the target expresses them), each snippet executed with the target framework and
compared with ``torch.nn.functional.conv_transpose{n}d``. Reverse: Keras ``'same'``/``'valid'`` layers
and ONNX nodes (``auto_pad``, ``output_shape``, asymmetric ``pads``) ported to PyTorch and compared with
Keras's and onnxruntime's own outputs. Every framework is imported once; counts and worst |Δ| are printed.
"""

from __future__ import annotations

import os

import numpy as np
import pytest

# Hundreds of tiny distinct convolutions: XLA's compile time dominates, so compile them cheaply (read when
# JAX starts its CPU backend; it changes how fast XLA compiles, not what the convolutions compute).
os.environ.setdefault("XLA_FLAGS", "--xla_backend_optimization_level=0 --xla_llvm_disable_expensive_passes=true")

from convt_cli import ConvtError  # noqa: E402
from convt_cli.port.emit import snippet  # noqa: E402
from convt_cli.port.layer import parse_layer  # noqa: E402
from convt_cli.port.plan import IMPOSSIBLE, plan  # noqa: E402

torch = pytest.importorskip("torch")
F = torch.nn.functional
HEAVY = os.environ.get("CONVT_HEAVY") == "1"
LAYERS = 200  # per framework in the heavy run; the default run checks SAMPLE of them
SAMPLE = 6
TOL = 1e-4


def random_torch_layer(rng: np.random.Generator, *, groups_ok: bool, max_nd: int = 3) -> tuple[str, tuple]:
    """A valid ``ConvTranspose{n}d(...)`` text and the input's spatial size."""
    while True:
        nd = int(rng.choice([1, 1, 2, 2, 2, 3][: 5 + (max_nd == 3)]))
        k = tuple(int(v) for v in rng.integers(1, 5, nd))
        s = tuple(int(v) for v in rng.integers(1, 4, nd))
        d = tuple(int(v) for v in rng.integers(1, 3, nd))
        op = tuple(int(rng.integers(0, max(si, di))) for si, di in zip(s, d))
        p = tuple(int(rng.integers(0, di * (ki - 1) + 2)) for ki, di in zip(k, d))
        g = int(rng.choice([1, 2, 3])) if groups_ok else 1
        cin, cout = g * int(rng.integers(1, 3)), g * int(rng.integers(1, 3))
        size = tuple(int(v) for v in rng.integers(1, 5 if nd < 3 else 4, nd))
        out = [(n - 1) * si - 2 * pi + di * (ki - 1) + oi + 1 for n, si, pi, di, ki, oi in zip(size, s, p, d, k, op)]
        if min(out) <= 0:
            continue
        bias = bool(rng.random() < 0.7)
        text = (f"ConvTranspose{nd}d({cin}, {cout}, kernel_size={k}, stride={s}, padding={p}, output_padding={op}, "
                f"groups={g}, bias={bias}, dilation={d})")
        return text, size


def torch_reference(layer, x, w, b):
    g = layer.geometry
    a = layer.args
    fn = {1: F.conv_transpose1d, 2: F.conv_transpose2d, 3: F.conv_transpose3d}[g.nd]
    with torch.no_grad():
        return fn(torch.from_numpy(x), torch.from_numpy(w), None if b is None else torch.from_numpy(b),
                  stride=a["stride"], padding=a["padding"], output_padding=a["output_padding"], groups=a["groups"],
                  dilation=a["dilation"]).numpy()


def _run_snippet(code: str, x, w, b):
    namespace: dict = {}
    exec(compile(code, "<convt port snippet>", "exec"), namespace)  # noqa: S102 - our own emitted code
    return np.asarray(namespace["convt_port"](x, w, b))


FORWARD = [
    ("torch", "torch", True),
    ("onnx", "onnxruntime", True),
    ("jax", "jax", True),
    ("keras", "keras", False),
    ("flax", "flax", False),
    ("tf", "tensorflow", False),
    ("mlx", "mlx", True),
]


@pytest.mark.parametrize(("target", "module", "groups_ok", "layers"),
                         [(*f, SAMPLE) for f in FORWARD]
                         + [pytest.param(*f, LAYERS, marks=pytest.mark.heavy, id=f"{f[0]}-{LAYERS}") for f in FORWARD],
                         ids=[f"{f[0]}-{SAMPLE}" for f in FORWARD] + [f"{f[0]}-{LAYERS}" for f in FORWARD])
def test_emitted_snippets_match_torch(target, module, groups_ok, layers):
    if target == "keras":
        os.environ.setdefault("KERAS_BACKEND", "jax")
    pytest.importorskip(module, reason=f"{module} is not installed: the {target} snippets are not run")
    rng = np.random.default_rng({"torch": 1, "onnx": 2, "jax": 3, "keras": 4, "flax": 5, "tf": 6, "mlx": 7}[target])
    worst, statuses, impossible = 0.0, {"exact": 0, "extra": 0}, 0
    for i in range(2 * layers):
        if sum(statuses.values()) == layers:
            break
        text, size = random_torch_layer(rng, groups_ok=groups_ok or i % 10 == 0)
        if i == 0 and target in ("jax", "flax", "keras"):  # XLA aborts on this layer's exact arguments
            text, size = "ConvTranspose2d(1, 1, kernel_size=(2, 9), stride=(2, 3), padding=(1, 4))", (8, 8)
        layer = parse_layer(text, "torch", size=size)
        p = plan(layer.geometry, target)
        if p.status == IMPOSSIBLE:  # only groups, only where the target has none (MLX: none in 3-d)
            assert layer.geometry.groups > 1 and (not groups_ok or (target == "mlx" and layer.geometry.nd == 3))
            impossible += 1
            continue
        g = layer.geometry
        x = rng.standard_normal((2, g.c_in, *g.size)).astype(np.float32)
        w = rng.standard_normal(g.weight_shape()).astype(np.float32)
        b = rng.standard_normal(g.c_out).astype(np.float32) if g.bias else None
        expected = torch_reference(layer, x, w, b)
        got = _run_snippet(snippet(p, "torch"), x, w, b)
        assert got.shape == expected.shape, (text, size, got.shape, expected.shape)
        diff = float(np.abs(got - expected).max())
        assert diff < TOL, (text, size, diff)
        worst = max(worst, diff)
        statuses[p.status] += 1
    checked = sum(statuses.values())
    print(f"\n{target}: {checked} random layers checked with the real framework, worst |diff| {worst:.2e} "
          f"({statuses['exact']} exact, {statuses['extra']} with an extra op; {impossible} impossible skipped)")
    assert checked == layers


def _keras_layer(rng):
    while True:
        nd = int(rng.choice([1, 2, 2, 3]))
        k = int(rng.integers(1, 6))
        s = int(rng.integers(1, 4))
        d = int(rng.integers(1, 3)) if s == 1 else 1
        padding = str(rng.choice(["same", "valid"]))
        op = None if rng.random() < 0.5 else int(rng.integers(0, s))
        size = int(rng.integers(1, 5))
        text = (f"Conv{nd}DTranspose({int(rng.integers(1, 4))}, {k}, strides={s}, padding={padding!r}, "
                f"output_padding={op}, dilation_rate={d})")
        return nd, text, (size,) * nd


def test_reverse_from_keras_layers_against_keras():
    """Keras 'same'/'valid' (odd crops included) → PyTorch, run with torch, equal to Keras's own output."""
    os.environ.setdefault("KERAS_BACKEND", "jax")
    keras = pytest.importorskip("keras")
    rng = np.random.default_rng(11)
    worst, checked, odd, empty = 0.0, 0, 0, 0
    n = 60 if HEAVY else 12
    for _ in range(n):
        nd, text, size = _keras_layer(rng)
        c_in = int(rng.integers(1, 4))
        try:
            layer = parse_layer(text, "keras", size=size, in_channels=c_in)
        except ConvtError:  # an empty output (Keras computes it; there is nothing to port)
            empty += 1
            continue
        k_layer = eval("keras.layers." + text[:-1] + ", kernel_initializer='zeros')",  # noqa: S307 - our own text
                       {"keras": keras})
        x_last = rng.standard_normal((2, *size, c_in)).astype(np.float32)
        k_layer.build(x_last.shape)
        kernel = rng.standard_normal(tuple(k_layer.kernel.shape)).astype(np.float32)
        bias = rng.standard_normal(tuple(k_layer.bias.shape)).astype(np.float32)
        k_layer.set_weights([kernel, bias])
        y_keras = np.asarray(k_layer(x_last))
        w = np.transpose(kernel, (nd + 1, nd, *range(nd)))  # what `convt port` prints as the conversion
        got = _run_snippet(snippet(plan(layer.geometry, "torch"), "keras"),
                           np.moveaxis(x_last, -1, 1), w, bias)
        expected = np.moveaxis(y_keras, -1, 1)
        assert got.shape == expected.shape, (text, size)
        diff = float(np.abs(got - expected).max())
        assert diff < TOL, (text, size, diff)
        worst = max(worst, diff)
        checked += 1
        odd += any(b != e for b, e in zip(layer.geometry.begin, layer.geometry.end))
    print(f"\nKeras → PyTorch: {checked} layers equal to Keras's output (worst |diff| {worst:.2e}), {odd} with an "
          "asymmetric crop")
    assert checked + empty == n and checked >= n * 5 // 6 and odd >= n // 5


def test_reverse_from_onnx_nodes_against_onnxruntime():
    """ONNX auto_pad / output_shape / asymmetric pads → PyTorch, run with torch, equal to onnxruntime."""
    pytest.importorskip("onnxruntime")
    from test_conventions_onnx import _ort, random_node

    rng = np.random.default_rng(12)
    worst, checked = 0.0, 0
    kinds = {"pads": 0, "auto_pad": 0, "output_shape": 0}
    n = 160 if HEAVY else 30
    for i in range(n):
        size, attrs, x, w, b = random_node(rng, 1 + i % 3, with_bias=True)
        try:
            expected = _ort(x, w, b, **attrs)
        except Exception:  # noqa: BLE001 - onnxruntime refuses it; nothing to port
            continue
        text = ", ".join(f"{key}={value!r}" for key, value in attrs.items())
        layer = parse_layer(text, "onnx", size=size, weight_shape=w.shape)
        got = _run_snippet(snippet(plan(layer.geometry, "torch"), "onnx"), x, w, b)
        assert got.shape == expected.shape, (text, size)
        diff = float(np.abs(got - expected).max())
        assert diff < TOL, (text, size, diff)
        worst = max(worst, diff)
        checked += 1
        for key in kinds:
            kinds[key] += key in attrs
    print(f"\nONNX → PyTorch: {checked} nodes equal to onnxruntime (worst |diff| {worst:.2e}), {kinds}")
    assert checked >= n * 5 // 8 and all(k >= n // 16 for k in kinds.values())


def test_reverse_from_jax_calls_against_jax():
    """lax.conv_transpose ('SAME', 'VALID' with k < s, explicit pairs; rotated or not) → PyTorch, vs JAX."""
    lax = pytest.importorskip("jax.lax")
    rng = np.random.default_rng(13)
    worst, checked = 0.0, 0
    n = 40 if HEAVY else 10
    for _ in range(n):
        nd = int(rng.choice([1, 2]))
        k = tuple(int(v) for v in rng.integers(1, 5, nd))
        s = tuple(int(v) for v in rng.integers(1, 4, nd))
        d = tuple(int(v) for v in rng.integers(1, 3, nd))
        tk = bool(rng.random() < 0.5)
        padding = str(rng.choice(["SAME", "VALID", "pairs"]))
        if padding == "pairs":
            padding = [tuple(int(v) for v in rng.integers(-1, 4, 2)) for _ in range(nd)]
        size = tuple(int(v) for v in rng.integers(1, 5, nd))
        c_in, c_out = int(rng.integers(1, 4)), int(rng.integers(1, 4))
        rhs_shape = (*k, c_out, c_in) if tk else (*k, c_in, c_out)  # default HWIO; O/I swapped by transpose_kernel
        x_last = rng.standard_normal((2, *size, c_in)).astype(np.float32)
        rhs = rng.standard_normal(rhs_shape).astype(np.float32)
        expected = np.moveaxis(np.asarray(lax.conv_transpose(x_last, rhs, s, padding, rhs_dilation=d,
                                                             transpose_kernel=tk)), -1, 1)
        text = f"lax.conv_transpose(x, w, {s}, {padding!r}, rhs_dilation={d}, transpose_kernel={tk})"
        try:
            layer = parse_layer(text, "jax", size=size, weight_shape=rhs_shape)
        except ConvtError:
            assert expected.size == 0  # an empty output: nothing to port
            continue
        # the conversion `convt port` prints for this source
        oi = np.transpose(rhs, (nd + 1, nd, *range(nd)))  # HWIO → (O, I, *k)
        w = oi if tk else np.swapaxes(np.flip(oi, tuple(range(2, nd + 2))), 0, 1)
        got = _run_snippet(snippet(plan(layer.geometry, "torch"), "jax"), np.moveaxis(x_last, -1, 1), w, None)
        assert got.shape == expected.shape, (text, size)
        diff = float(np.abs(got - expected).max())
        assert diff < TOL, (text, size, diff)
        worst = max(worst, diff)
        checked += 1
    print(f"\nJAX → PyTorch: {checked} lax.conv_transpose calls equal to JAX's output (worst |diff| {worst:.2e})")
    assert checked >= n * 3 // 4
