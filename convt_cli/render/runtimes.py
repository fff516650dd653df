"""Rich renderables for ``convt verify --runtime``: the estimate line, the toolchain's versions and saved
artifacts under each verify report, and the ``--matrix`` table (runtime × feature pass rates).
"""

from __future__ import annotations

from collections.abc import Callable

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from ..i18n import define, t
from ..verify import CaseSpec, Report
from .verify import cluster_headline, feature_label

define({
    "runtimes.estimate": ("{what}: {n} cases, about {time} on this machine (exports dominate)",
                          "{what}：{n} 个用例，本机约需 {time}（主要是导出耗时）"),
    "runtimes.toolchain": ("toolchain", "工具链"),
    "runtimes.saved": ("saved the smallest case of each cluster: {files}", "已保存每个簇的最小用例：{files}"),
    "runtimes.matrix_title": ("Pass rate per runtime and feature (forward cases, float32 tolerance)",
                              "各运行时按特性的通过率（前向用例，float32 容差）"),
    "runtimes.feature": ("feature", "特性"),
    "runtimes.clusters": ("clusters", "失败簇"),
    "runtimes.none": ("no failure", "无失败"),
    "runtimes.audit_header": ("runtime check: each transposed convolution rebuilt alone with its weights and real "
                              "input, run by {name} ({versions}), against convt's float64 engine; tolerance {tol}",
                              "运行时检查：每个转置卷积用其权重与真实输入单独重建，由 {name}（{versions}）运行，"
                              "与 convt 的 float64 引擎比较；容差 {tol}"),
    "runtimes.verdict.pass": ("{name}: pass (max |err| {err})", "{name}：通过（最大 |误差| {err}）"),
    "runtimes.verdict.fail": ("{name}: FAIL — {what}", "{name}：失败 — {what}"),
    "runtimes.verdict.skipped": ("{name}: not checked — {what}", "{name}：未检查 — {what}"),
})


def _duration(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 90 else f"{seconds / 60:.1f} min"


def estimate_line(plans: dict[str, list], total: float, lang: str = "en") -> str:
    what = ", ".join(plans)
    n = sum(len(s) for s in plans.values())
    return t("runtimes.estimate", lang, what=what, n=n, time=_duration(total))


def render_extra(console: Console, name: str, extra: dict, save_dir: str | None, lang: str = "en") -> None:
    versions = ", ".join(f"{k} {v}" for k, v in extra.get("versions", {}).items())
    if versions:
        console.print(Text(f"{t('runtimes.toolchain', lang)}: {versions}", style="dim"))
    saved = extra.get("artifacts") or {}
    if saved and save_dir is not None:
        scripts = [f"{save_dir}/{f}" for files in saved.values() for f in files if f.endswith(".py")]
        console.print(t("runtimes.saved", lang, files=", ".join(scripts) or "—"))


def _cell(report: Report, key: str) -> str:
    row = next((r for r in report.rows() if r.key == key), None)
    if row is None or not row.cases:
        return "—"
    return f"{100 * row.passed / row.cases:.0f}% ({row.passed}/{row.cases})"


def render_matrix(console: Console, reports: dict[str, Report], extra: dict[str, dict],
                  reproduce: Callable[[str], Callable[[CaseSpec], str]], lang: str = "en") -> None:
    from ..runtimes.matrix import matrix

    keys, _table = matrix(reports)
    table = Table(title=t("runtimes.matrix_title", lang), box=box.SIMPLE_HEAD, title_justify="left")
    table.add_column(t("runtimes.feature", lang))
    for name in reports:
        table.add_column(name, justify="right")
    for key in keys:
        table.add_row(feature_label(key, lang), *(_cell(r, key) for r in reports.values()))
    console.print(table)
    for name, report in reports.items():
        versions = ", ".join(f"{k} {v}" for k, v in extra.get(name, {}).get("versions", {}).items())
        console.print(Text.assemble((name, "bold"), f" — {versions}" if versions else ""))
        clusters = report.diagnosis.clusters
        if not clusters:
            console.print(f"  {t('runtimes.none', lang)}")
        for c in clusters:
            console.print(f"  • {cluster_headline(c, lang)}")
            if c.smallest is not None:
                console.print(Text(f"    {reproduce(name)(c.smallest.spec)}", style="dim"), soft_wrap=True)


def audit_runtime_header(runtime: dict, lang: str = "en") -> Text:
    versions = ", ".join(f"{k} {v}" for k, v in runtime.get("versions", {}).items()) or "—"
    return Text(t("runtimes.audit_header", lang, name=runtime.get("label", runtime["name"]), versions=versions,
                  tol=runtime.get("tolerance", "")), style="dim")


def layer_verdict_text(v: dict, lang: str = "en") -> Text:
    name = v.get("runtime", "runtime")
    if v["verdict"] == "pass":
        err = "—" if v.get("max_abs_err") is None else f"{v['max_abs_err']:.2g}"
        return Text(t("runtimes.verdict.pass", lang, name=name, err=err), style="green")
    if v["verdict"] == "skipped":
        return Text(t("runtimes.verdict.skipped", lang, name=name, what=v.get("message", "")), style="yellow")
    from .verify import kind_label

    what = kind_label(v["verdict"], lang)
    if v.get("max_abs_err") is not None:
        what += f", max |err| {v['max_abs_err']:.3g}"
    if v.get("message"):
        what += f": {v['message'][:300]}"
    return Text(t("runtimes.verdict.fail", lang, name=name, what=what), style="bold red")
