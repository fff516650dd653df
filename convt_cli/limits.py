"""The memory budget: arrays that would exceed it are refused before they are allocated."""

from __future__ import annotations

import math
import os

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


def parse_bytes(text: str) -> int:
    """``"2G"``, ``"512MiB"``, ``"1000000"`` → bytes."""
    raw = text.strip().upper().replace(" ", "")
    digits = raw.rstrip("BKMGTI")
    suffix = raw[len(digits):]
    if suffix not in _SUFFIXES or not digits:
        raise ConvtError(f"{ENV_VAR}={text!r} must be a number of bytes such as 2000000000, 512M or 2G")
    try:
        value = float(digits)
    except ValueError:
        raise ConvtError(
            f"{ENV_VAR}={text!r} must be a number of bytes such as 2000000000, 512M or 2G"
        ) from None
    if not math.isfinite(value) or value <= 0:
        raise ConvtError(f"{ENV_VAR}={text!r} must be a positive number of bytes")
    return int(value * _SUFFIXES[suffix])


def max_bytes() -> int:
    """The budget: ``CONVT_MAX_BYTES`` when set, else half the RAM available now."""
    env = os.environ.get(ENV_VAR)
    if env:
        return parse_bytes(env)
    return int(available_ram() * DEFAULT_SHARE)


def human_bytes(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if abs(n) < 1024 or unit == "PiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} PiB"  # pragma: no cover


def check_bytes(nbytes: int, what: str) -> None:
    """Raise :class:`MemoryBudgetError` when ``nbytes`` exceeds the budget."""
    budget = max_bytes()
    if nbytes > budget:
        source = f"{ENV_VAR}" if os.environ.get(ENV_VAR) else f"half the available RAM; set {ENV_VAR} to change"
        raise MemoryBudgetError(
            f"{what} would need {human_bytes(nbytes)}, more than the memory budget of "
            f"{human_bytes(budget)} ({source})",
            zh=f"{what} 需要 {human_bytes(nbytes)}，超过内存预算 {human_bytes(budget)}（可用 {ENV_VAR} 调整）",
        )

