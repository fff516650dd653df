"""The report: the results so far, the per-feature summary (failures counted by kind), the diagnosis
and the JSON document (schema ``convt.verify/2``, ``docs/verify-json.md``). Pure records.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from ..tolerance import FLOAT32_PATH_TOLERANCE, VALUE_TOLERANCE, Tolerance
from .cases import ALL_DIMS, FORWARD_FEATURES, CaseSpec
from .checks import FAILURE_KINDS, CaseResult, Check
from .diagnosis import Cluster, Diagnosis, diagnose

SCHEMA = "convt.verify/2"
CHECK_ROWS = ("size_formula", "float32_path", "adjoint", "error_parity")
ROWS = ("all",) + FORWARD_FEATURES + CHECK_ROWS
SMALL_OUTPUT = 36  # expected and actual outputs up to this many values are printed in full


@dataclass
class FeatureRow:
    key: str
    cases: int = 0
    passed: int = 0
    max_abs: float | None = None
    max_rel: float | None = None
    kinds: Counter[str] = field(default_factory=Counter)  # failure kind → failed cases of this row

    @property
    def failed(self) -> int:
        return self.cases - self.passed

    @property
    def no_number(self) -> int:
        """Failures of this row that have no error value (an exception, a wrong shape, a crash…)."""
        return sum(n for kind, n in self.kinds.items() if kind not in ("values", "nonfinite"))

    def add(self, passed: bool, check: Check | None, kind: str = "") -> None:
        self.cases += 1
        self.passed += int(passed)
        if not passed:
            self.kinds[kind or "values"] += 1
        if check is not None:
            self.max_abs = _max(self.max_abs, check.max_abs)
            self.max_rel = _max(self.max_rel, check.max_rel)


def _max(a: float | None, b: float | None) -> float | None:
    if b is None:
        return a
    if a is None or math.isnan(b):
        return b
    if math.isnan(a):
        return a
    return max(a, b)


def _check_kind(check: Check) -> str:
    if check.passed:
        return ""
    if check.failure:
        return check.failure
    return "values" if check.max_abs is not None else "rejected"


@dataclass
class Report:
    """Everything a run found; ``results`` grows as cases complete."""

    subject: str
    dtype: str
    planned: int
    seed: int | None = None
    dims: tuple[int, ...] = ALL_DIMS
    requested_cases: int | None = None
    single_case: bool = False
    float32_path: bool = False
    results: list[CaseResult] = field(default_factory=list)
    elapsed_s: float = 0.0
    interrupted: bool = False
    stopped_early: bool = False
    only: tuple[str, ...] = ()
    skip: tuple[str, ...] = ()
    convention: str | None = None  # --convention: the framework convention the --impl function speaks
    left_out: int = 0  # cases the selection dropped (--case: 1 when the case itself was left out)
    timeout_s: float | None = None  # per call, when the subject runs in a worker process
    memory_limit: int | None = None  # the worker's limit on resident memory once loaded, bytes
    _diagnosis: Diagnosis | None = field(default=None, repr=False)

    @property
    def completed(self) -> int:
        return len(self.results)

    @property
    def failures(self) -> list[CaseResult]:
        return [r for r in self.results if not r.passed]

    @property
    def ok(self) -> bool:
        return not self.failures and not self.interrupted

    @property
    def tolerance(self) -> Tolerance:
        return VALUE_TOLERANCE[self.dtype]

    @property
    def max_reduction(self) -> int:
        return max((r.spec.reduction for r in self.results if r.kind == "forward"), default=0)

    def rows(self) -> list[FeatureRow]:
        """The summary table: one row per feature present (forward cases) and per check kind."""
        rows = {key: FeatureRow(key) for key in ROWS}
        for r in self.results:
            main = r.main
            kind = r.failure
            rows["all"].add(r.passed, main, kind)
            if r.kind == "forward":
                for key in r.features:
                    rows[key].add(r.passed, main, kind)
                for key in ("size_formula", "float32_path"):
                    c = r.check(key)
                    if c is not None:
                        rows[key].add(c.passed, c, _check_kind(c) if key == "float32_path" else "formula")
            elif r.kind == "adjoint":
                rows["adjoint"].add(r.passed, main, kind)
            else:
                rows["error_parity"].add(r.passed, None, "rejected")
        return [row for row in rows.values() if row.cases or row.key == "all"]

    # --- diagnosis -----------------------------------------------------------------------------------
    @property
    def diagnosis(self) -> Diagnosis:
        if self._diagnosis is None:
            self._diagnosis = diagnose(self.results)
        return self._diagnosis

    @diagnosis.setter
    def diagnosis(self, value: Diagnosis) -> None:
        self._diagnosis = value

    def suspects(self) -> list[str]:
        """The feature keys the clusters name as causes (never the adjoint identity or other checks)."""
        return self.diagnosis.causes

    # --- JSON ------------------------------------------------------------------------------------------
    def as_json(self, reproduce: Callable[[CaseSpec], str]) -> dict[str, object]:
        """The stable JSON document (``docs/verify-json.md``)."""
        diagnosis = self.diagnosis
        return {
            "schema": SCHEMA,
            "subject": self.subject,
            "dtype": self.dtype,
            "seed": self.seed,
            "dims": list(self.dims),
            "requested_cases": self.requested_cases,
            "single_case": self.single_case,
            "only": list(self.only),
            "skip": list(self.skip),
            "convention": self.convention,
            "left_out": self.left_out,
            "isolation": None if self.timeout_s is None else {
                "timeout_s": self.timeout_s, "memory_limit_bytes": self.memory_limit,
                "address_space_bytes": None},
            "tolerance": {
                "values": self.tolerance.as_json(),
                "float32_path": FLOAT32_PATH_TOLERANCE.as_json() if self.float32_path else None,
                "max_reduction_length": self.max_reduction,
            },
            "planned": self.planned,
            "completed": self.completed,
            "passed": self.completed - len(self.failures),
            "failed": len(self.failures),
            "ok": self.ok,
            "interrupted": self.interrupted,
            "stopped_early": self.stopped_early,
            "elapsed_s": round(self.elapsed_s, 3),
            "features": [
                {"feature": row.key, "cases": row.cases, "passed": row.passed, "failed": row.failed,
                 "failed_by_kind": {k: row.kinds[k] for k in sorted(row.kinds, key=_kind_order)},
                 "failed_without_error_value": row.no_number,
                 "max_abs_err": _json_num(row.max_abs), "max_rel_err": _json_num(row.max_rel)}
                for row in self.rows()
            ],
            "suspects": self.suspects(),
            "clusters": [cluster_json(c, reproduce) for c in diagnosis.clusters],
            "also_failed": [{"check": k, "failed": f, "cases": n} for k, (f, n) in diagnosis.also_failed.items()],
            "failures": [case_json(r, reproduce) for r in self.failures],
        }


def _kind_order(kind: str) -> int:
    return FAILURE_KINDS.index(kind) if kind in FAILURE_KINDS else len(FAILURE_KINDS)


def small_arrays(result: CaseResult | None) -> tuple[np.ndarray, np.ndarray | None] | None:
    """The expected and actual outputs of a case when both are small enough to read."""
    if result is None or result.arrays is None:
        return None
    expected, actual = result.arrays
    if expected.size > SMALL_OUTPUT or (actual is not None and actual.size > SMALL_OUTPUT):
        return None
    return expected, actual


def cluster_json(cluster: Cluster, reproduce: Callable[[CaseSpec], str]) -> dict[str, object]:
    case = cluster.smallest
    arrays = small_arrays(case)
    return {
        "kind": cluster.kind,
        "signature": cluster.signature,
        "kinds": sorted({m.failure for m in cluster.members}),
        "other_signatures": list(cluster.other_signatures),
        "features": list(cluster.features),
        "explained": cluster.explained,
        "everywhere": cluster.everywhere,
        "count": cluster.count,
        "rates": [{"feature": r.feature or None, "with_failed": r.with_failed, "with_cases": r.with_total,
                   "without_failed": r.without_failed, "without_cases": r.without_total} for r in cluster.rates],
        "smallest": None if case is None else {
            "case": case.spec.format(),
            "shrunk_from": None if cluster.shrunk_from is None else cluster.shrunk_from.format(),
            "shrink_runs": cluster.shrink_runs,
            "message": case.message,
            "reproduce": reproduce(case.spec),
            "expected": None if arrays is None else _json_array(arrays[0]),
            "actual": None if arrays is None or arrays[1] is None else _json_array(arrays[1]),
        },
    }


def _json_array(arr: np.ndarray) -> object:
    return np.vectorize(lambda v: _json_num(float(v)), otypes=[object])(arr).tolist() if arr.size else []


def case_json(result: CaseResult, reproduce: Callable[[CaseSpec], str]) -> dict[str, object]:
    return {
        "case": result.spec.format(),
        "kind": result.kind,
        "failure": result.failure,
        "features": list(result.features),
        "passed": result.passed,
        "message": result.message,
        "reproduce": reproduce(result.spec),
        "checks": [
            {"check": c.name, "passed": c.passed, "failure": c.failure, "max_abs_err": _json_num(c.max_abs),
             "max_rel_err": _json_num(c.max_rel), "tolerance": c.tolerance, "message": c.message}
            for c in result.checks
        ],
    }


def _json_num(value: float | None) -> float | str | None:
    if value is None:
        return None
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return float(f"{value:.6g}")
