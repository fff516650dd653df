"""The NumPy adapters in ``convt_cli.conventions`` against the real frameworks they name, and PyTorch.

For random PyTorch layers, the port planner gives each framework's own arguments (what
``verify --convention`` passes); the real op (TensorFlow, Keras, JAX, MLX, onnxruntime, tinygrad) and
convt's NumPy adapter of it are both called that way, through :func:`convention_subject`, and both must
equal ``torch.nn.functional.conv_transpose{n}d``. A few layers per framework run by default; the full
set (≥ 100 expressible layers each) is ``heavy``.
"""

from __future__ import annotations

import os

import numpy as np
import pytest

from convt_cli.conventions import (
    jax_conv_transpose,
    keras_conv_transpose,
    mlx_conv_transpose,
    onnx_conv_transpose,
    tf_conv_transpose,
)
from convt_cli.verify.convention import convention_subject, expressible

torch = pytest.importorskip("torch")

FULL = 100  # expressible layers per framework in the heavy run
SAMPLE = 4  # in the default run


def random_layers(seed: int):
    """Endless random PyTorch layers: (x, w, b, kwargs), float64, batched."""
    rng = np.random.default_rng(seed)
    while True:
        nd = int(rng.integers(1, 4))
        groups = int(rng.choice([1, 1, 2]))
        cig, cog = int(rng.integers(1, 3)), int(rng.integers(1, 3))
        kernel = tuple(int(v) for v in rng.integers(1, 4, nd))
        stride = tuple(int(v) for v in rng.integers(1, 4, nd))
        dilation = tuple(int(v) for v in rng.integers(1, 3, nd))
        padding = tuple(int(rng.integers(0, d * (k - 1) + 1)) for k, d in zip(kernel, dilation))
        output_padding = tuple(int(rng.integers(0, max(s, d))) for s, d in zip(stride, dilation))
        size = tuple(int(v) for v in rng.integers(1, 5, nd))
        out = [(n - 1) * s - 2 * p + d * (k - 1) + op + 1
               for n, s, p, d, k, op in zip(size, stride, padding, dilation, kernel, output_padding)]
        if min(out) <= 0:
            continue
        x = rng.standard_normal((int(rng.integers(1, 3)), groups * cig, *size))
        w = rng.standard_normal((groups * cig, cog, *kernel))
        b = rng.standard_normal(groups * cog) if rng.random() < 0.5 else None
        yield x, w, b, dict(stride=stride, padding=padding, output_padding=output_padding, dilation=dilation,
                            groups=groups)


def torch_reference(x, w, b, kw) -> np.ndarray:
    f = getattr(torch.nn.functional, f"conv_transpose{w.ndim - 2}d")
    return f(torch.from_numpy(x), torch.from_numpy(w), None if b is None else torch.from_numpy(b),
             stride=kw["stride"], padding=kw["padding"], output_padding=kw["output_padding"], groups=kw["groups"],
             dilation=kw["dilation"]).numpy()


def _real(name: str):
    """The framework's own op, as ``--impl`` names it."""
    os.environ.setdefault("KERAS_BACKEND", "jax")  # importing tensorflow imports keras, which fixes its backend
    if name == "tf":
        tf = pytest.importorskip("tensorflow")
        return tf.nn.conv_transpose
    if name == "keras":
        return pytest.importorskip("keras").ops.conv_transpose
    if name == "jax":
        return pytest.importorskip("jax").lax.conv_transpose
    if name == "mlx":
        mx = pytest.importorskip("mlx.core")

        def by_rank(x, w, **kw):  # noqa: ANN001, ANN003, ANN202 - mx.conv_transpose{1,2,3}d by the weight's rank
            return getattr(mx, f"conv_transpose{w.ndim - 2}d")(x, w, **kw)

        return by_rank
    if name == "onnx":
        pytest.importorskip("onnxruntime")
        from convention_wrappers import onnxruntime_conv

        return onnxruntime_conv
    if name == "tinygrad":
        os.environ.setdefault("DEV", "PYTHON")  # no C compiler needed; read when tinygrad is imported
        pytest.importorskip("tinygrad")
        from convention_wrappers import tinygrad_conv

        return tinygrad_conv
    raise AssertionError(name)


ADAPTERS = {"tf": tf_conv_transpose, "keras": keras_conv_transpose, "jax": jax_conv_transpose,
            "mlx": mlx_conv_transpose, "onnx": onnx_conv_transpose, "tinygrad": None}
SEEDS = {"tf": 1, "keras": 2, "jax": 3, "mlx": 4, "onnx": 5, "tinygrad": 6}


def check_framework(name: str, count: int) -> tuple[int, float, float]:
    """``count`` expressible random layers: the real op (float32) and the adapter (float64) against torch;
    (layers, worst |real − torch|, worst |adapter − torch|)."""
    real = convention_subject(name, _real(name))
    adapter = None if ADAPTERS[name] is None else convention_subject(name, ADAPTERS[name])
    done, worst_real, worst_adapter = 0, 0.0, 0.0
    if name == "tinygrad":
        count = min(count, 30 if count >= FULL else 2)  # its Python emulator runs ~1 s per layer
    for x, w, b, kw in random_layers(SEEDS[name]):
        if done >= count:
            break
        ok, _ = expressible(name, x.shape, w.shape, **kw)
        if not ok:
            continue
        if name == "mlx" and w.ndim == 5 and kw["groups"] > 1:
            continue  # MLX: groups only in 1-d and 2-d (the planner refuses 3-d already)
        want = torch_reference(x, w, b, kw)
        x32, w32, b32 = x.astype(np.float32), w.astype(np.float32), None if b is None else b.astype(np.float32)
        try:
            got = np.asarray(real(x32, w32, b32, **kw), dtype=np.float64)
        except Exception as exc:
            # Keras on its TensorFlow backend (the default) fails some padding="same" + output_padding
            # layers inside TF's oneDNN kernel (on the JAX backend they pass): that layer is not counted
            if name == "keras" and type(exc).__name__ == "AbortedError":
                continue
            raise
        assert got.shape == want.shape, (name, x.shape, w.shape, kw)
        scale = 1 + np.abs(want).max()
        err = float(np.abs(got - want).max())
        assert err <= 1e-4 * scale, (name, x.shape, w.shape, kw, err)
        worst_real = max(worst_real, err)
        if adapter is not None:
            mine = adapter(x, w, b, **kw)
            err = float(np.abs(mine - want).max())
            assert err <= 1e-9 * scale, (name, x.shape, w.shape, kw, err)
            worst_adapter = max(worst_adapter, err)
        done += 1
    return done, worst_real, worst_adapter


NAMES = ["tf", "keras", "jax", "mlx", "onnx", "tinygrad"]


@pytest.mark.parametrize("name", NAMES)
def test_a_few_random_layers_real_op_and_adapter_match_torch(name):
    done, _, _ = check_framework(name, SAMPLE)
    assert done == (2 if name == "tinygrad" else SAMPLE)


@pytest.mark.heavy
@pytest.mark.parametrize("name", NAMES)
def test_a_hundred_random_layers_real_op_and_adapter_match_torch(name):
    done, worst_real, worst_adapter = check_framework(name, FULL)
    print(f"{name}: {done} layers, worst |real - torch| {worst_real:.3g}, worst |adapter - torch| {worst_adapter:.3g}")
    assert done == (30 if name == "tinygrad" else FULL)
