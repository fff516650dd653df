"""Checkerboard from the weights: the phase-gain index of a transposed convolution (NumPy only).

A transposed convolution with stride ``s`` is ``sᵈ`` ordinary convolutions interleaved — one per
output phase ``o mod s`` (the polyphase view). On a constant input ``x = 1`` the interior output
of channel ``c`` at phase ``r`` is the sum of the taps that land on that phase, over all the
channel's input channels: the phase's DC gain

    S[c, r] = Σ_ci Σ_{j : (j·d − p) ≡ r (mod s)} w[ci, c, j]        (per axis, taps multiply)

The output is constant iff every ``S[c, r]`` is the same (Kinoshita & Kiya, ICASSP 2020,
arXiv:2002.02117). The index ``std_r S[c, r] / |mean_r S[c, r]|`` is the relative amplitude of the
periodic pattern a flat input region gets: 0 for none (ICNR-initialised sub-pixel layers, Aitken
et al. 2017, arXiv:1707.02937; box-factored kernels), about 1 for random k3 s2 weights. The bias
adds the same to every phase and is left out, as in the papers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

# Flag a layer when its worst channel's index exceeds this: a periodic ripple of 1 % of the mean
# response on flat regions — the order of the smallest luminance contrast people notice (Weber's
# fraction, about 1-2 %) — and four orders of magnitude above float32 rounding of an exactly
# balanced kernel (ICNR or box kernels give < 1e-6), so exact fixes never trip it.
THRESHOLD = 0.01


@dataclass(frozen=True)
class PhaseGain:
    """The phase-gain index of one layer, per output channel, summarised."""

    per_channel: tuple[float, ...]  # index of every output channel (inf where the mean is 0 but not the spread)
    worst: float
    worst_channel: int
    median: float
    phase_sums: tuple[float, ...]  # S[worst channel, r], phases in row-major order
    phase_shape: tuple[int, ...]  # the stride per axis: the map's shape
    threshold: float = THRESHOLD

    @property
    def flagged(self) -> bool:
        return self.worst > self.threshold

    @property
    def phase_map(self) -> np.ndarray:
        """``S[worst channel]`` divided by its mean: 1 everywhere = no checkerboard."""
        sums = np.asarray(self.phase_sums, dtype=np.float64).reshape(self.phase_shape)
        mean = float(sums.mean())
        return sums / mean if mean != 0 else sums


def phase_sums(weight: np.ndarray, stride: tuple[int, ...], padding: tuple[int, ...],
               dilation: tuple[int, ...], groups: int = 1) -> np.ndarray:
    """``S[c, r_1, …, r_d]``: the DC gain of output channel ``c`` at output phase ``r`` (float64).

    ``weight`` has PyTorch's transposed-convolution layout ``(C_in, C_out/groups, *k)``.
    """
    w = np.asarray(weight, dtype=np.float64)
    c_in, c_out_g, *kernel = w.shape
    nd = len(kernel)
    # Sum over each group's input channels: K[c] for c = group·(C_out/g) + co.
    k = w.reshape(groups, c_in // groups, c_out_g, *kernel).sum(axis=1).reshape(groups * c_out_g, *kernel)
    sums = k
    # Fold one axis at a time: taps → phases (j·d − p) mod s.
    for axis in range(nd):
        s, p, d = stride[axis], padding[axis], dilation[axis]
        phase = (np.arange(kernel[axis]) * d - p) % s
        moved = np.moveaxis(sums, axis + 1, -1)
        folded = np.zeros(moved.shape[:-1] + (s,), dtype=np.float64)
        for j, r in enumerate(phase):
            folded[..., r] += moved[..., j]
        sums = np.moveaxis(folded, -1, axis + 1)
    return sums


def index_of(sums: np.ndarray) -> np.ndarray:
    """std / |mean| over the phases, per channel; 0 when all phases are 0, inf when only the mean is."""
    flat = sums.reshape(sums.shape[0], -1)
    mean = flat.mean(axis=1)
    std = flat.std(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(std == 0, 0.0, std / np.abs(mean))
    return np.where(np.isnan(out), math.inf, out)


def phase_gain(weight: np.ndarray, stride: tuple[int, ...], padding: tuple[int, ...],
               dilation: tuple[int, ...], groups: int = 1) -> PhaseGain:
    return _summary(phase_sums(weight, stride, padding, dilation, groups), tuple(stride))


def shuffle_phase_gain(conv_weight: np.ndarray, factor: int) -> PhaseGain:
    """The same index for a sub-pixel layer: a stride-1 ``Conv2d`` to ``C·r²`` channels, then ``PixelShuffle(r)``.

    ``PixelShuffle`` sends conv channel ``c·r² + i·r + j`` to output channel ``c`` at phase ``(i, j)``,
    so the phase's DC gain is the sum of that channel's whole kernel over its input channels.
    """
    w = np.asarray(conv_weight, dtype=np.float64)
    sums = w.reshape(w.shape[0], -1).sum(axis=1).reshape(-1, factor, factor)
    return _summary(sums, (factor, factor))


def _summary(sums: np.ndarray, shape: tuple[int, ...]) -> PhaseGain:
    idx = index_of(sums)
    worst_c = int(np.argmax(idx))
    return PhaseGain(
        per_channel=tuple(float(v) for v in idx), worst=float(idx[worst_c]), worst_channel=worst_c,
        median=float(np.median(idx)), phase_sums=tuple(float(v) for v in sums[worst_c].ravel()),
        phase_shape=shape,
    )
