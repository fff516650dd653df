"""convt_cli.verify's diagnosis and sweeps without the CLI: clusters from hand-built results, shrinking
with a synthetic failure, every sweep case writes a kept output cell, --only/--skip keys, and the
empty-batch rule."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from convt_cli.errors import ConvtError
from convt_cli.verify import (
    FORWARD_FEATURES,
    CaseResult,
    CaseSpec,
    Check,
    Report,
    Selection,
    Verifier,
    default_sweep,
    diagnose,
    parse_feature_keys,
    random_sweep,
    writes_output,
)
from convt_cli.verify.checks import message_shape
from convt_cli.verify.diagnosis import Cluster, shrink, smaller


def result(text: str, failure: str = "", signature: str = "", kind: str = "forward") -> CaseResult:
    spec = CaseSpec.parse(text)
    check = Check("adjoint" if kind == "adjoint" else "values", not failure,
                  None if failure == "exception" else 0.5, None, "", "msg", failure, signature or failure)
    return CaseResult(spec, kind, [check], spec.features() if kind == "forward" else ())


def sweep_results(fails) -> list[CaseResult]:
    """A random sweep whose cases fail as ``fails(spec)`` says: (kind, signature) or None."""
    out = []
    for spec in random_sweep(300, seed=3, error_parity=False):
        verdict = fails(spec) if not spec.adjoint else None
        out.append(result(spec.format(), *(verdict or ("", "")), kind="adjoint" if spec.adjoint else "forward"))
    return out


def test_one_global_bug_is_one_cluster_everywhere_its_feature_is():
    d = diagnose(sweep_results(lambda s: ("values", "values") if max(s.kernel) > 1 else None))
    (c,) = d.clusters
    assert c.features == ("kernel_gt1",) and c.everywhere and c.explained
    (rate,) = c.rates
    assert rate.with_failed == rate.with_total > 0 and rate.without_failed == 0 and rate.without_total > 0


def test_two_independent_bugs_of_one_kind_are_two_clusters():
    d = diagnose(sweep_results(lambda s: ("values", "values") if s.groups > 1 or s.bias is not None else None))
    assert sorted(c.features for c in d.clusters) == [("bias",), ("groups",)]
    assert all(c.everywhere and c.rates[0].without_failed == 0 for c in d.clusters)
    assert sum(c.count for c in d.clusters) == sum(1 for s in random_sweep(300, 3, error_parity=False)
                                                  if not s.adjoint and (s.groups > 1 or s.bias is not None))


def test_different_failure_kinds_are_different_clusters():
    def fails(s: CaseSpec):
        if any(p > d * (k - 1) for p, d, k in zip(s.padding, s.dilation, s.kernel)):
            return "exception", message_shape("ValueError: negative pad -3 in dim 1")
        if s.batch > 1:
            return "values", "values"
        return None

    d = diagnose(sweep_results(fails))
    kinds = {c.kind: c.features for c in d.clusters}
    assert kinds == {"exception": ("padding_beyond_kernel",), "values": ("batch_gt1",)}


def test_a_partial_bug_is_named_by_what_every_failure_shares():
    # fails on some groups > 1 cases only (when C_in/groups > 1): groups is necessary, not sufficient
    d = diagnose(sweep_results(lambda s: ("values", "values") if s.groups > 1 and s.batch > 1 else None))
    assert [set(c.features) for c in d.clusters] == [{"groups", "batch_gt1"}]


def test_adjoint_failures_are_also_failed_never_a_cause():
    results = sweep_results(lambda s: ("values", "values") if s.batch > 1 else None)
    results.append(CaseResult(CaseSpec.parse("adjoint 1d x=2x3x6 w=3x2x3"), "adjoint",
                              [Check("adjoint", False, 1.0, 1.0, "", "", "values", "values")]))
    d = diagnose(results)
    assert d.also_failed == {"adjoint": (1, 13)}
    assert "adjoint" not in d.causes and d.causes == ["batch_gt1"]


def test_only_adjoint_failing_gives_no_cluster():
    results = [result("1d x=1x1x5 w=1x1x3"),
               CaseResult(CaseSpec.parse("adjoint 1d x=2x3x6 w=3x2x3"), "adjoint",
                          [Check("adjoint", False, 1.0, 1.0, "", "", "values", "values")])]
    d = diagnose(results)
    assert d.clusters == [] and d.also_failed == {"adjoint": (1, 1)}


def test_scattered_failures_are_one_unexplained_cluster():
    d = diagnose(sweep_results(lambda s: ("values", "values") if s.data_seed % 7 == 0 else None))
    assert len(d.clusters) == 1 and not d.clusters[0].explained and d.clusters[0].features == ()


def test_exception_messages_group_by_shape():
    a = message_shape("cannot reshape array of size 4 into shape (1,1,2)")
    b = message_shape("cannot reshape array of size 12 into shape (3, 2, [2, 2])")
    assert a == b == "cannot reshape array of size N into shape …"
    assert message_shape("x") != message_shape("y")


def test_the_report_counts_failures_by_kind_and_stars_rows_without_numbers():
    results = [result("1d x=1x1x5 w=1x1x3", "exception", "ValueError: N"), result("1d x=2x1x5 w=1x1x3", "values"),
               result("1d x=1x1x5 w=1x1x1")]
    rows = {r.key: r for r in Report("f", "float64", 3, results=results).rows()}
    assert dict(rows["all"].kinds) == {"exception": 1, "values": 1} and rows["all"].no_number == 1
    assert rows["all"].max_abs == 0.5 and rows["all"].failed == 2


# --- shrinking ------------------------------------------------------------------------------------------


def test_smaller_cases_are_one_step_smaller_and_valid_ones_exist():
    spec = CaseSpec.parse("2d x=3x4x5x5 w=4x2x3x3 s=2 p=1 op=1 d=2 g=2 bias")
    steps = list(smaller(spec))
    assert len(steps) > 10 and spec not in steps
    assert any(s.batch == 1 for s in steps) and any(s.groups == 1 for s in steps) and any(s.bias is None for s in steps)


def test_shrink_finds_the_smallest_case_that_fails_the_same_way():
    """A synthetic bug: wrong whenever stride > 1 and groups > 1. The shrunk case keeps exactly those."""
    start = CaseSpec.parse("2d x=3x4x5x4 w=4x3x3x2 s=3,2 p=1 op=1 d=2 g=2 bias")

    def run(spec: CaseSpec) -> CaseResult:
        bad = max(spec.stride) > 1 and spec.groups > 1
        return result(spec.format(), "values" if bad else "")

    cluster = Cluster("values", "values", ("stride_gt1", "groups"), [run(start)], [], True)
    cluster.smallest = cluster.members[0]
    shrink(cluster, run, deadline=math.inf)
    small = cluster.smallest.spec
    assert small.groups == 2 and max(small.stride) == 2 and small.batch == 1 and small.bias is None
    assert small.in_channels == 2 and small.w_shape[1] == 1 and sum(small.dilation) == 2
    assert cluster.shrunk_from == start and 0 < cluster.shrink_runs <= 120


# --- every sweep case tests something ------------------------------------------------------------------


def test_writes_output_sees_a_fully_cropped_case():
    assert not writes_output(CaseSpec.parse("2d x=3x4x2x2 w=4x2x1x1 s=3 p=1 op=0 d=2 g=2 bias"))
    assert writes_output(CaseSpec.parse("2d x=3x4x2x2 w=4x2x1x1 s=3 p=0 op=0 d=2 g=2 bias"))


def test_the_default_sweep_has_no_bias_only_case():
    cases = default_sweep(error_parity=False)  # forward and adjoint cases: all valid configurations
    assert len(cases) == 612 and all(writes_output(s) for s in cases)


@settings(max_examples=15)
@given(st.integers(0, 2**31), st.sampled_from([(1,), (2,), (3,), (1, 2, 3)]))
def test_random_sweeps_have_no_bias_only_case(seed, dims):
    assert all(writes_output(s) for s in random_sweep(60, seed, dims, error_parity=False))


# --- --only / --skip -----------------------------------------------------------------------------------


def test_feature_keys_are_checked():
    assert parse_feature_keys("groups, dilation", "--skip") == ("groups", "dilation")
    with pytest.raises(ConvtError) as info:
        parse_feature_keys("groups,dilations", "--skip")
    assert "'dilations' is not a feature key; valid keys: " + ", ".join(FORWARD_FEATURES) in info.value.message


def test_selection_narrows_random_and_default_sweeps():
    skip = Selection(skip=("groups", "dilation"))
    cases = random_sweep(50, 1, error_parity=False, selection=skip)
    forward = [c for c in cases if not c.adjoint]
    assert len(forward) == 50 and all(c.groups == 1 and max(c.dilation) == 1 for c in cases)
    only = Selection(only=("depthwise", "bias"))
    assert all(c.groups == c.in_channels > 1 and c.bias is not None
               for c in default_sweep(error_parity=False, selection=only))


# --- the empty batch --------------------------------------------------------------------------------------


def test_an_empty_batch_passes_as_pytorch_does():
    """PyTorch returns shape (0, 3, 5, 29) for an empty batch it would refuse with one image (output_padding
    ≥ stride and dilation): the engine's refusal naming the rule, or the same empty shape, both pass."""
    v = Verifier()
    r = v.run_case(CaseSpec.parse("2d x=0x5x3x4 w=5x3x2x1 s=1,7 op=1,7 d=1,3"))
    assert r.passed and "returns shape [0, 3, 5, 29]" in r.check("values").message

    def empty(x, weight, bias, **kw):
        import numpy as np

        return np.zeros((0, 3, 5, 29))

    assert Verifier(empty, is_engine=False).run_case(CaseSpec.parse("2d x=0x5x3x4 w=5x3x2x1 s=1,7 op=1,7 d=1,3")).passed

    def wrong(x, weight, bias, **kw):
        import numpy as np

        return np.zeros((0, 3, 5, 28))

    bad = Verifier(wrong, is_engine=False).run_case(CaseSpec.parse("2d x=0x5x3x4 w=5x3x2x1 s=1,7 op=1,7 d=1,3"))
    assert not bad.passed and bad.failure == "shape"


# --- one bug, whatever its exception text; claims checked against the passing cases --------------------


def test_one_bug_whose_exception_text_varies_with_the_shapes_is_one_cluster():
    # as onnx.reference's groups bug: a ValueError whose message names the shapes (one signature per
    # dimensionality here), and wrong values where the shapes happen to fit; some groups cases pass
    def fails(s):
        if s.groups == 1 or s.out_channels == s.groups:
            return None
        if s.batch > 1:
            return "exception", f"ValueError: cannot reshape array of size {s.ndim}"
        return "values", "values"

    d = diagnose(sweep_results(fails))
    (c,) = d.clusters
    assert c.features == ("groups",) and c.explained and c.other_signatures
    assert not c.everywhere  # cases with groups > 1 pass (depthwise-like outputs): not "every case"


def test_failures_no_feature_separates_are_unexplained():
    import zlib

    d = diagnose(sweep_results(lambda s: ("values", "values") if zlib.crc32(s.format().encode()) % 3 == 0 else None))
    assert d.clusters and all(not c.explained or not c.everywhere for c in d.clusters)
    assert any(not c.explained for c in d.clusters)


@pytest.mark.parametrize("rule", [
    lambda s: ("values", "values") if s.groups > 1 and s.bias is not None else None,
    lambda s: ("exception", f"E{s.ndim}") if max(s.dilation) > 1 else None,
    lambda s: ("values", "values") if s.batch > 1 and max(s.stride) > 1 else None,
    lambda s: ("exception", "E") if s.groups > 1 and s.in_channels % 4 == 0 else None,
])
def test_every_case_is_said_only_when_no_passing_case_has_the_features(rule):
    results = sweep_results(rule)
    d = diagnose(results)
    passing = [r for r in results if r.kind == "forward" and r.passed]
    for c in d.clusters:
        if c.everywhere:
            assert not any(set(c.features) <= set(r.features) for r in passing), c.features
            assert c.features or c.count == sum(r.kind == "forward" for r in results)
