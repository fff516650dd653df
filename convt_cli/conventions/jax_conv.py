"""JAX ``lax.conv_transpose`` and Flax ``linen.ConvTranspose`` on the NumPy engine.

``lax.conv_transpose`` is a stride-1 convolution of the zero-inserted input (``lhs_dilation=strides``)
with the kernel **as given**: it rotates the kernel and swaps its channel axes only with
``transpose_kernel=True`` (jax-ml/jax #11252). Explicit padding pairs pad that zero-inserted input
(``use_consistent_padding=True``: they are PyTorch-like crops instead); ``'SAME'`` gives ``in*s``;
``'VALID'`` gives ``(in-1)*s + max(k_eff, s)``, which is not "no padding" when ``k_eff < s``
(jax-ml/jax #17618). No groups: ``lax.conv_general_dilated(lhs_dilation=…, feature_group_count=…)``
does those. Flax's ``ConvTranspose`` calls it with NHWC/HWIO, defaults to ``padding='SAME'``,
has no groups and no output_padding (google/flax #3137).
"""

from __future__ import annotations

import math

import numpy as np

from ..engine import as_array
from ..errors import ConvtError
from .core import Geometry, compute, per_axis

DEFAULT_DN = {1: ("NHC", "HIO", "NHC"), 2: ("NHWC", "HWIO", "NHWC"), 3: ("NHWDC", "HWDIO", "NHWDC")}
NCHW_DN = {1: ("NCH", "OIH", "NCH"), 2: ("NCHW", "OIHW", "NCHW"), 3: ("NCDHW", "OIDHW", "NCDHW")}


def dn_perms(dn: object, nd: int) -> tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]:
    """(lhs, rhs, out) permutations to (N, C, *spatial), (O, I, *spatial), (N, C, *spatial), as JAX orders them."""
    if not (isinstance(dn, (tuple, list)) and len(dn) == 3 and all(isinstance(s, str) for s in dn)):
        raise ConvtError(f"JAX: dimension_numbers={dn!r} must be three strings such as ('NCHW', 'OIHW', 'NCHW')",
                         zh=f"JAX：dimension_numbers={dn!r} 必须是三个字符串，如 ('NCHW', 'OIHW', 'NCHW')")
    lhs, rhs, out = dn
    for i, (spec, pair) in enumerate(zip(dn, (("N", "C"), ("O", "I"), ("N", "C")))):
        if spec.count(pair[0]) != 1 or spec.count(pair[1]) != 1 or len(set(spec)) != len(spec) \
                or len(spec) != nd + 2:
            raise ConvtError(f"JAX: dimension_numbers[{i}]={spec!r} must contain '{pair[0]}' and '{pair[1]}' "
                             f"exactly once and {nd} distinct spatial letters",
                             zh=f"JAX：dimension_numbers[{i}]={spec!r} 必须恰好含一次 '{pair[0]}' 和 "
                             f"'{pair[1]}' 以及 {nd} 个不同的空间字母")
    if not (set(lhs) - {"N", "C"} == set(rhs) - {"O", "I"} == set(out) - {"N", "C"}):
        raise ConvtError(f"JAX: dimension_numbers {tuple(dn)} must each have the same set of spatial letters",
                         zh=f"JAX：dimension_numbers {tuple(dn)} 的空间字母必须相同")
    spatial = [c for c in rhs if c not in "OI"]

    def perm(spec: str, a: str, b: str) -> tuple[int, ...]:
        return (spec.index(a), spec.index(b), *(spec.index(c) for c in spatial))

    return perm(lhs, "N", "C"), perm(rhs, "O", "I"), perm(out, "N", "C")


def jax_pads(k_eff: int, s: int, padding: object) -> tuple[int, int]:
    """``lax._conv_transpose_padding``: pads of the zero-inserted input for 'SAME', 'VALID' or crops."""
    if padding == "SAME":
        pad_len = k_eff + s - 2
        pad_a = k_eff - 1 if s > k_eff - 1 else math.ceil(pad_len / 2)
    elif padding == "VALID":
        pad_len = k_eff + s - 2 + max(k_eff - s, 0)
        pad_a = k_eff - 1
    else:  # a (before, after) crop, as with use_consistent_padding=True
        pads = tuple(k_eff - p - 1 for p in padding)  # type: ignore[union-attr]
        pad_a, pad_len = pads[0], sum(pads)
    return pad_a, pad_len - pad_a


def _pairs(padding: object, nd: int, name: str = "padding") -> list[tuple[int, int]]:
    try:
        pairs = [tuple(p) for p in padding]  # type: ignore[union-attr]
    except TypeError:
        pairs = []
    if len(pairs) != nd or not all(len(p) == 2 and all(isinstance(v, (int, np.integer)) and not isinstance(v, bool)
                                                       for v in p) for p in pairs):
        raise ConvtError(f"JAX: {name}={padding!r} must be 'SAME', 'VALID' or {nd} (before, after) integer pairs",
                         zh=f"JAX：{name}={padding!r} 必须是 'SAME'、'VALID' 或 {nd} 个 (前, 后) 整数对")
    return [(int(a), int(b)) for a, b in pairs]


def jax_crops(kernel: tuple[int, ...], strides: tuple[int, ...], dilation: tuple[int, ...], padding: object,
              use_consistent_padding: bool = False) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """The (begin, end) crops of the full canvas for ``lax.conv_transpose``'s padding argument."""
    nd = len(kernel)
    if isinstance(padding, str) and padding not in ("SAME", "VALID"):
        raise ConvtError(f"JAX: padding={padding!r}: lax.conv_transpose takes 'SAME', 'VALID' (upper case) or "
                         "(before, after) pairs; other strings are read as the forward convolution's padding of "
                         "the zero-inserted input, which convt does not model",
                         zh=f"JAX：padding={padding!r}：lax.conv_transpose 只接受 'SAME'、'VALID'（大写）"
                         "或 (前, 后) 整数对")
    k_eff = [d * (k - 1) + 1 for k, d in zip(kernel, dilation)]
    if isinstance(padding, str):
        pads = [jax_pads(ke, s, padding) for ke, s in zip(k_eff, strides)]
    elif use_consistent_padding:
        pads = [jax_pads(ke, s, p) for ke, s, p in zip(k_eff, strides, _pairs(padding, nd))]
    else:
        pads = _pairs(padding, nd)
    return tuple(ke - 1 - a for ke, (a, _) in zip(k_eff, pads)), tuple(ke - 1 - b for ke, (_, b) in zip(k_eff, pads))


def jax_conv_transpose(lhs: object, rhs: object, strides: object, padding: object, rhs_dilation: object = None,
                       dimension_numbers: object = None, transpose_kernel: bool = False,
                       use_consistent_padding: bool = False) -> np.ndarray:
    """``jax.lax.conv_transpose`` in NumPy, with its defaults (NHWC/HWIO in 2-D)."""
    x, r = as_array(lhs, "lhs"), as_array(rhs, "rhs")
    nd = r.ndim - 2
    if nd not in (1, 2, 3) or x.ndim != r.ndim:
        raise ConvtError(f"JAX: lhs of shape {list(x.shape)} and rhs of shape {list(r.shape)} must have the same "
                         "number of dims, 3 to 5",
                         zh=f"JAX：lhs {list(x.shape)} 与 rhs {list(r.shape)} 维数必须相同（3 到 5）")
    lhs_perm, rhs_perm, out_perm = dn_perms(DEFAULT_DN[nd] if dimension_numbers is None else dimension_numbers, nd)
    x_nc = np.transpose(x, lhs_perm)
    r_oi = np.transpose(r, rhs_perm)
    s = per_axis(strides, nd, "strides", "JAX")
    d = (1,) * nd if rhs_dilation is None else per_axis(rhs_dilation, nd, "rhs_dilation", "JAX")
    if min(s) <= 0 or min(d) <= 0:
        raise ConvtError(f"JAX: strides={list(s)} and rhs_dilation={list(d)} must be positive",
                         zh=f"JAX：strides={list(s)} 与 rhs_dilation={list(d)} 必须为正")
    if transpose_kernel:  # flipped and O/I swapped by JAX: PyTorch's weight is rhs read as (O, I, *k)
        weight = r_oi
    else:  # used as given: the correlation kernel (C_out, C_in, *k)
        weight = np.swapaxes(np.flip(r_oi, axis=tuple(range(2, nd + 2))), 0, 1)
    if weight.shape[0] != x_nc.shape[1]:
        side = "O" if transpose_kernel else "I"
        raise ConvtError(f"JAX: lhs has {x_nc.shape[1]} feature channels but rhs's {side} dimension is "
                         f"{weight.shape[0]} (transpose_kernel={transpose_kernel})",
                         zh=f"JAX：lhs 有 {x_nc.shape[1]} 个特征通道，而 rhs 的 {side} 维是 {weight.shape[0]}")
    kernel = tuple(int(k) for k in weight.shape[2:])
    begin, end = jax_crops(kernel, s, d, padding, use_consistent_padding)
    geometry = Geometry(c_in=int(weight.shape[0]), c_out=int(weight.shape[1]), groups=1, kernel=kernel, stride=s,
                        dilation=d, begin=begin, end=end, size=tuple(x_nc.shape[2:]), bias=False)
    y = compute(geometry, x_nc, weight)
    return np.transpose(y, np.argsort(out_perm))


def jax_conv_general_dilated_transpose(lhs: object, rhs: object, lhs_dilation: object, padding: object,
                                       rhs_dilation: object = None, feature_group_count: int = 1) -> np.ndarray:
    """``lax.conv_general_dilated(lhs, rhs, window_strides=1, padding, lhs_dilation, rhs_dilation,
    ('NC…', 'OI…', 'NC…'), feature_group_count)`` in NumPy: a grouped transposed convolution."""
    x, r = as_array(lhs, "lhs"), as_array(rhs, "rhs")
    nd = r.ndim - 2
    g = int(feature_group_count)
    s = per_axis(lhs_dilation, nd, "lhs_dilation", "JAX")
    d = (1,) * nd if rhs_dilation is None else per_axis(rhs_dilation, nd, "rhs_dilation", "JAX")
    c_out, cig = int(r.shape[0]), int(r.shape[1])
    if g <= 0 or x.shape[1] != cig * g or c_out % g:
        raise ConvtError(f"JAX: feature_group_count={g} needs lhs features ({x.shape[1]}) = rhs I ({cig}) × groups "
                         f"and rhs O ({c_out}) divisible by it",
                         zh=f"JAX：feature_group_count={g} 要求 lhs 特征数 = rhs I × 组数，且 rhs O 可被整除")
    cog = c_out // g
    flipped = np.flip(r, axis=tuple(range(2, nd + 2)))
    weight = flipped.reshape(g, cog, cig, *r.shape[2:]).swapaxes(1, 2).reshape(g * cig, cog, *r.shape[2:])
    kernel = tuple(int(k) for k in r.shape[2:])
    k_eff = [dd * (k - 1) + 1 for k, dd in zip(kernel, d)]
    pairs = _pairs(padding, nd)
    geometry = Geometry(c_in=g * cig, c_out=c_out, groups=g, kernel=kernel, stride=s, dilation=d,
                        begin=tuple(ke - 1 - a for ke, (a, _) in zip(k_eff, pairs)),
                        end=tuple(ke - 1 - b for ke, (_, b) in zip(k_eff, pairs)), size=tuple(x.shape[2:]), bias=False)
    return compute(geometry, x, weight)


def flax_padding(padding: object, nd: int) -> object:
    """Flax's ``canonicalize_padding``: a string, an int for every side, or per-axis ints or pairs."""
    if isinstance(padding, str):
        if padding.upper() not in ("SAME", "VALID"):
            raise ConvtError(f"Flax: padding={padding!r}: convt models 'SAME', 'VALID' and explicit pads "
                             "('CIRCULAR' wraps around, which no other framework's transposed convolution does)",
                             zh=f"Flax：padding={padding!r}：convt 只支持 'SAME'、'VALID' 与显式填充")
        return padding.upper()
    if isinstance(padding, int) and not isinstance(padding, bool):
        return [(padding, padding)] * nd
    try:
        items = list(padding)  # type: ignore[call-overload]
    except TypeError:
        items = []
    pairs = [(p, p) if isinstance(p, int) else tuple(p) for p in items]
    if len(pairs) != nd or not all(len(p) == 2 for p in pairs):
        raise ConvtError(f"Flax: invalid padding format {padding!r}: should be str, int, or a sequence of len {nd} "
                         "where each element is an int or pair of ints",
                         zh=f"Flax：padding 格式 {padding!r} 无效：应为字符串、整数或 {nd} 个整数/整数对")
    return pairs


def flax_geometry(features: int, kernel_size: object, strides: object = 1, padding: object = "SAME",
                  kernel_dilation: object = 1, use_bias: bool = True, transpose_kernel: bool = False, *,
                  nd: int, c_in: int, size: tuple[int, ...]) -> Geometry:
    """``flax.linen.ConvTranspose(features, kernel_size, ...)``: no groups, no output_padding."""
    if isinstance(features, bool) or not isinstance(features, int) or features <= 0:
        raise ConvtError(f"Flax: features={features!r} must be a positive integer",
                         zh=f"Flax：features={features!r} 必须是正整数")
    kernel = per_axis(kernel_size, nd, "kernel_size", "Flax")
    s = per_axis(strides, nd, "strides", "Flax")
    d = per_axis(kernel_dilation, nd, "kernel_dilation", "Flax")
    if min(kernel) <= 0 or min(s) <= 0 or min(d) <= 0:
        raise ConvtError(f"Flax: kernel_size={list(kernel)}, strides={list(s)} and kernel_dilation={list(d)} "
                         "must be positive", zh="Flax：kernel_size、strides 与 kernel_dilation 必须为正")
    begin, end = jax_crops(kernel, s, d, flax_padding(padding, nd))
    return Geometry(c_in=c_in, c_out=features, groups=1, kernel=kernel, stride=s, dilation=d, begin=begin, end=end,
                    size=tuple(size), bias=bool(use_bias))
