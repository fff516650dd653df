"""Running a subject: one case against PyTorch's float64 result, with the tolerance of its dtype.

:class:`Verifier` computes the reference in this process and asks the subject — convt's engine or a
plain callable in-process, or a :class:`~.worker.WorkerSubject` for ``--impl`` — for its answer. Every
way the subject can fail (an exception, a crash, a hang, a wrong shape or value, writing into its
inputs) becomes a failed :class:`~.checks.Check`, never an exception here.
"""

from __future__ import annotations

import contextlib
import math
import re
import sys
from collections.abc import Callable
from dataclasses import replace

import numpy as np

from ..engine import conv_transpose
from ..errors import ConvtError, MemoryBudgetError
from ..reference import torch_conv_transpose, torch_module
from ..shapes import ConvTransposeParams, check_shapes, output_shape
from ..tolerance import FLOAT32_PATH_TOLERANCE, VALUE_TOLERANCE
from ..tolerance import pow2 as _pow2
from .cases import CaseSpec
from .checks import (
    CaseResult,
    Check,
    compare_values,
    describe_exception,
    mutation_message,
    one_line,
    parity_rule,
    to_float64,
)
from .worker import SubjectFailed, WorkerSubject

DTYPES = ("float64", "float32", "float16", "bfloat16")
Subject = Callable[..., object]


def engine_subject(x, weight, bias, *, stride, padding, output_padding, dilation, groups):  # noqa: ANN001
    """The NumPy engine under the ``--impl`` contract."""
    return conv_transpose(x, weight, bias, stride, padding, output_padding, dilation, groups)


def _round_to(arr: np.ndarray, dtype: str) -> np.ndarray:
    """Values representable in ``dtype`` (kept as float64); bfloat16 is rounded by torch."""
    if dtype == "float64":
        return arr
    if dtype == "bfloat16":
        torch = torch_module()
        return torch.from_numpy(np.ascontiguousarray(arr, dtype=np.float32)).to(torch.bfloat16).double().numpy()
    return arr.astype(dtype).astype(np.float64)


def _as_subject_dtype(arr: np.ndarray | None, dtype: str) -> np.ndarray | None:
    """What the subject receives: float64, float32, float16; bfloat16 values travel as float32."""
    if arr is None:
        return None
    return np.array(arr, dtype={"bfloat16": np.float32}.get(dtype, dtype))



class InProcessSubject:
    """A plain callable run in this process (convt's engine, or a function handed over by a test).

    Ctrl-C (KeyboardInterrupt) propagates; any other exception is a failed call.
    """

    def __init__(self, func: Subject):
        self.func = func

    def call(self, x: np.ndarray, w: np.ndarray, b: np.ndarray | None, kwargs: dict[str, object]) -> np.ndarray:
        before = [x.copy(), w.copy(), None if b is None else b.copy()]
        try:
            with contextlib.redirect_stdout(sys.stderr):
                out = self.func(x, w, b, **kwargs)
        except KeyboardInterrupt:
            raise
        except BaseException as exc:  # noqa: BLE001 - the subject's failure is a failed case, never a crash
            message, signature = describe_exception(exc)
            raise SubjectFailed("exception", message, signature) from None
        mutated = mutation_message(before, [x, w, b])
        if mutated:
            raise SubjectFailed("mutation", mutated)
        try:
            return to_float64(out)
        except KeyboardInterrupt:
            raise
        except BaseException as exc:  # noqa: BLE001
            raise SubjectFailed("returned", str(exc) if isinstance(exc, ValueError)
                                else describe_exception(exc)[0]) from None

    def close(self) -> None:
        pass


def _failed(name: str, tolerance: str, exc: SubjectFailed) -> Check:
    return Check(name, False, None, None, tolerance, exc.message, exc.kind, exc.signature)


class Verifier:
    """Runs cases against PyTorch. ``subject`` follows the ``--impl`` contract.

    ``is_engine``: the subject is convt's own engine — then the float32 path is checked too (at
    ``dtype="float64"``), unbatched inputs are passed as they are, and error parity is checked.
    A user function always receives a batch (unbatched cases get ``N = 1`` added and removed).
    """

    def __init__(self, subject: Subject | WorkerSubject | None = None, *, dtype: str = "float64",
                 is_engine: bool | None = None):
        if dtype not in DTYPES:
            raise ConvtError(f"dtype {dtype!r} is not one of {', '.join(DTYPES)}")
        self.is_engine = subject is None if is_engine is None else is_engine
        # a WorkerSubject, or any object with the same call()/close() (e.g. convt_cli.runtimes' subject)
        self.runner = subject if hasattr(subject, "call") else InProcessSubject(subject or engine_subject)
        self.dtype = dtype
        self.tolerance = VALUE_TOLERANCE[dtype]
        self.float32_path = self.is_engine and dtype == "float64"
        self._last_actual: np.ndarray | None = None

        self.torch = torch_module()

    def close(self) -> None:
        """Stop the worker process, if the subject has one."""
        self.runner.close()

    # --- the calls --------------------------------------------------------------------------------
    def _torch(self, spec: CaseSpec, x: np.ndarray, w: np.ndarray, b: np.ndarray | None) -> np.ndarray:
        return torch_conv_transpose(x, w, b, spec.stride, spec.padding, spec.output_padding, spec.dilation,
                                    spec.groups, dtype="float64")

    def _call(self, spec: CaseSpec, x: np.ndarray, w: np.ndarray, b: np.ndarray | None,
              dtype: str) -> np.ndarray:
        """The subject's answer as float64 (unbatched restored); raises :class:`SubjectFailed`."""
        xs, ws, bs = (_as_subject_dtype(a, dtype) for a in (x, w, b))
        add_batch = not self.is_engine and not spec.batched
        if add_batch:
            xs = xs[None]
        arr = self.runner.call(xs, ws, bs, spec.kwargs())
        if add_batch:
            if arr.ndim >= 1 and arr.shape[0] == 1:
                arr = arr[0]
            else:
                raise SubjectFailed("shape", f"returned shape {list(arr.shape)} for a batch of 1 (x {list(xs.shape)})")
        if self.is_engine and dtype == "bfloat16":
            arr = _round_to(arr, "bfloat16")
        return arr

    # --- one case ----------------------------------------------------------------------------------
    def run_case(self, spec: CaseSpec, keep_arrays: bool = False) -> CaseResult:
        x, w, b = spec.make_data()
        if self.dtype != "float64":
            x, w, b = (None if a is None else _round_to(a, self.dtype) for a in (x, w, b))
        try:
            expected = self._torch(spec, x, w, b)
        except Exception as exc:  # PyTorch rejects the configuration: error parity
            return self._error_case(spec, x, w, b, one_line(str(exc).split("\n")[0], 400))
        if spec.adjoint:
            return self._adjoint_case(spec, x, w, expected)
        if spec.batched and spec.batch == 0:
            rule = self._rule_for_one(spec)
            if rule is not None:
                return self._empty_batch_case(spec, x, w, b, expected, rule)
        result = self._forward_case(spec, x, w, b, expected)
        if keep_arrays:
            result.arrays = (expected, self._last_actual)
        return result

    # --- an empty batch ---------------------------------------------------------------------------------
    def _rule_for_one(self, spec: CaseSpec) -> str | None:
        """PyTorch checks nothing for an empty batch: its message for a batch of one, or None if it accepts."""
        one = replace(spec, x_shape=(1,) + spec.x_shape[1:])
        try:
            x1, w1, b1 = one.make_data()
        except MemoryBudgetError:  # a batch of one would not fit (a huge stride): PyTorch's rules on the shapes
            return _shape_rule(one)
        try:
            self._torch(one, x1, w1, b1)
        except Exception as exc:  # noqa: BLE001 - PyTorch's refusal is the answer
            return one_line(str(exc).split("\n")[0], 400)
        return None

    def _empty_batch_case(self, spec: CaseSpec, x: np.ndarray, w: np.ndarray, b: np.ndarray | None,
                          expected: np.ndarray, torch_message: str) -> CaseResult:
        """PyTorch returns an empty result for a configuration it refuses for a batch of one. Both answers
        are right: the same empty shape, or a refusal (for the engine: naming PyTorch's rule)."""
        rule, engine_re = parity_rule(torch_message)
        shape = list(expected.shape)
        why = (f"PyTorch checks nothing for an empty batch and returns shape {shape}; for a batch of one it "
               f"refuses ({torch_message})")
        try:
            actual = self._call(spec, x, w, b, self.dtype)
        except SubjectFailed as exc:
            if self.is_engine and exc.kind == "exception" and exc.message.startswith("ConvtError: ") and (
                    engine_re is None or re.search(engine_re, exc.message)):
                return CaseResult(spec, "forward", [Check("values", True, tolerance=rule,
                                  message=f"{why}; the engine refuses naming the same rule: {exc.message}")],
                                  spec.features())
            if not self.is_engine and exc.kind == "exception":
                return CaseResult(spec, "forward", [Check("values", True, tolerance=rule,
                                  message=f"{why}; the function refused: {exc.message}")], spec.features())
            return CaseResult(spec, "forward", [_failed("values", rule, exc)], spec.features())
        if list(actual.shape) == shape:
            return CaseResult(spec, "forward", [Check("values", True, 0.0, 0.0, rule, f"{why}; same shape")],
                              spec.features())
        return CaseResult(spec, "forward", [Check(
            "values", False, None, None, rule, f"shape {list(actual.shape)} differs from PyTorch's {shape} ({why})",
            "shape", "shape")], spec.features())

    def _forward_case(self, spec: CaseSpec, x: np.ndarray, w: np.ndarray, b: np.ndarray | None,
                      expected: np.ndarray) -> CaseResult:
        checks = [self._size_check(spec, expected)]
        self._last_actual = None
        try:
            actual = self._call(spec, x, w, b, self.dtype)
        except SubjectFailed as exc:
            checks.insert(0, _failed("values", self.tolerance.formula(), exc))
        else:
            self._last_actual = actual
            checks.insert(0, compare_values(actual, expected, self.tolerance, spec.reduction))
        if self.float32_path:
            try:
                actual32 = self._call(spec, x, w, b, "float32")
            except SubjectFailed as exc:
                checks.append(_failed("float32_path", FLOAT32_PATH_TOLERANCE.formula(), exc))
            else:
                checks.append(compare_values(actual32, expected, FLOAT32_PATH_TOLERANCE, spec.reduction,
                                             "float32_path"))
        return CaseResult(spec, "forward", checks, spec.features())

    def _size_check(self, spec: CaseSpec, expected: np.ndarray) -> Check:
        """convt's output-size formula (shapes.output_shape) against the shape PyTorch returned."""
        try:
            params = ConvTransposeParams(spec.stride, spec.padding, spec.output_padding, spec.dilation, spec.groups)
            sizes = output_shape(spec.spatial, spec.kernel, params)
        except ConvtError as exc:
            return Check("size_formula", False, message=f"the formula refuses a size PyTorch computes: {exc}")
        lead = (spec.batch, spec.out_channels) if spec.batched else (spec.out_channels,)
        if lead + sizes != tuple(expected.shape):
            return Check("size_formula", False,
                         message=f"formula gives {list(lead + sizes)}, PyTorch returns {list(expected.shape)}")
        return Check("size_formula", True)

    def _adjoint_case(self, spec: CaseSpec, b_in: np.ndarray, w: np.ndarray, y_ref: np.ndarray) -> CaseResult:
        """``<conv(a, w), b> == <a, conv_transpose(b, w)>``: conv by PyTorch, the transpose by the subject."""
        tol = self.tolerance
        text = f"|<conv(a,w),b> − <a,convT(b,w)>| ≤ Σ|a|·({tol.atol:g} + {tol.rtol:g}·|convT|" + (
            f" + {_pow2(tol.per_term)}·L)" if tol.scaled else ")")
        try:
            y = self._call(spec, b_in, w, None, self.dtype)
        except SubjectFailed as exc:
            return CaseResult(spec, "adjoint", [_failed("adjoint", text, exc)])
        if y.shape != y_ref.shape:
            return CaseResult(spec, "adjoint", [Check("adjoint", False, None, None, text,
                              f"shape {list(y.shape)} differs from PyTorch's {list(y_ref.shape)}", "shape", "shape")])
        a = np.random.default_rng(spec.data_seed + 1).uniform(-1.0, 1.0, y_ref.shape)
        if self.dtype != "float64":
            a = _round_to(a, self.dtype)
        torch = self.torch
        conv = {1: torch.nn.functional.conv1d, 2: torch.nn.functional.conv2d, 3: torch.nn.functional.conv3d}
        with torch.no_grad():
            ca = conv[spec.ndim](torch.from_numpy(a), torch.from_numpy(np.ascontiguousarray(w)), None,
                                 stride=spec.stride, padding=spec.padding, dilation=spec.dilation,
                                 groups=spec.groups).numpy()
        # With output_padding ≥ stride the conv reaches past b's extent; those rows meet b's zero extension.
        ca = ca[(Ellipsis,) + tuple(slice(0, n) for n in b_in.shape[-spec.ndim:])]
        with np.errstate(all="ignore"):  # a function's inf/NaN makes these NaN: a failed check, no warning line
            lhs = float(np.sum(ca * b_in))
            rhs = float(np.sum(a * y))
            allowed = float(np.sum(np.abs(a) * (tol.atol_for(spec.reduction) + tol.rtol * np.abs(y_ref))))
            allowed += 1e-12 * float(np.sum(np.abs(ca * b_in)))  # the float64 conv side's own rounding
            err = abs(lhs - rhs)
            scale = max(abs(lhs), abs(rhs), float(np.sum(np.abs(a * y_ref))))
            rel = err / scale if scale > 0 else (0.0 if err == 0 else math.inf)
        ok = bool(err <= allowed)
        msg = "" if ok else f"<conv(a,w),b> = {lhs:.12g} but <a,convT(b,w)> = {rhs:.12g} (difference {err:.3g})"
        return CaseResult(spec, "adjoint", [Check("adjoint", ok, err, rel, text, msg, "" if ok else "values",
                                                  "" if ok else "values")])

    def _error_case(self, spec: CaseSpec, x: np.ndarray, w: np.ndarray, b: np.ndarray | None,
                    torch_message: str) -> CaseResult:
        rule, engine_re = parity_rule(torch_message)
        if not self.is_engine:
            return CaseResult(spec, "error", [Check(
                "error_parity", False, message=f"PyTorch rejects this configuration ({torch_message}); "
                "--impl is checked on valid configurations only")])
        try:
            func = self.runner.func if isinstance(self.runner, InProcessSubject) else engine_subject
            out = func(x, w, b, **spec.kwargs())
        except ConvtError as exc:
            said = one_line(exc.message, 400)
            if engine_re is None or re.search(engine_re, said):
                return CaseResult(spec, "error", [Check("error_parity", True, tolerance=rule,
                                                        message=f"PyTorch: {torch_message} | engine: {said}")])
            return CaseResult(spec, "error", [Check(
                "error_parity", False, tolerance=rule,
                message=f"PyTorch breaks rule '{rule}' ({torch_message}) but the engine says: {said}")])
        except Exception as exc:  # rejected, but not with a plain ConvtError: a bug in the engine
            return CaseResult(spec, "error", [Check(
                "error_parity", False, tolerance=rule,
                message=f"the engine raised {type(exc).__name__} instead of ConvtError: {one_line(str(exc))}")])
        shape = list(np.shape(out))
        return CaseResult(spec, "error", [Check(
            "error_parity", False, tolerance=rule,
            message=f"PyTorch rejects this ({torch_message}) but the engine returned shape {shape}")])




def _shape_rule(spec: CaseSpec) -> str | None:
    """The rule a configuration breaks, from its shapes alone (convt checks exactly PyTorch's rules), or None."""
    try:
        params = ConvTransposeParams.make(spec.ndim, spec.stride, spec.padding, spec.output_padding, spec.dilation,
                                          spec.groups)
        check_shapes(spec.x_shape, spec.w_shape, None if spec.bias is None else (spec.bias,), params)
    except ConvtError as exc:
        return exc.message
    return None


def run_sweep(specs, verifier, report, fail_fast: bool, advance) -> None:  # noqa: ANN001
    """Run the cases in order into ``report`` (``advance()`` after each, e.g. a progress bar); stop at the
    first failure with ``fail_fast``."""
    for spec in specs:
        result = verifier.run_case(spec)
        report.results.append(result)
        if advance is not None:
            advance()
        if fail_fast and not result.passed:
            report.stopped_early = report.completed < report.planned
            break
