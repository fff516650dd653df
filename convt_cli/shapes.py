"""Output-size arithmetic and validation of transposed-convolution parameters (pure).

Every rule PyTorch enforces for ``conv_transpose{1,2,3}d`` (docs/semantics.md §2) is checked here, before
any computation, and broken rules raise :class:`ConvtError` naming the parameter, its value, the
dimension and the rule.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

from .errors import ConvtError


def _as_int(value: object, name: str) -> int:
    """An integer: Python and NumPy integers, and 0-d integer arrays or tensors (as PyTorch takes them)."""
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return int(value)
    if _is_zero_d(value) and not isinstance(value, bool):
        kind = getattr(getattr(value, "dtype", None), "kind", None)  # NumPy: "i"/"u"; torch: no kind
        is_int = kind in ("i", "u") if kind is not None else not getattr(value, "is_floating_point", lambda: True)()
        if is_int and str(getattr(value, "dtype", "")) != "torch.bool":
            return int(value.item())  # type: ignore[attr-defined]
    shown = value.item() if _is_zero_d(value) else value  # type: ignore[attr-defined]
    raise ConvtError(f"{name}={shown!r} must be an integer", zh=f"{name}={shown!r} 必须是整数")


def _is_zero_d(value: object) -> bool:
    """A 0-d NumPy array or torch tensor (``np.array(2)``, ``torch.tensor(2)``)."""
    return getattr(value, "ndim", None) == 0 and hasattr(value, "item")


def per_dim(value: object, ndim: int, name: str) -> tuple[int, ...]:
    """An int or a sequence of ``ndim`` ints → a tuple of ``ndim`` ints."""
    sequence = isinstance(value, (list, tuple)) or (
        hasattr(value, "__len__") and hasattr(value, "__getitem__") and not isinstance(value, str)
    )
    if sequence and not _is_zero_d(value):
        items = tuple(value)  # type: ignore[arg-type]
        if len(items) == 1:
            items = items * ndim
        if len(items) != ndim:
            raise ConvtError(
                f"{name}={list(items)} has {len(items)} values; a {ndim}-d transposed convolution "
                f"needs a single integer or {ndim} values, one per spatial dimension",
                zh=f"{name}={list(items)} 有 {len(items)} 个值；{ndim} 维转置卷积需要一个整数"
                f"或 {ndim} 个值（每个空间维一个）",
            )
        return tuple(_as_int(v, name) for v in items)
    return (_as_int(value, name),) * ndim


@dataclass(frozen=True)
class ConvTransposeParams:
    """Per-dimension parameters of a transposed convolution, already normalised to tuples."""

    stride: tuple[int, ...]
    padding: tuple[int, ...]
    output_padding: tuple[int, ...]
    dilation: tuple[int, ...]
    groups: int = 1

    @property
    def ndim(self) -> int:
        return len(self.stride)

    @classmethod
    def make(
        cls,
        ndim: int,
        stride: object = 1,
        padding: object = 0,
        output_padding: object = 0,
        dilation: object = 1,
        groups: object = 1,
    ) -> ConvTransposeParams:
        """Normalise ints/tuples to ``ndim`` values each and check every per-parameter rule."""
        params = cls(
            stride=per_dim(stride, ndim, "stride"),
            padding=per_dim(padding, ndim, "padding"),
            output_padding=per_dim(output_padding, ndim, "output_padding"),
            dilation=per_dim(dilation, ndim, "dilation"),
            groups=_as_int(groups, "groups"),
        )
        params.validate()
        return params

    def validate(self) -> None:
        """The rules that need no tensor shapes (docs/semantics.md §2), in PyTorch's order."""
        for dim, s in enumerate(self.stride):
            if s <= 0:
                raise ConvtError(f"stride={s} in dim {dim} must be positive (non-positive stride is not supported)",
                                 zh=f"第 {dim} 维的 stride={s} 必须为正数")
        for dim, p in enumerate(self.padding):
            if p < 0:
                raise ConvtError(f"padding={p} in dim {dim} must not be negative (negative padding is not supported)",
                                 zh=f"第 {dim} 维的 padding={p} 不能为负数")
        for dim, op in enumerate(self.output_padding):
            if op < 0:
                raise ConvtError(
                    f"output_padding={op} in dim {dim} must not be negative "
                    "(negative output_padding is not supported)",
                    zh=f"第 {dim} 维的 output_padding={op} 不能为负数",
                )
        for dim, d in enumerate(self.dilation):
            if d <= 0:
                raise ConvtError(f"dilation={d} in dim {dim} must be greater than zero",
                                 zh=f"第 {dim} 维的 dilation={d} 必须大于 0")
        if self.groups <= 0:
            raise ConvtError(f"groups={self.groups} must be positive (non-positive groups is not supported)",
                             zh=f"groups={self.groups} 必须为正数")
        for dim, (op, s, d) in enumerate(zip(self.output_padding, self.stride, self.dilation)):
            if op >= s and op >= d:
                raise ConvtError(
                    f"output_padding={op} in dim {dim} must be smaller than stride={s} or dilation={d}",
                    zh=f"第 {dim} 维的 output_padding={op} 必须小于 stride={s} 或 dilation={d}",
                )


def output_size(
    in_size: int, kernel: int, stride: int = 1, padding: int = 0, output_padding: int = 0, dilation: int = 1
) -> int:
    """``(in - 1)*stride - 2*padding + dilation*(k - 1) + output_padding + 1`` (may be ≤ 0)."""
    return (in_size - 1) * stride - 2 * padding + dilation * (kernel - 1) + output_padding + 1


def canvas_size(in_size: int, kernel: int, stride: int = 1, dilation: int = 1) -> int:
    """The full scatter canvas before cropping: ``(in - 1)*stride + dilation*(k - 1) + 1``."""
    return (in_size - 1) * stride + dilation * (kernel - 1) + 1


def output_padding_range(stride: int, dilation: int = 1) -> range:
    """Legal output_padding values: smaller than stride OR smaller than dilation."""
    return range(max(stride, dilation))


def reachable_sizes(
    in_size: int, kernel: int, stride: int = 1, padding: int = 0, dilation: int = 1
) -> list[int]:
    """Output sizes reachable with some legal output_padding (positive ones only)."""
    base = output_size(in_size, kernel, stride, padding, 0, dilation)
    return [base + op for op in output_padding_range(stride, dilation) if base + op > 0]


def output_shape(
    spatial: tuple[int, ...], kernel: tuple[int, ...], params: ConvTransposeParams
) -> tuple[int, ...]:
    """Spatial output shape; raises ConvtError when any size would be ≤ 0 (PyTorch's rule)."""
    sizes = tuple(
        output_size(i, k, s, p, op, d)
        for i, k, s, p, op, d in zip(
            spatial, kernel, params.stride, params.padding, params.output_padding, params.dilation
        )
    )
    if any(o <= 0 for o in sizes):
        got = " x ".join(map(str, spatial))
        calc = " x ".join(map(str, sizes))
        raise ConvtError(
            f"output size ({calc}) computed for input size ({got}) is too small: every output size "
            "must be positive, from (in - 1)*stride - 2*padding + dilation*(k - 1) + output_padding + 1",
            zh=f"输入尺寸 ({got}) 算出的输出尺寸 ({calc}) 太小：按 (in - 1)*stride - 2*padding + "
            "dilation*(k - 1) + output_padding + 1，每个输出尺寸都必须为正",
        )
    return sizes


@dataclass(frozen=True)
class InverseConv:
    """The ordinary convolution that a transposed convolution undoes (Dumoulin & Visin, rel. 14).

    A Conv with these parameters maps the transposed conv's output (size ``out``) back to its
    input size ``in_size``; ``output_padding`` is the remainder ``(out + 2p - d(k-1) - 1) mod s``
    that the conv's floor division forgot.
    """

    kernel: int
    stride: int
    padding: int
    dilation: int
    in_size: int  # the conv's input = the transposed conv's output
    out_size: int  # the conv's output = the transposed conv's input
    remainder: int  # equals output_padding


def inverse_conv(
    in_size: int, kernel: int, stride: int = 1, padding: int = 0, output_padding: int = 0, dilation: int = 1
) -> InverseConv:
    out = output_size(in_size, kernel, stride, padding, output_padding, dilation)
    span = out + 2 * padding - dilation * (kernel - 1) - 1
    conv_out = span // stride + 1
    return InverseConv(
        kernel=kernel,
        stride=stride,
        padding=padding,
        dilation=dilation,
        in_size=out,
        out_size=conv_out,
        remainder=span % stride,
    )


@dataclass(frozen=True)
class TensorShapes:
    """The shapes of one call, checked against each other (docs/semantics.md §2)."""

    batched: bool
    batch: int
    in_channels: int
    out_channels: int
    spatial: tuple[int, ...]
    kernel: tuple[int, ...]
    out_spatial: tuple[int, ...]

    @property
    def output(self) -> tuple[int, ...]:
        lead = (self.batch, self.out_channels) if self.batched else (self.out_channels,)
        return lead + self.out_spatial


def check_shapes(
    x_shape: tuple[int, ...],
    w_shape: tuple[int, ...],
    bias_shape: tuple[int, ...] | None,
    params: ConvTransposeParams,
) -> TensorShapes:
    """Check input, weight and bias shapes against each other and the parameters."""
    nd = params.ndim
    if len(w_shape) != nd + 2:
        raise ConvtError(
            f"weight of shape {list(w_shape)} must have {nd + 2} dims (C_in, C_out/groups, *kernel) "
            f"for a {nd}-d transposed convolution",
            zh=f"{nd} 维转置卷积的权重必须有 {nd + 2} 维 (C_in, C_out/groups, *kernel)，而形状是 {list(w_shape)}",
        )
    if len(x_shape) not in (nd + 1, nd + 2):
        raise ConvtError(
            f"input of shape {list(x_shape)} must have {nd + 1} dims (unbatched: C_in, *spatial) or "
            f"{nd + 2} dims (batched: N, C_in, *spatial) for a {nd}-d transposed convolution",
            zh=f"{nd} 维转置卷积的输入必须有 {nd + 1} 维（无批次：C_in, *spatial）或 {nd + 2} 维"
            f"（有批次：N, C_in, *spatial），而形状是 {list(x_shape)}",
        )
    batched = len(x_shape) == nd + 2
    batch = x_shape[0] if batched else 1
    c_in = x_shape[1] if batched else x_shape[0]
    spatial = tuple(x_shape[-nd:])
    kernel = tuple(w_shape[2:])
    g = params.groups
    if w_shape[0] < g:
        raise ConvtError(
            f"weight of shape {list(w_shape)} has C_in={w_shape[0]} but groups={g} needs at least "
            f"{g} input channels (one per group)",
            zh=f"权重形状 {list(w_shape)} 的 C_in={w_shape[0]}，但 groups={g} 至少需要 {g} 个输入通道（每组一个）",
        )
    if w_shape[1] == 0:
        raise ConvtError(f"weight of shape {list(w_shape)} has no output channels (C_out/groups=0)",
                         zh=f"权重形状 {list(w_shape)} 没有输出通道（C_out/groups=0）")
    for dim, k in enumerate(kernel):
        if k <= 0:
            raise ConvtError(f"kernel size {k} in dim {dim} must be greater than zero",
                             zh=f"第 {dim} 维的卷积核尺寸 {k} 必须大于 0")
    for dim, size in enumerate(spatial):
        if size <= 0:
            raise ConvtError(
                f"input size {size} in spatial dim {dim} must be positive "
                "(only the batch may be empty)",
                zh=f"第 {dim} 个空间维的输入尺寸 {size} 必须为正（只有批次可以为空）",
            )
    if w_shape[0] % g != 0:
        raise ConvtError(
            f"groups={g} must divide the weight's first dim (C_in={w_shape[0]}); "
            f"weight shape {list(w_shape)}",
            zh=f"groups={g} 必须整除权重的第一维（C_in={w_shape[0]}）；权重形状 {list(w_shape)}",
        )
    if c_in != w_shape[0]:
        raise ConvtError(
            f"input has {c_in} channels but the weight of shape {list(w_shape)} expects C_in={w_shape[0]} "
            "(weight is (C_in, C_out/groups, *kernel) for a transposed convolution)",
            zh=f"输入有 {c_in} 个通道，但形状为 {list(w_shape)} 的权重要求 C_in={w_shape[0]}"
            "（转置卷积的权重是 (C_in, C_out/groups, *kernel)）",
        )
    c_out = w_shape[1] * g
    if bias_shape is not None and tuple(bias_shape) != (c_out,):
        raise ConvtError(
            f"bias of shape {list(bias_shape)} must be 1-dimensional with C_out={c_out} elements",
            zh=f"形状为 {list(bias_shape)} 的 bias 必须是一维、含 C_out={c_out} 个元素",
        )
    out_spatial = output_shape(spatial, kernel, params)
    return TensorShapes(batched, batch, c_in, c_out, spatial, kernel, out_spatial)


def axis_overlap(k: int, s: int, d: int, list_limit: int | None = None) -> tuple[int, int, tuple[int, ...] | None]:
    """(min, max, counts) of the taps ``j < k`` landing on each output phase ``j·d mod s``, in closed form.

    ``j·d ≡ r (mod s)`` has solutions only for ``r`` divisible by ``g = gcd(d, s)``; they repeat every
    ``m = s/g`` taps. ``counts`` lists every phase, or is None when ``s`` exceeds ``list_limit``; min
    and max never need the list, so huge strides and kernels cost nothing.
    """
    g = math.gcd(d, s)
    m = s // g
    lo = 0 if g > 1 else k // m
    hi = -(-k // m)
    if list_limit is not None and s > list_limit:
        return lo, hi, None
    inv = pow((d // g) % m, -1, m) if m > 1 else 0
    counts = []
    for r in range(s):
        j0 = ((r // g) * inv) % m  # the first tap landing on phase r (when r is a multiple of g)
        counts.append(0 if r % g or j0 >= k else (k - 1 - j0) // m + 1)
    return min(counts), max(counts), tuple(counts)


@dataclass(frozen=True)
class OverlapVerdict:
    """How many input elements feed each output cell, away from the borders (Odena et al. 2016).

    ``counts[axis]`` holds, for each output phase ``o mod stride`` along that axis, the number of
    kernel taps landing there (None when not listed); ``bounds[axis]`` is its (min, max). In N-d the
    counts multiply across axes.
    """

    counts: tuple[tuple[int, ...] | None, ...]
    bounds: tuple[tuple[int, int], ...]

    @property
    def kind(self) -> str:
        """``even`` (same count everywhere), ``uneven`` (checkerboard) or ``gaps`` (some cells get none)."""
        if any(lo == 0 for lo, _ in self.bounds):
            return "gaps"
        return "even" if all(lo == hi for lo, hi in self.bounds) else "uneven"

    @property
    def per_cell(self) -> tuple[int, int]:
        """(min, max) contributions per interior output cell, across all axes."""
        return math.prod(lo for lo, _ in self.bounds), math.prod(hi for _, hi in self.bounds)


def overlap_verdict(
    kernel: tuple[int, ...], stride: tuple[int, ...], dilation: tuple[int, ...], list_limit: int | None = None
) -> OverlapVerdict:
    """Per-axis interior contribution counts: taps ``j`` with ``j*dilation ≡ phase (mod stride)``.

    ``list_limit``: list the per-phase counts only for strides up to it (see :func:`axis_overlap`).
    """
    axes = [axis_overlap(k, s, d, list_limit) for k, s, d in zip(kernel, stride, dilation)]
    return OverlapVerdict(tuple(c for _, _, c in axes), tuple((lo, hi) for lo, hi, _ in axes))
