"""The plan: every layer of the neck from the formulas alone — shapes, parameters, FLOPs, memory (pure)."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from ..errors import ConvtError
from ..shapes import ConvTransposeParams, output_shape, overlap_verdict
from .config import HEADROOM, ITEMSIZE, MAX_NUMEL, NeckConfig, _shape_text
from .presets import POS_CHANNELS, POS_PRECOMPUTED


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
    bias: bool = True  # convolutions: a bias term (detectron2's SimpleFeaturePyramid drops it when it normalises)
    norm: bool = False  # Conv2d followed by its own LayerNorm child (detectron2's Conv2d(norm=...))

    @property
    def op(self) -> str:
        """``ConvTranspose2d(1280→640, k=2, s=2)`` and so on."""
        if self.kind == "GELU":
            return "GELU()"
        if self.kind == "LayerNorm2d":
            return f"LayerNorm2d({self.in_channels})"
        if self.kind == "MaxPool2d":
            return f"MaxPool2d(k={self.kernel}, s={self.stride})"
        extra = f", s={self.stride}" if self.stride != 1 else ""
        extra += f", p={self.padding}" if self.padding else ""
        extra += "" if self.bias else ", no bias"
        text = f"{self.kind}({self.in_channels}→{self.out_channels}, k={self.kernel}{extra})"
        return text + (f" + LayerNorm2d({self.out_channels})" if self.norm else "")

    def predict(self, in_shape: tuple[int, ...]) -> tuple[int, ...]:
        """Output shape from the formulas (PyTorch's size formula for the transposed convolutions)."""
        n, _, h, w = in_shape
        if self.kind in ("GELU", "LayerNorm2d"):
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
            weights = self.in_channels * self.out_channels * self.kernel * self.kernel
            return weights + self.out_channels * (int(self.bias) + 2 * int(self.norm))
        if self.kind == "LayerNorm2d":
            return 2 * self.in_channels  # weight and bias per channel
        return 0

    def flops(self, in_shape: tuple[int, ...], out_shape: tuple[int, ...]) -> int:
        """2 × multiply-accumulates, FlopCounterMode's convention (bias adds, norms and elementwise ops: 0).

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


def branch_specs(scale: float, dim: int, d_model: int, family: str = "sam3") -> list[LayerSpec]:
    """The layers of one branch, in upstream's order.

    ``sam3``: ``Sam3DualViTDetNeck`` / ``Sam3TriViTDetNeck`` (``neck_norm=None``): named modules, every conv
    with a bias, no norm. ``vitdet``: detectron2's ``SimpleFeaturePyramid(norm="LN")``: modules numbered
    0, 1, …, a LayerNorm between the two deconvolutions, the convolutions without bias and each followed
    by its own LayerNorm. ``mask_decoder``: ``MaskDecoder.output_upscaling`` (``scale`` is ignored).
    """
    if family == "mask_decoder":
        return [
            LayerSpec("0", "ConvTranspose2d", dim, dim // 4, kernel=2, stride=2),
            LayerSpec("1", "LayerNorm2d", dim // 4, dim // 4),
            LayerSpec("2", "GELU", dim // 4, dim // 4),
            LayerSpec("3", "ConvTranspose2d", dim // 4, dim // 8, kernel=2, stride=2),
            LayerSpec("4", "GELU", dim // 8, dim // 8),
        ]
    ln = family == "vitdet"
    layers: list[LayerSpec] = []
    if scale == 4.0:
        layers += [LayerSpec("dconv_2x2_0", "ConvTranspose2d", dim, dim // 2, kernel=2, stride=2)]
        if ln:
            layers.append(LayerSpec("norm", "LayerNorm2d", dim // 2, dim // 2))
        layers += [
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
        LayerSpec("conv_1x1", "Conv2d", out_dim, d_model, kernel=1, bias=not ln, norm=ln),
        LayerSpec("conv_3x3", "Conv2d", d_model, d_model, kernel=3, padding=1, bias=not ln, norm=ln),
    ]
    if ln:  # detectron2 builds a plain list: the modules are numbered
        layers = [replace(layer, name=str(i)) for i, layer in enumerate(layers)]
    return layers


def vitdet_stage(scale: float) -> int:
    """detectron2's stage number: log2 of the level's stride, the ViT's stride 16 divided by the scale."""
    return int(round(math.log2(16 / scale)))


def branch_names(config: NeckConfig) -> list[tuple[str, str, int, float]]:
    """(branch name, head, level index, scale) in upstream's forward order.

    SAM 3: for each level ``i``, ``convs.i`` then its copies (``sam2_convs.i`` …); detectron2:
    ``simfp_2`` … ``simfp_5``; the mask decoder: ``output_upscaling``.
    """
    if config.family == "mask_decoder":
        return [("output_upscaling", "output_upscaling", 0, config.scales[0])]
    if config.family == "vitdet":
        return [(f"simfp_{vitdet_stage(s)}", "simfp", i, s) for i, s in enumerate(config.scales)]
    return [(f"{head}.{i}", head, i, s) for i, s in enumerate(config.scales) for head in config.heads]


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
class PositionEncoding:
    """The 256-channel sine map SAM 3's neck computes for one level (``PositionEmbeddingSine``; not run here).

    ``cache``: ``precomputed`` (a size filled at construction: 252, 126, 63, 31), ``cached`` (an earlier
    level of the same size filled it during this forward: ``cached_by``), or ``miss`` (computed, then kept:
    ``cache_bytes`` stay allocated). Computed in float32 (``bytes``), then ``.to(dtype)``: ``cast_bytes``
    more when the neck runs in another dtype.
    """

    shape: tuple[int, ...]
    bytes: int
    cast_bytes: int
    cache: str
    cached_by: str | None
    cache_bytes: int


@dataclass(frozen=True)
class PlannedBranch:
    group: str  # the head: convs, sam2_convs, interactive_convs, propagation_convs, simfp, output_upscaling
    index: int
    scale: float
    layers: tuple[PlannedLayer, ...]
    name: str = ""  # convs.0, simfp_2, output_upscaling
    position: PositionEncoding | None = None


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
    position_bytes: int = 0  # upstream (not run here): every level's position encoding, float32 + any cast copy
    position_cache_bytes: int = 0  # upstream (not run here): the encoder's cache, precomputed and filled entries


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
    """Every branch and layer from the formulas, in upstream's run order (per level: each head in turn)."""
    item = ITEMSIZE[config.dtype]
    if _numel(config.shape) >= MAX_NUMEL:
        raise ConvtError(
            f"the input {_shape_text(config.shape)} has more than 2**62 elements, more than torch can index "
            "even on the meta device; use a smaller --shape",
            zh=f"输入 {_shape_text(config.shape)} 超过 2**62 个元素；请用更小的 --shape",
        )
    branches = []
    for name, head, index, scale in branch_names(config):
        specs = branch_specs(scale, config.dim, config.d_model, config.family)
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
                path=f"{name}.{spec.name}", spec=spec, in_shape=shape, out_shape=out,
                params=spec.params, flops=spec.flops(shape, out), out_bytes=_numel(out) * item,
            ))
            shape = out
        branches.append(PlannedBranch(head, index, scale, tuple(layers), name))
    if config.spec.position_encoding:
        branches = _with_position_encodings(branches, config)
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
    positions = [b.position for b in branches if b.position is not None]
    pre_cache = POS_CHANNELS * 4 * sum(h * w for h, w in POS_PRECOMPUTED) if positions else 0
    memory = MemoryEstimate(
        weights_bytes=weights, input_bytes=input_bytes, largest_step_bytes=largest,
        device_bytes=math.ceil((weights + input_bytes + largest) * HEADROOM), staging_bytes=staging,
        verify_bytes=verify_bytes, position_bytes=sum(p.bytes + p.cast_bytes for p in positions),
        position_cache_bytes=pre_cache + sum(p.cache_bytes for p in positions),
    )
    return NeckPlan(config, tuple(branches), memory)



def _with_position_encodings(branches: list[PlannedBranch], config: NeckConfig) -> list[PlannedBranch]:
    """Each level's sine map, in upstream's forward order, with the cache's hits and misses."""
    filled: dict[tuple[int, int], str] = {}
    out = []
    for b in branches:
        n, _, h, w = b.layers[-1].out_shape if b.layers else config.shape
        numel = n * POS_CHANNELS * h * w
        cast = 0 if config.dtype == "float32" else numel * ITEMSIZE[config.dtype]
        if (h, w) in POS_PRECOMPUTED:
            cache, by, kept = "precomputed", None, 0
        elif (h, w) in filled:
            cache, by, kept = "cached", filled[(h, w)], 0
        else:
            # the cache keeps pos[0], a view that holds the whole float32 batch alive
            cache, by, kept = "miss", None, numel * 4
            filled[(h, w)] = b.name
        pos = PositionEncoding((n, POS_CHANNELS, h, w), numel * 4, cast, cache, by, kept)
        out.append(replace(b, position=pos))
    return out
