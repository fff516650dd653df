"""`convt show` — every placement step of a transposed convolution as box tables, like the explainer.

The thin edge: read the options into arrays and parameters (parse), build the records
(``steps.trace_scatter``, ``views.gather_view`` / ``views.matrix_view``, the optional PyTorch check),
then hand them to the renders in ``convt_cli/render/``. Heavy modules are imported inside the command.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Optional

import typer

from .._compat import UsageError
from ..context import set_lang
from ..errors import ConvtError
from ..i18n import t
from ..show_case import DEFAULT_STRIDE, build_case, check_view, layer_report, torch_check
from .common import LangOption, NoColorOption

if TYPE_CHECKING:  # pragma: no cover

    pass

def _check_view(value: str) -> str:
    try:
        return check_view(value)
    except ConvtError as exc:
        raise typer.BadParameter(str(exc)) from None


def _check_precision(value: int) -> int:
    if not 0 <= value <= 12:
        raise typer.BadParameter(f"{value} is out of range; use 0 to 12 decimal places")
    return value


def is_explorer(export: str | None, static: bool) -> bool:
    """``--export FILE.html`` writes the explorer page; with ``--static``, Rich's HTML of the terminal render."""
    from pathlib import Path

    from ..errors import ConvtError

    html = export is not None and Path(export).suffix.lower() == ".html"
    if static and not html:
        raise ConvtError("--static applies to --export FILE.html (Rich's static HTML instead of the explorer)",
                         zh="--static 只用于 --export FILE.html（导出 Rich 的静态 HTML 而不是交互页面）")
    return html and not static


def run_show(opts: dict[str, Any]) -> int:
    """Parse → records → render. Returns the exit code."""
    # lazy for start-up: these load NumPy, which convt --help never does (import numpy ≈ 110 ms here)
    from rich.text import Text

    from ..output import check_export_path, export_console, make_console
    from ..pictures.commands import check_show_targets, plan_show_pictures, write_show_pictures
    from ..render import scatter as rs
    from ..render import show_gather, show_matrix
    from ..render.show_common import Style, check_line, header, legend
    from ..steps import trace_scatter
    from ..views import gather_view, matrix_view

    lang = set_lang(opts["lang"])
    picture = check_show_targets(opts["export"], opts["heatmap"], opts["force"], opts["view"])
    explorer = is_explorer(opts["export"], opts.get("static", False))
    if opts["export"] is not None and not picture:
        check_export_path(opts["export"], opts["force"])
    for given, other in (("input_", "random"), ("kernel", "random_kernel")):  # usage mistakes: exit 2
        if opts[given] is not None and opts[other] is not None:
            raise UsageError(f"give either --{given.rstrip('_')} or --{other.replace('_', '-')}, not both")
    case = build_case(**{k: opts[k] for k in ("input_", "kernel", "random", "random_kernel", "seed", "stride",
                                                "padding", "output_padding", "dilation", "groups", "channel",
                                                "bias")})
    if explorer:
        from ..explorer import check_case_cost

        check_case_cost(case, opts["max_steps"])  # the page's cost, before anything is traced
    p = case.params
    view = opts["view"]
    pd = {"stride": p.stride, "padding": p.padding, "output_padding": p.output_padding, "dilation": p.dilation}
    records = []
    for job in case.jobs:
        trace = trace_scatter(job.x, job.k, channels=True, bias=job.bias, max_steps=opts["max_steps"],
                              traces=len(case.jobs), **pd)
        extra = None
        if view == "gather":
            extra = gather_view(job.x, job.k, channels=True, bias=job.bias, max_steps=opts["max_steps"], **pd)
        elif view == "matrix":
            extra = matrix_view(job.x, job.k, channels=True, bias=job.bias, **pd)
        records.append((job, trace, extra))
    plan = plan_show_pictures(opts["export"], opts["heatmap"], records[0][1], lang=lang, precision=opts["precision"],
                              force=opts["force"])
    check = None if opts["no_torch"] else torch_check(case)

    record = opts["export"] is not None and not picture
    if opts["play"]:
        from ..render.play import play_console

        console = play_console(delay=opts["delay"], lang=lang, no_color=opts["no_color"], record=record)
    else:
        console = make_console(no_color=opts["no_color"], record=record)
    st = Style(lang=lang, precision=opts["precision"], width=console.width)
    spatial = case.x_full.shape[1:]
    kshape = case.w_full.shape[2:] if not case.channels else case.w_full.shape
    console.print(header(p, case.x_full.shape if case.channels else spatial, kshape, case.out_shape, st,
                         c_in=case.c_in, c_out=case.c_out,
                         bias=None if case.bias_vec is None else case.bias_vec[0], seed=case.seed))
    console.print()
    for item in rs.random_values(console, st, case.x_full, case.w_full, channels=case.channels,
                                 input_=opts["random"] is not None, kernel=opts["random_kernel"] is not None):
        console.print(item)
    first_trace = records[0][1]
    if view == "scatter":
        overlap = any(int(r[1].write_counts.max()) > 1 for r in records)
        console.print(legend(st, overlap=overlap, crop=any(p.padding), output_padding=any(p.output_padding),
                              dilation=any(d > 1 for d in p.dilation)))
        console.print()
    for job, trace, extra in records:
        if case.channels:
            from rich.rule import Rule

            console.print(Rule(t("show.channel_rule", lang, co=job.out_channel)))
            chs = f"{job.in_channels.start}–{job.in_channels.stop - 1}" if len(job.in_channels) > 1 \
                else str(job.in_channels.start)
            key = "show.channel_note" if len(job.in_channels) > 1 else "show.channel_note_one"
            console.print(Text(t(key, lang, co=job.out_channel, last=case.c_out - 1, chs=chs, g=p.groups)))
            console.print()
        if view == "scatter":
            items = rs.render_steps(console, st, trace) + rs.render_result(console, st, trace)
        elif view == "gather":
            items = show_gather.render_gather(console, st, extra, trace)
        else:
            items = show_matrix.render_matrix(console, st, extra, trace)
        for item in items:
            console.print(item)
        if opts["overlap"]:
            console.print()
            for item in rs.render_overlap(console, st, trace):
                console.print(item)
        console.print()
    code = 0
    if check is not None:
        console.print(check_line(st, "show.torch_ok", "show.torch_bad", check.delta, check.ok,
                                 nd=first_trace.ndim, tol=check.tolerance))
        code = 0 if check.ok else 1
    else:
        console.print(Text(t("show.torch_skipped", lang), style="dim"))
    if explorer:
        from ..explorer import page_for_case
        from ..output import write_atomic

        page = page_for_case(case, [(job.out_channel, job.in_channels, trace) for job, trace, _ in records],
                             lang=lang, precision=opts["precision"], max_steps=opts["max_steps"], view=view,
                             note=opts.get("note"))
        path = write_atomic(opts["export"], page, opts["force"])
        make_console(no_color=opts["no_color"]).print(Text(t("exported", lang, path=str(path))))
    elif opts["export"] is not None and not picture:
        path = export_console(getattr(console, "recording", None) or console, opts["export"], opts["force"],
                              title="convt show")
        make_console(no_color=opts["no_color"]).print(Text(t("exported", lang, path=str(path))), soft_wrap=True)
    write_show_pictures(plan, opts["heatmap"], records[0][1], lang=lang, no_color=opts["no_color"],
                        channel=(records[0][0].out_channel, case.c_out) if len(records) > 1 else None,
                        force=opts["force"])
    return code


def _layer_options(text: str, source: str, random: str | None, seed: int | None, lang: str | None,
                   no_color: bool) -> tuple[str, ...]:
    """``--layer``: print where its crops fall, and return show's options for its PyTorch form, and
    those lines as text (the explorer page shows them too)."""
    # lazy for start-up: these load NumPy, which convt --help never does (import numpy ≈ 110 ms here)
    from ..output import make_console
    from ..render.port import crop_lines

    lang_code = set_lang(lang)
    report, options = layer_report(text, source, random, seed)
    console = make_console(no_color=no_color)
    lines = crop_lines(report, lang_code, console.width)
    for line in lines:
        console.print(line)
    console.print()
    return (*options, "\n".join(line.plain for line in lines))


def register(app: typer.Typer) -> None:
    @app.command("show", short_help="Draw every placement step of a transposed convolution.")
    def show(
        input_: Annotated[Optional[str], typer.Option(
            "--input", "-i", help="Input: \"1,2;3,4\", JSON lists, a .npy/.json/.csv/.txt file, or - for stdin "
            "(default: 1,2;3,4).", show_default=False)] = None,
        kernel: Annotated[Optional[str], typer.Option(
            "--kernel", "-k", help="Kernel, same forms as --input; a channel .npy kernel is (C_in, C_out/groups, *k) "
            "(default: 1,0;0,1).", show_default=False)] = None,
        random: Annotated[Optional[str], typer.Option(
            "--random", help="A random input of this size (e.g. 3x3), small integers 0..9.")] = None,
        random_kernel: Annotated[Optional[str], typer.Option(
            "--random-kernel", help="A random kernel of this size (e.g. 2x2), small integers -1..2.")] = None,
        seed: Annotated[Optional[int], typer.Option("--seed", min=0, help="Seed for --random/--random-kernel.")] = None,
        stride: Annotated[str, typer.Option("--stride", "-s", help="An int, or one per dim: 2,1.")] = DEFAULT_STRIDE,
        padding: Annotated[str, typer.Option("--padding", "-p", help="An int, or one per dim.")] = "0",
        output_padding: Annotated[str, typer.Option("--output-padding", help="An int, or one per dim.")] = "0",
        dilation: Annotated[str, typer.Option("--dilation", "-d", help="An int, or one per dim.")] = "1",
        groups: Annotated[int, typer.Option("--groups", help="Groups (channel inputs only).")] = 1,
        channel: Annotated[Optional[int], typer.Option(
            "--channel", help="Draw only this output channel (default: every one).")] = None,
        bias: Annotated[Optional[str], typer.Option("--bias", help="A bias added to every output cell.")] = None,
        view: Annotated[str, typer.Option("--view", callback=_check_view, metavar="[scatter|gather|matrix]",
                                          help="scatter (the explainer's steps), gather or matrix.")] = "scatter",
        overlap: Annotated[bool, typer.Option("--overlap", help="Also show the contribution-count map.")] = False,
        max_steps: Annotated[int, typer.Option("--max-steps", min=0, help="Steps drawn before skipping.")] = 16,
        precision: Annotated[int, typer.Option("--precision", callback=_check_precision,
                                               help="Decimal places for floats.")] = 3,
        lang: LangOption = None,
        no_color: NoColorOption = False,
        export: Annotated[Optional[str], typer.Option(
            "--export", help="Also write the render to FILE.svg or .txt; .html: the interactive explorer page "
            "(--static: Rich's HTML); .gif: the steps animated; .png: every step on one sheet (pictures need "
            "Pillow).")] = None,
        heatmap: Annotated[Optional[str], typer.Option(
            "--heatmap", metavar="FILE.png",
            help="Write the contribution-count map to FILE.png, coloured, numbers in the cells.")]
        = None,
        force: Annotated[bool, typer.Option("--force", help="Overwrite an existing --export/--heatmap file.")]
        = False,
        play: Annotated[bool, typer.Option("--play", help="Animate the steps in place in the terminal.")] = False,
        delay: Annotated[float, typer.Option("--delay", min=0, max=60, metavar="SECONDS",
                                             help="Seconds between --play frames.")]
        = 1.0,
        no_torch: Annotated[bool, typer.Option("--no-torch", help="Skip the PyTorch check (never imports torch).")]
        = False,
        layer: Annotated[Optional[str], typer.Option(
            "--layer", help="Draw a layer written in any convention (with --from): its stride, padding and "
            "kernel size replace -s/-p/--output-padding/-d; a seeded random input and kernel.",
            show_default=False)] = None,
        source: Annotated[str, typer.Option("--from", help="The framework --layer is written in.")] = "torch",
        static: Annotated[bool, typer.Option(
            "--static", help="With --export FILE.html: Rich's static HTML of the terminal render instead of the "
            "interactive explorer.")] = False,
    ) -> None:
        """Draw every placement step of a transposed convolution, like the explainer.

        With no options: the explainer's example (input 1,2;3,4, kernel 1,0;0,1, stride 2), checked
        against torch.nn.functional.conv_transpose2d.

        Example: convt show -i "1,2;3,4" -k "1,1;1,1" -s 1 --overlap
        """
        if layer is not None:
            if input_ is not None or kernel is not None:
                raise typer.BadParameter("--layer draws a seeded random input and kernel; give their sizes with "
                                         "--random (the input), not -i/-k", param_hint="'--layer'")
            random, random_kernel, stride, padding, output_padding, dilation, note = _layer_options(
                layer, source, random, seed, lang, no_color)
        else:
            note = None
        code = run_show(dict(input_=input_, kernel=kernel, random=random, random_kernel=random_kernel, seed=seed,
                             stride=stride, padding=padding, output_padding=output_padding, dilation=dilation,
                             groups=groups, channel=channel, bias=bias, view=view, overlap=overlap,
                             max_steps=max_steps, precision=precision, lang=lang, no_color=no_color, export=export,
                             force=force, no_torch=no_torch, heatmap=heatmap, play=play, delay=delay,
                             static=static, note=note))
        if code:
            raise typer.Exit(code)
