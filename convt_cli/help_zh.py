"""Chinese ``--help`` for convt and the show/shape/compare/port commands (``--lang zh --help`` or ``LANG=zh_*``).

Click's own words around them (``Usage:``, ``Options:``, ``[default: …]``) stay English: Click
writes them itself. An option without a Chinese text here keeps its English help. PyTorch's
parameter names are not translated (docs/glossary.md).
"""

from __future__ import annotations

APP = ("查看、证明和追踪转置卷积（PyTorch 的 ConvTranspose1d/2d/3d）。\n\n"
       "示例：convt show（讲解文的 2×2 例子，逐步画出）")
APP_OPTIONS = {"version": "显示版本号并退出。", "debug": "内部错误时显示调用栈。", "help": "显示本帮助并退出。"}

SHORT = {
    "verify": "对照 PyTorch 检查 convt 的 NumPy 引擎或你自己的转置卷积实现，并给出失败的原因。",
    "show": "逐步画出转置卷积的每一次放置。",
    "shape": "写出输出尺寸公式，或搜索能得到目标尺寸的参数。",
    "compare": "并排比较同一输入的最近邻、双线性和 ConvTranspose2d 上采样。",
    "audit": "审计你的模型中每个转置卷积和上采样运算：形状、代价、棋盘效应。",
    "neck": "SAM 3 的 neck（图像、视频、3.1）、ViTDet-H 金字塔与 SAM 3 mask decoder 上采样："
            "逐层追踪形状、参数、FLOPs、内存和时间。",
    "port": "同一个转置卷积在另一个框架中的写法：全部参数、权重转换、额外操作与验证。",
}

COMMANDS: dict[str, dict[str, str]] = {
    "show": {
        "": "逐步画出转置卷积的每一次放置，与讲解文的画法相同。\n\n"
            "不带选项时：讲解文的例子（输入 1,2;3,4，卷积核 1,0;0,1，stride 2），并与 "
            "torch.nn.functional.conv_transpose2d 对照。\n\n"
            "示例：convt show -i \"1,2;3,4\" -k \"1,1;1,1\" -s 1 --overlap",
        "input_": "输入：\"1,2;3,4\"、JSON 列表、.npy/.json/.csv/.txt 文件，或 - 表示标准输入（默认 1,2;3,4）。",
        "kernel": "卷积核，形式同 --input；带通道的 .npy 卷积核为 (C_in, C_out/groups, *k)（默认 1,0;0,1）。",
        "random": "该尺寸的随机输入（如 3x3），取 0..9 的小整数。",
        "random_kernel": "该尺寸的随机卷积核（如 2x2），取 -1..2 的小整数。",
        "seed": "--random/--random-kernel 的随机种子。",
        "stride": "一个整数，或每维一个：2,1。",
        "padding": "一个整数，或每维一个。",
        "output_padding": "一个整数，或每维一个。",
        "dilation": "一个整数，或每维一个。",
        "groups": "groups（仅用于带通道的输入）。",
        "channel": "只画这个输出通道（默认：全部）。",
        "bias": "加到每个输出格上的偏置。",
        "view": "scatter（讲解文的逐步散射）、gather 或 matrix。",
        "overlap": "同时显示每格贡献数的图。",
        "max_steps": "跳过之前最多画出的步数。",
        "precision": "浮点数的小数位数。",
        "lang": "标签语言：en 或 zh（默认看 CONVT_LANG、LANG）。",
        "no_color": "不输出颜色代码。",
        "export": "同时把输出写入 FILE.svg 或 .txt；.html：交互式页面（--static：Rich 的 HTML）。",
        "force": "覆盖已存在的 --export 文件。",
        "no_torch": "跳过 PyTorch 校验（不导入 torch）。",
        "static": "配合 --export FILE.html：导出终端渲染的 Rich 静态 HTML，而不是交互式页面。",
    },
    "shape": {
        "": "写出输出尺寸公式、画布、output_padding 的范围、重叠结论以及它对应的卷积；"
            "或用 --target 搜索能得到某个尺寸的参数。\n\n"
            "示例：convt shape 64 -k 2 -s 2 · convt shape 1x1280x64x64 -k 2 -s 2 --out-channels 640 · "
            "convt shape 64 --target 128",
        "size": "输入尺寸：64、每维 64x48，或完整张量形状 1x1280x64x64（配合 --out-channels）。",
        "kernel_size": "kernel_size：2，或每维一个 3,2。",
        "stride": "stride（默认 1）。",
        "padding": "padding（默认 0）。",
        "output_padding": "output_padding（默认 0）。",
        "dilation": "dilation（默认 1）。",
        "out_channels": "输出通道数；此时 SIZE 是完整张量形状 (N, C_in, *空间)。",
        "groups": "groups（配合 --out-channels）。",
        "no_bias": "不计偏置参数。",
        "target": "搜索能得到这个输出尺寸的参数（如 128 或 128x96）。",
        "max_kernel": "--target：尝试的最大 kernel_size。",
        "max_stride": "--target：尝试的最大 stride。",
        "limit": "--target：显示的行数（0 为全部；--json 列出全部）。",
        "lang": "标签语言：en 或 zh（默认看 CONVT_LANG、LANG）。",
        "json_out": "改为输出机器可读的 JSON 报告。",
        "no_color": "不输出颜色代码。",
    },
    "verify": {
        "": "对照 PyTorch 检查 convt 的 NumPy 引擎，或你自己的转置卷积实现。\n\n"
            "默认运行一组固定的扫描（1、2、3 维；stride、padding、output_padding、dilation、groups、depthwise、"
            "bias）：float64 数值对照 PyTorch float64、float32 路径、输出尺寸公式、伴随恒等式，以及错误一致性。"
            "失败的用例按失败方式和能解释它们的特性分组，每组给出缩小后的最小失败用例和复现命令。"
            "退出码 0：全部通过；1：有用例失败；2：用法错误；130：被中断。\n\n"
            "--impl 约定：FUNC(x, weight, bias, *, stride, padding, output_padding, dilation, groups) -> 数组；"
            "x 为 (N, C_in, *空间)，weight 为 (C_in, C_out/groups, *k)，bias 为 (C_out,) 或 None。"
            "--impl 在工作进程中运行：挂起、崩溃、常驻内存超出（加载后占用 + 内存预算 CONVT_MAX_BYTES）"
            "或改写输入都记为失败用例，扫描继续。\n\n"
            "示例：convt verify · convt verify --impl my_convt.py:conv_transpose --skip groups,dilation",
        "case": "只运行一个用例，格式与失败报告中的相同，如 \"2d x=1x4x5x5 w=4x2x3x3 s=2 p=1 op=1 d=1 g=2 bias\"。",
        "cases": "随机扫描 N 个前向用例（另加伴随与错误一致性检查）。",
        "seed": "随机用例的种子（默认 0）。",
        "dims": "只检查这些空间维数，如 2 或 1,2（默认 1,2,3）。",
        "dtype": "被检查计算的精度：float64（默认）、float32、float16 或 bfloat16；低精度的容差按 "
                 "C_in/groups·∏k 放宽，并在输出中写明。",
        "impl": "检查这个函数而不是 convt 的引擎（约定见上）。",
        "only": "只保留具有全部这些特性键的用例，如 groups,bias。",
        "skip": "排除具有任一这些特性键的用例，如 groups,dilation（你的函数不打算支持的部分）。",
        "convention": "仅用于 --impl：FUNC 完全按该框架自己的算子那样调用（参数名、数组类型、布局），"
                      "因此算子本身能通过：tensorflow.nn:conv_transpose（tf）、keras.ops:conv_transpose（keras）、"
                      "jax.lax:conv_transpose（jax）、mlx.core:conv_transpose2d 加 --dims 2（mlx）、"
                      "tinygrad:Tensor.conv_transpose2d（tinygrad）；onnx 为 FUNC(X, W, B, **属性)。"
                      "没有偏置的算子由 convt 加上偏置；该约定无法表达的用例被排除并计数。",
        "timeout": "仅用于 --impl：单次调用超过这个秒数即停止并记为失败（默认 10）。",
        "fail_fast": "遇到第一个失败用例即停止。",
        "runtime": "把每个用例作为真实的 torch.nn.ConvTransposeNd 交给部署工具链运行：onnxruntime、openvino、"
                   "tflite、inductor、export、tvm、executorch（float32；见 docs/runtimes.md）。",
        "exporter": "--runtime onnxruntime：torch.onnx.export 使用的导出器。",
        "opset": "--runtime onnxruntime：ONNX opset（默认：导出器自己的）。",
        "via": "--runtime openvino：从导出的 ONNX 文件转换，而不是从 torch 模块。",
        "save_failing": "--runtime：把每个失败簇的最小用例写成工具链的产物（.onnx、.tflite、.pt2…），"
                        "并附一个运行它的脚本。",
        "matrix": "--runtime A,B,…：一张通过率表，运行时 × 特性。",
        "lang": "标签语言：en 或 zh（默认看 CONVT_LANG、LANG）。",
        "json_out": "改为输出机器可读的 JSON 报告。",
        "no_color": "不输出颜色代码。",
    },
    "neck": {
        "": "按上游的构建方式构建 neck（默认 SAM 3 的），运行它，并显示每一层对张量做了什么：形状、参数、"
            "FLOPs、内存和时间。\n\n"
            "示例：convt neck --preset sam3.1 --device meta（或 --preset sam3-video、vitdet-h、--shape 1x1280x64x64）",
        "shape": "输入特征图 N×C×H×W：1x1280x64x64、1,1280,64,64 或 '(1, 1280, 64, 64)'。",
        "preset": "按上游构建的对象：sam3（图像模型的单 neck，默认）、sam3-video（双 neck）、sam3.1（三 neck）、"
                  "vitdet-h（detectron2 的 ViTDet-H 金字塔，1×1280×64×64）或 sam3-mask-decoder（跟踪器 mask decoder "
                  "的上采样）。--shape 替换其输入。",
        "d_model": "每个分支的输出通道数。",
        "scales": "缩放系数，取自 4、2、1 和 0.5（与上游相同；默认取预设的）。",
        "dual": "SAM 3 的双 neck（视频模型：convs + SAM 2 孪生分支 sam2_convs）或单 neck（图像模型）；默认取预设的。",
        "scalp": "下游丢弃的层数，从最低分辨率开始（默认取预设的：sam3 为 1，sam3.1 为 0，仅在丢弃 0.5 层时）。",
        "weights": "真实检查点（.pt/.pth 用 torch.load(weights_only=True) 读取，或 .safetensors）："
                   "把上游的键映射到 neck，列出缺失/多余的键，给出训练后反卷积的相位增益指数。",
        "seed": "随机权重和输入的种子。",
        "device": "auto（有 CUDA 用 CUDA，否则 CPU）、cpu、cuda 或 meta（只算形状）。",
        "dtype": "float32、float16 或 bfloat16。",
        "verify": "用 NumPy 引擎检查每个 ConvTranspose2d 的输出；不一致时退出码为 1。",
        "lang": "标签语言：en 或 zh（默认看 CONVT_LANG、LANG）。",
        "json_out": "改为输出机器可读的 JSON 报告。",
        "no_color": "不输出颜色代码。",
    },
    "compare": {
        "": "用最近邻、双线性（align_corners 为 False 和 True）和 ConvTranspose2d 放大同一输入并排比较；"
            "每种方法的参数量、FLOPs 和输出形状；重叠图与棋盘效应的规则。\n\n"
            "示例：convt compare · convt compare -i \"1,2;3,4\" -k \"1,1;1,1\" · convt compare --channels 640,320",
        "input": "二维输入：内联 \"1,2;3,4\"、JSON、.npy/.json/.csv/.txt 文件或 -（默认：讲解文的 4×4 网格 1..16）。",
        "kernel": "二维 ConvTranspose 卷积核，形式同 --input（默认：讲解文的 1,0;0,1）。",
        "scale": "放大倍数；也是 ConvTranspose 的 stride。",
        "padding": "ConvTranspose 的 padding。",
        "output_padding": "ConvTranspose 的 output_padding。",
        "channels": "代价表的 C_in,C_out；1280,640 是 detectron2 ViTDet-H 金字塔的第一层上采样"
                    "（实际发布的 SAM 3 为 1024,512）。",
        "size": "代价表的空间尺寸 HxW。",
        "precision": "显示的小数位数（0-10）。",
        "lang": "标签语言：en 或 zh（默认看 CONVT_LANG、LANG）。",
        "json_out": "改为输出机器可读的 JSON 报告。",
        "no_color": "不输出颜色代码。",
    },
    "audit": {
        "": "列出模型中每个 ConvTranspose1d/2d/3d、Upsample/interpolate 和 PixelShuffle（按执行顺序）："
            "形状、参数、散射乘加与裁剪后仍有用的乘加、偏置加法；几何上的重叠结论，以及（有真实权重时）"
            "各输出通道的相位增益指数，超过阈值时给出修正办法。\n\n"
            "示例：convt audit examples/unet.py:build --shape 1x3x64x64 --weights examples/unet.safetensors",
        "model": "path/to/file.py:FUNC、package.module:FUNC（无需参数、返回 nn.Module）或 .onnx 文件。",
        "shape": "输入张量形状，如 1x3x256x256（ONNX 文件：替换其输入形状）。",
        "weights": "状态字典：.pt/.pth（torch.load weights_only=True）或 .safetensors。",
        "init_weights": "评估 FUNC() 返回的权重（其自身初始化，或它自己加载的权重）。",
        "device": "meta（只算形状，不占内存；默认）、cpu 或 cuda（真实运行，逐层计时）、auto。",
        "seed": "FUNC() 运行前 torch 的种子（其自身随机初始化），以及 cpu/cuda 运行时随机输入的种子。",
        "timeout": "模型代码（或 ONNX 读取）在单独的进程中运行；超过这么多秒即停止（默认 300）。",
        "heatmap": "把有真实权重的层的相位图写成 PNG。",
        "force": "覆盖已存在的 --heatmap 文件。",
        "runtime": "另外把每个转置卷积（其权重、其真实输入）交给这个工具链运行（onnxruntime、openvino、tflite、"
                   "inductor…），并与引擎对照判定。",
        "lang": "标签语言：en 或 zh（默认看 CONVT_LANG、LANG）。",
        "json_out": "改为输出机器可读的 JSON 报告。",
        "no_color": "不输出颜色代码。",
    },
    "port": {
        "": "同一个转置卷积在另一个框架中的写法：目标调用的全部参数、权重转换代码、移植是完全等价、"
            "需要一个额外操作（切片或补零：哪一端、几格）还是无法表达（以及最接近的构造）、两种约定下的"
            "输出尺寸公式，以及验证：两种约定都在 NumPy 引擎上用带种子的随机数据计算，给出 max |Δ|。\n\n"
            "示例：convt port \"ConvTranspose2d(1024, 512, kernel_size=(2, 2), stride=(2, 2))\" --to jax · "
            "convt port \"Conv2DTranspose(64, 3, strides=2, padding='same')\" --from keras --to torch",
        "layer": "照抄的层：PyTorch 模块（print(model) 的样子），或配合 --from 的其他框架的层或调用。",
        "to": "目标框架：onnx、jax、flax、keras、tf、mlx 或 torch。",
        "source": "LAYER 所用的框架。",
        "size": "公式与验证所用的输入空间尺寸：8 或 8x6（默认 8）。",
        "in_channels": "层文本中没有的 C_in（Keras、Flax、ONNX）。",
        "out_channels": "ONNX 属性对应的 C_out。",
        "weight_shape": "源框架布局下的权重形状（JAX、TF、MLX 调用），如 3x3x64x32。",
        "emit": "只输出一段自包含代码：python。",
        "check": "用真实的目标框架运行生成的代码，给出与引擎相比的 max |Δ|。",
        "seed": "验证用随机数据的种子。",
        "lang": "标签语言：en 或 zh（默认看 CONVT_LANG、LANG）。",
        "json_out": "改为输出机器可读的 JSON 报告。",
        "no_color": "不输出颜色代码。",
    },
}
