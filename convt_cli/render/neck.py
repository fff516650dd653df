"""Rich renderables for a :class:`convt_cli.neck.NeckTrace`: header (preset, upstream builder and file), one
table per branch (with its position encoding), totals, weights, checks.

Reads the records only; computes nothing but formatting.
"""

from __future__ import annotations

from rich import box
from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text
from rich.tree import Tree

from ..i18n import t
from ..limits import human_bytes
from ..neck import NeckTrace
from ..numbers import prefixed
from . import neck_labels  # noqa: F401 - defines the neck.* labels
from .verdict import verdict_short


def shape_text(shape: list[int] | tuple[int, ...] | None) -> str:
    """``1×1280×64×64`` → ``1×1280×64²`` (square maps as the explainer writes them)."""
    if shape is None:
        return "—"
    dims = [str(s) for s in shape]
    if len(shape) == 4 and shape[2] == shape[3]:
        dims = dims[:2] + [f"{shape[2]}²"]
    return "×".join(dims)


def si(value: int | float, unit: str = "") -> str:
    """3 significant digits with k/M/G/T/P: 26843545600 → ``26.8 G``; 999,600 → ``1 M`` (the prefix is
    chosen after rounding); an integer under 1000 exactly; past P, scientific notation."""
    if float(value).is_integer() and abs(float(value)) < 1000:
        return f"{int(value):d} {unit}".rstrip()
    text, prefix = prefixed(value, ("", "k", "M", "G", "T", "P"), 1000)
    return f"{text} {prefix}{unit}".rstrip()


def time_text(ms: float | None) -> str:
    if ms is None:
        return "—"
    if ms >= 1000:
        return f"{ms / 1000:.2f} s"
    if ms >= 1:
        return f"{ms:.1f} ms"
    return f"{ms * 1000:.0f} µs"


def _fan_in(value: list[int] | None, lang: str) -> str:
    if value is None:
        return ""
    lo, hi = value
    return str(lo) if lo == hi else f"{lo}–{hi}"


def _branch_title(branch, lang: str) -> str:
    label = {"sam2_convs": "neck.twin", "interactive_convs": "neck.head.interactive_convs",
             "propagation_convs": "neck.head.propagation_convs"}.get(branch.group)
    name = branch.name + (f" ({t(label, lang)})" if label else "")
    if branch.dropped:
        name += f" · {t('neck.dropped', lang)}"
    return t("neck.branch_title", lang, name=name, scale=f"{branch.scale:g}", inp=shape_text(branch.in_shape),
             out=shape_text(branch.out_shape) if branch.complete else t("neck.not_run", lang))


def _formula(layer) -> Text:
    text = Text(shape_text(layer.predicted_shape))
    if layer.shape_ok is True:
        text.append(" ✓", style="green")
    elif layer.shape_ok is False:
        text.append(" ✗", style="bold red")
    return text


class BranchView:
    """One branch: a table when the console is wide enough for every row on one line, else a tree."""

    def __init__(self, branch, lang: str = "en") -> None:
        self.branch = branch
        self.lang = lang

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        table = branch_table(self.branch, self.lang)
        if Measurement.get(console, options.update(width=10_000), table).maximum <= options.max_width:
            yield table
        else:
            yield branch_tree(self.branch, self.lang)
            yield Text("")


def branch_tree(branch, lang: str = "en") -> Tree:
    """The narrow layout: one node per layer, its numbers on a second line."""
    tree = Tree(Text(_branch_title(branch, lang), style="bold"), guide_style="dim")
    for layer in branch.layers:
        node = Text(layer.name, style="bold")
        node.append(f"  {layer.op}")
        line = Text(f"{shape_text(layer.in_shape)} → {shape_text(layer.out_shape)}  ")
        line.append(f"{t('neck.col.formula', lang)} ")
        line.append_text(_formula(layer))
        parts = [f"{si(layer.params)} {t('neck.col.params', lang)}", si(layer.flops, "FLOP"),
                 human_bytes(layer.out_bytes)]
        if layer.time_ms is not None:
            parts.append(time_text(layer.time_ms))
        if layer.fan_in is not None:
            parts.append(f"{t('neck.col.fan_in', lang)} {_fan_in(layer.fan_in, lang)}")
        line.append("\n" + " · ".join(parts), style="dim")
        tree.add(Group(node, line))
    pos = branch.position
    if pos is not None:
        node = Text(t("neck.pos", lang), style="dim")
        node.append(f"  {_pos_op(pos, lang)}\n{shape_text(pos.shape)} · {human_bytes(pos.bytes)}", style="dim")
        tree.add(node)
    totals = f"{t('neck.total', lang)}: {si(branch.params)} {t('neck.col.params', lang)} · {si(branch.flops, 'FLOP')}"
    if branch.time_ms is not None:
        totals += f" · {time_text(branch.time_ms)}"
    tree.add(Text(totals, style="bold"))
    return tree


def branch_table(branch, lang: str = "en") -> Table:
    title = _branch_title(branch, lang)
    table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, show_footer=True, pad_edge=False)
    table.add_column(t("neck.col.layer", lang), footer=t("neck.total", lang), no_wrap=True)
    table.add_column(t("neck.col.op", lang))
    table.add_column(t("neck.col.shapes", lang))
    table.add_column(t("neck.col.formula", lang))
    table.add_column(t("neck.col.params", lang), justify="right", footer=si(branch.params))
    table.add_column(t("neck.col.flops", lang), justify="right", footer=si(branch.flops))
    table.add_column(t("neck.col.memory", lang), justify="right")
    table.add_column(t("neck.col.time", lang), justify="right", footer=time_text(branch.time_ms))
    table.add_column(t("neck.col.fan_in", lang))
    for layer in branch.layers:
        table.add_row(
            layer.name, layer.op,
            f"{shape_text(layer.in_shape)} → {shape_text(layer.out_shape)}",
            _formula(layer), si(layer.params), si(layer.flops), human_bytes(layer.out_bytes),
            time_text(layer.time_ms), _fan_in(layer.fan_in, lang),
        )
    pos = branch.position
    if pos is not None:
        table.add_row(t("neck.pos", lang), _pos_op(pos, lang), f"→ {shape_text(pos.shape)}", "", "", "",
                      human_bytes(pos.bytes), "", "", style="dim")
    return table


def _pos_op(pos, lang: str) -> str:
    cache = t(f"neck.cache.{pos.cache}", lang, by=pos.cached_by or "")
    return t("neck.pos_op", lang, cache=cache)


def summary_table(trace: NeckTrace, lang: str = "en") -> Table:
    table = Table(title=t("neck.summary_title", lang), title_justify="left", box=box.SIMPLE_HEAD,
                  show_footer=True, pad_edge=False)
    table.add_column(t("neck.col.branch", lang), footer=t("neck.all", lang), no_wrap=True)
    table.add_column(t("neck.col.output", lang))
    table.add_column(t("neck.col.params", lang), justify="right", footer=si(trace.params))
    table.add_column(t("neck.col.flops", lang), justify="right", footer=si(trace.flops))
    table.add_column(t("neck.col.time", lang), justify="right", footer=time_text(trace.time_ms))
    for b in trace.branches:
        out = shape_text(b.out_shape) if b.complete else t("neck.not_run", lang)
        name = f"{b.name} ×{b.scale:g}" + (" ✗" if b.dropped else "")
        table.add_row(name, out, si(b.params), si(b.flops), time_text(b.time_ms))
    return table


def dropped_line(trace: NeckTrace, lang: str = "en") -> Text | None:
    dropped = [b for b in trace.branches if b.dropped]
    if not dropped:
        return None
    share = f"{100 * trace.dropped_flops / trace.flops:.2f} %" if trace.flops else "—"
    return Text(t("neck.dropped_line", lang, branches=", ".join(b.name for b in dropped),
                  flops=si(trace.dropped_flops, "FLOP"), macs=si(trace.dropped_flops // 2), share=share),
                style="yellow")


def audit_lines(trace: NeckTrace, lang: str = "en") -> Text | None:
    """The audit's records of the transposed convolutions: overlap and useful multiply-adds."""
    report = trace.audit
    if report is None or not report.layers:
        return None
    text = Text(t("neck.audit_title", lang), style="bold")
    for la in report.layers:
        lo, hi = la.overlap_per_cell
        verdict = verdict_short("even" if la.overlap == "none" else la.overlap, (lo, hi), lang)
        text.append("\n")
        common = dict(name=la.name, verdict=verdict, useful=si(la.macs_useful), scatter=si(la.macs_scatter))
        pg = la.phase_gain
        if pg is not None:
            flag = t("neck.flagged", lang, threshold=f"{pg.threshold:g}") if pg.flagged else ""
            text.append(t("neck.audit_line_trained", lang, index=f"{pg.worst:.3g}", channel=pg.worst_channel,
                          median=f"{pg.median:.3g}", flag=flag, **common), style="bold red" if pg.flagged else "")
        elif report.weights.real:
            text.append(t("neck.audit_line_missing", lang, **common))
        else:
            text.append(t("neck.audit_line", lang, **common))
    return text


def weights_lines(trace: NeckTrace, lang: str = "en") -> Text | None:
    w = trace.weights
    if w is None:
        return None
    text = Text(t("neck.weights", lang, path=w.path, format=w.format, prefix=repr(w.prefix), loaded=len(w.loaded),
                  total=len(w.loaded) + len(w.missing), other=w.other_keys), style="bold")
    for key, keys in (("neck.weights.missing", w.missing), ("neck.weights.unexpected", w.unexpected)):
        if keys:
            shown = ", ".join(keys[:8]) + (f", … ({len(keys)})" if len(keys) > 8 else "")
            text.append("\n")
            text.append(t(key, lang, keys=shown), style="yellow")
    return text


def position_line(trace: NeckTrace, lang: str = "en") -> Text | None:
    m = trace.memory
    if not m.position_bytes:
        return None
    cast = t("neck.pos_cast", lang) if trace.dtype != "float32" else ""
    return Text(t("neck.pos_memory", lang, total=human_bytes(m.position_bytes), cast=cast,
                  cache=human_bytes(m.position_cache_bytes)), style="dim")


def verify_table(trace: NeckTrace, lang: str = "en") -> Table:
    table = Table(title=t("neck.verify_title", lang), title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
    table.add_column(t("neck.col.layer", lang), no_wrap=True)
    table.add_column(t("neck.col.max_diff", lang), justify="right")
    table.add_column(t("neck.col.tolerance", lang))
    table.add_column(t("neck.col.ratio", lang), justify="right")
    table.add_column(t("neck.col.result", lang))
    for layer in trace.layers:
        v = layer.verify
        if v is None:
            continue
        result = Text(t("neck.pass", lang), style="green") if v.ok else Text(t("neck.fail", lang), style="bold red")
        table.add_row(layer.path, f"{v.max_abs_diff:.3g}", f"{v.tolerance} {v.rtol:g}/{v.atol:g}",
                      f"{v.worst_ratio:.3g}", result)
    return table


def summary_line(trace: NeckTrace, lang: str = "en") -> str:
    """``sam3: single neck (convs) · 4 levels, 3 kept (scalp=1) · 7,802,112 params · 214.88 GFLOPs at 1×1024×72²``."""
    cfg = trace.config
    if cfg.family == "vitdet":
        heads = t("neck.heads.stages", lang, names=", ".join(b.name for b in trace.branches))
    elif cfg.family == "mask_decoder":
        heads = t("neck.heads.decoder", lang, names="output_upscaling")
    else:
        heads = t(f"neck.heads.{min(len(cfg.heads), 3)}", lang, names=", ".join(cfg.heads))
    if cfg.family == "mask_decoder":
        levels = t("neck.levels.one", lang)
    else:
        levels = t("neck.levels", lang, n=len(cfg.scales), kept=len(cfg.scales) - cfg.scalp, scalp=cfg.scalp)
    flops = trace.flops_counted if trace.flops_counted is not None else trace.flops
    return t("neck.summary", lang, preset=cfg.preset, heads=heads, levels=levels, params=f"{trace.params:,}",
             gflops=f"{flops / 1e9:.2f}", shape=shape_text(cfg.shape))


def header(trace: NeckTrace, lang: str = "en") -> Text:
    from ..neck.presets import PRESETS

    cfg = trace.config
    spec = cfg.spec
    text = Text(t("neck.title", lang, model=t(f"neck.model.{cfg.preset}", lang), preset=cfg.preset), style="bold")
    text.append("\n")
    text.append(summary_line(trace, lang), style="bold")
    text.append("\n")
    text.append(t("neck.builder", lang, builder=PRESETS[cfg.builder_heads].builder))
    text.append("\n")
    text.append(t("neck.files", lang, files=spec.files), style="dim")
    text.append("\n")
    if cfg.family == "mask_decoder":
        text.append(t("neck.header_decoder", lang, shape=shape_text(cfg.shape), dim=cfg.dim, seed=cfg.seed))
    else:
        text.append(t(
            "neck.header", lang, shape=shape_text(cfg.shape), dim=cfg.dim, d_model=cfg.d_model,
            scales=", ".join(f"{s:g}" for s in cfg.scales), dual=t("neck.dual", lang) if cfg.dual else "",
            seed=cfg.seed,
        ))
    text.append("\n")
    name = t("neck.meta_name", lang) if trace.device == "meta" else trace.device_name
    text.append(t(
        "neck.runtime", lang, device=trace.device, name=name, dtype=trace.dtype,
        torch=trace.torch_version, timer=t(f"neck.timer.{trace.timer}", lang),
    ))
    notes = []
    if "default" in trace.notes:
        notes.append(t("neck.note.default", lang))
    if cfg.family == "sam3" and cfg.dim == 1280 and cfg.shape[2:] == (64, 64):
        notes.append(t("neck.note.vitdet_geometry", lang))
    elif cfg.shape != spec.shape:
        notes.append(t("neck.note.shape", lang, shape=shape_text(cfg.shape), upstream=shape_text(spec.shape)))
    if cfg.scalp:
        notes.append(t("neck.note.scalp", lang, scale=f"{cfg.scales[-1]:g}", scalp=cfg.scalp))
    if cfg.family == "vitdet":
        notes.append(t("neck.note.vitdet", lang))
    if cfg.family == "mask_decoder":
        notes.append(t("neck.note.mask_decoder", lang))
    for note in notes:
        text.append("\n")
        text.append(note, style="yellow")
    return text


def memory_line(trace: NeckTrace, lang: str = "en") -> Text:
    m = trace.memory
    host_bytes = m.verify_bytes + (m.staging_bytes if trace.device == "cuda" else 0)
    host = t("neck.memory.host", lang, host=human_bytes(host_bytes)) if host_bytes else ""
    budget = "" if trace.memory_budget is None else t("neck.memory.budget", lang,
                                                      budget=human_bytes(trace.memory_budget))
    device = t("neck.real_run", lang) if trace.device == "meta" else trace.device
    return Text(t(
        "neck.memory", lang, device=device, peak=human_bytes(m.device_bytes),
        weights=human_bytes(m.weights_bytes), inp=human_bytes(m.input_bytes), step=human_bytes(m.largest_step_bytes),
        host=host, budget=budget,
    ), style="dim")


def checks(trace: NeckTrace, lang: str = "en") -> Text:
    text = Text()
    lines = []
    lines.append((t("neck.check.shapes_ok", lang), "green") if trace.shapes_ok
                 else (t("neck.check.shapes_bad", lang), "bold red"))
    if trace.flops_counted is not None:
        lines.append((t("neck.check.flops_ok", lang, flops=si(trace.flops_counted, "FLOP")), "green")
                     if trace.flops_ok else (t("neck.check.flops_bad", lang), "bold red"))
    params_ok = all(layer.params == layer.params_predicted for layer in trace.layers)
    lines.append((t("neck.check.params_ok", lang), "green") if params_ok
                 else (t("neck.check.params_bad", lang), "bold red"))
    for i, (line, style) in enumerate(lines):
        if i:
            text.append("\n")
        text.append(line, style=style)
    return text


def render_trace(trace: NeckTrace, lang: str = "en") -> RenderableType:
    """The whole report, top to bottom."""
    parts: list[RenderableType] = [header(trace, lang), Text("")]
    for branch in trace.branches:
        parts.append(BranchView(branch, lang))
    parts.append(summary_table(trace, lang))
    for extra in (dropped_line(trace, lang), weights_lines(trace, lang), audit_lines(trace, lang)):
        if extra is not None:
            parts.append(extra)
    parts.append(Text(t("neck.fan_in_note", lang), style="dim"))
    parts.append(memory_line(trace, lang))
    pos_line = position_line(trace, lang)
    if pos_line is not None:
        parts.append(pos_line)
    parts.append(Text(""))
    parts.append(checks(trace, lang))
    if trace.verified:
        parts.append(Text(""))
        parts.append(verify_table(trace, lang))
        parts.append(Text(t("neck.tol_rule", lang, dtype=trace.dtype), style="dim"))
        bad = [layer for layer in trace.layers if layer.verify is not None and not layer.verify.ok]
        parts.append(Text(t("neck.verify_bad", lang, count=len(bad)), style="bold red") if bad
                     else Text(t("neck.verify_ok", lang), style="bold green"))
    if trace.interrupted:
        parts.append(Text(""))
        parts.append(Text(t("neck.interrupted", lang, done=trace.completed_layers, total=trace.total_layers),
                          style="bold yellow"))
    return Group(*parts)
