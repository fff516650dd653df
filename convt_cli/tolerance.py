"""The tolerance rule every PyTorch comparison in convt uses (verify, neck --verify, show's check).

``|a − e| ≤ atol + per_term·L + rtol·|e|`` element-wise, with ``L = C_in/groups · ∏k`` the reduction
length (the most products summed into one output element). Non-finite values are compared as
``torch.testing.assert_close(..., equal_nan=True)`` does: a NaN must sit where the reference has a NaN,
an infinity must meet an infinity of the same sign; only finite pairs are held to the tolerance.

Pure NumPy; no torch, no printing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Tolerance:
    """``|a − e| ≤ atol + per_term·L + rtol·|e|``, ``L = C_in/groups · ∏k`` (the reduction length)."""

    rtol: float
    atol: float
    per_term: float = 0.0
    source: str = ""

    def atol_for(self, reduction: int) -> float:
        return self.atol + self.per_term * reduction

    @property
    def scaled(self) -> bool:
        return self.per_term > 0

    def formula(self, reduction: int | None = None, *, define: bool = True) -> str:
        """The rule as text; ``L`` defined once: with its value when ``reduction`` is given, not at all
        when ``define`` is false (the caller defines it on its own line)."""
        text = f"|a − e| ≤ {self.atol:g} + {self.rtol:g}·|e|"
        if self.scaled:
            text += f" + {pow2(self.per_term)}·L"
            if reduction is not None:
                text += f", L = C_in/groups·∏k = {reduction}"
            elif define:
                text += ", L = C_in/groups·∏k"
        return text

    def as_json(self) -> dict[str, object]:
        return {"rtol": self.rtol, "atol": self.atol, "atol_per_reduction_term": self.per_term,
                "formula": self.formula(), "source": self.source}


def pow2(value: float) -> str:
    """``2^-10`` for exact powers of two, else ``%g``."""
    exp = math.log2(value)
    return f"2^{int(exp)}" if exp == int(exp) else f"{value:g}"


# float64: engine vs torch differ only by summation order (~1e-16 per term); 1e-10 leaves room and
# still catches any real mistake. float32: torch.testing's float32 defaults. float16/bfloat16:
# torch.testing's defaults plus one machine epsilon per reduction term, because CPU low-precision
# kernels fail the plain defaults (errors up to 0.04 / 0.38 measured).
VALUE_TOLERANCE = {
    "float64": Tolerance(1e-10, 1e-10, source="convt: float64 vs float64, summation order only"),
    "float32": Tolerance(1.3e-6, 1e-5, source="torch.testing.assert_close float32 defaults"),
    "float16": Tolerance(1e-3, 1e-5, 2.0**-10, source="torch.testing float16 defaults + eps·L"),
    "bfloat16": Tolerance(1.6e-2, 1e-5, 2.0**-7, source="torch.testing bfloat16 defaults + eps·L"),
}
FLOAT32_PATH_TOLERANCE = VALUE_TOLERANCE["float32"]


@dataclass(frozen=True)
class Comparison:
    """The outcome of :func:`compare_arrays`.

    ``max_abs`` is the largest ``|a − e|`` over finite pairs, ``nan``/``inf`` when a non-finite value
    is misplaced (NaN where none belongs: ``nan``; a wrong or missing infinity: ``inf``), ``None`` when
    the shapes differ. ``max_rel`` is ``max_abs / max|e|`` over the finite reference values.
    ``worst`` is the index of the worst element outside the tolerance (``None`` when all pass).
    """

    passed: bool
    max_abs: float | None
    max_rel: float | None
    bad: int = 0
    size: int = 0
    worst: tuple[int, ...] | None = None
    expected_at_worst: float | None = None
    actual_at_worst: float | None = None
    shape_mismatch: bool = False
    nonfinite_mismatch: bool = False

    def message(self, actual_shape: tuple[int, ...] = (), expected_shape: tuple[int, ...] = ()) -> str:
        """One sentence for a failed comparison ('' when it passed)."""
        if self.passed:
            return ""
        if self.shape_mismatch:
            return f"shape {list(actual_shape)} differs from PyTorch's {list(expected_shape)}"
        return (f"{self.bad} of {self.size} values outside the tolerance; worst at {list(self.worst or ())}: "
                f"expected {self.expected_at_worst:.6g}, got {self.actual_at_worst:.6g}")


def compare_arrays(actual: np.ndarray, expected: np.ndarray, tol: Tolerance, reduction: int = 1) -> Comparison:
    """Shapes first, then the tolerance element-wise with non-finite values compared as PyTorch does."""
    actual = np.asarray(actual, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    if actual.shape != expected.shape:
        return Comparison(False, None, None, shape_mismatch=True)
    if actual.size == 0:
        return Comparison(True, 0.0, 0.0, size=0)
    fin_e = np.isfinite(expected)
    fin_a = np.isfinite(actual)
    both = fin_e & fin_a
    nan_e, nan_a = np.isnan(expected), np.isnan(actual)
    # Non-finite pairs: a NaN matches a NaN; an infinity matches the same infinity.
    nonfinite_ok = (nan_e & nan_a) | (~nan_e & ~nan_a & ~fin_e & (actual == expected))
    with np.errstate(invalid="ignore", over="ignore"):
        diff = np.where(both, np.abs(actual - expected), 0.0)
    bound = tol.atol_for(reduction) + tol.rtol * np.abs(np.where(fin_e, expected, 0.0))
    bad_mask = np.where(both, ~(diff <= bound), ~nonfinite_ok)
    misplaced = bad_mask & ~both
    finite_diff = diff[both]
    max_abs = float(finite_diff.max()) if finite_diff.size else 0.0
    if not np.isfinite(max_abs):  # finite operands whose difference overflows
        max_abs = math.inf
    if misplaced.any():
        max_abs = math.nan if (misplaced & (nan_a | nan_e)).any() else math.inf
    scale = float(np.abs(expected[fin_e]).max()) if fin_e.any() else 0.0
    if math.isnan(max_abs) or math.isinf(max_abs):
        max_rel = max_abs
    else:
        max_rel = max_abs / scale if scale > 0 else (0.0 if max_abs == 0 else math.inf)
    bad = int(bad_mask.sum())
    if bad == 0:
        return Comparison(True, max_abs, max_rel, size=int(actual.size))
    excess = np.where(both, diff - bound, np.inf)
    idx = tuple(int(i) for i in np.unravel_index(int(np.argmax(np.where(bad_mask, excess, -np.inf))), diff.shape))
    return Comparison(False, max_abs, max_rel, bad, int(actual.size), idx, float(expected[idx]),
                      float(actual[idx]), nonfinite_mismatch=bool(misplaced.any()))
