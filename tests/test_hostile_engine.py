"""Issue 16, the engine's classes: a huge stride or kernel costs what PyTorch's kernel costs (or is
refused by the memory budget before any work), an empty batch is instant, and integers never wrap.

The bounded cases run in a subprocess under a time bound and an address-space limit (tests/hostile.py);
the values are checked against PyTorch in-process on small versions of the same geometry.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from convt_cli import ConvtError, conv_transpose

sys.path.insert(0, str(Path(__file__).resolve().parent))

from hostile import assert_answer_or_error, run_python  # noqa: E402

FAST_S = 15.0
TORCH_FN = {1: F.conv_transpose1d, 2: F.conv_transpose2d, 3: F.conv_transpose3d}


def _engine(call: str) -> str:
    return f"import numpy as np; from convt_cli import conv_transpose as ct; r = {call}; print(r.shape, r.sum())"


@pytest.mark.parametrize(("call", "expected"), [
    # an empty batch with a stride of 100000: nothing to compute (was: no answer in 30 s)
    ("ct(np.ones((0, 1, 2, 2)), np.ones((1, 1, 1, 1)), stride=100000)", "(0, 1, 100001, 100001) 0.0"),
    ("ct(np.ones((0, 1, 2, 2)), np.ones((1, 1, 1, 1)), stride=1000)", "(0, 1, 1001, 1001) 0.0"),
    # a stride much larger than the kernel: the phases no tap reaches are not enumerated one by one
    ("ct(np.ones((1, 1, 2, 2)), np.ones((1, 1, 1, 1)), stride=1000)", "(1, 1, 1001, 1001) 4.0"),
    ("ct(np.ones((1, 2, 3)), np.ones((2, 1, 2)), stride=3000000)", "(1, 1, 6000002) 12.0"),
    # a kernel much larger than the input: positions × taps, as PyTorch (was 13.7 s for 400×400)
    ("ct(np.ones((1, 1, 1, 1)), np.ones((1, 1, 1000, 1000)))", "(1, 1, 1000, 1000) 1000000.0"),
    ("ct(np.ones((1, 1, 1, 1, 1)), np.ones((1, 1, 90, 90, 90)))", "(1, 1, 90, 90, 90) 729000.0"),
    ("ct(np.ones((1, 1, 2, 2)), np.ones((1, 1, 300, 300)), dilation=3, padding=7)", "(1, 1, 885, 885) 348100.0"),
])
def test_extreme_geometry_is_computed_within_the_bound(call, expected):
    out = run_python(_engine(call), timeout=FAST_S)
    assert_answer_or_error(out, expect="answer")
    assert out.stdout.strip() == expected


def test_a_huge_output_is_refused_before_any_planning():
    out = run_python("import numpy as np; from convt_cli import ConvtError, conv_transpose as ct\n"
                     "try: ct(np.ones((1, 1, 2, 2)), np.ones((1, 1, 1, 1)), stride=100000)\n"
                     "except ConvtError as e: print(e)", timeout=FAST_S)
    assert_answer_or_error(out, expect="answer")  # refused at once: 100001² float64 is past the 200 MB budget
    assert out.stdout.startswith("the output [1, 1, 100001, 100001] with its working buffers would need 74.5 GiB")


@settings(max_examples=60, deadline=None)
@given(nd=st.integers(1, 3), data=st.data())
def test_kernels_larger_than_the_input_match_torch(nd, data):
    """The literal-scatter route the cost model picks when the kernel's span dwarfs the input."""
    spatial = data.draw(st.lists(st.integers(1, 3), min_size=nd, max_size=nd))
    kernel = data.draw(st.lists(st.integers(4, 12 if nd < 3 else 7), min_size=nd, max_size=nd))
    stride = data.draw(st.lists(st.integers(1, 3), min_size=nd, max_size=nd))
    dilation = data.draw(st.lists(st.integers(1, 3), min_size=nd, max_size=nd))
    padding = [data.draw(st.integers(0, ((i - 1) * s + d * (k - 1)) // 2))  # the output keeps ≥ 1 cell
               for i, s, d, k in zip(spatial, stride, dilation, kernel)]
    groups = data.draw(st.sampled_from([1, 2]))
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    x = rng.standard_normal([2, 2 * groups] + spatial)
    w = rng.standard_normal([2 * groups, 2] + kernel)
    b = rng.standard_normal(2 * groups)
    kw = dict(stride=stride, padding=padding, dilation=dilation, groups=groups)
    expected = TORCH_FN[nd](torch.from_numpy(x), torch.from_numpy(w), torch.from_numpy(b), **kw).numpy()
    np.testing.assert_allclose(conv_transpose(x, w, b, **kw), expected, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("dtype", [np.int8, np.uint8, np.int16, np.int32, np.uint32, np.int64])
def test_small_integers_compute_exactly_in_int64(dtype):
    """int8 100 × 100 summed over 4 terms wrapped to 16 before; PyTorch's one integer type is int64."""
    x = np.full((1, 2, 3, 3), 100, dtype=dtype)
    w = np.full((2, 1, 2, 2), 100, dtype=dtype)
    out = conv_transpose(x, w, stride=1)
    assert out.dtype == np.int64
    expected = F.conv_transpose2d(torch.from_numpy(x.astype(np.int64)), torch.from_numpy(w.astype(np.int64)))
    np.testing.assert_array_equal(out, expected.numpy())
    assert out.max() == 100 * 100 * 2 * 4  # two channels, four taps on an inner cell


def test_integer_sums_past_int64_are_refused_not_wrapped():
    with pytest.raises(ConvtError, match=r"beyond int64"):
        conv_transpose(np.array([[[4294967296]]]), np.array([[[4294967296]]]))  # 2**64 printed 0 before
    big = 3037000499  # big² < 2**63: the one product fits, and is exact
    assert conv_transpose(np.array([[[big]]]), np.array([[[big]]])).item() == big * big


def test_integer_bound_counts_channels_and_bias():
    x = np.full((1, 4, 1), 2**30, dtype=np.int64)
    w = np.full((4, 1, 1), 2**30, dtype=np.int64)  # 4 terms of 2**60: 2**62, fits
    assert conv_transpose(x, w).item() == 2**62
    with pytest.raises(ConvtError, match=r"beyond int64"):
        conv_transpose(np.full((1, 8, 1), 2**30), np.full((8, 1, 1), 2**30))  # 2**63: past it
    with pytest.raises(ConvtError, match=r"beyond int64"):
        conv_transpose(x, w, np.array([2**62]))
