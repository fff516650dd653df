"""`convt port` — one transposed convolution in another framework, with every argument, and proven."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from ..context import set_lang
from ..errors import ConvtError
from .common import JsonOption, LangOption, NoColorOption

PACKAGES = {"torch": ("torch", "torch"), "onnx": ("onnxruntime", "onnx onnxruntime"), "jax": ("jax", "jax"),
            "flax": ("flax", "flax"), "keras": ("keras", "keras jax"), "tf": ("tensorflow", "tensorflow"),
            "mlx": ("mlx", "mlx")}


def run_check(report, seed: int) -> tuple[float | None, str]:  # noqa: ANN001 - a PortReport
    """Run the emitted snippet with the real framework: max |Δ| against the engine, or (None, package)."""
    # lazy for start-up: these load NumPy, which convt --help never does (import numpy ≈ 110 ms here)
    import importlib.util

    import numpy as np

    from ..port.emit import snippet
    from ..port.plan import proof_data, proof_geometry
    from ..port.run import run

    target = report.plan.target
    module, package = PACKAGES[target]
    needed = [module] + (["onnx"] if target == "onnx" else [])
    if any(importlib.util.find_spec(name) is None for name in needed):
        return None, package
    code = snippet(report.plan, report.layer.text, report.layer.framework)
    g, _ = proof_geometry(report.layer.geometry, reduce=False)  # the snippet has the layer's channels
    x, w, b = proof_data(g, seed)
    expected = run(report.layer.framework, report.layer.args, x, w, b, groups=g.groups)
    namespace: dict = {}
    exec(compile(code, f"<convt port --to {target}>", "exec"), namespace)  # noqa: S102 - our own snippet
    got = np.asarray(namespace["convt_port"](x.astype(np.float32), w.astype(np.float32),
                                             None if b is None else b.astype(np.float32)))
    if got.shape != expected.shape:
        raise ConvtError(f"the {target} snippet returned shape {list(got.shape)}, expected {list(expected.shape)}",
                         zh=f"{target} 代码返回形状 {list(got.shape)}，应为 {list(expected.shape)}")
    return float(np.abs(got - expected).max()), package


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
        check: Annotated[bool, typer.Option("--check", help="Run the snippet with the real target framework and "
                                            "print max |Δ| against the engine.")] = False,
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
        report = port_report(parsed, target, seed)
        if emit is not None:
            from ..port.emit import snippet

            typer.echo(snippet(report.plan, parsed.text, parsed.framework), nl=False)
            return
        checked = run_check(report, seed) if check and report.plan.status != "impossible" else None
        if json_out:
            _print_json(report, checked)
            return
        from ..output import make_console
        from ..render.port import render_check, render_port

        console = make_console(no_color=no_color)
        console.print(render_port(report, lang_code, console.width))
        if checked is not None:
            console.print(render_check(target, seed, checked[0], checked[1], lang_code, console.width))


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
        "check": None if checked is None else {"max_abs_diff": checked[0], "package": checked[1]},
        "notes": [say(n) for n in report.notes],
    }
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2))
