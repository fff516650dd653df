"""The explorer: ``convt show --export FILE.html`` and ``explore(...)`` in Jupyter — one self-contained,
interactive page built from the same step records the terminal draws (see docs/explorer.md).

The page's code is plain files beside this module (``template.html``, ``explorer.js``, ``explorer.css``),
inlined by :mod:`.page`; nothing is fetched when the page opens.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

from .page import check_page_cost, page_data, render_page

if TYPE_CHECKING:  # pragma: no cover
    from ..show_case import Case

__all__ = ["Explorer", "check_case_cost", "explore", "page_for_case"]


def _extent(case: Case) -> tuple[int, ...]:
    p = case.params
    spatial, ksize = case.x_full.shape[1:], case.w_full.shape[2:]
    return tuple(max((i - 1) * s + d * (k - 1) + 1, pd + o) for i, k, s, d, pd, o in
                 zip(spatial, ksize, p.stride, p.dilation, p.padding, case.out_shape))


def check_case_cost(case: Case, max_steps: int) -> None:
    """The page's cost model for ``case`` (every drawn output channel), before any trace is computed."""
    spatial, ksize = case.x_full.shape[1:], case.w_full.shape[2:]
    steps = min(max_steps, math.prod(spatial))
    check_page_cost(spatial, ksize, _extent(case), case.c_in // case.params.groups, steps, len(case.jobs))


def page_for_case(case: Case, traces: Sequence[tuple[int, Sequence[int], object]], *, lang: str, precision: int,
                  max_steps: int, view: str = "scatter", title: str = "convt explorer", note: str | None = None) -> str:
    """The page for a case of ``convt show`` and its traces (output channel, input channels, ScatterTrace)."""
    bias = None if case.bias_vec is None else case.bias_vec[0].item()
    data = page_data(case.x_full, case.w_full, [(co, list(chs), tr) for co, chs, tr in traces], params=case.params,
                     bias=bias, channels=case.channels, lang=lang, precision=precision, max_steps=max_steps)
    data["view"] = view
    data["note"] = note  # e.g. where a layer in another convention crops the PyTorch canvas drawn here
    return render_page(data, title)


class Explorer:
    """The page, shown inline by Jupyter (an iframe whose ``srcdoc`` is the page: notebook CSS cannot reach it)."""

    def __init__(self, html: str, height: int = 720) -> None:
        self.html = html
        self.height = height

    def _repr_html_(self) -> str:
        import html as html_mod

        return (f'<iframe class="convt-explorer" srcdoc="{html_mod.escape(self.html, quote=True)}" '
                f'style="width:100%;height:{self.height}px;border:1px solid #ccc" '
                'sandbox="allow-scripts" title="convt explorer"></iframe>')

    def save(self, path: str, force: bool = False) -> str:
        """Write the page to ``path`` (.html) atomically; an existing file needs ``force``."""
        from ..output import write_atomic

        return str(write_atomic(path, self.html, force))

    def __len__(self) -> int:
        return len(self.html.encode("utf-8"))


def explore(x: object = None, w: object = None, *, stride: object = 1, padding: object = 0,
            output_padding: object = 0, dilation: object = 1, groups: int = 1, bias: float | None = None,
            channel: int | None = None, layer: str | None = None, source: str = "torch", size: object = None,
            seed: int = 0, lang: str | None = None, precision: int = 3, max_steps: int = 16,
            view: str = "scatter", height: int = 720) -> Explorer:
    """The explorer page for an input ``x`` and kernel ``w`` (single-channel ``(*S)`` and ``(*k)``, or
    ``(C_in, *S)`` and ``(C_in, C_out/groups, *k)``), or for ``layer`` written in any convention
    (``source``: torch, keras, tf, jax, flax, mlx, onnx — as ``convt show --layer … --from …``; a seeded
    random input of ``size`` and kernel). Returns an object Jupyter shows inline."""
    import numpy as np

    from ..context import set_lang
    from ..errors import ConvtError
    from ..parsing import parse_per_dim
    from ..show_case import (
        RANDOM_INPUT_RANGE,
        RANDOM_KERNEL_RANGE,
        case_from_arrays,
        check_view,
        layer_report,
        random_array,
    )
    from ..steps import trace_scatter

    lang = set_lang(lang)
    view = check_view(view)
    if layer is not None:
        if x is not None or w is not None:
            raise ConvtError("give either x and w or a layer, not both", zh="请给出 x 和 w，或者一个层，不要同时给出")
        text_size = None if size is None else ("x".join(map(str, size)) if isinstance(size, (tuple, list))
                                               else str(size))
        report, opts = layer_report(layer, source, text_size, seed)
        from ..render.port import crop_lines

        note = "\n".join(line.plain for line in crop_lines(report, lang, 100))
        xs, ks, stride, padding, output_padding, dilation = opts
        x = random_array(xs, "--random", RANDOM_INPUT_RANGE, seed)
        w = random_array(ks, "--random-kernel", RANDOM_KERNEL_RANGE, seed)
    else:
        note = None
    if x is None or w is None:
        raise ConvtError("explore needs an input x and a kernel w (or layer=...)",
                         zh="explore 需要输入 x 与卷积核 w（或 layer=...）")
    xa, wa = np.asarray(x), np.asarray(w)
    if xa.dtype.kind not in "iuf" or wa.dtype.kind not in "iuf":
        raise ConvtError("x and w must be arrays of numbers", zh="x 和 w 必须是数值数组")
    if xa.dtype.kind in "iu":
        xa = xa.astype(np.int64)
    if wa.dtype.kind in "iu":
        wa = wa.astype(np.int64)

    def text(v: object) -> str:
        return ",".join(map(str, v)) if isinstance(v, (tuple, list)) else str(v)

    per_dim = {name: parse_per_dim(text(v), name) for name, v in
               (("stride", stride), ("padding", padding), ("output_padding", output_padding), ("dilation", dilation))}
    case = case_from_arrays(xa, wa, per_dim, groups=groups, channel=channel, bias=bias)
    check_case_cost(case, max_steps)
    p = case.params
    pd = {"stride": p.stride, "padding": p.padding, "output_padding": p.output_padding, "dilation": p.dilation}
    traces = [(job.out_channel, job.in_channels,
               trace_scatter(job.x, job.k, channels=True, bias=job.bias, max_steps=max_steps,
                             traces=len(case.jobs), **pd)) for job in case.jobs]
    return Explorer(page_for_case(case, traces, lang=lang, precision=precision, max_steps=max_steps, view=view,
                                  note=note), height)
