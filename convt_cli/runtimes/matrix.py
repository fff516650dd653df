"""The runtime × feature matrix: per runtime, the pass rate of the forward cases with each feature (pure).

Built from the verify reports of one sweep run through several runtimes (the same cases for each), so
a column compares toolchains on identical cases.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..verify.cases import FORWARD_FEATURES
from ..verify.report import Report

SCHEMA = "convt.runtimes/1"


@dataclass
class Cell:
    cases: int
    passed: int

    @property
    def rate(self) -> float | None:
        return None if not self.cases else self.passed / self.cases


def cells(report: Report) -> dict[str, Cell]:
    """Feature key (and "all") → cases and passes among the forward cases of ``report``."""
    rows = {row.key: Cell(row.cases, row.passed) for row in report.rows() if row.key in ("all",) + FORWARD_FEATURES}
    return rows


def matrix(reports: dict[str, Report]) -> tuple[list[str], dict[str, dict[str, Cell]]]:
    """(feature rows present in any report, runtime → feature → cell)."""
    table = {name: cells(r) for name, r in reports.items()}
    keys = [k for k in ("all",) + FORWARD_FEATURES if any(k in t for t in table.values())]
    return keys, table


def matrix_json(reports: dict[str, Report], extra: dict[str, dict]) -> dict[str, object]:
    keys, table = matrix(reports)
    return {
        "schema": SCHEMA,
        "runtimes": list(reports),
        "features": keys,
        "matrix": [{"feature": k, **{name: ({"cases": t[k].cases, "passed": t[k].passed,
                                            "rate": None if t[k].rate is None else round(t[k].rate, 4)}
                                           if k in t else None) for name, t in table.items()}} for k in keys],
        "runs": [{"runtime": name, **extra.get(name, {})} for name in reports],
    }
