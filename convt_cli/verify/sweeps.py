"""Sweeps: deterministic lists of cases — curated corners, random cases, the adjoint identity and error
parity — and the ``--only``/``--skip`` narrowing by feature (pure).

Every forward and adjoint case of a sweep writes at least one output cell that survives the padding
crop (:func:`writes_output`): a case whose output is the bias alone tests nothing.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Sequence

from ..parsing import parse_name_list
from ..shapes import output_size
from .cases import ALL_DIMS, FORWARD_FEATURES, CaseSpec
from .convention import expressible

DEFAULT_SEED = 0
DEFAULT_FORWARD_CASES = 600
MAX_DRAWS_PER_CASE = 200  # random draws allowed per kept case when --only/--skip narrow the sweep




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
    """One valid forward case with small sizes (every parameter in range, output size ≥ 1) that writes
    at least one kept output cell (drawn again until it does)."""
    while True:
        spec = _random_case_once(rng, ndim)
        if writes_output(spec):
            return spec


def _random_case_once(rng: random.Random, ndim: int) -> CaseSpec:
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
    """Configurations PyTorch rejects, one broken rule each, per dimension count."""
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


def writes_output(spec: CaseSpec) -> bool:
    """Some product lands in the kept output: per dim, a tap position ``i·s + j·d`` in ``[p, p + out)``.

    A case where this fails in any dim has an output made of the bias alone (or zeros).
    """
    for i, k, s, p, op, d in zip(spec.spatial, spec.kernel, spec.stride, spec.padding, spec.output_padding,
                                 spec.dilation):
        out = output_size(i, k, s, p, op, d)
        if i < 1 or k < 1 or out < 1:
            return False
        if not any(p <= a * s + j * d < p + out for j in range(k) for a in range(i)):
            return False
    return True


class Selection:
    """``--only``/``--skip``: which forward and adjoint cases a sweep keeps, by feature key.

    ``only``: a case is kept when it has every listed feature; ``skip``: dropped when it has any.
    Error-parity cases are configurations PyTorch rejects; they have no features and are kept.
    ``convention`` (``--convention``): cases that convention cannot express at all are dropped too.
    """

    def __init__(self, only: Sequence[str] = (), skip: Sequence[str] = (), convention: str | None = None):
        self.only = tuple(only)
        self.skip = tuple(skip)
        self.convention = convention

    def __bool__(self) -> bool:
        return bool(self.only or self.skip or self.convention)

    def keeps(self, spec: CaseSpec) -> bool:
        features = set(spec.features())
        if not (all(k in features for k in self.only) and not any(k in features for k in self.skip)):
            return False
        return self.convention is None or expressible_in(self.convention, spec)


def expressible_in(convention: str, spec: CaseSpec) -> bool:
    """Whether ``convention`` can compute ``spec`` (with at most one extra slice or pad)."""
    x_shape = spec.x_shape if spec.batched else (1, *spec.x_shape)
    ok, _ = expressible(convention, x_shape, spec.w_shape, stride=spec.stride, padding=spec.padding,
                        output_padding=spec.output_padding, dilation=spec.dilation, groups=spec.groups)
    return ok


def parse_feature_keys(text: str, option: str) -> tuple[str, ...]:
    """``"groups,dilation"`` → ("groups", "dilation"); an unknown key names every valid one."""
    return parse_name_list(text, option, tuple(FORWARD_FEATURES), noun="feature key", noun_zh="特性键",
                           label="valid keys", label_zh="可用的键", split_spaces=True)


def _draw(rng: random.Random, dims: tuple[int, ...], n: int, selection: Selection) -> list[CaseSpec]:
    """``n`` random forward cases the selection keeps (dims in turn); fewer if they are too rare to find."""
    cases: list[CaseSpec] = []
    draws = 0
    while len(cases) < n and draws < MAX_DRAWS_PER_CASE * max(n, 1):
        spec = random_case(rng, dims[len(cases) % len(dims)])
        draws += 1
        if selection.keeps(spec):
            cases.append(spec)
    return cases


def random_sweep(n: int, seed: int = DEFAULT_SEED, dims: Iterable[int] = ALL_DIMS,
                 error_parity: bool = True, selection: Selection | None = None) -> list[CaseSpec]:
    """``n`` random forward cases (dims in turn), then the adjoint and (optionally) error-parity checks."""
    dims = tuple(dims)
    sel = selection or Selection()
    forward = _draw(random.Random(seed), dims, n, sel)
    adjoint = [c for c in adjoint_cases(dims) if sel.keeps(c)]
    return forward + adjoint + (error_cases(dims) if error_parity else [])


def default_sweep(seed: int = DEFAULT_SEED, dims: Iterable[int] = ALL_DIMS,
                  error_parity: bool = True, selection: Selection | None = None,
                  forward: int = DEFAULT_FORWARD_CASES) -> list[CaseSpec]:
    """The curated corners, random cases up to :data:`DEFAULT_FORWARD_CASES` (scaled by the dims asked
    for), the adjoint identity and (optionally: the engine only) error parity."""
    dims = tuple(dims)
    sel = selection or Selection()
    curated = [c for c in curated_cases(dims) if sel.keeps(c)]
    per_dims = forward * len(dims) // 3  # forward: fewer for a slow toolchain (--runtime)
    fill = _draw(random.Random(seed), dims, max(0, per_dims - len(curated)), sel)
    adjoint = [c for c in adjoint_cases(dims) if sel.keeps(c)]
    return curated + fill + adjoint + (error_cases(dims) if error_parity else [])
