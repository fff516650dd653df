"""The SAM 3 ViTDet neck (FACTS.md §4): build it with torch, run it, and trace every layer into records.

Three steps, each usable on its own:

* :func:`make_config` reads and checks the user's choices (pure: no torch).
* :func:`plan_neck` predicts every layer from the formulas alone — shapes (the transposed-conv
  rows through :mod:`convt_cli.shapes`), parameter counts, FLOPs, activation bytes, the fan-in of
  each output cell and a peak-memory estimate (pure: no torch).
* :func:`trace_neck` builds the neck with upstream's structure and module names
  (:func:`build_neck`), runs it layer by layer on the chosen device, times each layer, counts FLOPs
  with ``torch.utils.flop_counter.FlopCounterMode`` and, with ``verify``, checks every
  ConvTranspose2d output against the NumPy engine on the same input activations.

Nothing here prints; :mod:`convt_cli.render.neck` draws the records and ``--json`` dumps them.
torch is imported lazily, inside the functions that need it.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field

from .errors import ConvtError
from .limits import human_bytes, max_bytes
from .parsing import parse_number, parse_size_list
from .shapes import ConvTransposeParams, output_shape, overlap_verdict

SCHEMA = "convt.neck/1"
PRESETS: dict[str, tuple[int, int, int, int]] = {
    "explainer": (1, 1280, 64, 64),  # the explainer's numbers: ViT-H / 1024 px geometry of SAM 1
    "sam3": (1, 1024, 72, 72),  # the shipped SAM 3: embed_dim 1024, 1008 px, 14 px patches
}
DEFAULT_PRESET = "explainer"
SUPPORTED_SCALES = (4.0, 2.0, 1.0, 0.5)
DEFAULT_SCALES = "4,2,1,0.5"
DEVICES = ("auto", "cpu", "cuda", "meta")
DTYPES = ("float32", "float16", "bfloat16")
ITEMSIZE = {"float32": 4, "float16": 2, "bfloat16": 2}
# torch.testing.assert_close defaults (FACTS.md §3): (rtol, atol).
TOLERANCES = {"float32": (1.3e-6, 1e-5), "float16": (1e-3, 1e-5), "bfloat16": (1.6e-2, 1e-5)}
# cuDNN may run float32 convolutions in TF32 (10-bit mantissa, like float16): float16's rtol then.
TF32_TOLERANCE = (1e-3, 1e-5)
MAX_NUMEL = 2**62  # torch's sizes are int64
CUDA_FREE_SHARE = 0.9  # of the GPU's free memory
HEADROOM = 1.5  # allocator caching and fragmentation (measured: see docs/readme/neck.md)


# --------------------------------------------------------------------------------------------
# Configuration (pure)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NeckConfig:
    """What to build and where to run it, already checked."""

    shape: tuple[int, int, int, int]
    source: str  # "shape", "preset" or "default"
    preset: str | None
    d_model: int
    scales: tuple[float, ...]
    dual: bool
    seed: int
    device: str  # as requested: auto, cpu, cuda or meta
    dtype: str

    @property
    def dim(self) -> int:
        """The ViT's channels (upstream: ``trunk.channel_list[-1]``)."""
        return self.shape[1]


def _fmt_scale(scale: float) -> str:
    return f"{scale:g}"


def parse_scales(text: str) -> tuple[float, ...]:
    """``"4,2,1,0.5"`` → (4.0, 2.0, 1.0, 0.5); any other scale is refused, as upstream refuses it."""
    t = text.strip()
    if t.startswith("(") and t.endswith(")") or t.startswith("[") and t.endswith("]"):
        t = t[1:-1]
    parts = [p.strip() for p in t.split(",")]
    if not t.strip() or any(p == "" for p in parts):
        raise ConvtError(
            f"--scales {text!r} must be scale factors separated by commas, e.g. 4,2,1,0.5",
            zh=f"--scales {text!r} 必须是用逗号分隔的缩放倍数，例如 4,2,1,0.5",
        )
    scales = []
    for part in parts:
        value = float(parse_number(part, "scale"))
        if value not in SUPPORTED_SCALES:
            raise ConvtError(
                f"scale {part} is not supported: the SAM 3 neck builds only 4, 2, 1 and 0.5 "
                f"(upstream raises NotImplementedError: scale_factor={value} is not supported yet)",
                zh=f"不支持缩放倍数 {part}：SAM 3 neck 只有 4、2、1、0.5 四种分支"
                f"（上游会抛出 NotImplementedError: scale_factor={value} is not supported yet）",
            )
        scales.append(value)
    return tuple(scales)


def _shape_text(shape: tuple[int, ...]) -> str:
    return "×".join(str(s) for s in shape)


def make_config(
    shape: str | None = None,
    preset: str | None = None,
    d_model: int = 256,
    scales: str = DEFAULT_SCALES,
    dual: bool = False,
    seed: int = 0,
    device: str = "auto",
    dtype: str = "float32",
    verify: bool = False,
) -> NeckConfig:
    """Check every choice before torch is imported; one :class:`ConvtError` per mistake."""
    dev = device.strip().lower()
    if dev not in DEVICES:
        raise ConvtError(
            f"--device {device!r} is not a device convt knows; use auto, cpu, cuda or meta",
            zh=f"--device {device!r} 不是可用的设备；请用 auto、cpu、cuda 或 meta",
        )
    dt = dtype.strip().lower()
    if dt not in DTYPES:
        raise ConvtError(
            f"--dtype {dtype!r} is not supported; use float32, float16 or bfloat16",
            zh=f"--dtype {dtype!r} 不受支持；请用 float32、float16 或 bfloat16",
        )
    if shape is not None and preset is not None:
        raise ConvtError(
            f"give --shape or --preset, not both (got --shape {shape!r} and --preset {preset!r})",
            zh=f"--shape 与 --preset 只能选一个（收到 --shape {shape!r} 和 --preset {preset!r}）",
        )
    if preset is not None:
        key = preset.strip().lower()
        if key not in PRESETS:
            raise ConvtError(
                f"--preset {preset!r} is not known; use sam3 (1×1024×72×72) or explainer (1×1280×64×64)",
                zh=f"未知的 --preset {preset!r}；请用 sam3（1×1024×72×72）或 explainer（1×1280×64×64）",
            )
        dims, source, preset_name = PRESETS[key], "preset", key
    elif shape is not None:
        dims, source, preset_name = _parse_shape(shape), "shape", None
    else:
        dims, source, preset_name = PRESETS[DEFAULT_PRESET], "default", DEFAULT_PRESET
    if isinstance(d_model, bool) or not isinstance(d_model, int) or d_model < 1:
        raise ConvtError(
            f"--d-model {d_model} must be at least 1 (the neck's output channels; SAM 3 uses 256)",
            zh=f"--d-model {d_model} 至少为 1（neck 的输出通道数；SAM 3 用 256）",
        )
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**63:
        raise ConvtError(
            f"--seed {seed} must be a whole number from 0 to 2**63 - 1",
            zh=f"--seed {seed} 必须是 0 到 2**63 - 1 之间的整数",
        )
    scale_values = parse_scales(scales)
    n, c, h, w = dims
    for scale in sorted(set(scale_values), reverse=True):
        need = {4.0: 4, 2.0: 2}.get(scale, 1)
        if c < need:
            raise ConvtError(
                f"scale {_fmt_scale(scale)} needs at least {need} input channels (its first transposed "
                f"convolution has dim // {need} = {c // need} output channels); the input has {c}",
                zh=f"缩放倍数 {_fmt_scale(scale)} 至少需要 {need} 个输入通道（dim // {need} = {c // need}）；"
                f"输入只有 {c} 个",
            )
        if scale == 0.5 and (h < 2 or w < 2):
            raise ConvtError(
                f"scale 0.5 halves the map with MaxPool2d(k=2, s=2), which needs a height and width of at "
                f"least 2; the input is {h}×{w}",
                zh=f"缩放倍数 0.5 用 MaxPool2d(k=2, s=2) 减半，高和宽至少为 2；输入为 {h}×{w}",
            )
    if verify and dev == "meta":
        raise ConvtError(
            "--verify needs real values, but --device meta computes shapes only; use --device cpu or cuda",
            zh="--verify 需要真实数值，而 --device meta 只计算形状；请用 --device cpu 或 cuda",
        )
    return NeckConfig(
        shape=dims, source=source, preset=preset_name, d_model=d_model, scales=scale_values,
        dual=dual, seed=seed, device=dev, dtype=dt,
    )


def _parse_shape(text: str) -> tuple[int, int, int, int]:
    sizes = parse_size_list(text, "--shape", min_value=1)
    if len(sizes) != 4:
        raise ConvtError(
            f"--shape {text!r} has {len(sizes)} sizes; the neck takes a 4-d feature map N×C×H×W, "
            "e.g. 1x1280x64x64",
            zh=f"--shape {text!r} 有 {len(sizes)} 个尺寸；neck 需要 4 维特征图 N×C×H×W，例如 1x1280x64x64",
        )
    return sizes  # type: ignore[return-value]


# --------------------------------------------------------------------------------------------
# The plan: every layer from the formulas alone (pure)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LayerSpec:
    """One layer as upstream builds it, and what the formulas say it does."""

    name: str  # upstream's module name, e.g. dconv_2x2_0
    kind: str  # ConvTranspose2d, GELU, Conv2d or MaxPool2d
    in_channels: int
    out_channels: int
    kernel: int = 1
    stride: int = 1
    padding: int = 0

    @property
    def op(self) -> str:
        """``ConvTranspose2d(1280→640, k=2, s=2)`` and so on."""
        if self.kind == "GELU":
            return "GELU()"
        if self.kind == "MaxPool2d":
            return f"MaxPool2d(k={self.kernel}, s={self.stride})"
        extra = f", s={self.stride}" if self.stride != 1 else ""
        extra += f", p={self.padding}" if self.padding else ""
        return f"{self.kind}({self.in_channels}→{self.out_channels}, k={self.kernel}{extra})"

    def predict(self, in_shape: tuple[int, ...]) -> tuple[int, ...]:
        """Output shape from the formulas (FACTS.md §1 for the transposed convolutions)."""
        n, _, h, w = in_shape
        if self.kind == "GELU":
            return tuple(in_shape)
        if self.kind == "ConvTranspose2d":
            params = ConvTransposeParams.make(2, stride=self.stride, padding=self.padding)
            oh, ow = output_shape((h, w), (self.kernel, self.kernel), params)
            return (n, self.out_channels, oh, ow)
        # Conv2d and MaxPool2d (dilation 1, floor mode): (in + 2p - k) // s + 1
        oh = (h + 2 * self.padding - self.kernel) // self.stride + 1
        ow = (w + 2 * self.padding - self.kernel) // self.stride + 1
        return (n, self.out_channels, oh, ow)

    @property
    def params(self) -> int:
        if self.kind in ("ConvTranspose2d", "Conv2d"):
            return self.in_channels * self.out_channels * self.kernel * self.kernel + self.out_channels
        return 0

    def flops(self, in_shape: tuple[int, ...], out_shape: tuple[int, ...]) -> int:
        """2 × multiply-accumulates, FlopCounterMode's convention (bias adds and elementwise ops: 0).

        A transposed convolution does every input cell × the whole kernel: 2·N·C_in·C_out·k²·H_in·W_in;
        a convolution every output cell × the whole kernel: 2·N·C_out·C_in·k²·H_out·W_out.
        """
        macs_per_cell = self.in_channels * self.out_channels * self.kernel * self.kernel
        if self.kind == "ConvTranspose2d":
            return 2 * in_shape[0] * macs_per_cell * in_shape[2] * in_shape[3]
        if self.kind == "Conv2d":
            return 2 * out_shape[0] * macs_per_cell * out_shape[2] * out_shape[3]
        return 0

    @property
    def fan_in(self) -> tuple[int, int] | None:
        """Contributions per output cell per input channel (min, max); transposed convolutions only."""
        if self.kind != "ConvTranspose2d":
            return None
        verdict = overlap_verdict((self.kernel,) * 2, (self.stride,) * 2, (1, 1))
        return verdict.per_cell


def branch_specs(scale: float, dim: int, d_model: int) -> list[LayerSpec]:
    """The layers of one branch, in upstream's order (``Sam3DualViTDetNeck.__init__``)."""
    layers: list[LayerSpec] = []
    if scale == 4.0:
        layers += [
            LayerSpec("dconv_2x2_0", "ConvTranspose2d", dim, dim // 2, kernel=2, stride=2),
            LayerSpec("gelu", "GELU", dim // 2, dim // 2),
            LayerSpec("dconv_2x2_1", "ConvTranspose2d", dim // 2, dim // 4, kernel=2, stride=2),
        ]
        out_dim = dim // 4
    elif scale == 2.0:
        layers.append(LayerSpec("dconv_2x2", "ConvTranspose2d", dim, dim // 2, kernel=2, stride=2))
        out_dim = dim // 2
    elif scale == 1.0:
        out_dim = dim
    elif scale == 0.5:
        layers.append(LayerSpec("maxpool_2x2", "MaxPool2d", dim, dim, kernel=2, stride=2))
        out_dim = dim
    else:  # make_config refuses these first
        raise ConvtError(f"scale {scale} is not supported")
    layers += [
        LayerSpec("conv_1x1", "Conv2d", out_dim, d_model, kernel=1),
        LayerSpec("conv_3x3", "Conv2d", d_model, d_model, kernel=3, padding=1),
    ]
    return layers


@dataclass(frozen=True)
class PlannedLayer:
    path: str  # e.g. convs.0.dconv_2x2_0
    spec: LayerSpec
    in_shape: tuple[int, ...]
    out_shape: tuple[int, ...]
    params: int
    flops: int
    out_bytes: int


@dataclass(frozen=True)
class PlannedBranch:
    group: str  # convs (SAM 3) or sam2_convs (the SAM 2 twin)
    index: int
    scale: float
    layers: tuple[PlannedLayer, ...]

    @property
    def name(self) -> str:
        return f"{self.group}.{self.index}"


@dataclass(frozen=True)
class MemoryEstimate:
    """Peak bytes of a layer-by-layer run, estimated before it starts.

    Each branch runs from the input; a layer's input is released once the next layer has run. So the
    device holds the weights, the input, and one layer's input + output + an output-sized workspace
    (the kernels' column buffers), times ``HEADROOM`` for the allocator's caching and fragmentation.
    """

    weights_bytes: int
    input_bytes: int
    largest_step_bytes: int  # the largest layer's input + output + workspace
    device_bytes: int  # (weights + input + largest step) × HEADROOM
    staging_bytes: int  # the float32 weights and input drawn on the CPU before moving/casting
    verify_bytes: int  # --verify's float64 copies and engine buffers (host)


@dataclass(frozen=True)
class NeckPlan:
    config: NeckConfig
    branches: tuple[PlannedBranch, ...]
    memory: MemoryEstimate

    @property
    def layers(self) -> list[PlannedLayer]:
        return [layer for branch in self.branches for layer in branch.layers]


def _numel(shape: tuple[int, ...]) -> int:
    return math.prod(shape)


def plan_neck(config: NeckConfig, verify: bool = False) -> NeckPlan:
    """Every branch and layer from the formulas, in upstream's run order (SAM 3 then SAM 2 per scale)."""
    item = ITEMSIZE[config.dtype]
    if _numel(config.shape) >= MAX_NUMEL:
        raise ConvtError(
            f"the input {_shape_text(config.shape)} has more than 2**62 elements, more than torch can index "
            "even on the meta device; use a smaller --shape",
            zh=f"输入 {_shape_text(config.shape)} 超过 2**62 个元素；请用更小的 --shape",
        )
    groups = ("convs", "sam2_convs") if config.dual else ("convs",)
    branches = []
    for index, scale in enumerate(config.scales):
        specs = branch_specs(scale, config.dim, config.d_model)
        for group in groups:
            shape = config.shape
            layers = []
            for spec in specs:
                out = spec.predict(shape)
                if _numel(out) >= MAX_NUMEL:
                    raise ConvtError(
                        f"the {spec.name} output {_shape_text(out)} would have more than 2**62 elements, "
                        "more than torch can index even on the meta device; use a smaller --shape",
                        zh=f"{spec.name} 的输出 {_shape_text(out)} 超过 2**62 个元素；请用更小的 --shape",
                    )
                layers.append(PlannedLayer(
                    path=f"{group}.{index}.{spec.name}", spec=spec, in_shape=shape, out_shape=out,
                    params=spec.params, flops=spec.flops(shape, out), out_bytes=_numel(out) * item,
                ))
                shape = out
            branches.append(PlannedBranch(group, index, scale, tuple(layers)))
    all_layers = [layer for b in branches for layer in b.layers]
    weights = sum(layer.params for layer in all_layers) * item
    input_bytes = _numel(config.shape) * item
    largest = max((_numel(la.in_shape) * item + 2 * la.out_bytes for la in all_layers), default=0)
    verify_bytes = 0
    if verify:
        for la in all_layers:
            if la.spec.kind == "ConvTranspose2d":
                # float64: x, |x|, w, |w|, the result in float64, and the engine's canvas/product/output
                # for both calls (reference and magnitude), plus the difference.
                xin, xout = _numel(la.in_shape), _numel(la.out_shape)
                wn = la.params
                verify_bytes = max(verify_bytes, 8 * (2 * xin + 2 * wn + xout * (1 + 2 * 3 + 2)))
    staging = (sum(layer.params for layer in all_layers) + _numel(config.shape)) * 4
    memory = MemoryEstimate(
        weights_bytes=weights, input_bytes=input_bytes, largest_step_bytes=largest,
        device_bytes=math.ceil((weights + input_bytes + largest) * HEADROOM), staging_bytes=staging,
        verify_bytes=verify_bytes,
    )
    return NeckPlan(config, tuple(branches), memory)


# --------------------------------------------------------------------------------------------
# The module (torch, lazily)
# --------------------------------------------------------------------------------------------


def build_neck(dim: int, d_model: int = 256, scales: tuple[float, ...] = SUPPORTED_SCALES, dual: bool = False,
               device: str = "cpu"):
    """The neck's convolution branches as upstream's ``Sam3DualViTDetNeck`` builds them (no trunk).

    Returns an ``nn.Module`` with ``convs`` (an ``nn.ModuleList`` of ``nn.Sequential``, one per scale,
    with upstream's module names) and ``sam2_convs`` (``None``, or with ``dual`` the twin set).
    Upstream makes the twin with ``deepcopy``; a trained checkpoint then loads separate weights
    into it, so here the twin is re-initialised to hold its own random weights.
    """
    from copy import deepcopy

    import torch.nn as nn

    class ViTDetNeckConvs(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.scale_factors = tuple(scales)
            self.convs = nn.ModuleList()
            for scale in scales:
                current = nn.Sequential()
                for spec in branch_specs(scale, dim, d_model):
                    current.add_module(spec.name, _torch_layer(nn, spec, device))
                self.convs.append(current)
            self.sam2_convs = None
            if dual:
                self.sam2_convs = deepcopy(self.convs)
                for module in self.sam2_convs.modules():
                    if hasattr(module, "reset_parameters") and device != "meta":
                        module.reset_parameters()

        def forward(self, x):
            sam3_out = [branch(x) for branch in self.convs]
            sam2_out = None if self.sam2_convs is None else [branch(x) for branch in self.sam2_convs]
            return sam3_out, sam2_out

    return ViTDetNeckConvs()


def _torch_layer(nn, spec: LayerSpec, device: str):
    if spec.kind == "ConvTranspose2d":
        return nn.ConvTranspose2d(spec.in_channels, spec.out_channels, kernel_size=spec.kernel,
                                  stride=spec.stride, device=device)
    if spec.kind == "GELU":
        return nn.GELU()
    if spec.kind == "MaxPool2d":
        return nn.MaxPool2d(kernel_size=spec.kernel, stride=spec.stride)
    return nn.Conv2d(spec.in_channels, spec.out_channels, kernel_size=spec.kernel, padding=spec.padding,
                     bias=True, device=device)


def _branches_in_order(neck) -> list[tuple[str, int, object]]:
    """(group, index, nn.Sequential) in upstream's forward order: convs[i], then sam2_convs[i]."""
    out = []
    for i, branch in enumerate(neck.convs):
        out.append(("convs", i, branch))
        if neck.sam2_convs is not None:
            out.append(("sam2_convs", i, neck.sam2_convs[i]))
    return out


def count_flops(config: NeckConfig) -> dict[str, int]:
    """FlopCounterMode's count per layer path, run on the meta device (no memory, no time)."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    neck = build_neck(config.dim, config.d_model, config.scales, config.dual, device="meta")
    neck = neck.to(getattr(torch, config.dtype))
    counts: dict[str, int] = {}
    x0 = torch.empty(config.shape, device="meta", dtype=getattr(torch, config.dtype))
    with torch.no_grad():
        for group, index, branch in _branches_in_order(neck):
            x = x0
            for name, layer in branch.named_children():
                # layer.forward, not layer(...): skips the module hooks FlopCounterMode installs to attribute
                # FLOPs to modules; we attribute them per layer ourselves.
                with FlopCounterMode(display=False) as counter:
                    x = layer.forward(x)
                counts[f"{group}.{index}.{name}"] = int(counter.get_total_flops())
    return counts


# --------------------------------------------------------------------------------------------
# The trace (torch, lazily)
# --------------------------------------------------------------------------------------------


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

    def to_dict(self) -> dict:
        """The JSON report (docs/neck-json.md)."""
        cfg = self.config
        return {
            "schema": SCHEMA,
            "input": {"shape": list(cfg.shape), "source": cfg.source, "preset": cfg.preset},
            "config": {
                "dim": cfg.dim, "d_model": cfg.d_model, "scales": list(cfg.scales), "dual": cfg.dual,
                "seed": cfg.seed, "device_requested": cfg.device,
            },
            "device": self.device, "device_name": self.device_name, "dtype": self.dtype,
            "torch_version": self.torch_version, "timer": self.timer,
            "memory": {**asdict(self.memory), "budget_bytes": self.memory_budget},
            "branches": [
                {
                    "name": b.name, "group": b.group, "index": b.index, "scale": b.scale,
                    "in_shape": b.in_shape, "out_shape": b.out_shape, "complete": b.complete,
                    "layers": [_layer_dict(layer) for layer in b.layers],
                    "totals": {"params": b.params, "flops": b.flops, "time_ms": b.time_ms},
                }
                for b in self.branches
            ],
            "totals": {
                "params": self.params, "flops": self.flops, "flops_counted": self.flops_counted,
                "time_ms": self.time_ms, "layers": self.total_layers, "completed_layers": self.completed_layers,
            },
            "checks": {"shapes_ok": self.shapes_ok, "flops_ok": self.flops_ok, "verify_ok": self.verify_ok},
            "interrupted": self.interrupted,
            "notes": list(self.notes),
        }


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


ProgressFn = Callable[[int, int, str], None]


def resolve_device(torch, requested: str, dtype: str = "float32") -> str:
    """auto → cuda when a GPU is usable, else cpu; cuda without a GPU is a clear error."""
    if requested == "auto":
        requested = "cuda" if torch.cuda.is_available() else "cpu"
    if requested == "cuda" and not torch.cuda.is_available():
        built = torch.version.cuda is not None
        why = "no CUDA GPU is visible" if built else "this PyTorch build has no CUDA support"
        why_zh = "没有可用的 CUDA GPU" if built else "此 PyTorch 未编译 CUDA 支持"
        raise ConvtError(
            f"--device cuda: {why} (torch {torch.__version__}); use --device cpu, or --device meta for shapes only",
            zh=f"--device cuda：{why_zh}（torch {torch.__version__}）；请用 --device cpu，或用 --device meta 只看形状",
        )
    if requested == "cuda" and dtype == "bfloat16" and not torch.cuda.is_bf16_supported():
        raise ConvtError(
            f"--dtype bfloat16: this GPU ({torch.cuda.get_device_name()}) does not support bfloat16; "
            "use float16 or float32",
            zh=f"--dtype bfloat16：此 GPU（{torch.cuda.get_device_name()}）不支持 bfloat16；请用 float16 或 float32",
        )
    return requested


def check_memory(plan: NeckPlan, device: str, torch=None) -> int | None:
    """Refuse before running when the estimate exceeds what the device can give; returns the budget."""
    if device == "meta":
        return None
    mem = plan.memory
    host_budget = max_bytes()
    shape = _shape_text(plan.config.shape)
    advice = "use --device meta to see shapes, parameters and FLOPs without memory, or a smaller --shape"
    advice_zh = "请用 --device meta（只算形状、参数和 FLOPs，不占内存）或更小的 --shape"
    if device == "cuda":
        free, _total = torch.cuda.mem_get_info()
        budget = int(free * CUDA_FREE_SHARE)
        if mem.device_bytes > budget:
            raise ConvtError(
                f"running the neck on {shape} would need about {human_bytes(mem.device_bytes)} of GPU memory, "
                f"more than {human_bytes(budget)} ({int(CUDA_FREE_SHARE * 100)}% of the GPU's free memory); "
                + advice,
                zh=f"在 {shape} 上运行 neck 约需 {human_bytes(mem.device_bytes)} 显存，超过 {human_bytes(budget)}；"
                + advice_zh,
            )
        needed_host, label = mem.staging_bytes + mem.verify_bytes, "host memory"
    else:
        budget = host_budget
        # float32 weights are moved with .to() without a copy; other dtypes keep the float32 originals
        staging = 0 if plan.config.dtype == "float32" else mem.staging_bytes
        needed_host, label = mem.device_bytes + staging + mem.verify_bytes, "memory"
    if needed_host > host_budget:
        raise ConvtError(
            f"running the neck on {shape} would need about {human_bytes(needed_host)} of {label}"
            f"{' (with --verify)' if mem.verify_bytes else ''}, more than the budget of "
            f"{human_bytes(host_budget)} (half the available RAM, or CONVT_MAX_BYTES); " + advice,
            zh=f"在 {shape} 上运行 neck 约需 {human_bytes(needed_host)} 内存，超过预算 {human_bytes(host_budget)}；"
            + advice_zh,
        )
    return budget


def _tolerance(torch, device: str, dtype: str) -> tuple[float, float, str]:
    rtol, atol = TOLERANCES[dtype]
    if device == "cuda" and dtype == "float32" and torch.backends.cudnn.allow_tf32:
        return (*TF32_TOLERANCE, "float32 (TF32 on cuDNN)")
    return rtol, atol, dtype


def verify_layer(torch, layer, x, y, device: str, dtype: str) -> VerifyRecord:
    """``y = layer(x)`` against the NumPy engine in float64 on the same (already rounded) values.

    Tolerance: ``|Δ| ≤ atol + rtol·m`` per cell with assert_close's (rtol, atol) for the dtype and
    ``m = conv_transpose(|x|, |w|) + |b|`` — the magnitude the sum was accumulated from. It grows with
    the reduction length C_in·k² and, unlike ``|result|``, is not fooled by cancellation.
    """
    import numpy as np

    from .engine import conv_transpose

    def host(t):
        return t.detach().to(device="cpu", dtype=torch.float64).numpy()

    xa, wa = host(x), host(layer.weight)
    ba = None if layer.bias is None else host(layer.bias)
    kwargs = dict(stride=layer.stride, padding=layer.padding, output_padding=layer.output_padding,
                  dilation=layer.dilation, groups=layer.groups)
    ref = conv_transpose(xa, wa, ba, **kwargs)
    mag = conv_transpose(np.abs(xa), np.abs(wa), None if ba is None else np.abs(ba), **kwargs)
    got = host(y)
    rtol, atol, label = _tolerance(torch, device, dtype)
    diff = np.abs(got - ref)
    bound = atol + rtol * mag
    finite = bool(np.isfinite(got).all())
    ratio = float((diff / bound).max()) if finite else math.inf
    return VerifyRecord(
        max_abs_diff=float(diff.max()) if finite else math.inf, max_abs_ref=float(np.abs(ref).max()),
        rtol=rtol, atol=atol, worst_ratio=ratio, ok=finite and ratio <= 1.0, tolerance=label,
    )


def trace_neck(config: NeckConfig, *, verify: bool = False, progress: ProgressFn | None = None,
               plan: NeckPlan | None = None) -> NeckTrace:
    """Build the neck, check memory, run it layer by layer and record every layer.

    ``progress(done, total, path)`` is called before each layer (``path`` about to run) and once at
    the end (``path`` empty). Ctrl-C (KeyboardInterrupt) during the run stops it: the trace returned
    holds what completed and ``interrupted=True``.
    """
    from .reference import torch_module

    torch = torch_module()
    device = resolve_device(torch, config.device, config.dtype)
    plan = plan or plan_neck(config, verify=verify)
    budget = check_memory(plan, device, torch)
    tdtype = getattr(torch, config.dtype)
    counted = _with_dynamo_stand_in(lambda: count_flops(config))

    if device == "meta":
        neck = build_neck(config.dim, config.d_model, config.scales, config.dual, device="meta").to(tdtype)
        x0 = torch.empty(config.shape, device="meta", dtype=tdtype)
    else:
        # Built and drawn on the CPU in float32 so that a seed gives the same numbers on every device;
        # the caller's global RNG state is left as it was.
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(config.seed)
            neck = build_neck(config.dim, config.d_model, config.scales, config.dual, device="cpu")
        gen = torch.Generator().manual_seed(config.seed)
        x0 = torch.randn(config.shape, generator=gen).to(device=device, dtype=tdtype)
        neck = neck.to(device=device, dtype=tdtype)
    neck.eval()

    if device == "cuda":
        device_name = torch.cuda.get_device_name(torch.cuda.current_device())
        timer = "cuda_events"
    elif device == "cpu":
        device_name = f"CPU ({torch.get_num_threads()} threads)"
        timer = "perf_counter"
    else:
        device_name = "shapes only, no memory"
        timer = "none"

    notes = []
    if config.source == "default":
        notes.append("default")
    if device != "meta":
        notes.append(f"{device}_warmup")

    planned = {pb.name: pb for pb in plan.branches}
    total = len(plan.layers)

    def run_all() -> tuple[list[BranchRecord], int, bool]:
        records: list[BranchRecord] = []
        done = 0
        events: list = []  # (record, start, end) CUDA events not yet read
        try:
            for group, index, branch in _branches_in_order(neck):
                pb = planned[f"{group}.{index}"]
                record = BranchRecord(
                    name=pb.name, group=group, index=index, scale=pb.scale, in_shape=list(config.shape),
                    out_shape=None, layers=[], complete=False,
                )
                records.append(record)
                x = x0
                for (name, layer), pl in zip(branch.named_children(), pb.layers):
                    if progress is not None:
                        progress(done, total, pl.path)
                    start = end = None
                    if device == "cuda":
                        start = torch.cuda.Event(enable_timing=True)
                        end = torch.cuda.Event(enable_timing=True)
                        start.record()
                        y = layer(x)
                        end.record()
                        elapsed = None
                    elif device == "cpu":
                        t0 = time.perf_counter()
                        y = layer(x)
                        elapsed = (time.perf_counter() - t0) * 1000.0
                    else:
                        y = layer(x)
                        elapsed = None
                    out_shape = list(y.shape)
                    lr = LayerRecord(
                        path=pl.path, branch=pb.name, name=name, kind=type(layer).__name__, op=pl.spec.op,
                        in_shape=list(x.shape), out_shape=out_shape, predicted_shape=list(pl.out_shape),
                        shape_ok=out_shape == list(pl.out_shape),
                        params=sum(p.numel() for p in layer.parameters()), params_predicted=pl.params,
                        flops=pl.flops, flops_counted=counted.get(pl.path),
                        out_bytes=y.numel() * y.element_size(), time_ms=elapsed,
                        fan_in=None if pl.spec.fan_in is None else list(pl.spec.fan_in),
                    )
                    if verify and isinstance(layer, torch.nn.ConvTranspose2d):
                        lr.verify = verify_layer(torch, layer, x, y, device, config.dtype)
                    record.layers.append(lr)
                    if start is not None:
                        events.append((lr, start, end))
                    done += 1
                    x = y
                _read_cuda_times(torch, events)
                record.out_shape = list(x.shape)
                record.complete = True
                del x
            if progress is not None:
                progress(done, total, "")
        except KeyboardInterrupt:
            _read_cuda_times(torch, events)
            return records, done, True
        return records, done, False

    with torch.no_grad():
        if device == "meta":
            records, done, interrupted = _with_dynamo_stand_in(run_all)
        else:
            _warm_up(torch, neck, x0, device)
            records, done, interrupted = run_all()

    return NeckTrace(
        config=config, device=device, device_name=device_name, dtype=config.dtype,
        torch_version=str(torch.__version__), timer=timer, memory=plan.memory, memory_budget=budget,
        branches=records, total_layers=total, completed_layers=done, interrupted=interrupted,
        verified=verify and device != "meta", notes=notes,
    )


@contextmanager
def _dynamo_stand_in():
    """A stand-in for ``torch._dynamo`` while the Python-level meta kernels and FlopCounterMode run.

    torch marks some Python functions "do not compile" with ``torch._disable_dynamo`` — the meta
    kernels of GELU and max-pool, every TorchDispatchMode's dispatch (FlopCounterMode's too). The
    mark is made lazily: the first call imports torch._dynamo (about 1 s, a third of a meta run) only
    to wrap the function, and caches the result. convt never runs torch.compile, so the stand-in's
    ``disable`` returns the function unchanged. It is removed on exit; a later real
    ``import torch._dynamo`` works as usual.
    """
    import sys
    import types

    import torch

    if "torch._dynamo" in sys.modules:
        yield
        return
    stub = types.ModuleType("torch._dynamo")
    stub.disable = lambda fn=None, recursive=True, wrapping=True, **_: fn  # type: ignore[attr-defined]
    sys.modules["torch._dynamo"] = stub
    try:
        yield
    finally:
        if sys.modules.get("torch._dynamo") is stub:
            del sys.modules["torch._dynamo"]
        if torch.__dict__.get("_dynamo") is stub:
            delattr(torch, "_dynamo")


def _with_dynamo_stand_in(fn):
    """``fn()`` under :func:`_dynamo_stand_in`; should the stand-in not fit this torch, ``fn()`` without it."""
    try:
        with _dynamo_stand_in():
            return fn()
    except ConvtError:
        raise
    except Exception:  # noqa: BLE001 - retried without the stand-in; a real error raises again there
        return fn()


def _warm_up(torch, neck, x0, device: str) -> None:
    """One untimed pass so the timed one does not pay for lazy initialisation.

    On CUDA the full input runs through each branch (cheap there; outputs are dropped branch by
    branch, so the memory estimate still holds). On the CPU a 2×2 crop of the input is enough to
    load the kernels and start the threads without doubling the run.
    """
    x = x0 if device == "cuda" else x0[..., :2, :2]
    for _group, _index, branch in _branches_in_order(neck):
        branch(x)
    if device == "cuda":
        torch.cuda.synchronize()


def _read_cuda_times(torch, events: list) -> None:
    """Wait for the GPU, then give each recorded layer its CUDA-event time (milliseconds)."""
    if not events:
        return
    torch.cuda.synchronize()
    for record, start, end in events:
        record.time_ms = float(start.elapsed_time(end))
    events.clear()
