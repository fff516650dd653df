"""A port as a plain record: the target's arguments, the weight conversion, the extra op, and its proof.

For every target the plan picks the target's own arguments whose canvas window is the source's, or
the nearest one, and records what is left as a per-axis ``residual`` (cells still to crop; negative:
zeros to add). The proof runs both layers on the NumPy engine through each framework's adapter
(:mod:`convt_cli.port.run`) on seeded random data and keeps max |Δ|. Nothing here prints.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..conventions.core import Geometry, window
from ..conventions.jax_conv import NCHW_DN
from ..conventions.keras_conv import keras_crop
from ..conventions.torch_conv import torch_padding
from ..limits import check_bytes
from . import run as runner
from .layer import Layer
from .texts import say  # noqa: F401 - re-exported for callers

EXACT, EXTRA, IMPOSSIBLE = "exact", "extra", "impossible"


@dataclass(frozen=True)
class Plan:
    """The port of one geometry to one target framework."""

    target: str
    geometry: Geometry
    status: str  # exact | extra | impossible
    args: dict  # the target's own arguments (in its names); empty when impossible
    crops: tuple[tuple[int, ...], tuple[int, ...]]  # the canvas window the target call gives
    residual: tuple[tuple[int, int], ...]  # per axis: (begin, end) still to crop; negative adds zeros
    expand: tuple[int, ...] | None = None  # the dilation written into the kernel (target has no such dilation)
    reason: tuple = ()  # why impossible: (catalogue key, fields), see port/texts.py
    closest: tuple = ()  # the closest workable construction, likewise

    @property
    def nd(self) -> int:
        return self.geometry.nd

    @property
    def slices(self) -> bool:
        return any(b > 0 or e > 0 for b, e in self.residual)

    @property
    def pads(self) -> bool:
        return any(b < 0 or e < 0 for b, e in self.residual)


def _residual(g: Geometry, begin: tuple[int, ...], end: tuple[int, ...]) -> tuple[tuple[int, int], ...]:
    return tuple((b - tb, e - te) for b, e, tb, te in zip(g.begin, g.end, begin, end))


def _finish(target: str, g: Geometry, args: dict, begin: tuple[int, ...], end: tuple[int, ...],
            expand: tuple[int, ...] | None = None) -> Plan:
    residual = _residual(g, begin, end)
    exact = expand is None and all(r == (0, 0) for r in residual)
    return Plan(target, g, EXACT if exact else EXTRA, args, (begin, end), residual, expand)


def _impossible(target: str, g: Geometry, reason: tuple, closest: tuple) -> Plan:
    zero = tuple((0, 0) for _ in range(g.nd))
    return Plan(target, g, IMPOSSIBLE, {}, (g.begin, g.end), zero, None, reason, closest)


def _gather_pads(g: Geometry) -> list[tuple[int, int]]:
    return [(ke - 1 - b, ke - 1 - e) for ke, b, e in zip(g.k_eff, g.begin, g.end)]


def plan_torch(g: Geometry, framework: str = "torch") -> Plan:
    padding, output_padding = torch_padding(g)
    if framework == "mlx":
        args = {"stride": g.stride, "padding": padding, "dilation": g.dilation, "output_padding": output_padding,
                "groups": g.groups}
    else:
        args = {"in_channels": g.c_in, "out_channels": g.c_out, "kernel_size": g.kernel, "stride": g.stride,
                "padding": padding, "output_padding": output_padding, "groups": g.groups, "bias": g.bias,
                "dilation": g.dilation}
    return _finish(framework, g, args, padding, tuple(p - o for p, o in zip(padding, output_padding)))


def plan_onnx(g: Geometry) -> Plan:
    pads_begin = [max(b, 0) for b in g.begin]
    pads_end, output_padding = [], []
    for e, s in zip(g.end, g.stride):
        op = min(max(-e, 0), s - 1)
        output_padding.append(op)
        pads_end.append(max(e, 0))
    args = {"kernel_shape": list(g.kernel), "strides": list(g.stride), "pads": pads_begin + pads_end,
            "output_padding": output_padding if any(output_padding) else None,
            "dilations": list(g.dilation) if any(d != 1 for d in g.dilation) else None,
            "group": g.groups}
    return _finish("onnx", g, args, tuple(pads_begin), tuple(p - o for p, o in zip(pads_end, output_padding)))


def xla_aborts(k_eff: tuple[int, ...], stride: tuple[int, ...], pads: list[tuple[int, int]]) -> list[bool]:
    """Per axis: would XLA abort on it? XLA's algebraic simplifier (jaxlib 0.8/0.9 CPU, and TensorFlow's
    Keras backend) fails a CHECK and aborts the process (SIGABRT) on a transposed convolution with two
    or more spatial axes when one axis has kernel = stride = 2 and no lax padding (each output cell reads
    one input cell) while another axis's kernel is wider than the input: it swaps the operands and builds
    a window that does not match them. The input size is not known when a snippet runs, so such an axis
    is given one more cell of padding and the extra cell is sliced off instead."""
    if len(k_eff) < 2:
        return [False] * len(k_eff)
    return [k == s == 2 and lo == hi == 0 for k, s, (lo, hi) in zip(k_eff, stride, pads)]


def _xla_safe_pads(g: Geometry) -> list[tuple[int, int]]:
    pads = _gather_pads(g)
    return [(lo, hi + 1) if bad else (lo, hi) for (lo, hi), bad in zip(pads, xla_aborts(g.k_eff, g.stride, pads))]


def _crops_of(g: Geometry, pads: list[tuple[int, int]]) -> tuple[tuple[int, ...], tuple[int, ...]]:
    return (tuple(ke - 1 - lo for ke, (lo, _) in zip(g.k_eff, pads)),
            tuple(ke - 1 - hi for ke, (_, hi) in zip(g.k_eff, pads)))


def plan_jax(g: Geometry) -> Plan:
    pads = _xla_safe_pads(g)
    if g.groups > 1:
        args = {"window_strides": (1,) * g.nd, "padding": pads, "lhs_dilation": g.stride,
                "rhs_dilation": g.dilation, "feature_group_count": g.groups}
    else:
        args = {"strides": g.stride, "padding": pads, "rhs_dilation": g.dilation,
                "dimension_numbers": NCHW_DN[g.nd], "transpose_kernel": True}
    return _finish("jax", g, args, *_crops_of(g, pads))


def plan_flax(g: Geometry) -> Plan:
    if g.groups > 1:
        return _impossible("flax", g, ("port.r.groups", {"api": "Flax's ConvTranspose", "g": g.groups}),
                           ("port.c.flax", {}))
    pads = _xla_safe_pads(g)
    args = {"features": g.c_out, "kernel_size": g.kernel, "strides": g.stride, "padding": pads,
            "kernel_dilation": g.dilation, "use_bias": g.bias, "transpose_kernel": True}
    return _finish("flax", g, args, *_crops_of(g, pads))


def _keras_cost(b: int, e: int, cb: int, ce: int) -> float:
    """Cells left to slice or pad; infinite when the target crops real canvas cells the source keeps."""
    if cb > max(b, 0) or ce > max(e, 0):
        return float("inf")
    return abs(b - cb) + abs(e - ce)


def plan_keras(g: Geometry) -> Plan:
    if g.groups > 1:
        api = f"Conv{g.nd}DTranspose"
        return _impossible("keras", g, ("port.r.groups", {"api": f"Keras 3's {api}", "g": g.groups}),
                           ("port.c.split", {"g": g.groups, "api": api, "cig": g.c_in // g.groups}))
    expand = g.dilation if max(g.stride) > 1 and max(g.dilation) > 1 else None
    kernel = g.k_eff if expand else g.kernel
    dilation = (1,) * g.nd if expand else g.dilation
    best = None
    for padding, free in (("same", False), ("valid", False), ("same", True), ("valid", True)):
        ops = []
        for b, e, k, s, d in zip(g.begin, g.end, kernel, g.stride, dilation):
            def cost(op: int | None, b: int = b, e: int = e, k: int = k, s: int = s, d: int = d,
                     padding: str = padding) -> int:
                return _keras_cost(b, e, *keras_crop(k, s, d, padding, op))

            ops.append(min(range(s), key=cost) if free else None)
        crops = [keras_crop(k, s, d, padding, op) for k, s, d, op in zip(kernel, g.stride, dilation, ops)]
        total = sum(_keras_cost(b, e, cb, ce) for b, e, (cb, ce) in zip(g.begin, g.end, crops))
        k_eff = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation))
        if any(xla_aborts(k_eff, g.stride, [(ke - 1 - cb, ke - 1 - ce) for ke, (cb, ce) in zip(k_eff, crops)])):
            total = float("inf")  # XLA would abort on it (see xla_aborts)
        candidate = (total, padding, tuple(ops) if free else None, tuple(c[0] for c in crops),
                     tuple(c[1] for c in crops))
        if best is None or candidate[0] < best[0]:
            best = candidate
    _, padding, ops, begin, end = best
    args = {"filters": g.c_out, "kernel_size": kernel, "strides": g.stride, "padding": padding,
            "output_padding": ops, "dilation_rate": dilation, "use_bias": g.bias}
    return _finish("keras", g, args, begin, end, expand)


def plan_tf(g: Geometry) -> Plan:
    if g.groups > 1:
        api = "tf.nn.conv_transpose"
        return _impossible("tf", g, ("port.r.groups", {"api": api, "g": g.groups}),
                           ("port.c.split", {"g": g.groups, "api": api, "cig": g.c_in // g.groups}))
    out, begin, end = [], [], []
    same = []
    for b, e, c, n, s in zip(g.begin, g.end, g.canvas, g.size, g.stride):
        total = b + e
        size = c - total
        same.append(total >= 0 and b == total // 2 and (n - 1) * s < size <= n * s)
    padding = "SAME" if all(same) else "VALID"
    for b, e, c, s in zip(g.begin, g.end, g.canvas, g.stride):
        if padding == "SAME":
            size = c - b - e
            begin.append(b)
            end.append(e)
        else:
            extra = min(max(-e, 0), s - 1)
            size = c + extra
            begin.append(0)
            end.append(-extra)
        out.append(size)
    args = {"output_shape": tuple(out), "strides": g.stride, "padding": padding, "dilations": g.dilation}
    return _finish("tf", g, args, tuple(begin), tuple(end))


def plan_mlx(g: Geometry) -> Plan:
    """As PyTorch, within MLX's limits: padding at most d·(k−1) (then a slice), groups only in 1-D/2-D."""
    if g.groups > 1 and g.nd == 3:
        api = "mx.conv_transpose3d"
        return _impossible("mlx", g, ("port.r.groups", {"api": api, "g": g.groups}),
                           ("port.c.split", {"g": g.groups, "api": api, "cig": g.c_in // g.groups}))
    padding, output_padding = [], []
    for b, e, s, d, ke in zip(g.begin, g.end, g.stride, g.dilation, g.k_eff):
        if 0 <= b <= ke - 1 and 0 <= b - e < max(s, d):
            p, op = b, b - e
        else:
            p = min(max(0, min(b, e)), ke - 1)
            op = min(max(p - e, 0), max(s, d) - 1)
        padding.append(p)
        output_padding.append(op)
    args = {"stride": g.stride, "padding": tuple(padding), "dilation": g.dilation,
            "output_padding": tuple(output_padding), "groups": g.groups}
    return _finish("mlx", g, args, tuple(padding), tuple(p - o for p, o in zip(padding, output_padding)))


PLANNERS = {"torch": plan_torch, "onnx": plan_onnx, "jax": plan_jax, "flax": plan_flax, "keras": plan_keras,
            "tf": plan_tf, "mlx": plan_mlx}


def plan(geometry: Geometry, target: str) -> Plan:
    return PLANNERS[target](geometry)


@dataclass(frozen=True)
class Proof:
    """Both layers on the same seeded data, on the NumPy engine."""

    seed: int
    input_shape: tuple[int, ...]
    output_shape: tuple[int, ...]
    max_abs_diff: float
    max_abs_value: float
    reduced: bool = False  # run with fewer channels than the layer has


PROOF_ELEMENTS = 8_000_000  # past this, the proof runs with fewer channels (the geometry is per channel)


def proof_geometry(g: Geometry, batch: int = 2, reduce: bool = True) -> tuple[Geometry, bool]:
    """The geometry the proof runs: the layer's, or (``reduce``) with at most 2 input and 3 output channels
    per group when the arrays would be large; refused (memory budget) when even that is too large."""
    from dataclasses import replace

    def elements(h: Geometry) -> int:
        # Python ints (math.prod), never NumPy's int64: a product of large sizes must not wrap around.
        return (batch * h.c_in * math.prod(int(s) for s in h.size) + math.prod(int(s) for s in h.weight_shape())
                + batch * h.c_out * math.prod(max(int(c), int(o)) for c, o in zip(h.canvas, h.out)))

    reduced = False
    if reduce and elements(g) > PROOF_ELEMENTS:
        cig, cog = g.c_in // g.groups, g.c_out // g.groups
        g = replace(g, c_in=g.groups * min(cig, 2), c_out=g.groups * min(cog, 3))
        reduced = True
    check_bytes(8 * 4 * elements(g), "the proof's random arrays",
                hint="try a smaller --size", hint_zh="可减小 --size")
    return g, reduced


def proof_data(g: Geometry, seed: int, batch: int = 2) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((batch, g.c_in, *g.size))
    w = rng.standard_normal(g.weight_shape())
    b = rng.standard_normal(g.c_out) if g.bias else None
    return x, w, b


def run_plan(p: Plan, x: np.ndarray, w: np.ndarray, b: np.ndarray | None) -> np.ndarray:
    """The target's call (adapter on the engine), then the residual crop/pad, then the bias when padded."""
    inner_bias = None if p.pads else b
    y = runner.run(p.target, p.args, x, w, inner_bias, groups=p.geometry.groups, expand=p.expand)
    y = window(y, tuple(r[0] for r in p.residual), tuple(r[1] for r in p.residual))
    if p.pads and b is not None:
        y = y + b.reshape(1, -1, *([1] * p.nd))
    return y


def prove(layer: Layer, p: Plan, seed: int = 0) -> Proof | None:
    """max |Δ| between the source layer and the port, both on the engine; ``None`` when impossible."""
    if p.status == IMPOSSIBLE:
        return None
    g, reduced = proof_geometry(layer.geometry)
    x, w, b = proof_data(g, seed)
    source = runner.run(layer.framework, layer.args, x, w, b, groups=g.groups)
    ported = run_plan(p, x, w, b)
    top = float(np.abs(source).max())
    if source.shape != ported.shape:
        return Proof(seed, x.shape, source.shape, float("inf"), top, reduced)
    return Proof(seed, x.shape, source.shape, float(np.abs(source - ported).max()), top, reduced)
