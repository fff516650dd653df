"""`convt shape` — the size calculator: what size comes out, and how to get the size you need."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from ..context import set_lang
from ..errors import ConvtError
from .common import JsonOption, LangOption, NoColorOption

_TARGET_OPTION_RULE = (
    "{name}={value!r} lists several values; with --target give {name} as one integer (the same on every axis)"
)


def _single(text: str | None, name: str) -> int | None:
    # lazy for start-up: these load NumPy, which convt --help never does (import numpy ≈ 110 ms here)
    from ..parsing import parse_per_dim

    if text is None:
        return None
    value = parse_per_dim(text, name)
    if isinstance(value, tuple):
        if len(set(value)) == 1:
            return value[0]
        raise ConvtError(_TARGET_OPTION_RULE.format(name=name, value=text),
                         zh=f"{name}={text!r} 含多个值；使用 --target 时 {name} 只能是一个整数（各维相同）")
    return value


def register(app: typer.Typer) -> None:
    @app.command("shape", short_help="Output sizes with the formula written out, or the parameters that reach a "
                 "target size.")
    def shape(
        size: Annotated[str, typer.Argument(
            metavar="SIZE",
            help="Input size: 64, per-dim 64x48, or a full tensor shape 1x1280x64x64 (with --out-channels).",
            show_default=False)],
        kernel_size: Annotated[Optional[str], typer.Option(
            "--kernel-size", "-k", help="Kernel size: 2, or per dim 3,2.", show_default=False)] = None,
        stride: Annotated[Optional[str], typer.Option("--stride", "-s", help="Stride (default 1).",
                                                      show_default=False)] = None,
        padding: Annotated[Optional[str], typer.Option("--padding", "-p", help="Padding (default 0).",
                                                       show_default=False)] = None,
        output_padding: Annotated[Optional[str], typer.Option(
            "--output-padding", help="output_padding (default 0).", show_default=False)] = None,
        dilation: Annotated[Optional[str], typer.Option("--dilation", "-d", help="Dilation (default 1).",
                                                        show_default=False)] = None,
        out_channels: Annotated[Optional[int], typer.Option(
            "--out-channels", help="Output channels; SIZE is then a full tensor shape (N, C_in, *spatial).",
            show_default=False)] = None,
        groups: Annotated[int, typer.Option("--groups", "-g", help="Groups (with --out-channels).")] = 1,
        no_bias: Annotated[bool, typer.Option("--no-bias", help="Count no bias parameters.")] = False,
        target: Annotated[Optional[str], typer.Option(
            "--target", "-t", help="Search the parameters that reach this output size (e.g. 128 or 128x96).",
            show_default=False)] = None,
        max_kernel: Annotated[int, typer.Option("--max-kernel", help="--target: largest kernel size tried.")] = 7,
        max_stride: Annotated[int, typer.Option("--max-stride", help="--target: largest stride tried.")] = 4,
        limit: Annotated[int, typer.Option("--limit", help="--target: rows shown (0: all; --json lists all).")] = 12,
        layer: Annotated[Optional[str], typer.Option(
            "--layer", help="A layer in any convention (with --from): where each crop falls, and its PyTorch "
            "form; SIZE is its input size.", show_default=False)] = None,
        source: Annotated[str, typer.Option("--from", help="The framework --layer is written in.")] = "torch",
        lang: LangOption = None,
        json_out: JsonOption = False,
        no_color: NoColorOption = False,
    ) -> None:
        """The output size with the formula written out, the canvas, the output_padding range, the overlap
        verdict and the Conv it undoes; or, with --target, the parameters that reach a size.

        Examples: convt shape 64 -k 2 -s 2 · convt shape 1x1280x64x64 -k 2 -s 2 --out-channels 640 ·
        convt shape 64 --target 128
        """
        # lazy for start-up: these load NumPy, which convt --help never does (import numpy ≈ 110 ms here)
        from ..output import make_console
        from ..parsing import parse_per_dim, parse_size_list

        lang_code = set_lang(lang)
        sizes = parse_size_list(size, "size")
        if layer is not None:
            _layer_shape(layer, source, sizes, lang_code, json_out, no_color)
            return
        if target is not None:
            if out_channels is not None or groups != 1:
                raise typer.BadParameter("--target searches spatial sizes; leave out --out-channels and --groups",
                                         param_hint="'--target'")
            from ..render.shape import render_target_search
            from ..sizing import search_dict, search_target

            search = search_target(
                sizes, parse_size_list(target, "target"),
                kernel=_single(kernel_size, "kernel_size"), stride=_single(stride, "stride"),
                padding=_single(padding, "padding"), output_padding=_single(output_padding, "output_padding"),
                dilation=1 if dilation is None else _single(dilation, "dilation"),
                max_kernel=max_kernel, max_stride=max_stride,
            )
            if json_out:
                _print_json(search_dict(search))
                return
            console = make_console(no_color=no_color)
            console.print(render_target_search(search, lang_code, limit, console.width))
            return

        if kernel_size is None:
            raise typer.BadParameter("give the kernel size (e.g. -k 2), or --target SIZE to search for one",
                                     param_hint="'-k' / '--kernel-size'")
        from ..render.shape import render_size_report
        from ..sizing import report_dict, size_report

        def opt(text: str | None, name: str, default: int):
            return default if text is None else parse_per_dim(text, name)

        report = size_report(
            sizes, parse_per_dim(kernel_size, "kernel_size"), opt(stride, "stride", 1), opt(padding, "padding", 0),
            opt(output_padding, "output_padding", 0), opt(dilation, "dilation", 1),
            out_channels=out_channels, groups=groups, bias=not no_bias,
        )
        if json_out:
            _print_json(report_dict(report))
            return
        console = make_console(no_color=no_color)
        console.print(render_size_report(report, lang_code, console.width))


def _layer_shape(text: str, source: str, sizes: tuple[int, ...], lang: str, json_out: bool, no_color: bool) -> None:
    """``--layer``: the layer's canvas, which end each crop comes from, its PyTorch form and the size report."""
    # lazy for start-up: these load NumPy, which convt --help never does (import numpy ≈ 110 ms here)
    from ..output import make_console
    from ..port.layer import parse_layer
    from ..port.report import port_report
    from ..render.port import crop_lines

    report = port_report(parse_layer(text, source, size=sizes), "torch")
    g, p = report.layer.geometry, report.plan
    if json_out:
        _print_json({"framework": report.layer.framework, "layer": text, "input_size": list(g.size),
                     "canvas": list(g.canvas), "crop_begin": list(g.begin), "crop_end": list(g.end),
                     "output_size": list(g.out), "torch": {"padding": list(p.args["padding"]),
                                                          "output_padding": list(p.args["output_padding"]),
                                                          "residual": [list(r) for r in p.residual],
                                                          "exact": p.status == "exact"}})
        return
    console = make_console(no_color=no_color)
    for line in crop_lines(report, lang, console.width):
        console.print(line)


def _print_json(data: dict) -> None:
    import json

    typer.echo(json.dumps(data, ensure_ascii=False, indent=2))
