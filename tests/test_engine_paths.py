"""Each internal path of the NumPy engine against torch float64 (1e-10 relative).

The engine picks a path by problem size and channel layout: a cached 0/1 scatter matrix for tiny
problems; otherwise one GEMM for all taps ("gemm"), one GEMM per stride phase ("phased", when the
all-taps product would be large), stacked shifted windows and one GEMM per phase ("im2col", tiny
C_in/groups), or broadcast multiply-adds ("depthwise").
Hypothesis configurations are tiny, so these tests force each path with ``monkeypatch`` and check
it against PyTorch on every parameter: stride > kernel (gaps), dilation, padding that crops whole
taps away, output_padding past the canvas, groups, 1-3 spatial dims, bias, unbatched input.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from convt_cli import engine
from convt_cli.engine import conv_transpose, cost, route, runner, threads

TORCH_FN = {1: F.conv_transpose1d, 2: F.conv_transpose2d, 3: F.conv_transpose3d}
PATHS = ("tiny", "gemm", "phased", "im2col", "depthwise")


def torch_ref(x, w, b, **kw):
    out = TORCH_FN[w.ndim - 2](
        torch.from_numpy(np.asarray(x, dtype=np.float64)), torch.from_numpy(np.asarray(w, dtype=np.float64)),
        None if b is None else torch.from_numpy(np.asarray(b, dtype=np.float64)), **kw,
    )
    return out.numpy()


def assert_exact(got: np.ndarray, want: np.ndarray, rel: float = 1e-10) -> None:
    assert got.shape == want.shape
    scale = max(1.0, float(np.abs(want).max(initial=0.0)))
    assert float(np.abs(got - want).max(initial=0.0)) <= rel * scale


def force(monkeypatch, path: str) -> None:
    """Make the engine take ``path`` whatever the problem size."""
    if path == "tiny":
        monkeypatch.setattr(route, "_TINY_WORK", 1 << 62)
    else:
        monkeypatch.setattr(route, "_TINY_WORK", -1)
        monkeypatch.setattr(route, "_mode", lambda cig, cog, plan: path)


def spy(monkeypatch) -> list[str]:
    """Record which path each call takes without changing it."""
    taken: list[str] = []
    real_tiny = route._tiny

    class Runner(route._Runner):
        def __init__(self, mode, *args):
            taken.append(mode)
            super().__init__(mode, *args)

    def tiny(*args):
        taken.append("tiny")
        return real_tiny(*args)

    real_direct = route._scatter_direct

    def direct(*args):
        taken.append("direct")
        return real_direct(*args)

    monkeypatch.setattr(route, "_Runner", Runner)
    monkeypatch.setattr(route, "_tiny", tiny)
    monkeypatch.setattr(route, "_scatter_direct", direct)
    return taken


@st.composite
def configs(draw, depthwise: bool = False):
    nd = draw(st.integers(1, 3))
    groups = draw(st.sampled_from([1, 2, 3]))
    cig = 1 if depthwise else draw(st.integers(1, 3))
    cog = draw(st.integers(1, 2 if depthwise else 3))
    kmax, imax = (5, 7) if nd < 3 else (3, 4)
    kernel = tuple(draw(st.integers(1, kmax)) for _ in range(nd))
    stride = tuple(draw(st.integers(1, 5)) for _ in range(nd))
    dilation = tuple(draw(st.integers(1, 3)) for _ in range(nd))
    spatial = tuple(draw(st.integers(1, imax)) for _ in range(nd))
    output_padding = tuple(draw(st.integers(0, max(s, d) - 1)) for s, d in zip(stride, dilation))
    padding = []
    for i, k, s, d, op in zip(spatial, kernel, stride, dilation, output_padding):
        full = (i - 1) * s + d * (k - 1) + 1 + op
        padding.append(draw(st.integers(0, (full - 1) // 2)))
    return dict(
        nd=nd, groups=groups, c_in=groups * cig, c_out=groups * cog, kernel=kernel, spatial=spatial,
        batch=draw(st.integers(0, 3)), batched=draw(st.booleans()), bias=draw(st.booleans()),
        seed=draw(st.integers(0, 2**31 - 1)),
        kw=dict(stride=stride, padding=tuple(padding), output_padding=output_padding, dilation=dilation,
                groups=groups),
    )


def arrays(cfg, dtype=np.float64):
    rng = np.random.default_rng(cfg["seed"])
    batch = max(cfg["batch"], 0 if cfg["batched"] else 1)
    lead = (batch, cfg["c_in"]) if cfg["batched"] else (cfg["c_in"],)
    x = rng.standard_normal(lead + cfg["spatial"]).astype(dtype)
    w = rng.standard_normal((cfg["c_in"], cfg["c_out"] // cfg["groups"]) + cfg["kernel"]).astype(dtype)
    b = rng.standard_normal(cfg["c_out"]).astype(dtype) if cfg["bias"] else None
    return x, w, b


def check_config(cfg) -> None:
    x, w, b = arrays(cfg)
    x0, w0 = x.copy(), w.copy()
    b0 = None if b is None else b.copy()
    got = conv_transpose(x, w, b, **cfg["kw"])
    assert got.dtype == np.float64
    want = torch_ref(x if cfg["batched"] else x[None], w, b, **cfg["kw"])
    assert_exact(got, want if cfg["batched"] else want[0])
    np.testing.assert_array_equal(x, x0)  # inputs are never modified
    np.testing.assert_array_equal(w, w0)
    if b is not None:
        np.testing.assert_array_equal(b, b0)


@pytest.mark.parametrize("path", ["tiny", "gemm", "phased", "im2col"])
@settings(max_examples=50, deadline=None)
@given(cfg=configs())
def test_each_path_matches_torch(path, cfg):
    with pytest.MonkeyPatch.context() as mp:
        force(mp, path)
        check_config(cfg)


@settings(max_examples=50, deadline=None)
@given(cfg=configs(depthwise=True))
def test_depthwise_path_matches_torch(cfg):
    with pytest.MonkeyPatch.context() as mp:
        force(mp, "depthwise")
        check_config(cfg)


# Named configurations, each run through every path that applies. (x shape, C_out, kwargs)
CASES = {
    "k_eq_stride_no_overlap": ((2, 6, 5, 4), 4, dict(stride=2)),
    "k_eq_stride_3d": ((2, 3, 3, 2, 4), 2, dict(stride=(2, 1, 3))),
    "k4_s2_p1": ((3, 5, 6, 7), 4, dict(stride=2, padding=1)),
    "k3_s2_p1_op1": ((2, 4, 5, 5), 6, dict(stride=2, padding=1, output_padding=1)),
    "dilated": ((2, 4, 6, 5), 4, dict(stride=2, padding=2, output_padding=1, dilation=2)),
    "stride_gt_kernel_gaps": ((1, 3, 4, 3), 2, dict(stride=(5, 4), output_padding=(4, 3))),
    "op_beyond_canvas": ((2, 2, 3, 3), 2, dict(stride=3, output_padding=2)),
    "op_via_dilation": ((1, 2, 4, 4), 2, dict(stride=1, dilation=3, output_padding=2)),
    "padding_crops_taps": ((1, 2, 1, 2), 3, dict(stride=1, padding=2)),
    "grouped": ((2, 8, 5, 6), 8, dict(stride=2, padding=1, output_padding=1, groups=4)),
    "depthwise": ((3, 6, 7, 5), 6, dict(stride=2, padding=1, groups=6)),
    "depthwise_x2": ((2, 4, 6, 6), 8, dict(stride=2, padding=1, groups=4)),
    "1d_k16_s8": ((2, 3, 9), 2, dict(stride=8, padding=4)),
    "3d_k3_s2": ((1, 2, 3, 4, 3), 3, dict(stride=2, padding=1, output_padding=(1, 0, 1))),
    "empty_batch": ((0, 2, 4, 4), 2, dict(stride=2)),
    "unbatched": ((3, 4, 5), 2, dict(stride=2, padding=1)),
}


def _c_in(name: str) -> int:
    xshape = CASES[name][0]
    return xshape[0] if name == "unbatched" else xshape[1]


# the depthwise path only takes one input channel per group
PATH_CASES = [(name, path) for name in sorted(CASES) for path in PATHS
              if path != "depthwise" or _c_in(name) == CASES[name][2].get("groups", 1)]


@pytest.mark.parametrize("one_image_per_chunk", [False, True])
@pytest.mark.parametrize("name, path", PATH_CASES)
def test_named_cases_on_every_path(name, path, one_image_per_chunk, monkeypatch):
    xshape, c_out, kw = CASES[name]
    unbatched = name == "unbatched"
    nd = len(xshape) - (1 if unbatched else 2)
    c_in = _c_in(name)
    groups = kw.get("groups", 1)
    k = {"k_eq_stride_no_overlap": 2, "k_eq_stride_3d": (2, 1, 3), "k4_s2_p1": 4, "1d_k16_s8": 16,
         "padding_crops_taps": 5, "stride_gt_kernel_gaps": (2, 3)}.get(name, 3)
    kernel = (k,) * nd if isinstance(k, int) else k
    rng = np.random.default_rng(len(name))
    x = rng.standard_normal(xshape)
    w = rng.standard_normal((c_in, c_out // groups) + kernel)
    b = rng.standard_normal(c_out)
    force(monkeypatch, path)
    if one_image_per_chunk:
        set_block(monkeypatch, 1)  # the batch runs in chunks of one image, buffers reused
    got = conv_transpose(x, w, b, **kw)
    want = torch_ref(x[None] if unbatched else x, w, b, **kw)
    assert_exact(got, want[0] if unbatched else want)


@pytest.mark.parametrize("path", PATHS)
def test_float32_stays_float32_and_close(path, monkeypatch):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 4, 9, 8)).astype(np.float32)
    w = rng.standard_normal((4, 1, 3, 3)).astype(np.float32)
    b = rng.standard_normal(4).astype(np.float32)
    kw = dict(stride=2, padding=1, output_padding=1, groups=4)
    force(monkeypatch, path)
    got = conv_transpose(x, w, b, **kw)
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, torch_ref(x, w, b, **kw), rtol=1.3e-6, atol=1e-5)


@pytest.mark.parametrize("path", PATHS)
def test_integer_inputs_are_exact(path, monkeypatch):
    x = np.arange(2 * 2 * 4 * 3, dtype=np.int64).reshape(2, 2, 4, 3) - 10
    w = np.arange(2 * 1 * 2 * 3, dtype=np.int64).reshape(2, 1, 2, 3) - 5
    kw = dict(stride=(2, 1), padding=(0, 1), groups=2)
    force(monkeypatch, path)
    got = conv_transpose(x, w, np.array([3, -4]), **kw)
    assert got.dtype == np.int64
    np.testing.assert_array_equal(got, np.rint(torch_ref(x, w, np.array([3.0, -4.0]), **kw)).astype(np.int64))


def test_paths_are_chosen_as_designed(monkeypatch):
    taken = spy(monkeypatch)
    rng = np.random.default_rng(0)
    conv_transpose(rng.standard_normal((1, 2, 3, 3)), rng.standard_normal((2, 2, 3, 3)), stride=2)
    conv_transpose(rng.standard_normal((1, 64, 16, 16)), rng.standard_normal((64, 32, 2, 2)), stride=2)
    conv_transpose(rng.standard_normal((1, 64, 16, 16)), rng.standard_normal((64, 1, 4, 4)), stride=2,
                   padding=1, groups=64)
    conv_transpose(rng.standard_normal((1, 64, 16, 16)), rng.standard_normal((64, 8, 3, 3)), stride=2,
                   padding=1, groups=8)
    conv_transpose(rng.standard_normal((1, 16, 16, 16)), rng.standard_normal((16, 8, 3, 3)), stride=2,
                   padding=1, groups=8)
    # one image whose all-taps product (16 taps × 64 channels × a 66² grid) is past one GEMM block and 3
    # outputs: one GEMM per phase; the same layer at 8² stays one GEMM
    conv_transpose(rng.standard_normal((1, 64, 64, 64)), rng.standard_normal((64, 64, 4, 4)), stride=2, padding=1)
    conv_transpose(rng.standard_normal((1, 64, 8, 8)), rng.standard_normal((64, 64, 4, 4)), stride=2, padding=1)
    # a 2x2 input under a dilated 5x5 kernel: the phases' padded grid would be mostly padding
    conv_transpose(rng.standard_normal((4, 64, 2, 2)), rng.standard_normal((64, 64, 5, 5)), dilation=2)
    # the cost model (cost._mode): 8 channels per group with a 3x3 kernel stack their windows
    assert taken == ["tiny", "gemm", "depthwise", "im2col", "im2col", "phased", "gemm", "direct"]


def test_k_equal_stride_reads_the_input_in_place(monkeypatch):
    """One image needs no copy of the input: the all-taps GEMM reads the input itself."""
    seen = []
    real = runner._gemm

    def gemm(a, bm, *args):
        seen.append(np.shares_memory(bm, x))
        return real(a, bm, *args)

    monkeypatch.setattr(runner, "_gemm", gemm)
    rng = np.random.default_rng(1)
    x = rng.standard_normal((1, 32, 12, 12))
    w = rng.standard_normal((32, 16, 2, 2))
    got = conv_transpose(x, w, stride=2)
    assert seen == [True]
    assert_exact(got, torch_ref(x, w, None, stride=2))


def test_memory_budget_still_refuses_before_allocating(monkeypatch):
    monkeypatch.setenv("CONVT_MAX_BYTES", "100K")
    with pytest.raises(engine.ConvtError, match=r"output \[1, 8, 64, 64\]"):
        conv_transpose(np.ones((1, 4, 32, 32)), np.ones((4, 8, 2, 2)), stride=2)
    monkeypatch.setenv("CONVT_MAX_BYTES", "10K")
    with pytest.raises(engine.ConvtError, match="memory budget"):
        conv_transpose(np.ones((1, 1, 20, 20)), np.ones((1, 1, 2, 2)), stride=2)  # the tiny path too


@pytest.mark.parametrize("path", ["tiny", "gemm"])
def test_nan_and_inf_inputs_reach_only_their_own_outputs(path, monkeypatch):
    """The scatter-matrix GEMM must not turn 0 * inf into NaN everywhere: only the outputs a
    non-finite input element reaches are non-finite, as in PyTorch."""
    rng = np.random.default_rng(5)
    x = rng.standard_normal((1, 2, 4, 4))
    x[0, 0, 1, 1], x[0, 1, 3, 0] = np.nan, np.inf
    w = np.abs(rng.standard_normal((2, 2, 3, 3))) + 0.1
    force(monkeypatch, path)
    got = conv_transpose(x, w, stride=2)
    want = torch_ref(x, w, None, stride=2)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    np.testing.assert_array_equal(np.isinf(got), np.isinf(want))
    finite = np.isfinite(want)
    assert finite.sum() > want.size // 2
    assert_exact(np.where(finite, got, 0), np.where(finite, want, 0))


def test_repeated_calls_reuse_cached_plans_correctly():
    """Cached plans and validation are keyed by shapes and parameters: alternating geometries and
    argument spellings give the same results as fresh calls."""
    rng = np.random.default_rng(9)
    x1, w1 = rng.standard_normal((2, 3, 5, 5)), rng.standard_normal((3, 2, 3, 3))
    x2, w2 = rng.standard_normal((1, 3, 6, 4)), rng.standard_normal((3, 2, 3, 3))
    for _ in range(2):
        for kw in (dict(stride=2, padding=1), dict(stride=[2, 2], padding=(1, 1)), dict(stride=(1, 2))):
            for x, w in ((x1, w1), (x2, w2)):
                assert_exact(conv_transpose(x, w, **kw), torch_ref(x, w, None, **kw))
    with pytest.raises(engine.ConvtError, match="integer"):
        conv_transpose(x1, w1, stride=2.0)  # 2.0 == 2 must not hit the cache entry for stride=2
    with pytest.raises(engine.ConvtError, match="integer"):
        conv_transpose(x1, w1, stride=(True, 2))


# ----------------------------------------------------------------------------------------------
# Threads and GEMM blocks (issue 17): each path under each regime — BLAS's threads ("blas": one
# GEMM call per chunk, the tails spread over the engine's pool), pieces spread over the pool
# ("outer") or one piece at a time with its GEMM blocks and tails over the pool ("inner") — with
# GEMM blocks small enough that rows, columns and the reduction are all cut (partial products
# summed), and the literal scatter the cost model picks for tiny inputs under wide kernels.
# ----------------------------------------------------------------------------------------------

REGIMES = ("blas", "outer", "inner")


def set_block(mp, elements: int) -> None:
    """The engine's GEMM block: defined in engine/runner.py and read there and by the cost model."""
    mp.setattr(runner, "_BLOCK", elements)
    mp.setattr(cost, "_BLOCK", elements)


def force_regime(mp, regime: str) -> None:
    mp.setattr(threads, "_THREADS", 3)
    mp.setattr(runner, "_THREADED_MNK", 0 if regime == "blas" else 1 << 62)
    mp.setattr(threads, "_SINGLE_MNK", 6)  # blocks of at most 6 multiply-adds: every dim is cut
    mp.setattr(threads, "_TILE_DEPTH", 2)
    mp.setattr(threads, "_TILE_COLS", 3)
    mp.setattr(threads, "_TILE_MIN", 1)
    if regime == "inner":
        set_block(mp, 1 << 40)  # one piece: everything inside it goes over the pool


@pytest.mark.parametrize("regime", REGIMES)
@pytest.mark.parametrize("path", ["gemm", "phased", "im2col", "depthwise"])
@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_each_path_under_each_thread_regime(path, regime, data):
    cfg = data.draw(configs(depthwise=path == "depthwise"))
    with pytest.MonkeyPatch.context() as mp:
        force(mp, path)
        force_regime(mp, regime)
        check_config(cfg)


@pytest.mark.parametrize("regime", REGIMES)
@pytest.mark.parametrize("name, path", [(n, p) for n, p in PATH_CASES if p != "tiny"])
def test_named_cases_under_each_thread_regime(name, path, regime, monkeypatch):
    xshape, c_out, kw = CASES[name]
    if name == "unbatched":
        return
    k = {"k4_s2_p1": 4, "1d_k16_s8": 16, "padding_crops_taps": 5, "stride_gt_kernel_gaps": (2, 3)}.get(name, 3)
    nd = len(xshape) - 2
    kernel = (k,) * nd if isinstance(k, int) else k
    rng = np.random.default_rng(len(name) + 7)
    x = rng.standard_normal(xshape)
    w = rng.standard_normal((xshape[1], c_out // kw.get("groups", 1)) + kernel)
    b = rng.standard_normal(c_out)
    force(monkeypatch, path)
    force_regime(monkeypatch, regime)
    assert_exact(conv_transpose(x, w, b, **kw), torch_ref(x, w, b, **kw))


@settings(max_examples=50, deadline=None)
@given(cfg=configs())
def test_direct_scatter_path_matches_torch(cfg):
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(route, "_TINY_WORK", -1)
        mp.setattr(route, "_direct_cheaper", lambda *args: True)
        check_config(cfg)


def test_engine_threads_setting(monkeypatch):
    monkeypatch.setattr(threads, "_THREADS", None)
    monkeypatch.setenv("CONVT_THREADS", "3")
    assert engine.engine_threads() == 3
    monkeypatch.setenv("CONVT_THREADS", "zero")
    assert engine.engine_threads() >= 1
    engine.set_threads(1)
    assert engine.engine_threads() == 1
    engine.set_threads(None)
    with pytest.raises(ValueError):
        engine.set_threads(0)


def test_an_error_in_a_pool_thread_reaches_the_caller():
    def fail(item):
        if item == 5:
            raise MemoryError("piece 5")

    with pytest.raises(MemoryError, match="piece 5"):
        engine._run_all(fail, list(range(10)), 3)


@pytest.mark.parametrize("regime", REGIMES)
@settings(max_examples=40, deadline=None)
@given(cfg=configs())
def test_unpadded_gemm_matches_torch(regime, cfg):
    """Mode "gemm" on the input as it is (each phase sums its taps' boxes), off by default."""
    with pytest.MonkeyPatch.context() as mp:
        force(mp, "gemm")
        force_regime(mp, regime)
        mp.setattr(runner, "_UNPADDED", True)
        check_config(cfg)


@pytest.mark.skipif(not hasattr(__import__("os"), "fork"), reason="needs fork")
def test_a_forked_child_gets_a_pool_of_its_own():
    """After the parent used the pool, a forked child (multiprocessing's default on Linux) must not
    wait on the parent's worker threads, which it does not have."""
    import multiprocessing

    engine._run_all(lambda item: None, list(range(8)), 3)
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(1) as pool:
        assert pool.apply_async(_pooled_sum, ()).get(timeout=60) == 28


def _pooled_sum() -> int:
    seen: list[int] = []
    engine._run_all(seen.append, list(range(8)), 3)
    return sum(seen)
