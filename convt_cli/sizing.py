"""The size calculator behind ``convt shape`` (pure: records only, no printing, no torch).

:func:`size_report` answers *what size comes out*: per spatial axis the output size with the
formula written out and the numbers substituted, the full canvas before cropping, the legal
output_padding values and the sizes they reach, the overlap verdict and the Conv the transposed
conv undoes (docs/semantics.md §1, relationship 14); with channels, the full tensor, weight and bias shapes
and the parameter count. :func:`search_target` answers *how do I get the size I need*: every
``(k, s, p, output_padding, d)`` within bounds that reaches a target size, ranked.

All arithmetic comes from :mod:`convt_cli.shapes`; every rule is checked there, with the shared
messages (docs/semantics.md §2).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

from .errors import ConvtError
from .shapes import (
    ConvTransposeParams,
    InverseConv,
    canvas_size,
    check_shapes,
    inverse_conv,
    output_padding_range,
    output_size,
    overlap_verdict,
    per_dim,
)

AXIS_NAMES = {1: ("L",), 2: ("H", "W"), 3: ("D", "H", "W")}
MINUS = "\u2212"  # −
TIMES = "\u00d7"  # ×
OVERLAP_RANK = {"even": 0, "uneven": 1, "gaps": 2}
DEFAULT_MAX_KERNEL = 7
DEFAULT_MAX_STRIDE = 4
MAX_SEARCH_BOUND = 64  # per bound: keeps the search instant (at most 64·64·64 combinations per axis)


def _paren(a: int | str, b: int | str) -> str:
    return f"({a} {MINUS} {b})"


def output_formula(i: int, k: int, s: int, p: int, op: int, d: int) -> str:
    """``(64 − 1)×2 − 2×0 + 1×(2 − 1) + 0 + 1 = 128``."""
    out = output_size(i, k, s, p, op, d)
    return f"{_paren(i, 1)}{TIMES}{s} {MINUS} 2{TIMES}{p} + {d}{TIMES}{_paren(k, 1)} + {op} + 1 = {out}"


def canvas_formula(i: int, k: int, s: int, d: int) -> str:
    """``(64 − 1)×2 + 1×(2 − 1) + 1 = 128``."""
    return f"{_paren(i, 1)}{TIMES}{s} + {d}{TIMES}{_paren(k, 1)} + 1 = {canvas_size(i, k, s, d)}"


def inverse_formula(inv: InverseConv) -> str:
    """``⌊(128 + 2×0 − 1×(2 − 1) − 1) / 2⌋ + 1 = 64``: the Conv's own output-size formula."""
    k, s, p, d = inv.kernel, inv.stride, inv.padding, inv.dilation
    return (f"\u230a({inv.in_size} + 2{TIMES}{p} {MINUS} {d}{TIMES}{_paren(k, 1)} {MINUS} 1) / {s}\u230b + 1"
            f" = {inv.out_size}")


@dataclass(frozen=True)
class AxisSize:
    """One spatial axis of a transposed convolution, every number written out."""

    axis: str  # L, or H/W, or D/H/W
    in_size: int
    kernel: int
    stride: int
    padding: int
    output_padding: int
    dilation: int
    out_size: int
    formula: str
    canvas: int  # (in - 1)*stride + dilation*(k - 1) + 1, before cropping
    canvas_formula: str
    output_padding_max: int  # legal output_padding: 0 .. max(stride, dilation) - 1 (smaller than stride OR dilation)
    reachable_ops: tuple[int, int]  # (first, last) output_padding giving a positive size
    reachable_sizes: tuple[int, int]  # (first, last) size reached with them; every size between is reachable
    output_size_range: tuple[int, int]  # what nn.ConvTranspose forward(output_size=...) accepts
    inverse: InverseConv
    inverse_formula: str

    @property
    def round_trip(self) -> bool:
        """The inverse Conv maps the output back to exactly the input size."""
        return self.inverse.out_size == self.in_size


@dataclass(frozen=True)
class TensorInfo:
    """Full tensor shapes of one ``nn.ConvTransposeNd`` call."""

    module: str  # PyTorch's repr, e.g. ConvTranspose2d(1280, 640, kernel_size=(2, 2), stride=(2, 2))
    input_shape: tuple[int, ...]
    output_shape: tuple[int, ...]
    weight_shape: tuple[int, ...]  # (C_in, C_out/groups, *k)
    bias_shape: tuple[int, ...] | None
    in_channels: int
    out_channels: int
    groups: int
    weight_params: int
    bias_params: int

    @property
    def parameters(self) -> int:
        return self.weight_params + self.bias_params


@dataclass(frozen=True)
class SizeReport:
    """Everything ``convt shape`` prints for one configuration."""

    ndim: int
    in_spatial: tuple[int, ...]
    kernel: tuple[int, ...]
    params: ConvTransposeParams
    out_spatial: tuple[int, ...]
    axes: tuple[AxisSize, ...]
    overlap_kind: str  # even / uneven / gaps (shapes.OverlapVerdict.kind)
    overlap_counts: tuple[tuple[int, ...] | None, ...]  # per axis: taps on each phase o mod stride; None: stride > 64
    per_cell: tuple[int, int]  # (min, max) contributions per interior output cell
    tensor: TensorInfo | None

    @property
    def sam3(self) -> bool:
        """k=2, s=2, p=0, output_padding=0, d=1 on every axis: the SAM 3 neck's layer."""
        return is_sam3(self.kernel, self.params)


def is_sam3(kernel: tuple[int, ...], params: ConvTransposeParams) -> bool:
    return (all(k == 2 for k in kernel) and all(s == 2 for s in params.stride)
            and not any(params.padding) and not any(params.output_padding)
            and all(d == 1 for d in params.dilation))


def module_repr(ndim: int, c_in: int, c_out: int, kernel: tuple[int, ...], params: ConvTransposeParams,
                bias: bool) -> str:
    """The repr PyTorch prints for the module (``nn.ConvTransposeNd.extra_repr``)."""
    def tup(v: tuple[int, ...]) -> str:
        return "(" + ", ".join(map(str, v)) + ("," if len(v) == 1 else "") + ")"

    parts = [str(c_in), str(c_out), f"kernel_size={tup(kernel)}", f"stride={tup(params.stride)}"]
    if any(params.padding):
        parts.append(f"padding={tup(params.padding)}")
    if any(d != 1 for d in params.dilation):
        parts.append(f"dilation={tup(params.dilation)}")
    if any(params.output_padding):
        parts.append(f"output_padding={tup(params.output_padding)}")
    if params.groups != 1:
        parts.append(f"groups={params.groups}")
    if not bias:
        parts.append("bias=False")
    return f"ConvTranspose{ndim}d(" + ", ".join(parts) + ")"


def _axis(name: str, i: int, k: int, s: int, p: int, op: int, d: int) -> AxisSize:
    inv = inverse_conv(i, k, s, p, op, d)
    base = output_size(i, k, s, p, 0, d)
    ops = output_padding_range(s, d)  # a range: never materialised (dilation may be huge)
    first_op = max(0, 1 - base)  # the chosen op gives a positive size, so first_op ≤ op
    return AxisSize(
        axis=name,
        in_size=i,
        kernel=k,
        stride=s,
        padding=p,
        output_padding=op,
        dilation=d,
        out_size=output_size(i, k, s, p, op, d),
        formula=output_formula(i, k, s, p, op, d),
        canvas=canvas_size(i, k, s, d),
        canvas_formula=canvas_formula(i, k, s, d),
        output_padding_max=ops[-1],
        reachable_ops=(first_op, ops[-1]),
        reachable_sizes=(base + first_op, base + ops[-1]),
        output_size_range=(base, base + s - 1),
        inverse=inv,
        inverse_formula=inverse_formula(inv),
    )


def size_report(
    size: tuple[int, ...],
    kernel: object,
    stride: object = 1,
    padding: object = 0,
    output_padding: object = 0,
    dilation: object = 1,
    *,
    out_channels: int | None = None,
    groups: int = 1,
    bias: bool = True,
) -> SizeReport:
    """The size report for ``size`` (spatial sizes, or a full tensor shape with ``out_channels``).

    Per-dim values (``kernel`` … ``dilation``) are an int or a tuple of one int per spatial dim. A
    single spatial size is repeated when a per-dim value fixes more dims (``64`` with ``k=(3, 2)`` is
    64×64). With ``out_channels``, ``size`` is ``(N, C_in, *spatial)`` or ``(C_in, *spatial)``: the
    number of spatial dims is ``len(size) - 2`` (batched) unless a per-dim value has
    ``len(size) - 1`` entries (unbatched), or ``size`` has only 2 entries.
    """
    per_dim_values = (kernel, stride, padding, output_padding, dilation)
    lengths = {len(v) for v in per_dim_values if isinstance(v, tuple) and len(v) > 1}
    size = tuple(size)
    if out_channels is None:
        if groups != 1:
            raise ConvtError(
                f"groups={groups} splits channels: give a full tensor shape such as 1x1280x64x64 and --out-channels",
                zh=f"groups={groups} 用于拆分通道：请给出完整张量形状（如 1x1280x64x64）和 --out-channels",
            )
        if len(size) > 3:
            raise ConvtError(
                f"size {TIMES.join(map(str, size))} has {len(size)} values: give 1 to 3 spatial sizes, "
                "or a full tensor shape (N, C_in, *spatial) together with --out-channels",
                zh=f"尺寸 {TIMES.join(map(str, size))} 有 {len(size)} 个值：请给出 1 到 3 个空间尺寸，"
                   "或给出完整张量形状 (N, C_in, *spatial) 并加 --out-channels",
            )
        if len(size) == 1 and len(lengths) == 1:
            size = size * lengths.pop()
        spatial, batched, c_in = size, True, 1
    else:
        n = len(size)
        if n < 2 or n > 5:
            raise ConvtError(
                f"size {TIMES.join(map(str, size))} with --out-channels must be a full tensor shape: "
                "(N, C_in, *spatial) or (C_in, *spatial) with 1 to 3 spatial dims, e.g. 1x1280x64x64",
                zh=f"加 --out-channels 时尺寸 {TIMES.join(map(str, size))} 必须是完整张量形状："
                   "(N, C_in, *spatial) 或 (C_in, *spatial)，含 1 到 3 个空间维，如 1x1280x64x64",
            )
        batched = not (n == 2 or (lengths and n - 1 in lengths and n - 2 not in lengths) or n - 2 > 3)
        nd = n - 2 if batched else n - 1
        c_in = size[1] if batched else size[0]
        spatial = size[-nd:]
        if out_channels <= 0:
            raise ConvtError(f"out_channels={out_channels} must be positive",
                             zh=f"out_channels={out_channels} 必须为正数")
    nd = len(spatial)
    params = ConvTransposeParams.make(nd, stride, padding, output_padding, dilation, groups)
    ks = per_dim(kernel, nd, "kernel")
    c_out = 1 if out_channels is None else out_channels
    if out_channels is not None:
        if c_in % groups != 0:
            raise ConvtError(
                f"groups={groups} must divide in_channels={c_in} (each group takes in_channels/groups channels)",
                zh=f"groups={groups} 必须整除 in_channels={c_in}（每组取 in_channels/groups 个通道）",
            )
        if c_out % groups != 0:
            raise ConvtError(
                f"groups={groups} must divide out_channels={c_out} (each group makes out_channels/groups channels)",
                zh=f"groups={groups} 必须整除 out_channels={c_out}（每组产生 out_channels/groups 个通道）",
            )
    x_shape = ((size[0],) if out_channels is not None and batched else ((1,) if batched else ())) + (c_in,) + spatial
    w_shape = (c_in, c_out // groups) + ks
    shapes = check_shapes(x_shape, w_shape, (c_out,) if bias else None, params)

    names = AXIS_NAMES[nd]
    axes = tuple(
        _axis(names[a], spatial[a], ks[a], params.stride[a], params.padding[a], params.output_padding[a],
              params.dilation[a])
        for a in range(nd)
    )
    verdict = overlap_verdict(ks, params.stride, params.dilation, MAX_PHASES_LISTED)
    tensor = None
    if out_channels is not None:
        tensor = TensorInfo(
            module=module_repr(nd, c_in, c_out, ks, params, bias),
            input_shape=x_shape,
            output_shape=shapes.output,
            weight_shape=w_shape,
            bias_shape=(c_out,) if bias else None,
            in_channels=c_in,
            out_channels=c_out,
            groups=groups,
            weight_params=math.prod(w_shape),
            bias_params=c_out if bias else 0,
        )
    return SizeReport(
        ndim=nd,
        in_spatial=spatial,
        kernel=ks,
        params=params,
        out_spatial=shapes.out_spatial,
        axes=axes,
        overlap_kind=verdict.kind,
        overlap_counts=verdict.counts,
        per_cell=verdict.per_cell,
        tensor=tensor,
    )


# --------------------------------------------------------------------------------------------
# Overlap, safe for huge values


MAX_PHASES_LISTED = 64


# --------------------------------------------------------------------------------------------
# --target: which parameters reach a size


@dataclass(frozen=True)
class Candidate:
    """One combination that reaches the target: the same k, s, d on every axis; p and op per axis."""

    kernel: int
    stride: int
    dilation: int
    padding: tuple[int, ...]
    output_padding: tuple[int, ...]
    out_sizes: tuple[int, ...]
    overlap_kind: str
    per_cell: tuple[int, int]
    keeps_edges: bool  # the crop keeps some contribution of the first and last input position
    sam3: bool

    @property
    def rank_key(self) -> tuple:
        return (not self.keeps_edges, OVERLAP_RANK[self.overlap_kind], self.kernel, self.stride, self.dilation,
                sum(self.padding), sum(self.output_padding), self.padding, self.output_padding)


@dataclass(frozen=True)
class TargetSearch:
    in_spatial: tuple[int, ...]
    target: tuple[int, ...]
    kernels: tuple[int, ...]
    strides: tuple[int, ...]
    dilations: tuple[int, ...]
    padding: int | None  # fixed by -p, else every valid value
    output_padding: int | None  # fixed by --output-padding, else every valid value
    candidates: tuple[Candidate, ...]  # best first


def _edge_kept(i: int, in_size: int, k: int, s: int, d: int, p: int, out: int) -> bool:
    return any(p <= i * s + j * d <= p + out - 1 for j in range(k))


def _axis_solutions(i: int, target: int, k: int, s: int, d: int, p_fixed: int | None,
                    op_fixed: int | None) -> list[tuple[int, int]]:
    """(p, op) pairs with output_size(i, k, s, p, op, d) == target: 2p = canvas + op - target."""
    canvas = canvas_size(i, k, s, d)
    found = []
    for op in output_padding_range(s, d):
        if op_fixed is not None and op != op_fixed:
            continue
        twice_p = canvas + op - target
        if twice_p < 0 or twice_p % 2:
            continue
        p = twice_p // 2
        if p_fixed is not None and p != p_fixed:
            continue
        found.append((p, op))
    return found


def _bound(value: int, name: str) -> int:
    if value < 1 or value > MAX_SEARCH_BOUND:
        raise ConvtError(f"{name}={value} must lie between 1 and {MAX_SEARCH_BOUND}",
                         zh=f"{name}={value} 必须在 1 到 {MAX_SEARCH_BOUND} 之间")
    return value


def search_target(
    size: tuple[int, ...],
    target: tuple[int, ...],
    *,
    kernel: int | None = None,
    stride: int | None = None,
    padding: int | None = None,
    output_padding: int | None = None,
    dilation: int = 1,
    max_kernel: int = DEFAULT_MAX_KERNEL,
    max_stride: int = DEFAULT_MAX_STRIDE,
) -> TargetSearch:
    """Every combination (k ≤ max_kernel, s ≤ max_stride, the given d, every valid p and op) reaching
    ``target``, ranked: the crop keeps the edge inputs, then even overlap (none or the same count
    everywhere) before uneven (checkerboard) before gaps, then smaller kernels, strides, paddings.

    A fixed ``kernel``/``stride``/``padding``/``output_padding`` narrows the search to that value.
    With several spatial dims the same k, s and d apply to every axis.
    """
    size, target = tuple(size), tuple(target)
    if len(size) == 1 and len(target) > 1:
        size = size * len(target)
    if len(target) == 1 and len(size) > 1:
        target = target * len(size)
    if len(size) != len(target) or len(size) > 3:
        raise ConvtError(
            f"target {TIMES.join(map(str, target))} has {len(target)} sizes but the input "
            f"{TIMES.join(map(str, size))} has {len(size)}; give one target size per spatial dim (1 to 3)",
            zh=f"目标 {TIMES.join(map(str, target))} 有 {len(target)} 个尺寸，而输入 "
               f"{TIMES.join(map(str, size))} 有 {len(size)} 个；每个空间维给一个目标尺寸（1 到 3 个）",
        )
    for value, name in ((kernel, "kernel"), (target[0], "target")):
        if value is not None and value < 1:
            raise ConvtError(f"{name}={value} must be positive", zh=f"{name}={value} 必须为正数")
    for value, name in ((kernel, "kernel"), (stride, "stride"), (dilation, "dilation")):
        if value is not None and value > MAX_SEARCH_BOUND:
            raise ConvtError(f"{name}={value} is too large for --target: the search takes values up to "
                             f"{MAX_SEARCH_BOUND}",
                             zh=f"{name}={value} 对 --target 太大：搜索只取不超过 {MAX_SEARCH_BOUND} 的值")
    # The shared per-parameter rules (stride > 0, padding ≥ 0, output_padding < stride or dilation, ...).
    ConvTransposeParams.make(1, 1 if stride is None else stride, padding or 0, 0, dilation)
    if output_padding is not None:
        ConvTransposeParams.make(1, stride or max(output_padding + 1, 1), 0, output_padding, dilation)
    kernels = (kernel,) if kernel is not None else tuple(range(1, _bound(max_kernel, "max_kernel") + 1))
    strides = (stride,) if stride is not None else tuple(range(1, _bound(max_stride, "max_stride") + 1))
    # Each axis is solved on its own (cached for axes of the same size and target); the combinations
    # are counted before any is built, and a search that would list too many is refused.
    solutions: dict[tuple[int, int], list[list[tuple[int, int, int, bool]]]] = {}
    for k in kernels:
        for s in strides:
            cache: dict[tuple[int, int], list[tuple[int, int, int, bool]]] = {}
            per_axis = []
            for i, t in zip(size, target):
                if (i, t) not in cache:
                    cache[(i, t)] = [
                        (p, op, t, _edge_kept(0, i, k, s, dilation, p, t)
                         and _edge_kept(i - 1, i, k, s, dilation, p, t))
                        for p, op in _axis_solutions(i, t, k, s, dilation, padding, output_padding)
                    ]
                per_axis.append(cache[(i, t)])
            if all(per_axis):
                solutions[(k, s)] = per_axis
    counts = {ks: math.prod(len(a) for a in per_axis) for ks, per_axis in solutions.items()}
    _check_search_size(counts, kernels, strides, len(size))
    found: list[Candidate] = []
    for (k, s), per_axis in solutions.items():
        verdict = overlap_verdict((k,) * len(size), (s,) * len(size), (dilation,) * len(size), 0)
        sam3_ks = k == 2 and s == 2 and dilation == 1
        for combo in itertools.product(*per_axis):
            ps = tuple(c[0] for c in combo)
            ops = tuple(c[1] for c in combo)
            found.append(Candidate(
                kernel=k, stride=s, dilation=dilation, padding=ps, output_padding=ops,
                out_sizes=tuple(c[2] for c in combo), overlap_kind=verdict.kind, per_cell=verdict.per_cell,
                keeps_edges=all(c[3] for c in combo), sam3=sam3_ks and not any(ps) and not any(ops),
            ))
    found.sort(key=lambda c: c.rank_key)
    return TargetSearch(
        in_spatial=size,
        target=target,
        kernels=kernels,
        strides=strides,
        dilations=(dilation,),
        padding=padding,
        output_padding=output_padding,
        candidates=tuple(found),
    )


MAX_CANDIDATES = 100_000  # combinations a --target search lists (about 2 s to build and rank)


def _check_search_size(counts: dict[tuple[int, int], int], kernels: tuple[int, ...], strides: tuple[int, ...],
                       ndim: int) -> None:
    """Refuse a search that would list more than MAX_CANDIDATES, naming the bounds that fit."""
    total = sum(counts.values())
    if total <= MAX_CANDIDATES:
        return
    hints: list[str] = []
    if len(strides) > 1:
        fit = max((s for s in strides if sum(n for (_, s2), n in counts.items() if s2 <= s) <= MAX_CANDIDATES),
                  default=0)
        if fit:
            hints.append(f"--max-stride {fit}")
    if len(kernels) > 1:
        fit = max((k for k in kernels if sum(n for (k2, _), n in counts.items() if k2 <= k) <= MAX_CANDIDATES),
                  default=0)
        if fit:
            hints.append(f"--max-kernel {fit}")
    change = (" or ".join(hints) + ", or " if hints else "") + "fix -k, -s, -p or --output-padding"
    raise ConvtError(
        f"the search would list {total:,} combinations (kernel sizes up to {max(kernels)}, strides up to "
        f"{max(strides)}, every padding and output_padding on {ndim} {'axis' if ndim == 1 else 'axes'}), more than the "
        f"{MAX_CANDIDATES:,} it lists; use {change}",
        zh=f"搜索将列出 {total:,} 种组合（卷积核尺寸至多 {max(kernels)}、stride 至多 {max(strides)}、"
           f"{ndim} 个轴上的所有 padding 与 output_padding），超过上限 {MAX_CANDIDATES:,}；请用 "
           + (" 或 ".join(hints) + "，或 " if hints else "") + "固定 -k、-s、-p 或 --output-padding",
    )


# --------------------------------------------------------------------------------------------
# --json


def report_dict(report: SizeReport) -> dict:
    """The size report as plain JSON-ready data."""
    p = report.params
    data: dict = {
        "ndim": report.ndim,
        "input_size": list(report.in_spatial),
        "kernel_size": list(report.kernel),
        "stride": list(p.stride),
        "padding": list(p.padding),
        "output_padding": list(p.output_padding),
        "dilation": list(p.dilation),
        "output_size": list(report.out_spatial),
        "axes": [
            {
                "axis": a.axis,
                "input": a.in_size,
                "output": a.out_size,
                "formula": a.formula,
                "canvas": a.canvas,
                "canvas_formula": a.canvas_formula,
                "output_padding_range": [0, a.output_padding_max],
                "reachable": {"output_padding": list(a.reachable_ops), "sizes": list(a.reachable_sizes)},
                "forward_output_size_range": list(a.output_size_range),
                "taps_per_phase": None if counts is None else list(counts),
                "inverse_conv": {
                    "kernel_size": a.inverse.kernel,
                    "stride": a.inverse.stride,
                    "padding": a.inverse.padding,
                    "dilation": a.inverse.dilation,
                    "input": a.inverse.in_size,
                    "output": a.inverse.out_size,
                    "remainder": a.inverse.remainder,
                    "formula": a.inverse_formula,
                    "round_trip": a.round_trip,
                },
            }
            for a, counts in zip(report.axes, report.overlap_counts)
        ],
        "overlap": {"kind": report.overlap_kind, "min_per_cell": report.per_cell[0],
                    "max_per_cell": report.per_cell[1]},
        "sam3_choice": report.sam3,
        "tensor": None,
    }
    if report.tensor is not None:
        tn = report.tensor
        data["tensor"] = {
            "module": tn.module,
            "input_shape": list(tn.input_shape),
            "output_shape": list(tn.output_shape),
            "weight_shape": list(tn.weight_shape),
            "bias_shape": None if tn.bias_shape is None else list(tn.bias_shape),
            "in_channels": tn.in_channels,
            "out_channels": tn.out_channels,
            "groups": tn.groups,
            "weight_parameters": tn.weight_params,
            "bias_parameters": tn.bias_params,
            "parameters": tn.parameters,
        }
    return data


def search_dict(search: TargetSearch) -> dict:
    """The ``--target`` search as plain JSON-ready data (every candidate, best first)."""
    return {
        "input_size": list(search.in_spatial),
        "target": list(search.target),
        "kernel_sizes": list(search.kernels),
        "strides": list(search.strides),
        "dilation": search.dilations[0],
        "padding": search.padding,
        "output_padding": search.output_padding,
        "count": len(search.candidates),
        "candidates": [
            {
                "rank": rank,
                "kernel_size": c.kernel,
                "stride": c.stride,
                "dilation": c.dilation,
                "padding": list(c.padding),
                "output_padding": list(c.output_padding),
                "output_size": list(c.out_sizes),
                "overlap": c.overlap_kind,
                "min_per_cell": c.per_cell[0],
                "max_per_cell": c.per_cell[1],
                "keeps_edge_inputs": c.keeps_edges,
                "sam3_choice": c.sam3,
            }
            for rank, c in enumerate(search.candidates, start=1)
        ],
    }
