"""The neck's options, checked before torch is imported (pure); the presets are in :mod:`.presets`."""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import ConvtError
from ..parsing import parse_number, parse_size_list
from .presets import DEFAULT_PRESET, PRESETS, Preset, preset_names

SCHEMA = "convt.neck/2"
SUPPORTED_SCALES = (4.0, 2.0, 1.0, 0.5)
DEVICES = ("auto", "cpu", "cuda", "meta")
DTYPES = ("float32", "float16", "bfloat16")
ITEMSIZE = {"float32": 4, "float16": 2, "bfloat16": 2}
# torch.testing.assert_close defaults: (rtol, atol).
TOLERANCES = {"float32": (1.3e-6, 1e-5), "float16": (1e-3, 1e-5), "bfloat16": (1.6e-2, 1e-5)}
# cuDNN may run float32 convolutions in TF32 (10-bit mantissa, like float16): float16's rtol then.
TF32_TOLERANCE = (1e-3, 1e-5)
MAX_NUMEL = 2**62  # torch's sizes are int64
CUDA_FREE_SHARE = 0.9  # of the GPU's free memory
HEADROOM = 1.5  # allocator caching and fragmentation (measured: see the README's neck section)


@dataclass(frozen=True)
class NeckConfig:
    """What to build and where to run it, already checked."""

    shape: tuple[int, int, int, int]
    source: str  # "shape" (--shape given), "preset" (--preset alone) or "default"
    preset: str  # the structure: a key of PRESETS (default sam3)
    d_model: int
    scales: tuple[float, ...]
    heads: tuple[str, ...]  # convs; convs + sam2_convs; convs + interactive_convs + propagation_convs; …
    seed: int
    device: str  # as requested: auto, cpu, cuda or meta
    dtype: str
    scalp: int = 0  # levels dropped downstream, lowest resolution first (upstream's SAM3VLBackbone: 1)
    weights: str | None = None  # --weights: a checkpoint to load (checked to exist and be .pt/.pth/.safetensors)

    @property
    def spec(self) -> Preset:
        return PRESETS[self.preset]

    @property
    def family(self) -> str:
        return self.spec.family

    @property
    def dual(self) -> bool:
        """SAM 3's dual neck: the SAM 2 twin ``sam2_convs`` is built."""
        return "sam2_convs" in self.heads

    @property
    def dropped_levels(self) -> tuple[int, ...]:
        """Branch indices computed but thrown away downstream: the last ``scalp`` scales."""
        return tuple(range(len(self.scales) - self.scalp, len(self.scales))) if self.scalp else ()

    @property
    def dim(self) -> int:
        """The ViT's channels (upstream: ``trunk.channel_list[-1]``)."""
        return self.shape[1]

    @property
    def builder_heads(self) -> str:
        """The preset whose builder makes these heads (``--dual`` on sam3 is the video model's neck)."""
        if self.family == "sam3" and self.preset in ("sam3", "sam3-video"):
            return "sam3-video" if self.dual else "sam3"
        return self.preset


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
    scales: str | None = None,
    dual: bool | None = None,
    seed: int = 0,
    device: str = "auto",
    dtype: str = "float32",
    verify: bool = False,
    scalp: int | None = None,
    weights: str | None = None,
) -> NeckConfig:
    """Check every choice before torch is imported; one :class:`ConvtError` per mistake.

    ``preset`` picks the structure (default ``sam3``, the image model); ``shape`` replaces its input.
    """
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
    key = DEFAULT_PRESET if preset is None else preset.strip().lower()
    if key not in PRESETS:
        raise ConvtError(
            f"--preset {preset!r} is not known; use {preset_names()} (the explainer's 1×1280×64×64 is "
            "--shape 1x1280x64x64)",
            zh=f"未知的 --preset {preset!r}；请用 {preset_names()}"
            "（讲解文中的 1×1280×64×64 请用 --shape 1x1280x64x64）",
        )
    spec = PRESETS[key]
    if shape is not None:
        dims, source = _parse_shape(shape), "shape"
    else:
        dims, source = spec.shape, ("default" if preset is None else "preset")
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
    heads = _heads(spec, dual)
    scale_values = _scales(spec, scales)
    n, c, h, w = dims
    if spec.family == "mask_decoder":
        if c < 8:
            raise ConvtError(
                f"the mask decoder's upscaling needs at least 8 input channels (ConvTranspose2d to C // 4, then "
                f"C // 8); the input has {c}",
                zh=f"mask decoder 的上采样至少需要 8 个输入通道（先到 C // 4，再到 C // 8）；输入只有 {c} 个",
            )
    for scale in sorted(set(scale_values), reverse=True) if spec.family != "mask_decoder" else ():
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
    if weights is not None:
        from ..audit import check_weights_path

        check_weights_path(weights)
    return NeckConfig(
        shape=dims, source=source, preset=key, d_model=d_model, scales=scale_values, heads=heads, seed=seed,
        device=dev, dtype=dt, scalp=_scalp(spec, scale_values, scalp), weights=weights,
    )


def _heads(spec: Preset, dual: bool | None) -> tuple[str, ...]:
    """The preset's heads; ``--dual``/``--no-dual`` switch SAM 3's image model and video model necks."""
    if dual is None:
        return spec.heads
    if spec.name not in ("sam3", "sam3-video"):
        raise ConvtError(
            f"--dual/--no-dual choose between SAM 3's single neck (image model) and dual neck (video model); "
            f"--preset {spec.name} builds {len(spec.heads)} fixed head(s): {', '.join(spec.heads)}",
            zh=f"--dual/--no-dual 只在 SAM 3 的单 neck（图像模型）与双 neck（视频模型）之间选择；"
            f"--preset {spec.name} 的分支组是固定的：{', '.join(spec.heads)}",
        )
    return ("convs", "sam2_convs") if dual else ("convs",)


def _scales(spec: Preset, text: str | None) -> tuple[float, ...]:
    if text is None:
        return spec.scales
    if spec.family == "mask_decoder":
        raise ConvtError(
            "--scales chooses the neck's pyramid levels; the mask decoder's upscaling is one fixed ×4 branch",
            zh="--scales 选择 neck 的金字塔层级；mask decoder 的上采样是固定的一个 ×4 分支",
        )
    values = parse_scales(text)
    if spec.family == "vitdet" and any(a != 2 * b for a, b in zip(values, values[1:])):
        raise ConvtError(
            f"--scales {text!r}: detectron2's SimpleFeaturePyramid needs each scale half the one before "
            "(its strides must be log2-contiguous), e.g. 4,2,1,0.5 or 2,1",
            zh=f"--scales {text!r}：detectron2 的 SimpleFeaturePyramid 要求每个缩放倍数是前一个的一半，例如 4,2,1,0.5",
        )
    return values


def _scalp(spec: Preset, scales: tuple[float, ...], scalp: int | None) -> int:
    """Upstream's ``scalp`` drops the last ``scalp`` levels. By default convt applies the preset's value
    while it drops the 0.5 level it was written for; ``--scalp`` applies any value literally."""
    if scalp is None:
        if spec.scalp and scales[-1] == 0.5 and len(scales) > spec.scalp:
            return spec.scalp
        return 0
    if isinstance(scalp, bool) or not isinstance(scalp, int) or not 0 <= scalp < len(scales):
        raise ConvtError(
            f"--scalp {scalp} must be from 0 to {len(scales) - 1}: it drops that many of the {len(scales)} "
            "levels, lowest resolution first, and at least one must stay",
            zh=f"--scalp {scalp} 必须在 0 到 {len(scales) - 1} 之间：丢弃最低分辨率的若干层，至少保留一层",
        )
    return scalp


def _parse_shape(text: str) -> tuple[int, int, int, int]:
    sizes = parse_size_list(text, "--shape", min_value=1)
    if len(sizes) != 4:
        raise ConvtError(
            f"--shape {text!r} has {len(sizes)} sizes; the neck takes a 4-d feature map N×C×H×W, "
            "e.g. 1x1280x64x64",
            zh=f"--shape {text!r} 有 {len(sizes)} 个尺寸；neck 需要 4 维特征图 N×C×H×W，例如 1x1280x64x64",
        )
    return sizes  # type: ignore[return-value]

