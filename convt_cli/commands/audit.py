"""`convt audit` — every transposed convolution and upsampling op in your model: shapes, cost, checkerboard."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

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
        seed: Annotated[int, typer.Option("--seed", help="Seed for the random input of a cpu/cuda run.")] = 0,
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
        from ..cli import set_lang

        language = set_lang(lang)
        from ..audit.run import audit as run_audit
        from ..audit.run import make_config

        config = make_config(model, shape=shape, weights=weights, init_weights=init_weights, device=device,
                             seed=seed)
        if heatmap is not None:
            from ..pictures.export import check_picture_path

            check_picture_path(heatmap, force, (".png",), "heatmap")
        if runtime is not None:
            from .runtime_audit import check_runtime

            check_runtime(runtime)
        report = run_audit(config)
        if runtime is not None:
            from .runtime_audit import attach

            attach(report, runtime, model, config.shape, weights, seed)
        if json_out:
            import json

            typer.echo(json.dumps(report.to_dict(), indent=2, ensure_ascii=False))
        else:
            from ..output import make_console
            from ..render.audit import render_audit

            make_console(no_color=no_color).print(render_audit(report, language))
        if heatmap is not None:
            _write_heatmap(report, heatmap, language, force)


def _write_heatmap(report, path: str, lang: str, force: bool) -> None:
    from ..errors import ConvtError
    from ..i18n import t
    from ..render import audit as _labels  # noqa: F401 - defines the audit.* labels

    layers = [la for la in report.layers if la.phase_gain is not None and len(la.phase_gain.phase_sums) > 1]
    if not layers:
        raise ConvtError(
            f"--heatmap {path}: no transposed convolution with stride > 1 and real weights to draw "
            "(give --weights FILE or --init-weights)",
            zh=f"--heatmap {path}：没有步幅 > 1 且有真实权重的转置卷积可画（请给 --weights FILE 或 --init-weights）",
        )
    from ..pictures.export import check_picture_path, fonts_for, heatmap_picture
    from ..pictures.heatmap import HeatMap

    maps = []
    for la in layers:
        grid = la.phase_gain.phase_map
        grid = grid.reshape(1, -1) if grid.ndim == 1 else grid.reshape(-1, grid.shape[-1])
        worst = la.phase_gain.worst
        title = t("audit.heatmap_map", lang, name=la.name, worst="∞" if worst == float("inf") else f"{worst:.3g}")
        maps.append(HeatMap(grid, title=title))
    fonts, lang, _notes = fonts_for(lang)
    target = check_picture_path(path, force, (".png",), "heatmap")
    written = heatmap_picture(target, fonts, maps, title=t("audit.heatmap_title", lang), precision=3)
    typer.echo(f"{written}", err=True)
