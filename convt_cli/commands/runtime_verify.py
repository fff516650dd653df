"""``convt verify --runtime NAME[,NAME…]``: the verify sweep through real deployment toolchains.

The CLI edge of :mod:`convt_cli.runtimes`: check the runtimes are installed (before any work), build the
case list with verify's own sweep, say the estimate, run each runtime's cases (progress bar on a
terminal), diagnose and shrink with verify's diagnosis, write ``--save-failing`` artifacts, and render
verify's report per runtime, or the ``--matrix`` table; ``--json`` prints the same as JSON.
"""

from __future__ import annotations

import os
import shlex
import shutil
import tempfile
import time
from pathlib import Path

import typer

from .._compat import UsageError

SHRINK_SECONDS = 90.0  # shrinking re-runs cases one child at a time: slower than the engine's


def check_options(*, runtime: str, impl, convention, timeout, exporter, opset, via, dtype,  # noqa: ANN001
                  save_failing) -> tuple[str, ...]:
    """Usage and installation checks, before any work; the runtime names."""
    from ..errors import ConvtError
    from ..runtimes import EXPORTERS, check_installed, parse_runtimes

    if impl is not None or convention is not None:
        raise UsageError("--runtime checks a toolchain; it cannot be combined with --impl or --convention")
    if timeout is not None:
        raise UsageError("--timeout applies to --impl; a --runtime case has its own bound")
    if dtype not in ("float64", "float32"):
        raise UsageError(f"--runtime runs float32 models; --dtype {dtype} is not supported there")
    if exporter not in EXPORTERS:
        raise UsageError(f"--exporter {exporter!r} is not one of {', '.join(EXPORTERS)}")
    if via not in (None, "onnx"):
        raise UsageError(f"--via {via!r} must be onnx")
    try:
        names = parse_runtimes(runtime)
    except ConvtError as exc:
        raise UsageError(exc.message) from None
    if via is not None and names != ("openvino",):
        raise UsageError("--via onnx applies to --runtime openvino")
    if opset is not None and not ({"onnxruntime"} & set(names) or via == "onnx"):
        raise UsageError("--opset applies to the ONNX paths (--runtime onnxruntime, or openvino --via onnx)")
    if save_failing is not None:
        target = Path(save_failing)
        if target.exists() and (not target.is_dir() or any(target.iterdir())):
            raise UsageError(f"--save-failing {save_failing!r} must be a new or empty directory")
    for name in names:
        check_installed(name, exporter=exporter, via_onnx=via == "onnx")
    return names


def options_words(name: str, options: dict) -> str:
    if name == "onnxruntime" or options.get("via") == "onnx":
        opset = f", opset {options['opset']}" if options.get("opset") else ""
        via = " via ONNX" if name == "openvino" else ""
        return f"{name}{via} ({options.get('exporter', 'dynamo')} exporter{opset})"
    return name


def reproduce_command(name: str, options: dict, spec) -> str:  # noqa: ANN001
    parts = ["convt", "verify", "--runtime", name]
    if name == "onnxruntime" or options.get("via") == "onnx":
        parts += ["--exporter", options.get("exporter", "dynamo")]
        if options.get("opset"):
            parts += ["--opset", str(options["opset"])]
    if options.get("via"):
        parts += ["--via", options["via"]]
    return " ".join(parts + ["--case", shlex.quote(spec.format())])


def run(*, names: tuple[str, ...], case, cases, seed, dims, only, skip, exporter, opset, via,  # noqa: ANN001
        save_failing, matrix: bool, fail_fast: bool, json_out: bool, lang: str, no_color: bool, start: float) -> None:
    from .. import verify as V
    from ..output import make_console
    from ..render import runtimes as RR
    from ..render import verify as R
    from ..runtimes import default_cases, estimate_s
    from ..runtimes.subject import RuntimeSubject

    selection = V.Selection(V.parse_feature_keys(only, "--only") if only else (),
                            V.parse_feature_keys(skip, "--skip") if skip else ())
    dim_tuple = V.parse_dims(dims) if dims else V.ALL_DIMS
    sweep_seed = V.DEFAULT_SEED if seed is None else seed
    options = {"exporter": exporter, "opset": opset, "via": via}
    console = make_console(no_color=no_color)
    err_console = make_console(no_color=no_color, stderr=True)
    plans = {}
    for name in names:
        if case is not None:
            specs = [V.CaseSpec.parse(case)]
            specs[0].check_budget()
            if specs[0].adjoint:
                raise UsageError("--runtime checks forward cases; drop 'adjoint' from --case")
        elif cases is not None:
            specs = [s for s in V.random_sweep(cases, sweep_seed, dim_tuple, False, selection) if not s.adjoint]
        else:
            n = max(default_cases(n_, exporter) for n_ in names) if matrix else default_cases(name, exporter)
            specs = [s for s in V.default_sweep(sweep_seed, dim_tuple, False, selection, forward=n)
                     if not s.adjoint]
        specs = [s for s in specs if selection.keeps(s)] if case is None else specs
        if not specs:
            raise UsageError("--only/--skip leave no case to run through the runtime")
        plans[name] = specs
    total = sum(estimate_s(n, len(s), exporter) for n, s in plans.items())
    if not json_out and err_console.is_terminal:
        err_console.print(RR.estimate_line(plans, total, lang), style="dim")

    reports, extra = {}, {}
    staging = None
    if save_failing is not None:
        parent = Path(save_failing).resolve().parent
        parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".convt-save-", dir=parent))
    interrupted = False
    try:
        for name, specs in plans.items():
            subject = RuntimeSubject(name, options)
            subject.plan(specs)
            verifier = V.Verifier(subject, dtype="float32", is_engine=False)
            report = V.Report(subject=options_words(name, options), dtype="float32", planned=len(specs),
                              seed=None if case is not None else sweep_seed,
                              dims=(specs[0].ndim,) if case is not None else dim_tuple, requested_cases=cases,
                              single_case=case is not None, only=selection.only, skip=selection.skip)
            reports[name] = report
            t0 = time.perf_counter()
            try:
                if not json_out and err_console.is_terminal and len(specs) > 1:
                    with R.make_progress(err_console, lang) as progress:
                        task = progress.add_task("verify", total=len(specs))
                        V.run_sweep(specs, verifier, report, fail_fast, lambda t=task, p=progress: p.advance(t))
                else:
                    V.run_sweep(specs, verifier, report, fail_fast, None)
                if not report.single_case and report.diagnosis.clusters:
                    V.shrink_clusters(report.diagnosis, _shrink_runner(subject, verifier), seconds=SHRINK_SECONDS)
            except KeyboardInterrupt:
                report.interrupted = interrupted = True
            report.elapsed_s = time.perf_counter() - t0
            saved = {}
            if staging is not None and not interrupted:
                saved = _save(subject, report, staging, name)
            extra[name] = {"versions": subject.versions, "options": options_words(name, options),
                           "batches": subject.batches, "artifacts": saved}
            if interrupted:
                break
        if staging is not None and not interrupted:
            target = Path(save_failing)
            if target.exists():
                target.rmdir()
            os.replace(staging, target)
            staging = None
    finally:
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)

    def repro(name: str):  # noqa: ANN202
        return lambda spec: reproduce_command(name, options, spec)

    if json_out:
        import json

        if len(reports) == 1 and not matrix:
            ((name, report),) = reports.items()
            doc = report.as_json(repro(name))
            doc["runtime"] = {"name": name, **extra[name]}
        else:
            from ..runtimes.matrix import matrix_json

            doc = matrix_json(reports, extra)
            for run_doc, (name, report) in zip(doc["runs"], reports.items()):  # type: ignore[arg-type]
                run_doc["report"] = report.as_json(repro(name))
        typer.echo(json.dumps(doc, indent=2, allow_nan=False))
    else:
        import torch

        for i, (name, report) in enumerate(reports.items()):
            if matrix:
                break
            if i:
                console.print()
            R.render_report(console, report, repro(name), lang, torch_version=str(torch.__version__))
            RR.render_extra(console, name, extra[name], save_failing, lang)
        if matrix:
            RR.render_matrix(console, reports, extra, repro, lang)
    if interrupted:
        raise typer.Exit(130)
    raise typer.Exit(0 if all(r.ok for r in reports.values()) else 1)


def _shrink_runner(subject, verifier):  # noqa: ANN001, ANN202
    """Shrinking's re-runs: a candidate not yet run goes to a child together with the candidates one step
    smaller than it (the next round's, if it is accepted), as many as about 20 s of that toolchain's work,
    so that a round costs one child start rather than one per case."""
    from ..verify.diagnosis import _valid, smaller

    ahead = max(1, min(subject.info.batch - 1, int(20.0 / subject.info.cost_s)))

    def run(spec):  # noqa: ANN001, ANN202
        if not subject.has(spec):
            subject.prefetch([c for c in smaller(spec) if _valid(c)][:ahead])
        return verifier.run_case(spec, keep_arrays=True)

    return run


def _save(subject, report, staging: Path, name: str) -> dict[str, list[str]]:  # noqa: ANN001
    """Each cluster's smallest case → its artifact + script under ``staging/<runtime>/``."""
    out: dict[str, list[str]] = {}
    for i, cluster in enumerate(report.diagnosis.clusters, 1):
        if cluster.smallest is None:
            continue
        stem = f"cluster{i}-{cluster.kind}"
        folder = staging / name
        try:
            files = subject.save_case(cluster.smallest.spec, str(folder), stem)
        except Exception as exc:  # noqa: BLE001 - the toolchain died while saving: say so, go on
            folder.mkdir(parents=True, exist_ok=True)
            (folder / f"{stem}.error.txt").write_text(f"saving failed: {exc}\n", encoding="utf-8")
            files = [f"{stem}.error.txt"]
        out[stem] = [f"{name}/{f}" for f in files]
    return out
