"""Diagnosis: what the failing forward cases have in common, one cluster per bug, each with its smallest
failing case (pure, apart from :func:`shrink_clusters`, which re-runs cases through a callback).

1. Group the failing forward cases by how they fail (:attr:`CaseResult.signature`: the failure kind,
   and for an exception its type and message shape).
2. Within a group, the features every failure has (unless that is likely by chance) explain it: one
   cluster. When no feature is shared, there are several causes (or one everywhere): the feature set
   (a conjunction of up to :data:`MAX_FEATURES` summary features) that best separates failures from
   passing cases — most failures covered, each passing case it covers costing :data:`PASS_PENALTY`
   failures — makes one cluster, and the rest of the group is explained the same way, so two
   independent bugs give two clusters. Features that change nothing are dropped, so the set is the
   smallest that explains the cluster; an empty set means every case.
3. Each feature's failure rate with and without it ("groups > 1: 240 of 252 fail · groups = 1: 0 of
   360"), counted on the cases that the other clusters leave, so each cause is measured alone.
4. :func:`shrink_clusters` shrinks each cluster's smallest case — smaller batch, channels, sizes and
   parameters — while it still fails the same way and keeps the cluster's features.

The adjoint identity, the size formula, the float32 path and error parity are not forward cases: they
are listed as checks that also failed, never as a cause while forward cases fail.
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace

from .cases import FORWARD_FEATURES, IMPLIED, CaseSpec
from .checks import CaseResult
from .sweeps import writes_output

MAX_FEATURES = 3
CHANCE = 0.05  # a feature shared by every failure is named unless that is this likely by chance
MAX_CAUSES = 3  # independent causes looked for within one way of failing
IMPURITY = 0.1  # a clean cause: at most this share of its cases pass, and it leaves this share unexplained
PASS_PENALTY = 3.0  # a passing case inside a cluster's features costs as much as 3 failures outside
SHRINK_RUNS = 120  # re-runs allowed per cluster while shrinking
SHRINK_SECONDS = 20.0  # and wall time for all clusters together
NO_SHRINK_KINDS = frozenset({"timeout"})  # each try would cost a whole timeout
CRASH_SHRINK_RUNS = 4  # each try restarts the worker (a crash, the memory guard)
CHECK_KEYS = ("adjoint", "size_formula", "float32_path", "error_parity")


@dataclass
class Rate:
    """Within a failure group: cases with the feature failing this way, and cases without it."""

    feature: str
    with_failed: int
    with_total: int
    without_failed: int
    without_total: int


@dataclass
class Cluster:
    kind: str  # a failure kind of .checks
    signature: str
    features: tuple[str, ...]  # the smallest explaining set; () = every forward case
    members: list[CaseResult]
    rates: list[Rate]
    everywhere: bool  # every forward case with these features fails this way
    explained: bool = True  # False: no feature set separates these failures from passing cases
    other_signatures: tuple[str, ...] = ()  # the same features explain failures that look different too
    smallest: CaseResult | None = None  # the smallest member, shrunk when shrinking ran
    shrunk_from: CaseSpec | None = None
    shrink_runs: int = 0

    @property
    def count(self) -> int:
        return len(self.members)

    @property
    def main_message(self) -> str:
        """The message of the cluster's main way of failing (its :attr:`signature`), for the headline."""
        same = [m for m in self.members if m.signature == self.signature]
        if self.smallest is not None and self.smallest.signature == self.signature:
            return self.smallest.message
        return min(same, key=lambda r: _size(r.spec)).message if same else self.message

    @property
    def message(self) -> str:
        """A representative failure message (from the smallest case)."""
        case = self.smallest or self.members[0]
        return case.message


@dataclass
class Diagnosis:
    clusters: list[Cluster] = field(default_factory=list)
    also_failed: dict[str, tuple[int, int]] = field(default_factory=dict)  # check key → (failed, cases)

    @property
    def causes(self) -> list[str]:
        """Every feature key named by a cluster, in the summary's order."""
        named = {f for c in self.clusters for f in c.features}
        return [k for k in FORWARD_FEATURES if k in named]


def _bits(results: list[CaseResult], test: Callable[[CaseResult], bool]) -> int:
    mask = 0
    for i, r in enumerate(results):
        if test(r):
            mask |= 1 << i
    return mask


def _popcount(mask: int) -> int:
    return bin(mask).count("1")


def _best_set(remaining: int, passing: int, masks: dict[str, int], everything: int) -> tuple[tuple[str, ...], int]:
    """The conjunction of features with the best score (failures covered − penalty·passes covered)."""
    useful = [k for k in FORWARD_FEATURES if masks[k] & remaining]
    best: tuple[float, int, int, tuple[str, ...]] | None = None
    best_match = 0
    for size in range(0, MAX_FEATURES + 1):
        for combo in itertools.combinations(useful, size):
            match = everything
            for k in combo:
                match &= masks[k]
            f = _popcount(match & remaining)
            if not f:
                continue
            score = f - PASS_PENALTY * _popcount(match & passing)
            key = (score, -size, f, combo)
            if best is None or key[:3] > best[:3]:
                best, best_match = key, match
    if best is None:
        return (), everything
    return _minimal(best[3], masks, everything), best_match


def _minimal(combo: tuple[str, ...], masks: dict[str, int], everything: int) -> tuple[str, ...]:
    """Drop features whose removal leaves the matched cases unchanged (implied or redundant)."""

    def match(keys: tuple[str, ...]) -> int:
        m = everything
        for k in keys:
            m &= masks[k]
        return m

    keys = list(combo)
    target = match(combo)
    for k in sorted(combo, key=lambda k: -_popcount(masks[k])):  # try the broadest first
        rest = tuple(x for x in keys if x != k)
        if match(rest) == target:
            keys = list(rest)
    return tuple(k for k in FORWARD_FEATURES if k in keys)


def _common(remaining: int, masks: dict[str, int], share: dict[str, float]) -> tuple[str, ...]:
    """Features every remaining failure has, unless that is likely by chance (a feature in a share ``q``
    of the cases covers ``f`` failures by chance with probability ``q**f``; kept when ≤ 5 %); the most
    specific only (depthwise rather than groups > 1)."""
    f = _popcount(remaining)
    common = [k for k in FORWARD_FEATURES if masks[k] & remaining == remaining and share[k] < 1
              and share[k] ** f <= CHANCE]
    return tuple(b for b in common if not any(b in IMPLIED.get(a, ()) for a in common))


def _decompose(remaining: int, passing: int, masks: dict[str, int],
               everything: int) -> list[tuple[tuple[str, ...], int]]:
    """Up to :data:`MAX_CAUSES` feature sets that each separate failures from passing cases cleanly
    (at most :data:`IMPURITY` of a set's cases pass) and together cover all but :data:`IMPURITY` of
    ``remaining``; ``[]`` when there are none such."""
    parts: list[tuple[tuple[str, ...], int]] = []
    left = remaining
    while left and len(parts) < MAX_CAUSES:
        combo, match = _best_set(left, passing, masks, everything)
        f, p = _popcount(match & left), _popcount(match & passing)
        if f - PASS_PENALTY * p <= 0 or p > IMPURITY * (f + p):
            break
        parts.append((combo, match))
        left &= ~match
    return parts if _popcount(left) <= IMPURITY * _popcount(remaining) else []


def diagnose(results: list[CaseResult]) -> Diagnosis:
    """Clusters of the failing forward cases, and the other checks that failed."""
    forward = [r for r in results if r.kind == "forward"]
    everything = (1 << len(forward)) - 1
    masks = {k: _bits(forward, lambda r, k=k: k in r.features) for k in FORWARD_FEATURES}
    passing = _bits(forward, lambda r: r.passed)
    share = {k: _popcount(masks[k]) / max(1, len(forward)) for k in FORWARD_FEATURES}
    groups: dict[str, list[int]] = {}
    for i, r in enumerate(forward):
        if not r.passed:
            groups.setdefault(r.signature, []).append(i)
    clusters: list[Cluster] = []
    built: list[tuple[str, int, tuple[str, ...], int, int]] = []
    for signature, idx in sorted(groups.items(), key=lambda kv: -len(kv[1])):
        group = 0
        for i in idx:
            group |= 1 << i
        remaining = group
        found: list[tuple[tuple[str, ...], int, int]] = []
        while remaining:
            parts = _decompose(remaining, passing, masks, everything)
            if not parts:
                combo = _common(remaining, masks, share)
                if combo:  # one cause, not everywhere within its features: what every failure has
                    match = everything
                    for k in combo:
                        match &= masks[k]
                    parts = [(combo, match)]
            if not parts:  # nothing separates the rest from passing cases: one cluster, no cause
                parts = [((), -1)]
            for combo, match in parts:
                members_mask = remaining if match == -1 else match & remaining
                if members_mask:
                    remaining &= ~members_mask
                    found.append((combo, match, members_mask))
        built += [(signature, group, combo, match, members_mask) for combo, match, members_mask in found]
    merged = _merge(built, passing, masks, share, everything)
    for signatures, combo, match, members_mask in merged:
        # rates among the cases the other clusters leave: each cause measured on its own
        others = 0
        for other in merged:
            if other[3] != members_mask:
                others |= other[3]
        universe = everything & ~others
        members = [forward[i] for i in range(len(forward)) if members_mask >> i & 1]
        explained = match != -1
        rates = [_rate(k, masks[k], members_mask, universe) for k in combo] or [
            _rate("", universe, members_mask, universe)]
        # "every case with these features": no passing case of the sweep has them
        # ("every case", with no features: every forward case of the sweep is in this cluster)
        everywhere = explained and (match & passing) == 0 and (bool(combo) or members_mask == everything)
        by_size = sorted(signatures, key=lambda sig: -sum(1 for m in members if m.signature == sig))
        first = next(m for m in members if m.signature == by_size[0])
        clusters.append(Cluster(first.failure, by_size[0], combo, members, rates, everywhere,
                                explained, smallest=min(members, key=lambda r: _size(r.spec)),
                                other_signatures=tuple(by_size[1:])))
    clusters.sort(key=lambda c: (-c.count, c.signature))
    also = {}
    for key in CHECK_KEYS:
        cases = [r for r in results if _has_check(r, key)]
        failed = sum(not _check_passed(r, key) for r in cases)
        if failed:
            also[key] = (failed, len(cases))
    return Diagnosis(clusters, also)


def _impurity(match: int, members: int, passing: int) -> float:
    """The share of passing cases among the cases a feature set matches (its failures: ``members``)."""
    f, p = _popcount(match & members), _popcount(match & passing)
    return p / max(1, f + p)


def _merge(built: list[tuple[str, int, tuple[str, ...], int, int]], passing: int, masks: dict[str, int],
           share: dict[str, float], everything: int) -> list[tuple[set[str], tuple[str, ...], int, int]]:
    """One cluster per bug: clusters of different failure signatures (exception texts that vary with the
    shapes, an exception here and wrong values there) are merged when one feature set — what all their
    failures share — explains them together at least as cleanly as their own sets explain each."""

    def match_of(combo: tuple[str, ...]) -> int:
        m = everything
        for k in combo:
            m &= masks[k]
        return m

    items = [({sig}, combo, match, members) for sig, _g, combo, match, members in built]
    changed = True
    while changed:
        changed = False
        for i, j in itertools.combinations(range(len(items)), 2):
            a, b = items[i], items[j]
            if a[2] == -1 or b[2] == -1:
                continue
            union = a[3] | b[3]
            combo = _common(union, masks, share) or tuple(k for k in a[1] if k in b[1])
            if not combo:
                continue
            combo = _minimal(combo, masks, everything)
            match = match_of(combo)
            if match & union != union:
                continue
            if _impurity(match, union, passing) > max(_impurity(a[2], a[3], passing),
                                                      _impurity(b[2], b[3], passing)) + 1e-9:
                continue
            items[i] = (a[0] | b[0], combo, match, union)
            del items[j]
            changed = True
            break
    return items


def _has_check(r: CaseResult, key: str) -> bool:
    return r.check(key) is not None


def _check_passed(r: CaseResult, key: str) -> bool:
    c = r.check(key)
    return c is None or c.passed


def _rate(key: str, mask: int, failing: int, universe: int) -> Rate:
    with_ = mask & universe
    without = universe & ~mask
    return Rate(key, _popcount(with_ & failing), _popcount(with_), _popcount(without & failing),
                _popcount(without))


def _size(spec: CaseSpec) -> tuple[int, ...]:
    """Smaller is simpler: element counts first, then the parameters."""
    return (math.prod(spec.x_shape) + math.prod(spec.w_shape), sum(spec.stride) + sum(spec.padding)
            + sum(spec.output_padding) + sum(spec.dilation) + spec.groups + (spec.bias is not None))


# ---------------------------------------------------------------------------------------------------
# Shrinking
# ---------------------------------------------------------------------------------------------------


def _valid(spec: CaseSpec) -> bool:
    if spec.groups < 1 or spec.in_channels % spec.groups or spec.w_shape[1] < 1:
        return False
    x_c = spec.x_shape[1] if spec.batched else spec.x_shape[0]
    if x_c != spec.in_channels or any(v < 1 for v in spec.spatial + spec.kernel + spec.stride + spec.dilation):
        return False
    if any(p < 0 or op < 0 or op >= max(s, d) for p, op, s, d in
           zip(spec.padding, spec.output_padding, spec.stride, spec.dilation)):
        return False
    return writes_output(spec)


def smaller(spec: CaseSpec) -> Iterator[CaseSpec]:
    """Valid cases one step smaller than ``spec``: batch, channels, groups, sizes, parameters, bias."""
    nd = spec.ndim
    lead = spec.x_shape[:-nd]
    cig, cog, g = spec.in_channels // max(1, spec.groups), spec.w_shape[1], spec.groups

    def with_channels(g2: int, cig2: int, cog2: int) -> CaseSpec:
        x_lead = (lead[0], g2 * cig2) if spec.batched else (g2 * cig2,)
        bias = None if spec.bias is None else g2 * cog2
        return replace(spec, x_shape=x_lead + spec.spatial, w_shape=(g2 * cig2, cog2) + spec.kernel,
                       groups=g2, bias=bias)

    if spec.batched and spec.batch > 1:
        yield replace(spec, x_shape=(1,) + spec.x_shape[1:])
        yield replace(spec, x_shape=(spec.batch - 1,) + spec.x_shape[1:])
    if g > 2:
        yield with_channels(2, cig, cog)
    if g > 1:
        yield with_channels(g - 1, cig, cog)
    if cig > 1:
        yield with_channels(g, cig - 1, cog)
    if cog > 1:
        yield with_channels(g, cig, cog - 1)
    if spec.bias is not None:
        yield replace(spec, bias=None)

    def per(values: tuple[int, ...], axis: int, v: int) -> tuple[int, ...]:
        return values[:axis] + (v,) + values[axis + 1:]

    for axis in range(nd):
        i, k = spec.spatial[axis], spec.kernel[axis]
        s, p, op, d = spec.stride[axis], spec.padding[axis], spec.output_padding[axis], spec.dilation[axis]
        if i > 1:
            yield replace(spec, x_shape=lead + per(spec.spatial, axis, i - 1))
        if k > 1:
            yield replace(spec, w_shape=spec.w_shape[:2] + per(spec.kernel, axis, k - 1))
        if p > 0:
            yield replace(spec, padding=per(spec.padding, axis, p - 1))
        if op > 0:
            yield replace(spec, output_padding=per(spec.output_padding, axis, op - 1))
        if s > 1:
            yield replace(spec, stride=per(spec.stride, axis, s - 1))
        if d > 1:
            yield replace(spec, dilation=per(spec.dilation, axis, d - 1))


def shrink(cluster: Cluster, run: Callable[[CaseSpec], CaseResult], deadline: float) -> None:
    """Replace ``cluster.smallest`` by the smallest case found that still fails the same way."""
    if cluster.smallest is None or cluster.kind in NO_SHRINK_KINDS:
        return
    budget = CRASH_SHRINK_RUNS if cluster.kind in ("crash", "memory") else SHRINK_RUNS
    current = cluster.smallest
    start_spec = current.spec
    wanted = set(cluster.features)
    improved = True
    while improved and cluster.shrink_runs < budget and time.monotonic() < deadline:
        improved = False
        for candidate in smaller(current.spec):
            if not _valid(candidate) or not wanted <= set(candidate.features()):
                continue
            if cluster.shrink_runs >= budget or time.monotonic() >= deadline:
                break
            cluster.shrink_runs += 1
            result = run(candidate)
            if not result.passed and result.signature in (cluster.signature, *cluster.other_signatures):
                current, improved = result, True
                break
    if current.spec != start_spec:
        cluster.shrunk_from = start_spec
    cluster.smallest = current


def shrink_clusters(diagnosis: Diagnosis, run: Callable[[CaseSpec], CaseResult],
                    seconds: float = SHRINK_SECONDS) -> None:
    """Shrink every cluster's smallest case (largest clusters first) within ``seconds`` in all;
    the smallest case is re-run at the end so that its arrays are at hand for the report."""
    deadline = time.monotonic() + seconds
    for cluster in diagnosis.clusters:
        shrink(cluster, run, deadline)
        if cluster.smallest is not None and cluster.smallest.arrays is None and cluster.kind not in NO_SHRINK_KINDS:
            again = run(cluster.smallest.spec)
            if again.signature in (cluster.signature, *cluster.other_signatures):
                cluster.smallest = again
