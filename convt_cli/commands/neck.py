"""`convt neck` — SAM 3's necks (image, video, 3.1), ViTDet-H's pyramid and SAM 3's mask-decoder upscaling,
layer by layer: shapes, parameters, FLOPs, memory and time."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from ..context import set_lang
from ..i18n import t
from .common import JsonOption, LangOption, NoColorOption


def register(app: typer.Typer) -> None:
    @app.command("neck")
    def neck(
        shape: Annotated[Optional[str], typer.Option(
            "--shape", help="Input feature map N×C×H×W: 1x1280x64x64, 1,1280,64,64 or '(1, 1280, 64, 64)'.",
        )] = None,
        preset: Annotated[Optional[str], typer.Option(
            "--preset", help="What to build, as upstream builds it: sam3 (the image model's single neck, default), "
            "sam3-video (dual neck), sam3.1 (triple neck), vitdet-h (detectron2's ViTDet-H pyramid, 1×1280×64×64) "
            "or sam3-mask-decoder (the tracker's mask-decoder upscaling). --shape replaces its input.",
        )] = None,
        d_model: Annotated[int, typer.Option("--d-model", help="Output channels of every branch.")] = 256,
        scales: Annotated[Optional[str], typer.Option(
            "--scales", help="Scale factors, from 4, 2, 1 and 0.5 (as upstream; default: the preset's).",
            show_default=False,
        )] = None,
        dual: Annotated[Optional[bool], typer.Option(
            "--dual/--no-dual", help="SAM 3's dual neck (the video model's: convs + the SAM 2 twin sam2_convs) or "
            "single neck (the image model's); default: the preset's.",
        )] = None,
        scalp: Annotated[Optional[int], typer.Option(
            "--scalp", help="Levels dropped downstream, lowest resolution first (default: the preset's — sam3 1, "
            "sam3.1 0 — while it drops the 0.5 level).", show_default=False,
        )] = None,
        weights: Annotated[Optional[str], typer.Option(
            "--weights", help="A real checkpoint (.pt/.pth read with torch.load(weights_only=True), or "
            ".safetensors): upstream's keys mapped onto the neck, missing/unexpected keys listed, the phase-gain "
            "index of the trained deconvolutions.", show_default=False,
        )] = None,
        seed: Annotated[int, typer.Option("--seed", help="Seed for the random weights and input.")] = 0,
        device: Annotated[str, typer.Option(
            "--device", help="auto (CUDA when available, else CPU), cpu, cuda or meta (shapes only).",
        )] = "auto",
        dtype: Annotated[str, typer.Option("--dtype", help="float32, float16 or bfloat16.")] = "float32",
        verify: Annotated[bool, typer.Option(
            "--verify", help="Check every ConvTranspose2d output against the NumPy engine; exit 1 on a mismatch.",
        )] = False,
        json_out: JsonOption = False,
        lang: LangOption = None,
        no_color: NoColorOption = False,
    ) -> None:
        """Build a neck as upstream builds it (SAM 3's by default), run it, and show what every layer does.

        Example: convt neck --preset sam3.1 --device meta   (or --preset sam3-video, vitdet-h, --shape 1x1280x64x64)
        """
        language = set_lang(lang)
        # lazy for start-up: these load NumPy, which convt --help never does (import numpy ≈ 110 ms here)
        from ..neck import make_config, plan_neck

        config = make_config(shape=shape, preset=preset, d_model=d_model, scales=scales, dual=dual, seed=seed,
                             device=device, dtype=dtype, verify=verify, scalp=scalp, weights=weights)
        plan = plan_neck(config, verify=verify)  # shape and size errors surface before torch is imported
        try:
            trace = _run(config, plan, verify, language, no_color, json_out)
        except KeyboardInterrupt:  # before the first layer: still a report (the JSON object is promised)
            from ..neck import NeckTrace

            trace = NeckTrace.interrupted_early(config, plan.memory, len(plan.layers))
        _report(trace, language, no_color, json_out)
        if trace.interrupted:
            typer.echo(t("interrupted", language), err=True)
            raise typer.Exit(130)
        if trace.verify_ok is False:
            raise typer.Exit(1)


def _run(config, plan, verify: bool, lang: str, no_color: bool, json_out: bool, err=None):
    """Trace with a progress display on stderr when it is a terminal and the run computes values."""
    # lazy for start-up: these load NumPy, which convt --help never does (import numpy ≈ 110 ms here)
    from .. import neck as neck_lib
    from ..output import make_console

    err = err or make_console(no_color=no_color, stderr=True)
    if config.device == "meta" or not err.is_terminal:
        return neck_lib.trace_neck(config, verify=verify, plan=plan)

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from ..render import neck as _labels  # noqa: F401 - defines the neck.* labels

    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=err, transient=True) as bar:
        task = bar.add_task(t("neck.preparing", lang), total=len(plan.layers))

        def progress(done: int, total: int, path: str) -> None:
            bar.update(task, completed=done, total=total, description=t("neck.progress", lang, path=path))

        return neck_lib.trace_neck(config, verify=verify, plan=plan, progress=progress)


def _report(trace, lang: str, no_color: bool, json_out: bool) -> None:
    if json_out:
        import json

        typer.echo(json.dumps(trace.to_dict(), indent=2, ensure_ascii=False))
        return
    # lazy for start-up: these load NumPy, which convt --help never does (import numpy ≈ 110 ms here)
    from ..output import make_console
    from ..render.neck import render_trace

    make_console(no_color=no_color).print(render_trace(trace, lang))
