"""The gather and matrix views (convt_cli/views.py) reach the engine's output by their own arithmetic."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from convt_cli.engine import conv_transpose
from convt_cli.errors import ConvtError
from convt_cli.views import ELEMENT, INSERTED, MATRIX_MAX_CELLS, PAD, gather_view, matrix_view


def engine(x, k, stride=1, padding=0, output_padding=0, dilation=1, bias=None, channels=False):
    """The engine on the same (C, *S) / (C, *k) arrangement the views take."""
    x = np.asarray(x)
    k = np.asarray(k)
    if not channels:
        x, k = x[None], k[None]
    b = None if bias is None else np.array([bias])
    return conv_transpose(x[None], k[:, None], b, stride, padding, output_padding, dilation)[0, 0]


def direct_conv(y, k, stride, padding, dilation, in_shape):
    """An ordinary convolution (cross-correlation) written out by loops: what C must compute."""
    out = np.zeros(in_shape)
    for i in itertools.product(*(range(n) for n in in_shape)):
        for j in itertools.product(*(range(n) for n in k.shape)):
            o = tuple(ii * s + jj * d - p for ii, s, jj, d, p in zip(i, stride, j, dilation, padding))
            if all(0 <= oo < n for oo, n in zip(o, y.shape)):
                out[i] += k[j] * y[o]
    return out


# ------------------------------------------------------------------ the explainer's example, by hand

def test_gather_explainer_example_structure():
    v = gather_view([[1, 2], [3, 4]], [[1, 0], [0, 1]], stride=2)
    # stride-1 = 1 zero between elements
    assert v.zero_inserted[0].tolist() == [[1, 0, 2], [0, 0, 0], [3, 0, 4]]
    # pad dilation*(k-1) - padding = 1 on each side
    assert v.pad_before == (1, 1) and v.pad_after == (1, 1)
    assert v.padded.shape == (1, 5, 5)
    assert v.padded[0, 1:4, 1:4].tolist() == [[1, 0, 2], [0, 0, 0], [3, 0, 4]]
    assert v.kinds[0].tolist() == [PAD] * 5
    assert v.kinds[1].tolist() == [PAD, ELEMENT, INSERTED, ELEMENT, PAD]
    assert v.output.tolist() == [[1, 0, 2, 0], [0, 1, 0, 2], [3, 0, 4, 0], [0, 3, 0, 4]]
    assert v.total_steps == 16 and len(v.steps) == 16


def test_gather_rotates_kernel_180():
    v = gather_view([[1]], [[1, 2], [3, 4]])
    assert v.rotated[0].tolist() == [[4, 3], [2, 1]]


def test_gather_step_is_sum_of_window_products():
    v = gather_view([[1, 2], [3, 4]], [[1, 1], [1, 1]], stride=1, max_steps=3)
    assert len(v.steps) == 3 and v.skipped_steps == 6
    centre = gather_view([[1, 2], [3, 4]], [[1, 1], [1, 1]], stride=1).steps[4]
    assert centre.index == (1, 1)
    assert sum(a * b for tap in centre.terms for a, b in tap) == 10 == centre.value


def test_gather_negative_pad_crops():
    # padding 2 > dilation*(k-1) = 1: the zero-inserted input is cropped by 1 at each end.
    v = gather_view([1, 2, 3, 4], [1, 1], stride=2, padding=2)
    assert v.pad_before == (-1,) and v.pad_after == (-1,)
    assert v.padded.shape == (1, v.output.shape[0] + 1)
    assert v.output.tolist() == engine([1, 2, 3, 4], [1, 1], stride=2, padding=2).tolist()


def test_matrix_explainer_example():
    m = matrix_view([[1, 2], [3, 4]], [[1, 0], [0, 1]], stride=2)
    assert m.matrix.shape == (4, 16)
    # Input element (0,1) feeds output cells (0,2) and (1,3): columns 2 and 7.
    assert np.nonzero(m.matrix[1])[0].tolist() == [2, 7]
    assert m.output.tolist() == [[1, 0, 2, 0], [0, 1, 0, 2], [3, 0, 4, 0], [0, 3, 0, 4]]


def test_matrix_is_the_ordinary_convolution():
    """C·y is the convolution of y (written out by loops), and the output is Cᵀ·x."""
    rng = np.random.default_rng(3)
    x = rng.integers(-3, 4, (2, 3))
    k = rng.integers(-2, 3, (3, 2))
    m = matrix_view(x, k, stride=(2, 1), padding=(1, 0), dilation=(1, 2))
    y = rng.integers(-3, 4, m.out_shape)
    cy = m.matrix @ y.reshape(-1)
    assert cy.reshape(x.shape).tolist() == direct_conv(y, k, (2, 1), (1, 0), (1, 2), x.shape).tolist()
    # adjoint identity <conv(y), x> == <y, convT(x)>
    assert int(cy @ x.reshape(-1)) == int(y.reshape(-1) @ m.out_flat)


def test_matrix_refuses_big_sizes_politely():
    with pytest.raises(ConvtError, match=f"{MATRIX_MAX_CELLS} entries"):
        matrix_view(np.ones((8, 8)), np.ones((2, 2)), stride=2)


def test_views_reject_rank_mismatch():
    with pytest.raises(ConvtError, match="same rank"):
        gather_view([1, 2], [[1]])
    with pytest.raises(ConvtError, match="same rank"):
        matrix_view([1, 2], [[1]])


# ------------------------------------------------------------------ every view equals the engine

@st.composite
def configs(draw):
    nd = draw(st.integers(1, 3))
    c = draw(st.integers(1, 2))
    dims = st.integers(1, 3)
    spatial = tuple(draw(dims) for _ in range(nd))
    ksize = tuple(draw(dims) for _ in range(nd))
    stride = tuple(draw(st.integers(1, 3)) for _ in range(nd))
    dilation = tuple(draw(st.integers(1, 2)) for _ in range(nd))
    padding = tuple(draw(st.integers(0, 2)) for _ in range(nd))
    output_padding = tuple(draw(st.integers(0, max(s, d) - 1)) for s, d in zip(stride, dilation))
    seed = draw(st.integers(0, 2**16))
    floats = draw(st.booleans())
    bias = draw(st.one_of(st.none(), st.sampled_from([0.5, -2.0])))
    return c, spatial, ksize, stride, dilation, padding, output_padding, seed, floats, bias


@settings(max_examples=80, deadline=None)
@given(configs())
def test_gather_and_matrix_equal_engine(cfg):
    c, spatial, ksize, stride, dilation, padding, output_padding, seed, floats, bias = cfg
    rng = np.random.default_rng(seed)
    if floats:
        x = rng.standard_normal((c,) + spatial)
        k = rng.standard_normal((c,) + ksize)
    else:
        x = rng.integers(-4, 5, (c,) + spatial)
        k = rng.integers(-3, 4, (c,) + ksize)
    kw = dict(stride=stride, padding=padding, output_padding=output_padding, dilation=dilation, bias=bias,
              channels=True)
    try:
        ref = engine(x, k, **kw)
    except ConvtError:
        with pytest.raises(ConvtError):
            gather_view(x, k, **kw)
        return
    g = gather_view(x, k, max_steps=4, **kw)
    assert g.output.shape == ref.shape
    np.testing.assert_allclose(g.output, ref, rtol=1e-12, atol=1e-12)
    if not floats and bias is None:
        assert g.output.dtype.kind == "i" and np.array_equal(g.output, ref)
    for step in g.steps:
        total = sum(a * b for tap in step.terms for a, b in tap) + (bias or 0)
        assert total == pytest.approx(ref[step.index], abs=1e-9)
    try:
        m = matrix_view(x, k, **kw)
    except ConvtError as exc:
        assert "matrix view" in str(exc)
        return
    np.testing.assert_allclose(m.output, ref, rtol=1e-12, atol=1e-12)


# The cost model: refused up front with the numbers and what to change, or computed fast.


def test_gather_refuses_too_many_multiply_adds_before_any_work():
    with pytest.raises(ConvtError, match=r"1,004,004 output cells.*multiply-adds.*--view scatter"):
        gather_view(np.ones((2, 2)), np.ones((1000, 1000)), stride=2, max_steps=0)


def test_gather_refuses_too_many_recorded_taps():
    with pytest.raises(ConvtError, match=r"--max-steps 2000 or fewer"):
        gather_view(np.ones((100, 100)), np.ones((10, 10)), max_steps=5000)


def test_matrix_view_of_a_big_kernel_cropped_to_a_small_output():
    k = np.arange(300 * 300, dtype=np.float64).reshape(300, 300)
    mv = matrix_view([[2.0]], k, padding=149)
    assert mv.out_shape == (2, 2)
    np.testing.assert_array_equal(mv.output, conv_transpose(np.full((1, 1, 1, 1), 2.0), k[None, None],
                                                            padding=149)[0, 0])


def test_views_compute_small_integers_in_int64():
    x = np.full((2, 2), 100, dtype=np.int8)
    k = np.full((2, 2), 2, dtype=np.int8)
    assert int(gather_view(x, k, stride=1).output.max()) == 800
    assert int(matrix_view(x, k, stride=1).output.max()) == 800
