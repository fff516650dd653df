"""The case ``convt show`` and the explorer draw: options or arrays → input, kernel, parameters and the
output channels to draw (every check before any big allocation), and the optional PyTorch check.

Plain records, no printing: :mod:`convt_cli.commands.show` renders them in the terminal,
:mod:`convt_cli.explorer` as a page.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .errors import ConvtError

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np

    from .shapes import ConvTransposeParams

VIEWS = ("scatter", "gather", "matrix")
DEFAULT_INPUT = "1,2;3,4"
DEFAULT_KERNEL = "1,0;0,1"
DEFAULT_STRIDE = "2"
RANDOM_INPUT_RANGE = (0, 9)  # inclusive: small integers for exploring
RANDOM_KERNEL_RANGE = (-1, 2)


def check_view(value: str) -> str:
    v = value.strip().lower()
    if v not in VIEWS:
        raise ConvtError(f"{value!r} is not a view; use scatter, gather or matrix",
                         zh=f"{value!r} 不是视图；请用 scatter、gather 或 matrix")
    return v


@dataclass
class Job:
    """One output channel to draw: input (C, *S) and kernel (C, *k) summed over C."""

    x: np.ndarray
    k: np.ndarray
    out_channel: int
    in_channels: range
    bias: float | None


@dataclass
class Case:
    x_full: np.ndarray  # (C_in, *S)
    w_full: np.ndarray  # (C_in, C_out/groups, *k)
    bias_vec: np.ndarray | None
    params: ConvTransposeParams
    channels: bool  # the input was given with a channel axis
    c_in: int
    c_out: int
    out_shape: tuple[int, ...]
    jobs: list[Job] = field(default_factory=list)
    seed: int | None = None


def random_array(spec: str, what: str, rng_range: tuple[int, int], seed: int) -> np.ndarray:
    # lazy for start-up: these load NumPy, which convt --help never does (import numpy ≈ 110 ms here)
    import numpy as np

    from .limits import check_bytes
    from .parsing import parse_size_list

    shape = parse_size_list(spec, f"{what} size")
    if not 1 <= len(shape) <= 3:
        raise ConvtError(f"{what} size {spec!r} has {len(shape)} dims; convt show draws 1, 2 or 3 dims",
                         zh=f"{what} 尺寸 {spec!r} 有 {len(shape)} 维；convt show 只画 1、2 或 3 维")
    size = 1
    for s in shape:
        size *= s
    check_bytes(size * 8, f"{what} {spec}")  # before allocating anything
    rng = np.random.default_rng([seed, 0 if what == "--random" else 1])
    return rng.integers(rng_range[0], rng_range[1] + 1, size=shape, dtype=np.int64)


def build_case(*, input_: str | None, kernel: str | None, random: str | None, random_kernel: str | None,
               seed: int | None, stride: str, padding: str, output_padding: str, dilation: str, groups: int,
               channel: int | None, bias: str | None) -> Case:
    """Options → arrays, parameters and the output channels to draw; every check before any big allocation."""
    # lazy for start-up: these load NumPy, which convt --help never does (import numpy ≈ 110 ms here)
    import secrets

    from .parsing import parse_number, parse_per_dim, read_matrix

    if random is not None and input_ is not None:
        raise ConvtError("give either --input or --random, not both", zh="请给出 --input 或 --random，不要同时给出")
    if random_kernel is not None and kernel is not None:
        raise ConvtError("give either --kernel or --random-kernel, not both",
                         zh="请给出 --kernel 或 --random-kernel，不要同时给出")
    per_dim = {name: parse_per_dim(text, name) for name, text in
               (("stride", stride), ("padding", padding), ("output_padding", output_padding),
                ("dilation", dilation))}
    b = None if bias is None else parse_number(bias, "--bias")
    if (random is not None or random_kernel is not None) and seed is None:
        seed = secrets.randbelow(1_000_000)
    x = (random_array(random, "--random", RANDOM_INPUT_RANGE, seed) if random is not None
         else read_matrix(input_ if input_ is not None else DEFAULT_INPUT, "input"))
    k = (random_array(random_kernel, "--random-kernel", RANDOM_KERNEL_RANGE, seed) if random_kernel is not None
         else read_matrix(kernel if kernel is not None else DEFAULT_KERNEL, "kernel"))
    return case_from_arrays(x, k, per_dim, groups=groups, channel=channel, bias=b,
                            seed=seed if (random is not None or random_kernel is not None) else None)


def case_from_arrays(x: np.ndarray, k: np.ndarray, per_dim: dict, *, groups: int = 1, channel: int | None = None,
                     bias: float | None = None, seed: int | None = None) -> Case:
    """Arrays (single-channel, or (C_in, *S) with a (C_in, C_out/groups, *k) kernel) → the case to draw."""
    import math

    import numpy as np

    from .engine import prepare
    from .errors import ConvtError
    from .limits import check_bytes

    b = bias
    if x.size == 0 or k.size == 0:
        raise ConvtError("input and kernel must not be empty", zh="输入和卷积核都不能为空")

    if x.ndim == k.ndim:
        channels = False
        if not 1 <= x.ndim <= 3:
            raise ConvtError(
                f"input of shape {list(x.shape)} has {x.ndim} dims; convt show draws 1, 2 or 3 spatial dims "
                "(a channel input is (C_in, *spatial) with a kernel (C_in, C_out/groups, *k))",
                zh=f"形状为 {list(x.shape)} 的输入有 {x.ndim} 维；convt show 只画 1、2 或 3 个空间维",
            )
        x_full, w_full = x[None], k[None, None]
    elif k.ndim == x.ndim + 1 and 2 <= x.ndim <= 4:
        channels = True
        x_full, w_full = x, k
    else:
        raise ConvtError(
            f"the kernel has {k.ndim} dims but the input has {x.ndim}: the kernel needs the input's rank, or one "
            "more for a channel input (C_in, *spatial) with a kernel (C_in, C_out/groups, *k)",
            zh=f"卷积核有 {k.ndim} 维而输入有 {x.ndim} 维：卷积核的维数须与输入相同；"
               "带通道的输入 (C_in, *空间) 则配 (C_in, C_out/groups, *k) 的卷积核",
        )
    if not channels and groups != 1:
        raise ConvtError(f"--groups {groups} needs channels: a .npy input (C_in, *spatial) and kernel "
                         "(C_in, C_out/groups, *k)", zh=f"--groups {groups} 需要带通道的输入与卷积核")
    c_out_guess = w_full.shape[1] * max(groups, 1)
    bias_vec = None if b is None else np.full((c_out_guess,), b)
    _, _, _, params, shapes = prepare(x_full, w_full, bias_vec, per_dim["stride"], per_dim["padding"],
                                      per_dim["output_padding"], per_dim["dilation"], groups)
    # The canvas, the output and a few steps' copies must fit the budget before the trace allocates them.
    extent = math.prod(max((i - 1) * s + d * (kk - 1) + 1, p + o) for i, kk, s, d, p, o in
                       zip(shapes.spatial, shapes.kernel, params.stride, params.dilation, params.padding,
                           shapes.out_spatial))
    check_bytes(extent * 8 * 4 * shapes.out_channels, f"the canvas of {shapes.out_channels} output channel(s)")
    c_in, c_out = shapes.in_channels, shapes.out_channels
    if channel is not None and not 0 <= channel < c_out:
        raise ConvtError(f"--channel {channel} does not exist: the output has {c_out} channel(s), 0 to {c_out - 1}",
                         zh=f"--channel {channel} 不存在：输出有 {c_out} 个通道（0 到 {c_out - 1}）")
    cig, cog = c_in // params.groups, c_out // params.groups
    case = Case(x_full, w_full, bias_vec, params, channels, c_in, c_out, shapes.out_spatial, seed=seed)
    for co in ([channel] if channel is not None else range(c_out)):
        g = co // cog
        chs = range(g * cig, (g + 1) * cig)
        case.jobs.append(Job(x_full[g * cig:(g + 1) * cig], w_full[g * cig:(g + 1) * cig, co % cog], co, chs, b))
    return case


@dataclass
class TorchCheck:
    delta: float
    ok: bool
    tolerance: str


def torch_check(case: Case) -> TorchCheck:
    """The whole output from PyTorch versus convt's engine, with the rule ``verify`` uses
    (``convt_cli.tolerance``): PyTorch computes in float64 (the reference); convt's answer, in its own
    dtype, must satisfy ``|a − e| ≤ atol + per_term·L + rtol·|e|`` with that dtype's tolerance and the
    reduction length ``L = C_in/groups·∏k``; non-finite values compare as PyTorch's
    ``assert_close(equal_nan=True)`` does (inf meets the same inf, NaN meets NaN).

    The per-term allowance is at least one machine epsilon of the dtype times the largest product
    ``max|x|·max|w|``: a sum of ``L`` products in that dtype may be off by that much per term, so
    large values that cancel are not flagged (float16/bfloat16 already allow ``eps·L``)."""
    # lazy for start-up: these load NumPy, which convt --help never does (import numpy ≈ 110 ms here)
    import dataclasses
    import math

    import numpy as np

    from .engine import conv_transpose
    from .reference import torch_conv_transpose
    from .tolerance import VALUE_TOLERANCE, compare_arrays

    p = case.params
    args = (case.x_full, case.w_full, case.bias_vec, p.stride, p.padding, p.output_padding, p.dilation, p.groups)
    ours = conv_transpose(*args)
    ref = torch_conv_transpose(*args, dtype="float64")
    kind = np.dtype(ours.dtype)
    name = kind.name if kind.kind == "f" and kind.name in VALUE_TOLERANCE else "float64"
    tol = VALUE_TOLERANCE[name]
    if kind.kind == "f":
        with np.errstate(over="ignore"):
            largest = float(np.max(np.abs(case.x_full.astype(np.float64)))
                            * np.max(np.abs(case.w_full.astype(np.float64))))
        if math.isfinite(largest):
            per_term = max(tol.per_term, float(np.finfo(kind).eps) * largest)
            tol = dataclasses.replace(tol, per_term=per_term)
    reduction = max(1, case.c_in // p.groups) * math.prod(case.w_full.shape[2:])
    cmp = compare_arrays(ours, ref, tol, reduction)
    if not cmp.passed and kind.kind == "f" and kind.name != "float64":
        # An overflow of the dtype itself: where convt's answer is an infinity that PyTorch computing in
        # that same dtype also gives, the two agree (the float64 reference has no such limit).
        with np.errstate(all="ignore"):
            native = torch_conv_transpose(*args, dtype=kind.name)
            same_inf = np.isinf(ours) & (np.asarray(native, dtype=np.float64) == np.asarray(ours, dtype=np.float64))
        if same_inf.any():
            ref = np.where(same_inf, np.asarray(ours, dtype=np.float64), ref)
            cmp = compare_arrays(ours, ref, tol, reduction)
    delta = cmp.max_abs if cmp.max_abs is not None else math.inf
    return TorchCheck(delta, cmp.passed, tol.formula(reduction))


def layer_report(text: str, source: str, random: str | None, seed: int | None) -> tuple[Any, tuple[str, ...]]:
    """A layer in any convention (the port layer parser) → its port report and show's options for its
    PyTorch form: input size, kernel size, stride, padding, output_padding, dilation (as option texts)."""
    from .errors import ConvtError
    from .parsing import parse_size_list
    from .port.layer import parse_layer
    from .port.report import port_report

    probe = parse_layer(text, source)
    nd = probe.geometry.nd
    size = parse_size_list(random, "random") if random else (3,) * nd
    report = port_report(parse_layer(text, source, size=size), "torch", seed or 0)
    g, p = report.layer.geometry, report.plan
    if g.groups > 1:
        raise ConvtError(f"--layer draws one channel; groups={g.groups} needs channel inputs (convt show -i FILE.npy "
                         "--groups …)", zh=f"--layer 只画单通道；groups={g.groups} 需要带通道的输入")

    def per(values: tuple[int, ...]) -> str:
        return ",".join(map(str, values))

    return report, ("x".join(map(str, g.size)), "x".join(map(str, g.kernel)), per(g.stride), per(p.args["padding"]),
                    per(p.args["output_padding"]), per(g.dilation))
