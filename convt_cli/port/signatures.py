"""Each framework's transposed convolution as a signature table: the class or function names, the
positional order, the keyword names, the types each argument accepts and its default, taken from
the frameworks themselves (``inspect.signature`` of torch 2.x, Keras 3, TensorFlow 2, JAX, Flax
linen, MLX, and the ONNX ConvTranspose operator's attribute types). :func:`bind` reads any of them;
the values' ranges (positive, divisible, shorter than the stride) are checked afterwards by the
conventions' geometry functions with the framework's own rules.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import ConvtError

REQUIRED = object()


class Ref:
    """A bare or dotted name in the layer text (``x``, ``w``, ``jnp.float32``): an array or object, never run."""

    def __init__(self, name: str):
        self.name = name

    def __repr__(self) -> str:
        return self.name


def _is_int(v: object) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _ints(v: object) -> bool:
    return isinstance(v, (tuple, list)) and all(_is_int(i) for i in v)


def _pairs(v: object) -> bool:
    return isinstance(v, (tuple, list)) and all(isinstance(p, (tuple, list)) and len(p) == 2 and _ints(p) for p in v)


# kind: (test, what the framework accepts, in words)
KINDS = {
    "int": (_is_int, "an integer"),
    "int|ints": (lambda v: _is_int(v) or _ints(v), "an integer or a tuple of integers"),
    "int|ints|str": (lambda v: _is_int(v) or _ints(v) or isinstance(v, str), "an integer or a tuple of integers"),
    "int|ints|None": (lambda v: v is None or _is_int(v) or _ints(v), "None, an integer or a tuple of integers"),
    "ints": (_ints, "a sequence of integers"),
    "ints|None": (lambda v: v is None or _ints(v), "None or a sequence of integers"),
    "onnx_ints": (_ints, "a list of integers (an INTS attribute)"),
    "bool": (lambda v: isinstance(v, bool), "True or False"),
    "str": (lambda v: isinstance(v, str), "a string"),
    "str|None": (lambda v: v is None or isinstance(v, str), "None or a string"),
    "str|pairs": (lambda v: isinstance(v, str) or _pairs(v), "'SAME', 'VALID' or a sequence of (low, high) pairs"),
    "flax_padding": (lambda v: isinstance(v, str) or _is_int(v) or (isinstance(v, (tuple, list)) and all(
        _is_int(p) or (isinstance(p, (tuple, list)) and len(p) == 2 and _ints(p)) for p in v)),
        "a string, an integer or a sequence of integers or (low, high) pairs"),
    "dn": (lambda v: v is None or (isinstance(v, (tuple, list)) and len(v) == 3 and all(isinstance(s, str) for s in v)),
           "None or three layout strings such as ('NCHW', 'OIHW', 'NCHW')"),
    "array": (lambda v: isinstance(v, Ref), "an array (a name such as x)"),
    "any": (lambda v: True, "anything"),  # accepted and not used (initializers, names, dtypes)
}


@dataclass(frozen=True)
class Param:
    name: str
    kind: str
    default: object = REQUIRED
    choices: tuple = ()  # allowed strings (compared as the framework compares them)
    fold: bool = False  # the framework lower-cases the string first


@dataclass(frozen=True)
class Sig:
    """One class or function: ``positional`` parameters may be given by position, the first
    ``positional_only`` only by position; the rest only by keyword."""

    framework: str  # the framework's name in messages
    title: str  # e.g. "ConvTranspose{nd}d(…)"
    names: tuple[str, ...]
    params: tuple[Param, ...]
    positional: int
    kind: str  # "layer" or "call"
    positional_only: int = 0


def _p(name: str, kind: str, default: object = REQUIRED, choices: tuple = (), fold: bool = False) -> Param:
    return Param(name, kind, default, choices, fold)


TORCH = Sig("PyTorch", "ConvTranspose{1,2,3}d", ("ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d"), (
    _p("in_channels", "int"), _p("out_channels", "int"), _p("kernel_size", "int|ints"), _p("stride", "int|ints", 1),
    _p("padding", "int|ints|str", 0), _p("output_padding", "int|ints", 0), _p("groups", "int", 1),
    _p("bias", "bool", True),
    _p("dilation", "int|ints", 1), _p("padding_mode", "str", "zeros", ("zeros", "reflect", "replicate", "circular")),
    _p("device", "any", None), _p("dtype", "any", None)), positional=12, kind="layer")

_KERAS_PARAMS = (
    _p("filters", "int"), _p("kernel_size", "int|ints"), _p("strides", "int|ints", 1),
    _p("padding", "str", "valid", ("valid", "same"), fold=True), _p("output_padding", "int|ints|None", None),
    _p("data_format", "str|None", None, ("channels_last", "channels_first")), _p("dilation_rate", "int|ints", 1),
    _p("activation", "any", None), _p("use_bias", "bool", True), _p("kernel_initializer", "any", None),
    _p("bias_initializer", "any", None), _p("kernel_regularizer", "any", None), _p("bias_regularizer", "any", None),
    _p("activity_regularizer", "any", None), _p("kernel_constraint", "any", None), _p("bias_constraint", "any", None),
    _p("name", "str|None", None), _p("dtype", "any", None), _p("trainable", "bool", True))
KERAS = Sig("Keras", "Conv{1,2,3}DTranspose", ("Conv1DTranspose", "Conv2DTranspose", "Conv3DTranspose",
                                                 "Convolution1DTranspose", "Convolution2DTranspose",
                                                 "Convolution3DTranspose"),
            _KERAS_PARAMS, positional=16, kind="layer")

TF_NN = Sig("TensorFlow", "tf.nn.conv{1,2,3}d_transpose / tf.nn.conv_transpose",
            ("conv1d_transpose", "conv2d_transpose", "conv3d_transpose", "conv_transpose"), (
                _p("input", "array"), _p("filters", "array"), _p("output_shape", "ints"), _p("strides", "int|ints"),
                _p("padding", "str", "SAME", ("SAME", "VALID")), _p("data_format", "str|None", None),
                _p("dilations", "int|ints|None", None), _p("name", "str|None", None)), positional=8, kind="call")

JAX = Sig("JAX", "lax.conv_transpose", ("conv_transpose",), (
    _p("lhs", "array"), _p("rhs", "array"), _p("strides", "ints"), _p("padding", "str|pairs"),
    _p("rhs_dilation", "ints|None", None), _p("dimension_numbers", "dn", None), _p("transpose_kernel", "bool", False),
    _p("precision", "any", None), _p("preferred_element_type", "any", None),
    _p("use_consistent_padding", "bool", False)), positional=10, kind="call")

FLAX = Sig("Flax", "nn.ConvTranspose", ("ConvTranspose",), (
    _p("features", "int"), _p("kernel_size", "int|ints"), _p("strides", "int|ints|None", None),
    _p("padding", "flax_padding", "SAME"), _p("kernel_dilation", "int|ints|None", None), _p("use_bias", "bool", True),
    _p("mask", "any", None), _p("dtype", "any", None), _p("param_dtype", "any", None), _p("precision", "any", None),
    _p("kernel_init", "any", None), _p("bias_init", "any", None), _p("transpose_kernel", "bool", False),
    _p("promote_dtype", "any", None), _p("preferred_element_type", "any", None), _p("parent", "any", None),
    _p("name", "str|None", None)), positional=15, kind="layer")  # parent and name are keyword-only

ONNX = Sig("ONNX", "ConvTranspose attributes", ("ConvTranspose",), (
    _p("auto_pad", "str", "NOTSET", ("NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID")),
    _p("dilations", "onnx_ints", None), _p("group", "int", 1), _p("kernel_shape", "onnx_ints", None),
    _p("output_padding", "onnx_ints", None), _p("output_shape", "onnx_ints", None), _p("pads", "onnx_ints", None),
    _p("strides", "onnx_ints", None)), positional=0, kind="layer")

MLX_NN = Sig("MLX", "nn.ConvTranspose{1,2,3}d", ("ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d"), (
    _p("in_channels", "int"), _p("out_channels", "int"), _p("kernel_size", "int|ints"), _p("stride", "int|ints", 1),
    _p("padding", "int|ints", 0), _p("dilation", "int|ints", 1), _p("output_padding", "int|ints", 0),
    _p("bias", "bool", True)), positional=8, kind="layer")

MLX_OP = Sig("MLX", "mx.conv_transpose{1,2,3}d", ("conv_transpose1d", "conv_transpose2d", "conv_transpose3d"), (
    _p("input", "array"), _p("weight", "array"), _p("stride", "int|ints", 1), _p("padding", "int|ints", 0),
    _p("dilation", "int|ints", 1), _p("output_padding", "int|ints", 0), _p("groups", "int", 1),
    _p("stream", "any", None)), positional=7, kind="call", positional_only=2)

SIGNATURES: dict[str, tuple[Sig, ...]] = {
    "torch": (TORCH,), "keras": (KERAS,), "tf": (KERAS, TF_NN), "jax": (JAX,), "flax": (FLAX,), "onnx": (ONNX,),
    "mlx": (MLX_NN, MLX_OP),
}


def _err(en: str, zh: str) -> ConvtError:
    return ConvtError(en, zh=zh)


def find(framework: str, name: str) -> Sig:
    """The signature ``name`` has in ``framework``; anything else refused, naming what the framework has."""
    sigs = SIGNATURES[framework]
    for sig in sigs:
        if name in sig.names:
            return sig
    fw = sigs[0].framework
    known = ", ".join(n for sig in sigs for n in sig.names)
    return_hint = ""
    if "Transpose" not in name and "transpose" not in name:
        return_hint = " (a forward convolution is not a transposed one)"
    raise _err(f"{fw} has no transposed convolution named {name!r}{return_hint}; convt reads {known}",
               f"{fw} 没有名为 {name!r} 的转置卷积{return_hint and '（正向卷积不是转置卷积）'}；convt 可读取 {known}")


def check_value(sig: Sig, param: Param, value: object, call_name: str) -> object:
    test, words = KINDS[param.kind]
    fw = sig.framework
    if not test(value):
        raise _err(f"{fw} {call_name}: {param.name}={value!r} must be {words}",
                   f"{fw} {call_name}：{param.name}={value!r} 必须是{words}")
    if param.choices and isinstance(value, str):
        seen = value.lower() if param.fold else value
        if seen not in param.choices:
            raise _err(f"{fw} {call_name}: {param.name}={value!r} must be one of {', '.join(map(repr, param.choices))}",
                       f"{fw} {call_name}：{param.name}={value!r} 必须是 {', '.join(map(repr, param.choices))} 之一")
    if param.kind == "onnx_ints":
        value = list(value)  # type: ignore[call-overload]
    elif isinstance(value, list):
        value = tuple(tuple(v) if isinstance(v, list) else v for v in value)
    return value


def bind(sig: Sig, call_name: str, args: tuple, kwargs: list[tuple[str, object]]) -> dict:
    """Arguments by name as the framework binds them: positional order, keyword names, no repeats,
    required ones present, every value of the type the framework accepts; defaults filled in."""
    fw, names = sig.framework, [p.name for p in sig.params]
    if len(args) > sig.positional:
        allowed = ", ".join(names[:sig.positional]) if sig.positional else "none: attributes are named"
        raise _err(f"{fw} {call_name} takes at most {sig.positional} positional arguments ({allowed}), got {len(args)}",
                   f"{fw} {call_name} 至多接受 {sig.positional} 个位置参数（{allowed}），收到 {len(args)} 个")
    given: dict[str, object] = dict(zip(names, args))
    for key, value in kwargs:
        if key not in names:
            raise _err(f"{fw} {call_name} has no argument {key!r} (it takes {', '.join(names)})",
                       f"{fw} {call_name} 没有参数 {key!r}（可用：{', '.join(names)}）")
        if names.index(key) < sig.positional_only:
            raise _err(f"{fw} {call_name}: {key!r} is positional-only (write it as argument {names.index(key) + 1})",
                       f"{fw} {call_name}：{key!r} 只能按位置给出（第 {names.index(key) + 1} 个参数）")
        if key in given:
            raise _err(f"{fw} {call_name} got {key!r} twice (Python refuses a repeated argument)",
                       f"{fw} {call_name} 的 {key!r} 给了两次（Python 不允许重复参数）")
        given[key] = value
    bound: dict[str, object] = {}
    for param in sig.params:
        if param.name in given:
            bound[param.name] = check_value(sig, param, given[param.name], call_name)
        elif param.default is REQUIRED:
            raise _err(f"{fw} {call_name} needs {param.name!r} (its signature: {', '.join(names[:4])}, …)",
                       f"{fw} {call_name} 需要 {param.name!r}（签名：{', '.join(names[:4])}, …）")
        else:
            bound[param.name] = param.default
    return bound
