"""The SAM 3 neck's options, checked before torch is imported (pure)."""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import ConvtError
from ..parsing import parse_number, parse_size_list

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
    source: str  # "shape", "preset" or "default"
    preset: str | None
    d_model: int
    scales: tuple[float, ...]
    dual: bool
    seed: int
    device: str  # as requested: auto, cpu, cuda or meta
    dtype: str
    scalp: int = 0  # levels dropped downstream, lowest resolution first (upstream's SAM3VLBackbone: 1)

    @property
    def dropped_levels(self) -> tuple[int, ...]:
        """Branch indices computed but thrown away downstream: the last ``scalp`` scales."""
        return tuple(range(len(self.scales) - self.scalp, len(self.scales))) if self.scalp else ()

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
    dual: bool | None = None,
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
    # The shipped SAM 3 (upstream's model_builder) always builds the dual neck and drops the last
    # level downstream (SAM3VLBackbone(scalp=1)); --preset sam3 follows it, --no-dual opts out.
    sam3 = preset_name == "sam3" and source == "preset"
    return NeckConfig(
        shape=dims, source=source, preset=preset_name, d_model=d_model, scales=scale_values,
        dual=sam3 if dual is None else bool(dual), seed=seed, device=dev, dtype=dt, scalp=1 if sam3 else 0,
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

