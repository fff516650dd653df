"""The neck as an ``nn.Module`` with upstream's structure and module names (torch, lazily)."""

from __future__ import annotations

from .config import SUPPORTED_SCALES, NeckConfig
from .plan import LayerSpec, branch_specs


def build_neck(dim: int, d_model: int = 256, scales: tuple[float, ...] = SUPPORTED_SCALES, dual: bool = False,
               device: str = "cpu"):
    """The neck's convolution branches as upstream's ``Sam3DualViTDetNeck`` builds them (no trunk).

    Returns an ``nn.Module`` with ``convs`` (an ``nn.ModuleList`` of ``nn.Sequential``, one per scale,
    with upstream's module names) and ``sam2_convs`` (``None``, or with ``dual`` the twin set).
    Upstream makes the twin with ``deepcopy``; a trained checkpoint then loads separate weights
    into it, so here the twin is re-initialised to hold its own random weights.
    """
    from copy import deepcopy

    import torch.nn as nn

    class ViTDetNeckConvs(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.scale_factors = tuple(scales)
            self.convs = nn.ModuleList()
            for scale in scales:
                current = nn.Sequential()
                for spec in branch_specs(scale, dim, d_model):
                    current.add_module(spec.name, _torch_layer(nn, spec, device))
                self.convs.append(current)
            self.sam2_convs = None
            if dual:
                self.sam2_convs = deepcopy(self.convs)
                for module in self.sam2_convs.modules():
                    if hasattr(module, "reset_parameters") and device != "meta":
                        module.reset_parameters()

        def forward(self, x):
            sam3_out = [branch(x) for branch in self.convs]
            sam2_out = None if self.sam2_convs is None else [branch(x) for branch in self.sam2_convs]
            return sam3_out, sam2_out

    return ViTDetNeckConvs()


def _torch_layer(nn, spec: LayerSpec, device: str):
    if spec.kind == "ConvTranspose2d":
        return nn.ConvTranspose2d(spec.in_channels, spec.out_channels, kernel_size=spec.kernel,
                                  stride=spec.stride, device=device)
    if spec.kind == "GELU":
        return nn.GELU()
    if spec.kind == "MaxPool2d":
        return nn.MaxPool2d(kernel_size=spec.kernel, stride=spec.stride)
    return nn.Conv2d(spec.in_channels, spec.out_channels, kernel_size=spec.kernel, padding=spec.padding,
                     bias=True, device=device)


def branches_in_order(neck) -> list[tuple[str, int, object]]:
    """(group, index, nn.Sequential) in upstream's forward order: convs[i], then sam2_convs[i]."""
    out = []
    for i, branch in enumerate(neck.convs):
        out.append(("convs", i, branch))
        if neck.sam2_convs is not None:
            out.append(("sam2_convs", i, neck.sam2_convs[i]))
    return out


def count_flops(config: NeckConfig) -> dict[str, int]:
    """FlopCounterMode's count per layer path, run on the meta device (no memory, no time)."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    neck = build_neck(config.dim, config.d_model, config.scales, config.dual, device="meta")
    neck = neck.to(getattr(torch, config.dtype))
    counts: dict[str, int] = {}
    x0 = torch.empty(config.shape, device="meta", dtype=getattr(torch, config.dtype))
    with torch.no_grad():
        for group, index, branch in branches_in_order(neck):
            x = x0
            for name, layer in branch.named_children():
                # layer.forward, not layer(...): skips the module hooks FlopCounterMode installs to attribute
                # FLOPs to modules; we attribute them per layer ourselves.
                with FlopCounterMode(display=False) as counter:
                    x = layer.forward(x)
                counts[f"{group}.{index}.{name}"] = int(counter.get_total_flops())
    return counts

