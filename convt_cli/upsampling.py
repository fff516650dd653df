"""The records behind ``convt compare``: one input upsampled four ways, the cost of each method, and
the overlap maps that decide the checkerboard (docs/semantics.md §1 and §6).

Nearest and bilinear numbers come from ``torch.nn.functional.interpolate`` (torch is imported
lazily, inside :func:`interpolate`); the ConvTranspose numbers come from the NumPy engine and are
checked against ``torch.nn.functional.conv_transpose2d``. No printing here.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .engine import as_array, conv_transpose
from .errors import ConvtError
from .limits import check_bytes
from .reference import torch_conv_transpose, torch_module
from .shapes import ConvTransposeParams, OverlapVerdict, output_shape, overlap_verdict

DEFAULT_INPUT = np.arange(1, 17, dtype=np.int64).reshape(4, 4)  # the explainer's 4×4 grid 1..16
DEFAULT_KERNEL = np.array([[1, 0], [0, 1]], dtype=np.int64)  # the explainer's 2×2 kernel
DEFAULT_CHANNELS = (1280, 640)  # ViTDet-H's first pyramid upsampling: ConvTranspose2d(1280, 640, 2, 2)
DEFAULT_SIZE = (64, 64)
OVERLAP_CASES = ((3, 2), (4, 2), (2, 2))  # (k, s): Distill's checkerboard, its fix, the SAM 3 choice
OVERLAP_INPUT = 3  # the overlap maps scatter a 3×3 input of ones
RESIZE_CONV_KERNEL = 3  # resize-then-convolve: nearest, then Conv2d(c_in, c_out, 3, padding=1)
FLOAT64_RTOL = 1e-7  # torch.testing.assert_close defaults for float64 (docs/semantics.md §3)
FLOAT64_ATOL = 1e-7
BILINEAR_FLOPS_PER_VALUE = 7  # 4 multiplies + 3 adds per output value (weights precomputed)

METHODS = ("nearest", "bilinear", "bilinear_align_corners", "conv_transpose")


@dataclass(frozen=True)
class MethodOutput:
    method: str  # one of METHODS
    values: np.ndarray  # 2-d


@dataclass(frozen=True)
class TorchCheck:
    """The engine's ConvTranspose output against torch's, float64."""

    max_abs_diff: float
    agrees: bool  # within assert_close's float64 tolerance
    rtol: float
    atol: float


@dataclass(frozen=True)
class CostRow:
    """One method applied to a (1, C_in, H, W) feature map."""

    method: str  # METHODS, or "resize_conv"
    parameters: int
    parameters_formula: str
    flops: int  # 2 per multiply-add; bias adds not counted; nearest copies count 0
    flops_formula: str
    output_shape: tuple[int, ...]
    changes_channels: bool  # can the method change the channel count at all


@dataclass(frozen=True)
class OverlapMap:
    kernel: int
    stride: int
    counts: np.ndarray  # contributions per canvas cell for a 3×3 input of ones, k×k kernel of ones
    verdict: OverlapVerdict
    sam3: bool
    yours: bool  # the kernel size and scale of this comparison


@dataclass(frozen=True)
class CompareReport:
    input: np.ndarray
    kernel: np.ndarray
    scale: int
    padding: int
    output_padding: int
    outputs: tuple[MethodOutput, ...]
    torch_check: TorchCheck
    same_as_conv_transpose: tuple[str, ...]  # methods whose output equals the ConvTranspose output
    channels: tuple[int, int]
    size: tuple[int, int]
    costs: tuple[CostRow, ...]
    overlap_maps: tuple[OverlapMap, ...]

    def output(self, method: str) -> np.ndarray:
        return next(o.values for o in self.outputs if o.method == method)


def _check_grid(arr: np.ndarray, what: str) -> np.ndarray:
    if arr.ndim != 2:
        raise ConvtError(
            f"{what} has shape {list(arr.shape)}; compare needs a 2-d grid (rows separated by ';', e.g. \"1,2;3,4\")",
            zh=f"{what} 的形状为 {list(arr.shape)}；compare 需要二维网格（行用 ';' 分隔，如 \"1,2;3,4\"）",
        )
    return arr


def _exact(arr: np.ndarray) -> np.ndarray:
    """Integers as int64, everything else as float64: every method computes at the reference precision."""
    return arr.astype(np.int64) if np.can_cast(arr.dtype, np.int64) else arr.astype(np.float64)


def interpolate(x: np.ndarray, scale: int, mode: str, align_corners: bool | None = None) -> np.ndarray:
    """``torch.nn.functional.interpolate`` of a 2-d grid in float64 (torch imported here)."""
    torch = torch_module()
    t = torch.as_tensor(np.ascontiguousarray(x, dtype=np.float64))[None, None]
    with torch.no_grad():
        if mode == "nearest":
            out = torch.nn.functional.interpolate(t, scale_factor=scale, mode="nearest")
        else:
            out = torch.nn.functional.interpolate(t, scale_factor=scale, mode=mode, align_corners=align_corners)
    return out[0, 0].numpy()


def _flops_str(*factors: int) -> str:
    return "2×" + "×".join(map(str, factors))


def cost_table(channels: tuple[int, int], size: tuple[int, int], kernel: tuple[int, int], scale: int,
               padding: int = 0, output_padding: int = 0) -> tuple[CostRow, ...]:
    """Parameters, FLOPs, output shape and channel change of each method on a (1, C_in, H, W) map."""
    c_in, c_out = channels
    h, w = size
    sh, sw = h * scale, w * scale
    kh, kw = kernel
    oh, ow = output_shape((h, w), (kh, kw), ConvTransposeParams.make(2, scale, padding, output_padding))
    rk = RESIZE_CONV_KERNEL
    interp_shape = (1, c_in, sh, sw)
    bil = BILINEAR_FLOPS_PER_VALUE
    return (
        CostRow("nearest", 0, "0", 0, "0", interp_shape, False),
        CostRow("bilinear", 0, "0", bil * c_in * sh * sw, f"{bil}×{c_in}×{sh}×{sw}", interp_shape, False),
        CostRow("bilinear_align_corners", 0, "0", bil * c_in * sh * sw, f"{bil}×{c_in}×{sh}×{sw}", interp_shape,
                False),
        CostRow("conv_transpose", c_in * c_out * kh * kw + c_out, f"{c_in}×{c_out}×{kh}×{kw} + {c_out}",
                2 * c_in * c_out * kh * kw * h * w, _flops_str(c_in, c_out, kh, kw, h, w), (1, c_out, oh, ow),
                True),
        CostRow("resize_conv", c_in * c_out * rk * rk + c_out, f"{c_in}×{c_out}×{rk}×{rk} + {c_out}",
                2 * c_in * c_out * rk * rk * sh * sw, _flops_str(c_in, c_out, rk, rk, sh, sw), (1, c_out, sh, sw),
                True),
    )


def overlap_map(k: int, s: int, yours: bool = False) -> OverlapMap:
    """Contribution counts of a k×k, stride-s scatter of a 3×3 input (the engine, with ones)."""
    ones = np.ones((1, 1, OVERLAP_INPUT, OVERLAP_INPUT), dtype=np.int64)
    counts = conv_transpose(ones, np.ones((1, 1, k, k), dtype=np.int64), stride=s)[0, 0]
    return OverlapMap(k, s, counts, overlap_verdict((k, k), (s, s), (1, 1)), sam3=(k == 2 and s == 2), yours=yours)


def compare(
    x: object = None,
    kernel: object = None,
    *,
    scale: int = 2,
    padding: int = 0,
    output_padding: int = 0,
    channels: tuple[int, int] = DEFAULT_CHANNELS,
    size: tuple[int, int] = DEFAULT_SIZE,
) -> CompareReport:
    """Upsample ``x`` (2-d) by ``scale`` with nearest, bilinear (align_corners False/True) and a
    ConvTranspose2d with ``kernel`` and ``stride=scale``; cost each method for ``channels`` on ``size``."""
    xa = _exact(_check_grid(as_array(DEFAULT_INPUT if x is None else x, "input"), "input"))
    ka = _exact(_check_grid(as_array(DEFAULT_KERNEL if kernel is None else kernel, "kernel"), "kernel"))
    if isinstance(scale, bool) or not isinstance(scale, (int, np.integer)) or scale < 1:
        raise ConvtError(f"scale={scale!r} must be a positive whole number (it is also the stride)",
                         zh=f"scale={scale!r} 必须是正整数（它也是 stride）")
    if len(channels) != 2 or any(c < 1 for c in channels):
        raise ConvtError(f"channels={list(channels)} must be two positive numbers: C_in,C_out (e.g. 1280,640)",
                         zh=f"channels={list(channels)} 必须是两个正整数：C_in,C_out（如 1280,640）")
    if len(size) != 2 or any(v < 1 for v in size):
        raise ConvtError(f"size={list(size)} must be two positive sizes: HxW (e.g. 64x64)",
                         zh=f"size={list(size)} 必须是两个正尺寸：HxW（如 64x64）")
    params = ConvTransposeParams.make(2, scale, padding, output_padding, 1)
    check_bytes(8 * 4 * xa.size * scale * scale + 8 * xa.size * ka.size, "the upsampled outputs")

    ct = conv_transpose(xa[None, None], ka[None, None], stride=params.stride, padding=params.padding,
                        output_padding=params.output_padding)[0, 0]

    ref = torch_conv_transpose(xa[None, None].astype(np.float64), ka[None, None].astype(np.float64),
                               stride=params.stride, padding=params.padding,
                               output_padding=params.output_padding)[0, 0]
    diff = float(np.max(np.abs(ct.astype(np.float64) - ref))) if ct.size else 0.0
    agrees = bool(np.all(np.abs(ct.astype(np.float64) - ref) <= FLOAT64_ATOL + FLOAT64_RTOL * np.abs(ref)))

    outputs = (
        MethodOutput("nearest", interpolate(xa, scale, "nearest")),
        MethodOutput("bilinear", interpolate(xa, scale, "bilinear", align_corners=False)),
        MethodOutput("bilinear_align_corners", interpolate(xa, scale, "bilinear", align_corners=True)),
        MethodOutput("conv_transpose", ct),
    )
    same = tuple(
        o.method for o in outputs[:3]
        if o.values.shape == ct.shape and np.allclose(o.values, ct, rtol=FLOAT64_RTOL, atol=FLOAT64_ATOL)
    )
    kh, kw = ka.shape
    cases = list(OVERLAP_CASES)
    mine = (kh, scale) if kh == kw else None
    maps = [overlap_map(k, s, yours=(k, s) == mine) for k, s in cases]
    if mine is not None and mine not in cases and kh <= 16 and scale <= 8:
        maps.append(overlap_map(kh, scale, yours=True))
    return CompareReport(
        input=xa,
        kernel=ka,
        scale=scale,
        padding=padding,
        output_padding=output_padding,
        outputs=outputs,
        torch_check=TorchCheck(diff, agrees, FLOAT64_RTOL, FLOAT64_ATOL),
        same_as_conv_transpose=same,
        channels=(int(channels[0]), int(channels[1])),
        size=(int(size[0]), int(size[1])),
        costs=cost_table(channels, size, (kh, kw), scale, padding, output_padding),
        overlap_maps=tuple(maps),
    )


MAX_SHOWN_SIDE = 64


def check_displayable(x_shape: tuple[int, ...], k_shape: tuple[int, ...], scale: int, padding: int = 0,
                      output_padding: int = 0) -> None:
    """Refuse, before any work, grids too large to print as box tables (``--json`` has no limit)."""
    if len(x_shape) != 2 or len(k_shape) != 2:
        return  # compare() names the real problem
    sides = [n * scale for n in x_shape]
    sides += [(n - 1) * scale - 2 * padding + (k - 1) + output_padding + 1 for n, k in zip(x_shape, k_shape)]
    if max(sides) > MAX_SHOWN_SIDE:
        h, w = x_shape
        raise ConvtError(
            f"the {h}×{w} input upsampled by {scale} gives grids of up to {max(sides)} per side, too large to "
            f"show as tables (at most {MAX_SHOWN_SIDE}); use a smaller input or scale, or --json",
            zh=f"{h}×{w} 的输入放大 {scale} 倍后网格边长可达 {max(sides)}，太大，无法以表格显示"
               f"（最多 {MAX_SHOWN_SIDE}）；请用更小的输入或倍数，或用 --json",
        )


def _plain(values: np.ndarray) -> list:
    return values.tolist()


def compare_dict(report: CompareReport) -> dict:
    """The comparison as plain JSON-ready data."""
    return {
        "input": _plain(report.input),
        "kernel": _plain(report.kernel),
        "scale": report.scale,
        "stride": report.scale,
        "padding": report.padding,
        "output_padding": report.output_padding,
        "outputs": {o.method: {"shape": list(o.values.shape), "values": _plain(o.values)} for o in report.outputs},
        "torch_check": {"max_abs_diff": report.torch_check.max_abs_diff, "agrees": report.torch_check.agrees,
                        "rtol": report.torch_check.rtol, "atol": report.torch_check.atol},
        "same_as_conv_transpose": list(report.same_as_conv_transpose),
        "channels": list(report.channels),
        "size": list(report.size),
        "costs": [
            {"method": c.method, "parameters": c.parameters, "parameters_formula": c.parameters_formula,
             "flops": c.flops, "flops_formula": c.flops_formula, "output_shape": list(c.output_shape),
             "changes_channels": c.changes_channels}
            for c in report.costs
        ],
        "overlap_maps": [
            {"kernel_size": m.kernel, "stride": m.stride, "counts": _plain(m.counts), "kind": m.verdict.kind,
             "min_per_cell": m.verdict.per_cell[0], "max_per_cell": m.verdict.per_cell[1], "sam3_choice": m.sam3,
             "yours": m.yours}
            for m in report.overlap_maps
        ],
    }
