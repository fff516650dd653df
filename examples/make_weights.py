"""Write the examples' small seeded state dicts (``*.safetensors``, beside this script).

    python examples/make_weights.py

The weights are what each model's own initialisation draws from ``torch.manual_seed(0)`` — the
DCGAN generator with the paper's N(0, 0.02) convolution weights, the sub-pixel pair with ICNR for
``icnr`` and ``shuffle`` and PyTorch's default for ``random``. They stand in for trained weights,
so that the checkerboard figures come from real numbers rather than from the meta device.
"""

from pathlib import Path

import dcgan
import subpixel
import torch
import unet
from safetensors.torch import save_file

HERE = Path(__file__).resolve().parent


def dcgan_state() -> dict:
    torch.manual_seed(0)
    model = dcgan.build()
    for m in model.modules():
        if isinstance(m, torch.nn.ConvTranspose2d):
            torch.nn.init.normal_(m.weight, 0.0, 0.02)
        elif isinstance(m, torch.nn.BatchNorm2d):
            torch.nn.init.normal_(m.weight, 1.0, 0.02)
            torch.nn.init.zeros_(m.bias)
    return model.state_dict()


def unet_state() -> dict:
    torch.manual_seed(0)
    return unet.build().state_dict()


def subpixel_state() -> dict:
    torch.manual_seed(0)
    return subpixel.build().state_dict()  # build() applies ICNR to ``icnr`` and ``shuffle`` itself


def main() -> None:
    for name, state in (("dcgan", dcgan_state()), ("unet", unet_state()), ("subpixel", subpixel_state())):
        path = HERE / f"{name}.safetensors"
        save_file({k: v.contiguous() for k, v in state.items()}, str(path))
        print(f"{path.name}: {sum(v.numel() for v in state.values()):,} numbers")


if __name__ == "__main__":
    main()
