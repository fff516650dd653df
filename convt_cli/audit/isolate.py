"""The audit runs in convt's sandbox: the model's code and the files' contents never run in convt's process.

:func:`audit_isolated` (convt's side) sends the checked options to :func:`child_audit`, which runs in
``python -m convt_cli.sandbox.child_main`` under a time limit (``--timeout``) and a limit on the
resident memory it adds once the model's module is imported (convt's memory budget). The child
imports the builder's file, builds the model, reads ``--weights``, traces the forward pass and sends
back the plain records as JSON; whatever the model prints goes to the child's stderr, never shown.
An ONNX file is read there too (its parsers are C++). A hang, an ``exit()``, a crash or too much
memory becomes one :class:`ConvtError` sentence naming it.
"""

from __future__ import annotations

from ..errors import ConvtError, MemoryBudgetError
from .records import AuditReport, from_plain, to_plain
from .run import AuditConfig, make_config


def config_to_plain(config: AuditConfig) -> dict:
    return {"model": config.model.text, "shape": None if config.shape is None else list(config.shape),
            "weights": config.weights, "init_weights": config.init_weights, "device": config.device,
            "seed": config.seed}


def child_audit(request: dict, arrays: list) -> tuple[dict, list]:
    """Runs in the sandbox's child: the audit, or the one sentence that stopped it."""
    from ..sandbox.child import loaded
    from .run import audit

    try:
        shape = request["shape"]
        config = make_config(request["model"], None if shape is None else "x".join(map(str, shape)),
                             request["weights"], request["init_weights"], request["device"], request["seed"])
        report = audit(config, on_loaded=loaded)
    except ConvtError as exc:
        return {"error": exc.message, "zh": exc.zh, "budget": isinstance(exc, MemoryBudgetError)}, []
    except MemoryError:
        return {"error": "the audit ran out of memory (MemoryError)", "zh": "审计内存不足（MemoryError）",
                "budget": True}, []
    return {"report": to_plain(report, per_channel=False)}, []


def audit_isolated(config: AuditConfig) -> AuditReport:
    """:func:`convt_cli.audit.run.audit` in the sandbox; every failure one :class:`ConvtError`."""
    from ..sandbox import SandboxFailure, run_isolated
    from .model import check_weights_size
    from .text import shown

    if config.weights is not None:
        check_weights_size(config.weights)  # before anything starts
    text = config.model.text
    what = ("reading the ONNX file" if config.model.kind == "onnx"
            else f"the model code ({config.model.function}() and its forward pass)")
    try:
        outcome = run_isolated("convt_cli.audit.isolate:child_audit", config_to_plain(config),
                               timeout=config.timeout, what=what)
    except SandboxFailure as failure:
        message = shown(failure.message)
        hint = hint_zh = ""
        if failure.kind == "timeout":
            hint, hint_zh = "; give it longer with --timeout SECONDS", "；可用 --timeout 秒数 放宽时限"
        error = MemoryBudgetError if failure.kind == "memory" else ConvtError
        raise error(f"MODEL {text!r}: {message}{hint}", zh=f"MODEL {text!r}：{message}{hint_zh}") from None
    reply = outcome.reply
    if "error" in reply:
        error = MemoryBudgetError if reply.get("budget") else ConvtError
        raise error(str(reply["error"]), zh=str(reply["zh"]) if reply.get("zh") else None)
    try:
        return from_plain(reply["report"])  # type: ignore[arg-type]
    except (KeyError, TypeError, ValueError) as exc:
        raise ConvtError(f"MODEL {text!r}: the sandboxed audit answered something unreadable ({exc})") from None
