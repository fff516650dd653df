"""`convt port` — one transposed convolution in another framework, with every argument, and proven."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from ..context import set_lang
from ..errors import ConvtError
from .common import JsonOption, LangOption, NoColorOption


def register(app: typer.Typer) -> None:
    @app.command("port", short_help="A transposed convolution in another framework: every argument, the weight "
                 "conversion, the extra op, and a proof.")
    def port(
        layer: Annotated[str, typer.Argument(
            metavar="LAYER", help="The layer as written: \"ConvTranspose2d(1024, 512, kernel_size=(2, 2), stride=(2, "
            "2))\", or with --from another framework's layer or call.", show_default=False)],
        to: Annotated[str, typer.Option("--to", help="Target: onnx, jax, flax, keras, tf, mlx or torch.",
                                        show_default=False)] = "onnx",
        source: Annotated[str, typer.Option("--from", help="The framework LAYER is written in.")] = "torch",
        size: Annotated[Optional[str], typer.Option("--size", help="Input spatial size for the formulas and the "
                                                    "proof: 8 or 8x6 (default 8).", show_default=False)] = None,
        in_channels: Annotated[Optional[int], typer.Option("--in-channels", min=1, help="C_in, when LAYER does "
                                                           "not say (Keras, Flax, ONNX).", show_default=False)] = None,
        out_channels: Annotated[Optional[int], typer.Option("--out-channels", min=1, help="C_out for ONNX "
                                                            "attributes.", show_default=False)] = None,
        weight_shape: Annotated[Optional[str], typer.Option("--weight-shape", help="The weight's shape in the "
                                                            "source framework's layout (JAX, TF, MLX calls), e.g. "
                                                            "3x3x64x32.", show_default=False)] = None,
        emit: Annotated[Optional[str], typer.Option("--emit", help="Print only a self-contained snippet: python.",
                                                    show_default=False)] = None,
        check: Annotated[bool, typer.Option("--check", help="Run the snippet with the real target framework (in a "
                                            "separate process, bounded in time and memory) and print max |Δ| against "
                                            "the engine, ✓ or ✗; exit 1 when it fails.")] = False,
        seed: Annotated[int, typer.Option("--seed", min=0, help="Seed of the proof's random data.")] = 0,
        lang: LangOption = None,
        json_out: JsonOption = False,
        no_color: NoColorOption = False,
    ) -> None:
        """The same transposed convolution in another framework: the target's call with every argument, the
        weight conversion as code, whether the port is exact, needs one extra op (a slice or a pad: which,
        where) or is impossible (and the closest construction), the output size in both conventions, and a
        proof: both computed on the NumPy engine on seeded random data, max |Δ|.

        Examples: convt port "ConvTranspose2d(1024, 512, kernel_size=(2, 2), stride=(2, 2))" --to jax ·
        convt port "Conv2DTranspose(64, 3, strides=2, padding='same')" --from keras --to torch ·
        convt port "ConvTranspose2d(8, 8, 3, stride=2, padding=1)" --to keras --emit python
        """
        # lazy for start-up: these load NumPy, which convt --help never does (import numpy ≈ 110 ms here)
        from ..parsing import parse_size_list
        from ..port.layer import check_framework, parse_layer
        from ..port.report import port_report

        lang_code = set_lang(lang)
        target = check_framework(to, "--to")
        if emit is not None and emit.lower() != "python":
            raise typer.BadParameter(f"{emit!r}: the only snippet language is python", param_hint="'--emit'")
        sizes = None if size is None else parse_size_list(size, "size")
        shape = None if weight_shape is None else parse_size_list(weight_shape, "weight shape")
        parsed = parse_layer(layer, source, size=sizes, in_channels=in_channels, out_channels=out_channels,
                             weight_shape=shape)
        if check and emit is None:
            from ..port.check import require

            require(target)  # before any work: the framework the check needs, or the extra to install
        report = port_report(parsed, target, seed)
        if emit is not None:
            from ..port.emit import snippet

            typer.echo(snippet(report.plan, parsed.framework), nl=False)
            return
        checked = None
        if check and report.plan.status != "impossible":
            from ..port.check import run_check

            checked = run_check(report, seed)
        if json_out:
            _print_json(report, checked)
            _fail_check(checked)
            return
        from ..output import make_console
        from ..render.port import render_check, render_port

        console = make_console(no_color=no_color)
        console.print(render_port(report, lang_code, console.width))
        if checked is not None:
            console.print(render_check(checked, lang_code, console.width))
        _fail_check(checked)


def _fail_check(checked) -> None:  # noqa: ANN001 - a port.check.CheckResult or None
    """A failed check is the command's failure: one Error line after the report, exit 1."""
    if checked is None or checked.ok:
        return

    if checked.max_abs_diff is None:
        raise ConvtError(f"--check failed: the {checked.target} snippet did not run ({checked.failure})",
                         zh=f"--check 失败：{checked.target} 代码未能运行（{checked.failure}）")
    raise ConvtError(f"--check failed: the {checked.target} snippet differs from the engine by "
                     f"{checked.max_abs_diff:.3g}, more than the float32 tolerance {checked.tolerance:.2g}",
                     zh=f"--check 失败：{checked.target} 代码与引擎相差 {checked.max_abs_diff:.3g}，"
                     f"超过 float32 容差 {checked.tolerance:.2g}")


def _print_json(report, checked) -> None:  # noqa: ANN001 - a PortReport
    # lazy for start-up: convt --help loads none of these (hoisted, they cost it ≈ 15 ms of CPU, measured)
    import json

    from ..port.texts import code_line, say

    p, g = report.plan, report.layer.geometry
    data = {
        "source": {"framework": report.layer.framework, "text": report.layer.text, "input_size": list(g.size),
                   "output_size": list(g.out), "crop_begin": list(g.begin), "crop_end": list(g.end)},
        "target": p.target, "status": p.status, "call": report.target_call or None,
        "weights": [code_line(line) for line in report.weight_code],
        "residual": [list(r) for r in p.residual], "kernel_expanded": p.expand is not None,
        "reason": say(p.reason) if p.reason else None, "closest": say(p.closest) if p.closest else None,
        "sizes": {"source": list(report.source_sizes), "target": list(report.target_sizes)},
        "proof": None if report.proof is None else {"seed": report.proof.seed,
                                                    "max_abs_diff": report.proof.max_abs_diff},
        "check": None if checked is None else {"max_abs_diff": checked.max_abs_diff, "tolerance": checked.tolerance,
                                               "ok": checked.ok, "failure": checked.failure or None},
        "notes": [say(n) for n in report.notes],
    }
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2))
