"""Issue 8: fuzzing every text parser and the CLI with hostile text.

Each parser gives a value or a ConvtError, never another exception; each command gives exit 0, 1
or 2, never an internal error (exit 3) or a traceback. Bounded so the suite stays fast.
"""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from convt_cli.cli import app
from convt_cli.errors import ConvtError
from convt_cli.limits import parse_bytes
from convt_cli.neck import _parse_shape, parse_scales
from convt_cli.verify import CaseSpec, parse_dims

TRICKY = ["", " ", ";", ",", "x", "×", "[", "]", "(", ")", "=", "nan", "inf", "-inf", "1e309", "1e-400",
          "١", "٣", "²", "½", "1_0", "0x1F", "\x00", "\n", "\t", "9" * 30, "-0", "+", "e5", ".", "true",
          "null", "2d", "1d", "3d", "x=", "w=", "s=", "p=", "op=", "d=", "g=", "bias", "adjoint", "G", "MiB"]
pieces = st.one_of(st.sampled_from(TRICKY), st.integers(-10**12, 10**12).map(str), st.floats().map(repr),
                   st.text(max_size=4))
texts = st.one_of(
    st.text(max_size=30),
    st.lists(pieces, max_size=10).map("".join),
    st.lists(pieces, max_size=8).map(" ".join),
    st.recursive(st.one_of(st.integers(-10**20, 10**20), st.floats(), st.booleans(), st.none()),
                 lambda c: st.lists(c, max_size=3), max_leaves=8).map(lambda v: json.dumps(v, allow_nan=True)),
)
# spec-shaped text: valid keys with hostile values
spec_texts = st.builds(
    lambda dims, pairs, tail: " ".join([dims] + [f"{k}={v}" for k, v in pairs] + tail),
    st.sampled_from(["1d", "2d", "3d", "4d", "", "adjoint 2d"]),
    st.lists(st.tuples(st.sampled_from(["x", "w", "s", "p", "op", "d", "g", "bias", "n"]),
                       st.one_of(st.sampled_from(TRICKY), st.lists(st.integers(-3, 9).map(str), max_size=5)
                                 .map("x".join))), max_size=7),
    st.lists(st.sampled_from(["bias", "junk", ""]), max_size=2),
)


def _value_or_convt_error(fn, text):
    try:
        return fn(text)
    except ConvtError as err:
        assert str(err) and "\n" not in str(err)
        return None


@given(st.one_of(texts, spec_texts))
def test_fuzz_case_spec(text):
    spec = _value_or_convt_error(CaseSpec.parse, text)
    if spec is not None:  # what parses, formats and parses back to the same case
        assert CaseSpec.parse(spec.format()) == spec


@given(texts)
def test_fuzz_small_parsers(text):
    for fn in (parse_dims, parse_scales, _parse_shape, parse_bytes):
        _value_or_convt_error(fn, text)


runner = CliRunner()
ENV = {"COLUMNS": "100", "CONVT_LANG": "en"}


def _invoke_ok(args):
    result = runner.invoke(app, args, env=ENV)
    assert result.exit_code in (0, 1, 2), (args, result.exit_code, result.output)
    assert "Traceback" not in result.output
    if result.exit_code == 1:
        assert result.stderr.startswith("Error: ") and result.stderr.count("\n") == 1, result.stderr


@settings(max_examples=40)
@given(texts, texts)
def test_fuzz_show(inp, stride):
    _invoke_ok(["show", "--no-torch", "--max-steps", "1", "-i", inp, "-s", stride])


@settings(max_examples=25)
@given(texts, texts)
def test_fuzz_shape_and_compare_and_neck(size, other):
    _invoke_ok(["shape", size, "-k", "2", "-s", "2"])
    _invoke_ok(["shape", "8", "-k", other, "--target", "16"])
    _invoke_ok(["compare", "--channels", size, "--json"])
    _invoke_ok(["neck", "--device", "meta", "--json", "--shape", size, "--scales", other])


@settings(max_examples=25)
@given(spec_texts)
def test_fuzz_verify_case(spec):
    _invoke_ok(["verify", "--json", "--case", spec])
