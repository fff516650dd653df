"""A small U-Net (Ronneberger et al. 2015) whose decoder upsamples three ways.

* ``up1``: ``ConvTranspose2d(k=3, s=2, p=1, output_padding=1)`` — doubles the size exactly;
  k=3 is not divisible by s=2, so its overlap is uneven (the geometry of a checkerboard);
* ``up2``: ``F.interpolate(scale_factor=2, mode="bilinear")`` called in ``forward`` (no module);
* ``head``: ``nn.Upsample(scale_factor=2, mode="nearest")`` then a 3×3 convolution (resize-conv).

    convt audit examples/unet.py:build --shape 1x3x64x64 --weights examples/unet.safetensors
"""

import torch
import torch.nn as nn
import torch.nn.functional as F


def block(c_in: int, c_out: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(c_in, c_out, 3, padding=1), nn.ReLU(inplace=True),
                         nn.Conv2d(c_out, c_out, 3, padding=1), nn.ReLU(inplace=True))


class UNet(nn.Module):
    def __init__(self, channels: int = 3, width: int = 8, classes: int = 2) -> None:
        super().__init__()
        w = width
        self.enc1, self.enc2, self.enc3 = block(channels, w), block(w, 2 * w), block(2 * w, 4 * w)
        self.pool = nn.MaxPool2d(2)
        self.bottom = block(4 * w, 8 * w)
        self.up1 = nn.ConvTranspose2d(8 * w, 4 * w, kernel_size=3, stride=2, padding=1, output_padding=1)
        self.dec1 = block(8 * w, 4 * w)
        self.reduce2 = nn.Conv2d(4 * w, 2 * w, 1)
        self.dec2 = block(4 * w, 2 * w)
        self.head = nn.Sequential(nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv2d(2 * w, w, 3, padding=1))
        self.dec3 = block(2 * w, w)
        self.out = nn.Conv2d(w, classes, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        e1 = self.enc1(x)
        e2 = self.enc2(self.pool(e1))
        e3 = self.enc3(self.pool(e2))
        b = self.bottom(self.pool(e3))
        d1 = self.dec1(torch.cat([self.up1(b), e3], dim=1))
        d2 = F.interpolate(self.reduce2(d1), scale_factor=2, mode="bilinear", align_corners=False)
        d2 = self.dec2(torch.cat([d2, e2], dim=1))
        d3 = self.dec3(torch.cat([self.head(d2), e1], dim=1))
        return self.out(d3)


def build() -> nn.Module:
    return UNet()
