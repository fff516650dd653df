"""`convt verify`: check the NumPy engine — or anyone's implementation — against PyTorch, case by case.

Pure records, no printing. The rooms, in the order the command uses them:

- :mod:`.cases` — the case language (:class:`CaseSpec`, ``2d x=1x4x5x5 w=4x2x3x3 s=2 p=1 op=1 d=1 g=2
  bias``, a lossless round trip) and the summary's features.
- :mod:`.sweeps` — deterministic lists of cases, ``--only``/``--skip`` (:class:`Selection`).
- :mod:`.subject` and :mod:`.worker` — running a subject against the float64 PyTorch reference
  (:class:`Verifier`); an ``--impl`` function runs in a worker process (isolation, timeouts, memory
  limit), the reference in this one.
- :mod:`.checks` — the records a case produces and how failures are classified.
- :mod:`.diagnosis` — clusters of failing cases, their explaining features and smallest cases.
- :mod:`.report` — the summary rows and the JSON document (schema in ``docs/verify-json.md``).
- :mod:`.impl` — ``MODULE:FUNC`` or ``path/file.py:FUNC`` → a callable (inside the worker).

PyTorch is imported lazily, inside the functions that need it.
"""

from __future__ import annotations

from ..tolerance import FLOAT32_PATH_TOLERANCE, VALUE_TOLERANCE, Tolerance
from .cases import ALL_DIMS, FORWARD_FEATURES, IMPLIED, CaseSpec, parse_dims
from .checks import FAILURE_KINDS, PARITY_RULES, CaseResult, Check, compare_values, parity_rule
from .diagnosis import Cluster, Diagnosis, diagnose, shrink_clusters
from .impl import CONTRACT, ImplLoadError, load_impl, reproduce_command
from .report import CHECK_ROWS, ROWS, SCHEMA, FeatureRow, Report, case_json
from .subject import DTYPES, Verifier, engine_subject, run_sweep
from .sweeps import (
    DEFAULT_FORWARD_CASES,
    DEFAULT_SEED,
    Selection,
    adjoint_cases,
    curated_cases,
    default_sweep,
    error_cases,
    parse_feature_keys,
    random_case,
    random_sweep,
    writes_output,
)
from .worker import DEFAULT_TIMEOUT_S, SubjectFailed, WorkerLoadError, WorkerSubject

__all__ = [
    "ALL_DIMS", "CHECK_ROWS", "CONTRACT", "DEFAULT_FORWARD_CASES", "DEFAULT_SEED", "DEFAULT_TIMEOUT_S", "DTYPES",
    "FAILURE_KINDS", "FLOAT32_PATH_TOLERANCE", "FORWARD_FEATURES", "IMPLIED", "PARITY_RULES", "ROWS", "SCHEMA",
    "VALUE_TOLERANCE", "CaseResult", "CaseSpec", "Check", "Cluster", "Diagnosis", "FeatureRow", "ImplLoadError",
    "Report", "Selection", "SubjectFailed", "Tolerance", "Verifier", "WorkerLoadError", "WorkerSubject",
    "adjoint_cases", "case_json", "compare_values", "curated_cases", "default_sweep", "diagnose",
    "engine_subject", "error_cases", "load_impl", "parity_rule", "parse_dims", "parse_feature_keys",
    "random_case", "random_sweep", "reproduce_command", "shrink_clusters", "writes_output", "run_sweep"]
