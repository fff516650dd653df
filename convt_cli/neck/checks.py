"""Before and after a real run: the memory guard, and --verify against the NumPy engine."""

from __future__ import annotations

import math

from .. import engine  # engine.conv_transpose looked up at call time (the tests substitute it)
from ..errors import ConvtError
from ..limits import human_bytes, max_bytes
from .config import CUDA_FREE_SHARE, TF32_TOLERANCE, TOLERANCES, _shape_text
from .plan import NeckPlan
from .records import VerifyRecord


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

    def host(t):
        return t.detach().to(device="cpu", dtype=torch.float64).numpy()

    xa, wa = host(x), host(layer.weight)
    ba = None if layer.bias is None else host(layer.bias)
    kwargs = dict(stride=layer.stride, padding=layer.padding, output_padding=layer.output_padding,
                  dilation=layer.dilation, groups=layer.groups)
    ref = engine.conv_transpose(xa, wa, ba, **kwargs)
    mag = engine.conv_transpose(np.abs(xa), np.abs(wa), None if ba is None else np.abs(ba), **kwargs)
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
