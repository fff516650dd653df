"""What one case found: :class:`Check` and :class:`CaseResult` records, how a failure is classified
(its *failure kind*), the value comparison, and error parity's rule table (pure).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from ..tolerance import Tolerance, compare_arrays
from .cases import CaseSpec

# Failure kinds, in the order the report lists them. A forward case fails in exactly one of them.
# exporter / converter / runtime: a toolchain stage refused (``convt verify --runtime``).
FAILURE_KINDS = ("exception", "crash", "timeout", "memory", "mutation", "returned", "shape", "nonfinite", "values",
                 "exporter", "converter", "runtime")
NO_NUMBER_KINDS = frozenset(FAILURE_KINDS) - {"nonfinite", "values"}  # failures without an error value


@dataclass
class Check:
    """One comparison inside a case. ``max_abs``/``max_rel`` are ``None`` when nothing was measured.

    ``failure`` is the failure kind (:data:`FAILURE_KINDS`) of a failed check, ``""`` when it passed;
    ``signature`` refines it (an exception's type and message shape), so failures that look alike
    can be grouped.
    """

    name: str  # values | size_formula | float32_path | adjoint | error_parity
    passed: bool
    max_abs: float | None = None
    max_rel: float | None = None
    tolerance: str = ""
    message: str = ""
    failure: str = ""
    signature: str = ""


@dataclass
class CaseResult:
    spec: CaseSpec
    kind: str  # forward | adjoint | error
    checks: list[Check]
    features: tuple[str, ...] = ()
    # (expected, actual) of a forward case when asked for (the diagnosis prints small ones)
    arrays: tuple[np.ndarray, np.ndarray | None] | None = field(default=None, repr=False, compare=False)

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.checks)

    @property
    def message(self) -> str:
        return "; ".join(f"{c.name}: {c.message}" for c in self.checks if not c.passed)

    def check(self, name: str) -> Check | None:
        return next((c for c in self.checks if c.name == name), None)

    @property
    def main(self) -> Check | None:
        """The case's main comparison: values (forward), the adjoint identity, or error parity."""
        return self.check("values") or self.check("adjoint") or self.check("error_parity")

    @property
    def failure(self) -> str:
        """The failure kind of a failed case (``""`` when it passed): its main check's, else the name
        of the first failed check (e.g. ``size_formula``)."""
        main = self.main
        if main is not None and not main.passed:
            return main.failure or "values"
        return next((c.name for c in self.checks if not c.passed), "")

    @property
    def signature(self) -> str:
        """The failure kind refined: an exception's type and message shape; ``""`` when it passed."""
        main = self.main
        if main is not None and not main.passed:
            return main.signature or main.failure or "values"
        return self.failure


def describe_exception(exc: BaseException) -> tuple[str, str]:
    """``(message, signature)`` of an exception raised by checked code, whatever its ``__str__`` does."""
    try:
        name = type(exc).__name__
    except Exception:  # pragma: no cover - a type without a name
        name = "exception"
    try:
        text = one_line(str(exc))
    except BaseException as inner:  # noqa: BLE001 - the checked code's __str__ may raise anything
        text = f"(its message could not be read: str() raised {type(inner).__name__})"
    return f"{name}: {text or '(no message)'}", f"{name}: {message_shape(text)}"


def mutation_message(before: list[np.ndarray | None], after: list[np.ndarray | None]) -> str:
    """``""`` when every input is unchanged; else which one the checked function wrote into."""
    for name, b, a in zip(("x", "weight", "bias"), before, after):
        if b is None or a is None:
            continue
        if b.shape != a.shape or not np.array_equal(b, a, equal_nan=True):
            changed = int(np.sum(~((b == a) | (np.isnan(b) & np.isnan(a))))) if b.shape == a.shape else b.size
            return (f"the function wrote into its input {name} ({changed} of {b.size} values changed); "
                    "inputs must be left as they are")
    return ""


def one_line(text: str, limit: int = 240) -> str:
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def message_shape(text: str) -> str:
    """An exception message blurred to its first ten words, without numbers, quoted names or bracketed
    contents, so that ``got 3`` and ``got 5``, or shapes of different lengths, read as one failure."""
    shape = re.sub(r"'[^']*'|\"[^\"]*\"", "'…'", one_line(text, 400))
    for _ in range(4):  # nested brackets, innermost first
        shape = re.sub(r"\([^()\[\]{}]*\)|\[[^()\[\]{}]*\]|\{[^()\[\]{}]*\}", "…", shape)
    shape = re.sub(r"[-+]?\d+(\.\d+)?(e[-+]?\d+)?", "N", shape)
    return " ".join(shape.split()[:10])


def to_float64(value: object) -> np.ndarray:
    """A subject's return value → float64 ndarray, or :class:`ValueError` saying why it cannot be."""
    if hasattr(value, "detach") and hasattr(value, "cpu"):  # a torch tensor
        value = value.detach().cpu()
        if str(getattr(value, "dtype", "")) == "torch.bfloat16":
            value = value.float()
        value = value.numpy()
    if value is None:
        raise ValueError("returned None instead of an array")
    arr = np.asarray(value)
    if arr.dtype.kind not in "biuf":
        raise ValueError(f"returned an array of dtype {arr.dtype}; a real numeric array is required")
    return arr.astype(np.float64)


def compare_values(actual: np.ndarray, expected: np.ndarray, tol: Tolerance, reduction: int,
                   name: str = "values") -> Check:
    """Shapes first, then the tolerance rule of :mod:`convt_cli.tolerance` (non-finite as PyTorch)."""
    text = tol.formula(reduction)
    cmp = compare_arrays(actual, expected, tol, reduction)
    kind = "" if cmp.passed else "shape" if cmp.shape_mismatch else "nonfinite" if cmp.nonfinite_mismatch \
        else "values"
    return Check(name, cmp.passed, cmp.max_abs, cmp.max_rel, text, cmp.message(actual.shape, expected.shape),
                 kind, kind)


# ---------------------------------------------------------------------------------------------------
# Error parity: which rule did PyTorch name, and does the engine name it too?
# ---------------------------------------------------------------------------------------------------

# (rule, PyTorch's message, the engine's message) — regexes, first torch match wins.
PARITY_RULES: tuple[tuple[str, str, str], ...] = (
    ("output_padding < stride or dilation", r"output padding must be smaller",
     r"output_padding=\d+ in dim \d+ must be smaller than stride"),
    ("output_padding ≥ 0", r"negative output_padding", r"output_padding=-\d+"),
    ("padding ≥ 0", r"negative padding", r"(?<![_a-z])padding=-\d+"),
    ("stride > 0", r"non-positive stride", r"stride=-?\d+ in dim \d+ must be positive"),
    ("dilation > 0", r"dilation should be greater than zero", r"dilation=-?\d+ in dim \d+ must be greater than zero"),
    ("groups > 0", r"non-positive groups", r"groups=-?\d+ must be positive"),
    ("input channels = weight C_in", r"to have \d+ channels", r"input has \d+ channels but the weight"),
    ("groups divides C_in", r"divisible by", r"groups=\d+ must divide"),
    ("output size > 0", r"Output size is too small", r"output size .* is too small"),
    ("input rank", r"Expected \d+D \(unbatched\) or \d+D \(batched\) input", r"input of shape .* must have"),
    ("bias length = C_out", r"expected bias", r"bias of shape .* must be"),
    ("spatial input sizes > 0", r"Only zero batch or zero channel inputs are supported",
     r"input size 0 in spatial dim \d+ must be positive"),
    # PyTorch's 3-d kernel names an empty weight where 1-d/2-d name the zero kernel size.
    ("weight not empty", r"non-empty .*weight", r"has no output channels|kernel size 0 in dim \d+"),
    ("kernel size > 0", r"kernel size should be greater than zero",
     r"kernel size -?\d+ in dim \d+ must be greater than zero"),
)


def parity_rule(torch_message: str) -> tuple[str, str | None]:
    """(rule name, engine regex) for PyTorch's message; ("unrecognised", None) when none matches."""
    for rule, torch_re, engine_re in PARITY_RULES:
        if re.search(torch_re, torch_message):
            return rule, engine_re
    return "unrecognised", None

