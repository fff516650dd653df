"""Numbers as text, one rule for every screen: what is printed parses back to the value rounded to the
printed precision, from 0 to 1e308, with scientific notation where a plain number would not fit.

No Rich, no NumPy needed (NumPy scalars are accepted); the renders and the picture labels call these.
"""

from __future__ import annotations

import math

PLAIN_LIMIT = 1e15  # from here up a plain number is too long to read (and float64 holds no more digits)
INT_DIGITS = 19  # every int64 prints exactly; a longer Python int prints in scientific notation


def _special(v: float) -> str | None:
    if math.isnan(v):
        return "nan"
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    return None


def sci(value: float, digits: int = 3) -> str:
    """``value`` in scientific notation with ``digits`` decimals in the mantissa, trailing zeros dropped:
    ``1e+100``, ``-1.235e+20``, ``2.5e-07``. ``float()`` of the text is ``value`` rounded to that many
    significant digits."""
    v = float(value)
    special = _special(v)
    if special is not None:
        return special
    mantissa, exp = f"{v:.{max(0, digits)}e}".split("e")
    if "." in mantissa:
        mantissa = mantissa.rstrip("0").rstrip(".")
    return f"{mantissa}e{exp}"


def format_number(value: float | int, precision: int = 3) -> str:
    """Integers as integers; floats rounded to ``precision`` decimals, trailing zeros after the
    decimal point dropped (``2.500`` → ``2.5``, ``3.000`` → ``3``; never the zeros of ``10``).

    A float magnitude from 1e15 up (or an integer of more than 19 digits) prints in scientific notation with
    ``precision`` decimals in the mantissa (``1e+100``), never as a long run of digits that a narrow
    cell would cut. ``-0`` prints as ``0``; NaN and infinities as ``nan``, ``inf``, ``-inf``.
    What is printed reads back (``float(text)``) as the value rounded to the printed precision.
    """
    if isinstance(value, int) or (hasattr(value, "dtype") and getattr(value.dtype, "kind", "") in "biu"):
        n = int(value)
        digits = len(str(abs(n)))
        return str(n) if digits <= INT_DIGITS else sci(n, precision)
    v = float(value)
    special = _special(v)
    if special is not None:
        return special
    if v == 0:
        return "0"
    if abs(v) >= PLAIN_LIMIT:
        return sci(v, precision)
    text = f"{v:.{precision}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    if abs(float(text)) >= PLAIN_LIMIT:  # rounding carried it over the limit
        return sci(v, precision)
    return "0" if text == "-0" else text


def significant(value: float, digits: int = 3) -> str:
    """``value`` to ``digits`` significant digits (``0.000123``, ``1.23e+20``): ``%g``, whose text
    already switches to scientific notation for large and small magnitudes."""
    v = float(value)
    special = _special(v)
    return special if special is not None else f"{v:.{digits}g}"


def prefixed(value: float, prefixes: tuple[str, ...], base: int, digits: int = 3) -> tuple[str, str]:
    """``value`` scaled by the largest prefix that keeps it under ``base`` *after rounding to ``digits``
    significant digits* (999,600 is ``1 M``… never ``1e+03 k``); past the last prefix, scientific
    notation. Returns (number text, prefix)."""
    v = float(value)
    special = _special(v)
    if special is not None:
        return special, ""
    for i, prefix in enumerate(prefixes):
        text = f"{v:.{digits}g}"
        last = i == len(prefixes) - 1
        if abs(float(text)) < base or last:
            if "e" in text:  # beyond the last prefix (or %g chose it): the mantissa form, read back safely
                text = sci(v, digits - 1)
            return text, prefix
        v /= base
    raise AssertionError("unreachable")  # pragma: no cover
