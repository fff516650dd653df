"""``convt audit MODEL --runtime NAME``: the CLI edge of :mod:`convt_cli.runtimes.layers` — check the
runtime is installed before any work, then attach each layer's verdict to the audit report."""

from __future__ import annotations

from .._compat import UsageError


def check_runtime(name: str) -> None:
    from ..errors import ConvtError
    from ..runtimes import check_installed, parse_runtimes

    try:
        names = parse_runtimes(name)
    except ConvtError as exc:
        raise UsageError(exc.message) from None
    if len(names) != 1:
        raise UsageError("convt audit --runtime takes one runtime")
    check_installed(names[0])


def attach(report, name: str, model: str, shape, weights: str | None, seed: int) -> None:  # noqa: ANN001
    from ..runtimes.layers import LAYER_TOLERANCE, check_layers, load_layers

    name = name.strip().lower()
    layers = load_layers(model, shape, weights, seed)
    verdicts, versions = check_layers(name, layers, {"exporter": "dynamo"})
    by_name = {v.name: v for v in verdicts}
    for record in report.layers:
        v = by_name.get(record.name)
        if v is not None and record.is_conv:
            record.runtime = {"runtime": name, **v.as_json()}
    report.runtime = {"name": name, "label": name + (", dynamo exporter" if name == "onnxruntime" else ""),
                      "versions": versions, "tolerance": LAYER_TOLERANCE.formula(),
                      "layers_checked": sum(v.verdict != "skipped" for v in verdicts),
                      "failed": sum(v.verdict not in ("pass", "skipped") for v in verdicts)}
