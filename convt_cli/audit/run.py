"""The audit pipeline: check the options, build or read the model, trace it, make the records.

:func:`make_config` is pure; :func:`audit` imports torch (or onnx, for an ``.onnx`` file) only when
it runs. Nothing here prints.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..errors import ConvtError
from ..limits import check_bytes
from ..parsing import parse_size_list
from ..reference import torch_module
from .geometry import conv_record
from .model import (
    ModelSpec,
    build_model,
    check_weights_path,
    check_weights_size,
    find_function,
    foreign_failure,
    load_weights,
    match_weights,
    parse_model,
)
from .onnx_read import audit_onnx
from .phase import shuffle_phase_gain
from .records import CONV_KINDS, AuditReport, LayerRecord, WeightsInfo
from .trace import DEVICES, Hit, device_name, resolve_device, trace_module

MAX_NUMEL = 2**62  # torch's sizes are int64
DEFAULT_TIMEOUT_S = 300.0


@dataclass(frozen=True)
class AuditConfig:
    model: ModelSpec
    shape: tuple[int, ...] | None
    weights: str | None
    init_weights: bool
    device: str
    seed: int
    timeout: float = 300.0  # seconds for the sandboxed run (build, weights, trace)


def make_config(model: str, shape: str | None = None, weights: str | None = None, init_weights: bool = False,
                device: str = "meta", seed: int = 0, timeout: float = DEFAULT_TIMEOUT_S) -> AuditConfig:
    """Every option checked before torch is imported; one :class:`ConvtError` per mistake."""
    spec = parse_model(model)
    dev = device.strip().lower()
    if dev not in DEVICES:
        raise ConvtError(f"--device {device!r} is not a device convt knows; use meta, cpu, cuda or auto",
                         zh=f"--device {device!r} 不是可用的设备；请用 meta、cpu、cuda 或 auto")
    dims = None
    if shape is not None:
        dims = parse_size_list(shape, "--shape", min_value=1)
        if math.prod(dims) >= MAX_NUMEL:
            raise ConvtError(f"--shape {shape!r} has more than 2**62 elements, more than torch can index",
                             zh=f"--shape {shape!r} 超过 2**62 个元素，torch 无法索引")
    elif spec.kind != "onnx":
        raise ConvtError("--shape is needed for a Python model: the input tensor's shape, e.g. 1x3x256x256",
                         zh="Python 模型需要 --shape：输入张量的形状，例如 1x3x256x256")
    if spec.kind == "onnx" and (weights is not None or init_weights):
        raise ConvtError("--weights and --init-weights are for Python models; an ONNX file carries its own weights",
                         zh="--weights 与 --init-weights 只用于 Python 模型；ONNX 文件自带权重")
    if weights is not None:
        check_weights_path(weights)
    if weights is not None and init_weights:
        raise ConvtError("give --weights or --init-weights, not both",
                         zh="--weights 与 --init-weights 只能选一个")
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**63:
        raise ConvtError(f"--seed {seed} must be a whole number from 0 to 2**63 - 1",
                         zh=f"--seed {seed} 必须是 0 到 2**63 - 1 之间的整数")
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not 0 < timeout <= 86400:
        raise ConvtError(f"--timeout {timeout} must be more than 0 and at most 86400 seconds",
                         zh=f"--timeout {timeout} 必须大于 0 且不超过 86400 秒")
    if dims is not None and dev != "meta" and spec.kind != "onnx":
        check_bytes(4 * math.prod(dims), f"the random float32 input of --shape {'x'.join(map(str, dims))} "
                    f"on --device {dev}", hint="give a smaller --shape, or --device meta (shapes only, no memory)",
                    hint_zh="请给更小的 --shape，或用 --device meta（只看形状，不占内存）")
    return AuditConfig(spec, None if dims is None else tuple(dims), weights, init_weights, dev, seed, float(timeout))


def audit(config: AuditConfig, on_loaded=None) -> AuditReport:
    """The audit, in this process: it runs the model's own code. convt runs it only inside the sandbox
    (:func:`convt_cli.audit.isolate.audit_isolated`); ``on_loaded()`` is called once the foreign code is
    imported, before it builds anything or any file's tensors are read."""
    if config.model.kind == "onnx":
        return audit_onnx(config.model, config.shape, on_loaded=on_loaded)
    return audit_python(config, on_loaded=on_loaded)


def audit_python(config: AuditConfig, on_loaded=None) -> AuditReport:
    torch = torch_module()
    device = resolve_device(torch, config.device)
    build_on = "meta" if device == "meta" and not config.init_weights else "cpu"
    if config.weights is not None:
        check_weights_size(config.weights)
    fn = find_function(config.model)
    if on_loaded is not None:
        on_loaded()
    torch.manual_seed(config.seed)  # the builder's own random init is reproducible (--seed, default 0)
    model = build_model(torch, config.model, build_on, fn)

    real: dict | None = None
    if config.weights is not None:
        state, fmt = load_weights(torch, config.weights)
        missing, unexpected = match_weights(model, state, config.weights)
        if build_on != "meta":
            model.load_state_dict(state, strict=False)
        weights = WeightsInfo(config.weights, fmt, True, "weights", missing, unexpected)
        real = state
    elif config.init_weights:
        weights = WeightsInfo(None, "init", True, "init")
        real = dict(model.state_dict())
    else:
        weights = WeightsInfo(None, None, False, "meta" if device == "meta" else "random")

    if device != build_on:
        model = model.to(device)
    model.eval()
    shape = config.shape
    if device == "meta":
        x = torch.empty(shape, device="meta")
    else:
        gen = torch.Generator().manual_seed(config.seed)
        x = torch.randn(shape, generator=gen).to(device)

    names = {id(p): n for n, p in model.named_parameters()}
    try:
        if device != "meta":
            with torch.no_grad():
                model(x)  # warm-up: kernels chosen, loaded and threads started before the timed pass
        hits = trace_module(torch, model, (x,), device)
    except ConvtError:
        raise
    except Exception as exc:  # noqa: BLE001 - the model's own error, in one line
        hint = hint_zh = ""
        if device == "meta" and "meta" in foreign_failure(exc).lower():
            hint = " (the model needs real values, which the meta device does not have: try --device cpu)"
            hint_zh = "（模型需要真实数值，而 meta 设备没有：请试 --device cpu）"
        why = foreign_failure(exc).removeprefix("failed: ")
        raise ConvtError(f"the model rejected the input {'×'.join(map(str, shape))}: {why}{hint}",
                         zh=f"模型拒绝了输入 {'×'.join(map(str, shape))}：{why}{hint_zh}") from None
    except BaseException as exc:  # noqa: BLE001 - exit() or the like inside forward()
        raise ConvtError(f"MODEL {config.model.text!r}: the model's forward pass {foreign_failure(exc)}",
                         zh=f"MODEL {config.model.text!r}：模型的前向计算失败：{foreign_failure(exc)}") from None

    layers = [record_from_hit(torch, i, hit, real, names) for i, hit in enumerate(hits)]
    dev_name, timer = device_name(torch, device)
    notes = [] if hits else ["nothing"]
    if weights.missing and real is not None:
        notes.append("missing")
    if device != "meta":
        notes.append(f"timer_{timer}")
    return AuditReport(model=config.model.text, source="python", input_shape=list(shape), device=device,
                       device_name=dev_name, torch_version=str(torch.__version__), weights=weights,
                       layers=layers, notes=notes)


def record_from_hit(torch, index: int, hit: Hit, real: dict | None, names: dict[int, str]) -> LayerRecord:
    if hit.kind not in CONV_KINDS:
        pg = None
        conv = hit.source_conv
        if conv is not None and real is not None and names.get(id(conv.weight)) in real:
            factor = hit.module.upscale_factor if hit.module is not None else int(hit.call.get("upscale_factor", 1))
            values = real[names[id(conv.weight)]].detach().to(device="cpu", dtype=torch.float64).numpy()
            if factor > 1 and values.shape[0] % (factor * factor) == 0 and np.isfinite(values).all():
                pg = shuffle_phase_gain(values, factor)
        return LayerRecord(index=index, name=hit.name, kind=hit.kind, op=hit.op, input_shape=hit.input_shape,
                           output_shape=hit.output_shape, params=0, macs_scatter=0, macs_useful=0, bias_adds=0,
                           overlap=None, overlap_per_cell=None, phase_gain=pg, time_ms=hit.time_ms)
    if hit.module is not None:
        m = hit.module
        weight, bias = m.weight, m.bias
        geometry = dict(stride=m.stride, padding=m.padding, dilation=m.dilation, groups=m.groups)
        params = sum(p.numel() for p in m.parameters(recurse=False))
    else:
        c = hit.call
        weight, bias = c["weight"], c.get("bias")
        geometry = dict(stride=c.get("stride", 1), padding=c.get("padding", 0), dilation=c.get("dilation", 1),
                        groups=int(c.get("groups", 1)))
        params = weight.numel() + (0 if bias is None else bias.numel())
    values = None
    key = names.get(id(weight))
    if real is not None and key is not None and key in real:
        values = real[key].detach().to(device="cpu", dtype=torch.float64).numpy()
    return conv_record(index, hit.name, hit.kind, hit.op, hit.input_shape, hit.output_shape, tuple(weight.shape),
                       geometry["stride"], geometry["padding"], geometry["dilation"], geometry["groups"],
                       bias is not None, params, values, hit.time_ms)
