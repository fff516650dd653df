"""What an ONNX file must be before the audit reads its numbers: sizes first, then every node checked.

* :func:`load_checked` — the file's size, every tensor's declared size and every external data file's
  size checked against the memory budget *before* any tensor is read; external data then read by
  onnx's own loader (which refuses paths leaving the model's folder and symlinks); every tensor's
  stored data checked to hold as many elements as its dims say.
* :func:`check_conv` — a ConvTranspose node refused where onnxruntime refuses it: attribute types
  and lengths, ``auto_pad``, ``group``, ``kernel_shape`` against the weight, the weight's channels
  against the input's, ``output_padding`` (onnxruntime runs a node only when every
  ``output_padding < stride``: it checks ``< max(stride, dilation)``, then that the output maps back
  to the input, which fails once ``output_padding`` reaches the stride).
"""

from __future__ import annotations

import math
import os
import warnings

from ..errors import ConvtError
from ..limits import check_bytes
from .model import one_line
from .text import shown

AUTO_PADS = ("NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID")


def _refuse(text: str, en: str, zh: str):
    raise ConvtError(f"MODEL {text!r}: {en}", zh=f"MODEL {text!r}：{zh}")


def _tensors(onnx, model) -> list:
    helper = getattr(onnx.external_data_helper, "_get_all_tensors", None)
    return list(helper(model)) if helper is not None else list(model.graph.initializer)


def _itemsize(onnx, tensor, text: str) -> int:
    try:
        dtype = onnx.helper.tensor_dtype_to_np_dtype(tensor.data_type)
    except Exception:  # noqa: BLE001 - an unknown element type
        _refuse(text, f"tensor {shown(tensor.name)!r} has an unknown element type {tensor.data_type}",
                f"张量 {shown(tensor.name)!r} 的元素类型 {tensor.data_type} 未知")
    return 8 if dtype.kind == "O" else max(1, dtype.itemsize)


def load_checked(onnx, spec):
    """The model, its sizes checked before anything large is read (see the module's text)."""
    text = spec.text
    check_bytes(os.path.getsize(spec.target), f"MODEL {text!r} (the ONNX file)")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = onnx.load(spec.target, load_external_data=False)
    except Exception as exc:  # noqa: BLE001 - not an ONNX file: its own message
        raise ConvtError(f"MODEL {text!r} is not a readable ONNX file: {one_line(exc)}",
                         zh=f"MODEL {text!r} 不是可读的 ONNX 文件：{one_line(exc)}") from None
    base = os.path.dirname(spec.target)
    total, external = 0, False
    tensors = _tensors(onnx, model)
    for tensor in tensors:
        dims = list(tensor.dims)
        if any(d < 0 for d in dims):
            _refuse(text, f"tensor {shown(tensor.name)!r} has negative dims {dims}",
                    f"张量 {shown(tensor.name)!r} 的维度 {dims} 含负数")
        declared = math.prod(dims) * _itemsize(onnx, tensor, text)
        stored = 0
        if tensor.data_location == onnx.TensorProto.EXTERNAL:
            external = True
            info = {e.key: e.value for e in tensor.external_data}
            try:
                offset = int(info.get("offset", 0) or 0)
                length = info.get("length")
                if length is not None:
                    stored = int(length)
                else:
                    where = os.path.join(base, info.get("location", ""))
                    stored = max(0, os.stat(where).st_size - offset) if os.path.isfile(where) else 0
            except (ValueError, OSError):
                stored = 0  # onnx's loader says what is wrong with it
        total += max(declared, stored)
    check_bytes(total, f"MODEL {text!r} (the tensors its graph declares)")
    if external:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                onnx.external_data_helper.load_external_data_for_model(model, base)
        except Exception as exc:  # noqa: BLE001 - onnx's own refusal (outside the folder, a symlink, short)
            raise ConvtError(f"MODEL {text!r}: its external data was refused: {one_line(exc)}",
                             zh=f"MODEL {text!r}：其外部数据被拒绝：{one_line(exc)}") from None
        tensors = _tensors(onnx, model)
    for tensor in tensors:
        _check_stored(onnx, tensor, text)
    return model


def _check_stored(onnx, tensor, text: str) -> None:
    """A tensor's stored data holds exactly the elements its dims declare."""
    numel = math.prod(tensor.dims)
    if tensor.data_type == onnx.TensorProto.STRING:
        have, want = len(tensor.string_data), numel
    elif len(tensor.raw_data):
        have, want = len(tensor.raw_data), numel * _itemsize(onnx, tensor, text)
        if want and have * 2 == want + (numel % 2) and _itemsize(onnx, tensor, text) == 1:
            return  # 4-bit types pack two elements per byte
    else:
        try:
            field = onnx.helper.tensor_dtype_to_field(tensor.data_type)
        except Exception:  # noqa: BLE001
            return
        have = len(getattr(tensor, field))
        want = numel * (2 if tensor.data_type in (onnx.TensorProto.COMPLEX64, onnx.TensorProto.COMPLEX128) else 1)
        if have and have == (numel + 1) // 2:
            return  # 4-bit types pack two elements per int32
    if have != want:
        _refuse(text, f"tensor {shown(tensor.name)!r} declares dims {list(tensor.dims)} ({numel} elements) but "
                f"stores {have} {'bytes' if tensor.raw_data else 'values'} where {want} are needed",
                f"张量 {shown(tensor.name)!r} 声明维度 {list(tensor.dims)}（{numel} 个元素），"
                f"却存了 {have} 个，需要 {want} 个")


def _ints(text: str, node: str, attrs: dict, key: str, n: int, default: int, low: int) -> tuple[int, ...]:
    value = attrs.get(key)
    if value is None:
        return (default,) * n
    if not isinstance(value, list) or not all(isinstance(v, int) and not isinstance(v, bool) for v in value):
        _refuse(text, f"ONNX node {node!r}: {key} must be a list of {n} integers (INTS), not {shown(repr(value))}",
                f"ONNX 节点 {node!r}：{key} 必须是 {n} 个整数的列表（INTS），而不是 {shown(repr(value))}")
    if len(value) != n:
        _refuse(text, f"ONNX node {node!r}: {key} {value} has {len(value)} values; the weight's spatial axes need {n}",
                f"ONNX 节点 {node!r}：{key} {value} 有 {len(value)} 个值，需要 {n} 个")
    if any(v < low for v in value):
        _refuse(text, f"ONNX node {node!r}: {key} {value} must be {low} or more on every axis",
                f"ONNX 节点 {node!r}：{key} {value} 的每个值都必须 ≥ {low}")
    return tuple(value)


def check_conv(text: str, name: str, attrs: dict, in_shape: list[int], w_shape: tuple[int, ...]) -> None:
    """A ConvTranspose node as onnxruntime would accept it, else one :class:`ConvtError`."""
    node = shown(name)
    nd = len(w_shape) - 2
    auto_pad = attrs.get("auto_pad", "NOTSET")
    if auto_pad not in AUTO_PADS:
        _refuse(text, f"ONNX node {node!r}: auto_pad {shown(repr(auto_pad))} is not one of {', '.join(AUTO_PADS)}",
                f"ONNX 节点 {node!r}：auto_pad {shown(repr(auto_pad))} 不是 {', '.join(AUTO_PADS)} 之一")
    group = attrs.get("group", 1)
    if not isinstance(group, int) or isinstance(group, bool) or group < 1:
        _refuse(text, f"ONNX node {node!r}: group {shown(repr(group))} must be an integer of 1 or more",
                f"ONNX 节点 {node!r}：group {shown(repr(group))} 必须是 ≥ 1 的整数")
    if any(d < 1 for d in w_shape):
        _refuse(text, f"ONNX node {node!r}: the weight's shape {list(w_shape)} has a size below 1",
                f"ONNX 节点 {node!r}：权重形状 {list(w_shape)} 含小于 1 的尺寸")
    kernel = _ints(text, node, attrs, "kernel_shape", nd, 0, 1) if "kernel_shape" in attrs else tuple(w_shape[2:])
    if kernel != tuple(w_shape[2:]):
        _refuse(text, f"ONNX node {node!r}: kernel_shape {list(kernel)} does not match the weight's spatial shape "
                f"{list(w_shape[2:])} (onnxruntime refuses it)",
                f"ONNX 节点 {node!r}：kernel_shape {list(kernel)} 与权重的空间形状 {list(w_shape[2:])} 不符")
    stride = _ints(text, node, attrs, "strides", nd, 1, 1)
    _ints(text, node, attrs, "dilations", nd, 1, 1)
    _ints(text, node, attrs, "pads", 2 * nd, 0, 0)
    op = _ints(text, node, attrs, "output_padding", nd, 0, 0)
    if "output_shape" in attrs:
        given = attrs["output_shape"]
        _ints(text, node, attrs, "output_shape", len(given) if isinstance(given, list) and len(given) in (nd, nd + 2)
              else nd, 0, 0)
    if any(o >= s for o, s in zip(op, stride)):
        _refuse(text, f"ONNX node {node!r}: output_padding {list(op)} must be less than the stride {list(stride)} on "
                "every axis (onnxruntime refuses the node otherwise)",
                f"ONNX 节点 {node!r}：output_padding {list(op)} 在每个轴上都必须小于 stride {list(stride)}")
    if w_shape[0] % group:
        _refuse(text, f"ONNX node {node!r}: the weight's {w_shape[0]} input channels do not divide into group={group}",
                f"ONNX 节点 {node!r}：权重的 {w_shape[0]} 个输入通道不能被 group={group} 整除")
    if len(in_shape) == nd + 2 and in_shape[1] != w_shape[0]:
        _refuse(text, f"ONNX node {node!r}: the input has {in_shape[1]} channels (shape {in_shape}) but the weight "
                f"{list(w_shape)} takes {w_shape[0]} (onnxruntime refuses it)",
                f"ONNX 节点 {node!r}：输入有 {in_shape[1]} 个通道（形状 {in_shape}），"
                f"而权重 {list(w_shape)} 需要 {w_shape[0]} 个")


def check_order(text: str, graph) -> None:
    """Every node reads only what the graph's inputs, its initializers or an earlier node give: ONNX requires
    topological order, so a cycle (or an unsorted graph) is refused here, as onnxruntime refuses it."""
    known = {i.name for i in graph.input} | {i.name for i in graph.initializer} | {""}
    for node in graph.node:
        for name in node.input:
            if name not in known:
                _refuse(text, f"ONNX node {shown(node.name or node.op_type)!r} reads {shown(name)!r} before any node "
                        "writes it: the graph has a cycle or is not in topological order",
                        f"ONNX 节点 {shown(node.name or node.op_type)!r} 在 {shown(name)!r} 被写出之前就读取它："
                        "图中有环或未按拓扑排序")
        known.update(node.output)
