"""The shared tolerance rule (convt_cli.tolerance): finite values under the scaled bound, non-finite
values compared as torch.testing.assert_close(equal_nan=True) compares them."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from convt_cli.tolerance import FLOAT32_PATH_TOLERANCE, VALUE_TOLERANCE, Tolerance, compare_arrays

INF, NAN = math.inf, math.nan


@pytest.mark.parametrize(("actual", "expected", "ok"), [
    ([1.0, INF], [1.0, INF], True),
    ([1.0, -INF], [1.0, INF], False),
    ([NAN, 2.0], [NAN, 2.0], True),
    ([NAN, 2.0], [1.0, 2.0], False),
    ([1.0, 2.0], [NAN, 2.0], False),
    ([INF, 2.0], [NAN, 2.0], False),
    ([1e308, 2.0], [INF, 2.0], False),
    ([0.0], [1e-300], True),
])
def test_non_finite_values_compare_as_pytorch(actual, expected, ok):
    cmp = compare_arrays(np.array(actual), np.array(expected), VALUE_TOLERANCE["float64"])
    assert cmp.passed is ok
    if ok:
        assert cmp.max_abs == 0.0 or cmp.max_abs < 1e-200
    else:
        assert cmp.bad == 1 and cmp.worst is not None
        assert cmp.message()


def test_inf_against_inf_is_not_nan_error():
    cmp = compare_arrays(np.array([INF, -INF, 3.0]), np.array([INF, -INF, 3.0]), FLOAT32_PATH_TOLERANCE)
    assert cmp.passed and cmp.max_abs == 0.0 and cmp.max_rel == 0.0


def test_reduction_length_scales_the_bound():
    tol = VALUE_TOLERANCE["float16"]
    e = np.zeros(4)
    a = e + 0.05
    assert not compare_arrays(a, e, tol, reduction=10).passed
    assert compare_arrays(a, e, tol, reduction=100).passed  # 1e-5 + 100·2^-10 > 0.05


def test_shape_mismatch_has_no_number():
    cmp = compare_arrays(np.zeros((2, 3)), np.zeros((3, 2)), FLOAT32_PATH_TOLERANCE)
    assert not cmp.passed and cmp.shape_mismatch and cmp.max_abs is None
    assert "differs" in cmp.message((2, 3), (3, 2))


values = st.one_of(st.floats(-1e3, 1e3), st.sampled_from([INF, -INF, NAN]))


@given(st.lists(st.tuples(values, values), min_size=1, max_size=8),
       st.floats(1e-8, 1e-2), st.floats(1e-8, 1e-2))
def test_agrees_with_torch_assert_close(pairs, rtol, atol):
    torch = pytest.importorskip("torch")
    a = np.array([p[0] for p in pairs])
    e = np.array([p[1] for p in pairs])
    try:
        torch.testing.assert_close(torch.from_numpy(a), torch.from_numpy(e), rtol=rtol, atol=atol, equal_nan=True)
        theirs = True
    except AssertionError:
        theirs = False
    assert compare_arrays(a, e, Tolerance(rtol, atol)).passed is theirs
