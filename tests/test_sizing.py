"""convt_cli.sizing: sizes computed by hand, formulas evaluated, --target checked by brute force."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from convt_cli.engine import conv_transpose
from convt_cli.errors import ConvtError
from convt_cli.shapes import ConvTransposeParams, axis_overlap, overlap_verdict
from convt_cli.sizing import (
    report_dict,
    search_dict,
    search_target,
    size_report,
)

# (in, k, s, p, op, d) → (out, canvas), each worked out by hand:
#   out = (in-1)*s - 2p + d(k-1) + op + 1, canvas = (in-1)*s + d(k-1) + 1
HAND = [
    ((64, 2, 2, 0, 0, 1), (128, 128)),  # 126 + 1 + 1; the SAM 3 / explainer layer
    ((72, 2, 2, 0, 0, 1), (144, 144)),  # shipped SAM 3: 72 → 144
    ((64, 3, 2, 1, 1, 1), (128, 129)),  # 126 - 2 + 2 + 1 + 1
    ((64, 4, 2, 1, 0, 1), (128, 130)),  # 126 - 2 + 3 + 1
    ((7, 3, 1, 0, 0, 1), (9, 9)),  # 6 + 2 + 1
    ((2, 3, 2, 0, 0, 2), (7, 7)),  # 2 + 4 + 1
    ((5, 3, 3, 2, 1, 2), (14, 17)),  # 12 - 4 + 4 + 1 + 1; canvas 12 + 4 + 1
    ((1, 1, 1, 0, 0, 1), (1, 1)),
    ((4, 5, 3, 3, 2, 1), (10, 14)),  # 9 - 6 + 4 + 2 + 1; canvas 9 + 4 + 1
]


def hand_out(i, k, s, p, op, d):
    return (i - 1) * s - 2 * p + d * (k - 1) + op + 1


def evaluate(formula: str) -> tuple[int, int]:
    """Evaluate the written-out formula's left side with Python arithmetic; return (lhs, rhs)."""
    lhs, rhs = formula.split(" = ")
    expr = lhs.replace("\u2212", "-").replace("\u00d7", "*").replace("\u230a", "(").replace("\u230b", ")")
    expr = expr.replace(" / ", " // ")
    return eval(expr, {"__builtins__": {}}), int(rhs)  # noqa: S307 - digits and operators only


@pytest.mark.parametrize(("args", "expected"), HAND)
def test_sizes_by_hand(args, expected):
    i, k, s, p, op, d = args
    report = size_report((i,), k, s, p, op, d)
    axis = report.axes[0]
    assert (axis.out_size, axis.canvas) == expected
    assert report.out_spatial == (expected[0],)
    lhs, rhs = evaluate(axis.formula)
    assert lhs == rhs == expected[0]
    lhs, rhs = evaluate(axis.canvas_formula)
    assert lhs == rhs == expected[1]


def test_formula_text_of_the_issue():
    axis = size_report((64,), 2, 2).axes[0]
    assert axis.formula == "(64 − 1)×2 − 2×0 + 1×(2 − 1) + 0 + 1 = 128"
    assert axis.canvas_formula == "(64 − 1)×2 + 1×(2 − 1) + 1 = 128"
    assert axis.inverse_formula == "⌊(128 + 2×0 − 1×(2 − 1) − 1) / 2⌋ + 1 = 64"


def test_output_padding_range_and_reachable_sizes():
    axis = size_report((64,), 3, 2, 1).axes[0]
    assert axis.output_padding_max == 1  # smaller than stride 2
    assert (axis.reachable_ops, axis.reachable_sizes) == ((0, 1), (127, 128))
    assert axis.output_size_range == (127, 128)
    # stride 1, dilation 2: output_padding 1 is legal (smaller than dilation), forward() accepts only one size
    axis = size_report((4,), 3, 1, 0, 0, 2).axes[0]
    assert axis.output_padding_max == 1
    assert (axis.reachable_ops, axis.reachable_sizes) == ((0, 1), (8, 9))
    assert axis.output_size_range == (8, 8)
    # (1-1)*3 - 2*1 + 0 + op + 1 = op - 1: only op = 2 gives a positive size
    axis = size_report((1,), 1, 3, 1, 2).axes[0]
    assert (axis.reachable_ops, axis.reachable_sizes) == ((2, 2), (1, 1))


def test_reachable_sizes_are_what_the_engine_produces():
    for i, k, s, p, d in [(3, 3, 2, 1, 1), (4, 2, 3, 0, 1), (3, 2, 1, 0, 3)]:
        axis = size_report((i,), k, s, p, 0, d).axes[0]
        (op0, op1), (s0, s1) = axis.reachable_ops, axis.reachable_sizes
        assert s1 - s0 == op1 - op0
        for op, size in zip(range(op0, op1 + 1), range(s0, s1 + 1)):
            out = conv_transpose([[[1.0] * i]], [[[1.0] * k]], stride=s, padding=p, output_padding=op, dilation=d)
            assert out.shape[-1] == size


@pytest.mark.parametrize(("i", "k", "s", "p", "op", "d"), [(64, 2, 2, 0, 0, 1), (64, 3, 2, 1, 1, 1),
                                                           (5, 3, 3, 2, 1, 2), (9, 4, 2, 1, 1, 1)])
def test_inverse_conv_maps_back_to_the_input_size(i, k, s, p, op, d):
    torch = pytest.importorskip("torch")
    axis = size_report((i,), k, s, p, op, d).axes[0]
    conv_out = torch.nn.functional.conv1d(torch.ones(1, 1, axis.out_size), torch.ones(1, 1, k), stride=s,
                                          padding=p, dilation=d).shape[-1]
    assert axis.inverse.out_size == conv_out == i
    assert axis.round_trip and axis.inverse.remainder == op


def test_inverse_conv_when_output_padding_reaches_past_the_stride():
    torch = pytest.importorskip("torch")
    axis = size_report((4,), 3, 1, 0, 1, 2).axes[0]  # out = 3 + 4 + 1 + 1 = 9
    conv_out = torch.nn.functional.conv1d(torch.ones(1, 1, 9), torch.ones(1, 1, 3), dilation=2).shape[-1]
    assert axis.out_size == 9 and axis.inverse.out_size == conv_out == 5
    assert not axis.round_trip


def test_overlap_verdicts():
    assert size_report((8,), 2, 2).overlap_kind == "even" and size_report((8,), 2, 2).per_cell == (1, 1)
    r = size_report((8, 8), 3, 2)
    assert r.overlap_kind == "uneven" and r.per_cell == (1, 4)  # 1/2 per axis, 1/2/4 in 2-D
    assert size_report((8, 8), 4, 2).per_cell == (4, 4)
    assert size_report((8,), 1, 2).overlap_kind == "gaps"
    assert size_report((8, 8), 2, 2).sam3 and not size_report((8, 8), 2, 2, 1).sam3


def test_full_tensor_shape_the_explainer_layer():
    torch = pytest.importorskip("torch")
    r = size_report((1, 1280, 64, 64), 2, 2, out_channels=640)
    tn = r.tensor
    assert tn.input_shape == (1, 1280, 64, 64)
    assert tn.output_shape == (1, 640, 128, 128)
    assert tn.weight_shape == (1280, 640, 2, 2)
    assert tn.bias_shape == (640,)
    assert tn.parameters == 1280 * 640 * 4 + 640 == 3_277_440
    module = torch.nn.ConvTranspose2d(1280, 640, 2, 2, device="meta")
    assert tn.module == repr(module)
    assert tuple(module.weight.shape) == tn.weight_shape
    assert tuple(module(torch.empty(1, 1280, 64, 64, device="meta")).shape) == tn.output_shape


def test_groups_padding_dilation_against_torch():
    torch = pytest.importorskip("torch")
    r = size_report((2, 8, 5, 7), (3, 2), 2, 1, (1, 0), (1, 2), out_channels=4, groups=2, bias=False)
    module = torch.nn.ConvTranspose2d(8, 4, (3, 2), 2, 1, (1, 0), groups=2, bias=False, dilation=(1, 2),
                                      device="meta")
    assert r.tensor.module == repr(module)
    assert r.tensor.parameters == sum(p.numel() for p in module.parameters()) == 8 * 2 * 3 * 2
    assert r.tensor.output_shape == tuple(module(torch.empty(2, 8, 5, 7, device="meta")).shape)


def test_unbatched_and_one_d_full_shapes():
    r = size_report((8, 5, 5), (3, 3), out_channels=4)  # per-dim kernel of 2 → (C_in, H, W)
    assert r.ndim == 2 and r.tensor.input_shape == (8, 5, 5) and r.tensor.output_shape == (4, 7, 7)
    r = size_report((1, 8, 5), 3, out_channels=4)  # no hint → batched 1-d
    assert r.ndim == 1 and r.tensor.output_shape == (1, 4, 7)
    r = size_report((8, 5), 3, out_channels=4)  # 2 values → unbatched 1-d
    assert r.tensor.output_shape == (4, 7)


def test_single_size_repeats_for_per_dim_options():
    r = size_report((64,), (3, 2), 2)
    assert r.in_spatial == (64, 64) and r.out_spatial == (129, 128)


@pytest.mark.parametrize("kwargs", [
    dict(stride=0), dict(padding=-1), dict(output_padding=2, stride=2), dict(dilation=0), dict(output_padding=-1),
])
def test_invalid_combinations_give_the_shared_messages(kwargs):
    with pytest.raises(ConvtError) as ours:
        size_report((64,), 2, **kwargs)
    with pytest.raises(ConvtError) as shared:
        ConvTransposeParams.make(1, **kwargs)
    assert str(ours.value) == str(shared.value)


def test_other_invalid_inputs():
    with pytest.raises(ConvtError, match="output size .* too small"):
        size_report((2,), 1, 1, 3)
    with pytest.raises(ConvtError, match="kernel size 0"):
        size_report((4,), 0)
    with pytest.raises(ConvtError, match="groups=2 must divide out_channels=5"):
        size_report((1, 4, 3, 3), 2, out_channels=5, groups=2)
    with pytest.raises(ConvtError, match="groups=3 must divide in_channels=4"):
        size_report((1, 4, 3, 3), 2, out_channels=6, groups=3)
    with pytest.raises(ConvtError, match="--out-channels"):
        size_report((1, 4, 3, 3), 2)
    with pytest.raises(ConvtError, match="splits channels"):
        size_report((3, 3), 2, groups=2)


@settings(max_examples=40, deadline=None)
@given(i=st.integers(1, 9), k=st.integers(1, 5), s=st.integers(1, 4), p=st.integers(0, 3), d=st.integers(1, 3),
       op=st.integers(0, 3))
def test_random_sizes_match_hand_formula_and_engine(i, k, s, p, op, d):
    if op >= max(s, d) or hand_out(i, k, s, p, op, d) <= 0:
        with pytest.raises(ConvtError):
            size_report((i,), k, s, p, op, d)
        return
    axis = size_report((i,), k, s, p, op, d).axes[0]
    assert axis.out_size == hand_out(i, k, s, p, op, d)
    assert evaluate(axis.formula)[0] == axis.out_size
    out = conv_transpose([[[1] * i]], [[[1] * k]], stride=s, padding=p, output_padding=op, dilation=d)
    assert out.shape[-1] == axis.out_size
    inv_lhs, inv_rhs = evaluate(axis.inverse_formula)
    assert inv_lhs == inv_rhs == axis.inverse.out_size


def test_closed_form_overlap_agrees_with_counting_taps():
    for k in range(1, 10):
        for s in range(1, 7):
            for d in range(1, 5):
                looped = tuple(sum(1 for j in range(k) if (j * d) % s == r) for r in range(s))
                lo, hi, counts = axis_overlap(k, s, d)
                assert counts == looped, (k, s, d)
                assert (lo, hi) == (min(looped), max(looped)) == overlap_verdict((k,), (s,), (d,)).per_cell
                assert axis_overlap(k, s, d, list_limit=0)[:2] == (lo, hi)  # unlisted: same bounds


def test_huge_values_stay_instant():
    # k = s = 2**31 - 1 (prime), d = 10**6: every phase gets exactly one tap; nothing is looped or listed
    r = size_report((4,), 2**31 - 1, 2**31 - 1, 0, 0, 10**6)
    assert r.overlap_kind == "even" and r.per_cell == (1, 1) and r.overlap_counts == (None,)
    assert r.axes[0].output_padding_max == 2**31 - 2
    assert r.axes[0].out_size == hand_out(4, 2**31 - 1, 2**31 - 1, 0, 0, 10**6)
    # closed form beyond the shared loop: stride 10**7 with k = 3 leaves gaps; d = s shares every tap
    for k, kind, per_cell in [(3, "gaps", (0, 1)), (2 * 10**7, "even", (2, 2)), (3 * 10**7 + 1, "uneven", (3, 4))]:
        verdict = overlap_verdict((k,), (10**7,), (1,), list_limit=64)
        assert (verdict.kind, verdict.per_cell, verdict.counts) == (kind, per_cell, (None,))
    with pytest.raises(ConvtError, match="too large for --target"):
        search_target((64,), (128,), stride=10**5)


# ---------------------------------------------------------------- --target


def brute_force(i, target, kmax=7, smax=4, d=1):
    """Every (k, s, p, op) by exhaustive search over a wide padding range (independent of the solver)."""
    found = set()
    for k in range(1, kmax + 1):
        for s in range(1, smax + 1):
            for op in range(max(s, d)):
                for p in range(0, 4 * i * s + 4 * k):
                    if hand_out(i, k, s, p, op, d) == target:
                        found.add((k, s, p, op))
    return found


@pytest.mark.parametrize(("i", "target"), [(64, 128), (64, 32), (7, 15), (72, 144), (5, 5)])
def test_target_search_is_complete_and_each_result_reaches_the_target(i, target):
    search = search_target((i,), (target,))
    got = {(c.kernel, c.stride, c.padding[0], c.output_padding[0]) for c in search.candidates}
    assert got == brute_force(i, target)
    for c in search.candidates:
        assert hand_out(i, c.kernel, c.stride, c.padding[0], c.output_padding[0], c.dilation) == target
        assert c.out_sizes == (target,)


def test_target_64_to_128_ranking_and_sam3_mark():
    search = search_target((64,), (128,))
    cands = search.candidates
    # s=2 solutions, worked out by hand: k + op - 2p = 2 with op ∈ {0, 1}
    s2 = {(c.kernel, c.padding[0], c.output_padding[0]) for c in cands if c.stride == 2}
    assert s2 == {(2, 0, 0), (4, 1, 0), (6, 2, 0), (1, 0, 1), (3, 1, 1), (5, 2, 1), (7, 3, 1)}
    first = cands[0]
    assert (first.kernel, first.stride, first.padding, first.output_padding) == (2, 2, (0,), (0,))
    assert first.sam3 and sum(c.sam3 for c in cands) == 1
    assert (cands[1].kernel, cands[1].stride, cands[1].padding) == (4, 2, (1,))  # even overlap, next kernel
    kinds = [c.overlap_kind for c in cands if c.keeps_edges]
    order = {"even": 0, "uneven": 1, "gaps": 2}
    assert [order[k] for k in kinds] == sorted(order[k] for k in kinds)
    kept = [c.keeps_edges for c in cands]
    assert kept == sorted(kept, reverse=True)
    # k=3, s=3, p=32 crops every contribution of the first input (its taps reach 0..2 < 32)
    crop = next(c for c in cands if (c.kernel, c.stride, c.padding) == (3, 3, (32,)))
    assert not crop.keeps_edges


def test_target_multi_dim_and_fixed_values():
    search = search_target((64, 48), (128, 96))
    assert search.candidates[0].sam3
    for c in search.candidates:
        assert tuple(hand_out(i, c.kernel, c.stride, p, op, 1)
                     for i, p, op in zip((64, 48), c.padding, c.output_padding)) == (128, 96)
    only3 = search_target((64,), (128,), kernel=3)
    assert only3.candidates and all(c.kernel == 3 for c in only3.candidates)
    fixed = search_target((64,), (128,), stride=2, padding=1)
    assert {(c.kernel, c.output_padding[0]) for c in fixed.candidates} == {(4, 0), (3, 1)}
    assert search_target((64,), (1000,)).candidates == ()


def test_target_errors():
    with pytest.raises(ConvtError, match="stride=0"):
        search_target((64,), (128,), stride=0)
    with pytest.raises(ConvtError, match="output_padding=2 in dim 0 must be smaller than stride=2"):
        search_target((64,), (128,), stride=2, output_padding=2)
    with pytest.raises(ConvtError, match="target"):
        search_target((64, 48), (128, 96, 3))
    with pytest.raises(ConvtError, match="max_kernel=0"):
        search_target((64,), (128,), max_kernel=0)


def test_json_records_are_plain_data():
    import json

    data = json.loads(json.dumps(report_dict(size_report((1, 1280, 64, 64), 2, 2, out_channels=640))))
    assert data["output_size"] == [128, 128] and data["tensor"]["parameters"] == 3_277_440
    data = json.loads(json.dumps(search_dict(search_target((64,), (128,)))))
    assert data["count"] == len(data["candidates"]) and data["candidates"][0]["sam3_choice"] is True


def test_target_search_too_big_is_refused_at_once_with_the_bounds_that_fit():
    import time

    start = time.perf_counter()
    with pytest.raises(ConvtError, match=r"34,635,764 combinations.*on 3 axes.*--max-stride 14"):
        search_target((7, 7, 7), (20, 20, 20), max_kernel=64, max_stride=64)
    with pytest.raises(ConvtError, match=r"1,431,540 combinations.*--max-stride 26 or --max-kernel 4"):
        search_target((7, 7), (20, 20), max_kernel=64, max_stride=64)
    assert time.perf_counter() - start < 20  # generous: the count alone, not the 34 million candidates
    fits = search_target((7, 7, 7), (20, 20, 20), max_kernel=64, max_stride=14)
    assert 0 < len(fits.candidates) <= 100_000
    assert all(c.stride <= 14 for c in fits.candidates)


def test_target_search_3d_matches_the_per_axis_product():
    one = search_target((7,), (20,), max_kernel=9, max_stride=6)
    three = search_target((7, 7, 7), (20, 20, 20), max_kernel=9, max_stride=6)
    per_ks: dict = {}
    for c in one.candidates:
        per_ks[(c.kernel, c.stride)] = per_ks.get((c.kernel, c.stride), 0) + 1
    assert len(three.candidates) == sum(n**3 for n in per_ks.values())
    assert all(c.out_sizes == (20, 20, 20) for c in three.candidates)
