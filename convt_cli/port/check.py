"""``convt port --check``: the emitted snippet run with the real target framework, in the sandbox.

The snippet is convt's own text (built from the plan's integers, never from the layer text), but the
framework it imports is not convt's: it runs in a child process (:func:`convt_cli.sandbox.run_isolated`)
bounded in time and in resident memory, in an empty temporary directory. A crash of the framework
(XLA's aborts included) is a failed check, reported; it never takes convt down. Nothing here prints.
"""

from __future__ import annotations

import importlib.util
import math
import os
from dataclasses import dataclass

import numpy as np

from ..errors import ConvtError

TIMEOUT_S = 240.0  # imports of TensorFlow or Keras + JAX and a first compile on a busy machine
EPS32 = float(np.finfo(np.float32).eps)

# target: (modules the snippet imports, the pyproject extra that installs them)
NEEDS = {"torch": (("torch",), None), "onnx": (("onnx", "onnxruntime"), "frameworks"),
         "jax": (("jax",), "frameworks"), "keras": (("keras",), "frameworks"), "flax": (("flax", "jax"), "flax"),
         "tf": (("tensorflow",), "tf"), "mlx": (("mlx",), "mlx")}
KERAS_BACKENDS = {"jax": ("jax", "frameworks"), "tensorflow": ("tensorflow", "tf"), "torch": ("torch", None),
                  "numpy": ("numpy", None)}


@dataclass(frozen=True)
class CheckResult:
    target: str
    seed: int
    max_abs_diff: float | None  # None: the snippet did not run
    tolerance: float
    ok: bool
    failure: str = ""  # why it did not run (a crash, a timeout, the framework's exception)


def install_words(module: str, extra: str | None) -> tuple[str, str]:
    how = f"pip install 'convt[{extra}]'" if extra else f"pip install {module}"
    return how, how


def _missing(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is None
    except (ImportError, ValueError):
        return True


def require(target: str) -> None:
    """Refuse, before any work, a check whose framework is not installed: name the extra that installs it."""
    modules, extra = NEEDS[target]
    needed = [(m, extra) for m in modules]
    if target == "keras":
        backend = os.environ.get("KERAS_BACKEND", "jax")
        if backend not in KERAS_BACKENDS:
            raise ConvtError(f"KERAS_BACKEND={backend!r} is not a Keras 3 backend; use one of "
                             f"{', '.join(KERAS_BACKENDS)} (the snippet defaults to jax)",
                             zh=f"KERAS_BACKEND={backend!r} 不是 Keras 3 的后端；可用：{', '.join(KERAS_BACKENDS)}")
        needed.append(KERAS_BACKENDS[backend])
    for module, extra in needed:
        if _missing(module):
            how, _ = install_words(module, extra)
            why = f" (KERAS_BACKEND={os.environ['KERAS_BACKEND']})" if target == "keras" and module != "keras" \
                and os.environ.get("KERAS_BACKEND") else ""
            raise ConvtError(f"--check runs the snippet with {module}{why}, which is not installed: {how}",
                             zh=f"--check 需要用 {module}{why} 运行代码，但它未安装：{how}")


def child_run(request: dict, arrays: list[np.ndarray]) -> tuple[dict, list[np.ndarray]]:
    """In the sandbox's child: compile convt's snippet, import its framework, run ``convt_port``."""
    from ..sandbox.child import loaded

    code = str(request["code"])
    namespace: dict = {"__name__": "convt_port_snippet"}
    exec(compile(code, f"<convt port --to {request['target']}>", "exec"), namespace)  # noqa: S102 - our own text
    loaded()
    x, w = arrays[0], arrays[1]
    b = arrays[2] if len(arrays) > 2 else None
    y = np.asarray(namespace["convt_port"](x, w, b), dtype=np.float32)
    return {"shape": list(y.shape)}, [np.ascontiguousarray(y)]


def run_check(report, seed: int, timeout: float = TIMEOUT_S) -> CheckResult:  # noqa: ANN001 - a PortReport
    """max |Δ| between the real framework's output and the engine's, or the reason there is none."""
    import tempfile

    from ..sandbox import SandboxFailure, run_isolated
    from .emit import snippet
    from .plan import proof_data, proof_geometry
    from .run import run

    p, layer = report.plan, report.layer
    require(p.target)
    code = snippet(p, layer.framework)
    g, _ = proof_geometry(layer.geometry, reduce=False)  # the snippet has the layer's channels
    x, w, b = proof_data(g, seed)
    expected = run(layer.framework, layer.args, x, w, b, groups=g.groups)
    scale = run(layer.framework, layer.args, np.abs(x), np.abs(w), None if b is None else np.abs(b), groups=g.groups)
    n_terms = math.prod(g.kernel) * (g.c_in // g.groups) + 1
    # float32 accumulation: a few ulps of the largest sum of |terms|, growing like sqrt(terms)
    tolerance = 16 * EPS32 * max(float(np.abs(scale).max()), 1.0) * math.sqrt(n_terms)
    arrays = [x.astype(np.float32), w.astype(np.float32)] + ([] if b is None else [b.astype(np.float32)])
    with tempfile.TemporaryDirectory(prefix="convt-check-") as cwd:
        try:
            outcome = run_isolated("convt_cli.port.check:child_run", {"code": code, "target": p.target}, arrays,
                                   timeout=timeout, cwd=cwd, what=f"the {p.target} snippet")
        except SandboxFailure as exc:
            return CheckResult(p.target, seed, None, tolerance, False, exc.message)
    got = outcome.arrays[0] if outcome.arrays else np.zeros(0)
    if got.shape != expected.shape:
        return CheckResult(p.target, seed, None, tolerance, False,
                           f"the snippet returned shape {list(got.shape)}, expected {list(expected.shape)}")
    diff = float(np.abs(got.astype(np.float64) - expected).max()) if expected.size else 0.0
    return CheckResult(p.target, seed, diff, tolerance, bool(diff <= tolerance))
