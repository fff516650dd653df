"""The same sub-pixel upsampling layer twice: ICNR-initialised and randomly initialised.

A sub-pixel convolution (Shi et al. 2016) — a 3×3 convolution to ``C·r²`` channels, then
``PixelShuffle(r)`` — is exactly one transposed convolution with kernel ``3r`` and stride ``r``
(here ``k=6, s=2, p=2``): each output phase gets its own 3×3 sub-kernel. ICNR (Aitken et al.
2017, arXiv:1707.02937) starts every phase from the *same* sub-kernel, so a flat input gives a
flat output; random weights give each phase its own gain — a checkerboard from the first step.

* ``icnr`` and ``random``: the layer as ``ConvTranspose2d(8, 4, 6, stride=2, padding=2)``;
* ``shuffle``: the same layer written as ``Conv2d`` + ``nn.PixelShuffle(2)`` (ICNR too).

``build()`` initialises ``icnr`` and ``shuffle`` with ICNR and leaves ``random`` with PyTorch's
default, so ``--init-weights`` judges exactly that; ``subpixel.safetensors`` holds what ``build()``
draws after ``torch.manual_seed(0)``:

    convt audit examples/subpixel.py:build --shape 1x8x32x32 --init-weights
    convt audit examples/subpixel.py:build --shape 1x8x32x32 --weights examples/subpixel.safetensors
"""

import torch
import torch.nn as nn

C_IN, C_OUT, R = 8, 4, 2


class SubPixelPair(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.icnr = nn.ConvTranspose2d(C_IN, C_OUT, 3 * R, stride=R, padding=R)
        self.random = nn.ConvTranspose2d(C_IN, C_OUT, 3 * R, stride=R, padding=R)
        self.shuffle = nn.Sequential(nn.Conv2d(C_IN, C_OUT * R * R, 3, padding=1), nn.PixelShuffle(R))
        sub_kernel = torch.empty(C_IN, C_OUT, 3, 3)
        nn.init.kaiming_normal_(sub_kernel)
        icnr_(self.icnr, sub_kernel)  # every phase of ``icnr`` starts from the same sub-kernel
        icnr_shuffle_(self.shuffle[0], R)  # the r² channels of each colour copy one kernel

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.icnr(x) + self.random(x) + self.shuffle(x)


def icnr_(layer: nn.ConvTranspose2d, sub_kernel: torch.Tensor) -> None:
    """Every stride phase of ``layer`` gets ``sub_kernel`` (C_in, C_out, 3, 3): w[:, :, a::r, b::r] = it.

    With ``padding = r`` the phase of tap ``j`` is ``(j − r) mod r = j mod r``, so tap ``j = r·t + a``
    is the sub-kernel's tap ``t`` at phase ``a``: the layer is nearest ×r upsampling then one 3×3
    convolution — the ICNR construction.
    """
    r = layer.stride[0]
    with torch.no_grad():
        for a in range(r):
            for b in range(r):
                layer.weight[:, :, a::r, b::r] = sub_kernel


def icnr_shuffle_(conv: nn.Conv2d, r: int) -> None:
    """ICNR for Conv2d + PixelShuffle: the r² output channels of each colour copy one kernel."""
    c_out = conv.out_channels // (r * r)
    with torch.no_grad():
        base = conv.weight[:c_out].clone()
        conv.weight.copy_(base.repeat_interleave(r * r, dim=0))
        conv.bias.copy_(conv.bias[:c_out].repeat_interleave(r * r))


def build() -> nn.Module:
    return SubPixelPair()
