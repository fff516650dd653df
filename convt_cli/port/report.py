"""The port as a plain record for rendering and ``--json``: texts of code and formulas, no Rich."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..conventions.core import Geometry
from .emit import call_text, residual_text, source_weight_line, weight_lines
from .layer import Layer
from .plan import IMPOSSIBLE, Plan, Proof, plan, prove

NAMES = {"torch": "PyTorch", "onnx": "ONNX", "jax": "JAX", "flax": "Flax", "keras": "Keras", "tf": "TensorFlow",
         "mlx": "MLX"}


@dataclass(frozen=True)
class PortReport:
    layer: Layer
    plan: Plan
    target_call: str
    weight_code: tuple[tuple, ...]  # (code, comment words)
    extra_code: tuple[str, ...]
    source_sizes: tuple[str, ...]  # one formula per axis (or one for all), numbers filled in
    target_sizes: tuple[str, ...]
    proof: Proof | None
    notes: tuple[tuple, ...] = field(default_factory=tuple)  # (key, fields)


def _axes(g: Geometry, one) -> tuple[str, ...]:  # noqa: ANN001 - a per-axis formula writer
    texts = [one(i) for i in range(g.nd)]
    if len(set(texts)) == 1:
        return (texts[0],)
    return tuple(f"dim {i}: {text}" for i, text in enumerate(texts))


def size_formulas(framework: str, args: dict, g: Geometry, crops: tuple[tuple[int, ...], tuple[int, ...]],
                  expand: tuple[int, ...] | None = None) -> tuple[str, ...]:
    """The framework's own output-size formula for each axis, with the numbers filled in."""
    begin, end = crops

    def one(i: int) -> str:
        n, s = g.size[i], g.stride[i]
        k, d = (g.k_eff[i], 1) if expand else (g.kernel[i], g.dilation[i])
        ke = d * (k - 1) + 1
        canvas = (n - 1) * s + ke
        out = canvas - begin[i] - end[i]
        if framework in ("torch", "mlx"):
            p, op = begin[i], begin[i] - end[i]
            return f"({n} − 1)×{s} − 2×{p} + {d}×({k} − 1) + {op} + 1 = {out}"
        if framework == "keras" or (framework == "tf" and "filters" in args and "output_shape" not in args):
            mode = str(args.get("padding", "valid")).lower()
            op = args.get("output_padding")
            op_i = None if op is None else (op if isinstance(op, int) else op[i])
            if op_i is None and mode == "same":
                return f"'same': {n}×{s} = {out}"
            if op_i is None:
                return f"'valid': ({n} − 1)×{s} + max({ke}, {s}) = {out}"
            if mode == "same":
                return f"'same': ({n} − 1)×{s} + {ke} − 2×⌊{ke}/2⌋ + {op_i} = {out}"
            return f"'valid': ({n} − 1)×{s} + {ke} + {op_i} = {out}"
        if framework in ("jax", "flax"):
            lo, hi = ke - 1 - begin[i], ke - 1 - end[i]
            return f"({n} − 1)×{s} + 1 + {lo} + {hi} − {d}×({k} − 1) = {out}"
        if framework == "onnx" and args.get("output_shape") is not None:
            op = (args.get("output_padding") or [0] * g.nd)[i]
            return f"{s}×({n} − 1) + {op} + {d}×({k} − 1) + 1 = {canvas + op}, output_shape {out}"
        if framework == "onnx":
            op = max(-end[i], 0)
            return f"{s}×({n} − 1) + {op} + {d}×({k} − 1) + 1 − {begin[i]} − {end[i] + op} = {out}"
        return f"output_shape: {out} (canvas {canvas})"

    return _axes(g, one)


def _after(p: Plan) -> tuple[str, ...]:
    """``17 → 16`` per axis when the extra op changes the size."""
    g = p.geometry
    sizes = [c - b - e for c, b, e in zip(g.canvas, *p.crops)]
    if sizes == list(g.out):
        return ()
    return ("×".join(map(str, sizes)) + " → " + "×".join(map(str, g.out)),)


def port_report(layer: Layer, target: str, seed: int = 0) -> PortReport:
    g = layer.geometry
    p = plan(g, target)
    if p.status == IMPOSSIBLE:
        return PortReport(layer, p, "", (), (), size_formulas(layer.framework, layer.args, g, (g.begin, g.end)), (),
                          None, layer.notes)
    src_line = source_weight_line(layer.framework, layer.args, g.nd)
    weights = ((src_line,) if src_line else ()) + tuple(weight_lines(p))
    notes = list(layer.notes)
    if target == "tf" and max(g.dilation) > 1:
        notes.append(("port.n.tf_dilation", {}))
    return PortReport(
        layer=layer, plan=p, target_call=call_text(p), weight_code=weights, extra_code=tuple(residual_text(p)),
        source_sizes=size_formulas(layer.framework, layer.args, g, (g.begin, g.end)),
        target_sizes=size_formulas(target, p.args, g, p.crops, p.expand) + _after(p),
        proof=prove(layer, p, seed), notes=tuple(notes),
    )
