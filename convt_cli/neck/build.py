"""The neck as an ``nn.Module`` with upstream's structure and module names (torch, lazily)."""

from __future__ import annotations

from .config import SUPPORTED_SCALES, NeckConfig
from .plan import LayerSpec, branch_names, branch_specs, vitdet_stage


def build_neck(dim: int, d_model: int = 256, scales: tuple[float, ...] = SUPPORTED_SCALES, dual: bool = False,
               device: str = "cpu", *, heads: tuple[str, ...] | None = None, family: str = "sam3"):
    """The neck's convolution branches as upstream builds them (no trunk, no position encoding).

    ``sam3``: ``Sam3DualViTDetNeck`` / ``Sam3TriViTDetNeck`` — ``convs`` (an ``nn.ModuleList`` of
    ``nn.Sequential``, one per scale, upstream's module names) and its copies: ``sam2_convs`` (``None``
    unless ``dual``, as upstream), or the ``heads`` given (``interactive_convs``, ``propagation_convs``).
    Upstream makes the copies with ``deepcopy``; a trained checkpoint then loads separate weights into
    them, so here each copy is re-initialised to hold its own random weights.
    ``vitdet``: detectron2's ``SimpleFeaturePyramid(norm="LN")`` stages ``simfp_2`` …; ``mask_decoder``:
    ``MaskDecoder.output_upscaling``. The state-dict keys are upstream's, relative to the neck.
    """
    from copy import deepcopy

    import torch.nn as nn

    heads = heads or (("convs", "sam2_convs") if dual else ("convs",))
    layer_norm = _layer_norm_class(nn)

    def sequential(scale: float) -> nn.Sequential:
        current = nn.Sequential()
        for spec in branch_specs(scale, dim, d_model, family):
            current.add_module(spec.name, _torch_layer(nn, spec, device, layer_norm))
        return current

    class Neck(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.family = family
            self.scale_factors = tuple(scales)
            self.heads = tuple(heads)
            if family == "mask_decoder":
                self.output_upscaling = sequential(4.0)
                return
            if family == "vitdet":
                for scale in scales:
                    self.add_module(f"simfp_{vitdet_stage(scale)}", sequential(scale))
                return
            self.convs = nn.ModuleList(sequential(scale) for scale in scales)
            if heads == ("convs",):
                self.sam2_convs = None  # Sam3DualViTDetNeck(add_sam2_neck=False)
            for head in heads[1:]:
                copy = deepcopy(self.convs)
                for module in copy.modules():
                    if hasattr(module, "reset_parameters") and device != "meta":
                        module.reset_parameters()
                setattr(self, head, copy)

        def branch(self, name: str):
            """The branch ``convs.0``, ``simfp_2`` or ``output_upscaling``."""
            module = self
            for part in name.split("."):
                module = module[int(part)] if part.isdigit() else getattr(module, part)
            return module

        def forward(self, x):
            return [self.branch(name)(x) for name in self.branch_order()]

        def branch_order(self) -> list[str]:
            if family == "mask_decoder":
                return ["output_upscaling"]
            if family == "vitdet":
                return [f"simfp_{vitdet_stage(s)}" for s in scales]
            return [f"{head}.{i}" for i in range(len(scales)) for head in heads]

    return Neck()


def build_for(config: NeckConfig, device: str):
    return build_neck(config.dim, config.d_model, config.scales, device=device, heads=config.heads,
                      family=config.family)


def _layer_norm_class(nn):
    class LayerNorm2d(nn.Module):
        """Channel LayerNorm of NCHW maps, as SAM's ``LayerNorm2d`` and detectron2's ``LayerNorm`` (eps 1e-6)."""

        def __init__(self, num_channels: int, eps: float = 1e-6, device=None) -> None:
            import torch

            super().__init__()
            self.weight = nn.Parameter(torch.ones(num_channels, device=device))
            self.bias = nn.Parameter(torch.zeros(num_channels, device=device))
            self.eps = eps

        def reset_parameters(self) -> None:
            nn.init.ones_(self.weight)
            nn.init.zeros_(self.bias)

        def forward(self, x):
            u = x.mean(1, keepdim=True)
            s = (x - u).pow(2).mean(1, keepdim=True)
            x = (x - u) / (s + self.eps).sqrt()
            return self.weight[:, None, None] * x + self.bias[:, None, None]

    return LayerNorm2d


def _torch_layer(nn, spec: LayerSpec, device: str, layer_norm):
    if spec.kind == "ConvTranspose2d":
        return nn.ConvTranspose2d(spec.in_channels, spec.out_channels, kernel_size=spec.kernel,
                                  stride=spec.stride, device=device)
    if spec.kind == "GELU":
        return nn.GELU()
    if spec.kind == "LayerNorm2d":
        return layer_norm(spec.in_channels, device=device)
    if spec.kind == "MaxPool2d":
        return nn.MaxPool2d(kernel_size=spec.kernel, stride=spec.stride)
    if spec.norm:
        return _norm_conv(nn, spec, device, layer_norm)
    return nn.Conv2d(spec.in_channels, spec.out_channels, kernel_size=spec.kernel, padding=spec.padding,
                     bias=spec.bias, device=device)


def _norm_conv(nn, spec: LayerSpec, device: str, layer_norm):
    """detectron2's ``Conv2d(..., norm=LayerNorm)``: the convolution, then its ``norm`` child (keys ``.norm.*``)."""

    class Conv2d(nn.Conv2d):
        def forward(self, x):
            return self.norm(super().forward(x))

    conv = Conv2d(spec.in_channels, spec.out_channels, kernel_size=spec.kernel, padding=spec.padding,
                  bias=spec.bias, device=device)
    conv.norm = layer_norm(spec.out_channels, device=device)
    return conv


def branches_in_order(neck) -> list[tuple[str, int, object]]:
    """(branch name, level index, nn.Sequential) in upstream's forward order: per level, each head in turn."""
    out = []
    for name in neck.branch_order():
        index = int(name.rsplit(".", 1)[1]) if "." in name else 0
        out.append((name, index, neck.branch(name)))
    return out


def count_flops(config: NeckConfig) -> dict[str, int]:
    """FlopCounterMode's count per layer path, run on the meta device (no memory, no time)."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    neck = build_for(config, "meta").to(getattr(torch, config.dtype))
    counts: dict[str, int] = {}
    x0 = torch.empty(config.shape, device="meta", dtype=getattr(torch, config.dtype))
    with torch.no_grad():
        for name, _index, branch in branches_in_order(neck):
            x = x0
            for layer_name, layer in branch.named_children():
                # layer.forward, not layer(...): skips the module hooks FlopCounterMode installs to attribute
                # FLOPs to modules; we attribute them per layer ourselves.
                with FlopCounterMode(display=False) as counter:
                    x = layer.forward(x)
                counts[f"{name}.{layer_name}"] = int(counter.get_total_flops())
    return counts


__all__ = ["branch_names", "branches_in_order", "build_for", "build_neck", "count_flops"]
