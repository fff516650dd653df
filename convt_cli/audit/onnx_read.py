"""The audit of an ONNX graph: every ConvTranspose, Resize and DepthToSpace node, in graph order.

Shapes come from ``onnx.shape_inference`` (after ``--shape``, when given, replaces the first graph
input's shape); each node's attributes are kept as they are and also written in PyTorch terms. The
weights are the graph's initializers, so the phase-gain index is computed from them. onnx is
imported only here; without it the audit says how to install it.
"""

from __future__ import annotations

from ..errors import ConvtError
from .geometry import conv_record
from .model import ModelSpec, one_line
from .onnx_check import check_conv, check_order, load_checked
from .records import AuditReport, LayerRecord, WeightsInfo
from .text import shown

OPS = ("ConvTranspose", "Resize", "Upsample", "DepthToSpace")


def _onnx():
    try:
        import onnx
        from onnx import numpy_helper, shape_inference
    except ImportError:
        raise ConvtError("reading an .onnx model needs the onnx package; install it with: pip install onnx",
                         zh="读取 .onnx 模型需要 onnx；请安装：pip install onnx") from None
    return onnx, numpy_helper, shape_inference


def _attrs(onnx, node) -> dict:
    out = {}
    for a in node.attribute:
        if a.name in out:
            raise ConvtError(f"ONNX node {shown(node.name or node.op_type)!r} gives the attribute {shown(a.name)!r} "
                             "twice (the ONNX checker refuses it)",
                             zh=f"ONNX 节点 {shown(node.name or node.op_type)!r} 两次给出属性 {shown(a.name)!r}")
        value = onnx.helper.get_attribute_value(a)
        if isinstance(value, bytes):
            value = value.decode("utf-8", "replace")
        elif isinstance(value, (list, tuple)):
            value = [v.decode("utf-8", "replace") if isinstance(v, bytes) else v for v in value]
        elif not isinstance(value, (int, float, str)):
            continue
        out[a.name] = value
    return out


def _dims(value_info) -> list[int] | None:
    t = value_info.type.tensor_type
    if not t.HasField("shape"):
        return None
    dims = []
    for d in t.shape.dim:
        if not d.HasField("dim_value"):
            return None
        if d.dim_value < 0:
            raise ConvtError(f"ONNX value {shown(value_info.name)!r} has a negative dimension {d.dim_value}; "
                             "a tensor's dimensions are 0 or more (onnxruntime refuses it too)",
                             zh=f"ONNX 值 {shown(value_info.name)!r} 有负的维度 {d.dim_value}；张量维度必须 ≥ 0")
        dims.append(int(d.dim_value))
    return dims


def audit_onnx(spec: ModelSpec, shape: tuple[int, ...] | None, on_loaded=None) -> AuditReport:
    onnx, numpy_helper, shape_inference = _onnx()
    if on_loaded is not None:
        on_loaded()
    model = load_checked(onnx, spec)
    graph = model.graph
    check_order(spec.text, graph)
    inits = {i.name: i for i in graph.initializer}
    inputs = [i for i in graph.input if i.name not in inits]
    if shape is not None:
        if not inputs:
            raise ConvtError(f"MODEL {spec.text!r} has no graph input to give --shape to",
                             zh=f"MODEL {spec.text!r} 没有可接收 --shape 的输入")
        dims = inputs[0].type.tensor_type.shape
        if len(dims.dim) != len(shape):
            raise ConvtError(
                f"--shape has {len(shape)} sizes but the ONNX input {inputs[0].name!r} has rank {len(dims.dim)}",
                zh=f"--shape 有 {len(shape)} 个尺寸，而 ONNX 输入 {inputs[0].name!r} 是 {len(dims.dim)} 维")
        for d, size in zip(dims.dim, shape):
            d.ClearField("dim_param")
            d.dim_value = int(size)
    try:
        # data_prop: shapes computed from Shape/Gather/Concat chains (a flatten's Reshape, as torch exports it)
        inferred = shape_inference.infer_shapes(model, strict_mode=True, data_prop=True)
    except Exception as exc:  # noqa: BLE001 - the graph's own inconsistency, in one line
        raise ConvtError(f"ONNX shape inference failed on {spec.text!r}: {one_line(exc)}",
                         zh=f"ONNX 形状推断在 {spec.text!r} 上失败：{one_line(exc)}") from None
    g = inferred.graph
    shapes = {vi.name: _dims(vi) for vi in list(g.input) + list(g.value_info) + list(g.output)}
    for name, init in inits.items():
        shapes[name] = list(init.dims)
    arrays = {}

    def array(name: str):
        if name not in inits:
            return None
        if name not in arrays:
            arrays[name] = numpy_helper.to_array(inits[name])
        return arrays[name]

    layers: list[LayerRecord] = []
    for node in g.node:
        if node.op_type not in OPS:
            continue
        attrs = _attrs(onnx, node)
        in_shape = shapes.get(node.input[0]) or []
        out_shape = shapes.get(node.output[0]) or []
        name = node.name or f"{node.op_type}_{len(layers)}"
        if node.op_type == "ConvTranspose":
            layers.append(_conv(len(layers), name, node, attrs, in_shape, out_shape, shapes, array, spec.text))
        else:
            layers.append(LayerRecord(
                index=len(layers), name=name, kind=node.op_type, op=_resize_text(node, attrs, array),
                input_shape=in_shape, output_shape=out_shape, params=0, macs_scatter=0, macs_useful=0,
                bias_adds=0, overlap=None, overlap_per_cell=None, attributes=attrs,
            ))
    notes = [] if layers else ["nothing"]
    if any(not la.input_shape or not la.output_shape for la in layers):
        notes.append("onnx_unknown_shapes")
    return AuditReport(model=spec.text, source="onnx", input_shape=list(shape) if shape else
                       (_dims(inputs[0]) or [] if inputs else []), device="onnx",
                       device_name="ONNX shape inference", torch_version=None,
                       weights=WeightsInfo(spec.target, "onnx", True, "onnx"), layers=layers, notes=notes)


def _conv(index, name, node, attrs, in_shape, out_shape, shapes, array, text) -> LayerRecord:
    w_shape = tuple(shapes.get(node.input[1]) or ()) if len(node.input) > 1 else ()
    if len(w_shape) < 3:
        raise ConvtError(f"ONNX node {shown(name)!r}: the ConvTranspose weight's shape is unknown",
                         zh=f"ONNX 节点 {shown(name)!r}：ConvTranspose 权重的形状未知")
    check_conv(text, name, attrs, in_shape, w_shape)
    nd = len(w_shape) - 2
    if len(in_shape) != nd + 2 or len(out_shape) != nd + 2:
        raise ConvtError(
            f"ONNX node {shown(name)!r}: shape inference could not fix its input and output shapes "
            f"(got {in_shape or '?'} → {out_shape or '?'}); give the input's shape with --shape",
            zh=f"ONNX 节点 {shown(name)!r}：形状推断无法确定其输入和输出形状；请用 --shape 给出输入形状")
    group = int(attrs.get("group", 1))
    stride = tuple(attrs.get("strides", [1] * nd))
    dilation = tuple(attrs.get("dilations", [1] * nd))
    pads = list(attrs.get("pads", [0] * 2 * nd))
    begin, end = tuple(pads[:nd]), tuple(pads[nd:])
    op_pad = tuple(attrs.get("output_padding", [0] * nd))
    if in_shape and out_shape and (attrs.get("auto_pad", "NOTSET") not in ("NOTSET", "VALID")
                                   or "output_shape" in attrs):
        # The crop onnxruntime applies: total = full − out; SAME_UPPER puts the odd element at the end.
        full = [stride[i] * (in_shape[2 + i] - 1) + op_pad[i] + (w_shape[2 + i] - 1) * dilation[i] + 1
                for i in range(nd)]
        total = [f - o for f, o in zip(full, out_shape[2:])]
        upper = attrs.get("auto_pad") == "SAME_UPPER"
        begin = tuple(t // 2 if upper else t - t // 2 for t in total)
        end = tuple(t - b for t, b in zip(total, begin))
    has_bias = len(node.input) > 2 and bool(node.input[2])
    params = int(_numel(w_shape)) + (int(_numel(shapes.get(node.input[2]) or ())) if has_bias else 0)
    c_in, c_out = w_shape[0], w_shape[1] * group
    k = tuple(w_shape[2:])
    text = _torch_conv_text(nd, c_in, c_out, k, stride, begin, end, op_pad, dilation, group, has_bias)
    record = conv_record(index, name, "ConvTranspose", text, in_shape, out_shape, w_shape, stride, begin,
                         dilation, group, has_bias, params, array(node.input[1]))
    record.attributes = attrs
    return record


def _numel(shape) -> int:
    n = 1
    for s in shape:
        n *= int(s)
    return n


def _t(values) -> str:
    values = tuple(values)
    return str(values[0]) if len(set(values)) == 1 else str(values)


def _torch_conv_text(nd, c_in, c_out, k, stride, begin, end, op_pad, dilation, group, has_bias) -> str:
    parts = [f"{c_in}", f"{c_out}", f"kernel_size={_t(k)}", f"stride={_t(stride)}"]
    if begin != end:
        # Asymmetric pads: no single nn.ConvTranspose; pad the smaller side, then crop the rest at the end.
        low = tuple(min(b, e) for b, e in zip(begin, end))
        parts.append(f"padding={_t(low)}")
        tail = f"; then crop begin {_t(b - m for b, m in zip(begin, low))}, end {_t(e - m for e, m in zip(end, low))}"
    else:
        tail = ""
        if any(begin):
            parts.append(f"padding={_t(begin)}")
    if any(op_pad):
        parts.append(f"output_padding={_t(op_pad)}")
    if any(d != 1 for d in dilation):
        parts.append(f"dilation={_t(dilation)}")
    if group != 1:
        parts.append(f"groups={group}")
    if not has_bias:
        parts.append("bias=False")
    return f"ConvTranspose{nd}d({', '.join(parts)}){tail}"


def _resize_text(node, attrs, array) -> str:
    if node.op_type == "DepthToSpace":
        b = attrs.get("blocksize")
        if attrs.get("mode", "DCR") == "CRD":
            return f"PixelShuffle(upscale_factor={b})"
        return f"DepthToSpace(blocksize={b}, mode='DCR'): PixelShuffle({b}) with the channels regrouped first"
    mode = attrs.get("mode", "nearest")
    ctm = attrs.get("coordinate_transformation_mode", "half_pixel")
    scales = array(node.input[2]) if len(node.input) > 2 and node.input[2] else None
    sizes = array(node.input[3]) if len(node.input) > 3 and node.input[3] else None
    if node.op_type == "Upsample":
        scales = array(node.input[1]) if len(node.input) > 1 else None
        ctm = "asymmetric"
    arg = ""
    if scales is not None and len(scales):
        arg = f"scale_factor={_t(float(s) for s in list(scales)[2:])}"
    elif sizes is not None and len(sizes):
        arg = f"size={_t(int(s) for s in list(sizes)[2:])}"
    if mode == "nearest":
        nearest = attrs.get("nearest_mode", "round_prefer_floor")
        if ctm == "asymmetric" and (nearest == "floor" or node.op_type == "Upsample"):
            return f"F.interpolate({arg}, mode='nearest')"
        if ctm in ("half_pixel", "pytorch_half_pixel") and nearest == "round_prefer_ceil":
            return f"F.interpolate({arg}, mode='nearest-exact')"
        return f"Resize(mode='nearest', {ctm}, {nearest}): no exact F.interpolate mode"
    torch_mode = {"linear": "bilinear", "cubic": "bicubic"}.get(mode, mode)
    if ctm in ("half_pixel", "pytorch_half_pixel"):
        return f"F.interpolate({arg}, mode='{torch_mode}', align_corners=False)"
    if ctm == "align_corners":
        return f"F.interpolate({arg}, mode='{torch_mode}', align_corners=True)"
    return f"Resize(mode='{mode}', {ctm}): no exact F.interpolate mode"
