"""Checkerboard from the weights: the phase-gain index of a transposed convolution (NumPy only).

A transposed convolution with stride ``s`` is ``sᵈ`` ordinary convolutions interleaved — one per
output phase ``o mod s`` (the polyphase view). On a constant input ``x = 1`` the interior output
of channel ``c`` at phase ``r`` is the sum of the taps that land on that phase, over all the
channel's input channels: the phase's DC gain

    S[c, r] = Σ_ci Σ_{j : (j·d − p) ≡ r (mod s)} w[ci, c, j]        (per axis, taps multiply)

The output is constant iff every ``S[c, r]`` is the same (the polyphase condition of Sugawara et
al. 2018/2019 and Kinoshita & Kiya 2020, arXiv:2002.02117). The same taps' absolute values give

    A[c, r] = Σ_ci Σ_{j : …} |w[ci, c, j]|

the largest output phase ``r`` can reach for any input bounded by 1 (its ℓ1 gain: the layer's full
scale). The index is

    index[c] = std_r S[c, r] / rms_r A[c, r]        (0 when every A is 0)

the ripple a flat input region gets, as a fraction of the layer's full-scale response. It lies in
[0, 1] (``std S ≤ rms S ≤ rms A``); for non-negative weights ``A = S`` and it is the classic
``std/mean`` of the phase sums to within ``x/√(1+x²)`` (1 % stays 1 %); unlike ``std/|mean|`` it does
not explode for zero-mean channels, whose flat response is 0 while their edges are not. The bias
adds the same to every phase and is left out, as in the papers.

Costs: only the phases that receive a tap are ever stored (at most ``∏k`` per channel, however
large the stride); the others hold 0 and enter the statistics by count. The phase map is kept
only for ``∏s ≤ MAX_MAP_CELLS``; above it, its minimum and maximum stand for it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

# Flag a layer when its worst channel's index exceeds this: a periodic ripple of 1 % of the layer's
# full-scale response on flat regions — the order of the smallest luminance contrast people notice
# (Weber's fraction, about 1-2 %) — and four orders of magnitude above float32 rounding of an exactly
# balanced kernel (ICNR or box kernels give < 1e-6), so exact fixes never trip it.
THRESHOLD = 0.01
MAX_MAP_CELLS = 4096  # phase maps with more cells (∏ stride) are summarised, not listed


@dataclass(frozen=True)
class PhaseGain:
    """The phase-gain index of one layer, per output channel, summarised."""

    per_channel: tuple[float, ...]  # index of every output channel, in [0, 1]
    worst: float
    worst_channel: int
    median: float
    phase_sums: tuple[float, ...]  # S[worst channel, r], phases in row-major order ((): more than MAX_MAP_CELLS)
    phase_shape: tuple[int, ...]  # the stride per axis: the map's shape
    threshold: float = THRESHOLD
    full_scale: float = 0.0  # rms_r A[worst channel, r]: the map's unit
    ripple_min: float = 0.0  # min_r (S − mean S) / full scale, worst channel
    ripple_max: float = 0.0  # max_r (S − mean S) / full scale, worst channel
    std_over_mean: float = 0.0  # the classic std/|mean| of the worst channel's phase sums (inf for zero mean)

    @property
    def flagged(self) -> bool:
        return self.worst > self.threshold

    @property
    def cells(self) -> int:
        return math.prod(self.phase_shape)

    @property
    def phase_map(self) -> np.ndarray:
        """``(S[worst channel] − mean) ÷ full scale`` per phase: 0 everywhere = no checkerboard ((0,)-sized if
        the map was summarised)."""
        if not self.phase_sums:
            return np.zeros((0,), dtype=np.float64)
        sums = np.asarray(self.phase_sums, dtype=np.float64).reshape(self.phase_shape)
        if self.full_scale == 0:
            return np.zeros_like(sums)
        return (sums - sums.mean()) / self.full_scale


def _fold(k: np.ndarray, stride, padding, dilation) -> tuple[np.ndarray, list[np.ndarray]]:
    """Sum the taps of ``k`` (channels, *kernel) by phase, per axis; only phases that get a tap are kept.

    Returns the folded array (channels, u_1, …, u_d) and, per axis, the phases its positions stand for.
    """
    sums = k
    phases = []
    for axis, (s, p, d) in enumerate(zip(stride, padding, dilation)):
        n = sums.shape[axis + 1]
        phase = (np.arange(n, dtype=np.int64) * int(d) - int(p)) % int(s)
        kept, where = np.unique(phase, return_inverse=True)
        moved = np.moveaxis(sums, axis + 1, -1)
        folded = np.zeros(moved.shape[:-1] + (len(kept),), dtype=np.float64)
        for j, slot in enumerate(where):
            folded[..., slot] += moved[..., j]
        sums = np.moveaxis(folded, -1, axis + 1)
        phases.append(kept)
    return sums, phases


def phase_sums(weight: np.ndarray, stride: tuple[int, ...], padding: tuple[int, ...],
               dilation: tuple[int, ...], groups: int = 1) -> np.ndarray:
    """``S[c, r_1, …, r_d]``: the DC gain of output channel ``c`` at output phase ``r`` (float64, the full map:
    callers keep ``∏ stride`` small; :func:`phase_gain` never builds it for large strides)."""
    k = _channel_kernels(weight, groups)
    s_fold, phases = _fold(k, stride, padding, dilation)
    full = np.zeros((k.shape[0], *(int(s) for s in stride)), dtype=np.float64)
    full[(slice(None), *np.ix_(*phases))] = s_fold
    return full


def _channel_kernels(weight, groups: int) -> np.ndarray:
    """Sum each group's input channels: K[c] for c = group·(C_out/g) + co (and |w| summed the same way)."""
    w = np.asarray(weight, dtype=np.float64)
    c_in, c_out_g, *kernel = w.shape
    return w.reshape(groups, c_in // groups, c_out_g, *kernel).sum(axis=1).reshape(groups * c_out_g, *kernel)


def _channel_abs(weight, groups: int) -> np.ndarray:
    w = np.abs(np.asarray(weight, dtype=np.float64))
    c_in, c_out_g, *kernel = w.shape
    return w.reshape(groups, c_in // groups, c_out_g, *kernel).sum(axis=1).reshape(groups * c_out_g, *kernel)


def _stats(s_fold: np.ndarray, a_fold: np.ndarray, cells: int):
    """Per channel: mean and std of S over all ``cells`` phases (unlisted ones are 0), rms of A."""
    c = s_fold.shape[0]
    s = s_fold.reshape(c, -1)
    a = a_fold.reshape(c, -1)
    listed = s.shape[1]
    mean = s.sum(axis=1) / cells
    var = (((s - mean[:, None]) ** 2).sum(axis=1) + (cells - listed) * mean ** 2) / cells
    std = np.sqrt(np.maximum(var, 0.0))
    rms_a = np.sqrt((a ** 2).sum(axis=1) / cells)
    return mean, std, rms_a


def index_of(std: np.ndarray, rms_a: np.ndarray) -> np.ndarray:
    """std S / rms A per channel; 0 where the channel has no weight at all."""
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(rms_a > 0, std / np.where(rms_a > 0, rms_a, 1.0), 0.0)
    return np.clip(out, 0.0, 1.0)


def phase_gain(weight: np.ndarray, stride: tuple[int, ...], padding: tuple[int, ...],
               dilation: tuple[int, ...], groups: int = 1) -> PhaseGain:
    """The index of a transposed convolution's weight (PyTorch layout ``(C_in, C_out/groups, *k)``)."""
    stride = tuple(int(s) for s in stride)
    s_fold, phases = _fold(_channel_kernels(weight, groups), stride, padding, dilation)
    a_fold, _ = _fold(_channel_abs(weight, groups), stride, padding, dilation)
    return _summary(s_fold, a_fold, phases, stride)


def shuffle_phase_gain(conv_weight: np.ndarray, factor: int) -> PhaseGain:
    """The same index for a sub-pixel layer: a stride-1 ``Conv2d`` to ``C·r²`` channels, then ``PixelShuffle(r)``.

    ``PixelShuffle`` sends conv channel ``c·r² + i·r + j`` to output channel ``c`` at phase ``(i, j)``,
    so the phase's DC gain is the sum of that channel's whole kernel over its input channels.
    """
    w = np.asarray(conv_weight, dtype=np.float64)
    sums = w.reshape(w.shape[0], -1).sum(axis=1).reshape(-1, factor, factor)
    absum = np.abs(w).reshape(w.shape[0], -1).sum(axis=1).reshape(-1, factor, factor)
    every = [np.arange(factor), np.arange(factor)]
    return _summary(sums, absum, every, (factor, factor))


def _summary(s_fold: np.ndarray, a_fold: np.ndarray, phases: list[np.ndarray], shape: tuple[int, ...]) -> PhaseGain:
    cells = math.prod(shape)
    mean, std, rms_a = _stats(s_fold, a_fold, cells)
    idx = index_of(std, rms_a)
    worst_c = int(np.argmax(idx))
    m, sd, scale = float(mean[worst_c]), float(std[worst_c]), float(rms_a[worst_c])
    listed = s_fold[worst_c].ravel()
    dev = (listed - m) / scale if scale > 0 else np.zeros_like(listed)
    if listed.size < cells:  # the unlisted phases hold 0: their deviation is −mean
        dev = np.append(dev, -m / scale if scale > 0 else 0.0)
    sums: tuple[float, ...] = ()
    if cells <= MAX_MAP_CELLS:
        full = np.zeros(shape, dtype=np.float64)
        full[np.ix_(*phases)] = s_fold[worst_c]
        sums = tuple(float(v) for v in full.ravel())
    classic = 0.0 if sd == 0 else (sd / abs(m) if m != 0 else math.inf)
    return PhaseGain(
        per_channel=tuple(float(v) for v in idx), worst=float(idx[worst_c]), worst_channel=worst_c,
        median=float(np.median(idx)), phase_sums=sums, phase_shape=tuple(shape), full_scale=scale,
        ripple_min=float(dev.min()), ripple_max=float(dev.max()), std_over_mean=classic,
    )
