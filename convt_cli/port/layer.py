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
from dataclasses import dataclass, field

from ..conventions import jax_conv, keras_conv, mlx_conv, onnx_op, tf_conv, torch_conv
from ..conventions.core import Geometry, per_axis
from ..errors import ConvtError
from . import FRAMEWORKS, texts  # noqa: F401 - the notes' words

MAX_TEXT = 2000


@dataclass(frozen=True)
class Call:
    """A parsed call: the last name of the callee, positional literals (``None`` for a bare name), keywords."""

    name: str
    args: tuple
    kwargs: dict = field(default_factory=dict)


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


def parse_call(text: str) -> Call:
    """``Name(args…)`` or a bare ``key=value, …`` list (ONNX attributes) into a :class:`Call`."""
    if len(text) > MAX_TEXT:
        raise _bad(text, f"longer than {MAX_TEXT} characters")
    stripped = text.strip()
    if not stripped:
        raise _bad(text, "it is empty")
    if not re.match(r"^[\w.]+\s*\(", stripped):
        stripped = f"ConvTranspose({stripped})"
    try:
        tree = ast.parse(stripped, mode="eval")
    except SyntaxError as exc:
        raise _bad(text, f"not a Python call ({exc.msg})") from None
    node = tree.body
    if not isinstance(node, ast.Call):
        raise _bad(text, "not a call such as ConvTranspose2d(…)")
    func = node.func
    name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
    if not name:
        raise _bad(text, "the callee is not a plain name")

    def value(arg: ast.expr, what: str) -> object:
        if isinstance(arg, ast.Name):
            return None if arg.id not in ("True", "False", "None") else {"True": True, "False": False}.get(arg.id)
        try:
            return ast.literal_eval(arg)
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            raise _bad(text, f"{what} is not a literal (numbers, strings, tuples, lists)") from None

    args = tuple(value(a, f"argument {i + 1}") for i, a in enumerate(node.args) if not isinstance(a, ast.Starred))
    if any(isinstance(a, ast.Starred) for a in node.args) or any(k.arg is None for k in node.keywords):
        raise _bad(text, "*args and **kwargs cannot be read")
    kwargs = {k.arg: value(k.value, k.arg) for k in node.keywords}
    return Call(name=name, args=args, kwargs=kwargs)


def bind(call: Call, names: tuple[str, ...], framework: str, defaults: dict | None = None) -> dict:
    """Positional and keyword arguments by name, as Python binds them; unknown names refused."""
    if len(call.args) > len(names):
        raise ConvtError(f"{framework} {call.name} takes at most {len(names)} positional arguments "
                         f"({', '.join(names)}), got {len(call.args)}",
                         zh=f"{framework} {call.name} 至多接受 {len(names)} 个位置参数，收到 {len(call.args)} 个")
    bound = dict(defaults or {})
    bound.update(zip(names, call.args))
    for key, val in call.kwargs.items():
        if key not in names:
            raise ConvtError(f"{framework} {call.name} has no argument {key!r} (it takes {', '.join(names)})",
                             zh=f"{framework} {call.name} 没有参数 {key!r}（可用：{', '.join(names)}）")
        if key in dict(zip(names, call.args)):
            raise ConvtError(f"{framework} {call.name} got {key!r} twice",
                             zh=f"{framework} {call.name} 的 {key!r} 给了两次")
        bound[key] = val
    return bound


def _nd_from_name(name: str, framework: str, default: int | None = None) -> int:
    match = re.search(r"([123])[dD]", name)
    if match:
        return int(match.group(1))
    if default is not None:
        return default
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


def _parse_layer(text: str, framework: str, *, size: tuple[int, ...] | None = None, in_channels: int | None = None,
                out_channels: int | None = None, weight_shape: tuple[int, ...] | None = None) -> Layer:
    framework = check_framework(framework, "--from")
    call = parse_call(text)

    def spatial(nd: int) -> tuple[int, ...]:
        if size is None:
            return (8,) * nd
        if len(size) == 1:
            return tuple(size) * nd
        if len(size) != nd:
            raise ConvtError(f"--size gives {len(size)} spatial dims but the layer has {nd}",
                             zh=f"--size 给出 {len(size)} 个空间维，而该层有 {nd} 个")
        return tuple(size)

    notes: list[tuple] = []
    if framework == "torch":
        nd = _nd_from_name(call.name, "PyTorch")
        a = bind(call, ("in_channels", "out_channels", "kernel_size", "stride", "padding", "output_padding", "groups",
                        "bias", "dilation", "padding_mode", "device", "dtype"), "PyTorch",
                 {"stride": 1, "padding": 0, "output_padding": 0, "groups": 1, "bias": True, "dilation": 1})
        for key in ("in_channels", "out_channels", "kernel_size"):
            _need(a.get(key), key, "PyTorch", f"write it as ConvTranspose{nd}d(C_in, C_out, kernel_size=…)")
        if a.get("padding_mode", "zeros") != "zeros":
            raise ConvtError(f"PyTorch: only padding_mode='zeros' is supported for ConvTranspose{nd}d, "
                             f"got {a['padding_mode']!r}", zh="PyTorch：ConvTranspose 只支持 padding_mode='zeros'")
        g = torch_conv.torch_geometry(a["in_channels"], a["out_channels"], a["kernel_size"], a["stride"], a["padding"],
                                      a["output_padding"], a["groups"], a["bias"], a["dilation"], nd=nd,
                                      size=spatial(nd))
        return Layer("torch", text, "layer", a, g)

    if framework in ("keras", "tf") and "transpose" in call.name.lower() and "conv" in call.name.lower() \
            and not call.name.islower():
        nd = _nd_from_name(call.name, "Keras")
        a = bind(call, ("filters", "kernel_size", "strides", "padding", "output_padding", "data_format",
                        "dilation_rate",
                        "activation", "use_bias", "kernel_initializer", "bias_initializer", "kernel_regularizer",
                        "bias_regularizer", "activity_regularizer", "kernel_constraint", "bias_constraint", "name",
                        "groups"), "Keras",
                 {"strides": 1, "padding": "valid", "output_padding": None, "dilation_rate": 1, "use_bias": True})
        if "groups" in a:
            raise ConvtError(f"Keras {call.name} has no `groups` argument (Keras 3's transposed convolutions are "
                             "ungrouped)", zh=f"Keras {call.name} 没有 groups 参数")
        if a.get("activation") not in (None, "linear"):
            notes.append(("port.n.activation", {"a": repr(a["activation"])}))
        _need(a.get("filters"), "filters", "Keras", "write Conv2DTranspose(filters, kernel_size, …)")
        _need(a.get("kernel_size"), "kernel_size", "Keras", "write Conv2DTranspose(filters, kernel_size, …)")
        c_in = in_channels or a["filters"]
        if in_channels is None:
            notes.append(("port.n.c_in", {"fw": "Keras", "n": c_in}))
        g = keras_conv.keras_geometry(a["filters"], a["kernel_size"], a["strides"], a["padding"], a["output_padding"],
                                      a["dilation_rate"], nd=nd, c_in=c_in, size=spatial(nd), use_bias=a["use_bias"])
        if a.get("data_format") == "channels_first":
            notes.append(("port.n.channels_first", {}))
        return Layer(framework, text, "layer", a, g, tuple(notes))

    if framework == "tf":
        nd = _nd_from_name(call.name, "TensorFlow", default=None if call.name != "conv_transpose" else 2)
        a = bind(call, ("input", "filters", "output_shape", "strides", "padding", "data_format", "dilations", "name"),
                 "TensorFlow", {"padding": "SAME", "dilations": 1})
        ws = _need(weight_shape, "the filters' shape", "TensorFlow", "give --weight-shape as (*k, C_out, C_in)")
        if len(ws) != nd + 2:
            raise ConvtError(f"--weight-shape {list(ws)} must have {nd + 2} dims (*k, C_out, C_in)",
                             zh=f"--weight-shape {list(ws)} 必须有 {nd + 2} 维 (*k, C_out, C_in)")
        out_shape = _need(a.get("output_shape"), "output_shape", "TensorFlow",
                          "write output_shape=[N, *spatial, C_out]")

        s = per_axis(_need(a.get("strides"), "strides", "TensorFlow", "write strides=…"), nd, "strides", "TensorFlow")
        d = per_axis(a["dilations"], nd, "dilations", "TensorFlow")
        kernel = tuple(ws[:nd])
        sp = spatial(nd)
        out_sp = tuple(out_shape[1:-1]) if len(out_shape) == nd + 2 else tuple(out_shape)
        begin, end = tf_conv.tf_crops(sp, kernel, s, d, a["padding"], out_sp)
        g = Geometry(c_in=ws[-1], c_out=ws[-2], groups=1, kernel=kernel, stride=s, dilation=d, begin=begin, end=end,
                     size=sp, bias=False)
        return Layer("tf", text, "call", a, g)

    if framework == "jax":
        a = bind(call, ("lhs", "rhs", "strides", "padding", "rhs_dilation", "dimension_numbers", "transpose_kernel",
                        "precision", "preferred_element_type", "use_consistent_padding"), "JAX",
                 {"rhs_dilation": None, "dimension_numbers": None, "transpose_kernel": False,
                  "use_consistent_padding": False})
        ws = _need(weight_shape, "the rhs (kernel) shape", "JAX", "give --weight-shape in the dimension_numbers layout")
        nd = len(ws) - 2
        if nd not in (1, 2, 3):
            raise ConvtError(f"--weight-shape {list(ws)} must have 3, 4 or 5 dims",
                             zh=f"--weight-shape {list(ws)} 必须有 3、4 或 5 维")
        dn = a["dimension_numbers"] or jax_conv.DEFAULT_DN[nd]
        lhs_perm, rhs_perm, _ = jax_conv.dn_perms(dn, nd)
        oi = [ws[i] for i in rhs_perm]
        c_in, c_out = (oi[0], oi[1]) if a["transpose_kernel"] else (oi[1], oi[0])

        s = per_axis(_need(a.get("strides"), "strides", "JAX", "write strides"), nd, "strides", "JAX")
        d = (1,) * nd if a["rhs_dilation"] is None else per_axis(a["rhs_dilation"], nd, "rhs_dilation", "JAX")
        kernel = tuple(oi[2:])
        padding = _need(a.get("padding"), "padding", "JAX", "write padding='SAME', 'VALID' or pairs")
        begin, end = jax_conv.jax_crops(kernel, s, d, padding, bool(a["use_consistent_padding"]))
        g = Geometry(c_in=c_in, c_out=c_out, groups=1, kernel=kernel, stride=s, dilation=d, begin=begin, end=end,
                     size=spatial(nd), bias=False)
        return Layer("jax", text, "call", {**a, "dimension_numbers": tuple(dn)}, g)

    if framework == "flax":
        a = bind(call, ("features", "kernel_size", "strides", "padding", "kernel_dilation", "use_bias", "mask", "dtype",
                        "param_dtype", "precision", "kernel_init", "bias_init", "transpose_kernel"), "Flax",
                 {"strides": 1, "padding": "SAME", "kernel_dilation": 1, "use_bias": True, "transpose_kernel": False})
        ks = _need(a.get("kernel_size"), "kernel_size", "Flax", "write ConvTranspose(features, kernel_size, …)")
        nd = 1 if isinstance(ks, int) else len(ks)
        _need(a.get("features"), "features", "Flax", "write ConvTranspose(features, kernel_size, …)")
        c_in = in_channels or a["features"]
        if in_channels is None:
            notes.append(("port.n.c_in", {"fw": "Flax", "n": c_in}))
        g = jax_conv.flax_geometry(a["features"], ks, a["strides"], a["padding"], a["kernel_dilation"], a["use_bias"],
                                   a["transpose_kernel"], nd=nd, c_in=c_in, size=spatial(nd))
        return Layer("flax", text, "layer", a, g, tuple(notes))

    if framework == "onnx":
        a = bind(call, ("auto_pad", "dilations", "group", "kernel_shape", "output_padding", "output_shape", "pads",
                        "strides"), "ONNX", {"auto_pad": "NOTSET", "group": 1})
        group = a["group"]
        if isinstance(group, bool) or not isinstance(group, int) or group <= 0:
            raise ConvtError(f"ONNX: group={group!r} must be a positive integer",
                             zh=f"ONNX：group={group!r} 必须是正整数")
        if weight_shape is not None:
            ws = tuple(weight_shape)
        else:
            ks = _need(a.get("kernel_shape"), "kernel_shape", "ONNX", "add kernel_shape=[…] or give --weight-shape")
            c = in_channels or group
            m = out_channels or c
            if m % group:
                raise ConvtError(f"ONNX: group={group!r} must divide the {m} output channels",
                                 zh=f"ONNX：group={group!r} 必须是能整除输出通道数 {m} 的正整数")
            ws = (c, m // group, *ks)
            if in_channels is None:
                notes.append(("port.n.onnx_channels", {"c": c, "m": m}))
        nd = len(ws) - 2
        if nd not in (1, 2, 3):
            raise ConvtError(f"ONNX: the kernel has {nd} spatial dims; 1, 2 or 3 are supported",
                             zh=f"ONNX：卷积核有 {nd} 个空间维；只支持 1、2 或 3")
        sp = spatial(nd)
        g = onnx_op.onnx_geometry((1, ws[0], *sp), ws, bias=True, **a)
        return Layer("onnx", text, "layer", a, g, tuple(notes))

    # mlx
    nd = _nd_from_name(call.name, "MLX")
    if call.name.startswith("ConvTranspose"):
        a = bind(call, ("in_channels", "out_channels", "kernel_size", "stride", "padding", "dilation", "output_padding",
                        "bias"), "MLX", {"stride": 1, "padding": 0, "dilation": 1, "output_padding": 0, "bias": True})
        for key in ("in_channels", "out_channels", "kernel_size"):
            _need(a.get(key), key, "MLX", f"write nn.ConvTranspose{nd}d(in_channels, out_channels, kernel_size, …)")
        g = torch_conv.torch_geometry(a["in_channels"], a["out_channels"], a["kernel_size"], a["stride"], a["padding"],
                                      a["output_padding"], 1, a["bias"], a["dilation"], nd=nd, size=spatial(nd))
        mlx_conv.check_mlx(g.kernel, g.begin, g.dilation, 1)
        return Layer("mlx", text, "layer", a, g)
    a = bind(call, ("input", "weight", "stride", "padding", "dilation", "output_padding", "groups", "stream"), "MLX",
             {"stride": 1, "padding": 0, "dilation": 1, "output_padding": 0, "groups": 1})
    ws = _need(weight_shape, "the weight's shape", "MLX", "give --weight-shape as (C_out, *k, C_in/groups)")
    if len(ws) != nd + 2:
        raise ConvtError(f"--weight-shape {list(ws)} must have {nd + 2} dims (C_out, *k, C_in/groups)",
                         zh=f"--weight-shape {list(ws)} 必须有 {nd + 2} 维 (C_out, *k, C_in/groups)")
    groups = a["groups"]
    if isinstance(groups, bool) or not isinstance(groups, int) or groups <= 0:
        raise ConvtError(f"MLX: groups={groups!r} must be a positive integer",
                         zh=f"MLX：groups={groups!r} 必须是正整数")
    g = torch_conv.torch_geometry(ws[-1] * groups, ws[0], tuple(ws[1:-1]), a["stride"], a["padding"],
                                  a["output_padding"], groups, False, a["dilation"], nd=nd, size=spatial(nd))
    mlx_conv.check_mlx(g.kernel, g.begin, g.dilation, groups)
    return Layer("mlx", text, "call", a, g)
