"""The memory budget: arrays that would exceed it are refused before they are allocated."""

from __future__ import annotations

import math
import os
import re
from fractions import Fraction

from .errors import ConvtError, MemoryBudgetError

ENV_VAR = "CONVT_MAX_BYTES"
DEFAULT_SHARE = 0.5  # of the RAM available now
_SUFFIXES = {"": 1, "B": 1, "K": 1024, "KB": 1024, "KIB": 1024, "M": 1024**2, "MB": 1024**2,
             "MIB": 1024**2, "G": 1024**3, "GB": 1024**3, "GIB": 1024**3, "T": 1024**4,
             "TB": 1024**4, "TIB": 1024**4}


def available_ram() -> int:
    """Bytes of RAM available now (MemAvailable on Linux; physical pages elsewhere)."""
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return 4 * 1024**3


_BYTES_RE = re.compile(r"([0-9]+(?:\.[0-9]*)?|\.[0-9]+)([A-Z]*)", re.ASCII)
_MAX_TEXT = 40  # characters: a budget is a short number, never a long string to convert


def _shown(text: str) -> str:
    return repr(text if len(text) <= _MAX_TEXT else text[:_MAX_TEXT] + "…")


def parse_bytes(text: str) -> int:
    """``"2G"``, ``"512MiB"``, ``"1000000"`` → bytes.

    ASCII digits only (no ``1_000``, no other scripts' digits), an optional decimal point and a
    suffix (K, M, G, T, with or without B/iB: powers of 1024). A fraction of a byte is rounded
    down to whole bytes (``1.5K`` is 1536, ``10.7`` is 10); a budget under one byte (``0.5``,
    ``0``) is refused.
    """
    raw = text.strip().upper().replace(" ", "")
    match = _BYTES_RE.fullmatch(raw) if len(raw) <= _MAX_TEXT else None
    if match is None or match.group(2) not in _SUFFIXES:
        raise ConvtError(
            f"{ENV_VAR}={_shown(text)} must be a number of bytes in ASCII digits such as 2000000000, 512M or 2G",
            zh=f"{ENV_VAR}={_shown(text)} 必须是用 ASCII 数字写的字节数，例如 2000000000、512M 或 2G",
        )
    value = math.floor(Fraction(match.group(1)) * _SUFFIXES[match.group(2)])
    if value < 1:
        raise ConvtError(
            f"{ENV_VAR}={_shown(text)} is less than one byte; give a positive whole number of bytes such as 512M",
            zh=f"{ENV_VAR}={_shown(text)} 不足一个字节；请给出正的整数字节数，例如 512M",
        )
    return value


def max_bytes() -> int:
    """The budget: ``CONVT_MAX_BYTES`` when set, else half the RAM available now."""
    env = os.environ.get(ENV_VAR)
    if env:
        return parse_bytes(env)
    return int(available_ram() * DEFAULT_SHARE)


def human_bytes(n: float) -> str:
    """``1536`` → ``1.5 KiB``; past PiB in scientific notation (``4.84e+24 PiB``), never a run of digits."""
    if abs(n) < 1024:
        return f"{n:.0f} B"
    from .numbers import prefixed, sci

    text, unit = prefixed(n / 1024, ("KiB", "MiB", "GiB", "TiB", "PiB"), 1024, digits=5)
    text = sci(float(text), 2) if "e" in text else f"{float(text):.1f}"
    return f"{text} {unit}".rstrip()


def check_bytes(nbytes: int, what: str, *, hint: str = "", hint_zh: str = "") -> None:
    """Raise :class:`MemoryBudgetError` when ``nbytes`` exceeds the budget; ``hint`` says what to change."""
    budget = max_bytes()
    if nbytes > budget:
        source = f"{ENV_VAR}" if os.environ.get(ENV_VAR) else f"half the available RAM; set {ENV_VAR} to change"
        raise MemoryBudgetError(
            f"{what} would need {human_bytes(nbytes)}, more than the memory budget of "
            f"{human_bytes(budget)} ({source})" + (f"; {hint}" if hint else ""),
            zh=f"{what} 需要 {human_bytes(nbytes)}，超过内存预算 {human_bytes(budget)}（可用 {ENV_VAR} 调整）"
            + (f"；{hint_zh or hint}" if hint else ""),
        )
