"""`convt verify`: check the NumPy engine — or anyone's implementation — against PyTorch, case by case.

Pure records, no printing. The pieces, in the order the command uses them:

- :class:`CaseSpec` — one case as text (``2d x=1x4x5x5 w=4x2x3x3 s=2 p=1 op=1 d=1 g=2 bias``) with a
  lossless :meth:`CaseSpec.parse` / :meth:`CaseSpec.format` round trip; the case's data are drawn from a
  seed derived from that text, so a printed reproducer re-runs exactly the same numbers.
- :func:`default_sweep` / :func:`random_sweep` — deterministic lists of cases (forward cases, the
  adjoint identity and the error-parity set per dimension count).
- :class:`Verifier` — runs one case against PyTorch (float64 reference) and returns a
  :class:`CaseResult` made of :class:`Check` records; an exception or a wrong answer from the subject is
  a failed check, never an exception.
- :class:`Report` — the results so far, the per-feature summary, the suspects and the JSON document
  (schema in ``docs/verify-json.md``).
- :func:`load_impl` — ``MODULE:FUNC`` or ``path/file.py:FUNC`` → a callable (:class:`ImplLoadError`).

PyTorch is imported lazily, inside the functions that need it.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import inspect
import math
import os
import random
import re
import sys
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .errors import ConvtError
from .limits import check_bytes
from .shapes import ConvTransposeParams, output_shape, output_size
from .tolerance import FLOAT32_PATH_TOLERANCE, VALUE_TOLERANCE, Tolerance, compare_arrays
from .tolerance import pow2 as _pow2

SCHEMA = "convt.verify/1"
DTYPES = ("float64", "float32", "float16", "bfloat16")
DEFAULT_SEED = 0
DEFAULT_FORWARD_CASES = 600
SUSPECT_CHANCE = 0.05
ALL_DIMS = (1, 2, 3)

Subject = Callable[..., object]


# ---------------------------------------------------------------------------------------------------
# Case specs
# ---------------------------------------------------------------------------------------------------

_KEYS = {"x", "w", "s", "p", "op", "d", "g", "bias"}
_DIM_RE = re.compile(r"([123])d", re.ASCII)
_INT_RE = re.compile(r"[+-]?[0-9]+", re.ASCII)
_SIZE_LIMIT = 2**40


def _spec_error(text: str, rule: str, zh: str) -> ConvtError:
    return ConvtError(f"case {text!r}: {rule}", zh=f"用例 {text!r}：{zh}")


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
    raw = (raw or "").strip()
    if not _INT_RE.fullmatch(raw):
        raise _spec_error(text, f"{name}={raw} is not a whole number", f"{name}={raw} 不是整数")
    value = int(raw)
    if abs(value) > 2**31:
        raise _spec_error(text, f"{name}={value} is too large", f"{name}={value} 太大")
    return value


def _parse_sizes(text: str, name: str, raw: str) -> tuple[int, ...]:
    parts = raw.split("x") if raw else []
    if not parts or any(not re.fullmatch(r"[0-9]+", p, re.ASCII) for p in parts):
        raise _spec_error(text, f"{name}={raw} must be sizes joined by x, e.g. {name}=1x4x5x5",
                          f"{name}={raw} 必须是用 x 连接的尺寸，例如 {name}=1x4x5x5")
    sizes = tuple(int(p) for p in parts)
    if any(s > _SIZE_LIMIT for s in sizes):
        raise _spec_error(text, f"{name}={raw} has a size beyond 2**40", f"{name}={raw} 中有超过 2**40 的尺寸")
    return sizes


def _parse_per_dim(text: str, name: str, raw: str | None, ndim: int, default: int) -> tuple[int, ...]:
    if raw is None:
        return (default,) * ndim
    parts = raw.split(",")
    values = tuple(_parse_int(text, name, p) for p in parts)
    if len(values) == 1:
        return values * ndim
    if len(values) != ndim:
        raise _spec_error(text, f"{name}={raw} has {len(values)} values; give one, or {ndim} (one per dim)",
                          f"{name}={raw} 有 {len(values)} 个值；请给 1 个或 {ndim} 个（每维一个）")
    return values


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
    "output_padding_dilation": ("output_padding", "dilation"),
}
CHECK_ROWS = ("size_formula", "float32_path", "adjoint", "error_parity")
ROWS = ("all",) + FORWARD_FEATURES + CHECK_ROWS


# ---------------------------------------------------------------------------------------------------
# Sweeps
# ---------------------------------------------------------------------------------------------------


def _make(ndim: int, x: tuple[int, ...], w: tuple[int, ...], s: object = 1, p: object = 0, op: object = 0,
          d: object = 1, g: int = 1, bias: bool | int | None = False, adjoint: bool = False) -> CaseSpec:
    def tup(v: object) -> tuple[int, ...]:
        return tuple(v) if isinstance(v, tuple) else (int(v),) * ndim  # type: ignore[call-overload]

    if bias is True:
        blen: int | None = w[1] * g
    elif bias is False or bias is None:
        blen = None
    else:
        blen = int(bias)
    return CaseSpec(ndim, tuple(x), tuple(w), tup(s), tup(p), tup(op), tup(d), g, blen, adjoint)


def curated_cases(dims: Iterable[int] = ALL_DIMS) -> list[CaseSpec]:
    """Hand-picked corners, for each dimension count: every one a configuration PyTorch accepts."""
    cases: list[CaseSpec] = []
    for nd in dims:
        sp = {1: 5, 2: 4, 3: 3}[nd]
        S = (sp,) * nd

        def k(v: int, nd: int = nd) -> tuple[int, ...]:
            return (v,) * nd

        cases += [
            _make(nd, (1, 4) + S, (4, 2) + k(2), s=2),                              # SAM 3 neck: k2 s2
            _make(nd, (2, 3) + S, (3, 2) + k(3), s=2, p=1, op=1, bias=True),         # op computed (p ≥ op)
            _make(nd, (1, 2) + S, (2, 3) + k(3), s=2, p=0, op=1, bias=True),         # op past the taps: bias
            _make(nd, (1, 2) + S, (2, 2) + k(2), s=3),                              # stride > kernel: gaps
            _make(nd, (1, 2) + S, (2, 2) + k(1), s=3, op=2, bias=True),             # k=1, stride 3, op 2
            _make(nd, (1, 2) + S, (2, 1) + k(3), s=1, d=2, op=1),                   # stride 1 / dilation 2 corner
            _make(nd, (1, 2) + S, (2, 2) + k(2), s=2, d=3, op=2, p=1),              # op < dilation only
            _make(nd, (3, 2) + S, (2, 2) + k(3), s=2, d=3, p=2, bias=True),         # batch > 1, dilation 3
            _make(nd, (2,) + S, (2, 3) + k(3), s=2, p=1, bias=True),                # unbatched
            _make(nd, (1, 4) + S, (4, 2) + k(3), s=2, p=1, g=4, bias=True),         # depthwise ×2
            _make(nd, (2, 4) + S, (4, 3) + k(2), s=2, g=2, bias=True),              # groups 2
            _make(nd, (1, 3) + k(1), (3, 2) + k(3), s=3, bias=True),                # input size 1
            _make(nd, (1, 1) + S, (1, 1) + k(3),                                    # padding at its limit: out 1
                  p=(sp - 1 + 2) // 2, op=0),
            _make(nd, (1, 1) + S, (1, 1) + k(1), s=1),                              # identity-like
        ]
        if nd >= 2:
            ks = (3, 2, 1)[:nd]
            cases += [
                _make(nd, (1, 2) + S, (2, 2) + ks, s=(2, 1, 3)[:nd], p=(1, 0, 0)[:nd], bias=True),
                _make(nd, (2, 2) + S, (2, 1) + ks[::-1], s=(1, 3, 2)[:nd], p=(0, 1, 1)[:nd],
                      op=(0, 2, 1)[:nd], d=(2, 1, 1)[:nd], g=2),
                _make(nd, (2,) + S, (2, 2) + k(3), s=(3, 2, 1)[:nd], d=(1, 2, 3)[:nd], op=(1, 1, 2)[:nd]),
            ]
    return cases


def random_case(rng: random.Random, ndim: int) -> CaseSpec:
    """One valid forward case with small sizes (every parameter in range, output size ≥ 1)."""
    max_in, max_k = {1: (7, 5), 2: (5, 4), 3: (4, 3)}[ndim]

    def per_dim(draw: Callable[[], int]) -> tuple[int, ...]:
        if ndim == 1 or rng.random() < 0.5:
            return (draw(),) * ndim
        return tuple(draw() for _ in range(ndim))

    roll = rng.random()
    if roll < 0.5:
        groups, cig, cog = 1, rng.randint(1, 3), rng.randint(1, 3)
    elif roll < 0.75:
        groups, cig, cog = 2, rng.randint(1, 2), rng.randint(1, 2)
    else:  # depthwise, with a channel multiplier of 1 or 2
        groups, cig, cog = rng.randint(2, 4), 1, rng.randint(1, 2)
    c_in = groups * cig
    spatial = per_dim(lambda: rng.randint(1, max_in))
    kernel = per_dim(lambda: rng.randint(1, max_k))
    stride = per_dim(lambda: rng.randint(1, 3))
    dilation = per_dim(lambda: rng.choice((1, 1, 2, 3)))
    output_padding = tuple(rng.randrange(max(s, d)) if rng.random() < 0.5 else 0 for s, d in zip(stride, dilation))
    padding = []
    for i, k, s, d, op in zip(spatial, kernel, stride, dilation, output_padding):
        p_max = ((i - 1) * s + d * (k - 1) + op) // 2  # largest padding that keeps the output ≥ 1
        padding.append(0 if rng.random() < 0.35 else rng.randint(0, p_max))
    if ndim > 1 and rng.random() < 0.5:
        padding = [padding[0]] * ndim if all(
            output_size(i, k, s, padding[0], op, d) >= 1
            for i, k, s, d, op in zip(spatial, kernel, stride, dilation, output_padding)) else padding
    roll = rng.random()
    x_shape = (c_in,) + spatial if roll < 0.2 else ((1 if roll < 0.6 else rng.randint(2, 3)), c_in) + spatial
    return CaseSpec(ndim, x_shape, (c_in, cog) + kernel, stride, tuple(padding), output_padding, dilation,
                    groups, groups * cog if rng.random() < 0.5 else None)


def adjoint_cases(dims: Iterable[int] = ALL_DIMS) -> list[CaseSpec]:
    """A few configurations per dimension count for ``<conv(a, w), b> == <a, conv_transpose(b, w)>``."""
    cases = []
    for nd in dims:
        S = {1: (6,), 2: (4, 5), 3: (3, 4, 3)}[nd]
        cases += [
            _make(nd, (2, 3) + S, (3, 2) + (3,) * nd, s=2, p=1, op=1, adjoint=True),
            _make(nd, (1, 4) + S, (4, 1) + (2,) * nd, s=1, d=2, p=1, g=2, adjoint=True),
            _make(nd, (2,) + S, (2, 2) + (3, 2, 1)[:nd], s=(3, 1, 2)[:nd], p=(1, 0, 0)[:nd],
                  op=(2, 0, 1)[:nd], adjoint=True),
            _make(nd, (1, 3) + S, (3, 2) + (2,) * nd, s=3, d=2, g=3, adjoint=True),
        ]
    return cases


def error_cases(dims: Iterable[int] = ALL_DIMS) -> list[CaseSpec]:
    """Configurations PyTorch rejects, one broken rule each (FACTS.md §2 and three more), per dimension count."""
    cases = []
    for nd in dims:
        S, K = (5,) * nd, (3,) * nd
        cases += [
            _make(nd, (1, 2) + S, (2, 1) + K, s=2, op=2),                 # op ≥ stride and ≥ dilation
            _make(nd, (1, 2) + S, (2, 1) + K, p=-1),                      # negative padding
            _make(nd, (1, 2) + S, (2, 1) + K, op=-1),                     # negative output_padding
            _make(nd, (1, 2) + S, (2, 1) + K, s=0),                       # stride 0
            _make(nd, (1, 2) + S, (2, 1) + K, d=0),                       # dilation 0
            _make(nd, (1, 2) + S, (2, 1) + K, g=0),                       # groups 0
            _make(nd, (1, 4) + S, (3, 1) + K),                            # channel mismatch
            _make(nd, (1, 4) + S, (4, 1) + K, g=3),                       # groups does not divide C_in
            _make(nd, (1, 2) + (2,) * nd, (2, 1) + (1,) * nd, p=1),       # output size 0
            _make(nd, (1, 1, 2) + S, (2, 1) + K),                         # input of the wrong rank
            _make(nd, (1, 2) + S, (2, 1) + K, bias=3),                    # bias of the wrong length
            _make(nd, (1, 2, 0) + S[1:], (2, 1) + K),                     # an empty spatial dim
            _make(nd, (1, 2) + S, (2, 0) + K),                            # no output channels
            _make(nd, (1, 2) + S, (2, 1, 0) + K[1:]),                     # a kernel size of 0
        ]
    return cases


def random_sweep(n: int, seed: int = DEFAULT_SEED, dims: Iterable[int] = ALL_DIMS,
                 error_parity: bool = True) -> list[CaseSpec]:
    """``n`` random forward cases (dims in turn), then the adjoint and (optionally) error-parity checks."""
    dims = tuple(dims)
    rng = random.Random(seed)
    forward = [random_case(rng, dims[i % len(dims)]) for i in range(n)]
    return forward + adjoint_cases(dims) + (error_cases(dims) if error_parity else [])


def default_sweep(seed: int = DEFAULT_SEED, dims: Iterable[int] = ALL_DIMS,
                  error_parity: bool = True) -> list[CaseSpec]:
    """The curated corners, random cases up to :data:`DEFAULT_FORWARD_CASES` (scaled by the dims asked
    for), the adjoint identity and (optionally: the engine only) error parity."""
    dims = tuple(dims)
    curated = curated_cases(dims)
    per_dims = DEFAULT_FORWARD_CASES * len(dims) // 3
    rng = random.Random(seed)
    fill = [random_case(rng, dims[i % len(dims)]) for i in range(max(0, per_dims - len(curated)))]
    return curated + fill + adjoint_cases(dims) + (error_cases(dims) if error_parity else [])


# ---------------------------------------------------------------------------------------------------
# Results
# ---------------------------------------------------------------------------------------------------


@dataclass
class Check:
    """One comparison inside a case. ``max_abs``/``max_rel`` are ``None`` when nothing was measured."""

    name: str  # values | size_formula | float32_path | adjoint | error_parity
    passed: bool
    max_abs: float | None = None
    max_rel: float | None = None
    tolerance: str = ""
    message: str = ""


@dataclass
class CaseResult:
    spec: CaseSpec
    kind: str  # forward | adjoint | error
    checks: list[Check]
    features: tuple[str, ...] = ()

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.checks)

    @property
    def message(self) -> str:
        return "; ".join(f"{c.name}: {c.message}" for c in self.checks if not c.passed)

    def check(self, name: str) -> Check | None:
        return next((c for c in self.checks if c.name == name), None)


# ---------------------------------------------------------------------------------------------------
# Error parity: which rule did PyTorch name, and does the engine name it too?
# ---------------------------------------------------------------------------------------------------

# (rule, PyTorch's message, the engine's message) — regexes, first torch match wins.
PARITY_RULES: tuple[tuple[str, str, str], ...] = (
    ("output_padding < stride or dilation", r"output padding must be smaller",
     r"output_padding=\d+ in dim \d+ must be smaller than stride"),
    ("output_padding ≥ 0", r"negative output_padding", r"output_padding=-\d+"),
    ("padding ≥ 0", r"negative padding", r"(?<![_a-z])padding=-\d+"),
    ("stride > 0", r"non-positive stride", r"stride=-?\d+ in dim \d+ must be positive"),
    ("dilation > 0", r"dilation should be greater than zero", r"dilation=-?\d+ in dim \d+ must be greater than zero"),
    ("groups > 0", r"non-positive groups", r"groups=-?\d+ must be positive"),
    ("input channels = weight C_in", r"to have \d+ channels", r"input has \d+ channels but the weight"),
    ("groups divides C_in", r"divisible by", r"groups=\d+ must divide"),
    ("output size > 0", r"Output size is too small", r"output size .* is too small"),
    ("input rank", r"Expected \d+D \(unbatched\) or \d+D \(batched\) input", r"input of shape .* must have"),
    ("bias length = C_out", r"expected bias", r"bias of shape .* must be"),
    ("spatial input sizes > 0", r"Only zero batch or zero channel inputs are supported",
     r"input size 0 in spatial dim \d+ must be positive"),
    # PyTorch's 3-d kernel names an empty weight where 1-d/2-d name the zero kernel size.
    ("weight not empty", r"non-empty .*weight", r"has no output channels|kernel size 0 in dim \d+"),
    ("kernel size > 0", r"kernel size should be greater than zero",
     r"kernel size -?\d+ in dim \d+ must be greater than zero"),
)


def parity_rule(torch_message: str) -> tuple[str, str | None]:
    """(rule name, engine regex) for PyTorch's message; ("unrecognised", None) when none matches."""
    for rule, torch_re, engine_re in PARITY_RULES:
        if re.search(torch_re, torch_message):
            return rule, engine_re
    return "unrecognised", None


# ---------------------------------------------------------------------------------------------------
# Comparisons
# ---------------------------------------------------------------------------------------------------


def _one_line(text: str, limit: int = 240) -> str:
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _to_float64(value: object) -> np.ndarray:
    """A subject's return value → float64 ndarray, or :class:`ValueError` saying why it cannot be."""
    if hasattr(value, "detach") and hasattr(value, "cpu"):  # a torch tensor
        value = value.detach().cpu()
        if str(getattr(value, "dtype", "")) == "torch.bfloat16":
            value = value.float()
        value = value.numpy()
    if value is None:
        raise ValueError("returned None instead of an array")
    arr = np.asarray(value)
    if arr.dtype.kind not in "biuf":
        raise ValueError(f"returned an array of dtype {arr.dtype}; a real numeric array is required")
    return arr.astype(np.float64)


def compare_values(actual: np.ndarray, expected: np.ndarray, tol: Tolerance, reduction: int,
                   name: str = "values") -> Check:
    """Shapes first, then the tolerance rule of :mod:`convt_cli.tolerance` (non-finite as PyTorch)."""
    text = tol.formula() + (f" (L = {reduction})" if tol.scaled else "")
    cmp = compare_arrays(actual, expected, tol, reduction)
    return Check(name, cmp.passed, cmp.max_abs, cmp.max_rel, text, cmp.message(actual.shape, expected.shape))


# ---------------------------------------------------------------------------------------------------
# The verifier
# ---------------------------------------------------------------------------------------------------


def engine_subject(x, weight, bias, *, stride, padding, output_padding, dilation, groups):  # noqa: ANN001
    """The NumPy engine under the ``--impl`` contract."""
    from .engine import conv_transpose

    return conv_transpose(x, weight, bias, stride, padding, output_padding, dilation, groups)


def _round_to(arr: np.ndarray, dtype: str) -> np.ndarray:
    """Values representable in ``dtype`` (kept as float64); bfloat16 is rounded by torch."""
    if dtype == "float64":
        return arr
    if dtype == "bfloat16":
        from .reference import torch_module

        torch = torch_module()
        return torch.from_numpy(np.ascontiguousarray(arr, dtype=np.float32)).to(torch.bfloat16).double().numpy()
    return arr.astype(dtype).astype(np.float64)


def _as_subject_dtype(arr: np.ndarray | None, dtype: str) -> np.ndarray | None:
    """What the subject receives: float64, float32, float16; bfloat16 values travel as float32."""
    if arr is None:
        return None
    return np.array(arr, dtype={"bfloat16": np.float32}.get(dtype, dtype))


class Verifier:
    """Runs cases against PyTorch. ``subject`` follows the ``--impl`` contract.

    ``is_engine``: the subject is convt's own engine — then the float32 path is checked too (at
    ``dtype="float64"``), unbatched inputs are passed as they are, and error parity is checked.
    A user function always receives a batch (unbatched cases get ``N = 1`` added and removed).
    """

    def __init__(self, subject: Subject | None = None, *, dtype: str = "float64", is_engine: bool | None = None):
        if dtype not in DTYPES:
            raise ConvtError(f"dtype {dtype!r} is not one of {', '.join(DTYPES)}")
        self.subject: Subject = subject or engine_subject
        self.is_engine = subject is None if is_engine is None else is_engine
        self.dtype = dtype
        self.tolerance = VALUE_TOLERANCE[dtype]
        self.float32_path = self.is_engine and dtype == "float64"
        from .reference import torch_module

        self.torch = torch_module()

    # --- the calls --------------------------------------------------------------------------------
    def _torch(self, spec: CaseSpec, x: np.ndarray, w: np.ndarray, b: np.ndarray | None) -> np.ndarray:
        from .reference import torch_conv_transpose

        return torch_conv_transpose(x, w, b, spec.stride, spec.padding, spec.output_padding, spec.dilation,
                                    spec.groups, dtype="float64")

    def _call(self, spec: CaseSpec, x: np.ndarray, w: np.ndarray, b: np.ndarray | None,
              dtype: str) -> np.ndarray:
        """The subject's answer as float64 (unbatched restored); raises ``_SubjectFailed``."""
        xs, ws, bs = (_as_subject_dtype(a, dtype) for a in (x, w, b))
        add_batch = not self.is_engine and not spec.batched
        if add_batch:
            xs = xs[None]
        try:
            with contextlib.redirect_stdout(sys.stderr):
                out = self.subject(xs, ws, bs, **spec.kwargs())
            arr = _to_float64(out)
        except (Exception, SystemExit) as exc:  # the subject's failure is a failed case, never a crash
            raise _SubjectFailed(f"{type(exc).__name__}: {_one_line(str(exc)) or '(no message)'}") from None
        if add_batch:
            if arr.ndim >= 1 and arr.shape[0] == 1:
                arr = arr[0]
            else:
                raise _SubjectFailed(f"returned shape {list(arr.shape)} for a batch of 1 (x {list(xs.shape)})")
        if self.is_engine and dtype == "bfloat16":
            arr = _round_to(arr, "bfloat16")
        return arr

    # --- one case ----------------------------------------------------------------------------------
    def run_case(self, spec: CaseSpec) -> CaseResult:
        x, w, b = spec.make_data()
        if self.dtype != "float64":
            x, w, b = (None if a is None else _round_to(a, self.dtype) for a in (x, w, b))
        try:
            expected = self._torch(spec, x, w, b)
        except Exception as exc:  # PyTorch rejects the configuration: error parity
            return self._error_case(spec, x, w, b, _one_line(str(exc).split("\n")[0], 400))
        if spec.adjoint:
            return self._adjoint_case(spec, x, w, expected)
        return self._forward_case(spec, x, w, b, expected)

    def _forward_case(self, spec: CaseSpec, x: np.ndarray, w: np.ndarray, b: np.ndarray | None,
                      expected: np.ndarray) -> CaseResult:
        checks = [self._size_check(spec, expected)]
        try:
            actual = self._call(spec, x, w, b, self.dtype)
        except _SubjectFailed as exc:
            checks.insert(0, Check("values", False, None, None, self.tolerance.formula(), str(exc)))
        else:
            checks.insert(0, compare_values(actual, expected, self.tolerance, spec.reduction))
        if self.float32_path:
            try:
                actual32 = self._call(spec, x, w, b, "float32")
            except _SubjectFailed as exc:
                checks.append(Check("float32_path", False, None, None, FLOAT32_PATH_TOLERANCE.formula(), str(exc)))
            else:
                checks.append(compare_values(actual32, expected, FLOAT32_PATH_TOLERANCE, spec.reduction,
                                             "float32_path"))
        return CaseResult(spec, "forward", checks, spec.features())

    def _size_check(self, spec: CaseSpec, expected: np.ndarray) -> Check:
        """convt's output-size formula (shapes.output_shape) against the shape PyTorch returned."""
        try:
            params = ConvTransposeParams(spec.stride, spec.padding, spec.output_padding, spec.dilation, spec.groups)
            sizes = output_shape(spec.spatial, spec.kernel, params)
        except ConvtError as exc:
            return Check("size_formula", False, message=f"the formula refuses a size PyTorch computes: {exc}")
        lead = (spec.batch, spec.out_channels) if spec.batched else (spec.out_channels,)
        if lead + sizes != tuple(expected.shape):
            return Check("size_formula", False,
                         message=f"formula gives {list(lead + sizes)}, PyTorch returns {list(expected.shape)}")
        return Check("size_formula", True)

    def _adjoint_case(self, spec: CaseSpec, b_in: np.ndarray, w: np.ndarray, y_ref: np.ndarray) -> CaseResult:
        """``<conv(a, w), b> == <a, conv_transpose(b, w)>``: conv by PyTorch, the transpose by the subject."""
        tol = self.tolerance
        text = f"|<conv(a,w),b> − <a,convT(b,w)>| ≤ Σ|a|·({tol.atol:g} + {tol.rtol:g}·|convT|" + (
            f" + {_pow2(tol.per_term)}·L)" if tol.scaled else ")")
        try:
            y = self._call(spec, b_in, w, None, self.dtype)
        except _SubjectFailed as exc:
            return CaseResult(spec, "adjoint", [Check("adjoint", False, None, None, text, str(exc))])
        if y.shape != y_ref.shape:
            return CaseResult(spec, "adjoint", [Check("adjoint", False, None, None, text,
                              f"shape {list(y.shape)} differs from PyTorch's {list(y_ref.shape)}")])
        a = np.random.default_rng(spec.data_seed + 1).uniform(-1.0, 1.0, y_ref.shape)
        if self.dtype != "float64":
            a = _round_to(a, self.dtype)
        torch = self.torch
        conv = {1: torch.nn.functional.conv1d, 2: torch.nn.functional.conv2d, 3: torch.nn.functional.conv3d}
        with torch.no_grad():
            ca = conv[spec.ndim](torch.from_numpy(a), torch.from_numpy(np.ascontiguousarray(w)), None,
                                 stride=spec.stride, padding=spec.padding, dilation=spec.dilation,
                                 groups=spec.groups).numpy()
        # With output_padding ≥ stride the conv reaches past b's extent; those rows meet b's zero extension.
        ca = ca[(Ellipsis,) + tuple(slice(0, n) for n in b_in.shape[-spec.ndim:])]
        lhs = float(np.sum(ca * b_in))
        rhs = float(np.sum(a * y))
        allowed = float(np.sum(np.abs(a) * (tol.atol_for(spec.reduction) + tol.rtol * np.abs(y_ref))))
        allowed += 1e-12 * float(np.sum(np.abs(ca * b_in)))  # the float64 conv side's own rounding
        err = abs(lhs - rhs)
        scale = max(abs(lhs), abs(rhs), float(np.sum(np.abs(a * y_ref))))
        rel = err / scale if scale > 0 else (0.0 if err == 0 else math.inf)
        ok = bool(err <= allowed)
        msg = "" if ok else f"<conv(a,w),b> = {lhs:.12g} but <a,convT(b,w)> = {rhs:.12g} (difference {err:.3g})"
        return CaseResult(spec, "adjoint", [Check("adjoint", ok, err, rel, text, msg)])

    def _error_case(self, spec: CaseSpec, x: np.ndarray, w: np.ndarray, b: np.ndarray | None,
                    torch_message: str) -> CaseResult:
        rule, engine_re = parity_rule(torch_message)
        if not self.is_engine:
            return CaseResult(spec, "error", [Check(
                "error_parity", False, message=f"PyTorch rejects this configuration ({torch_message}); "
                "--impl is checked on valid configurations only")])
        try:
            out = self.subject(x, w, b, **spec.kwargs())
        except ConvtError as exc:
            said = _one_line(exc.message, 400)
            if engine_re is None or re.search(engine_re, said):
                return CaseResult(spec, "error", [Check("error_parity", True, tolerance=rule,
                                                        message=f"PyTorch: {torch_message} | engine: {said}")])
            return CaseResult(spec, "error", [Check(
                "error_parity", False, tolerance=rule,
                message=f"PyTorch breaks rule '{rule}' ({torch_message}) but the engine says: {said}")])
        except Exception as exc:  # rejected, but not with a plain ConvtError: a bug in the engine
            return CaseResult(spec, "error", [Check(
                "error_parity", False, tolerance=rule,
                message=f"the engine raised {type(exc).__name__} instead of ConvtError: {_one_line(str(exc))}")])
        shape = list(np.shape(out))
        return CaseResult(spec, "error", [Check(
            "error_parity", False, tolerance=rule,
            message=f"PyTorch rejects this ({torch_message}) but the engine returned shape {shape}")])


class _SubjectFailed(Exception):
    pass


# ---------------------------------------------------------------------------------------------------
# The report
# ---------------------------------------------------------------------------------------------------


@dataclass
class FeatureRow:
    key: str
    cases: int = 0
    passed: int = 0
    max_abs: float | None = None
    max_rel: float | None = None

    @property
    def failed(self) -> int:
        return self.cases - self.passed

    def add(self, passed: bool, check: Check | None) -> None:
        self.cases += 1
        self.passed += int(passed)
        if check is not None:
            self.max_abs = _max(self.max_abs, check.max_abs)
            self.max_rel = _max(self.max_rel, check.max_rel)


def _max(a: float | None, b: float | None) -> float | None:
    if b is None:
        return a
    if a is None or math.isnan(b):
        return b
    if math.isnan(a):
        return a
    return max(a, b)


@dataclass
class Report:
    """Everything a run found; ``results`` grows as cases complete."""

    subject: str
    dtype: str
    planned: int
    seed: int | None = None
    dims: tuple[int, ...] = ALL_DIMS
    requested_cases: int | None = None
    single_case: bool = False
    float32_path: bool = False
    results: list[CaseResult] = field(default_factory=list)
    elapsed_s: float = 0.0
    interrupted: bool = False
    stopped_early: bool = False

    @property
    def completed(self) -> int:
        return len(self.results)

    @property
    def failures(self) -> list[CaseResult]:
        return [r for r in self.results if not r.passed]

    @property
    def ok(self) -> bool:
        return not self.failures and not self.interrupted

    @property
    def tolerance(self) -> Tolerance:
        return VALUE_TOLERANCE[self.dtype]

    @property
    def max_reduction(self) -> int:
        return max((r.spec.reduction for r in self.results if r.kind == "forward"), default=0)

    def rows(self) -> list[FeatureRow]:
        """The summary table: one row per feature present (forward cases) and per check kind."""
        rows = {key: FeatureRow(key) for key in ROWS}
        for r in self.results:
            main = r.check("values") or r.check("adjoint") or r.check("error_parity")
            rows["all"].add(r.passed, main)
            if r.kind == "forward":
                for key in r.features:
                    rows[key].add(r.passed, main)
                for key in ("size_formula", "float32_path"):
                    c = r.check(key)
                    if c is not None:
                        rows[key].add(c.passed, c)
            elif r.kind == "adjoint":
                rows["adjoint"].add(r.passed, main)
            else:
                rows["error_parity"].add(r.passed, None)
        return [row for row in rows.values() if row.cases or row.key == "all"]

    def suspects(self) -> list[str]:
        """Where the failures point: the features every failing forward case shares, unless that is
        likely by chance (a feature in a share ``q`` of the cases covers ``f`` failures by chance with
        probability ``q**f``; kept when ≤ 5 %), most specific first; then the adjoint / error-parity rows
        when they fail."""
        forward = [r for r in self.results if r.kind == "forward"]
        failing = [r for r in forward if not r.passed]
        named: list[str] = []
        if failing:
            share = {key: sum(key in r.features for r in forward) / len(forward) for key in FORWARD_FEATURES}
            common = [key for key in FORWARD_FEATURES
                      if all(key in r.features for r in failing) and share[key] < 1]
            # Keep the most specific: drop what a named feature implies (depthwise ⇒ groups > 1).
            common = [b for b in common if not any(b in IMPLIED.get(a, ()) for a in common)]
            named = [key for key in common if share[key] ** len(failing) <= SUSPECT_CHANCE]
            if not named:  # too few failures to be sure: the rarest shared features
                named = sorted(common, key=lambda k: share[k])[:3]
                named = [key for key in FORWARD_FEATURES if key in named]
        for kind, key in (("adjoint", "adjoint"), ("error", "error_parity")):
            if any(r.kind == kind and not r.passed for r in self.results):
                named.append(key)
        return named

    def as_json(self, reproduce: Callable[[CaseSpec], str]) -> dict[str, object]:
        """The stable JSON document (``docs/verify-json.md``)."""
        return {
            "schema": SCHEMA,
            "subject": self.subject,
            "dtype": self.dtype,
            "seed": self.seed,
            "dims": list(self.dims),
            "requested_cases": self.requested_cases,
            "single_case": self.single_case,
            "tolerance": {
                "values": self.tolerance.as_json(),
                "float32_path": FLOAT32_PATH_TOLERANCE.as_json() if self.float32_path else None,
                "max_reduction_length": self.max_reduction,
            },
            "planned": self.planned,
            "completed": self.completed,
            "passed": self.completed - len(self.failures),
            "failed": len(self.failures),
            "ok": self.ok,
            "interrupted": self.interrupted,
            "stopped_early": self.stopped_early,
            "elapsed_s": round(self.elapsed_s, 3),
            "features": [
                {"feature": row.key, "cases": row.cases, "passed": row.passed, "failed": row.failed,
                 "max_abs_err": _json_num(row.max_abs), "max_rel_err": _json_num(row.max_rel)}
                for row in self.rows()
            ],
            "suspects": self.suspects(),
            "failures": [case_json(r, reproduce) for r in self.failures],
        }


def case_json(result: CaseResult, reproduce: Callable[[CaseSpec], str]) -> dict[str, object]:
    return {
        "case": result.spec.format(),
        "kind": result.kind,
        "features": list(result.features),
        "passed": result.passed,
        "message": result.message,
        "reproduce": reproduce(result.spec),
        "checks": [
            {"check": c.name, "passed": c.passed, "max_abs_err": _json_num(c.max_abs),
             "max_rel_err": _json_num(c.max_rel), "tolerance": c.tolerance, "message": c.message}
            for c in result.checks
        ],
    }


def _json_num(value: float | None) -> float | str | None:
    if value is None:
        return None
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "inf"
    return float(f"{value:.6g}")


# ---------------------------------------------------------------------------------------------------
# Loading a user's implementation
# ---------------------------------------------------------------------------------------------------


class ImplLoadError(Exception):
    """``--impl`` names something that cannot be loaded (a usage error: exit 2)."""


CONTRACT = "FUNC(x, weight, bias, *, stride, padding, output_padding, dilation, groups) -> array-like"


def load_impl(target: str) -> tuple[Callable[..., object], str]:
    """``MODULE:FUNC`` or ``path/to/file.py:FUNC`` (FUNC may be dotted) → (callable, display name)."""
    text = target.strip()
    where, sep, name = text.rpartition(":")
    if not sep or not where or not name:
        raise ImplLoadError(f"{target!r} must be MODULE:FUNC or path/to/file.py:FUNC")
    if where.endswith(".py") or "/" in where or os.sep in where:
        module = _load_file(where)
    else:
        module = _load_module(where)
    obj: object = module
    for part in name.split("."):
        if not part.isidentifier() or not hasattr(obj, part):
            raise ImplLoadError(f"{where} has no attribute {name!r}")
        obj = getattr(obj, part)
    if not callable(obj):
        raise ImplLoadError(f"{where}:{name} is a {type(obj).__name__}, not a function")
    _check_signature(obj, f"{where}:{name}")
    return obj, f"{where}:{name}"


def _load_file(path_text: str) -> object:
    path = Path(path_text).expanduser()
    if not path.exists():
        raise ImplLoadError(f"file {path_text!r} does not exist")
    if not path.is_file():
        raise ImplLoadError(f"{path_text!r} is not a file")
    if path.suffix != ".py":
        raise ImplLoadError(f"file {path_text!r} is not a Python file (.py)")
    resolved = path.resolve()
    mod_name = f"convt_verify_impl_{zlib.crc32(str(resolved).encode()):08x}"
    spec = importlib.util.spec_from_file_location(mod_name, resolved)
    if spec is None or spec.loader is None:  # pragma: no cover - .py files always get a loader
        raise ImplLoadError(f"file {path_text!r} cannot be loaded as a Python module")
    module = importlib.util.module_from_spec(spec)
    folder = str(resolved.parent)
    if folder not in sys.path:
        sys.path.insert(0, folder)  # so the file can import its neighbours
    sys.modules[mod_name] = module
    try:
        spec.loader.exec_module(module)
    except (Exception, SystemExit) as exc:
        sys.modules.pop(mod_name, None)
        raise ImplLoadError(f"loading {path_text!r} failed: {type(exc).__name__}: {_one_line(str(exc))}") from None
    return module


def _load_module(name: str) -> object:
    if not all(part.isidentifier() for part in name.split(".")):
        raise ImplLoadError(f"{name!r} is not a module name (use MODULE:FUNC or path/to/file.py:FUNC)")
    cwd = os.getcwd()
    if cwd not in sys.path and "" not in sys.path:
        sys.path.insert(0, cwd)  # like `python -m`: modules in the current directory can be named
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name and (name == exc.name or name.startswith(exc.name + ".")):
            raise ImplLoadError(f"no module named {exc.name!r} (is it on PYTHONPATH or in this directory?)") from None
        raise ImplLoadError(f"importing {name!r} failed: {type(exc).__name__}: {_one_line(str(exc))}") from None
    except (Exception, SystemExit) as exc:
        raise ImplLoadError(f"importing {name!r} failed: {type(exc).__name__}: {_one_line(str(exc))}") from None


def _check_signature(func: object, display: str) -> None:
    try:
        sig = inspect.signature(func)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return  # builtins without a signature: try it
    try:
        sig.bind(None, None, None, stride=(1,), padding=(0,), output_padding=(0,), dilation=(1,), groups=1)
    except TypeError as exc:
        raise ImplLoadError(f"{display} cannot be called as {CONTRACT}: {exc}") from None


def parse_dims(text: str) -> tuple[int, ...]:
    """``"2"``, ``"1,2"``, ``"1 3"`` → sorted unique dims; ConvtError otherwise."""
    parts = [p for p in re.split(r"[,\s]+", text.strip()) if p]
    if not parts or any(p not in ("1", "2", "3") for p in parts):
        raise ConvtError(f"dims {text!r} must be 1, 2 or 3, or several of them like 1,2",
                         zh=f"维数 {text!r} 必须是 1、2 或 3，或几个的组合如 1,2")
    return tuple(sorted({int(p) for p in parts}))


def reproduce_command(spec: CaseSpec, impl: str | None = None, dtype: str = "float64") -> str:
    """The one-line command that re-runs ``spec`` alone, with the same subject and dtype."""
    import shlex

    parts = ["convt", "verify", "--case", f'"{spec.format()}"']
    if impl:
        parts += ["--impl", shlex.quote(impl)]
    if dtype != "float64":
        parts += ["--dtype", dtype]
    return " ".join(parts)
