"""``--weights``: a real checkpoint's neck tensors under upstream's key names, read safely (torch, lazily).

Upstream's checkpoints keep the neck under the video models' names — ``detector.backbone.vision_backbone.``
+ ``convs.0.dconv_2x2_0.weight`` … in SAM 3's ``sam3.pt`` and SAM 3.1's ``sam3.1_multiplex.pt``;
``backbone.vision_backbone.`` once the image model's ``_load_checkpoint`` has stripped ``detector.``;
``backbone.simfp_2.0.weight`` … in a detectron2 ViTDet model; ``tracker.sam_mask_decoder.output_upscaling.*``
(SAM 3) or ``tracker.model.sam_mask_decoder.*`` (SAM 3.1) for the mask decoder. The prefix that
holds most of the neck's keys is used; the neck's keys it lacks are *missing* (they keep their random
weights), keys under the prefix in the neck's namespaces that the neck does not have are *unexpected*
(for example ``sam2_convs.*`` for the image model's single neck, which upstream's ``strict=False``
load ignores). Every other key (the trunk, the heads, …) is counted and left alone.

Reading never runs pickled code: ``.pt``/``.pth`` through ``torch.load(weights_only=True, mmap=True)``,
``.safetensors`` through ``safetensors.safe_open`` (only the neck's tensors are read). Before anything
is read, the bytes it may bring into memory — the whole file for ``.pt``, the neck's tensors for
``.safetensors`` (from the file's header) — are checked against the memory budget.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import ConvtError
from ..limits import check_bytes

NAMESPACES = {
    "sam3": ("convs.", "sam2_convs.", "interactive_convs.", "propagation_convs."),
    "vitdet": ("simfp_",),
    "mask_decoder": ("output_upscaling.",),
}
ITEM = {"F64": 8, "F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "I16": 2, "I8": 1, "U8": 1, "BOOL": 1,
        "F8_E4M3": 1, "F8_E5M2": 1}


@dataclass
class NeckWeights:
    path: str
    format: str  # pt or safetensors
    prefix: str  # where the neck's keys were found
    loaded: list[str]  # the neck's keys read (relative to the neck)
    missing: list[str]
    unexpected: list[str]  # full checkpoint keys
    other_keys: int  # the rest of the checkpoint, left alone
    tensors: dict = field(default_factory=dict, repr=False)  # neck key → float32 CPU tensor


def _safetensors_header(path: Path, text: str) -> dict:
    size = path.stat().st_size
    with path.open("rb") as f:
        head = f.read(8)
        n = int.from_bytes(head, "little") if len(head) == 8 else -1
        if not 2 <= n <= min(size - 8, 100 * 2**20):
            raise ConvtError(f"--weights {text!r} is not a readable safetensors file: its header length is wrong",
                             zh=f"--weights {text!r} 不是可读的 safetensors 文件：头部长度不对")
        try:
            header = json.loads(f.read(n))
        except ValueError as exc:
            raise ConvtError(f"--weights {text!r} is not a readable safetensors file: {exc}",
                             zh=f"--weights {text!r} 不是可读的 safetensors 文件：{exc}") from None
    if not isinstance(header, dict):
        raise ConvtError(f"--weights {text!r} is not a readable safetensors file: its header is not an object",
                         zh=f"--weights {text!r} 不是可读的 safetensors 文件")
    header.pop("__metadata__", None)
    return header


def _choose_prefix(keys: set[str], expected: dict[str, tuple], prefixes: tuple[str, ...]) -> tuple[str, int]:
    best, count = prefixes[0], -1
    for prefix in prefixes:
        found = sum(1 for k in expected if prefix + k in keys)
        if found > count:
            best, count = prefix, found
    return best, count


def read_neck_weights(torch, text: str, expected: dict[str, tuple], family: str,
                      prefixes: tuple[str, ...]) -> NeckWeights:
    """The neck's tensors (float32, CPU) from the checkpoint ``text``; ``expected``: neck key → shape."""
    from ..audit import check_weights_path, check_weights_size, one_line, safetensors_module, torch_load_safely

    path = check_weights_path(text)
    advice = "use a machine with more memory or raise CONVT_MAX_BYTES"
    if path.suffix.lower() == ".safetensors":
        header = _safetensors_header(path, text)
        keys = set(header)
        prefix, found = _choose_prefix(keys, expected, prefixes)
        need = 0
        for k in expected:
            entry = header.get(prefix + k)
            if isinstance(entry, dict):
                offsets = entry.get("data_offsets") or [0, 0]
                need += max(int(offsets[1]) - int(offsets[0]), 0)
        check_bytes(need, f"reading the neck's tensors from --weights {text!r}", hint=advice)
        safe_open = safetensors_module().safe_open
        raw = {}
        try:
            with safe_open(str(path), framework="pt", device="cpu") as f:
                for k in expected:
                    if prefix + k in keys:
                        raw[prefix + k] = f.get_tensor(prefix + k)
        except Exception as exc:  # noqa: BLE001 - a damaged file: its own message
            raise ConvtError(f"--weights {text!r} is not a readable safetensors file: {one_line(exc)}",
                             zh=f"--weights {text!r} 不是可读的 safetensors 文件：{one_line(exc)}") from None
        fmt = "safetensors"
    else:
        check_bytes(path.stat().st_size, f"reading --weights {text!r}", hint=advice)
        check_weights_size(text)  # the storages it declares, before any is read
        data = torch_load_safely(torch, path, text, mmap=True)
        if isinstance(data, dict) and isinstance(data.get("model"), dict):  # upstream's own unwrapping
            data = data["model"]
        if not isinstance(data, dict) or not all(isinstance(k, str) for k in data):
            raise ConvtError(f"--weights {text!r} holds a {type(data).__name__}, not a state dict of names to tensors",
                             zh=f"--weights {text!r} 里是 {type(data).__name__}，不是名字到张量的状态字典")
        keys = {k for k, v in data.items() if isinstance(v, torch.Tensor)}
        prefix, found = _choose_prefix(keys, expected, prefixes)
        raw = {prefix + k: data[prefix + k] for k in expected if prefix + k in keys}
        fmt = "pt"
    if found <= 0:
        shown = ", ".join(repr(p) for p in prefixes if p)
        first = min(keys) if keys else ""
        raise ConvtError(
            f"--weights {text!r}: none of the neck's {len(expected)} tensors is there (looked under {shown} and "
            f"bare names, e.g. {next(iter(expected))!r}; the file's first key: {first!r})",
            zh=f"--weights {text!r}：找不到 neck 的 {len(expected)} 个张量中的任何一个（前缀 {shown}）",
        )
    tensors = {}
    for k, want in expected.items():
        value = raw.get(prefix + k)
        if value is None:
            continue
        if tuple(value.shape) != tuple(want):
            raise ConvtError(
                f"--weights {text!r}: {prefix + k} has shape {tuple(value.shape)}, the neck expects {tuple(want)} "
                "(check --preset, --shape and --d-model)",
                zh=f"--weights {text!r}：{prefix + k} 的形状是 {tuple(value.shape)}，neck 需要 {tuple(want)}",
            )
        tensors[k] = value.detach().to(device="cpu", dtype=torch.float32).clone()
    spaces = NAMESPACES[family]
    unexpected = sorted(k for k in keys if k.startswith(prefix) and k[len(prefix):].startswith(spaces)
                        and k[len(prefix):] not in expected)
    return NeckWeights(
        path=text, format=fmt, prefix=prefix, loaded=[k for k in expected if k in tensors],
        missing=[k for k in expected if k not in tensors], unexpected=unexpected,
        other_keys=len(keys) - len(tensors) - len(unexpected), tensors=tensors,
    )
