"""The recorded placement steps agree with the engine and with the scatter they describe."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from convt_cli import ConvtError, conv_transpose
from convt_cli.steps import trace_scatter


def test_explainer_steps():
    tr = trace_scatter([[1, 2], [3, 4]], [[1, 0], [0, 1]], stride=2)
    assert tr.total_steps == 4 and len(tr.steps) == 4
    assert [s.origin for s in tr.steps] == [(0, 0), (0, 2), (2, 0), (2, 2)]
    assert [s.value for s in tr.steps] == [(1,), (2,), (3,), (4,)]
    third = tr.steps[2]
    assert [(w.position, w.contribution) for w in third.writes] == [
        ((2, 0), 3), ((2, 1), 0), ((3, 0), 0), ((3, 1), 3)
    ]
    assert not any(w.overlapped for s in tr.steps for w in s.writes)
    assert tr.output.tolist() == [[1, 0, 2, 0], [0, 1, 0, 2], [3, 0, 4, 0], [0, 3, 0, 4]]
    assert tr.steps[-1].canvas_after.tolist() == tr.output.tolist()


def test_overlap_steps_accumulate():
    tr = trace_scatter([[1, 2], [3, 4]], [[1, 1], [1, 1]], stride=1)
    assert tr.output.tolist() == [[1, 3, 2], [4, 10, 6], [3, 7, 4]]
    centre = [w for w in tr.steps[3].writes if w.position == (1, 1)][0]
    assert (centre.before, centre.contribution, centre.after, centre.overlapped) == (6, 4, 10, True)
    assert tr.write_counts.tolist() == [[1, 2, 1], [2, 4, 2], [1, 2, 1]]


def test_padding_crop_and_output_padding_region():
    tr = trace_scatter(np.arange(1, 10).reshape(3, 3), np.ones((3, 3), dtype=int), stride=2, padding=1,
                       output_padding=1)
    assert tr.canvas_size == (7, 7)
    assert tr.crop == (slice(1, 7), slice(1, 7))
    assert tr.output_padding_region == (range(5, 6), range(5, 6))
    np.testing.assert_array_equal(tr.output, tr.canvas[tr.crop])


def test_output_padding_past_the_canvas_reads_zero_plus_bias():
    tr = trace_scatter([1, 2], [1, 1], stride=3, output_padding=2, bias=0.5)
    assert tr.canvas.shape == (7,)  # extended past the last tap
    assert tr.output.tolist() == [1.5, 1.5, 0.5, 2.5, 2.5, 0.5, 0.5]


def test_max_steps_keeps_the_final_answer():
    tr = trace_scatter(np.ones((5, 5)), np.ones((2, 2)), stride=1, max_steps=3)
    assert len(tr.steps) == 3 and tr.skipped_steps == 22
    np.testing.assert_array_equal(tr.output, conv_transpose(np.ones((1, 5, 5)), np.ones((1, 1, 2, 2)))[0])


def test_channel_summed_steps():
    x = np.arange(8).reshape(2, 2, 2)
    k = np.array([[[1, 0], [0, 1]], [[0, 2], [2, 0]]])
    tr = trace_scatter(x, k, stride=2, channels=True)
    assert tr.channels_summed
    first = tr.steps[0].writes[1]  # tap (0, 1): 0*0 + 4*2
    assert first.terms == ((0, 0), (4, 2)) and first.contribution == 8
    np.testing.assert_array_equal(tr.output, conv_transpose(x, k[:, None], stride=2)[0])


def test_rank_mismatch_is_an_error():
    with pytest.raises(ConvtError, match="same rank"):
        trace_scatter([[1, 2]], [1, 2])


@given(
    st.integers(1, 3).flatmap(
        lambda nd: st.tuples(
            st.just(nd),
            st.lists(st.integers(1, 3), min_size=nd, max_size=nd),
            st.lists(st.integers(1, 3), min_size=nd, max_size=nd),
            st.lists(st.integers(1, 3), min_size=nd, max_size=nd),
            st.lists(st.integers(1, 2), min_size=nd, max_size=nd),
            st.lists(st.integers(0, 2), min_size=nd, max_size=nd),
            st.lists(st.integers(0, 2), min_size=nd, max_size=nd),
            st.one_of(st.none(), st.integers(-3, 3)),
            st.integers(0, 2**31),
        )
    )
)
def test_steps_replay_to_the_engine_output(case):
    nd, spatial, kernel, stride, dilation, padding, output_padding, bias, seed = case
    output_padding = [min(op, max(s, d) - 1) for op, s, d in zip(output_padding, stride, dilation)]
    kw = dict(stride=stride, padding=padding, output_padding=output_padding, dilation=dilation)
    rng = np.random.default_rng(seed)
    x = rng.integers(-5, 6, size=spatial)
    k = rng.integers(-3, 4, size=kernel)
    b = None if bias is None else np.array([bias])
    try:
        engine = conv_transpose(x[None, None], k[None, None], b, **kw)[0, 0]
    except ConvtError:  # padding leaves no output: the trace refuses it too
        with pytest.raises(ConvtError, match="too small"):
            trace_scatter(x, k, bias=bias, **kw)
        return
    tr = trace_scatter(x, k, bias=bias, **kw)
    np.testing.assert_array_equal(tr.output, engine)
    bias_part = 0 if bias is None else bias
    np.testing.assert_array_equal(tr.steps[-1].canvas_after[tr.crop] + bias_part, engine)
    # every write is before + contribution, and steps are in row-major input order
    for step in tr.steps:
        for w in step.writes:
            assert w.after == w.before + w.contribution
    assert [s.index for s in tr.steps] == [tuple(i) for i in np.ndindex(*spatial)]


# The cost model: refused up front with the numbers and what to change, or computed fast.


def test_huge_stride_is_computed_from_the_scatter_itself():
    tr = trace_scatter([[1, 2], [3, 4]], [[1, 0], [0, 1]], stride=2500, max_steps=4)
    assert tr.canvas.shape == (2502, 2502)
    assert tr.output[2500, 2500] == 4 and tr.output[2501, 2501] == 4 and int(tr.output.sum()) == 20
    assert int(tr.write_counts.sum()) == 16


def test_kernel_larger_than_the_input_goes_by_input_position():
    rng = np.random.default_rng(3)
    x, k = rng.normal(size=(2, 3, 2)), rng.normal(size=(2, 9, 11))
    tr = trace_scatter(x, k, stride=(2, 3), dilation=(1, 2), padding=(1, 2), channels=True, max_steps=0)
    np.testing.assert_allclose(tr.output, conv_transpose(x, k[:, None], stride=(2, 3), dilation=(1, 2),
                                                         padding=(1, 2))[0], rtol=1e-12, atol=1e-12)


def test_too_many_recorded_writes_names_the_max_steps_that_fit():
    with pytest.raises(ConvtError, match=r"4,000,000 cell writes.*--max-steps 0 to draw only the result"):
        trace_scatter(np.ones((2, 2)), np.ones((1000, 1000)), max_steps=4)
    with pytest.raises(ConvtError, match=r"--max-steps 2000 or fewer"):
        trace_scatter(np.ones((100, 100)), np.ones((10, 10)), max_steps=5000)


def test_kept_canvas_copies_are_budgeted(monkeypatch):
    monkeypatch.setenv("CONVT_MAX_BYTES", "500M")
    with pytest.raises(ConvtError, match=r"5000 step\(s\).*600×600 canvas.*use --max-steps 178 or fewer"):
        trace_scatter(np.ones((300, 300)), np.ones((2, 2)), stride=2, max_steps=5000)
    assert len(trace_scatter(np.ones((300, 300)), np.ones((2, 2)), stride=2, max_steps=178).steps) == 178


def test_too_much_work_is_refused():
    with pytest.raises(ConvtError, match=r"1.00e\+12 multiply-adds"):
        trace_scatter(np.ones((1000, 1000)), np.ones((1000, 1000)), max_steps=0)


def test_small_integer_types_compute_in_int64():
    x = np.full((3, 3), 100, dtype=np.int8)
    tr = trace_scatter(x, np.ones((3, 3), dtype=np.int8), max_steps=1)
    assert tr.output.dtype == np.int64 and int(tr.output.max()) == 900  # int8 would wrap to -124


def test_int64_sums_that_could_overflow_are_refused():
    big = 4294967296
    with pytest.raises(ConvtError, match="beyond int64"):
        trace_scatter([[big]], [[big]])
    tr = trace_scatter([[float(big)]], [[float(big)]])
    assert tr.output[0, 0] == 2.0**64
    assert trace_scatter([[3037000499]], [[3037000499]]).output[0, 0] == 3037000499**2  # fits


def test_traces_kept_together_share_the_budget(monkeypatch):
    monkeypatch.setenv("CONVT_MAX_BYTES", "500M")
    x, k = np.ones((300, 300)), np.ones((2, 2))
    assert len(trace_scatter(x, k, stride=2, max_steps=16).steps) == 16  # one channel: fits
    with pytest.raises(ConvtError, match=r"16 step\(s\) in each of 16 output channels.*--max-steps \d+ or fewer") as e:
        trace_scatter(x, k, stride=2, max_steps=16, traces=16)
    fit = int(str(e.value).split("--max-steps ")[1].split()[0])
    assert 0 < fit < 16 and len(trace_scatter(x, k, stride=2, max_steps=fit, traces=16).steps) == fit
    with pytest.raises(ConvtError, match=r"canvas and its count map in each of 64 output channels"):
        trace_scatter(x, k, stride=2, max_steps=0, traces=64)
    with pytest.raises(ConvtError, match=r"in each of 4 output channels records 360,000 cell writes.*--channel"):
        trace_scatter(np.ones((4, 4)), np.ones((300, 300)), max_steps=1, traces=4)
