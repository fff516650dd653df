"""The audit's plain records and its JSON report (schema ``convt.audit/2``, docs/audit-json.md)."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field

from .phase import THRESHOLD, PhaseGain

SCHEMA = "convt.audit/2"

# Layer kinds: PyTorch modules by class name, functional calls by function name, ONNX nodes by op type.
CONV_KINDS = ("ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d", "conv_transpose1d", "conv_transpose2d",
              "conv_transpose3d", "ConvTranspose")


@dataclass
class LayerRecord:
    """One transposed convolution or upsampling op, as it ran."""

    index: int  # execution order, from 0
    name: str  # qualified module name; a functional call: the calling module's name + "/F.<function>"
    kind: str  # ConvTranspose2d, Upsample, PixelShuffle, interpolate, pixel_shuffle, ConvTranspose, Resize, …
    op: str  # as PyTorch prints it (an ONNX node: its PyTorch equivalent)
    input_shape: list[int]
    output_shape: list[int]
    params: int
    macs_scatter: int
    macs_useful: int
    bias_adds: int
    overlap: str | None  # none, even, uneven or gaps (transposed convolutions only)
    overlap_per_cell: list[int] | None  # [min, max] contributions per interior output cell per input channel
    phase_gain: PhaseGain | None = None
    time_ms: float | None = None
    attributes: dict | None = None  # an ONNX node's own attributes
    dropped: bool = False  # computed, then thrown away downstream (SAM 3's 0.5 level)
    runtime: dict | None = None  # --runtime: this layer's verdict in that toolchain (convt_cli.runtimes.layers)

    @property
    def is_conv(self) -> bool:
        return self.kind in CONV_KINDS

    @property
    def flagged(self) -> bool:
        """Checkerboard risk: uneven overlap or gaps in the geometry, or a phase-gain index over the threshold."""
        return self.overlap in ("uneven", "gaps") or (self.phase_gain is not None and self.phase_gain.flagged)

    def to_dict(self) -> dict:
        pg = self.phase_gain
        return {
            "index": self.index, "name": self.name, "kind": self.kind, "op": self.op,
            "input_shape": self.input_shape, "output_shape": self.output_shape, "params": self.params,
            "macs_scatter": self.macs_scatter, "macs_useful": self.macs_useful, "bias_adds": self.bias_adds,
            "overlap": self.overlap, "overlap_per_cell": self.overlap_per_cell,
            "phase_gain_index": None if pg is None else _finite(pg.worst),
            "phase_gain": None if pg is None else {
                "worst": _finite(pg.worst), "worst_channel": pg.worst_channel, "median": _finite(pg.median),
                "threshold": pg.threshold, "full_scale": pg.full_scale,
                "phase_map": [_finite(v) for v in pg.phase_map.ravel()] if pg.phase_sums else None,
                "phase_map_shape": list(pg.phase_shape),
                "phase_map_range": [_finite(pg.ripple_min), _finite(pg.ripple_max)],
                "std_over_mean": _finite(pg.std_over_mean),
            },
            "checkerboard": self.flagged, "time_ms": self.time_ms, "dropped": self.dropped,
            **({"onnx_attributes": self.attributes} if self.attributes is not None else {}),
            **({"runtime": self.runtime} if self.runtime is not None else {}),
        }


def to_plain(report: AuditReport, *, per_channel: bool = True) -> dict:
    """The whole report as JSON-ready data (the sandbox's child sends it back this way, without the
    per-channel indices, which nothing downstream shows, so the reply stays small for wide models)."""
    data = dataclasses.asdict(report)
    if not per_channel:
        for layer in data["layers"]:
            if layer.get("phase_gain") is not None:
                layer["phase_gain"]["per_channel"] = []
    return data


def from_plain(data: dict) -> AuditReport:
    """The inverse of :func:`to_plain` (raises ``TypeError``/``KeyError`` on anything else)."""
    layers = []
    for la in data["layers"]:
        la = dict(la)
        pg = la.get("phase_gain")
        if pg is not None:
            la["phase_gain"] = PhaseGain(**{k: tuple(v) if isinstance(v, list) else v for k, v in pg.items()})
        layers.append(LayerRecord(**la))
    return AuditReport(**{**data, "weights": WeightsInfo(**data["weights"]), "layers": layers})


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


@dataclass
class WeightsInfo:
    path: str | None
    format: str | None  # pt, safetensors, onnx, init (the builder's own), or None (none: meta or random)
    real: bool
    reason: str  # why the phase-gain index is (not) computed: weights, onnx, init, meta, random
    missing: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)


@dataclass
class AuditReport:
    model: str
    source: str  # python or onnx
    input_shape: list[int]
    device: str  # meta, cpu, cuda, or onnx (shape inference)
    device_name: str
    torch_version: str | None
    weights: WeightsInfo
    layers: list[LayerRecord]
    notes: list[str] = field(default_factory=list)
    runtime: dict | None = None  # --runtime: {"name", "versions"}

    @property
    def totals(self) -> dict:
        convs = [la for la in self.layers if la.is_conv]
        scatter = sum(la.macs_scatter for la in self.layers)
        useful = sum(la.macs_useful for la in self.layers)
        times = [la.time_ms for la in self.layers if la.time_ms is not None]
        return {
            "layers": len(self.layers), "transposed_convolutions": len(convs),
            "params": sum(la.params for la in self.layers), "macs_scatter": scatter, "macs_useful": useful,
            "macs_cropped": scatter - useful, "bias_adds": sum(la.bias_adds for la in self.layers),
            "flagged": sum(1 for la in self.layers if la.flagged),
            "macs_dropped": sum(la.macs_scatter for la in self.layers if la.dropped),
            "time_ms": sum(times) if times else None,
        }

    def to_dict(self) -> dict:
        w = self.weights
        return {
            "schema": SCHEMA, "model": self.model, "source": self.source, "input_shape": self.input_shape,
            "device": self.device, "device_name": self.device_name, "torch_version": self.torch_version,
            "weights": {"path": w.path, "format": w.format, "real": w.real, "reason": w.reason,
                        "missing": w.missing, "unexpected": w.unexpected},
            "phase_gain_threshold": THRESHOLD,
            "layers": [la.to_dict() for la in self.layers],
            "totals": self.totals,
            "notes": list(self.notes),
            **({"runtime": self.runtime} if self.runtime is not None else {}),
        }
