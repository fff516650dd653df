"""The words of ``convt port`` that records carry as keys (notes, reasons, code comments), in English and Chinese."""

from __future__ import annotations

from ..i18n import define, t

define(
    {
        "port.n.activation": ("activation={a} is applied after the convolution; port it separately",
                              "activation={a} 在卷积之后执行；请另行移植"),
        "port.n.c_in": ("C_in is not part of a {fw} layer: assumed {n} (give --in-channels)",
                        "{fw} 层不含 C_in：假定为 {n}（用 --in-channels 指定）"),
        "port.n.channels_first": ("data_format='channels_first': inputs are (N, C, *spatial)",
                                  "data_format='channels_first'：输入为 (N, C, *spatial)"),
        "port.n.onnx_channels": ("channels are not ONNX attributes: assumed C={c}, M={m} (give --in-channels, "
                                 "--out-channels or --weight-shape)",
                                 "通道数不是 ONNX 属性：假定 C={c}，M={m}（用 --in-channels、--out-channels 或 "
                                 "--weight-shape 指定）"),
        "port.n.tf_dilation": ("tf.nn.conv_transpose's dilations are passed as they are; TensorFlow itself is "
                               "optional and not run by the test suite",
                               "tf.nn.conv_transpose 的 dilations 原样传入；TensorFlow 为可选依赖，测试套件不运行它"),
        "port.r.groups": ("{api} has no groups (groups={g})", "{api} 不支持 groups（groups={g}）"),
        "port.c.split": ("{g} × {api}, one per group on its slice of {cig} input channels, concatenated on the "
                         "channel axis", "{g} 个 {api}，每组用 {cig} 个输入通道的切片，再在通道维拼接"),
        "port.c.flax": ("lax.conv_general_dilated(lhs_dilation=stride, feature_group_count=groups) with the kernel "
                        "rotated and regrouped (convt port --to jax)",
                        "lax.conv_general_dilated(lhs_dilation=stride, feature_group_count=groups)，卷积核旋转并"
                        "按组重排（convt port --to jax）"),
        "port.w.torch": ("(C_in, C_out/groups, *k): PyTorch's layout", "(C_in, C_out/groups, *k)：PyTorch 布局"),
        "port.w.jax_group": ("rotated, (C_out, C_in/groups, *k)", "已旋转，(C_out, C_in/groups, *k)"),
        "port.w.jax": ("read as (O, I, *k); transpose_kernel=True rotates it and swaps O/I",
                       "按 (O, I, *k) 读取；transpose_kernel=True 负责旋转并交换 O/I"),
        "port.w.last": ("(*k, C_out, C_in): axes reversed, not rotated", "(*k, C_out, C_in)：轴序反转，不旋转"),
        "port.w.mlx": ("(C_out, *k, C_in/groups)", "(C_out, *k, C_in/groups)"),
        "port.w.expand": ("dilation {d} written into the kernel", "把 dilation {d} 写进卷积核"),
        "port.w.from_last": ("(*k, C_out, C_in) → (C_in, C_out, *k)", "(*k, C_out, C_in) → (C_in, C_out, *k)"),
        "port.w.from_unrotated": ("{layout}, used unrotated → PyTorch", "{layout}，未旋转 → PyTorch 布局"),
        "port.w.from_tk": ("{layout} read as (O, I, *k) = (C_in, C_out, *k)",
                           "{layout} 按 (O, I, *k) = (C_in, C_out, *k) 读取"),
        "port.w.from_mlx": ("(C_out, *k, C_in/groups) → (C_in, C_out/groups, *k)",
                            "(C_out, *k, C_in/groups) → (C_in, C_out/groups, *k)"),
    }
)

Words = tuple  # (key, {fields}): a sentence from the catalogue, filled in when rendered


def say(words: Words, lang: str = "en") -> str:
    key, fields = words
    return t(key, lang, **fields)


def code_line(line: tuple[str, Words | None], lang: str = "en") -> str:
    """``code  # comment`` with the comment in ``lang``."""
    code, words = line
    return code if words is None else f"{code}  # {say(words, lang)}"
