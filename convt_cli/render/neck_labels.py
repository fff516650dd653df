"""The English and Chinese labels of ``convt neck``'s report (defined on import)."""

from ..i18n import define

define(
    {
        "neck.title": ("{model} (--preset {preset})", "{model}（--preset {preset}）"),
        "neck.model.sam3": ("SAM 3 image model, single neck", "SAM 3 图像模型，单 neck"),
        "neck.model.sam3-video": ("SAM 3 video model, dual neck", "SAM 3 视频模型，双 neck"),
        "neck.model.sam3.1": ("SAM 3.1, triple neck", "SAM 3.1，三 neck"),
        "neck.model.vitdet-h": ("detectron2 ViTDet-H simple feature pyramid", "detectron2 ViTDet-H 简单特征金字塔"),
        "neck.model.sam3-mask-decoder": (
            "SAM 3 tracker's mask decoder upscaling", "SAM 3 跟踪器 mask decoder 的上采样",
        ),
        "neck.summary": (
            "{preset}: {heads} · {levels} · {params} params · {gflops} GFLOPs at {shape}",
            "{preset}：{heads} · {levels} · {params} 个参数 · {gflops} GFLOPs（输入 {shape}）",
        ),
        "neck.heads.1": ("single neck ({names})", "单 neck（{names}）"),
        "neck.heads.2": ("dual neck ({names})", "双 neck（{names}）"),
        "neck.heads.3": ("triple neck ({names})", "三 neck（{names}）"),
        "neck.heads.stages": ("one pyramid ({names})", "一个金字塔（{names}）"),
        "neck.heads.decoder": ("one branch ({names})", "一个分支（{names}）"),
        "neck.levels": ("{n} levels, {kept} kept (scalp={scalp})", "{n} 层，保留 {kept} 层（scalp={scalp}）"),
        "neck.levels.one": ("×4 upscaling", "×4 上采样"),
        "neck.builder": ("upstream: {builder}", "上游：{builder}"),
        "neck.files": ("read in: {files}", "出处：{files}"),
        "neck.note.shape": (
            "Traced on your input {shape}; upstream feeds {upstream}.",
            "在你给的输入 {shape} 上追踪；上游的输入是 {upstream}。",
        ),
        "neck.note.vitdet_geometry": (
            "A 1280-channel 64² map is detectron2's ViTDet-H geometry (ViT-H, 1024-px images, 16-px patches), "
            "whose own pyramid adds LayerNorms and drops the conv biases: --preset vitdet-h. SAM 3 itself feeds "
            "1×1024×72² (embed_dim 1024, 1008-px images, 14-px patches).",
            "1280 通道、64² 的特征图是 detectron2 ViTDet-H 的尺寸（ViT-H、1024 像素图像、16 像素 patch），"
            "它自己的金字塔带 LayerNorm、卷积无偏置：--preset vitdet-h。SAM 3 本身的输入是 1×1024×72²"
            "（embed_dim 1024、1008 像素图像、14 像素 patch）。",
        ),
        "neck.note.vitdet": (
            "detectron2 adds p6 = max_pool2d(p5, k=1, s=2) (top_block LastLevelMaxPool: no parameters, no FLOPs), "
            "not traced here.",
            "detectron2 另有 p6 = max_pool2d(p5, k=1, s=2)（top_block LastLevelMaxPool：无参数、无 FLOPs），"
            "此处不追踪。",
        ),
        "neck.note.mask_decoder": (
            "Upstream adds the tracker's high-resolution features between the layers — dc1(x) + feat_s1 before the "
            "LayerNorm, dc2(…) + feat_s0 before the last GELU (elementwise, not traced) — and runs it once per "
            "object (batch = objects).",
            "上游在层之间加上跟踪器的高分辨率特征——LayerNorm 前 dc1(x) + feat_s1，最后的 GELU 前 dc2(…) + feat_s0"
            "（逐元素，不追踪）——并对每个目标各运行一次（batch = 目标数）。",
        ),
        "neck.header": (
            "input {shape} (dim {dim}) · d_model {d_model} · scales {scales}{dual} · seed {seed}",
            "输入 {shape}（dim {dim}）· d_model {d_model} · 缩放 {scales}{dual} · 种子 {seed}",
        ),
        "neck.header_decoder": (
            "input {shape} (transformer_dim {dim}) · seed {seed}",
            "输入 {shape}（transformer_dim {dim}）· 种子 {seed}",
        ),
        "neck.dual": (" · dual (SAM 3 + SAM 2 twin)", " · 双 neck（SAM 3 + SAM 2 孪生分支）"),
        "neck.runtime": (
            "device {device} ({name}) · {dtype} · torch {torch} · time: {timer}",
            "设备 {device}（{name}）· {dtype} · torch {torch} · 计时：{timer}",
        ),
        "neck.timer.perf_counter": ("perf_counter, one pass after a warm-up", "perf_counter，预热后单次运行"),
        "neck.timer.cuda_events": ("CUDA events, one pass after a warm-up", "CUDA 事件，预热后单次运行"),
        "neck.timer.none": ("none (meta: shapes only)", "无（meta：只算形状）"),
        "neck.meta_name": ("shapes only, no memory", "只算形状，不占内存"),
        "neck.note.scalp": (
            "The last level ({scale}×) is computed, then dropped downstream (scalp={scalp}).",
            "最后一级（{scale}×）算完后在下游被丢弃（scalp={scalp}）。",
        ),
        "neck.dropped": ("dropped downstream", "下游丢弃"),
        "neck.dropped_line": (
            "Dropped downstream (scalp=1): {branches} — {flops} ({macs} multiply-adds) computed and thrown away, "
            "{share} of the neck.",
            "下游丢弃（scalp=1）：{branches} — {flops}（{macs} 次乘加）算完即丢弃，占 neck 的 {share}。",
        ),
        "neck.audit_title": (
            "Transposed convolutions, as convt audit records them:",
            "转置卷积（与 convt audit 的记录相同）：",
        ),
        "neck.audit_line": (
            "{name}: {verdict} · {useful} of {scatter} MACs useful · phase gain — (random weights)",
            "{name}：{verdict} · {scatter} 次乘加中 {useful} 次有用 · 相位增益 —（随机权重）",
        ),
        "neck.audit_line_trained": (
            "{name}: {verdict} · {useful} of {scatter} MACs useful · phase-gain index {index} "
            "(worst channel {channel}; median {median}){flag}",
            "{name}：{verdict} · {scatter} 次乘加中 {useful} 次有用 · 相位增益指数 {index}"
            "（最差通道 {channel}；中位数 {median}）{flag}",
        ),
        "neck.audit_line_missing": (
            "{name}: {verdict} · {useful} of {scatter} MACs useful · phase gain — (not in the checkpoint)",
            "{name}：{verdict} · {scatter} 次乘加中 {useful} 次有用 · 相位增益 —（检查点中没有）",
        ),
        "neck.flagged": (" · over the {threshold} threshold", " · 超过阈值 {threshold}"),
        "neck.weights": (
            "Weights: {path} ({format}) · prefix {prefix} · {loaded} of {total} neck tensors loaded · "
            "{other} other keys left alone",
            "权重：{path}（{format}）· 前缀 {prefix} · 载入 neck 的 {total} 个张量中的 {loaded} 个 · "
            "其余 {other} 个键未用",
        ),
        "neck.weights.missing": ("missing (random weights kept): {keys}", "缺失（保留随机权重）：{keys}"),
        "neck.weights.unexpected": ("unexpected (not in this neck): {keys}", "多余（不属于此 neck）：{keys}"),
        "neck.note.default": (
            "Note: no --shape or --preset given: SAM 3's image model at its own input (--preset sam3).",
            "注：未给 --shape 或 --preset：SAM 3 图像模型及其自身输入（--preset sam3）。",
        ),
        "neck.pos": ("position_encoding", "位置编码"),
        "neck.pos_op": ("sine, 256 ch · cache {cache}", "正弦，256 通道 · 缓存 {cache}"),
        "neck.cache.miss": ("miss", "未命中"),
        "neck.cache.precomputed": ("hit (precomputed)", "命中（预计算）"),
        "neck.cache.cached": ("hit ({by})", "命中（{by}）"),
        "neck.pos_memory": (
            "Position encodings (upstream, not run here): every level's 256-channel sine map, {total} in all "
            "(float32{cast}); the encoder's cache holds {cache} (precomputed for 252², 126², 63², 31² on "
            "device=\"cuda\", plus every missed size).",
            "位置编码（上游，此处不运行）：每层 256 通道的正弦图共 {total}（float32{cast}）；"
            "编码器缓存占 {cache}（在 device=\"cuda\" 上预计算 252²、126²、63²、31²，另加每个未命中的尺寸）。",
        ),
        "neck.pos_cast": (" + the .to(dtype) copies", " + .to(dtype) 副本"),
        "neck.branch_title": (
            "{name} · scale {scale} · {inp} → {out}",
            "{name} · 缩放 {scale} · {inp} → {out}",
        ),
        "neck.twin": ("SAM 2 twin", "SAM 2 孪生分支"),
        "neck.head.interactive_convs": ("interactive head", "交互分支"),
        "neck.head.propagation_convs": ("propagation head", "传播分支"),
        "neck.col.layer": ("layer", "层"),
        "neck.col.op": ("op", "运算"),
        "neck.col.shapes": ("in → out", "输入 → 输出"),
        "neck.col.formula": ("formula", "公式预测"),
        "neck.col.params": ("params", "参数"),
        "neck.col.flops": ("FLOPs", "FLOPs"),
        "neck.col.memory": ("out mem", "输出内存"),
        "neck.col.time": ("time", "时间"),
        "neck.col.fan_in": ("fan-in", "每格来源"),
        "neck.total": ("total", "合计"),
        "neck.not_run": ("(not run)", "（未运行）"),
        "neck.summary_title": ("Totals", "总计"),
        "neck.col.branch": ("branch", "分支"),
        "neck.col.output": ("output", "输出"),
        "neck.all": ("all branches", "全部分支"),
        "neck.memory": (
            "Memory estimate: {device} peak ≈ {peak}: 1.5×(weights {weights} + input {inp} + largest layer's "
            "in + out + workspace {step}){host}{budget}",
            "内存估计：{device} 峰值 ≈ {peak}：1.5×（权重 {weights} + 输入 {inp} + "
            "最大一层的输入+输出+工作区 {step}）{host}{budget}",
        ),
        "neck.real_run": ("a real run's", "实际运行的"),
        "neck.memory.host": (" · host extra {host} (staging, --verify)", " · 主机额外 {host}（暂存、--verify）"),
        "neck.memory.budget": (" · budget {budget}", " · 预算 {budget}"),
        "neck.check.shapes_ok": (
            "✓ every executed shape equals the formula's prediction",
            "✓ 每层实际形状都等于公式预测",
        ),
        "neck.check.shapes_bad": ("✗ some executed shapes differ from the formula", "✗ 有实际形状与公式预测不符"),
        "neck.check.flops_ok": (
            "✓ analytic FLOPs equal torch.utils.flop_counter.FlopCounterMode's count ({flops}) on every layer",
            "✓ 每层解析 FLOPs 都等于 torch.utils.flop_counter.FlopCounterMode 的计数（{flops}）",
        ),
        "neck.check.flops_bad": (
            "✗ analytic FLOPs differ from FlopCounterMode's on some layer",
            "✗ 有层的解析 FLOPs 与 FlopCounterMode 不符",
        ),
        "neck.check.params_ok": (
            "✓ parameter counts equal the built modules' sum(p.numel())",
            "✓ 参数量等于所建模块的 sum(p.numel())",
        ),
        "neck.check.params_bad": (
            "✗ some parameter counts differ from the formula",
            "✗ 有参数量与公式不符",
        ),
        "neck.fan_in_note": (
            "fan-in: input cells feeding each output cell, per input channel (k=2, s=2: exactly one — no overlap, "
            "no gaps). FLOPs = 2 × multiply-adds (FlopCounterMode's convention; GELU, LayerNorm, max-pool and "
            "bias: 0).",
            "每格来源：每个输出格（每个输入通道）由几个输入格贡献（k=2, s=2：恰好 1 个，无重叠、无空洞）。"
            "FLOPs = 2 × 乘加次数（FlopCounterMode 的口径；GELU、LayerNorm、最大池化和偏置计 0）。",
        ),
        "neck.verify_title": (
            "--verify: each ConvTranspose2d output against the NumPy engine (float64) on the same input",
            "--verify：每个 ConvTranspose2d 的输出与 NumPy 引擎（float64）在同一输入上的对比",
        ),
        "neck.col.max_diff": ("max |Δ|", "最大 |Δ|"),
        "neck.col.tolerance": ("rtol/atol", "rtol/atol"),
        "neck.col.ratio": ("worst |Δ|/tol", "最差 |Δ|/容差"),
        "neck.col.result": ("result", "结果"),
        "neck.pass": ("✓ pass", "✓ 通过"),
        "neck.fail": ("✗ FAIL", "✗ 不符"),
        "neck.tol_rule": (
            "tolerance per cell: atol + rtol·(|x|·|w| + |b|) with assert_close's rtol/atol for {dtype}; "
            "the magnitude term grows with the reduction length C_in·k².",
            "每格容差：atol + rtol·(|x|·|w| + |b|)，rtol/atol 取 assert_close 对 {dtype} 的默认值；"
            "幅值项随归约长度 C_in·k² 增长。",
        ),
        "neck.verify_ok": ("Verified: every ConvTranspose2d layer matches the engine.",
                           "验证通过：每个 ConvTranspose2d 层都与引擎一致。"),
        "neck.verify_bad": ("Mismatch: {count} ConvTranspose2d layer(s) differ from the engine beyond tolerance.",
                            "不一致：{count} 个 ConvTranspose2d 层与引擎的差超出容差。"),
        "neck.interrupted": (
            "Interrupted after {done} of {total} layers; the tables show what completed.",
            "已在 {total} 层中的第 {done} 层后中断；表中是已完成的部分。",
        ),
        "neck.progress": ("running {path}", "运行 {path}"),
        "neck.preparing": ("importing torch, building the neck, counting FLOPs…", "导入 torch、构建 neck、统计 FLOPs…"),
    }
)
