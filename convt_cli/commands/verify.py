"""`convt verify` — check the NumPy engine, or anyone's implementation, against PyTorch.

The thin edge: read options, build the case list (convt_cli.verify), run it with a progress bar,
render the report (convt_cli.render.verify) or print JSON. Ctrl-C prints the summary of the cases
that completed and exits 130. numpy, torch and Rich's tables are imported only when the command runs.
"""

from __future__ import annotations

import time
from typing import Annotated, Optional

import typer

from .._compat import UsageError
from ..context import set_lang
from ..errors import ConvtError
from .common import JsonOption, LangOption, NoColorOption

DTYPE_NAMES = ("float64", "float32", "float16", "bfloat16")

# Typer's Rich help keeps single line breaks, so each paragraph is one string.
HELP = "\n\n".join([
    "Check convt's NumPy engine, or your own transposed convolution, against PyTorch.",
    "The default run is a fixed sweep of 654 cases over 1-, 2- and 3-d (batch 1, batch > 1, unbatched; stride, "
    "padding, output_padding, dilation, groups, depthwise, bias): float64 values against PyTorch float64, the "
    "float32 path, the output-size formula, the adjoint identity <conv(a,w),b> = <a,conv_transpose(b,w)>, and "
    "error parity (configurations PyTorch rejects must be rejected, naming the rule). "
    "Exit 0: all pass; 1: a case fails; 2: usage error; 130: interrupted (the summary covers what ran).",
    "--impl contract:",
    "FUNC(x, weight, bias, *, stride, padding, output_padding, dilation, groups) -> array-like",
    "x (N, C_in, *spatial), weight (C_in, C_out/groups, *k) and bias (C_out,) are NumPy float64 arrays "
    "(bias may be None; x is always batched: unbatched cases get N = 1); stride, padding, output_padding and "
    "dilation are tuples with one int per spatial dim; groups is an int. An exception, a wrong shape or a wrong "
    "value is a failed case. With --dtype float32 or float16 the arrays have that NumPy dtype; bfloat16 values "
    "come as float32 arrays.",
    "An --impl function runs in a worker process: a hang (--timeout), a crash, os._exit, a memory blow-up "
    "(the worker's resident memory is limited to what it held after loading + the memory budget, "
    "CONVT_MAX_BYTES) or writing into its input arrays is a failed case, and the sweep "
    "goes on. Failing cases are grouped into clusters, each with the features that explain it and its "
    "smallest failing case, shrunk.",
    "Examples: convt verify  |  convt verify --impl my_convt.py:conv_transpose --dims 2  |  "
    "convt verify --impl my_convt.py:conv_transpose --skip groups,dilation  |  "
    "convt verify --impl tensorflow.nn:conv_transpose --convention tf --dtype float32  |  "
    'convt verify --case "2d x=1x4x5x5 w=4x2x3x3 s=2 p=1 op=1 d=1 g=2 bias"',
])


def _check_case(value: Optional[str]) -> Optional[str]:
    if value is None:
        return value
    # lazy for start-up: these load NumPy, which convt --help never does (import numpy ≈ 110 ms here)
    from ..verify import CaseSpec

    try:
        CaseSpec.parse(value)
    except ConvtError as exc:
        raise typer.BadParameter(exc.message) from None
    return value


def _check_dims(value: Optional[str]) -> Optional[str]:
    if value is None:
        return value
    # lazy for start-up: these load NumPy, which convt --help never does (import numpy ≈ 110 ms here)
    from ..verify import parse_dims

    try:
        parse_dims(value)
    except ConvtError as exc:
        raise typer.BadParameter(exc.message) from None
    return value


def _check_keys(value: Optional[str], option: str) -> Optional[str]:
    if value is None:
        return value
    # lazy for start-up: these load NumPy, which convt --help never does (import numpy ≈ 110 ms here)
    from ..verify import parse_feature_keys

    try:
        parse_feature_keys(value, option)
    except ConvtError as exc:
        raise typer.BadParameter(exc.message) from None
    return value


def _check_only(value: Optional[str]) -> Optional[str]:
    return _check_keys(value, "--only")


def _check_skip(value: Optional[str]) -> Optional[str]:
    return _check_keys(value, "--skip")


def _check_timeout(value: Optional[float]) -> Optional[float]:
    if value is None:
        return value
    if not (value > 0 and value <= 3600):  # NaN fails both
        raise typer.BadParameter(f"{value:g} seconds is not allowed: the timeout must be more than 0 and at "
                                 "most 3600 seconds")
    return value


CONVENTION_NAMES = ("onnx", "keras", "jax", "tf", "mlx", "tinygrad")


def _check_convention(value: Optional[str]) -> Optional[str]:
    if value is None:
        return value
    v = value.strip().lower()
    if v not in CONVENTION_NAMES:
        raise typer.BadParameter(f"{value!r} is not one of {', '.join(CONVENTION_NAMES)}")
    return v


def _check_dtype(value: str) -> str:
    v = value.strip().lower()
    if v not in DTYPE_NAMES:
        raise typer.BadParameter(f"{value!r} is not one of {', '.join(DTYPE_NAMES)}")
    return v


def register(app: typer.Typer) -> None:
    @app.command("verify", help=HELP)
    def verify(
        case: Annotated[Optional[str], typer.Option(
            "--case", callback=_check_case, metavar="SPEC",
            help='Run one case, in the format printed for failures, e.g. '
                 '"2d x=1x4x5x5 w=4x2x3x3 s=2 p=1 op=1 d=1 g=2 bias".')] = None,
        cases: Annotated[Optional[int], typer.Option(
            "--cases", min=1, max=100_000, metavar="N",
            help="A random sweep of N forward cases (plus the adjoint and error-parity checks).")] = None,
        seed: Annotated[Optional[int], typer.Option(
            "--seed", min=0, metavar="S", help="Seed of the random cases (default 0).")] = None,
        dims: Annotated[Optional[str], typer.Option(
            "--dims", callback=_check_dims, metavar="1|2|3",
            help="Only these spatial dims, e.g. 2 or 1,2 (default: 1,2,3).")] = None,
        dtype: Annotated[str, typer.Option(
            "--dtype", callback=_check_dtype, metavar="DTYPE",
            help="float64 (default), float32, float16 or bfloat16: precision of the checked computation; "
                 "low precision uses a tolerance scaled by C_in/groups·∏k, stated in the output.")] = "float64",
        impl: Annotated[Optional[str], typer.Option(
            "--impl", metavar="MODULE:FUNC|FILE.py:FUNC",
            help="Check this function instead of convt's engine (contract above).")] = None,
        only: Annotated[Optional[str], typer.Option(
            "--only", callback=_check_only, metavar="KEYS",
            help="Only cases with every one of these summary feature keys, e.g. groups,bias.")] = None,
        skip: Annotated[Optional[str], typer.Option(
            "--skip", callback=_check_skip, metavar="KEYS",
            help="Leave out cases with any of these summary feature keys, e.g. groups,dilation "
                 "(what your function does not claim to support).")] = None,
        convention: Annotated[Optional[str], typer.Option(
            "--convention", callback=_check_convention, metavar="onnx|keras|jax|tf|mlx|tinygrad",
            help="--impl only: FUNC is called exactly as that framework's own op is called (its argument names, "
                 "array type and layout), so the op itself passes: tensorflow.nn:conv_transpose (tf), "
                 "keras.ops:conv_transpose (keras), jax.lax:conv_transpose (jax), mlx.core:conv_transpose2d "
                 "with --dims 2 (mlx; conv_transpose1d/3d likewise), tinygrad:Tensor.conv_transpose2d "
                 "(tinygrad), and for onnx FUNC(X, W, B, **attributes) wrapping onnxruntime or onnx.reference. "
                 "Ops without a bias (all but onnx and tinygrad) get it added by convt; cases the convention "
                 "cannot express are left out and counted (docs/verify-conventions.md).")] = None,
        timeout: Annotated[Optional[float], typer.Option(
            "--timeout", callback=_check_timeout, metavar="SECONDS",
            help="--impl only: a call that takes longer is stopped and fails (default 10).")] = None,
        fail_fast: Annotated[bool, typer.Option("--fail-fast", help="Stop at the first failing case.")] = False,
        runtime: Annotated[Optional[str], typer.Option(
            "--runtime", metavar="NAME[,NAME…]",
            help="Run each case as a real torch.nn.ConvTransposeNd through a deployment toolchain: onnxruntime, "
                 "openvino, tflite, inductor, export, tvm, executorch (float32; see docs/runtimes.md).")] = None,
        exporter: Annotated[str, typer.Option(
            "--exporter", metavar="dynamo|torchscript", help="--runtime onnxruntime: torch.onnx.export's exporter.")
        ] = "dynamo",
        opset: Annotated[Optional[int], typer.Option(
            "--opset", min=7, max=30, metavar="N", help="--runtime onnxruntime: the ONNX opset (default: the "
            "exporter's).")] = None,
        via: Annotated[Optional[str], typer.Option(
            "--via", metavar="onnx", help="--runtime openvino: convert from the exported ONNX file instead of the "
            "torch module.")] = None,
        save_failing: Annotated[Optional[str], typer.Option(
            "--save-failing", metavar="DIR", help="--runtime: write each failure cluster's smallest case as the "
            "toolchain's artifact (.onnx, .tflite, .pt2…) with a script that runs it.")] = None,
        matrix: Annotated[bool, typer.Option(
            "--matrix", help="--runtime A,B,…: one table of pass rates, runtime × feature.")] = False,
        json_out: JsonOption = False,
        lang: LangOption = None,
        no_color: NoColorOption = False,
    ) -> None:
        """Check convt's NumPy engine, or your own transposed convolution, against PyTorch (see HELP)."""
        start = time.perf_counter()

        lang = set_lang(lang)
        if case is not None and (cases is not None or seed is not None or dims is not None):
            raise UsageError("--case runs one case; it cannot be combined with --cases, --seed or --dims")
        if runtime is not None:
            from . import runtime_verify

            names = runtime_verify.check_options(runtime=runtime, impl=impl, convention=convention, timeout=timeout,
                                                 exporter=exporter, opset=opset, via=via, dtype=dtype,
                                                 save_failing=save_failing)
            runtime_verify.run(names=names, case=case, cases=cases, seed=seed, dims=dims, only=only, skip=skip,
                               exporter=exporter, opset=opset, via=via, save_failing=save_failing, matrix=matrix,
                               fail_fast=fail_fast, json_out=json_out, lang=lang, no_color=no_color, start=start)
        if save_failing is not None or matrix or via is not None or opset is not None or exporter != "dynamo":
            raise UsageError("--exporter, --opset, --via, --save-failing and --matrix apply to --runtime")

        if timeout is not None and impl is None:
            raise UsageError("--timeout applies to --impl (convt's own engine runs in-process)")
        if convention is not None and impl is None:
            raise UsageError("--convention applies to --impl (convt's own engine speaks PyTorch's convention)")
        _sweep(case=case, cases=cases, seed=seed, dims=dims, dtype=dtype, impl=impl, only=only, skip=skip,
               convention=convention,
               timeout=timeout, fail_fast=fail_fast, json_out=json_out, lang=lang, no_color=no_color, start=start)


def _sweep(*, case, cases, seed, dims, dtype, impl, only, skip, convention, timeout, fail_fast, json_out,  # noqa: ANN001
           lang, no_color, start: float) -> None:
    # lazy for start-up: these load NumPy, which convt --help never does (import numpy ≈ 110 ms here)
    from .. import verify as V

    selection = V.Selection(V.parse_feature_keys(only, "--only") if only else (),
                            V.parse_feature_keys(skip, "--skip") if skip else (), convention)
    dim_tuple = V.parse_dims(dims) if dims else V.ALL_DIMS
    sweep_seed = V.DEFAULT_SEED if seed is None else seed
    outside = [k for k in selection.only if k.startswith("dims_") and int(k[-1]) not in dim_tuple]
    if outside and case is None:
        raise UsageError(f"--only {','.join(selection.only)} leaves no case: {outside[0]} is not among the dims "
                         f"swept ({','.join(map(str, dim_tuple))})")
    left_out = 0
    if case is not None:
        specs = [V.CaseSpec.parse(case)]
        specs[0].check_budget()
        if not selection.keeps(specs[0]):
            specs, left_out = [], 1
    elif cases is not None:
        specs = V.random_sweep(cases, sweep_seed, dim_tuple, impl is None, selection)
        if selection:
            left_out = sum(not selection.keeps(c) for c in V.random_sweep(cases, sweep_seed, dim_tuple, False))
    else:
        specs = V.default_sweep(sweep_seed, dim_tuple, impl is None, selection)
        if selection:
            left_out = sum(not selection.keeps(c) for c in V.default_sweep(sweep_seed, dim_tuple, False))

    invalid = set(V.error_cases(dim_tuple))
    if case is None and selection and not any(not c.adjoint and c not in invalid for c in specs):
        raise UsageError(f"--only/--skip leave no forward case to check (--only {','.join(selection.only) or '-'}, "
                         f"--skip {','.join(selection.skip) or '-'}): no random case of the sweep has that mix")

    worker = None
    display = "engine"
    if impl is not None:
        worker = V.WorkerSubject(impl, V.DEFAULT_TIMEOUT_S if timeout is None else timeout, convention)
        worker.spawn()  # loads the target while this process imports torch
    try:
        verifier = V.Verifier(worker, dtype=dtype, is_engine=impl is None)  # imports torch
        if worker is not None:
            try:
                display = worker.handshake()
            except V.WorkerLoadError as exc:
                raise typer.BadParameter(str(exc), param_hint="'--impl'") from None
        report = V.Report(
            subject=display, dtype=dtype, planned=len(specs), seed=None if case is not None else sweep_seed,
            dims=(V.CaseSpec.parse(case).ndim,) if case is not None else dim_tuple,
            requested_cases=cases, single_case=case is not None, float32_path=verifier.float32_path,
            only=selection.only, skip=selection.skip, convention=convention, left_out=left_out,
            timeout_s=None if worker is None else worker.timeout,
            memory_limit=None if worker is None else worker.memory_limit,
        )
        _run_and_report(V, specs, verifier, report, impl=impl, convention=convention, dtype=dtype,
                        fail_fast=fail_fast,
                        json_out=json_out, lang=lang, no_color=no_color, start=start)
    finally:
        if worker is not None:
            worker.close()


def _run_and_report(V, specs, verifier, report, *, impl, convention, dtype, fail_fast, json_out, lang, no_color,  # noqa: ANN001
                    start: float) -> None:
    def reproduce(spec: V.CaseSpec) -> str:
        return V.reproduce_command(spec, impl, dtype, convention)

    # lazy for start-up: these load NumPy, which convt --help never does (import numpy ≈ 110 ms here)
    from ..output import make_console
    from ..render import verify as R

    console = make_console(no_color=no_color)
    err_console = make_console(no_color=no_color, stderr=True)
    show_progress = not json_out and err_console.is_terminal and len(specs) > 1
    try:
        if show_progress:
            with R.make_progress(err_console, lang) as progress:
                task = progress.add_task("verify", total=len(specs))
                V.run_sweep(specs, verifier, report, fail_fast, lambda: progress.advance(task))
        else:
            V.run_sweep(specs, verifier, report, fail_fast, None)
        if not report.single_case and report.diagnosis.clusters:
            V.shrink_clusters(report.diagnosis, lambda spec: verifier.run_case(spec, keep_arrays=True))
    except KeyboardInterrupt:
        report.interrupted = True
    report.elapsed_s = time.perf_counter() - start

    if json_out:
        import json

        typer.echo(json.dumps(report.as_json(reproduce), indent=2, allow_nan=False))
    else:
        R.render_report(console, report, reproduce, lang, torch_version=str(verifier.torch.__version__))
    if report.interrupted:
        raise typer.Exit(130)
    raise typer.Exit(0 if report.ok else 1)
