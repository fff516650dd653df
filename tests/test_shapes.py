"""Shape arithmetic and validation parity with PyTorch (accept exactly what it accepts)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from convt_cli import ConvtError, conv_transpose
from convt_cli.shapes import (
    ConvTransposeParams,
    canvas_size,
    inverse_conv,
    output_padding_range,
    output_size,
    overlap_verdict,
    reachable_sizes,
)

TORCH_FN = {1: F.conv_transpose1d, 2: F.conv_transpose2d, 3: F.conv_transpose3d}


def test_output_size_by_hand():
    assert output_size(64, 2, 2) == 128  # the SAM 3 layer: (64-1)*2 + 1*(2-1) + 1
    assert output_size(2, 2, 2) == 4  # the explainer's example
    assert output_size(16, 4, 2, 1) == 32  # DCGAN
    assert output_size(32, 3, 2, 1, 1) == 64
    assert output_size(5, 3, 1, 0, 1, 2) == 10  # stride 1, dilation 2, output_padding 1


def test_canvas_and_reachable_sizes():
    assert canvas_size(4, 3, 2) == 9
    assert list(output_padding_range(2)) == [0, 1]
    assert list(output_padding_range(1, 2)) == [0, 1]
    assert reachable_sizes(32, 3, 2, 1) == [63, 64]


@given(
    st.integers(1, 40), st.integers(1, 6), st.integers(1, 4), st.integers(0, 3), st.integers(1, 3),
    st.integers(0, 3),
)
def test_inverse_conv_maps_the_output_back(i, k, s, p, d, op):
    if op >= max(s, d) or output_size(i, k, s, p, op, d) <= 0:
        return
    inv = inverse_conv(i, k, s, p, op, d)
    out = output_size(i, k, s, p, op, d)
    assert (inv.in_size, inv.kernel, inv.stride, inv.padding, inv.dilation) == (out, k, s, p, d)
    if out + 2 * p >= d * (k - 1) + 1:  # torch's conv accepts this size: its output is the inverse's
        y = F.conv1d(torch.zeros(1, 1, out), torch.zeros(1, 1, k), stride=s, padding=p, dilation=d)
        assert y.shape[-1] == inv.out_size
    if op < s:  # output_padding is only the remainder the conv's floor division forgot
        assert inv.out_size == i and inv.remainder == op
    else:  # legal through dilation only: the conv lands past the input size
        assert inv.out_size > i


@pytest.mark.parametrize(
    "k, s, d, kind, counts",
    [
        ((2, 2), (2, 2), (1, 1), "even", (1, 1)),  # SAM 3: one contribution per cell
        ((3, 3), (2, 2), (1, 1), "uneven", (1, 4)),  # 1/2/4 in 2-D (Odena et al.)
        ((4,), (2,), (1,), "even", (2, 2)),
        ((1,), (2,), (1,), "gaps", (0, 1)),
        ((3,), (2,), (2,), "gaps", (0, 3)),  # dilation 2 with stride 2 puts every tap on one phase
    ],
)
def test_overlap_verdict(k, s, d, kind, counts):
    v = overlap_verdict(k, s, d)
    assert v.kind == kind
    assert v.per_cell == counts


@given(st.integers(1, 5), st.integers(1, 4), st.integers(1, 3))
def test_overlap_verdict_matches_the_interior_of_the_count_map(k, s, d):
    counts = conv_transpose(np.ones((1, 1, 12)), np.ones((1, 1, k)), stride=s, dilation=d)[0, 0]
    interior = counts[d * (k - 1): len(counts) - d * (k - 1)]
    if interior.size < s:
        return
    v = overlap_verdict((k,), (s,), (d,))
    assert sorted(set(interior.astype(int).tolist())) == sorted(set(v.counts[0]))


def test_params_broadcast_and_reject():
    p = ConvTransposeParams.make(2, stride=2, padding=(1,), output_padding=(1, 0), dilation=1)
    assert p.stride == (2, 2) and p.padding == (1, 1) and p.output_padding == (1, 0)
    with pytest.raises(ConvtError, match="output_padding=1 in dim 1 must be smaller than stride=1 or dilation=1"):
        ConvTransposeParams.make(2, stride=(2, 1), output_padding=1)
    assert ConvTransposeParams.make(1, stride=1, dilation=2, output_padding=1).output_padding == (1,)
    with pytest.raises(ConvtError, match="integer"):
        ConvTransposeParams.make(1, stride=True)


@st.composite
def any_configs(draw):
    """Valid and invalid configurations, about half of each.

    The batch is never empty: for N=0 PyTorch skips some of its own checks (and can fail with an
    IndexError), while convt applies the same rules whatever the batch size.
    """
    nd = draw(st.integers(1, 3))
    c_in = draw(st.integers(0, 4))
    w_in = draw(st.sampled_from([c_in, c_in, c_in + 1, max(c_in - 1, 0)]))
    cog = draw(st.integers(0, 2))
    kernel = tuple(draw(st.integers(0, 3)) for _ in range(nd))
    spatial = tuple(draw(st.integers(0, 4)) for _ in range(nd))
    x_rank = draw(st.sampled_from([nd + 2, nd + 2, nd + 1, nd + 3, nd]))
    lead = [draw(st.integers(1, 2)), c_in][: x_rank - nd] if x_rank - nd <= 2 else [1, 1, c_in]
    if x_rank == nd + 1:
        lead = [c_in]
    if x_rank == nd:
        lead = []
    groups = draw(st.integers(-1, 4))
    params = dict(
        stride=tuple(draw(st.integers(-1, 3)) for _ in range(nd)),
        padding=tuple(draw(st.integers(-1, 3)) for _ in range(nd)),
        output_padding=tuple(draw(st.integers(-1, 3)) for _ in range(nd)),
        dilation=tuple(draw(st.integers(-1, 3)) for _ in range(nd)),
        groups=groups,
    )
    bias_len = draw(st.sampled_from([None, "right", "wrong"]))
    return nd, tuple(lead) + spatial, (w_in, cog) + kernel, bias_len, params


@settings(max_examples=400)
@given(any_configs())
def test_validation_parity_with_torch(cfg):
    nd, x_shape, w_shape, bias_len, params = cfg
    c_out = w_shape[1] * max(params["groups"], 1)
    b_shape = None if bias_len is None else ((c_out,) if bias_len == "right" else (c_out + 1,))
    x = np.zeros(x_shape)
    w = np.zeros(w_shape)
    b = None if b_shape is None else np.zeros(b_shape)
    try:
        ref = TORCH_FN[nd](torch.from_numpy(x), torch.from_numpy(w), None if b is None else torch.from_numpy(b),
                           **params)
        torch_ok = True
    except (RuntimeError, ValueError):
        torch_ok = False
    try:
        got = conv_transpose(x, w, b, **params)
        ours_ok = True
    except ConvtError:
        ours_ok = False
    assert ours_ok == torch_ok, (x_shape, w_shape, b_shape, params)
    if ours_ok:
        assert got.shape == tuple(ref.shape)


# Parameters as PyTorch users pass them: 0-d arrays and tensors, tensors of ints, trainable weights.
SCALAR_LIKE = [np.array(2), np.int64(2), torch.tensor(2), [np.array(2), torch.tensor(2)], torch.tensor([2, 2])]


@pytest.mark.parametrize("stride", SCALAR_LIKE, ids=repr)
def test_integer_scalars_and_tensors_as_parameters(stride):
    x, w = np.arange(9.0).reshape(1, 1, 3, 3), np.arange(4.0).reshape(1, 1, 2, 2)
    expected = F.conv_transpose2d(torch.from_numpy(x), torch.from_numpy(w), stride=2).numpy()
    np.testing.assert_array_equal(conv_transpose(x, w, stride=stride), expected)


@pytest.mark.parametrize("stride", [np.array(2.0), torch.tensor(2.0), np.array(True), 2.5], ids=repr)
def test_non_integer_scalars_are_refused_by_value(stride):
    with pytest.raises(ConvtError, match=r"stride=(2\.0|True|2\.5) must be an integer"):
        conv_transpose(np.ones((1, 1, 2, 2)), np.ones((1, 1, 2, 2)), stride=stride)


def test_a_weight_that_requires_grad_is_read_like_torch_reads_it():
    w = torch.arange(4.0, dtype=torch.float64).reshape(1, 1, 2, 2).requires_grad_()
    x = torch.arange(9.0, dtype=torch.float64).reshape(1, 1, 3, 3)
    expected = F.conv_transpose2d(x, w, stride=2).detach().numpy()
    np.testing.assert_array_equal(conv_transpose(x, w, stride=2), expected)
    assert w.requires_grad and w.grad is None  # the caller's tensor is untouched
