"""The case language: one case as text, its data, and the features the summary counts (pure).

``2d x=1x4x5x5 w=4x2x3x3 s=2 p=1 op=1 d=1 g=2 bias`` ⇄ :class:`CaseSpec`, a lossless round trip; a
case's numbers are drawn from a seed derived from that text, so a printed reproducer re-runs exactly
the same data. Sizes and per-dim values are read by the shared parsers of :mod:`convt_cli.parsing`.
"""

from __future__ import annotations

import math
import re
import zlib
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..errors import ConvtError
from ..limits import check_bytes
from ..parsing import parse_per_dim, parse_size_list
from ..shapes import output_size

_KEYS = {"x", "w", "s", "p", "op", "d", "g", "bias"}
_DIM_RE = re.compile(r"([123])d", re.ASCII)
ALL_DIMS = (1, 2, 3)


def _spec_error(text: str, rule: str, zh: str) -> ConvtError:
    return ConvtError(f"case {text!r}: {rule}", zh=f"用例 {text!r}：{zh}")


def _wrap(text: str, exc: ConvtError) -> ConvtError:
    """A shared parser's error, prefixed with the case it came from."""
    return _spec_error(text, exc.message, exc.zh or exc.message)


@dataclass(frozen=True)
class CaseSpec:
    """One case: shapes and parameters, exactly as PyTorch would be called (possibly invalid).

    ``x_shape`` is ``(N, C_in, *spatial)`` or unbatched ``(C_in, *spatial)``; ``w_shape`` is
    ``(C_in, C_out/groups, *k)``; ``bias`` is the bias length (``None``: no bias). ``adjoint`` marks an
    adjoint-identity case instead of a forward comparison.
    """

    ndim: int
    x_shape: tuple[int, ...]
    w_shape: tuple[int, ...]
    stride: tuple[int, ...]
    padding: tuple[int, ...]
    output_padding: tuple[int, ...]
    dilation: tuple[int, ...]
    groups: int = 1
    bias: int | None = None
    adjoint: bool = False

    # --- derived -----------------------------------------------------------------------------------
    @property
    def batched(self) -> bool:
        return len(self.x_shape) == self.ndim + 2

    @property
    def batch(self) -> int:
        return self.x_shape[0] if self.batched else 1

    @property
    def kernel(self) -> tuple[int, ...]:
        return tuple(self.w_shape[2:])

    @property
    def spatial(self) -> tuple[int, ...]:
        return tuple(self.x_shape[-self.ndim:])

    @property
    def in_channels(self) -> int:
        return self.w_shape[0]

    @property
    def out_channels(self) -> int:
        return self.w_shape[1] * self.groups

    @property
    def reduction(self) -> int:
        """``C_in/groups · ∏k``: the most products summed into one output element."""
        return max(1, self.in_channels // max(1, self.groups)) * math.prod(self.kernel)

    def kwargs(self) -> dict[str, object]:
        return {"stride": self.stride, "padding": self.padding, "output_padding": self.output_padding,
                "dilation": self.dilation, "groups": self.groups}

    # --- text ----------------------------------------------------------------------------------------
    def format(self) -> str:
        """The canonical text; ``CaseSpec.parse(spec.format()) == spec``."""
        parts = ["adjoint"] if self.adjoint else []
        parts += [
            f"{self.ndim}d",
            "x=" + "x".join(map(str, self.x_shape)),
            "w=" + "x".join(map(str, self.w_shape)),
            "s=" + _fmt_dim(self.stride),
            "p=" + _fmt_dim(self.padding),
            "op=" + _fmt_dim(self.output_padding),
            "d=" + _fmt_dim(self.dilation),
            f"g={self.groups}",
        ]
        if self.bias is not None:
            parts.append("bias" if self.bias == self.out_channels else f"bias={self.bias}")
        return " ".join(parts)

    def __str__(self) -> str:
        return self.format()

    @classmethod
    def parse(cls, text: str) -> CaseSpec:
        """Read the format :meth:`format` prints. ``s p op d g`` default to 1 0 0 1 1; no ``bias``: none."""
        tokens = text.split()
        if not tokens:
            raise ConvtError("case is empty: give e.g. \"2d x=1x4x5x5 w=4x2x3x3 s=2 p=1\"",
                             zh="用例为空：例如 \"2d x=1x4x5x5 w=4x2x3x3 s=2 p=1\"")
        adjoint = tokens[0].lower() == "adjoint"
        if adjoint:
            tokens = tokens[1:]
        if not tokens or not _DIM_RE.fullmatch(tokens[0].lower()):
            raise _spec_error(text, "must start with the number of spatial dims: 1d, 2d or 3d",
                              "必须以空间维数开头：1d、2d 或 3d")
        ndim = int(tokens[0][0])
        values: dict[str, str | None] = {}
        for tok in tokens[1:]:
            key, sep, value = tok.partition("=")
            key = key.lower()
            if key not in _KEYS:
                raise _spec_error(text, f"{tok!r} is not one of x= w= s= p= op= d= g= bias",
                                  f"{tok!r} 不是 x= w= s= p= op= d= g= bias 之一")
            if key in values:
                raise _spec_error(text, f"{key} is given twice", f"{key} 出现了两次")
            if key != "bias" and not sep:
                raise _spec_error(text, f"{key} needs a value, e.g. {key}=2", f"{key} 需要一个值，例如 {key}=2")
            values[key] = value if sep else None
        for key in ("x", "w"):
            if key not in values:
                raise _spec_error(text, f"{key}= is required (e.g. x=1x4x5x5 w=4x2x3x3)",
                                  f"缺少 {key}=（例如 x=1x4x5x5 w=4x2x3x3）")
        x_shape = _parse_sizes(text, "x", values["x"] or "")
        w_shape = _parse_sizes(text, "w", values["w"] or "")
        if len(w_shape) != ndim + 2:
            raise _spec_error(
                text, f"w={values['w']} has {len(w_shape)} sizes; a {ndim}d case needs {ndim + 2} "
                "(C_in, C_out/groups and one kernel size per spatial dim)",
                f"w={values['w']} 有 {len(w_shape)} 个尺寸；{ndim}d 用例需要 {ndim + 2} 个")
        if len(x_shape) > ndim + 3:
            raise _spec_error(text, f"x={values['x']} has {len(x_shape)} sizes; at most {ndim + 3} make sense",
                              f"x={values['x']} 有 {len(x_shape)} 个尺寸；最多 {ndim + 3} 个")
        per = {name: _parse_per_dim(text, name, values.get(name), ndim, default)
               for name, default in (("s", 1), ("p", 0), ("op", 0), ("d", 1))}
        groups = _parse_int(text, "g", values["g"]) if values.get("g") is not None else 1
        bias: int | None = None
        if "bias" in values:
            raw = values["bias"]
            bias = w_shape[1] * groups if raw is None else _parse_int(text, "bias", raw)
            if bias < 0:
                raise _spec_error(text, f"bias={bias} must be a length ≥ 0", f"bias={bias} 必须是长度 ≥ 0")
        return cls(ndim, x_shape, w_shape, per["s"], per["p"], per["op"], per["d"], groups, bias, adjoint)

    # --- data ----------------------------------------------------------------------------------------
    @property
    def data_seed(self) -> int:
        """The seed of this case's numbers: a CRC of its canonical text (stable across runs)."""
        return zlib.crc32(self.format().encode("ascii"))

    def estimated_bytes(self) -> int:
        """A generous bound on what one run of this case allocates (inputs, outputs, scratch, copies)."""
        nx = math.prod(self.x_shape)
        nw = math.prod(self.w_shape)
        nb = self.bias or 0
        out_spatial = [max(0, output_size(i, k, s, p, o, d)) for i, k, s, p, o, d in
                       zip(self.spatial, self.kernel, self.stride, self.padding, self.output_padding, self.dilation)]
        n_out = self.batch * max(0, self.out_channels) * math.prod(out_spatial)
        scratch = self.batch * max(0, self.out_channels) * math.prod(self.kernel) * math.prod(self.spatial)
        canvas = self.batch * max(0, self.out_channels) * math.prod(
            max(o, (i - 1) * s + d * (k - 1) + 1 + p + max(0, op)) for o, i, k, s, d, p, op in
            zip(out_spatial, self.spatial, self.kernel, self.stride, self.dilation, self.padding,
                self.output_padding))
        return 8 * (4 * (nx + nw + nb) + 6 * n_out + 2 * (scratch + canvas))

    def check_budget(self) -> None:
        """Raise :class:`MemoryBudgetError` before allocating a case that would not fit."""
        check_bytes(self.estimated_bytes(), f"case {self.format()!r}")

    def make_data(self) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """float64 ``x, weight, bias`` drawn uniformly from [-1, 1] with :attr:`data_seed`."""
        self.check_budget()
        rng = np.random.default_rng(self.data_seed)
        x = rng.uniform(-1.0, 1.0, self.x_shape)
        w = rng.uniform(-1.0, 1.0, self.w_shape)
        b = None if self.bias is None else rng.uniform(-1.0, 1.0, (self.bias,))
        return x, w, b

    # --- features --------------------------------------------------------------------------------------
    def features(self) -> tuple[str, ...]:
        """The summary rows a (valid, forward) case belongs to; see :data:`FEATURES`."""
        return tuple(key for key, test in _FEATURE_TESTS if test(self))



def _fmt_dim(values: tuple[int, ...]) -> str:
    return str(values[0]) if len(set(values)) == 1 else ",".join(map(str, values))


def _parse_int(text: str, name: str, raw: str | None) -> int:
    try:
        value = parse_per_dim(raw or "", name)
    except ConvtError as exc:
        raise _wrap(text, exc) from None
    if isinstance(value, tuple):
        raise _spec_error(text, f"{name}={raw} must be one whole number", f"{name}={raw} 必须是一个整数")
    return value


def _parse_sizes(text: str, name: str, raw: str) -> tuple[int, ...]:
    if "," in raw:  # the case language joins sizes with x only (commas separate per-dim values)
        raise _spec_error(text, f"{name}={raw} must be sizes joined by x, e.g. {name}=1x4x5x5",
                          f"{name}={raw} 必须是用 x 连接的尺寸，例如 {name}=1x4x5x5")
    try:
        return parse_size_list(raw, name, min_value=0)
    except ConvtError as exc:
        raise _wrap(text, exc) from None


def _parse_per_dim(text: str, name: str, raw: str | None, ndim: int, default: int) -> tuple[int, ...]:
    if raw is None:
        return (default,) * ndim
    try:
        value = parse_per_dim(raw, name)
    except ConvtError as exc:
        raise _wrap(text, exc) from None
    values = value if isinstance(value, tuple) else (value,)
    if len(values) == 1:
        return values * ndim
    if len(values) != ndim:
        raise _spec_error(text, f"{name}={raw} has {len(values)} values; give one, or {ndim} (one per dim)",
                          f"{name}={raw} 有 {len(values)} 个值；请给 1 个或 {ndim} 个（每维一个）")
    return values


def parse_dims(text: str) -> tuple[int, ...]:
    """``"2"``, ``"1,2"``, ``"1 3"`` → sorted unique dims; ConvtError otherwise."""
    parts = [p for p in re.split(r"[,\s]+", text.strip()) if p]
    if not parts or any(p not in ("1", "2", "3") for p in parts):
        raise ConvtError(f"dims {text!r} must be 1, 2 or 3, or several of them like 1,2",
                         zh=f"维数 {text!r} 必须是 1、2 或 3，或几个的组合如 1,2")
    return tuple(sorted({int(p) for p in parts}))


# ---------------------------------------------------------------------------------------------------
# Features: the summary rows
# ---------------------------------------------------------------------------------------------------

_FEATURE_TESTS: tuple[tuple[str, Callable[[CaseSpec], bool]], ...] = (
    ("dims_1", lambda c: c.ndim == 1),
    ("dims_2", lambda c: c.ndim == 2),
    ("dims_3", lambda c: c.ndim == 3),
    ("unbatched", lambda c: not c.batched),
    ("batch_1", lambda c: c.batched and c.batch == 1),
    ("batch_gt1", lambda c: c.batched and c.batch > 1),
    ("channels_gt1", lambda c: c.in_channels > 1 or c.out_channels > 1),
    ("kernel_gt1", lambda c: any(k > 1 for k in c.kernel)),
    ("kernel_nonsquare", lambda c: len(set(c.kernel)) > 1),
    ("stride_gt1", lambda c: any(s > 1 for s in c.stride)),
    ("stride_gt_kernel", lambda c: any(s > k for s, k in zip(c.stride, c.kernel))),
    ("stride_aniso", lambda c: len(set(c.stride)) > 1),
    ("padding", lambda c: any(p > 0 for p in c.padding)),
    ("padding_aniso", lambda c: len(set(c.padding)) > 1),
    ("padding_beyond_kernel", lambda c: any(p > d * (k - 1) for p, d, k in zip(c.padding, c.dilation, c.kernel))),
    ("output_padding", lambda c: any(o > 0 for o in c.output_padding)),
    ("output_padding_dilation", lambda c: any(o >= s for o, s in zip(c.output_padding, c.stride))),
    ("dilation", lambda c: any(d > 1 for d in c.dilation)),
    ("groups", lambda c: c.groups > 1),
    ("depthwise", lambda c: c.groups > 1 and c.groups == c.in_channels),
    ("bias", lambda c: c.bias is not None),
)
FORWARD_FEATURES = tuple(key for key, _ in _FEATURE_TESTS)
# Features that another one implies by definition (a case with the key always has the values).
IMPLIED = {
    "depthwise": ("groups", "channels_gt1"),
    "groups": ("channels_gt1",),
    "kernel_nonsquare": ("kernel_gt1",),
    "stride_gt_kernel": ("stride_gt1",),
    "stride_aniso": ("stride_gt1",),
    "padding_aniso": ("padding",),
    "padding_beyond_kernel": ("padding",),
    "output_padding_dilation": ("output_padding", "dilation"),
}
CHECK_ROWS = ("size_formula", "float32_path", "adjoint", "error_parity")
ROWS = ("all",) + FORWARD_FEATURES + CHECK_ROWS
