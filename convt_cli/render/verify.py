"""Rich renderables for `convt verify`: the header, the per-feature summary table, the failing cases.

Reads a :class:`convt_cli.verify.Report`; computes nothing of its own.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import numpy as np
from rich import box
from rich.console import Console, Group, RenderableType
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from ..i18n import define, t
from ..limits import human_bytes
from ..verify import FAILURE_KINDS, FLOAT32_PATH_TOLERANCE, FORWARD_FEATURES, CaseSpec, Cluster, FeatureRow, Report
from ..verify.report import small_arrays
from .layout import Hanging, ShellLine

MAX_FAILURES_SHOWN = 10  # failing checks listed when no forward case failed (adjoint, error parity)

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
    "verify.feature.stride_gt1": ("stride > 1", "stride > 1"),
    "verify.feature.stride_gt_kernel": ("stride > kernel", "stride > 卷积核"),
    "verify.feature.stride_aniso": ("anisotropic stride", "各向异性 stride"),
    "verify.feature.padding": ("padding > 0", "padding > 0"),
    "verify.feature.padding_aniso": ("anisotropic padding", "各向异性 padding"),
    "verify.feature.padding_beyond_kernel": ("padding > dilation·(k−1)", "padding > dilation·(k−1)"),
    "verify.feature.output_padding": ("output_padding > 0", "output_padding > 0"),
    "verify.feature.output_padding_dilation": ("output_padding ≥ stride", "output_padding ≥ stride"),
    "verify.feature.dilation": ("dilation > 1", "dilation > 1"),
    "verify.feature.groups": ("groups > 1", "groups > 1"),
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
    "verify.col.max_abs": ("Max abs err", "最大绝对误差"),
    "verify.col.max_rel": ("Max rel err", "最大相对误差"),
    "verify.title": ("convt verify", "convt verify"),
    "verify.subject": ("subject", "被测实现"),
    "verify.subject_engine": ("convt's NumPy engine", "convt 的 NumPy 引擎"),
    "verify.against": ("against PyTorch float64 (torch {version})", "对照 PyTorch float64（torch {version}）"),
    "verify.dtype": ("dtype", "数据类型"),
    "verify.sweep": ("{planned} cases (seed {seed}, dims {dims})", "{planned} 个用例（种子 {seed}，维数 {dims}）"),
    "verify.single": ("1 case", "1 个用例"),
    "verify.sweep_more": ("{planned} cases: {n} random forward + {extra} adjoint and error-parity checks (seed {seed}, "
                          "dims {dims})",
                          "{planned} 个用例：{n} 个随机前向 + {extra} 个伴随与报错一致性检查"
                          "（种子 {seed}，维数 {dims}）"),
    "verify.tolerance": ("tolerance", "容差"),
    "verify.tol_values": ("values ({dtype}): {formula}", "数值（{dtype}）：{formula}"),
    "verify.tol_scaled": ("L = C_in/groups·∏k, the reduction length, per case (largest here: {max_l})",
                          "L = C_in/groups·∏k，即每个用例的归约长度（本次最大 {max_l}）"),
    "verify.tol_f32": ("float32 path: {formula} against the float64 reference (torch.testing's float32 defaults)",
                       "float32 路径：{formula}，对照 float64 参考（torch.testing 的 float32 默认值）"),
    "verify.inputs": ("inputs uniform in [-1, 1], seeded by each case's text",
                      "输入在 [-1, 1] 内均匀取值，种子由用例文本决定"),
    "verify.bf16_note": ("the engine computes bfloat16 in float32 and rounds its result to bfloat16",
                         "引擎以 float32 计算 bfloat16 用例，再把结果舍入到 bfloat16"),
    "verify.all_passed": ("All {n} cases passed in {secs:.1f} s (PyTorch import included).",
                          "全部 {n} 个用例通过，用时 {secs:.1f} 秒（含 PyTorch 导入）。"),
    "verify.one_passed": ("The case passed in {secs:.1f} s (PyTorch import included).",
                          "该用例通过，用时 {secs:.1f} 秒（含 PyTorch 导入）。"),
    "verify.some_failed": ("{failed} of {n} cases failed ({secs:.1f} s, PyTorch import included).",
                           "{n} 个用例中 {failed} 个失败（{secs:.1f} 秒，含 PyTorch 导入）。"),
    "verify.interrupted": ("Interrupted after {done} of {planned} cases; the summary covers those.",
                           "在 {planned} 个用例中完成 {done} 个后被中断；以上汇总只含已完成的用例。"),
    "verify.stopped": ("Stopped at the first failure (--fail-fast) after {done} of {planned} cases.",
                       "遇到第一个失败即停止（--fail-fast），已完成 {planned} 个中的 {done} 个。"),
    "verify.progress": ("verifying", "验证中"),
    "verify.reproduce": ("reproduce", "复现"),
    "verify.col.failed": ("Failed", "失败"),
    "verify.no_number": ("* also failures without an error value ({kinds}): the error columns cover only the "
                         "cases that returned numbers.",
                         "* 另有无误差数值的失败（{kinds}）：误差列只统计返回了数值的用例。"),
    "verify.kind.exception": ("raised", "异常"),
    "verify.kind.crash": ("crash", "崩溃"),
    "verify.kind.timeout": ("hang", "超时"),
    "verify.kind.memory": ("memory", "内存"),
    "verify.kind.mutation": ("mutated", "改写输入"),
    "verify.kind.returned": ("no array", "非数组"),
    "verify.kind.shape": ("shape", "形状"),
    "verify.kind.nonfinite": ("NaN/inf", "NaN/inf"),
    "verify.kind.values": ("values", "数值"),
    "verify.kind.formula": ("formula", "公式"),
    "verify.kind.rejected": ("rule", "规则"),
    "verify.kind.exporter": ("exporter refused", "导出器拒绝"),
    "verify.kind.converter": ("converter refused", "转换器拒绝"),
    "verify.kind.runtime": ("runtime refused", "运行时拒绝"),
    "verify.what.exporter": ("the exporter refused the module", "导出器拒绝了该模块"),
    "verify.what.converter": ("the converter refused the exported model", "转换器拒绝了导出的模型"),
    "verify.what.runtime": ("the runtime refused to load or run the model", "运行时拒绝加载或运行该模型"),
    "verify.what.crash": ("the worker process died without an answer", "工作进程未作答即终止"),
    "verify.what.timeout": ("no answer within the timeout", "超时未返回"),
    "verify.what.memory": ("the worker's resident memory passed its limit", "工作进程的常驻内存超过上限"),
    "verify.what.mutation": ("the function wrote into its input arrays", "函数改写了输入数组"),
    "verify.what.returned": ("the function returned no real array", "函数未返回实数数组"),
    "verify.what.shape": ("wrong output shape", "输出形状错误"),
    "verify.what.nonfinite": ("NaN or inf where PyTorch has none", "出现 PyTorch 没有的 NaN 或 inf"),
    "verify.what.values": ("wrong values", "数值错误"),
    "verify.diagnosis": ("Diagnosis: {n} clusters of failing cases", "诊断：{n} 组失败用例"),
    "verify.diagnosis_one": ("Diagnosis: one cluster of failing cases", "诊断：一组失败用例"),
    "verify.every_case": ("{what} in every case ({n})", "{what}：全部用例（{n} 个）"),
    "verify.every_with": ("{what} in every case with {features} ({n})", "{what}：凡是 {features} 的用例（{n} 个）"),
    "verify.other_ways": (" (and {n} other ways of failing)", "（另有 {n} 种失败方式）"),
    "verify.some_with": ("{what} in {n} cases with {features}", "{what}：{features} 的用例中有 {n} 个"),
    "verify.one_with": ("{what} in 1 case with {features}", "{what}：{features} 的用例中有 1 个"),
    "verify.unexplained": ("{what} in {n} cases that no feature separates from passing ones",
                           "{what}：{n} 个用例，没有特性能把它们与通过的用例区分开"),
    "verify.and": (" and ", " 且 "),
    "verify.rate": ("{feature}: {f} of {n} fail", "{feature}：{n} 个中 {f} 个失败"),
    "verify.rate_without": ("otherwise: {f} of {n}", "其余：{n} 个中 {f} 个"),
    "verify.rate_all": ("all cases: {f} of {n} fail", "全部用例：{n} 个中 {f} 个失败"),
    "verify.smallest": ("smallest failing case", "最小失败用例"),
    "verify.shrunk_from": ("shrunk from {case} in {runs} runs", "由 {case} 经 {runs} 次运行缩小而来"),
    "verify.expected": ("expected", "期望"),
    "verify.actual": ("actual", "实际"),
    "verify.draw": ("draw it", "逐步绘制"),
    "verify.also_failed": ("Also failed, as a consequence of the failures above (not a cause): {checks}.",
                           "同样失败（是上述失败的结果，而非原因）：{checks}。"),
    "verify.checks_failed": ("Failed checks: {checks}.", "失败的检查：{checks}。"),
    "verify.of": ("{f} of {n}", "{n} 个中 {f} 个"),
    "verify.all_in_json": ("Every failing case, with its reproducer, is in --json.",
                           "每个失败用例及其复现命令见 --json。"),
    "verify.left_out": ("Left out (--{option} {keys}): {n} cases of the unnarrowed sweep; the rest passed "
                        "or failed on their own.",
                        "已排除（--{option} {keys}）：未缩小的扫描中的 {n} 个用例；其余用例照常检查。"),
    "verify.case_left_out": ("The case was left out by --{option} {keys}: nothing was checked.",
                             "该用例被 --{option} {keys} 排除：没有检查任何内容。"),
    "verify.isolation": ("--impl runs in a worker process: {timeout:g} s per call (--timeout), resident memory "
                         "limited to {limit} (what it held after loading + the memory budget, CONVT_MAX_BYTES)",
                         "--impl 在工作进程中运行：每次调用 {timeout:g} 秒（--timeout），常驻内存上限 {limit}"
                         "（加载后占用 + 内存预算 CONVT_MAX_BYTES）"),
})

NEGATED = {
    "dims_1": ("2-d or 3-d", "二维或三维"), "dims_2": ("1-d or 3-d", "一维或三维"),
    "dims_3": ("1-d or 2-d", "一维或二维"),
    "unbatched": ("batched", "有批次维"), "batch_1": ("batch ≠ 1 or unbatched", "批大小 ≠ 1 或无批次维"),
    "batch_gt1": ("batch ≤ 1", "批大小 ≤ 1"), "channels_gt1": ("one channel", "单通道"),
    "kernel_gt1": ("kernel = 1", "卷积核 = 1"), "kernel_nonsquare": ("square kernel", "方形卷积核"),
    "stride_gt1": ("stride = 1", "stride = 1"), "stride_gt_kernel": ("stride ≤ kernel", "stride ≤ 卷积核"),
    "stride_aniso": ("same stride in every dim", "各维 stride 相同"), "padding": ("padding = 0", "padding = 0"),
    "padding_aniso": ("same padding in every dim", "各维 padding 相同"),
    "padding_beyond_kernel": ("padding ≤ dilation·(k−1)", "padding ≤ dilation·(k−1)"),
    "output_padding": ("output_padding = 0", "output_padding = 0"),
    "output_padding_dilation": ("output_padding < stride", "output_padding < stride"),
    "dilation": ("dilation = 1", "dilation = 1"), "groups": ("groups = 1", "groups = 1"),
    "depthwise": ("not depthwise", "非逐通道"), "bias": ("no bias", "无偏置"),
}
define({f"verify.not.{k}": v for k, v in NEGATED.items()})


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


def kind_label(kind: str, lang: str = "en") -> str:
    return t(f"verify.kind.{kind}", lang) if f"verify.kind.{kind}" in _KNOWN_KINDS else kind


_KNOWN_KINDS = {f"verify.kind.{k}" for k in ("exception", "crash", "timeout", "memory", "mutation", "returned",
                                             "shape", "nonfinite", "values", "formula", "rejected",
                                             "exporter", "converter", "runtime")}


def _failed_cell(row: FeatureRow, lang: str) -> str:
    if not row.failed:
        return "0"
    if len(row.kinds) == 1:  # one kind a line: the column never wraps
        (kind,) = row.kinds
        return f"{row.failed} {kind_label(kind, lang)}"
    order = sorted(row.kinds, key=lambda k: (FAILURE_KINDS + ("formula", "rejected")).index(k)
                   if k in FAILURE_KINDS + ("formula", "rejected") else 99)
    return "\n".join(f"{row.kinds[k]} {kind_label(k, lang)}" for k in order)


def summary_table(report: Report, lang: str = "en") -> Table:
    """One row per feature present and per check kind: cases, passed, failures by kind, max abs and max rel
    error; an error cell is starred when some of the row's failures have no error value."""
    rows = report.rows()
    failed = any(row.failed for row in rows)
    labels = [feature_label(row.key, lang) for row in rows]
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    table.add_column(t("verify.col.feature", lang))  # the one column that wraps when the terminal is narrow
    # with failures, "Failed" (counted by kind) takes the place of "Passed" (= cases − failed)
    for key in ("cases", "failed" if failed else "passed", "max_abs", "max_rel"):
        table.add_column(t(f"verify.col.{key}", lang), justify="right", no_wrap=True)
    last_feature = max((i for i, row in enumerate(rows) if row.key in FORWARD_FEATURES), default=-1)
    for i, (row, label) in enumerate(zip(rows, labels)):
        style = "red" if row.failed else None
        star = " *" if row.no_number and row.key not in ("size_formula", "error_parity") else ""
        cells = [label, str(row.cases), _failed_cell(row, lang) if failed else str(row.passed)]
        cells += [fmt_err(row.max_abs) + star, fmt_err(row.max_rel) + star]
        table.add_row(*cells, style=style, end_section=row.key == "all" or i == last_feature)
    return table


def no_number_note(report: Report, lang: str = "en") -> Text | None:
    """The footnote of the starred error cells: which failures had no number."""
    kinds: set[str] = set()
    for row in report.rows():
        if row.key not in ("size_formula", "error_parity"):
            kinds |= {k for k in row.kinds if k not in ("values", "nonfinite")}
    if not kinds:
        return None
    order = [k for k in FAILURE_KINDS if k in kinds]
    return Text(t("verify.no_number", lang, kinds=", ".join(kind_label(k, lang) for k in order)), style="dim")


def header(report: Report, lang: str = "en", torch_version: str = "?") -> Group:
    """The run's header; a line too long for the terminal wraps under its own indentation."""
    subject = t("verify.subject_engine", lang) if report.subject == "engine" else report.subject
    dims = ",".join(map(str, report.dims))
    if report.single_case:
        sweep = t("verify.single", lang)
    elif report.requested_cases is not None and report.planned != report.requested_cases:
        # --cases N asks for N random forward cases; the adjoint and error-parity checks come on top.
        sweep = t("verify.sweep_more", lang, planned=report.planned, n=report.requested_cases,
                  extra=report.planned - report.requested_cases, seed=report.seed, dims=dims)
    else:
        sweep = t("verify.sweep", lang, planned=report.planned, seed=report.seed, dims=dims)
    lines: list[RenderableType] = [
        Hanging(Text.assemble((t("verify.title", lang), "bold"), " · ", f"{t('verify.subject', lang)}: ",
                              (subject, "bold"), " · ", f"{t('verify.dtype', lang)} {report.dtype}", " · ", sweep)),
        Hanging(t("verify.against", lang, version=torch_version) + "; " + t("verify.inputs", lang), style="dim"),
    ]
    tol = report.tolerance
    lines.append(Hanging(f"{t('verify.tolerance', lang)}: "
                         + t("verify.tol_values", lang, dtype=report.dtype, formula=tol.formula(define=False))))
    if tol.scaled:
        lines.append(Hanging(t("verify.tol_scaled", lang, max_l=report.max_reduction or "—"), first=2, hang=4))
    if report.float32_path:
        lines.append(Hanging(t("verify.tol_f32", lang, formula=FLOAT32_PATH_TOLERANCE.formula()), first=2, hang=4))
    if report.timeout_s is not None:
        limit = human_bytes(report.memory_limit) if report.memory_limit else "—"
        lines.append(Hanging(t("verify.isolation", lang, timeout=report.timeout_s, limit=limit), style="dim"))
    if report.dtype == "bfloat16" and report.subject == "engine":
        lines.append(Hanging(t("verify.bf16_note", lang), first=2, hang=4, style="dim"))
    return Group(*lines)


def _features_text(keys: tuple[str, ...], lang: str) -> str:
    return t("verify.and", lang).join(feature_label(k, lang) for k in keys)


def cluster_headline(cluster: Cluster, lang: str = "en") -> str:
    """One line naming what fails and where: "wrong values in every case with groups > 1 (240)"."""
    if cluster.kind == "exception":
        message = cluster.main_message
        what = _short(message.split(": ", 1)[-1] if message.startswith("values: ") else message, 60)
    else:
        what = t(f"verify.what.{cluster.kind}", lang) if cluster.kind in _WHAT else cluster.kind
    if cluster.other_signatures:
        what += t("verify.other_ways", lang, n=len(cluster.other_signatures))
    if not cluster.explained:
        return t("verify.unexplained", lang, what=what, n=cluster.count)
    if not cluster.features:
        return t("verify.every_case", lang, what=what, n=cluster.count) if cluster.everywhere else \
            t("verify.some_with", lang, what=what, n=cluster.count, features=t("verify.feature.all", lang))
    feats = _features_text(cluster.features, lang)
    key = "verify.every_with" if cluster.everywhere else "verify.one_with" if cluster.count == 1 else \
        "verify.some_with"
    return t(key, lang, what=what, n=cluster.count, features=feats)


_WHAT = {"crash", "timeout", "memory", "mutation", "returned", "shape", "nonfinite", "values", "exporter",
         "converter", "runtime"}


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def rate_line(cluster: Cluster, lang: str = "en") -> str:
    parts = []
    for r in cluster.rates:
        if not r.feature:
            parts.append(t("verify.rate_all", lang, f=r.with_failed, n=r.with_total))
            continue
        parts.append(t("verify.rate", lang, feature=feature_label(r.feature, lang), f=r.with_failed, n=r.with_total))
        neg = t(f"verify.not.{r.feature}", lang)
        parts.append(neg + _colon(lang) + t("verify.of", lang, f=r.without_failed, n=r.without_total))
    return " · ".join(parts)


def _colon(lang: str) -> str:
    return "：" if lang == "zh" else ": "


def _fmt_values(arr: np.ndarray) -> str:
    """A small array as nested rows, 4 significant digits: "[[0.1235, -1], [2, 0]]"."""
    def fmt(v: float) -> str:
        return f"{v:.4g}" if np.isfinite(v) else str(v)

    while arr.ndim > 1 and arr.shape[0] == 1:  # a batch of one, one channel: drop the brackets
        arr = arr[0]
    if arr.ndim == 0:
        return fmt(float(arr))
    if arr.ndim == 1:
        return "[" + ", ".join(fmt(float(v)) for v in arr) + "]"
    return "[" + ", ".join(_fmt_values(a) for a in arr) + "]"


def show_hint(spec: CaseSpec, x: np.ndarray | None, w: np.ndarray | None) -> str | None:
    """``convt show -i … -k … -s …`` for a 1-d or 2-d case with one channel in and out, batch ≤ 1."""
    if spec.ndim > 2 or spec.in_channels != 1 or spec.out_channels != 1 or spec.batch != 1 or x is None:
        return None

    def mat(a: np.ndarray) -> str:
        a = np.round(np.asarray(a).reshape(a.shape[-spec.ndim:]), 2) + 0.0  # + 0.0: no "-0"
        text = json.dumps(a.tolist(), separators=(",", ":")).replace(".0,", ",").replace(".0]", "]")
        return text if spec.ndim == 2 else text[1:-1]

    def dim(values: tuple[int, ...]) -> str:
        return str(values[0]) if len(set(values)) == 1 else ",".join(map(str, values))

    parts = ["convt", "show", "-i", f'"{mat(x)}"', "-k", f'"{mat(w)}"', "-s", dim(spec.stride)]
    for flag, values, default in (("-p", spec.padding, 0), ("--output-padding", spec.output_padding, 0),
                                  ("-d", spec.dilation, 1)):
        if any(v != default for v in values):
            parts += [flag, dim(values)]
    return " ".join(parts)


def diagnosis_block(report: Report, reproduce: Callable[[CaseSpec], str], lang: str = "en") -> list[RenderableType]:
    """The clusters of failing forward cases, each with its smallest case; then the checks that also failed.

    A line too long for the terminal wraps under its own indentation (:class:`Hanging`); reproducer and
    hint commands break between words with `` \\`` (:class:`ShellLine`), so a copy still runs as is.
    """
    diagnosis = report.diagnosis
    items: list[RenderableType] = []
    clusters = diagnosis.clusters
    if clusters:
        title = t("verify.diagnosis_one", lang) if len(clusters) == 1 else t("verify.diagnosis", lang,
                                                                               n=len(clusters))
        items.append(Text(title, style="bold red"))
    for n, cluster in enumerate(clusters, 1):
        items.append(Text.assemble((f"{n}. ", "bold red"), (cluster_headline(cluster, lang), "bold")))
        items.append(Hanging("   " + rate_line(cluster, lang), hang=5))
        case = cluster.smallest
        if case is None:
            continue
        items.append(Text.assemble(f"   {t('verify.smallest', lang)}{_colon(lang)}", (case.spec.format(), "bold")))
        if cluster.shrunk_from is not None:
            items.append(Hanging("     " + t("verify.shrunk_from", lang, case=cluster.shrunk_from.format(),
                                             runs=cluster.shrink_runs), hang=7, style="dim"))
        for c in case.checks:
            if not c.passed:
                items.append(Hanging(f"     {feature_label(c.name, lang)}{_colon(lang)}{c.message}", hang=7))
        arrays = small_arrays(case)
        if arrays is not None:
            expected, actual = arrays
            items.append(Hanging(f"     {t('verify.expected', lang)}{_colon(lang)}{_fmt_values(expected)}", hang=7))
            if actual is not None:
                items.append(Hanging(f"     {t('verify.actual', lang)}{_colon(lang)}{_fmt_values(actual)}", hang=7))
        items.append(ShellLine(f"     {t('verify.reproduce', lang)}{_colon(lang)}", reproduce(case.spec), "cyan"))
        if not case.spec.adjoint:
            x, w, _ = case.spec.make_data()
            hint = show_hint(case.spec, x, w)
            if hint:
                items.append(ShellLine(f"     {t('verify.draw', lang)}{_colon(lang)}", hint, "cyan"))
    if diagnosis.also_failed:
        checks = ", ".join(f"{feature_label(k, lang)} " + t("verify.of", lang, f=f, n=n)
                           for k, (f, n) in diagnosis.also_failed.items())
        key = "verify.also_failed" if clusters else "verify.checks_failed"
        items.append(Hanging(t(key, lang, checks=checks), style="red"))
        if not clusters:
            for r in report.failures[:MAX_FAILURES_SHOWN]:
                items.append(Text.assemble(("✗ ", "red"), (r.spec.format(), "bold")))
                for c in r.checks:
                    if not c.passed:
                        items.append(Hanging(f"    {feature_label(c.name, lang)}{_colon(lang)}{c.message}", hang=6))
                items.append(ShellLine(f"    {t('verify.reproduce', lang)}{_colon(lang)}", reproduce(r.spec), "cyan"))
    if report.failures:
        items.append(Text(t("verify.all_in_json", lang), style="dim"))
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
    return Group(*lines)


def left_out_line(report: Report, lang: str = "en") -> Text | None:
    """What --only/--skip (and --convention: the cases it cannot express) left out of the sweep."""
    parts = [("only", report.only), ("skip", report.skip),
             ("convention", (report.convention,) if report.convention else ())]
    parts = [(option, keys) for option, keys in parts if keys]
    if not parts:
        return None
    option = " --".join(f"{o} {','.join(k)}" for o, k in parts)
    first, rest = option.split(" ", 1)
    if report.single_case:
        return Text(t("verify.case_left_out", lang, option=first, keys=rest), style="yellow") \
            if report.left_out else None
    return Text(t("verify.left_out", lang, option=first, keys=rest, n=report.left_out), style="yellow")


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
        note = no_number_note(report, lang)
        if note is not None:
            console.print(note)
        items = diagnosis_block(report, reproduce, lang)
        if items:
            console.print()
        for item in items:
            console.print(item)
    console.print()
    left = left_out_line(report, lang)
    if left is not None:
        console.print(left)
    console.print(footer(report, lang))


def make_progress(console: Console, lang: str = "en") -> Progress:
    """The progress bar shown on a terminal while the sweep runs (transient: it clears itself)."""
    return Progress(TextColumn(t("verify.progress", lang)), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    console=console, transient=True)
