"""MLX ``mx.conv_transpose{1,2,3}d`` on the NumPy engine.

PyTorch's arithmetic (symmetric ``padding``, ``output_padding`` at the far end) in MLX's layouts:
input ``(N, *spatial, C_in)``, weight ``(C_out, *k, C_in/groups)``, and positional order
``(input, weight, stride, padding, dilation, output_padding, groups)`` — not PyTorch's
(ml-explore/mlx #1390). ``mlx.nn.ConvTranspose2d`` has no ``groups``.

Measured against MLX 0.32 on CPU: ``padding`` larger than ``dilation*(kernel_size-1)`` is not the
crop PyTorch computes (MLX clamps its internal padding at zero, giving a longer output, or fails), and
``groups > 1`` works in 1-D and 2-D only. Both are refused here; ``convt port --to mlx`` slices instead.
"""

from __future__ import annotations

import numpy as np

from ..engine import as_array, conv_transpose
from ..errors import ConvtError
from ..shapes import per_dim


def torch_weight_to_mlx(weight: np.ndarray, groups: int) -> np.ndarray:
    """PyTorch ``(C_in, C_out/g, *k)`` → MLX ``(C_out, *k, C_in/g)``, block g of the input feeding block g."""
    c_in, cog = weight.shape[:2]
    k = weight.shape[2:]
    nd = len(k)
    cig = c_in // groups
    blocks = weight.reshape(groups, cig, cog, *k)  # (g, i, o, *k) -> (g, o, *k, i)
    return np.transpose(blocks, (0, 2, *range(3, 3 + nd), 1)).reshape(groups * cog, *k, cig)


def mlx_weight_to_torch(weight: np.ndarray, groups: int) -> np.ndarray:
    """MLX ``(C_out, *k, C_in/g)`` → PyTorch ``(C_in, C_out/g, *k)``."""
    c_out, *k, cig = weight.shape
    nd = len(k)
    cog = c_out // groups
    blocks = weight.reshape(groups, cog, *k, cig)  # (g, o, *k, i) -> (g, i, o, *k)
    return np.transpose(blocks, (0, nd + 2, 1, *range(2, 2 + nd))).reshape(groups * cig, cog, *k)


def check_mlx(kernel: tuple[int, ...], padding: tuple[int, ...], dilation: tuple[int, ...], groups: int) -> None:
    """MLX's limits (measured): padding within the kernel's reach, groups only in 1-D and 2-D."""
    for i, (k, p, d) in enumerate(zip(kernel, padding, dilation)):
        if p > d * (k - 1):
            raise ConvtError(f"MLX: padding={p} in dim {i} is larger than dilation×(kernel_size − 1) = {d * (k - 1)}; "
                             "MLX's conv_transpose does not crop that far (it clamps, giving another size)",
                             zh=f"MLX：第 {i} 维 padding={p} 大于 dilation×(kernel_size − 1) = {d * (k - 1)}；"
                             "MLX 的 conv_transpose 不会裁剪到这么远")
    if groups > 1 and len(kernel) == 3:
        raise ConvtError(f"MLX: groups={groups} in a 3-d convolution: MLX can only handle groups != 1 in 1D or 2D "
                         "convolutions", zh=f"MLX：3 维卷积不支持 groups={groups}（只有 1、2 维支持）")


def mlx_conv_transpose(input: object, weight: object, stride: object = 1, padding: object = 0,  # noqa: A002
                       dilation: object = 1, output_padding: object = 0, groups: int = 1) -> np.ndarray:
    """``mx.conv_transpose{1,2,3}d`` in NumPy: channels-last input, weight ``(C_out, *k, C_in/groups)``."""
    x, w = as_array(input, "input"), as_array(weight, "weight")
    if w.ndim not in (3, 4, 5) or x.ndim != w.ndim:
        raise ConvtError(f"MLX: input of shape {list(x.shape)} and weight of shape {list(w.shape)} must both have "
                         "3, 4 or 5 dims", zh=f"MLX：输入 {list(x.shape)} 与权重 {list(w.shape)} 必须同为 3、4 或 5 维")
    if isinstance(groups, bool) or not isinstance(groups, int) or groups <= 0 or w.shape[0] % groups:
        raise ConvtError(f"MLX: groups={groups!r} must be a positive integer dividing C_out={w.shape[0]}",
                         zh=f"MLX：groups={groups!r} 必须是能整除 C_out={w.shape[0]} 的正整数")
    if x.shape[-1] != w.shape[-1] * groups:
        raise ConvtError(f"MLX: the input has {x.shape[-1]} channels but the weight of shape {list(w.shape)} with "
                         f"groups={groups} expects {w.shape[-1] * groups}",
                         zh=f"MLX：输入有 {x.shape[-1]} 个通道，而权重需要 {w.shape[-1] * groups} 个")

    nd = w.ndim - 2
    check_mlx(tuple(w.shape[1:-1]), per_dim(padding, nd, "padding"), per_dim(dilation, nd, "dilation"), groups)
    y = conv_transpose(np.moveaxis(x, -1, 1), mlx_weight_to_torch(w, groups), None, stride, padding,
                       output_padding, dilation, groups)
    return np.moveaxis(y, 1, -1)
