"""The neck trace's records and its JSON report (docs/neck-json.md)."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

from .config import SCHEMA, NeckConfig
from .plan import MemoryEstimate, PositionEncoding


@dataclass
class VerifyRecord:
    """One ConvTranspose2d layer's torch output against the NumPy engine (float64) on the same input."""

    max_abs_diff: float
    max_abs_ref: float
    rtol: float
    atol: float
    worst_ratio: float  # max |Δ| / (atol + rtol·(|x|·|w| + |b|)); ≤ 1 passes
    ok: bool
    tolerance: str  # e.g. "float32", "float32 (TF32)"


@dataclass
class LayerRecord:
    path: str
    branch: str
    name: str
    kind: str
    op: str
    in_shape: list[int]
    out_shape: list[int] | None  # executed
    predicted_shape: list[int]
    shape_ok: bool | None
    params: int  # sum(p.numel()) of the built module
    params_predicted: int
    flops: int  # analytic
    flops_counted: int | None  # FlopCounterMode
    out_bytes: int  # of the executed output (predicted when not run)
    time_ms: float | None
    fan_in: list[int] | None  # [min, max] contributions per output cell per input channel
    verify: VerifyRecord | None = None

    @property
    def flops_ok(self) -> bool | None:
        return None if self.flops_counted is None else self.flops == self.flops_counted


@dataclass
class BranchRecord:
    name: str  # convs.0
    group: str
    index: int
    scale: float
    in_shape: list[int]
    out_shape: list[int] | None
    layers: list[LayerRecord]
    complete: bool
    dropped: bool = False  # computed, then dropped downstream (SAM 3's scalp=1 drops the last level)
    position: PositionEncoding | None = None  # upstream's sine map for this level (SAM 3 family; not run here)

    @property
    def params(self) -> int:
        return sum(layer.params for layer in self.layers)

    @property
    def flops(self) -> int:
        return sum(layer.flops for layer in self.layers)

    @property
    def time_ms(self) -> float | None:
        times = [layer.time_ms for layer in self.layers if layer.time_ms is not None]
        return sum(times) if times else None


@dataclass
class NeckTrace:
    config: NeckConfig
    device: str  # resolved: cpu, cuda or meta
    device_name: str
    dtype: str
    torch_version: str
    timer: str  # perf_counter, cuda_events or none
    memory: MemoryEstimate
    memory_budget: int | None
    branches: list[BranchRecord]
    total_layers: int
    completed_layers: int
    interrupted: bool = False
    verified: bool = False
    notes: list[str] = field(default_factory=list)
    audit: object | None = None  # the audit's report of the transposed convolutions (convt_cli.audit.records)
    weights: object | None = None  # --weights: convt_cli.neck.weights.NeckWeights

    @property
    def layers(self) -> list[LayerRecord]:
        return [layer for b in self.branches for layer in b.layers]

    @property
    def params(self) -> int:
        return sum(b.params for b in self.branches)

    @property
    def flops(self) -> int:
        return sum(b.flops for b in self.branches)

    @property
    def flops_counted(self) -> int | None:
        counted = [layer.flops_counted for layer in self.layers]
        return None if any(c is None for c in counted) else sum(counted)  # type: ignore[misc]

    @property
    def time_ms(self) -> float | None:
        times = [b.time_ms for b in self.branches if b.time_ms is not None]
        return sum(times) if times else None

    @property
    def dropped_flops(self) -> int:
        """FLOPs of the branches computed and then thrown away downstream."""
        return sum(b.flops for b in self.branches if b.dropped)

    @property
    def shapes_ok(self) -> bool:
        return all(layer.shape_ok for layer in self.layers if layer.shape_ok is not None)

    @property
    def flops_ok(self) -> bool:
        return all(layer.flops_ok for layer in self.layers if layer.flops_ok is not None)

    @property
    def verify_ok(self) -> bool | None:
        if not self.verified:
            return None
        return all(layer.verify.ok for layer in self.layers if layer.verify is not None)

    @classmethod
    def interrupted_early(cls, config: NeckConfig, memory: MemoryEstimate, total_layers: int) -> NeckTrace:
        """Ctrl-C before the first layer ran (while torch loads, the neck is built or warmed up): a
        trace with no branches, so that ``--json`` still prints its object with ``"interrupted": true``."""
        return cls(config=config, device=config.device, device_name="", dtype=config.dtype, torch_version="",
                   timer="none", memory=memory, memory_budget=None, branches=[], total_layers=total_layers,
                   completed_layers=0, interrupted=True)

    def to_dict(self) -> dict:
        """The JSON report (docs/neck-json.md)."""
        cfg = self.config
        spec = cfg.spec
        w = self.weights
        return {
            "schema": SCHEMA,
            "input": {"shape": list(cfg.shape), "source": cfg.source, "preset": cfg.preset,
                      "upstream_shape": list(spec.shape)},
            "config": {
                "family": cfg.family, "model": spec.model, "builder": _builder(cfg), "files": spec.files,
                "heads": list(cfg.heads), "dim": cfg.dim, "d_model": cfg.d_model, "scales": list(cfg.scales),
                "dual": cfg.dual, "scalp": cfg.scalp, "seed": cfg.seed, "device_requested": cfg.device,
            },
            "weights": None if w is None else {
                "path": w.path, "format": w.format, "prefix": w.prefix, "loaded": len(w.loaded),
                "missing": w.missing, "unexpected": w.unexpected, "other_keys": w.other_keys,
            },
            "device": self.device, "device_name": self.device_name, "dtype": self.dtype,
            "torch_version": self.torch_version, "timer": self.timer,
            "memory": {**asdict(self.memory), "budget_bytes": self.memory_budget},
            "branches": [
                {
                    "name": b.name, "group": b.group, "index": b.index, "scale": b.scale,
                    "in_shape": b.in_shape, "out_shape": b.out_shape, "complete": b.complete,
                    "dropped": b.dropped, "layers": [_layer_dict(layer) for layer in b.layers],
                    "position_encoding": None if b.position is None else {
                        "shape": list(b.position.shape), "bytes": b.position.bytes,
                        "cast_bytes": b.position.cast_bytes, "cache": b.position.cache,
                        "cached_by": b.position.cached_by, "cache_bytes": b.position.cache_bytes,
                    },
                    "totals": {"params": b.params, "flops": b.flops, "time_ms": b.time_ms},
                }
                for b in self.branches
            ],
            "totals": {
                "params": self.params, "flops": self.flops, "flops_counted": self.flops_counted,
                "time_ms": self.time_ms, "layers": self.total_layers, "completed_layers": self.completed_layers,
                "dropped_flops": self.dropped_flops,
            },
            "checks": {"shapes_ok": self.shapes_ok, "flops_ok": self.flops_ok, "verify_ok": self.verify_ok},
            "interrupted": self.interrupted,
            "notes": list(self.notes),
            "audit": None if self.audit is None else self.audit.to_dict(),  # type: ignore[attr-defined]
        }


def _builder(cfg) -> str:
    """The upstream builder of what was built (``--dual`` on the image model's preset: the video model's)."""
    from .presets import PRESETS

    return PRESETS[cfg.builder_heads].builder


def _layer_dict(layer: LayerRecord) -> dict:
    data = {
        "path": layer.path, "name": layer.name, "kind": layer.kind, "op": layer.op,
        "in_shape": layer.in_shape, "out_shape": layer.out_shape, "predicted_shape": layer.predicted_shape,
        "shape_ok": layer.shape_ok, "params": layer.params, "params_predicted": layer.params_predicted,
        "flops": layer.flops, "flops_counted": layer.flops_counted, "flops_ok": layer.flops_ok,
        "out_bytes": layer.out_bytes, "time_ms": layer.time_ms, "fan_in": layer.fan_in,
        "verify": None if layer.verify is None else {
            key: (None if isinstance(value, float) and not math.isfinite(value) else value)
            for key, value in asdict(layer.verify).items()
        },
    }
    return data

