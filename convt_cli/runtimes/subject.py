"""The parent's side of ``convt verify --runtime``: a verify subject whose calls run in a sandboxed child,
many cases per child.

:class:`RuntimeSubject` answers the ``--impl`` contract (``call(x, w, b, kwargs)``), so the sweep, the
tolerance rule, the diagnosis and the shrinking of :mod:`convt_cli.verify` are used unchanged. Given
the planned cases up front (:meth:`plan`), the first call for a case runs it together with the next
planned ones in one child (:attr:`RuntimeInfo.batch` cases): a child's start-up (importing torch and
the toolchain) is paid once per batch. A batch whose child crashes, hangs or blows memory is re-run
case by case, so that only the culprit fails (kind crash / timeout / memory → crash).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import replace

import numpy as np

from ..sandbox import SandboxFailure, run_isolated
from ..verify.cases import CaseSpec
from ..verify.checks import message_shape
from ..verify.worker import SubjectFailed
from . import RUNTIMES
from .child import pack, unpack

STARTUP_S = 120.0  # a child's imports (torch + the toolchain) on a busy 2-core machine
KIND_OF_STAGE = {"exporter": "exporter", "converter": "converter", "runtime": "runtime"}


def case_record(x: np.ndarray, w: np.ndarray, b: np.ndarray | None, kwargs: dict) -> dict:
    """The plain record a child builds its module from."""
    groups = int(kwargs["groups"])
    return {"ndim": len(kwargs["stride"]), "c_in": int(w.shape[0]), "c_out": int(w.shape[1]) * groups,
            "kernel": [int(k) for k in w.shape[2:]], "stride": [int(v) for v in kwargs["stride"]],
            "padding": [int(v) for v in kwargs["padding"]],
            "output_padding": [int(v) for v in kwargs["output_padding"]],
            "dilation": [int(v) for v in kwargs["dilation"]], "groups": groups, "bias": b is not None,
            "x_shape": [int(v) for v in x.shape]}


def _key(rec: dict, x: np.ndarray, w: np.ndarray, b: np.ndarray | None) -> str:
    h = hashlib.sha1(json.dumps(rec, sort_keys=True).encode())
    for a in (x, w, b):
        if a is not None:
            h.update(np.ascontiguousarray(a, dtype=np.float32).tobytes())
    return h.hexdigest()


def subject_inputs(spec: CaseSpec) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """The float32 arrays the Verifier hands the subject for ``spec`` at dtype float32 (batch added)."""
    x, w, b = spec.make_data()
    if spec.adjoint:
        b = None
    x, w = x.astype(np.float32), w.astype(np.float32)
    b = None if b is None else b.astype(np.float32)
    if not spec.batched:
        x = x[None]
    return x, w, b


class RuntimeSubject:
    """Runs cases through one runtime. ``options``: exporter, opset, via (see the runtime modules)."""

    def __init__(self, name: str, options: dict | None = None, *, timeout_per_case: float | None = None):
        self.name = name
        self.info = RUNTIMES[name]
        self.options = dict(options or {})
        self.per_case = timeout_per_case or self.info.per_case_s
        self.timeout = self.per_case  # what the report states as the per-call bound
        self.address_space = None
        self.versions: dict[str, str] = {}
        self.batches = 0
        self._pending: dict[str, tuple[dict, list[np.ndarray]]] = {}
        self._order: list[str] = []
        self._done: dict[str, object] = {}

    # --- planning ---------------------------------------------------------------------------------
    def plan(self, specs: Iterable[CaseSpec]) -> None:
        """Queue the forward and adjoint cases of a sweep so that calls can be answered in batches."""
        for spec in specs:
            x, w, b = subject_inputs(spec)
            rec = case_record(x, w, b, spec.kwargs())
            key = _key(rec, x, w, b)
            if key not in self._pending and key not in self._done:
                self._pending[key] = (rec, [x, w] + ([b] if b is not None else []))
                self._order.append(key)

    def has(self, spec: CaseSpec) -> bool:
        """Whether ``spec``'s answer is at hand (run in an earlier batch)."""
        x, w, b = subject_inputs(spec)
        return _key(case_record(x, w, b, spec.kwargs()), x, w, b) in self._done

    def prefetch(self, specs: Iterable[CaseSpec]) -> None:
        """Replace the queue by ``specs`` (shrinking: the next round's candidates)."""
        self._pending.clear()
        self._order.clear()
        self.plan(specs)

    # --- the --impl contract ----------------------------------------------------------------------
    def call(self, x: np.ndarray, w: np.ndarray, b: np.ndarray | None, kwargs: dict) -> np.ndarray:
        x = np.ascontiguousarray(x, dtype=np.float32)
        w = np.ascontiguousarray(w, dtype=np.float32)
        b = None if b is None else np.ascontiguousarray(b, dtype=np.float32)
        rec = case_record(x, w, b, kwargs)
        key = _key(rec, x, w, b)
        if key not in self._done:
            batch = [(key, rec, [x, w] + ([b] if b is not None else []))]
            self._pending.pop(key, None)
            while len(batch) < self.info.batch and self._order:
                k = self._order.pop(0)
                if k in self._pending:
                    r, arrs = self._pending.pop(k)
                    batch.append((k, r, arrs))
            self._run(batch)
        answer = self._done.pop(key)
        if isinstance(answer, SubjectFailed):
            raise answer
        return np.asarray(answer, dtype=np.float64)

    def close(self) -> None:
        pass

    # --- batches -----------------------------------------------------------------------------------
    def _call_child(self, recs: list[dict], arrays: list[np.ndarray], save_dir: str | None = None):  # noqa: ANN202
        flat, shapes = pack(arrays)
        request = {"runtime": self.name, "options": self.options, "cases": recs, "save_dir": save_dir,
                   "shapes": shapes}
        return run_isolated("convt_cli.runtimes.child:run_batch", request, [flat],
                            timeout=STARTUP_S + self.per_case * len(recs), what=f"the {self.name} runtime")

    def _run(self, batch: list[tuple[str, dict, list[np.ndarray]]]) -> None:
        arrays = [a for _, _, arrs in batch for a in arrs]
        self.batches += 1
        try:
            out = self._call_child([r for _, r, _ in batch], arrays)
        except SandboxFailure as exc:
            if len(batch) > 1:  # find the culprit: one child per case
                for item in batch:
                    self._run([item])
                return
            kind = "timeout" if exc.kind == "timeout" else "crash" if exc.kind in ("crash", "memory") else "runtime"
            self._done[batch[0][0]] = SubjectFailed(kind, exc.message, f"{kind}: {message_shape(exc.message)}")
            return
        self.versions = {str(k): str(v) for k, v in dict(out.reply.get("versions") or {}).items()}
        outs = unpack(out.arrays[0], out.reply["shapes"]) if out.arrays else []  # type: ignore[arg-type]
        for (key, _rec, _arrs), entry in zip(batch, out.reply["results"]):  # type: ignore[arg-type]
            if entry["status"] == "ok":
                self._done[key] = outs[int(entry["out"])]
            else:
                kind = KIND_OF_STAGE.get(str(entry["status"]), "runtime")
                msg = str(entry.get("message", ""))
                self._done[key] = SubjectFailed(kind, f"{_stage_words(kind)}: {msg}",
                                                f"{kind}: {message_shape(msg)}")

    def save_case(self, spec: CaseSpec, save_dir: str, stem: str) -> list[str]:
        """Write the artifact, input, weights and a runnable script of ``spec`` under ``save_dir``."""
        x, w, b = subject_inputs(replace(spec, adjoint=False) if spec.adjoint else spec)
        if spec.adjoint:
            b = None
        rec = case_record(x, w, b, spec.kwargs())
        rec["stem"], rec["text"] = stem, spec.format()
        out = self._call_child([rec], [x, w] + ([b] if b is not None else []), save_dir)
        return list(out.reply["results"][0].get("saved", []))  # type: ignore[index]


def _stage_words(kind: str) -> str:
    return {"exporter": "the exporter refused", "converter": "the converter refused",
            "runtime": "the runtime refused to load or run it"}[kind]
