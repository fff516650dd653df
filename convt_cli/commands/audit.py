"""`convt audit` — every transposed convolution and upsampling op in your model: shapes, cost, checkerboard."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from ..context import set_lang
from ..errors import ConvtError
from ..i18n import t
from .common import JsonOption, LangOption, NoColorOption


def register(app: typer.Typer) -> None:
    @app.command("audit")
    def audit(
        model: Annotated[str, typer.Argument(
            metavar="MODEL", help="path/to/file.py:FUNC, package.module:FUNC (no arguments, returns an "
            "nn.Module) or a .onnx file.",
        )],
        shape: Annotated[Optional[str], typer.Option(
            "--shape", help="Input tensor shape, e.g. 1x3x256x256 (an ONNX file: replaces its input's shape).",
        )] = None,
        weights: Annotated[Optional[str], typer.Option(
            "--weights", metavar="FILE", help="A state dict: .pt/.pth (torch.load weights_only=True) or .safetensors.",
        )] = None,
        init_weights: Annotated[bool, typer.Option(
            "--init-weights", help="Judge the weights FUNC() returns (its own init, or weights it loaded).",
        )] = False,
        device: Annotated[str, typer.Option(
            "--device", help="meta (shapes only, no memory; default), cpu or cuda (real run, per-layer time), auto.",
        )] = "meta",
        seed: Annotated[int, typer.Option(
            "--seed", help="Seed for torch before FUNC() runs (its own random init) and for the random input of "
                           "a cpu/cuda run.")] = 0,
        timeout: Annotated[float, typer.Option(
            "--timeout", metavar="SECONDS",
            help="The model's code (or the ONNX reader) runs in a separate process; stop it after this long "
                 "(default 300).")] = 300.0,
        heatmap: Annotated[Optional[str], typer.Option(
            "--heatmap", metavar="FILE", help="Write the phase maps of the layers with real weights as a PNG.",
        )] = None,
        force: Annotated[bool, typer.Option("--force", help="Overwrite an existing --heatmap file.")] = False,
        runtime: Annotated[Optional[str], typer.Option(
            "--runtime", metavar="NAME", help="Also run each transposed convolution (its weights, its real input) "
            "through this toolchain (onnxruntime, openvino, tflite, inductor, …) and judge it against the engine.",
        )] = None,
        json_out: JsonOption = False,
        lang: LangOption = None,
        no_color: NoColorOption = False,
    ) -> None:
        """Audit every transposed convolution and upsampling op in your model: shapes, cost, checkerboard.

        Example: convt audit examples/unet.py:build --shape 1x3x64x64 --weights examples/unet.safetensors
        """
        language = set_lang(lang)
        # lazy for start-up: these load NumPy, which convt --help never does (import numpy ≈ 110 ms here)
        from ..audit.isolate import audit_isolated
        from ..audit.run import make_config

        config = make_config(model, shape=shape, weights=weights, init_weights=init_weights, device=device,
                             seed=seed, timeout=timeout)
        if heatmap is not None:
            from ..pictures.export import check_picture_path

            check_picture_path(heatmap, force, (".png",), "heatmap")
        if runtime is not None:
            from .runtime_audit import check_runtime

            check_runtime(runtime)
        report = audit_isolated(config)
        if runtime is not None:
            from .runtime_audit import attach

            attach(report, runtime, model, config.shape, weights, seed)
        if json_out:
            import json

            from ..audit.text import json_safe

            typer.echo(json_safe(json.dumps(report.to_dict(), indent=2, ensure_ascii=False)))
        else:
            from ..output import make_console
            from ..render.audit import render_audit

            make_console(no_color=no_color).print(render_audit(report, language))
        if heatmap is not None:
            _write_heatmap(report, heatmap, language, force, json_out, no_color)


def _write_heatmap(report, path: str, lang: str, force: bool, json_out: bool, no_color: bool) -> None:
    # lazy for start-up: these load NumPy, which convt --help never does (import numpy ≈ 110 ms here)
    from ..render import audit as _labels  # noqa: F401 - defines the audit.* labels

    layers = [la for la in report.layers if la.phase_gain is not None and len(la.phase_gain.phase_sums) > 1]
    # (a map past 4096 phases is summarised, not kept: there is nothing to draw for it)
    if not layers:
        raise ConvtError(
            f"--heatmap {path}: no transposed convolution with stride > 1 and real weights to draw "
            "(give --weights FILE or --init-weights)",
            zh=f"--heatmap {path}：没有步幅 > 1 且有真实权重的转置卷积可画（请给 --weights FILE 或 --init-weights）",
        )
    from ..audit.text import shown
    from ..pictures.export import check_picture_path, fonts_for, heatmap_picture, report_written
    from ..pictures.heatmap import HeatMap

    maps = []
    for la in layers:
        grid = 100 * la.phase_gain.phase_map  # in % of the layer's full scale, as the text report prints it
        grid = grid.reshape(1, -1) if grid.ndim == 1 else grid.reshape(-1, grid.shape[-1])
        worst = la.phase_gain.worst
        title = t("audit.heatmap_map", lang, name=shown(la.name), worst=f"{worst:.3g}")
        maps.append(HeatMap(grid, title=title))
    fonts, lang, notes = fonts_for(lang)
    target = check_picture_path(path, force, (".png",), "heatmap")
    written = heatmap_picture(target, fonts, maps, title=t("audit.heatmap_title", lang), precision=3,
                              scale_label=t("audit.heatmap_bar", lang), force=force)
    # One rule for every export: "Wrote PATH" on stdout, on stderr when stdout carries JSON.
    report_written(written, notes, lang=lang, no_color=no_color, stderr=json_out)
