"""The port as code: the target's call with every argument, the weight conversion, the extra op, and
``--emit python``'s self-contained snippet ``convt_port(x, weight, bias)``.

The snippet takes PyTorch-layout NumPy arrays (``x (N, C_in, *spatial)``, ``weight (C_in, C_out/groups, *k)``,
``bias (C_out,)`` or ``None``), computes with the target framework only, and returns ``(N, C_out, *out)``.
The call line it runs is the one ``convt port`` prints.
"""

from __future__ import annotations

from ..conventions.jax_conv import DEFAULT_DN, dn_perms
from ..errors import ConvtError
from .plan import IMPOSSIBLE, Plan
from .texts import code_line, say

LAST = {"keras", "flax", "tf", "mlx"}  # channels-last targets


def _t(v: object) -> str:
    """Tuples as Python writes them, lists of pairs as tuples of pairs."""
    if isinstance(v, list) and v and isinstance(v[0], tuple):
        return "(" + ", ".join(repr(tuple(p)) for p in v) + ("," if len(v) == 1 else "") + ")"
    if isinstance(v, tuple):
        return repr(tuple(v))
    return repr(v)


def _l(v: object) -> str:
    return repr(list(v))  # type: ignore[call-overload]


def call_text(p: Plan, x: str = "x", w: str = "w") -> str:
    """The target's layer or call with every argument."""
    a, nd = p.args, p.nd
    if p.target == "torch":
        return (f"nn.ConvTranspose{nd}d({a['in_channels']}, {a['out_channels']}, kernel_size={_t(a['kernel_size'])}, "
                f"stride={_t(a['stride'])}, padding={_t(a['padding'])}, output_padding={_t(a['output_padding'])}, "
                f"groups={a['groups']}, bias={a['bias']}, dilation={_t(a['dilation'])})")
    if p.target == "mlx":
        one = (lambda v: v[0]) if nd == 1 else (lambda v: v)  # noqa: E731 - conv_transpose1d takes ints
        return (f"mx.conv_transpose{nd}d({x}, {w}, stride={_t(one(a['stride']))}, padding={_t(one(a['padding']))}, "
                f"dilation={_t(one(a['dilation']))}, output_padding={_t(one(a['output_padding']))}, "
                f"groups={a['groups']})")
    if p.target == "onnx":
        op = a["output_padding"] or [0] * nd
        dil = a["dilations"] or [1] * nd
        return (f"ConvTranspose(kernel_shape={_l(a['kernel_shape'])}, strides={_l(a['strides'])}, "
                f"pads={_l(a['pads'])}, output_padding={_l(op)}, dilations={_l(dil)}, group={a['group']})")
    if p.target == "jax" and "feature_group_count" in a:
        return (f"lax.conv_general_dilated({x}, {w}, window_strides={_t(a['window_strides'])}, "
                f"padding={_t(a['padding'])}, lhs_dilation={_t(a['lhs_dilation'])}, "
                f"rhs_dilation={_t(a['rhs_dilation'])}, dimension_numbers={_NC[nd]}, "
                f"feature_group_count={a['feature_group_count']})")
    if p.target == "jax":
        return (f"lax.conv_transpose({x}, {w}, strides={_t(a['strides'])}, padding={_t(a['padding'])}, "
                f"rhs_dilation={_t(a['rhs_dilation'])}, dimension_numbers={_t(a['dimension_numbers'])}, "
                f"transpose_kernel=True)")
    if p.target == "flax":
        return (f"nn.ConvTranspose(features={a['features']}, kernel_size={_t(a['kernel_size'])}, "
                f"strides={_t(a['strides'])}, padding={_t(a['padding'])}, kernel_dilation={_t(a['kernel_dilation'])}, "
                f"use_bias={a['use_bias']}, transpose_kernel=True)")
    if p.target == "keras":
        op = None if a["output_padding"] is None else _t(a["output_padding"])
        return (f"keras.layers.Conv{nd}DTranspose({a['filters']}, {_t(a['kernel_size'])}, strides={_t(a['strides'])}, "
                f"padding={a['padding']!r}, output_padding={op}, dilation_rate={_t(a['dilation_rate'])}, "
                f"use_bias={a['use_bias']})")
    if p.target == "tf":
        out = ", ".join(str(v) for v in a["output_shape"])
        return (f"tf.nn.conv_transpose({x}, {w}, output_shape=[N, {out}, {p.geometry.c_out}], "
                f"strides={_l(a['strides'])}, padding={a['padding']!r}, dilations={_l(a['dilations'])})")
    raise ValueError(p.target)  # pragma: no cover


_NC = {1: "('NCH', 'OIH', 'NCH')", 2: "('NCHW', 'OIHW', 'NCHW')", 3: "('NCDHW', 'OIDHW', 'NCDHW')"}


def weight_lines(p: Plan, w: str = "w") -> list[tuple[str, tuple | None]]:
    """NumPy code from PyTorch's weight ``w`` (C_in, C_out/g, *k) to the target's: (code, comment words)."""
    g, nd = p.geometry, p.nd
    sp = tuple(range(2, nd + 2))
    lines: list[tuple[str, tuple | None]] = []
    if p.expand:
        steps = ", ".join(f"::{d}" for d in p.expand)
        k_eff = ", ".join(str(v) for v in g.k_eff)
        lines += [(f"w_e = np.zeros(({g.c_in}, {g.c_out // g.groups}, {k_eff}), np.float32)",
                   ("port.w.expand", {"d": tuple(p.expand)})),
                  (f"w_e[:, :, {steps}] = {w}", None)]
        w = "w_e"
    rev = (*sp, 1, 0)
    if p.target in ("torch", "onnx"):
        lines.append((f"{'W' if p.target == 'onnx' else 'weight'} = {w}", ("port.w.torch", {})))
    elif p.target == "jax" and g.groups > 1:
        cig, cog = g.c_in // g.groups, g.c_out // g.groups
        k = ", ".join(str(v) for v in g.kernel)
        lines.append((f"rhs = np.flip({w}, {sp}).reshape({g.groups}, {cig}, {cog}, {k}).swapaxes(1, 2)"
                      f".reshape({g.c_out}, {cig}, {k})", ("port.w.jax_group", {})))
    elif p.target == "jax":
        lines.append((f"rhs = {w}", ("port.w.jax", {})))
    elif p.target in ("keras", "flax", "tf"):
        lines.append((f"kernel = np.transpose({w}, {rev})", ("port.w.last", {})))
    elif p.target == "mlx":
        cig, cog = g.c_in // g.groups, g.c_out // g.groups
        k = ", ".join(str(v) for v in g.kernel)
        perm = (0, 2, *range(3, 3 + nd), 1)
        lines.append((f"weight = np.transpose({w}.reshape({g.groups}, {cig}, {cog}, {k}), {perm})"
                      f".reshape({g.c_out}, {k}, {cig})", ("port.w.mlx", {})))
    return lines


def source_weight_line(framework: str, args: dict, nd: int) -> tuple[str, tuple | None] | None:
    """NumPy code from the source framework's weight to PyTorch's ``w`` (None for PyTorch/ONNX)."""
    sp = tuple(range(nd))
    if framework in ("keras", "tf") or (framework == "flax" and args.get("transpose_kernel")):
        return f"w = np.transpose(kernel, {(nd + 1, nd, *sp)})", ("port.w.from_last", {})
    if framework == "flax":
        return (f"w = np.flip(np.transpose(kernel, {(nd, nd + 1, *sp)}), {tuple(range(2, nd + 2))})",
                ("port.w.from_unrotated", {"layout": "(*k, C_in, C_out)"}))
    if framework == "jax":
        dn = tuple(args.get("dimension_numbers") or DEFAULT_DN[nd])
        _, rhs_perm, _ = dn_perms(dn, nd)
        if args.get("transpose_kernel"):
            return f"w = np.transpose(rhs, {rhs_perm})", ("port.w.from_tk", {"layout": dn[1]})
        return (f"w = np.flip(np.transpose(rhs, {rhs_perm}), {tuple(range(2, nd + 2))}).swapaxes(0, 1)",
                ("port.w.from_unrotated", {"layout": dn[1]}))
    if framework == "mlx":
        return "w = regroup(weight)", ("port.w.from_mlx", {})
    if framework == "onnx":
        return "w = W", ("port.w.torch", {})
    return None


def residual_text(p: Plan) -> list[str]:
    """The extra op as code on the target's output (channels-last for Keras, Flax, TF, MLX)."""
    last = p.target in LAST
    out = []
    if p.slices:
        out.append(f"y = {_slice_expr(p, last)}")
    if p.pads:
        out.append(f"y = pad(y, {_pad_pairs(p, last)})  # zeros, then + bias")
    return out


def _wrap(text: str, width: int = 96) -> list[str]:
    import textwrap

    return textwrap.wrap(text, width)


def _slice_expr(p: Plan, last: bool) -> str:
    parts = [f"{max(b, 0)}:{-e if e > 0 else ''}" for b, e in p.residual]
    return "y[:, " + ", ".join(parts) + ", :]" if last else "y[:, :, " + ", ".join(parts) + "]"


def _pad_pairs(p: Plan, last: bool) -> list[tuple[int, int]]:
    pairs = [(max(-b, 0), max(-e, 0)) for b, e in p.residual]
    return [(0, 0), *pairs, (0, 0)] if last else [(0, 0), (0, 0), *pairs]


def source_words(p: Plan, source_framework: str) -> str:
    """What the snippet says about its source: built from the parsed geometry (integers only), never
    from the layer text, so nothing the user typed can end up in code."""
    g = p.geometry
    return (f"a {g.nd}-d transposed convolution read as {source_framework}: C_in={g.c_in}, C_out={g.c_out}, "
            f"groups={g.groups}, kernel={tuple(g.kernel)}, stride={tuple(g.stride)}, dilation={tuple(g.dilation)}, "
            f"crop begin={tuple(g.begin)}, end={tuple(g.end)}, bias={bool(g.bias)}")


def snippet(p: Plan, source_framework: str) -> str:
    """``--emit python``: the whole self-contained module text. Every value in it comes from the plan's
    integers and booleans and the framework's name from the fixed list; the layer text is not in it."""
    if p.status == IMPOSSIBLE:
        raise ConvtError(f"cannot emit {p.target} code: {say(p.reason)}; closest: {say(p.closest)}",
                         zh=f"无法生成 {p.target} 代码：{say(p.reason, 'zh')}；最接近的构造：{say(p.closest, 'zh')}")
    nd, last = p.nd, p.target in LAST
    bshape = f"(1, {', '.join(['1'] * nd)}, -1)" if last else f"(1, -1, {', '.join(['1'] * nd)})"
    from . import FRAMEWORKS

    assert source_framework in FRAMEWORKS  # a word from the fixed list, never user text
    words = source_words(p, source_framework)
    head = [f'"""{p.target}: emitted by `convt port` for', "", *_wrap(words), "",
            "convt_port(x, weight, bias): x (N, C_in, *spatial), weight (C_in, C_out/groups, *k), bias (C_out,) or",
            f"None, all PyTorch-layout NumPy arrays; returns (N, C_out, *out) computed with {p.target} only.",
            '"""', "", "import numpy as np"]
    body = ["    x = np.array(x, np.float32)  # a copy: C-contiguous, no negative strides",
            "    w = np.array(weight, np.float32)"]
    body += ["    " + code_line(line) for line in weight_lines(p)]
    in_op_bias = not p.pads
    tail: list[str] = []
    if p.slices:
        tail.append(f"    y = {_slice_expr(p, last)}")
    pads = _pad_pairs(p, last)
    t = p.target
    if t == "torch":
        head += ["import torch", "import torch.nn.functional as F"]
        a = p.args
        body += ["    b = None if bias is None else torch.as_tensor(np.array(bias, np.float32))",
                 f"    y = F.conv_transpose{nd}d(torch.as_tensor(x), torch.as_tensor(weight), "
                 f"{'b' if in_op_bias else 'None'}, stride={_t(a['stride'])}, padding={_t(a['padding'])}, "
                 f"output_padding={_t(a['output_padding'])}, groups={a['groups']}, dilation={_t(a['dilation'])})"]
        body.append(f"    # as a module: {call_text(p)}")
        if p.pads:
            flat = [v for pair in reversed(pads[2:]) for v in pair]
            tail.append(f"    y = F.pad(y, {tuple(flat)})")
            tail.append(f"    if b is not None:\n        y = y + b.reshape{bshape}")
        tail.append("    return y.numpy()")
    elif t == "onnx":
        head += ["import onnxruntime as ort", "from onnx import TensorProto, helper, numpy_helper"]
        a = p.args
        attrs = (f"kernel_shape={_l(a['kernel_shape'])}, strides={_l(a['strides'])}, pads={_l(a['pads'])}, "
                 f"output_padding={_l(a['output_padding'] or [0] * nd)}, dilations={_l(a['dilations'] or [1] * nd)}, "
                 f"group={a['group']}")
        body += ["    use_b = False" if p.pads else "    use_b = bias is not None",
                 "    inputs = ['X', 'W'] + (['B'] if use_b else [])",
                 f"    nodes = [helper.make_node('ConvTranspose', inputs, ['Y0'], {attrs})]",
                 "    inits, last = [], 'Y0'"]
        if p.slices:
            starts = [max(b, 0) for b, _ in p.residual]
            ends = [-e if e > 0 else 2**62 for _, e in p.residual]
            body += [f"    inits += [numpy_helper.from_array(np.array({starts}, np.int64), 'starts'),",
                     f"              numpy_helper.from_array(np.array({ends}, np.int64), 'ends'),",
                     f"              numpy_helper.from_array(np.array({list(range(2, nd + 2))}, np.int64), 'axes')]",
                     "    nodes.append(helper.make_node('Slice', [last, 'starts', 'ends', 'axes'], ['Y1']))",
                     "    last = 'Y1'"]
        if p.pads:
            onnx_pads = [pp[0] for pp in pads] + [pp[1] for pp in pads]
            body += [f"    inits.append(numpy_helper.from_array(np.array({onnx_pads}, np.int64), 'pads'))",
                     "    nodes.append(helper.make_node('Pad', [last, 'pads'], ['Y2']))",
                     "    last = 'Y2'",
                     "    if bias is not None:",
                     f"        bc = np.array(bias, np.float32).reshape{bshape}",
                     "        inits.append(numpy_helper.from_array(bc, 'Bc'))",
                     "        nodes.append(helper.make_node('Add', [last, 'Bc'], ['Y3']))",
                     "        last = 'Y3'"]
        body += ["    nodes.append(helper.make_node('Identity', [last], ['Y']))",
                 "    feeds = {'X': x, 'W': w}",
                 "    if use_b:",
                 "        feeds['B'] = np.array(bias, np.float32)",
                 "    graph = helper.make_graph(",
                 "        nodes, 'convt_port',",
                 "        [helper.make_tensor_value_info(k, TensorProto.FLOAT, list(v.shape))",
                 "         for k, v in feeds.items()],",
                 "        [helper.make_tensor_value_info('Y', TensorProto.FLOAT, None)], initializer=inits)",
                 "    model = helper.make_model(graph, opset_imports=[helper.make_opsetid('', 17)])",
                 "    model.ir_version = 8",
                 "    session = ort.InferenceSession(model.SerializeToString(), providers=['CPUExecutionProvider'])",
                 "    return session.run(None, feeds)[0]"]
        tail = []
    elif t in ("jax", "flax"):
        head += ["import jax.numpy as jnp", "from jax import lax"]
        if t == "flax":
            head.append("import flax.linen as nn")
            body += ["    x = jnp.asarray(np.moveaxis(x, 1, -1))",
                     "    params = {'kernel': jnp.asarray(kernel)}",
                     "    use_bias = bias is not None" if in_op_bias else "    use_bias = False",
                     "    if use_bias:",
                     "        params['bias'] = jnp.asarray(bias, jnp.float32)",
                     f"    layer = {call_text(p)}".replace(f"use_bias={p.args['use_bias']}", "use_bias=use_bias"),
                     "    y = layer.apply({'params': params}, x)"]
        else:
            body += ["    x = jnp.asarray(x)", f"    y = {call_text(p, 'x', 'jnp.asarray(rhs)')}"]
        if p.pads:
            tail.append(f"    y = jnp.pad(y, {pads})")
        if t == "jax" or p.pads:
            tail.append(f"    if bias is not None:\n        y = y + jnp.asarray(bias, jnp.float32).reshape{bshape}")
        tail.append("    return np.moveaxis(np.asarray(y), -1, 1)" if last else "    return np.asarray(y)")
    elif t == "keras":
        head = head[:-1] + ["import os", "", "os.environ.setdefault('KERAS_BACKEND', 'jax')", "", "import keras",
                            "import numpy as np"]
        body += ["    x = np.moveaxis(x, 1, -1)",
                 "    use_bias = bias is not None" if in_op_bias else "    use_bias = False",
                 f"    layer = {call_text(p)}".replace(f"use_bias={p.args['use_bias']})",
                                                     "use_bias=use_bias, kernel_initializer='zeros',\n"
                                                     "        bias_initializer='zeros')  # weights set below"),
                 "    layer.build(x.shape)",
                 "    layer.set_weights([kernel] + ([np.array(bias, np.float32)] if use_bias else []))",
                 "    y = layer(x)"]
        if p.pads:
            tail.append(f"    y = keras.ops.pad(y, {pads})")
            tail.append(f"    if bias is not None:\n        y = y + np.array(bias, np.float32).reshape{bshape}")
        tail.append("    return np.moveaxis(keras.ops.convert_to_numpy(y), -1, 1)")
    elif t == "tf":
        head.append("import tensorflow as tf")
        a = p.args
        crop = [c - o for c, o in zip(p.geometry.canvas, a["output_shape"])]
        body += ["    x = tf.constant(np.moveaxis(x, 1, -1))",
                 "    out = [(n - 1) * s + k - c for n, s, k, c in "
                 f"zip(x.shape[1:-1], {tuple(p.geometry.stride)}, {tuple(p.geometry.k_eff)}, {tuple(crop)})]",
                 f"    y = tf.nn.conv_transpose(x, tf.constant(kernel), output_shape=[x.shape[0], *out, "
                 f"{p.geometry.c_out}], strides={_l(a['strides'])}, padding={a['padding']!r}, "
                 f"dilations={_l(a['dilations'])})"]
        if p.pads:
            tail.append(f"    y = tf.pad(y, {pads})")
        tail.append("    if bias is not None:")
        tail.append(f"        y = y + tf.constant(np.array(bias, np.float32).reshape{bshape})")
        tail.append("    return np.moveaxis(y.numpy(), -1, 1)")
    elif t == "mlx":
        head.append("import mlx.core as mx")
        body += ["    x = mx.array(np.moveaxis(x, 1, -1))", f"    y = {call_text(p, 'x', 'mx.array(weight)')}"]
        if p.pads:
            tail.append(f"    y = mx.pad(y, {pads})")
        tail.append(f"    if bias is not None:\n        y = y + mx.array(np.array(bias, np.float32).reshape{bshape})")
        tail.append("    return np.moveaxis(np.array(y), -1, 1)")
    lines = head + ["", "", "def convt_port(x, weight, bias):"] + body + tail
    return "\n".join(lines) + "\n"
