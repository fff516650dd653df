"""convt_cli.verify without the CLI: case specs, sweeps, comparisons, error parity, suspects, impl loading."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from convt_cli.errors import ConvtError, MemoryBudgetError
from convt_cli.verify import (
    FORWARD_FEATURES,
    PARITY_RULES,
    CaseResult,
    CaseSpec,
    Check,
    ImplLoadError,
    Report,
    Tolerance,
    Verifier,
    adjoint_cases,
    compare_values,
    default_sweep,
    error_cases,
    load_impl,
    parity_rule,
    parse_dims,
    random_sweep,
    reproduce_command,
)

EXAMPLE = "2d x=1x4x5x5 w=4x2x3x3 s=2 p=1 op=1 d=1 g=2 bias"


# --- case specs ------------------------------------------------------------------------------------


def test_the_issue_example_parses_to_what_it_says():
    spec = CaseSpec.parse(EXAMPLE)
    assert (spec.ndim, spec.x_shape, spec.w_shape) == (2, (1, 4, 5, 5), (4, 2, 3, 3))
    assert (spec.stride, spec.padding, spec.output_padding, spec.dilation) == ((2, 2), (1, 1), (1, 1), (1, 1))
    assert spec.groups == 2 and spec.bias == 4 and spec.out_channels == 4 and not spec.adjoint
    assert spec.reduction == 2 * 9  # C_in/groups · ∏k
    assert spec.format() == EXAMPLE


def test_defaults_and_anisotropic_values():
    spec = CaseSpec.parse("3d x=2x3x4x5 w=2x1x3x2x1 s=2,1,3 bias=5")  # unbatched 3-d: C_in=2
    assert not spec.batched and spec.batch == 1 and spec.spatial == (3, 4, 5) and spec.kernel == (3, 2, 1)
    assert spec.stride == (2, 1, 3) and spec.padding == (0, 0, 0) and spec.dilation == (1, 1, 1)
    assert spec.groups == 1 and spec.bias == 5
    assert spec.format() == "3d x=2x3x4x5 w=2x1x3x2x1 s=2,1,3 p=0 op=0 d=1 g=1 bias=5"
    adj = CaseSpec.parse("adjoint 1d x=1x2x6 w=2x2x3 s=2 p=-1")
    assert adj.adjoint and adj.padding == (-1,) and adj.format().startswith("adjoint 1d ")


@pytest.mark.parametrize("text,fragment", [
    ("", "case is empty"),
    ("x=1x2x3 w=2x1x3", "must start with the number of spatial dims"),
    ("4d x=1x2x3 w=2x1x3", "must start with the number of spatial dims"),
    ("2d x=1x4x5x5", "w= is required"),
    ("2d x=1x4x5x5 w=4x2x3x3 q=1", "'q=1' is not one of"),
    ("2d x=1x4x5x5 w=4x2x3x3 s=1 s=2", "s is given twice"),
    ("2d x=1x4x5x5 w=4x2x3", "has 3 sizes; a 2d case needs 4"),
    ("2d x=1x4x5x5 w=4x2x3x3 s=1,2,3", "has 3 values; give one, or 2"),
    ("2d x=1x4x5x5 w=4x2x3x3 p=a", "p 'a': 'a' is not a whole number"),
    ("2d x=1x-4x5 w=4x2x3x3", "x '1x-4x5': -4 must be at least 0"),
    ("2d x=1,4,5,5 w=4x2x3x3", "must be sizes joined by x"),
    ("2d x=1x4x5x5 w=4x2x3x3 g=1,2", "g=1,2 must be one whole number"),
    ("2d x=1x4x5x5 w=4x2x3x3 s", "s needs a value"),
    ("2d x=1x4x5x5 w=4x2x3x3 bias=-1", "bias=-1 must be a length"),
    ("2d x=1x4x5x5 w=4x2x3x3 g=99999999999", "is too large"),
])
def test_malformed_specs_name_the_problem(text, fragment):
    with pytest.raises(ConvtError, match=None) as info:
        CaseSpec.parse(text)
    assert fragment in info.value.message
    assert info.value.zh  # every spec error has a Chinese sentence too


def _specs():
    ints = st.integers(-3, 6)

    @st.composite
    def build(draw):
        nd = draw(st.integers(1, 3))
        per = lambda: draw(st.one_of(st.tuples(ints).map(lambda t: t * nd),  # noqa: E731
                                     st.tuples(*[ints] * nd)))
        x = tuple(draw(st.lists(st.integers(0, 9), min_size=1, max_size=nd + 3)))
        w = tuple(draw(st.lists(st.integers(0, 9), min_size=nd + 2, max_size=nd + 2)))
        return CaseSpec(nd, x, w, per(), per(), per(), per(), draw(ints),
                        draw(st.one_of(st.none(), st.integers(0, 12))), draw(st.booleans()))

    return build()


@given(_specs())
def test_format_parse_round_trip(spec):
    assert CaseSpec.parse(spec.format()) == spec


def test_every_sweep_case_round_trips():
    for spec in default_sweep() + random_sweep(50, seed=7):
        assert CaseSpec.parse(spec.format()) == spec


def test_case_data_depend_only_on_the_case_text():
    a, b = CaseSpec.parse(EXAMPLE), CaseSpec.parse(EXAMPLE.replace("s=2", "s=2,2"))
    assert a == b
    xa, wa, ba = a.make_data()
    xb, wb, bb = b.make_data()
    assert np.array_equal(xa, xb) and np.array_equal(wa, wb) and np.array_equal(ba, bb)
    xc, _, _ = CaseSpec.parse(EXAMPLE.replace("p=1", "p=0")).make_data()
    assert not np.array_equal(xa, xc)
    assert xa.min() >= -1 and xa.max() <= 1 and xa.dtype == np.float64


def test_a_case_over_the_memory_budget_is_refused_before_allocating(monkeypatch):
    monkeypatch.setenv("CONVT_MAX_BYTES", "1M")
    spec = CaseSpec.parse("2d x=1x64x512x512 w=64x64x3x3")
    assert spec.estimated_bytes() > 64 * 512 * 512 * 8  # at least the input itself
    with pytest.raises(MemoryBudgetError, match="memory budget"):
        spec.make_data()
    CaseSpec.parse("1d x=1x1x3 w=1x1x2").make_data()  # small ones still fit


def test_reproduce_command():
    spec = CaseSpec.parse(EXAMPLE)
    assert reproduce_command(spec) == f'convt verify --case "{EXAMPLE}"'
    assert reproduce_command(spec, "my dir/impl.py:f", "float16") == (
        f"convt verify --case \"{EXAMPLE}\" --impl 'my dir/impl.py:f' --dtype float16")


def test_parse_dims():
    assert parse_dims("2") == (2,) and parse_dims("3,1") == (1, 3) and parse_dims("1 2 2") == (1, 2)
    for bad in ("", "4", "0", "2d", "1;2"):
        with pytest.raises(ConvtError):
            parse_dims(bad)


# --- sweeps -------------------------------------------------------------------------------------


def test_default_sweep_is_deterministic_and_seeded():
    assert default_sweep() == default_sweep()
    assert default_sweep(seed=1) != default_sweep()
    assert random_sweep(30, seed=3) == random_sweep(30, seed=3)
    assert len(random_sweep(30, seed=3, error_parity=False)) == 30 + len(adjoint_cases())


def test_default_sweep_covers_what_the_issue_asks():
    cases = default_sweep()
    forward = [c for c in cases if not c.adjoint and c not in error_cases()]
    assert len(cases) >= 500 and len(forward) == 600
    assert {c.ndim for c in forward} == {1, 2, 3}
    assert min(sum(c.ndim == nd for c in forward) for nd in (1, 2, 3)) >= 190

    def some(pred):
        return sum(1 for c in forward if pred(c))

    assert some(lambda c: not c.batched) >= 30
    assert some(lambda c: c.batched and c.batch == 1) >= 30
    assert some(lambda c: c.batch > 1) >= 30
    for s in (1, 2, 3):
        assert some(lambda c, s=s: s in c.stride) >= 30
    assert some(lambda c: any(s > k for s, k in zip(c.stride, c.kernel))) >= 30
    for d in (1, 2, 3):
        assert some(lambda c, d=d: d in c.dilation) >= 30
    # padding from 0 up to the largest that keeps the output ≥ 1
    assert some(lambda c: max(c.padding) == 0) >= 30
    at_limit = [c for c in forward if any(
        (i - 1) * s - 2 * p + d * (k - 1) + op + 1 in (1, 2)
        for i, k, s, p, op, d in zip(c.spatial, c.kernel, c.stride, c.padding, c.output_padding, c.dilation))]
    assert len(at_limit) >= 10
    # output_padding up to its limit max(stride, dilation) - 1, including stride 1 / dilation 2 / op 1
    assert some(lambda c: any(o == max(s, d) - 1 > 0 for o, s, d in
                              zip(c.output_padding, c.stride, c.dilation))) >= 30
    assert some(lambda c: any((s, d, o) == (1, 2, 1) for s, d, o in
                              zip(c.stride, c.dilation, c.output_padding))) >= 3
    assert some(lambda c: c.groups == 1) >= 100 and some(lambda c: c.groups == 2) >= 50
    assert some(lambda c: c.groups > 1 and c.groups == c.in_channels) >= 50  # depthwise
    assert some(lambda c: c.ndim > 1 and len(set(c.kernel)) > 1) >= 30
    assert some(lambda c: c.ndim > 1 and len(set(c.stride)) > 1) >= 30
    assert some(lambda c: c.ndim > 1 and len(set(c.padding)) > 1) >= 30
    assert some(lambda c: c.bias is not None) >= 100 and some(lambda c: c.bias is None) >= 100
    assert some(lambda c: c.in_channels > 1 and c.out_channels > 1) >= 100
    # every output_padding is legal (smaller than stride OR dilation): nothing invalid sneaks in
    assert all(o < max(s, d) for c in forward for o, s, d in zip(c.output_padding, c.stride, c.dilation))


def test_implied_features_hold_by_definition():
    from convt_cli.verify import IMPLIED

    invalid = error_cases()
    for spec in [c for c in default_sweep() + random_sweep(300, seed=5) if c not in invalid]:
        feats = set(spec.features())
        for key, implied in IMPLIED.items():
            if key in feats:
                assert feats >= set(implied), (spec, key)


def test_dims_restrict_the_sweep():
    assert {c.ndim for c in default_sweep(dims=(2,))} == {2}
    assert len([c for c in default_sweep(dims=(2,)) if not c.adjoint]) >= 200


# --- running cases against PyTorch ------------------------------------------------------------------


@pytest.fixture(scope="module")
def engine() -> Verifier:
    return Verifier()


def test_torch_accepts_every_forward_case_and_rejects_every_error_case(engine):
    results = [engine.run_case(c) for c in default_sweep(dims=(1, 2, 3))]
    kinds = [r.kind for r in results]
    assert kinds.count("error") == len(error_cases()) == 42
    assert kinds.count("adjoint") == len(adjoint_cases()) == 12
    assert all(r.passed for r in results), [r.message for r in results if not r.passed][:3]


def test_error_cases_name_every_rule(engine):
    results = list(map(engine.run_case, error_cases()))
    rules = [r.checks[0].tolerance for r in results]
    assert sorted(set(rules)) == sorted(rule for rule, _, _ in PARITY_RULES)  # none "unrecognised"
    assert len(results) == 14 * 3 and all(r.passed for r in results)
    # the PyTorch validity rules hold in every dim (1-d, 2-d and 3-d kernels word them alike)
    for rule in ("output_padding < stride or dilation", "padding ≥ 0", "groups divides C_in", "bias length = C_out"):
        assert rules.count(rule) == 3, rule


def test_parity_rule_reads_pytorchs_messages():
    assert parity_rule("negative padding is not supported")[0] == "padding ≥ 0"
    assert parity_rule("negative output_padding is not supported")[0] == "output_padding ≥ 0"
    assert parity_rule("something new")[0] == "unrecognised"


def _lenient(x, weight, bias, **kw):
    from convt_cli.engine import conv_transpose

    try:
        return conv_transpose(x, weight, bias, **kw)
    except ConvtError:
        return np.zeros((1, 1))


def _wrong_words(x, weight, bias, **kw):
    from convt_cli.engine import conv_transpose

    try:
        return conv_transpose(x, weight, bias, **kw)
    except ConvtError:
        raise ConvtError("something is wrong") from None


def _index_error(x, weight, bias, **kw):
    raise IndexError("oops")


@pytest.mark.parametrize("subject,fragment", [
    (_lenient, "but the engine returned shape [1, 1]"),
    (_wrong_words, "but the engine says: something is wrong"),
    (_index_error, "raised IndexError instead of ConvtError"),
])
def test_error_parity_fails_when_the_engine_accepts_or_names_another_rule(subject, fragment):
    v = Verifier(subject, is_engine=True)
    result = v.run_case(CaseSpec.parse("2d x=1x2x5x5 w=2x1x3x3 s=2 op=2"))
    assert result.kind == "error" and not result.passed
    assert fragment in result.message


def test_tolerance_follows_the_dtype(engine):
    """An error of 1e-8 fails float64 (tolerance 1e-10) but is far inside float16's scaled tolerance."""

    def off_by_1e8(x, weight, bias, **kw):
        from convt_cli.engine import conv_transpose

        return conv_transpose(x.astype(np.float64), weight.astype(np.float64), None if bias is None
                              else bias.astype(np.float64), **kw) + 1e-8

    spec = CaseSpec.parse(EXAMPLE)
    assert not Verifier(off_by_1e8).run_case(spec).passed
    assert Verifier(off_by_1e8, dtype="float16").run_case(spec).passed
    assert Verifier(off_by_1e8, dtype="float32").run_case(spec).passed  # float32 atol 1e-5


@pytest.mark.parametrize("dtype", ["float32", "float16", "bfloat16"])
def test_the_engine_passes_low_precision_sweeps(dtype):
    v = Verifier(dtype=dtype)
    results = [v.run_case(c) for c in random_sweep(40, seed=11)]
    assert all(r.passed for r in results), [r.message for r in results if not r.passed][:2]
    worst = max(r.check("values").max_abs for r in results if r.kind == "forward")
    assert worst > 0  # low precision really was used: the answers are not exact


def test_the_subject_receives_the_dtype_and_a_batch():
    seen = []

    def spy(x, weight, bias, **kw):
        seen.append((x.dtype, x.ndim, weight.dtype, type(kw["stride"]), type(kw["groups"])))
        raise RuntimeError("spy")

    Verifier(spy, dtype="float16").run_case(CaseSpec.parse("2d x=4x5x5 w=4x2x3x3 s=2 g=2"))  # unbatched
    Verifier(spy).run_case(CaseSpec.parse("1d x=2x3x5 w=3x1x2 bias"))
    Verifier(spy, dtype="bfloat16").run_case(CaseSpec.parse("1d x=2x3x5 w=3x1x2 bias"))
    assert seen == [(np.float16, 4, np.float16, tuple, int), (np.float64, 3, np.float64, tuple, int),
                    (np.float32, 3, np.float32, tuple, int)]


def test_compare_values():
    tol = Tolerance(1e-3, 1e-2)
    e = np.array([[1.0, -2.0], [0.0, 10.0]])
    ok = compare_values(e + 0.01, e, tol, 1)
    assert ok.passed and math.isclose(ok.max_abs, 0.01) and math.isclose(ok.max_rel, 0.001)
    bad = compare_values(e + np.array([[0, 0], [0, 0.03]]), e, tol, 1)  # 0.03 > 0.01 + 0.001·10
    assert not bad.passed and "worst at [1, 1]" in bad.message and "1 of 4 values" in bad.message
    assert "differs from PyTorch's [2, 2]" in compare_values(e[:1], e, tol, 1).message
    nan = e.copy()
    nan[0, 0] = np.nan
    check = compare_values(nan, e, tol, 1)
    assert not check.passed and math.isnan(check.max_abs)
    scaled = Tolerance(0.0, 0.0, 0.5)
    assert compare_values(e + 1.9, e, scaled, 4).passed and not compare_values(e + 2.1, e, scaled, 4).passed


# --- reports ------------------------------------------------------------------------------------------


def _result(text: str, passed: bool) -> CaseResult:
    spec = CaseSpec.parse(text)
    return CaseResult(spec, "forward", [Check("values", passed, 0.0 if passed else 1.0, 0.0 if passed else 1.0)],
                      spec.features())


def test_suspects_are_the_features_shared_by_every_failure():
    results = [
        _result("2d x=2x4x5x5 w=4x1x3x3 g=4 bias", False),  # depthwise, batch 2
        _result("2d x=3x4x5x5 w=4x2x3x3 g=4 s=2", False),  # depthwise (multiplier 2), batch 3
        _result("2d x=1x4x5x5 w=4x2x3x3 g=2 bias", True),
        _result("2d x=2x2x5x5 w=2x2x3x3 s=2", True),
    ]
    report = Report("engine", "float64", planned=4, results=results)
    # depthwise alone separates the failures from the passing cases (a passing case has groups, and
    # none has batch > 1 without depthwise): the smallest explaining set
    assert report.suspects() == ["depthwise"]
    rows = {row.key: row for row in report.rows()}
    assert (rows["depthwise"].cases, rows["depthwise"].passed, rows["depthwise"].max_abs) == (2, 0, 1.0)
    assert rows["all"].failed == 2 and not report.ok


def test_json_document_shape():
    report = Report("engine", "float64", planned=3, seed=0, results=[_result(EXAMPLE, False)], elapsed_s=1.23456)
    doc = report.as_json(lambda s: "R " + s.format())
    assert doc["schema"] == "convt.verify/2" and doc["completed"] == 1 and doc["failed"] == 1
    assert doc["elapsed_s"] == 1.235 and doc["ok"] is False
    failure = doc["failures"][0]
    assert failure["case"] == EXAMPLE and failure["reproduce"] == "R " + EXAMPLE
    assert failure["checks"][0] == {"check": "values", "passed": False, "failure": "", "max_abs_err": 1.0,
                                    "max_rel_err": 1.0, "tolerance": "", "message": ""}
    assert failure["failure"] == "values"
    (cluster,) = doc["clusters"]
    assert cluster["kind"] == "values" and cluster["count"] == 1 and cluster["features"] == []
    assert set(FORWARD_FEATURES) >= {row["feature"] for row in doc["features"]} - {"all"}


# --- loading implementations -------------------------------------------------------------------------


def test_load_impl_forms(tmp_path):
    func, name = load_impl("convt_cli.verify:engine_subject")
    assert callable(func) and name == "convt_cli.verify:engine_subject"
    f = tmp_path / "mine.py"
    f.write_text("class K:\n    @staticmethod\n    def run(x, weight, bias, **kw):\n        return x\n")
    func, name = load_impl(f"{f}:K.run")  # dotted FUNC
    assert func(1, 2, 3) == 1 and name.endswith("mine.py:K.run")
    with pytest.raises(ImplLoadError, match="not a Python file"):
        txt = tmp_path / "a.txt"
        txt.write_text("")
        load_impl(f"{txt}:f")
    with pytest.raises(ImplLoadError, match="is not a file"):
        load_impl(f"{tmp_path}/:f")
    with pytest.raises(ImplLoadError, match="not a module name"):
        load_impl("1abc:f")


def test_a_feature_shared_by_chance_is_not_named():
    # 30 failures, all with batch > 1 (share 0.5: 0.5**30 is no accident) and all with several channels
    # (share 0.97: 0.97**30 ≈ 0.4, likely by chance) → only batch > 1 is named.
    failing = [_result("1d x=2x2x5 w=2x2x3", False) for _ in range(30)]
    passing = [_result("1d x=1x2x5 w=2x2x3", True) for _ in range(28)] + [_result("1d x=1x1x5 w=1x1x3", True)] * 2
    report = Report("engine", "float64", planned=60, results=failing + passing)
    assert report.suspects() == ["batch_gt1"]
