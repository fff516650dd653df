"""The NumPy engine against torch.nn.functional.conv_transpose{1,2,3}d, float64."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

from convt_cli import ConvtError, conv_transpose

TORCH_FN = {1: F.conv_transpose1d, 2: F.conv_transpose2d, 3: F.conv_transpose3d}


def torch_ref(x, w, b, **kw):
    out = TORCH_FN[w.ndim - 2](
        torch.from_numpy(x), torch.from_numpy(w), None if b is None else torch.from_numpy(b), **kw
    )
    return out.numpy()


def assert_exact(got: np.ndarray, want: np.ndarray) -> None:
    assert got.shape == want.shape
    scale = max(1.0, float(np.abs(want).max(initial=0.0)))
    assert float(np.abs(got - want).max(initial=0.0)) <= 1e-10 * scale


@st.composite
def valid_configs(draw, max_dims: int = 3):
    nd = draw(st.integers(1, max_dims))
    groups = draw(st.sampled_from([1, 1, 2, 3]))
    depthwise = draw(st.booleans()) and groups > 1
    cig = 1 if depthwise else draw(st.integers(1, 2))
    cog = draw(st.integers(1, 2))
    c_in = groups * cig
    kernel = tuple(draw(st.integers(1, 4 if nd < 3 else 3)) for _ in range(nd))
    stride = tuple(draw(st.integers(1, 5)) for _ in range(nd))  # includes stride > kernel
    dilation = tuple(draw(st.integers(1, 3)) for _ in range(nd))
    spatial = tuple(draw(st.integers(1, 6 if nd < 3 else 4)) for _ in range(nd))
    output_padding = tuple(
        draw(st.integers(0, max(s, d) - 1)) for s, d in zip(stride, dilation)
    )  # up to the limit, including stride 1 / dilation 2
    padding = []
    for i, k, s, d, op in zip(spatial, kernel, stride, dilation, output_padding):
        full = (i - 1) * s + d * (k - 1) + 1 + op
        padding.append(draw(st.integers(0, (full - 1) // 2)))  # every size stays positive
    batched = draw(st.booleans())
    batch = draw(st.integers(1, 3))
    bias = draw(st.booleans())
    return dict(
        nd=nd, groups=groups, c_in=c_in, c_out=groups * cog, kernel=kernel, stride=stride,
        dilation=dilation, spatial=spatial, output_padding=output_padding, padding=tuple(padding),
        batched=batched, batch=batch, bias=bias, seed=draw(st.integers(0, 2**31 - 1)),
    )


def make_arrays(cfg):
    rng = np.random.default_rng(cfg["seed"])
    lead = (cfg["batch"], cfg["c_in"]) if cfg["batched"] else (cfg["c_in"],)
    x = rng.standard_normal(lead + cfg["spatial"])
    w = rng.standard_normal((cfg["c_in"], cfg["c_out"] // cfg["groups"]) + cfg["kernel"])
    b = rng.standard_normal(cfg["c_out"]) if cfg["bias"] else None
    return x, w, b


def kwargs_of(cfg):
    return {k: cfg[k] for k in ("stride", "padding", "output_padding", "dilation", "groups")}


@given(valid_configs())
def test_engine_matches_torch_float64(cfg):
    x, w, b = make_arrays(cfg)
    x0, w0 = x.copy(), w.copy()
    got = conv_transpose(x, w, b, **kwargs_of(cfg))
    assert_exact(got, torch_ref(x, w, b, **kwargs_of(cfg)))
    assert got.dtype == np.float64
    np.testing.assert_array_equal(x, x0)  # inputs are never modified
    np.testing.assert_array_equal(w, w0)


@pytest.mark.parametrize("nd", [1, 2, 3])
def test_each_dim_with_every_parameter_at_once(nd):
    rng = np.random.default_rng(nd)
    s, p, op, d = (2, 3, 1)[:nd], (1, 0, 2)[:nd], (1, 2, 0)[:nd], (2, 1, 3)[:nd]
    x = rng.standard_normal((2, 4) + (5, 4, 3)[:nd])
    w = rng.standard_normal((4, 3) + (3, 2, 2)[:nd])
    b = rng.standard_normal(6)
    kw = dict(stride=s, padding=p, output_padding=op, dilation=d, groups=2)
    assert_exact(conv_transpose(x, w, b, **kw), torch_ref(x, w, b, **kw))


def test_explainer_example():
    out = conv_transpose([[[[1, 2], [3, 4]]]], [[[[1, 0], [0, 1]]]], stride=2)
    assert out.tolist() == [[[[1, 0, 2, 0], [0, 1, 0, 2], [3, 0, 4, 0], [0, 3, 0, 4]]]]


def test_overlap_example_adds():
    out = conv_transpose([[[1, 2], [3, 4]]], [[[[1, 1], [1, 1]]]], stride=1)
    assert out.tolist() == [[[1, 3, 2], [4, 10, 6], [3, 7, 4]]]


def test_output_padding_holds_computed_values_when_padding_covers_it():
    # pytorch#8816: with padding >= output_padding the extra row/column is real data, not zeros.
    x = np.arange(1, 10, dtype=np.float64).reshape(1, 1, 3, 3)
    w = np.ones((1, 1, 3, 3))
    out = conv_transpose(x, w, stride=2, padding=1, output_padding=1)
    assert out.shape == (1, 1, 6, 6)
    assert np.all(out[0, 0, -1, :] != 0)
    assert_exact(out, torch_ref(x, w, None, stride=2, padding=1, output_padding=1))


def test_output_padding_without_padding_is_zero_plus_bias():
    x = np.ones((1, 1, 2, 2))
    w = np.ones((1, 1, 2, 2))
    out = conv_transpose(x, w, np.array([0.5]), stride=3, output_padding=1)
    assert out.shape == (1, 1, 6, 6)
    np.testing.assert_array_equal(out[0, 0, -1, :], 0.5)


@pytest.mark.parametrize(
    "dtypes, expected",
    [
        ((np.float32, np.float32), np.float32),
        ((np.float64, np.float32), np.float64),
        ((np.int64, np.int64), np.int64),
        ((np.int64, np.float32), np.float64),
    ],
)
def test_result_dtype_is_numpys_result_type(dtypes, expected):
    x = np.ones((1, 1, 3), dtype=dtypes[0])
    w = np.ones((1, 1, 2), dtype=dtypes[1])
    assert conv_transpose(x, w, stride=2).dtype == expected


def test_float32_stays_within_tolerance_of_float64():
    rng = np.random.default_rng(7)
    x = rng.standard_normal((2, 8, 9, 9))
    w = rng.standard_normal((8, 4, 3, 3))
    full = conv_transpose(x, w, stride=2, padding=1, output_padding=1, groups=2)
    single = conv_transpose(x.astype(np.float32), w.astype(np.float32), stride=2, padding=1,
                            output_padding=1, groups=2)
    np.testing.assert_allclose(single, full, rtol=1.3e-6, atol=1e-5)


def test_accepts_lists_and_torch_tensors():
    x = torch.arange(6, dtype=torch.float64).reshape(1, 2, 3)
    w = torch.ones(2, 1, 2, dtype=torch.float64)
    got = conv_transpose(x, w, stride=2)
    assert_exact(got, torch_ref(x.numpy(), w.numpy(), None, stride=2))
    assert conv_transpose([[1.0, 2.0]], [[[1.0]]]).tolist() == [[1.0, 2.0]]


def test_unbatched_in_unbatched_out():
    x = np.ones((2, 3, 3))
    w = np.ones((2, 1, 2, 2))
    assert conv_transpose(x, w).shape == (1, 4, 4)


def test_empty_batch_is_accepted_like_torch():
    x = np.zeros((0, 1, 3, 3))
    w = np.ones((1, 2, 2, 2))
    assert conv_transpose(x, w, stride=2).shape == (0, 2, 6, 6)


@pytest.mark.parametrize(
    "kwargs, words",
    [
        (dict(stride=0), ["stride=0", "positive"]),
        (dict(padding=-1), ["padding=-1", "negative"]),
        (dict(output_padding=-1), ["output_padding=-1", "negative"]),
        (dict(dilation=0), ["dilation=0", "greater than zero"]),
        (dict(groups=0), ["groups=0", "positive"]),
        (dict(stride=2, output_padding=2), ["output_padding=2 in dim 0", "stride=2", "dilation=1"]),
        (dict(stride=(1, 1, 1)), ["stride=[1, 1, 1]", "2 values"]),
        (dict(padding=5), ["too small"]),
        (dict(stride=1.5), ["stride=1.5", "integer"]),
    ],
)
def test_invalid_parameters_name_the_rule(kwargs, words):
    with pytest.raises(ConvtError) as info:
        conv_transpose(np.ones((1, 2, 3, 3)), np.ones((2, 1, 2, 2)), **kwargs)
    for word in words:
        assert word in str(info.value)


def test_invalid_shapes_name_the_rule():
    with pytest.raises(ConvtError, match="expects C_in=3"):
        conv_transpose(np.ones((1, 4, 5, 5)), np.ones((3, 2, 3, 3)))
    with pytest.raises(ConvtError, match="groups=3 must divide"):
        conv_transpose(np.ones((1, 4, 5, 5)), np.ones((4, 2, 3, 3)), groups=3)
    with pytest.raises(ConvtError, match="bias of shape \\[3\\]"):
        conv_transpose(np.ones((1, 4, 5, 5)), np.ones((4, 1, 3, 3)), np.ones(3))
    with pytest.raises(ConvtError, match="must have 3 dims .* or 4 dims"):
        conv_transpose(np.ones((1, 1, 4, 5, 5)), np.ones((1, 1, 3, 3)))
    with pytest.raises(ConvtError, match="3, 4 or 5"):
        conv_transpose(np.ones((1, 1, 4)), np.ones((1, 1)))
    with pytest.raises(ConvtError, match="real numeric"):
        conv_transpose(np.array([["a"]]), np.ones((1, 1, 1)))


@given(valid_configs(), st.sampled_from([np.inf, -np.inf, np.nan]), st.booleans(), st.integers(0, 10**6))
def test_non_finite_values_spread_exactly_like_torch(cfg, bad, in_weight, where):
    x, w, b = make_arrays(cfg)
    target = w if in_weight else x
    target.flat[where % target.size] = bad
    got = conv_transpose(x, w, b, **kwargs_of(cfg))
    want = torch_ref(x, w, b, **kwargs_of(cfg))
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    np.testing.assert_array_equal(np.isinf(got), np.isinf(want))
    finite = np.isfinite(want)
    assert_exact(np.where(finite, got, 0), np.where(finite, want, 0))


@given(valid_configs())
def test_direct_scatter_agrees_with_the_fast_paths(cfg):
    from convt_cli.engine import _scatter_direct, prepare, result_dtype

    x, w, b = make_arrays(cfg)
    xa, wa, ba, params, shapes = prepare(x, w, b, **kwargs_of(cfg))
    direct = _scatter_direct(xa, wa, ba, params, shapes, result_dtype(xa, wa))
    assert_exact(direct, conv_transpose(x, w, b, **kwargs_of(cfg)))
