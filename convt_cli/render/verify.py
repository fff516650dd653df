"""Rich renderables for `convt verify`: the header, the per-feature summary table, the failing cases.

Reads a :class:`convt_cli.verify.Report`; computes nothing of its own.
"""

from __future__ import annotations

from collections.abc import Callable

from rich import box
from rich.console import Console, Group, RenderableType
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from ..i18n import define, t
from ..verify import FLOAT32_PATH_TOLERANCE, FORWARD_FEATURES, CaseSpec, Report

MAX_FAILURES_SHOWN = 10

define({
    "verify.feature.all": ("all cases", "全部用例"),
    "verify.feature.dims_1": ("1-d", "一维"),
    "verify.feature.dims_2": ("2-d", "二维"),
    "verify.feature.dims_3": ("3-d", "三维"),
    "verify.feature.unbatched": ("unbatched", "无批次维"),
    "verify.feature.batch_1": ("batch = 1", "批大小 = 1"),
    "verify.feature.batch_gt1": ("batch > 1", "批大小 > 1"),
    "verify.feature.channels_gt1": ("several channels", "多通道"),
    "verify.feature.kernel_gt1": ("kernel > 1", "卷积核 > 1"),
    "verify.feature.kernel_nonsquare": ("non-square kernel", "非方形卷积核"),
    "verify.feature.stride_gt1": ("stride > 1", "步幅 > 1"),
    "verify.feature.stride_gt_kernel": ("stride > kernel", "步幅 > 卷积核"),
    "verify.feature.stride_aniso": ("anisotropic stride", "各向异性步幅"),
    "verify.feature.padding": ("padding > 0", "填充 > 0"),
    "verify.feature.padding_aniso": ("anisotropic padding", "各向异性填充"),
    "verify.feature.output_padding": ("output_padding > 0", "output_padding > 0"),
    "verify.feature.output_padding_dilation": ("output_padding ≥ stride (< dilation)",
                                               "output_padding ≥ 步幅（< 膨胀）"),
    "verify.feature.dilation": ("dilation > 1", "膨胀 > 1"),
    "verify.feature.groups": ("groups > 1", "分组 > 1"),
    "verify.feature.depthwise": ("depthwise", "逐通道（depthwise）"),
    "verify.feature.bias": ("bias", "偏置"),
    "verify.feature.values": ("values", "数值"),
    "verify.feature.size_formula": ("output-size formula", "输出尺寸公式"),
    "verify.feature.float32_path": ("float32 path", "float32 路径"),
    "verify.feature.adjoint": ("adjoint identity", "伴随恒等式"),
    "verify.feature.error_parity": ("error parity", "错误一致性"),
    "verify.col.feature": ("Feature", "特性"),
    "verify.col.cases": ("Cases", "用例"),
    "verify.col.passed": ("Passed", "通过"),
    "verify.col.max_abs": ("Max abs error", "最大绝对误差"),
    "verify.col.max_rel": ("Max rel error", "最大相对误差"),
    "verify.title": ("convt verify", "convt verify"),
    "verify.subject": ("subject", "被测实现"),
    "verify.subject_engine": ("convt's NumPy engine", "convt 的 NumPy 引擎"),
    "verify.against": ("against PyTorch float64 (torch {version})", "对照 PyTorch float64（torch {version}）"),
    "verify.dtype": ("dtype", "数据类型"),
    "verify.sweep": ("{planned} cases (seed {seed}, dims {dims})", "{planned} 个用例（种子 {seed}，维数 {dims}）"),
    "verify.single": ("1 case", "1 个用例"),
    "verify.tolerance": ("tolerance", "容差"),
    "verify.tol_values": ("values ({dtype}): {formula}", "数值（{dtype}）：{formula}"),
    "verify.tol_scaled": ("L = C_in/groups·∏k, the reduction length, per case (largest here: {max_l})",
                          "L = C_in/groups·∏k，即每个用例的归约长度（本次最大 {max_l}）"),
    "verify.tol_f32": ("float32 path: {formula} against the float64 reference (FACTS.md §3)",
                       "float32 路径：{formula}，对照 float64 参考（FACTS.md §3）"),
    "verify.inputs": ("inputs uniform in [-1, 1], seeded by each case's text",
                      "输入在 [-1, 1] 内均匀取值，种子由用例文本决定"),
    "verify.bf16_note": ("the engine computes bfloat16 in float32 and rounds its result to bfloat16",
                         "引擎以 float32 计算 bfloat16 用例，再把结果舍入到 bfloat16"),
    "verify.failing": ("Failing cases ({shown} of {total}):", "失败用例（{total} 个中的 {shown} 个）："),
    "verify.all_passed": ("All {n} cases passed in {secs:.1f} s (PyTorch import included).",
                          "全部 {n} 个用例通过，用时 {secs:.1f} 秒（含 PyTorch 导入）。"),
    "verify.one_passed": ("The case passed in {secs:.1f} s (PyTorch import included).",
                          "该用例通过，用时 {secs:.1f} 秒（含 PyTorch 导入）。"),
    "verify.some_failed": ("{failed} of {n} cases failed ({secs:.1f} s, PyTorch import included).",
                           "{n} 个用例中 {failed} 个失败（{secs:.1f} 秒，含 PyTorch 导入）。"),
    "verify.point_at": ("Failures point at: {features}.", "失败集中在：{features}。"),
    "verify.interrupted": ("Interrupted after {done} of {planned} cases; the summary covers those.",
                           "在 {planned} 个用例中完成 {done} 个后被中断；以上汇总只含已完成的用例。"),
    "verify.stopped": ("Stopped at the first failure (--fail-fast) after {done} of {planned} cases.",
                       "遇到第一个失败即停止（--fail-fast），已完成 {planned} 个中的 {done} 个。"),
    "verify.progress": ("verifying", "验证中"),
    "verify.reproduce": ("reproduce", "复现"),
})


def fmt_err(value: float | None) -> str:
    if value is None:
        return "—"
    if value != value:  # NaN
        return "nan"
    if value == 0:
        return "0"
    return f"{value:.2e}"


def feature_label(key: str, lang: str = "en") -> str:
    return t(f"verify.feature.{key}", lang)


def summary_table(report: Report, lang: str = "en") -> Table:
    """One row per feature present and per check kind: cases, passed, max abs and max rel error."""
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    table.add_column(t("verify.col.feature", lang))
    for key in ("cases", "passed", "max_abs", "max_rel"):
        table.add_column(t(f"verify.col.{key}", lang), justify="right")
    rows = report.rows()
    last_feature = max((i for i, row in enumerate(rows) if row.key in FORWARD_FEATURES), default=-1)
    for i, row in enumerate(rows):
        style = "red" if row.failed else None
        table.add_row(feature_label(row.key, lang), str(row.cases), str(row.passed), fmt_err(row.max_abs),
                      fmt_err(row.max_rel), style=style, end_section=row.key == "all" or i == last_feature)
    return table


def header(report: Report, lang: str = "en", torch_version: str = "?") -> Group:
    subject = t("verify.subject_engine", lang) if report.subject == "engine" else report.subject
    if report.single_case:
        sweep = t("verify.single", lang)
    else:
        sweep = t("verify.sweep", lang, planned=report.planned, seed=report.seed,
                  dims=",".join(map(str, report.dims)))
    lines: list[RenderableType] = [
        Text.assemble((t("verify.title", lang), "bold"), " · ", f"{t('verify.subject', lang)}: ", (subject, "bold"),
                      " · ", f"{t('verify.dtype', lang)} {report.dtype}", " · ", sweep),
        Text(t("verify.against", lang, version=torch_version) + "; " + t("verify.inputs", lang), style="dim"),
    ]
    tol = report.tolerance
    lines.append(Text(f"{t('verify.tolerance', lang)}: "
                      + t("verify.tol_values", lang, dtype=report.dtype, formula=tol.formula())))
    if tol.scaled:
        lines.append(Text("  " + t("verify.tol_scaled", lang, max_l=report.max_reduction or "—")))
    if report.float32_path:
        lines.append(Text("  " + t("verify.tol_f32", lang, formula=FLOAT32_PATH_TOLERANCE.formula())))
    if report.dtype == "bfloat16" and report.subject == "engine":
        lines.append(Text("  " + t("verify.bf16_note", lang), style="dim"))
    return Group(*lines)


def failures_block(report: Report, reproduce: Callable[[CaseSpec], str], lang: str = "en",
                   limit: int = MAX_FAILURES_SHOWN) -> list[Text]:
    """The first ``limit`` failing cases, each with its failed checks and its reproducer line.

    Reproducer lines are marked ``no_wrap``: :func:`render_report` prints them soft-wrapped, so the
    terminal folds them and a copy gives one runnable line.
    """
    failures = report.failures
    if not failures:
        return []
    shown = failures[:limit]
    items = [Text(t("verify.failing", lang, shown=len(shown), total=len(failures)), style="bold red")]
    for r in shown:
        items.append(Text.assemble(("✗ ", "red"), (r.spec.format(), "bold")))
        for c in r.checks:
            if not c.passed:
                items.append(Text(f"    {feature_label(c.name, lang)}: {c.message}"))
        items.append(Text(f"    {t('verify.reproduce', lang)}: {reproduce(r.spec)}", style="cyan", no_wrap=True))
    return items


def case_details(report: Report, lang: str = "en") -> Group | None:
    """Every check of a single ``--case`` run, passed or not, with its tolerance or rule."""
    if not report.single_case or not report.results:
        return None
    items: list[RenderableType] = []
    for c in report.results[0].checks:
        mark = ("✓ ", "green") if c.passed else ("✗ ", "red")
        line = Text.assemble(mark, (feature_label(c.name, lang), "bold"))
        if c.max_abs is not None:
            line.append(f"  {t('verify.col.max_abs', lang)} {fmt_err(c.max_abs)}")
        if c.tolerance:
            line.append(f"  [{c.tolerance}]", style="dim")
        items.append(line)
        if c.message:
            items.append(Text(f"    {c.message}"))
    return Group(*items)


def footer(report: Report, lang: str = "en") -> Group:
    lines: list[RenderableType] = []
    if report.interrupted:
        lines.append(Text(t("verify.interrupted", lang, done=report.completed, planned=report.planned),
                          style="yellow"))
    elif report.stopped_early:
        lines.append(Text(t("verify.stopped", lang, done=report.completed, planned=report.planned), style="yellow"))
    failed = len(report.failures)
    if failed == 0:
        key = "verify.one_passed" if report.completed == 1 else "verify.all_passed"
        lines.append(Text(t(key, lang, n=report.completed, secs=report.elapsed_s),
                          style="bold green" if not report.interrupted else "bold"))
    else:
        lines.append(Text(t("verify.some_failed", lang, failed=failed, n=report.completed, secs=report.elapsed_s),
                          style="bold red"))
        suspects = report.suspects()
        if suspects:
            sep = "、" if lang == "zh" else ", "
            lines.append(Text(t("verify.point_at", lang,
                                features=sep.join(feature_label(k, lang) for k in suspects)), style="red"))
    return Group(*lines)


def render_report(console: Console, report: Report, reproduce: Callable[[CaseSpec], str], lang: str = "en",
                  torch_version: str = "?") -> None:
    console.print(header(report, lang, torch_version))
    console.print()
    console.print(summary_table(report, lang))
    if report.single_case:
        block = case_details(report, lang)
        if block is not None:
            console.print()
            console.print(block)
    else:
        items = failures_block(report, reproduce, lang)
        if items:
            console.print()
        for item in items:
            console.print(item, soft_wrap=bool(item.no_wrap))
    console.print()
    console.print(footer(report, lang))


def make_progress(console: Console, lang: str = "en") -> Progress:
    """The progress bar shown on a terminal while the sweep runs (transient: it clears itself)."""
    return Progress(TextColumn(t("verify.progress", lang)), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    console=console, transient=True)
