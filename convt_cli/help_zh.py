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
    "show": "逐步画出转置卷积的每一次放置。",
    "shape": "写出输出尺寸公式，或搜索能得到目标尺寸的参数。",
    "compare": "并排比较同一输入的最近邻、双线性和 ConvTranspose2d 上采样。",
    "audit": "审计你的模型中每个转置卷积和上采样运算：形状、代价、棋盘效应。",
    "neck": "SAM 3 neck 预设：逐层追踪形状、参数、FLOPs、内存和时间。",
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
        "export": "同时把输出写入 FILE.svg、.html 或 .txt。",
        "force": "覆盖已存在的 --export 文件。",
        "no_torch": "跳过 PyTorch 校验（不导入 torch）。",
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
    "compare": {
        "": "用最近邻、双线性（align_corners 为 False 和 True）和 ConvTranspose2d 放大同一输入并排比较；"
            "每种方法的参数量、FLOPs 和输出形状；重叠图与棋盘效应的规则。\n\n"
            "示例：convt compare · convt compare -i \"1,2;3,4\" -k \"1,1;1,1\" · convt compare --channels 640,320",
        "input": "二维输入：内联 \"1,2;3,4\"、JSON、.npy/.json/.csv/.txt 文件或 -（默认：讲解文的 4×4 网格 1..16）。",
        "kernel": "二维 ConvTranspose 卷积核，形式同 --input（默认：讲解文的 1,0;0,1）。",
        "scale": "放大倍数；也是 ConvTranspose 的 stride。",
        "padding": "ConvTranspose 的 padding。",
        "output_padding": "ConvTranspose 的 output_padding。",
        "channels": "代价表的 C_in,C_out；1280,640 是 SAM 1 ViT-H neck 的第一层上采样"
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
        "seed": "cpu/cuda 运行时随机输入的种子。",
        "heatmap": "把有真实权重的层的相位图写成 PNG。",
        "force": "覆盖已存在的 --heatmap 文件。",
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
