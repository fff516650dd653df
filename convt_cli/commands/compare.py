"""`convt compare` — nearest, bilinear and ConvTranspose upsampling of one input, side by side."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from ..context import set_lang
from ..errors import ConvtError
from .common import JsonOption, LangOption, NoColorOption


def register(app: typer.Typer) -> None:
    @app.command("compare", short_help="Nearest, bilinear and ConvTranspose2d upsampling of one input, side by side.")
    def compare(
        input: Annotated[Optional[str], typer.Option(
            "--input", "-i", help="2-d input: inline \"1,2;3,4\", JSON, a .npy/.json/.csv/.txt file or - "
            "(default: the explainer's 4×4 grid 1..16).", show_default=False)] = None,
        kernel: Annotated[Optional[str], typer.Option(
            "--kernel", "-k", help="2-d ConvTranspose kernel, same forms as --input "
            "(default: the explainer's 1,0;0,1).", show_default=False)] = None,
        scale: Annotated[int, typer.Option("--scale", help="Upsampling factor; also the ConvTranspose stride.")] = 2,
        padding: Annotated[int, typer.Option("--padding", "-p", help="ConvTranspose padding.")] = 0,
        output_padding: Annotated[int, typer.Option("--output-padding", help="ConvTranspose output_padding.")] = 0,
        channels: Annotated[str, typer.Option(
            "--channels", help="C_in,C_out for the cost table; 1280,640 is the first upsampling layer of "
            "detectron2's ViTDet-H pyramid (the shipped SAM 3's is 1024,512).")] = "1280,640",
        size: Annotated[str, typer.Option("--size", help="Spatial size HxW for the cost table.")] = "64x64",
        precision: Annotated[int, typer.Option("--precision", help="Decimals shown (0-10).", min=0, max=10)] = 3,
        lang: LangOption = None,
        json_out: JsonOption = False,
        no_color: NoColorOption = False,
        heatmap: Annotated[Optional[str], typer.Option(
            "--heatmap", metavar="FILE.png",
            help="Also write the overlap maps to FILE.png, coloured, numbers in the cells.")] = None,
        force: Annotated[bool, typer.Option("--force", help="Overwrite an existing --heatmap file.")] = False,
    ) -> None:
        """Upsample one input with nearest, bilinear (align_corners False and True) and ConvTranspose2d, side by
        side; the parameters, FLOPs and output shape of each method; the overlap maps and the checkerboard rule.

        Example: convt compare · convt compare -i "1,2;3,4" -k "1,1;1,1" · convt compare --channels 640,320
        """
        # lazy for start-up: these load NumPy, which convt --help never does (import numpy ≈ 110 ms here)
        from ..output import make_console
        from ..parsing import parse_size_list, read_matrix
        from ..upsampling import DEFAULT_INPUT, DEFAULT_KERNEL, check_displayable, compare_dict
        from ..upsampling import compare as run_compare

        lang_code = set_lang(lang)
        if heatmap is not None:
            from ..pictures.export import check_picture_path

            check_picture_path(heatmap, force, (".png",), "--heatmap")
        if scale < 1:
            raise ConvtError(f"scale={scale} must be a positive whole number (it is also the stride)",
                             zh=f"scale={scale} 必须是正整数（它也是 stride）")
        x = None if input is None else read_matrix(input, "input")
        k = None if kernel is None else read_matrix(kernel, "kernel")
        chans = parse_size_list(channels, "channels")
        if len(chans) != 2:
            raise ConvtError(f"channels {channels!r} must be two numbers C_in,C_out, e.g. 1280,640",
                             zh=f"channels {channels!r} 必须是两个数 C_in,C_out，如 1280,640")
        hw = parse_size_list(size, "size")
        if len(hw) == 1:
            hw = hw * 2
        if len(hw) != 2:
            raise ConvtError(f"size {size!r} must be one or two sizes, HxW, e.g. 64x64",
                             zh=f"size {size!r} 必须是一个或两个尺寸 HxW，如 64x64")
        if not json_out:
            check_displayable(DEFAULT_INPUT.shape if x is None else x.shape,
                              DEFAULT_KERNEL.shape if k is None else k.shape, scale, padding, output_padding)
        report = run_compare(x, k, scale=scale, padding=padding, output_padding=output_padding,
                             channels=(chans[0], chans[1]), size=(hw[0], hw[1]))
        if json_out:
            import json

            typer.echo(json.dumps(compare_dict(report), ensure_ascii=False, indent=2))
        else:
            from ..render.compare import render_compare

            console = make_console(no_color=no_color)
            console.print(render_compare(report, lang_code, precision, console.width))
        if heatmap is not None:
            from ..pictures.export import compare_heatmap, report_written

            report_written(*compare_heatmap(Path(heatmap), report, lang=lang_code, force=force), lang=lang_code,
                           no_color=no_color, stderr=json_out)
