"""A DCGAN-style generator (Radford et al. 2015): a latent vector to a 3×64×64 image.

Five transposed convolutions, the last four ``k=4, s=2, p=1`` (each doubles the size; the crop
drops a border of products). Small widths so that its seeded weights stay small.

    convt audit examples/dcgan.py:build --shape 1x16x1x1 --weights examples/dcgan.safetensors
"""

import torch.nn as nn

LATENT, WIDTH, COLOURS = 16, 8, 3


def build() -> nn.Module:
    def up(c_in, c_out, first=False):
        conv = nn.ConvTranspose2d(c_in, c_out, 4, 1 if first else 2, 0 if first else 1, bias=False)
        return [conv, nn.BatchNorm2d(c_out), nn.ReLU(True)]

    return nn.Sequential(
        *up(LATENT, WIDTH * 8, first=True),  # 1×1 → 4×4
        *up(WIDTH * 8, WIDTH * 4),  # → 8×8
        *up(WIDTH * 4, WIDTH * 2),  # → 16×16
        *up(WIDTH * 2, WIDTH),  # → 32×32
        nn.ConvTranspose2d(WIDTH, COLOURS, 4, 2, 1, bias=False),  # → 64×64
        nn.Tanh(),
    )
