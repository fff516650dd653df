"""The labels of ``convt show`` (scatter view, header, legend, checks) in English and Chinese."""

from __future__ import annotations

from ..i18n import define

define(
    {
        "show.input_line": ("Input {x} · kernel {k}", "输入 {x} · 卷积核 {k}"),
        "show.input_line_channels": ("Input {x} (C_in × spatial) · kernel {k} (C_in × C_out/groups × k)",
                                     "输入 {x}（C_in × 空间）· 卷积核 {k}（C_in × C_out/groups × k）"),
        "show.seed": ("random values, seed={seed}", "随机数值，seed={seed}"),
        "show.output_size": ("Output size = (in − 1)×stride − 2×padding + dilation×(k − 1) + output_padding + 1",
                             "输出尺寸 = (输入 − 1)×stride − 2×padding + dilation×(k − 1) + output_padding + 1"),
        "show.channel_note": (
            "Output channel {co} of {cout}: the sum over input channels {chs} (groups={g}); each step adds "
            "one input position of every channel in the group",
            "输出通道 {co}（共 {cout} 个）：对输入通道 {chs} 求和（groups={g}）；"
            "每一步加入该组所有通道在同一位置的输入",
        ),
        "show.channel_note_one": (
            "Output channel {co} of {cout}: fed by input channel {chs} only (groups={g})",
            "输出通道 {co}（共 {cout} 个）：只由输入通道 {chs} 贡献（groups={g}）",
        ),
        "show.step_title": ("Step {n}: input element {value} (position {pos})",
                            "步骤{n}: 处理输入元素{value}（位置{pos}）"),
        "show.input_value": ("input value={value}", "输入值={value}"),
        "show.input_values": ("input values (per channel)", "输入值（每个通道）"),
        "show.kernel": ("kernel", "卷积核"),
        "show.kernel_channel": ("kernel, channel {c}", "卷积核，通道{c}"),
        "show.product": ("{value} × kernel", "{value} × 卷积核"),
        "show.product_sum": ("Σ channels value × kernel", "各通道 输入值 × 卷积核 之和"),
        "show.placed": ("placed at output ({pos})", "放置到输出({pos})"),
        "show.canvas_after": ("canvas after step {n}", "步骤{n}后的画布"),
        "show.skipped": (
            "… {k} more steps not shown (showing {n} of {total}; --max-steps changes this)",
            "… 还有 {k} 步未显示（共 {total} 步，显示了前 {n} 步；可用 --max-steps 调整）",
        ),
        "show.full_canvas": ("Full canvas after all {total} steps, before cropping padding={p}",
                             "全部 {total} 步后的完整画布（裁剪 padding={p} 之前）"),
        "show.final": ("Final output {shape}", "最终输出 {shape}"),
        "show.final_bias": ("Final output {shape} (canvas + bias {b})", "最终输出 {shape}（画布 + 偏置 {b}）"),
        "show.depth": ("depth {z}", "深度 {z}"),
        "show.torch_ok": ("Equals torch.nn.functional.conv_transpose{nd}d: max |Δ| = {delta}",
                          "与 torch.nn.functional.conv_transpose{nd}d 的结果一致：max |Δ| = {delta}"),
        "show.torch_bad": ("DIFFERS from torch.nn.functional.conv_transpose{nd}d: max |Δ| = {delta} (tolerance {tol})",
                           "与 torch.nn.functional.conv_transpose{nd}d 的结果不一致：max |Δ| = {delta}（容差 {tol}）"),
        "show.torch_skipped": ("PyTorch check skipped (--no-torch).", "已跳过 PyTorch 校验（--no-torch）。"),
        "show.engine_same": ("Same as the scatter (convt's engine): max |Δ| = {delta}",
                             "与散射视角（convt 引擎）的结果相同：max |Δ| = {delta}"),
        "show.engine_differs": ("DIFFERS from the scatter (convt's engine): max |Δ| = {delta}",
                                "与散射视角（convt 引擎）的结果不同：max |Δ| = {delta}"),
        "show.legend": ("Legend:", "图例："),
        "show.legend_write": ("a×b written by this step (input value × kernel value)",
                              "a×b 本步写入（输入值 × 卷积核值）"),
        "show.legend_accum": ("s+a×b added onto the value s already there (overlap)",
                              "s+a×b 累加到已有的值 s 上（重叠）"),
        "show.legend_plain": ("plain number: written by an earlier step; blank: not written yet",
                              "普通数字：之前的步骤写入；空白：尚未写入"),
        "show.legend_gap": ("· a gap between kernel taps spread out by dilation (d)",
                            "· 卷积核按 dilation (d) 展开后抽头之间的空隙"),
        "show.legend_crop": ("✂ row/column cropped by padding (dimmed)", "✂ 被 padding 裁掉的行/列（暗色）"),
        "show.legend_op": ("* row/column given back by output_padding", "* 由 output_padding 补回的行/列"),
        "show.legend_labels": ("other labels: the output index of a canvas row/column",
                               "其他标签：画布行/列对应的输出下标"),
        "show.op_computed": (
            "output_padding={op} along {dim}: index {idx} holds computed canvas values (padding={p} ≥ output_padding)",
            "{dim} 方向 output_padding={op}：下标 {idx} 是画布上计算出的值（padding={p} ≥ output_padding）",
        ),
        "show.op_zero": (
            "output_padding={op} along {dim}: index {idx} lies past every kernel tap and holds 0 + bias",
            "{dim} 方向 output_padding={op}：下标 {idx} 超出所有卷积核位置，值为 0 + 偏置",
        ),
        "show.channel_rule": ("Output channel {co}", "输出通道 {co}"),
        "show.compact": ("(compact form: the grid is wider than the terminal)", "（紧凑形式：网格比终端更宽）"),
        "show.truncated": ("(showing {r} of {rows} rows and {c} of {cols} columns)",
                           "（显示 {rows} 行中的 {r} 行、{cols} 列中的 {c} 列）"),
        "show.truncated_depth": ("(showing {z} of {depth} depth slices)", "（显示 {depth} 个深度切片中的 {z} 个）"),
        "show.overlap_title": ("Contributions per output cell (how many input elements feed it)",
                               "每个输出单元收到的贡献数（有多少个输入元素写入它）"),
        "show.verdict": ("Verdict: {verdict}; {why} ({axes})", "结论：{verdict}；{why}（{axes}）"),
        "show.why_axis": ("{dim}: k={k}, stride={s}, dilation={d} → {counts} per phase",
                          "{dim}: k={k}, stride={s}, dilation={d} → 各相位 {counts}"),
        "show.why_divisible": ("k is a multiple of stride", "k 是 stride 的整数倍"),
        "show.why_not_divisible": ("k is not a multiple of stride", "k 不是 stride 的整数倍"),
        "show.why_gaps": ("no kernel tap lands on some phases modulo stride", "模 stride 的某些相位上没有卷积核的落点"),
    }
)
