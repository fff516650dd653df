"""``_Runner``: computes the planned phases for every chunk of images and block of groups.

One mode per call ("gemm", "phased", "im2col", "depthwise", chosen by :mod:`.cost`), weights
arranged once, per-thread buffers reused, GEMMs and memory-bound tails spread over the engine's
pool (:mod:`.threads`). The chunk sizes and the thread regime are decided here, in ``__init__``;
the memory the runner needs is reported as ``work`` before anything is allocated.
"""

from __future__ import annotations

import functools
import math
import threading

import numpy as np

from .plan import _Phase, _Plan
from .threads import _gemm, _run_all, _tile

_BLOCK = 1 << 21  # elements of GEMM product per chunk of images (bounds memory, keeps buffers reused)
_CHUNK = 1 << 18  # elements per block of the elementwise (depthwise) path (measured: 2^17..2^19 best)
_THREADED_MNK = 1 << 25  # multiply-adds per GEMM call from which BLAS's own threads are used
_UNPADDED = False  # mode "gemm" on the input as it is, boxes summed per phase: slower measured (short rows)


class _Runner:
    """Computes the phases for every chunk of images and block of groups, with weights arranged
    once and per-thread buffers reused.

    Modes: "gemm" — one GEMM for every tap (all K), then the taps of each phase summed densely; "phased" —
    the same, one GEMM per phase for its own taps (less memory); "im2col" — each phase's shifted
    input windows stacked, then one GEMM; "depthwise" — broadcast multiply-adds in cache-sized
    blocks of groups (C_in/groups == 1).
    """

    def __init__(self, mode: str, wk: np.ndarray, plan: _Plan, g: int, cig: int, cog: int, dtype: np.dtype,
                 threads: int = 1):
        self.mode, self.plan, self.g, self.cig, self.cog, self.dtype = mode, plan, g, cig, cog, dtype
        tmax = max((len(ph.taps) for ph in plan.phases), default=0)
        extra = plan.x_len - plan.length
        self.unpadded = mode == "gemm" and _UNPADDED
        if mode == "gemm":
            # (g, cog*K, cig), rows ordered (output channel, tap): a transposed view of the weight as
            # given, which BLAS reads directly — no rearranged copy. The GEMM reads the input as it
            # is (no padded grid: no work on padding); each phase then sums its taps' boxes.
            self.w_all = wk.reshape(g, cig, -1).transpose(0, 2, 1)
            k = wk.shape[3]
            positions = math.prod(plan.spatial)
            per_image, fixed = k * g * cog * positions, 0
            rows, red = k * cog, cig
            self.shifts = [[tuple(int(v) - lo for v, lo in zip(np.unravel_index(off, plan.pitch), plan.lead))
                            for off in ph.offsets] for ph in plan.phases]
        elif mode == "phased":
            self.w_phase = [_tap_rows(wk, ph.taps) for ph in plan.phases]
            per_image, fixed = tmax * g * cog * plan.block, tmax * g * cog * extra
            rows, red = tmax * cog, cig
        elif mode == "im2col":
            self.w_phase = [
                # (g, cog, cig * T), reduction ordered (input channel, tap): the copy reads runs of taps
                np.ascontiguousarray(_taps_of(wk, ph.taps).transpose(0, 2, 1, 3)).reshape(g, cog, -1)
                for ph in plan.phases
            ]
            per_image, fixed = min(tmax * g * cig * plan.block, _BLOCK), 0  # the stack: in runs of columns
            rows, red = cog, tmax * cig
        else:
            self.w_phase = [wk[:, 0][:, :, list(ph.taps)] for ph in plan.phases]  # (g, cog, T)
            per_image, fixed = 0, 0
            rows, red = 0, 0
        n = plan.length // plan.block
        # Regime: BLAS's threads only for a few huge GEMM calls; else single-threaded blocks on our pool.
        budget = max(1, _BLOCK // threads)
        images = max(1, min(n, budget // max(1, per_image)))
        cols = math.prod(plan.spatial) if self.unpadded else plan.block  # GEMM columns per image
        self.pooled = threads > 1 and rows * red * images * cols < _THREADED_MNK
        self.threads = threads
        lanes = threads if self.pooled else 1  # chunks computed at once
        # Images per chunk: the product (or stack) of the chunks in flight stays near _BLOCK elements;
        # when one image is over it, groups are split into blocks instead.
        budget = max(1, _BLOCK // lanes)
        self.images = max(1, min(n, budget // max(1, per_image)))
        self.gblock = g if per_image <= budget else max(1, g * budget // max(1, per_image))
        if self.pooled and -(-n // self.images) * -(-g // self.gblock) < threads and g > 1:
            self.gblock = max(1, -(-g // threads))  # too few pieces to share: split the groups
        # Pieces over the pool when there are enough of them; else one piece at a time with its GEMM
        # blocks and tails over the pool.
        self.outer = self.pooled and -(-n // self.images) * -(-g // self.gblock) >= threads
        # BLAS's own threads spin for a while after each call: tails on our pool beside them would
        # fight them for the cores, so with BLAS's threads (not pooled) everything else stays inline.
        self.inner_threads = 1 if self.outer or not self.pooled else threads
        self.tile = _tile(rows, red, self.images * cols) if self.pooled and mode != "depthwise" else None
        piece = math.ceil(self.images * (per_image + g * (cog + cig) * plan.block) * self.gblock / g) + fixed
        self.work = lanes * piece + _CHUNK * threads
        self.stack_budget = max(1, _BLOCK // (2 * lanes))  # stacked windows per piece in flight: half a block
        self.local = threading.local()

    def _buffer(self, name: str, size: int) -> np.ndarray:
        buffers = getattr(self.local, "buffers", None)
        if buffers is None:
            buffers = self.local.buffers = {}
        buf = buffers.get(name)
        if buf is None or buf.size < size:
            buf = buffers[name] = np.empty(size, dtype=self.dtype)
        return buf[:size]

    def run(self, xf: np.ndarray, out_g: np.ndarray, bias: np.ndarray | None) -> None:
        plan, g = self.plan, self.g
        n = out_g.shape[0]
        items = [(n0, min(n, n0 + self.images), g0, min(g, g0 + self.gblock))
                 for n0 in range(0, n, self.images) for g0 in range(0, g, self.gblock)]
        extra = plan.x_len - plan.length

        def one(item) -> None:
            n0, n1, g0, g1 = item
            xs = xf[g0:g1, :, n0 * plan.block: n1 * plan.block + extra]
            self._chunk(xs, (n1 - n0) * plan.block, out_g[n0:n1, g0:g1],
                        None if bias is None else bias[:, g0:g1], g0, g1)

        if self.outer:
            _run_all(one, items, self.threads)
        else:
            for item in items:
                one(item)

    def run_unpadded(self, xb: np.ndarray, out_g: np.ndarray, bias: np.ndarray | None) -> None:
        """Mode "gemm": per chunk of images and block of groups, one GEMM for every tap straight from
        the input (batch in the columns), then per phase (and block of output channels) the taps'
        products summed over the boxes of the phase's grid they reach, bias added in the copy out."""
        plan, g, cig, cog = self.plan, self.g, self.cig, self.cog
        n, spatial = xb.shape[0], plan.spatial
        positions = math.prod(spatial)
        items = [(n0, min(n, n0 + self.images), g0, min(g, g0 + self.gblock))
                 for n0 in range(0, n, self.images) for g0 in range(0, g, self.gblock)]

        def one(item) -> None:
            n0, n1, g0, g1 = item
            gb, k = g1 - g0, n1 - n0
            src = xb[n0:n1].reshape(k, g, cig, positions)[:, g0:g1]
            if k == 1:
                xs = src[0]
            else:
                xs = self._buffer("x", gb * cig * k * positions).reshape(gb, cig, k, positions)
                np.copyto(xs, src.transpose(1, 2, 0, 3))
                xs = xs.reshape(gb, cig, k * positions)
            w_all = self.w_all[g0:g1]
            nrow = w_all.shape[1]
            prod = _gemm(w_all, xs, self._buffer("prod", gb * nrow * k * positions).reshape(gb, nrow, -1),
                         self.tile, self.inner_threads).reshape((gb, cog, nrow // cog, k) + spatial)
            out = out_g[n0:n1, g0:g1]
            bias_b = None if bias is None else bias[:, g0:g1]
            self._posts([functools.partial(self._box_tail, prod, pi, out, bias_b, c0, c1)
                         for pi in range(len(plan.phases)) for c0, c1 in self._splits(cog)])

        if self.outer:
            _run_all(one, items, self.threads)
        else:
            for item in items:
                one(item)

    def _box_tail(self, prod: np.ndarray, pi: int, out: np.ndarray, bias: np.ndarray | None,
                  c0: int, c1: int) -> None:
        ph, spatial = self.plan.phases[pi], self.plan.spatial
        gb, k = prod.shape[0], prod.shape[3]
        lead = (slice(None),) * 3  # (group, channel, image)
        boxes = []
        for t, shift in zip(ph.taps, self.shifts[pi]):
            lo = [max(0, -d) for d in shift]
            hi = [min(m, i - d) for m, i, d in zip(ph.sizes, spatial, shift)]
            if all(h > lo_ for lo_, h in zip(lo, hi)):
                boxes.append((t, tuple(slice(a, b) for a, b in zip(lo, hi)),
                              tuple(slice(a + d, b + d) for a, b, d in zip(lo, hi, shift))))
        covering = next((i for i, (_, dst, _) in enumerate(boxes)
                         if all(sl.start == 0 and sl.stop == m for sl, m in zip(dst, ph.sizes))), None)
        if covering is not None and len(boxes) == 1:
            t, _, src = boxes[0]
            y = prod[(slice(None), slice(c0, c1), t) + (slice(None),) + src]  # a view: no copy
        else:
            y = self._buffer("y", gb * (c1 - c0) * k * math.prod(ph.sizes)).reshape((gb, c1 - c0, k) + ph.sizes)
            if covering is None:
                y.fill(0)
            else:
                t, _, src = boxes.pop(covering)
                np.copyto(y, prod[(slice(None), slice(c0, c1), t, slice(None)) + src])
            for t, dst, src in boxes:
                np.add(y[lead + dst], prod[(slice(None), slice(c0, c1), t, slice(None)) + src], out=y[lead + dst])
        dst_out = out[:, :, c0:c1][lead + ph.index]
        src_y = np.moveaxis(y, 2, 0)
        if bias is None:
            np.copyto(dst_out, src_y)
        else:
            np.add(src_y, bias[:, :, c0:c1], out=dst_out)

    def _write(self, ph: _Phase, y: np.ndarray, out: np.ndarray, bias: np.ndarray | None) -> None:
        """y (g, cog, images*block) on the padded grid → the phase's strided output positions, bias added."""
        gb, cog = out.shape[1], out.shape[2]
        lead = (slice(None),) * 3
        src = y.reshape((gb, cog, out.shape[0]) + self.plan.pitch)[lead + tuple(slice(0, m) for m in ph.sizes)]
        src = np.moveaxis(src, 2, 0)
        dst = out[lead + ph.index]
        if bias is None:
            np.copyto(dst, src)
        else:
            np.add(src, bias, out=dst)

    def _sum(self, parts: list[np.ndarray], name: str) -> np.ndarray:
        if len(parts) == 1:
            return parts[0]
        y = self._buffer(name, parts[0].size).reshape(parts[0].shape)
        np.add(parts[0], parts[1], out=y)
        for part in parts[2:]:
            np.add(y, part, out=y)
        return y

    def _posts(self, jobs: list) -> None:
        """Run the memory-bound tails (job() each) over the pool (blas regime: the chunk's GEMM is done)."""
        _run_all(lambda job: job(), jobs, self.inner_threads)

    def _splits(self, cog: int) -> list[tuple[int, int]]:
        """Blocks of output channels for the tails when the chunk is not already one thread's piece."""
        parts = min(cog, 2 * self.inner_threads) if self.inner_threads > 1 else 1
        step = -(-cog // parts)
        return [(c0, min(cog, c0 + step)) for c0 in range(0, cog, step)]

    def _chunk(self, xs: np.ndarray, length: int, out: np.ndarray, bias: np.ndarray | None, g0: int, g1: int) -> None:
        gb, cig, cog, mode = g1 - g0, self.cig, self.cog, self.mode
        cols = xs.shape[-1]
        if mode == "depthwise":
            jobs = [functools.partial(self._depthwise_phase, xs, k, ph, length, out, bias, g0, a, z)
                    for k, ph in enumerate(self.plan.phases) for a, z in self._group_splits(gb)]
            self._posts(jobs)
            return
        if mode == "gemm":
            w_all = self.w_all[g0:g1]
            nrow = w_all.shape[1]
            prod_all = _gemm(w_all, xs, self._buffer("prod", gb * nrow * cols).reshape(gb, nrow, cols),
                             self.tile, self.inner_threads)
            prod_all = prod_all.reshape(gb, cog, nrow // cog, cols)

            def tail(ph: _Phase, c0: int, c1: int) -> None:
                parts = [prod_all[:, c0:c1, t, off: off + length] for t, off in zip(ph.taps, ph.offsets)]
                self._write(ph, self._sum(parts, "y"), out[:, :, c0:c1], None if bias is None else bias[:, :, c0:c1])

            self._posts([functools.partial(tail, ph, c0, c1)
                         for ph in self.plan.phases for c0, c1 in self._splits(cog)])
            return
        for k, ph in enumerate(self.plan.phases):
            wm = self.w_phase[k][g0:g1]
            if mode == "phased":
                prod = _gemm(wm, xs, self._buffer("prod", gb * wm.shape[1] * cols).reshape(gb, wm.shape[1], cols),
                             self.tile, self.inner_threads).reshape(gb, len(ph.taps), cog, cols)

                def tail(ph=ph, prod=prod, c0=0, c1=cog) -> None:
                    parts = [prod[:, u, c0:c1, off: off + length] for u, off in enumerate(ph.offsets)]
                    self._write(ph, self._sum(parts, "y"), out[:, :, c0:c1],
                                None if bias is None else bias[:, :, c0:c1])
            else:
                nt = len(ph.taps)
                y = self._buffer("ph", gb * cog * length).reshape(gb, cog, length)
                if nt == 1:
                    _gemm(wm, xs[:, :, ph.offsets[0]: ph.offsets[0] + length], y, self.tile, self.inner_threads)
                else:
                    # the stacked windows in runs of columns, so the stack stays within a GEMM block
                    step = max(1, min(length, self.stack_budget // (gb * nt * cig)))
                    buf = self._buffer("stack", gb * nt * cig * step)
                    for c0 in range(0, length, step):
                        c1 = min(length, c0 + step)
                        stack = buf[: gb * nt * cig * (c1 - c0)].reshape(gb, cig, nt, c1 - c0)
                        for a, off in enumerate(ph.offsets):
                            stack[:, :, a] = xs[:, :, off + c0: off + c1]
                        _gemm(wm, stack.reshape(gb, cig * nt, c1 - c0), y[:, :, c0:c1], self.tile, self.inner_threads)

                def tail(ph=ph, y=y, c0=0, c1=cog) -> None:
                    self._write(ph, y[:, c0:c1], out[:, :, c0:c1], None if bias is None else bias[:, :, c0:c1])
            self._posts([functools.partial(tail, c0=c0, c1=c1) for c0, c1 in self._splits(cog)])

    def _group_splits(self, gb: int) -> list[tuple[int, int]]:
        parts = min(gb, 2 * self.inner_threads) if self.inner_threads > 1 else 1
        step = -(-gb // parts)
        return [(a, min(gb, a + step)) for a in range(0, gb, step)]

    def _depthwise_phase(self, xs, k, ph, length, out, bias, g0, a, z) -> None:
        wt = self.w_phase[k][g0 + a: g0 + z]
        y = self._depthwise(xs[a:z, 0], wt, ph.offsets, length)
        self._write(ph, y, out[:, a:z], None if bias is None else bias[:, a:z])

    def _depthwise(self, x0: np.ndarray, wt: np.ndarray, offsets, length: int) -> np.ndarray:
        g, cog = wt.shape[0], self.cog
        y = self._buffer("y", g * cog * length).reshape(g, cog, length)
        step = max(1, _CHUNK // max(1, cog * length))  # groups per cache-sized block
        tmp = self._buffer("tmp", min(g, step) * cog * length)
        for g0 in range(0, g, step):
            g1 = min(g, g0 + step)
            yc = y[g0:g1]
            tc = tmp[: yc.size].reshape(yc.shape)
            for a, off in enumerate(offsets):
                xw, wa = x0[g0:g1, None, off: off + length], wt[g0:g1, :, a, None]
                if a == 0:
                    np.multiply(xw, wa, out=yc)
                else:
                    np.multiply(xw, wa, out=tc)
                    np.add(yc, tc, out=yc)
        return y


def _taps_of(wk: np.ndarray, taps: tuple[int, ...]) -> np.ndarray:
    """wk[..., taps]: a view when the taps are evenly spaced (all of them, for stride 1), else a copy."""
    if len(taps) == 1:
        return wk[..., taps[0]: taps[0] + 1]
    step = taps[1] - taps[0]
    if step > 0 and all(b - a == step for a, b in zip(taps, taps[1:])):
        return wk[..., taps[0]: taps[-1] + 1: step]
    return wk[..., list(taps)]


def _tap_rows(wk: np.ndarray, taps: tuple[int, ...]) -> np.ndarray:
    """Weight (g, cig, cog, K) → (g, T*cog, cig): row block u holds tap ``taps[u]`` of every output channel."""
    g, cig, cog, _ = wk.shape
    return np.ascontiguousarray(wk[:, :, :, list(taps)].transpose(0, 3, 2, 1)).reshape(g, len(taps) * cog, cig)
