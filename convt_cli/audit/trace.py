"""The trace shared by ``convt audit`` and ``convt neck``: run a module once, record the layers of interest.

Forward hooks on the module tree see every ``nn.ConvTranspose1d/2d/3d``, ``nn.Upsample`` (and its
subclasses) and ``nn.PixelShuffle`` as it runs, with its qualified name; a ``TorchFunctionMode``
sees the functional calls — ``F.interpolate``, ``F.pixel_shuffle``, ``F.conv_transpose1d/2d/3d`` —
made outside those modules (the ones inside them are the module's own and are not counted twice).
Every hit is timed with :class:`Timer`: CUDA events on a GPU, ``time.perf_counter`` on the CPU,
nothing on ``meta``. torch is passed in; nothing here imports it at module level.
"""

from __future__ import annotations

import time
import weakref
from dataclasses import dataclass, field

from ..errors import ConvtError

DEVICES = ("auto", "cpu", "cuda", "meta")


def resolve_device(torch, requested: str, dtype: str = "float32") -> str:
    """auto → cuda when a GPU is usable, else cpu; cuda without a GPU is a clear error."""
    if requested == "auto":
        requested = "cuda" if torch.cuda.is_available() else "cpu"
    if requested == "cuda" and not torch.cuda.is_available():
        built = torch.version.cuda is not None
        why = "no CUDA GPU is visible" if built else "this PyTorch build has no CUDA support"
        why_zh = "没有可用的 CUDA GPU" if built else "此 PyTorch 未编译 CUDA 支持"
        raise ConvtError(
            f"--device cuda: {why} (torch {torch.__version__}); use --device cpu, or --device meta for shapes only",
            zh=f"--device cuda：{why_zh}（torch {torch.__version__}）；请用 --device cpu，或用 --device meta 只看形状",
        )
    if requested == "cuda" and dtype == "bfloat16" and not torch.cuda.is_bf16_supported():
        raise ConvtError(
            f"--dtype bfloat16: this GPU ({torch.cuda.get_device_name()}) does not support bfloat16; "
            "use float16 or float32",
            zh=f"--dtype bfloat16：此 GPU（{torch.cuda.get_device_name()}）不支持 bfloat16；请用 float16 或 float32",
        )
    return requested


def device_name(torch, device: str) -> tuple[str, str]:
    """(the device in words, the timer used there)."""
    if device == "cuda":
        return torch.cuda.get_device_name(torch.cuda.current_device()), "cuda_events"
    if device == "cpu":
        return f"CPU ({torch.get_num_threads()} threads)", "perf_counter"
    return "shapes only, no memory", "none"


class Timer:
    """Per-layer wall time: CUDA events (read once, after one synchronize), perf_counter, or none."""

    def __init__(self, torch, device: str) -> None:
        self.torch = torch
        self.device = device
        self.pending: list = []  # (record, start event, end event)

    def start(self):
        if self.device == "cuda":
            event = self.torch.cuda.Event(enable_timing=True)
            event.record()
            return event
        if self.device == "cpu":
            return time.perf_counter()
        return None

    def stop(self, record, started) -> None:
        """Set ``record.time_ms`` now (CPU) or at :meth:`finish` (CUDA)."""
        if self.device == "cuda":
            end = self.torch.cuda.Event(enable_timing=True)
            end.record()
            self.pending.append((record, started, end))
        elif self.device == "cpu":
            record.time_ms = (time.perf_counter() - started) * 1000.0

    def finish(self) -> None:
        if not self.pending:
            return
        self.torch.cuda.synchronize()
        for record, start, end in self.pending:
            record.time_ms = float(start.elapsed_time(end))
        self.pending.clear()


@dataclass
class Hit:
    """One traced layer, raw: what ran, on what shapes; the audit turns it into a record."""

    name: str
    kind: str  # the module's class name, or the function's name
    op: str  # as PyTorch prints it
    input_shape: list[int]
    output_shape: list[int]
    module: object | None = None  # the module, for module hits
    call: dict = field(default_factory=dict)  # a functional call's arguments (weight, stride, …)
    time_ms: float | None = None
    source_conv: object | None = None  # a pixel shuffle's input straight from a stride-1 nn.Conv2d: that conv


def module_kinds(torch) -> tuple:
    nn = torch.nn
    return (nn.ConvTranspose1d, nn.ConvTranspose2d, nn.ConvTranspose3d, nn.Upsample, nn.PixelShuffle)


def _first_tensor(torch, value):
    if isinstance(value, torch.Tensor):
        return value
    if isinstance(value, (tuple, list)):
        for item in value:
            found = _first_tensor(torch, item)
            if found is not None:
                return found
    return None


def _shape(torch, value) -> list[int]:
    tensor = _first_tensor(torch, value)
    return [] if tensor is None else [int(s) for s in tensor.shape]


def _call_text(func, name: str, kwargs: dict) -> str:
    """``F.interpolate(scale_factor=2, mode='bilinear', align_corners=False)``: the arguments given, not defaults."""
    import inspect

    try:
        defaults = {k: p.default for k, p in inspect.signature(func).parameters.items()}
    except (TypeError, ValueError):
        defaults = {}
    parts = [f"{k}={v!r}" for k, v in kwargs.items()
             if v is not None and k not in ("input", "weight", "bias") and not (k in defaults and defaults[k] == v)]
    return f"F.{name}({', '.join(parts)})"


def _bind(func, args, kwargs) -> dict:
    """The call's arguments by name (the functional signatures of torch's Python API)."""
    import inspect

    try:
        bound = inspect.signature(func).bind(*args, **kwargs)
        return dict(bound.arguments)
    except (TypeError, ValueError):
        names = {"interpolate": ("input", "size", "scale_factor", "mode", "align_corners"),
                 "pixel_shuffle": ("input", "upscale_factor")}.get(getattr(func, "__name__", ""),
                                                                    ("input", "weight", "bias", "stride", "padding",
                                                                     "output_padding", "groups", "dilation"))
        return {**dict(zip(names, args)), **kwargs}


def check_channels(torch, weight, x) -> None:
    """PyTorch's own CPU check of a transposed convolution's input channels, also on ``meta``.

    The meta kernel of the convolution does not check them (torch 2.x), so a meta trace would
    otherwise accept an input the real model rejects; the message is the one the CPU gives.
    """
    if not isinstance(x, torch.Tensor) or not isinstance(weight, torch.Tensor):
        return
    nd = weight.dim() - 2
    if x.dim() not in (nd + 1, nd + 2):
        return
    channels = x.shape[-nd - 1]
    if channels != weight.shape[0]:
        raise RuntimeError(
            f"Given transposed=1, weight of size {list(weight.shape)}, expected input{list(x.shape)} to have "
            f"{weight.shape[0]} channels, but got {channels} channels instead")


def trace_module(torch, model, inputs: tuple, device: str, *, forward=None) -> list[Hit]:
    """Run ``model(*inputs)`` (or ``forward()``) once; every layer of interest in execution order."""
    import torch.nn.functional as F
    from torch.overrides import TorchFunctionMode

    kinds = module_kinds(torch)
    functions = {F.interpolate: "interpolate", F.pixel_shuffle: "pixel_shuffle",
                 F.conv_transpose1d: "conv_transpose1d", F.conv_transpose2d: "conv_transpose2d",
                 F.conv_transpose3d: "conv_transpose3d"}
    names = {id(m): n for n, m in model.named_modules()}
    hits: list[Hit] = []
    stack: list[str] = []  # the modules running now, outermost first
    inside = [0]  # how many traced modules are running (their own functional calls are theirs)
    started: dict[int, list] = {}
    timer = Timer(torch, device)
    conv_outputs: dict[int, tuple] = {}  # id(output) → (weak reference to it, the stride-1 Conv2d that made it)

    def from_conv(x):
        """The stride-1, ungrouped ``nn.Conv2d`` whose output ``x`` is (a sub-pixel layer), else None."""
        entry = conv_outputs.get(id(x))
        return entry[1] if entry is not None and entry[0]() is x else None

    def pre(module, args):
        stack.append(names.get(id(module), ""))
        if isinstance(module, kinds[:3]):
            check_channels(torch, module.weight, args[0] if args else None)
        if isinstance(module, kinds):
            inside[0] += 1
            started.setdefault(id(module), []).append(timer.start())

    def post(module, args, output):
        stack.pop()
        if isinstance(module, torch.nn.Conv2d) and module.stride == (1, 1) and module.groups == 1 \
                and isinstance(output, torch.Tensor):
            conv_outputs[id(output)] = (weakref.ref(output), module)
        if isinstance(module, kinds):
            inside[0] -= 1
            hit = Hit(name=names.get(id(module), "") or type(module).__name__, kind=type(module).__name__,
                      op=repr(module), input_shape=_shape(torch, args), output_shape=_shape(torch, output),
                      module=module)
            if isinstance(module, torch.nn.PixelShuffle) and args:
                hit.source_conv = from_conv(args[0])
            timer.stop(hit, started[id(module)].pop())
            hits.append(hit)

    class Functional(TorchFunctionMode):
        def __torch_function__(self, func, types, args=(), kwargs=None):
            kwargs = kwargs or {}
            name = functions.get(func)
            if name is None or inside[0]:
                return func(*args, **kwargs)
            call = _bind(func, args, kwargs)
            if "weight" in call:
                check_channels(torch, call["weight"], call.get("input"))
            t0 = timer.start()
            out = func(*args, **kwargs)
            owner = next((n for n in reversed(stack) if n), "") or type(model).__name__
            hit = Hit(name=f"{owner}/F.{name}", kind=name, op=_call_text(func, name, call),
                      input_shape=_shape(torch, call.get("input")), output_shape=_shape(torch, out), call=call)
            if name == "pixel_shuffle":
                hit.source_conv = from_conv(call.get("input"))
            timer.stop(hit, t0)
            hits.append(hit)
            return out

    handles = []
    for module in model.modules():
        try:
            handles.append(module.register_forward_pre_hook(pre))
            handles.append(module.register_forward_hook(post))
        except RuntimeError:  # a scripted module takes no Python hooks: its layers are not seen by name
            continue
    try:
        with torch.no_grad(), Functional():
            if forward is not None:
                forward()
            else:
                model(*inputs)
        timer.finish()
    finally:
        for handle in handles:
            handle.remove()
    return hits
