"""The plan: every layer of the neck from the formulas alone — shapes, parameters, FLOPs, memory (pure)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..errors import ConvtError
from ..shapes import ConvTransposeParams, output_shape, overlap_verdict
from .config import HEADROOM, ITEMSIZE, MAX_NUMEL, NeckConfig, _shape_text


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
        """Output shape from the formulas (PyTorch's size formula for the transposed convolutions)."""
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

