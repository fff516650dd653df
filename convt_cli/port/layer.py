"""The layer text users copy, in any framework's words, read safely (``ast``, literals only) into a Geometry.

- ``torch``: ``ConvTranspose2d(1024, 512, kernel_size=(2, 2), stride=(2, 2))`` as ``print(model)`` shows it;
- ``keras``/``tf``: ``Conv2DTranspose(64, 3, strides=2, padding='same')`` (C_in from ``--in-channels``);
  ``tf``: also ``tf.nn.conv2d_transpose(x, w, output_shape=[…], strides=2, padding='SAME')``;
- ``jax``: ``lax.conv_transpose(x, w, (2, 2), 'SAME', transpose_kernel=True)`` (rhs shape from ``--weight-shape``);
- ``flax``: ``nn.ConvTranspose(features=64, kernel_size=(3, 3), strides=(2, 2))``;
- ``onnx``: the node's attributes, ``kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1]``;
- ``mlx``: ``nn.ConvTranspose2d(64, 32, 3, stride=2)`` (MLX's positional order) or ``mx.conv_transpose2d(x, w, …)``.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

from ..conventions import jax_conv, keras_conv, mlx_conv, onnx_op, tf_conv, torch_conv
from ..conventions.core import Geometry, per_axis
from ..errors import ConvtError
from . import FRAMEWORKS, texts  # noqa: F401 - the notes' words
from .signatures import Ref, bind, find

MAX_TEXT = 2000


@dataclass(frozen=True)
class Call:
    """A parsed call: the last name of the callee, positional values (:class:`Ref` for a name), keywords in order."""

    name: str
    args: tuple
    kwargs: tuple = ()  # ((name, value), …) as written, repeats kept for the binder to refuse


@dataclass(frozen=True)
class Layer:
    """A layer as written (framework, text, the arguments read) and its geometry."""

    framework: str
    text: str
    kind: str  # "layer" or "call" (a functional op)
    args: dict
    geometry: Geometry
    notes: tuple[tuple, ...] = ()  # (catalogue key, fields), see port/texts.py


def _bad(text: str, why: str) -> ConvtError:
    short = text if len(text) <= 60 else text[:57] + "..."
    return ConvtError(f"cannot read the layer {short!r}: {why}", zh=f"无法读取层 {short!r}：{why}")


def _dotted(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        head = _dotted(node.value)
        return None if head is None else f"{head}.{node.attr}"
    return None


def parse_call(text: str) -> Call:
    """``Name(args…)`` or a bare ``key=value, …`` list (ONNX attributes) into a :class:`Call`: literals
    only (numbers, strings, tuples, lists, True/False/None) and names, read by ``ast``, never run."""
    if len(text) > MAX_TEXT:
        raise _bad(text, f"longer than {MAX_TEXT} characters")
    stripped = text.strip()
    if not stripped:
        raise _bad(text, "it is empty")
    if not re.match(r"^[A-Za-z_][\w.]*\s*\(", stripped):
        stripped = f"ConvTranspose({stripped})"
    try:
        tree = ast.parse(stripped, mode="eval")
    except (SyntaxError, ValueError, MemoryError, RecursionError) as exc:
        raise _bad(text, f"not a Python call ({getattr(exc, 'msg', None) or type(exc).__name__})") from None
    node = tree.body
    if not isinstance(node, ast.Call):
        raise _bad(text, "not a call such as ConvTranspose2d(…)")
    func = node.func
    name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
    if not name:
        raise _bad(text, "the callee is not a plain name")

    def value(arg: ast.expr, what: str) -> object:
        dotted = _dotted(arg)
        if dotted is not None:
            return Ref(dotted)
        try:
            return ast.literal_eval(arg)
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            raise _bad(text, f"{what} is not a literal (numbers, strings, tuples, lists) or a name") from None

    if any(isinstance(a, ast.Starred) for a in node.args) or any(k.arg is None for k in node.keywords):
        raise _bad(text, "*args and **kwargs cannot be read")
    args = tuple(value(a, f"argument {i + 1}") for i, a in enumerate(node.args))
    kwargs = tuple((k.arg, value(k.value, k.arg)) for k in node.keywords)
    return Call(name=name, args=args, kwargs=kwargs)


def _nd_from_name(name: str, framework: str) -> int:
    match = re.search(r"([123])[dD]", name)
    if match:
        return int(match.group(1))
    raise ConvtError(f"{framework}: cannot tell 1-, 2- or 3-d from {name!r} (expected a name like …2d / …2D)",
                     zh=f"{framework}：无法从 {name!r} 判断维数（应形如 …2d / …2D）")


def check_framework(name: str, option: str) -> str:
    key = (name or "").strip().lower()
    aliases = {"pytorch": "torch", "tensorflow": "tf", "tf.keras": "keras"}
    key = aliases.get(key, key)
    if key not in FRAMEWORKS:
        raise ConvtError(f"{option} {name!r} is not a framework convt ports between; use one of "
                         f"{', '.join(FRAMEWORKS)}",
                         zh=f"{option} {name!r} 不是 convt 支持的框架；可用：{', '.join(FRAMEWORKS)}")
    return key


def _need(value: object, what: str, framework: str, hint: str) -> object:
    if value is None:
        raise ConvtError(f"{framework}: {what} is not in the layer text; {hint}",
                         zh=f"{framework}：层文本中没有 {what}；{hint}")
    return value


def parse_layer(text: str, framework: str, *, size: tuple[int, ...] | None = None, in_channels: int | None = None,
                out_channels: int | None = None, weight_shape: tuple[int, ...] | None = None) -> Layer:
    """Read ``text`` as ``framework`` writes a transposed convolution; ``size`` is the input's spatial size.

    A layer whose output would be empty for that size (Keras allows it) is refused: nothing to port.
    """
    layer = _parse_layer(text, framework, size=size, in_channels=in_channels, out_channels=out_channels,
                         weight_shape=weight_shape)
    g = layer.geometry
    if min(g.out) <= 0:
        raise ConvtError(f"the layer's output size {list(g.out)} for input size {list(g.size)} is not positive; "
                         "nothing to port (try a larger --size)",
                         zh=f"输入大小 {list(g.size)} 时该层输出大小 {list(g.out)} 不是正数；无可移植（可加大 --size）")
    return layer


def _dims(nd: int, fw: str, what: str) -> int:
    if nd not in (1, 2, 3):
        raise ConvtError(f"{fw}: {what} gives {nd} spatial dims; convt ports 1-, 2- and 3-d transposed convolutions",
                         zh=f"{fw}：{what} 给出 {nd} 个空间维；convt 只移植 1、2、3 维转置卷积")
    return nd


@dataclass(frozen=True)
class _Ctx:
    text: str
    size: tuple[int, ...] | None
    in_channels: int | None
    out_channels: int | None
    weight_shape: tuple[int, ...] | None

    def spatial(self, nd: int) -> tuple[int, ...]:
        if self.size is None:
            return (8,) * nd
        if len(self.size) == 1:
            return tuple(self.size) * nd
        if len(self.size) != nd:
            raise ConvtError(f"--size gives {len(self.size)} spatial dims but the layer has {nd}",
                             zh=f"--size 给出 {len(self.size)} 个空间维，而该层有 {nd} 个")
        return tuple(self.size)


def _parse_layer(text: str, framework: str, *, size: tuple[int, ...] | None = None, in_channels: int | None = None,
                 out_channels: int | None = None, weight_shape: tuple[int, ...] | None = None) -> Layer:
    """One small binder for every framework: the callee's signature from :mod:`.signatures`, the
    arguments bound and typed as that framework binds them, then the framework's geometry rules."""
    framework = check_framework(framework, "--from")
    call = parse_call(text)
    sig = find(framework, call.name)
    a = bind(sig, call.name, call.args, list(call.kwargs))
    ctx = _Ctx(text, None if size is None else tuple(size), in_channels, out_channels,
               None if weight_shape is None else tuple(weight_shape))
    builder = {"PyTorch": _torch, "Keras": _keras, "TensorFlow": _tf, "JAX": _jax, "Flax": _flax, "ONNX": _onnx,
               "MLX": _mlx_layer if sig.kind == "layer" else _mlx_call}[sig.framework]
    return builder(framework, call.name, a, ctx)


def _torch(framework: str, name: str, a: dict, ctx: _Ctx) -> Layer:

    nd = _nd_from_name(name, "PyTorch")
    if a["padding_mode"] != "zeros":
        raise ConvtError(f"PyTorch: only padding_mode='zeros' is supported for ConvTranspose{nd}d, "
                         f"got {a['padding_mode']!r}", zh="PyTorch：ConvTranspose 只支持 padding_mode='zeros'")
    g = torch_conv.torch_geometry(a["in_channels"], a["out_channels"], a["kernel_size"], a["stride"], a["padding"],
                                  a["output_padding"], a["groups"], a["bias"], a["dilation"], nd=nd,
                                  size=ctx.spatial(nd))
    return Layer("torch", ctx.text, "layer", a, g)


def _keras(framework: str, name: str, a: dict, ctx: _Ctx) -> Layer:

    nd = _nd_from_name(name, "Keras")
    notes: list[tuple] = []
    if a["activation"] not in (None, "linear"):
        notes.append(("port.n.activation", {"a": repr(a["activation"])}))
    c_in = ctx.in_channels or a["filters"]
    if ctx.in_channels is None:
        notes.append(("port.n.c_in", {"fw": "Keras", "n": c_in}))
    g = keras_conv.keras_geometry(a["filters"], a["kernel_size"], a["strides"], a["padding"], a["output_padding"],
                                  a["dilation_rate"], nd=nd, c_in=c_in, size=ctx.spatial(nd), use_bias=a["use_bias"])
    if a["data_format"] == "channels_first":
        notes.append(("port.n.channels_first", {}))
    return Layer(framework, ctx.text, "layer", {**a, "padding": a["padding"].lower()}, g, tuple(notes))


_TF_FORMATS = {1: ("NWC", "NCW"), 2: ("NHWC", "NCHW"), 3: ("NDHWC", "NCDHW")}


def _tf_axes(value: object, nd: int, name: str) -> tuple[int, ...]:
    """TensorFlow's strides/dilations: an int, or a list of length 1, N or N+2 (the batch and channel ones 1)."""

    if isinstance(value, tuple) and len(value) == 1:
        value = value[0]
    if isinstance(value, tuple) and len(value) == nd + 2:
        if value[0] != 1 or value[-1] != 1:
            raise ConvtError(f"TensorFlow: {name}={list(value)} must be 1 on the batch and channel dims",
                             zh=f"TensorFlow：{name}={list(value)} 在 batch 与通道维上必须为 1")
        value = value[1:-1]
    return per_axis(value, nd, name, "TensorFlow")


def _tf(framework: str, name: str, a: dict, ctx: _Ctx) -> Layer:

    ws = _need(ctx.weight_shape, "the filters' shape", "TensorFlow", "give --weight-shape as (*k, C_out, C_in)")
    nd = _nd_from_name(name, "TensorFlow") if name != "conv_transpose" else _dims(len(ws) - 2, "TensorFlow",
                                                                                   "--weight-shape")
    if len(ws) != nd + 2:
        raise ConvtError(f"--weight-shape {list(ws)} must have {nd + 2} dims (*k, C_out, C_in)",
                         zh=f"--weight-shape {list(ws)} 必须有 {nd + 2} 维 (*k, C_out, C_in)")
    if a["data_format"] is not None and a["data_format"] not in _TF_FORMATS[nd]:
        raise ConvtError(f"TensorFlow: data_format={a['data_format']!r} must be one of {_TF_FORMATS[nd]} for a "
                         f"{nd}-d transposed convolution", zh=f"TensorFlow：{nd} 维时 data_format 必须是 "
                         f"{_TF_FORMATS[nd]} 之一")
    if a["data_format"] not in (None, _TF_FORMATS[nd][0]):
        raise ConvtError(f"TensorFlow: data_format={a['data_format']!r}: convt reads the channels-last layout "
                         f"{_TF_FORMATS[nd][0]}",
                         zh=f"TensorFlow：data_format={a['data_format']!r}：只读取 {_TF_FORMATS[nd][0]}")
    out_shape = a["output_shape"]
    if len(out_shape) != nd + 2:
        raise ConvtError(f"TensorFlow: output_shape={list(out_shape)} must list {nd + 2} sizes "
                         f"[N, *spatial, C_out] for a {nd}-d transposed convolution",
                         zh=f"TensorFlow：output_shape={list(out_shape)} 必须有 {nd + 2} 个值 [N, *spatial, C_out]")
    if out_shape[-1] != ws[-2]:
        raise ConvtError(f"TensorFlow: output_shape's channels {out_shape[-1]} must equal the filters' C_out "
                         f"{ws[-2]} (--weight-shape {list(ws)})",
                         zh=f"TensorFlow：output_shape 的通道数 {out_shape[-1]} 必须等于卷积核的 C_out {ws[-2]}")
    s = _tf_axes(a["strides"], nd, "strides")
    d = _tf_axes(1 if a["dilations"] is None else a["dilations"], nd, "dilations")
    if min(s) <= 0 or min(d) <= 0 or min(ws) <= 0:
        raise ConvtError(f"TensorFlow: strides={list(s)}, dilations={list(d)} and the filters' shape {list(ws)} "
                         "must be positive", zh="TensorFlow：strides、dilations 与卷积核形状必须为正")
    if max(s) > 1 and max(d) > 1:
        raise ConvtError(f"TensorFlow: strides={list(s)} with dilations={list(d)}: TensorFlow refuses strides > 1 "
                         "together with dilations > 1", zh="TensorFlow：strides > 1 时 dilations 必须为 1")
    kernel = tuple(ws[:nd])
    sp = ctx.spatial(nd)
    begin, end = tf_conv.tf_crops(sp, kernel, s, d, a["padding"], tuple(out_shape[1:-1]))
    g = Geometry(c_in=ws[-1], c_out=ws[-2], groups=1, kernel=kernel, stride=s, dilation=d, begin=begin, end=end,
                 size=sp, bias=False)
    return Layer("tf", ctx.text, "call", {**a, "strides": s, "dilations": d}, g)


def _jax(framework: str, name: str, a: dict, ctx: _Ctx) -> Layer:

    ws = _need(ctx.weight_shape, "the rhs (kernel) shape", "JAX", "give --weight-shape in the dimension_numbers layout")
    nd = _dims(len(ws) - 2, "JAX", f"--weight-shape {list(ws)}")
    dn = a["dimension_numbers"] or jax_conv.DEFAULT_DN[nd]
    lhs_perm, rhs_perm, _ = jax_conv.dn_perms(dn, nd)
    oi = [ws[i] for i in rhs_perm]
    c_in, c_out = (oi[0], oi[1]) if a["transpose_kernel"] else (oi[1], oi[0])
    s = per_axis(a["strides"], nd, "strides", "JAX")
    d = (1,) * nd if a["rhs_dilation"] is None else per_axis(a["rhs_dilation"], nd, "rhs_dilation", "JAX")
    kernel = tuple(oi[2:])
    if min(s) <= 0 or min(d) <= 0 or min(ws) <= 0:
        raise ConvtError(f"JAX: strides={list(s)}, rhs_dilation={list(d)} and the rhs shape {list(ws)} must be "
                         "positive", zh="JAX：strides、rhs_dilation 与 rhs 形状必须为正")
    padding = a["padding"]
    if not isinstance(padding, str) and len(padding) != nd:
        raise ConvtError(f"JAX: padding={padding!r} must give {nd} (low, high) pairs",
                         zh=f"JAX：padding={padding!r} 必须给出 {nd} 个 (low, high) 对")
    begin, end = jax_conv.jax_crops(kernel, s, d, padding, bool(a["use_consistent_padding"]))
    g = Geometry(c_in=c_in, c_out=c_out, groups=1, kernel=kernel, stride=s, dilation=d, begin=begin, end=end,
                 size=ctx.spatial(nd), bias=False)
    return Layer("jax", ctx.text, "call", {**a, "dimension_numbers": tuple(dn)}, g)


def _flax(framework: str, name: str, a: dict, ctx: _Ctx) -> Layer:

    ks = a["kernel_size"]
    nd = _dims(1 if isinstance(ks, int) else len(ks), "Flax", f"kernel_size={ks!r}")
    c_in = ctx.in_channels or a["features"]
    notes = [] if ctx.in_channels is not None else [("port.n.c_in", {"fw": "Flax", "n": c_in})]
    strides = 1 if a["strides"] is None else a["strides"]
    dilation = 1 if a["kernel_dilation"] is None else a["kernel_dilation"]
    g = jax_conv.flax_geometry(a["features"], ks, strides, a["padding"], dilation, a["use_bias"],
                               a["transpose_kernel"], nd=nd, c_in=c_in, size=ctx.spatial(nd))
    return Layer("flax", ctx.text, "layer", {**a, "strides": strides, "kernel_dilation": dilation}, g, tuple(notes))


def _onnx(framework: str, name: str, a: dict, ctx: _Ctx) -> Layer:

    group = a["group"]
    if group <= 0:
        raise ConvtError(f"ONNX: group={group!r} must be a positive integer", zh=f"ONNX：group={group!r} 必须是正整数")
    notes: list[tuple] = []
    for key in ("kernel_shape", "strides", "dilations"):
        if a[key] is not None and min(a[key], default=1) <= 0:
            raise ConvtError(f"ONNX: {key}={a[key]} must be positive", zh=f"ONNX：{key}={a[key]} 必须为正")
    if ctx.weight_shape is not None:
        ws = ctx.weight_shape
    else:
        ks = _need(a["kernel_shape"], "kernel_shape", "ONNX", "add kernel_shape=[…] or give --weight-shape")
        c = ctx.in_channels or group
        m = ctx.out_channels or c
        if m % group or c % group:
            raise ConvtError(f"ONNX: group={group!r} must divide the {c} input and {m} output channels",
                             zh=f"ONNX：group={group!r} 必须整除输入通道数 {c} 与输出通道数 {m}")
        ws = (c, m // group, *ks)
        if ctx.in_channels is None:
            notes.append(("port.n.onnx_channels", {"c": c, "m": m}))
    nd = _dims(len(ws) - 2, "ONNX", "the kernel")
    if min(ws) <= 0:
        raise ConvtError(f"ONNX: the weight's shape {list(ws)} (C, M/group, *kernel_shape) must be positive",
                         zh=f"ONNX：权重形状 {list(ws)} 必须为正")
    for key in ("kernel_shape", "strides", "dilations", "output_padding", "output_shape"):
        if a[key] is not None and len(a[key]) != nd:
            raise ConvtError(f"ONNX: {key}={a[key]} must list {nd} values (one per spatial axis)",
                             zh=f"ONNX：{key}={a[key]} 必须有 {nd} 个值（每个空间维一个）")
    if a["pads"] is not None and len(a["pads"]) != 2 * nd:
        raise ConvtError(f"ONNX: pads={a['pads']} must list {2 * nd} values (all begins, then all ends)",
                         zh=f"ONNX：pads={a['pads']} 必须有 {2 * nd} 个值")
    if a["kernel_shape"] is not None and tuple(a["kernel_shape"]) != tuple(ws[2:]):
        raise ConvtError(f"ONNX: kernel_shape={a['kernel_shape']} does not match the weight's spatial shape "
                         f"{list(ws[2:])}",
                         zh=f"ONNX：kernel_shape={a['kernel_shape']} 与权重空间形状 {list(ws[2:])} 不符")
    sp = ctx.spatial(nd)
    g = onnx_op.onnx_geometry((1, ws[0], *sp), ws, bias=True, **a)
    return Layer("onnx", ctx.text, "layer", a, g, tuple(notes))


def _mlx_ints(a: dict, nd: int, call: str) -> None:
    if nd == 1:
        for key in ("stride", "padding", "dilation", "output_padding"):
            if not isinstance(a[key], int):
                raise ConvtError(f"MLX {call}: {key}={a[key]!r} must be an integer (the 1-d op takes ints)",
                                 zh=f"MLX {call}：{key}={a[key]!r} 必须是整数（一维算子只接受整数）")


def _mlx_layer(framework: str, name: str, a: dict, ctx: _Ctx) -> Layer:

    nd = _nd_from_name(name, "MLX")
    g = torch_conv.torch_geometry(a["in_channels"], a["out_channels"], a["kernel_size"], a["stride"], a["padding"],
                                  a["output_padding"], 1, a["bias"], a["dilation"], nd=nd, size=ctx.spatial(nd))
    mlx_conv.check_mlx(g.kernel, g.begin, g.dilation, 1)
    return Layer("mlx", ctx.text, "layer", a, g)


def _mlx_call(framework: str, name: str, a: dict, ctx: _Ctx) -> Layer:

    nd = _nd_from_name(name, "MLX")
    _mlx_ints(a, nd, name)
    ws = _need(ctx.weight_shape, "the weight's shape", "MLX", "give --weight-shape as (C_out, *k, C_in/groups)")
    if len(ws) != nd + 2:
        raise ConvtError(f"--weight-shape {list(ws)} must have {nd + 2} dims (C_out, *k, C_in/groups)",
                         zh=f"--weight-shape {list(ws)} 必须有 {nd + 2} 维 (C_out, *k, C_in/groups)")
    groups = a["groups"]
    if groups <= 0:
        raise ConvtError(f"MLX: groups={groups!r} must be a positive integer",
                         zh=f"MLX：groups={groups!r} 必须是正整数")
    g = torch_conv.torch_geometry(ws[-1] * groups, ws[0], tuple(ws[1:-1]), a["stride"], a["padding"],
                                  a["output_padding"], groups, False, a["dilation"], nd=nd, size=ctx.spatial(nd))
    mlx_conv.check_mlx(g.kernel, g.begin, g.dilation, groups)
    return Layer("mlx", ctx.text, "call", a, g)
