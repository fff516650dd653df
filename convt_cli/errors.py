"""The one error type convt raises for bad input."""

from __future__ import annotations


class ConvtError(ValueError):
    """Bad input: the message names the value and the rule it breaks.

    The CLI prints it as one ``Error: ...`` line on stderr and exits 1. ``zh`` optionally carries
    the same sentence in Chinese, printed instead under ``--lang zh``.
    """

    def __init__(self, message: str, *, zh: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.zh = zh

    def text(self, lang: str = "en") -> str:
        return self.zh if lang == "zh" and self.zh else self.message


class MemoryBudgetError(ConvtError):
    """An array would exceed the memory budget (see ``convt_cli.limits``)."""
