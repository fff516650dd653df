"""``convt audit MODEL --runtime NAME``: each transposed convolution of a model, on its real shapes, weights
and input activations, run through a toolchain and compared with convt's float64 engine.

Two sandboxed steps, then a pure comparison:

1. :func:`extract` (sandbox target) builds the user's model (``FILE.py:FUNC`` / ``module:FUNC``, with
   ``--weights``), runs it once on a seeded input of ``--shape`` and records, for every
   ``nn.ConvTranspose1d/2d/3d`` module, its parameters, weights and the input it received — plain
   :class:`LayerCase` records. An ``.onnx`` file's ConvTranspose nodes are read with their initializers
   (inputs: seeded values of the inferred shape).
2. :func:`check_layers` runs each layer alone as a real ``ConvTransposeNd`` through the runtime (the
   batch child of :mod:`.child`), and compares with the engine by the tolerance rule: float32's defaults
   plus one float32 epsilon per reduction term (a real layer sums thousands of products).

A layer is rebuilt alone: what is checked is the toolchain's transposed convolution on that layer's
exact configuration, not the whole exported graph (fusions with neighbours are not exercised).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..tolerance import Tolerance

LAYER_TOLERANCE = Tolerance(1.3e-6, 1e-5, 2.0**-23, source="torch.testing float32 defaults + float32 eps·L")


@dataclass
class LayerCase:
    """One layer, plain: the parameters of ``ConvTransposeNd`` and the arrays it ran on."""

    name: str
    stride: tuple[int, ...]
    padding: tuple[int, ...]
    output_padding: tuple[int, ...]
    dilation: tuple[int, ...]
    groups: int
    x: np.ndarray  # (N, C_in, *spatial) float32
    weight: np.ndarray  # (C_in, C_out/groups, *k) float32
    bias: np.ndarray | None
    skipped: str = ""  # why the layer cannot be checked (e.g. asymmetric ONNX pads)

    def record(self) -> dict:
        g = int(self.groups)
        return {"ndim": len(self.stride), "c_in": int(self.weight.shape[0]), "c_out": int(self.weight.shape[1]) * g,
                "kernel": [int(k) for k in self.weight.shape[2:]], "stride": list(self.stride),
                "padding": list(self.padding), "output_padding": list(self.output_padding),
                "dilation": list(self.dilation), "groups": g, "bias": self.bias is not None,
                "x_shape": list(self.x.shape)}


@dataclass
class LayerVerdict:
    name: str
    verdict: str  # pass | values | shape | nonfinite | exporter | converter | runtime | crash | skipped
    max_abs: float | None = None
    message: str = ""

    def as_json(self) -> dict:
        return {"verdict": self.verdict, "max_abs_err": self.max_abs, "message": self.message}


# --- step 1, in the sandbox ---------------------------------------------------------------------------------


def extract(request: dict, arrays: list) -> tuple[dict, list[np.ndarray]]:
    """Sandbox target: the model's transposed convolutions as plain records + arrays (x, w, [b]) each."""
    from ..sandbox.child import loaded
    from .child import pack

    if request["kind"] == "onnx":
        layers = _onnx_layers(request)
        loaded()
    else:
        layers = _torch_layers(request, loaded)
    meta, out = [], []
    for la in layers:
        meta.append({"name": la.name, "stride": list(la.stride), "padding": list(la.padding),
                     "output_padding": list(la.output_padding), "dilation": list(la.dilation),
                     "groups": la.groups, "bias": la.bias is not None, "skipped": la.skipped})
        out += [la.x, la.weight] + ([la.bias] if la.bias is not None else [])
    flat, shapes = pack(out)
    return {"layers": meta, "shapes": shapes}, [flat]


def _torch_layers(request: dict, loaded) -> list[LayerCase]:  # noqa: ANN001
    from ..audit.model import ModelSpec, build_model, load_weights
    from ..reference import torch_module

    torch = torch_module()
    torch.set_num_threads(1)
    spec = ModelSpec(**request["spec"])
    model = build_model(torch, spec, "cpu")
    loaded()
    if request.get("weights"):
        state, _fmt = load_weights(torch, request["weights"])
        model.load_state_dict(state, strict=False)
    model.eval()
    found: list[LayerCase] = []
    kinds = (torch.nn.ConvTranspose1d, torch.nn.ConvTranspose2d, torch.nn.ConvTranspose3d)

    def hook(name: str):  # noqa: ANN202
        def run(mod, args, _out) -> None:  # noqa: ANN001
            x = args[0].detach().float().cpu().numpy()
            if x.ndim == len(mod.stride) + 1:
                x = x[None]
            found.append(LayerCase(
                name, tuple(mod.stride), tuple(mod.padding), tuple(mod.output_padding), tuple(mod.dilation),
                int(mod.groups), np.ascontiguousarray(x),
                mod.weight.detach().float().cpu().numpy().copy(),
                None if mod.bias is None else mod.bias.detach().float().cpu().numpy().copy()))
        return run

    handles = [m.register_forward_hook(hook(n)) for n, m in model.named_modules() if isinstance(m, kinds)]
    gen = torch.Generator().manual_seed(int(request.get("seed", 0)))
    x = torch.rand(tuple(request["shape"]), generator=gen) * 2 - 1
    with torch.no_grad():
        model(x)
    for h in handles:
        h.remove()
    return found


def _onnx_layers(request: dict) -> list[LayerCase]:
    import onnx
    from onnx import numpy_helper, shape_inference

    model = onnx.load(request["spec"]["target"])
    graph = model.graph
    if request.get("shape"):
        dims = graph.input[0].type.tensor_type.shape.dim
        for d, v in zip(dims, request["shape"]):
            d.ClearField("dim_param")
            d.dim_value = int(v)
    model = shape_inference.infer_shapes(model)
    inits = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}
    shapes = {}
    for vi in list(model.graph.value_info) + list(model.graph.input) + list(model.graph.output):
        dims = [d.dim_value for d in vi.type.tensor_type.shape.dim]
        if dims and all(v > 0 for v in dims):
            shapes[vi.name] = dims
    rng = np.random.default_rng(int(request.get("seed", 0)))
    out = []
    for i, node in enumerate(model.graph.node):
        if node.op_type != "ConvTranspose":
            continue
        name = node.name or f"node{i}"
        attrs = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
        w = inits.get(node.input[1])
        b = inits.get(node.input[2]) if len(node.input) > 2 and node.input[2] else None
        x_shape = shapes.get(node.input[0])
        if w is None or x_shape is None:
            continue
        nd = w.ndim - 2
        pads = list(attrs.get("pads", [0] * 2 * nd))
        skipped = ""
        if pads[:nd] != pads[nd:]:
            skipped = f"asymmetric pads {pads} have no PyTorch ConvTranspose equivalent"
        if attrs.get("auto_pad", b"NOTSET") not in (b"NOTSET", "NOTSET") or "output_shape" in attrs:
            skipped = "auto_pad / output_shape are not rebuilt as a PyTorch layer"
        out.append(LayerCase(
            name, tuple(attrs.get("strides", [1] * nd)), tuple(pads[:nd]),
            tuple(attrs.get("output_padding", [0] * nd)), tuple(attrs.get("dilations", [1] * nd)),
            int(attrs.get("group", 1)), rng.uniform(-1, 1, x_shape).astype(np.float32),
            np.ascontiguousarray(w, np.float32), None if b is None else np.ascontiguousarray(b, np.float32), skipped))
    return out


# --- step 2 ----------------------------------------------------------------------------------------------


def load_layers(model_text: str, shape: tuple[int, ...] | None, weights: str | None, seed: int = 0,
                timeout: float = 600.0) -> list[LayerCase]:
    """Step 1 in the sandbox; ConvtError when the model cannot be built or run there."""
    from dataclasses import asdict

    from ..audit.model import parse_model
    from ..errors import ConvtError
    from ..sandbox import SandboxFailure, run_isolated
    from .child import unpack

    spec = parse_model(model_text)
    request = {"kind": "onnx" if spec.kind == "onnx" else "python", "spec": asdict(spec),
               "shape": None if shape is None else list(shape), "weights": weights, "seed": seed}
    try:
        out = run_isolated("convt_cli.runtimes.layers:extract", request, [], timeout=timeout,
                           what="the model (for --runtime)")
    except SandboxFailure as exc:
        raise ConvtError(f"--runtime: the model could not be run to collect its layers: {exc.message}",
                         zh=f"--runtime：无法运行模型以收集其层：{exc.message}") from None
    arrays = unpack(out.arrays[0], out.reply["shapes"]) if out.arrays else []  # type: ignore[arg-type]
    layers, pos = [], 0
    for m in out.reply["layers"]:  # type: ignore[union-attr]
        x, w = arrays[pos], arrays[pos + 1]
        b = arrays[pos + 2] if m["bias"] else None
        pos += 3 if m["bias"] else 2
        layers.append(LayerCase(m["name"], tuple(m["stride"]), tuple(m["padding"]), tuple(m["output_padding"]),
                                tuple(m["dilation"]), int(m["groups"]), x, w, b, m.get("skipped", "")))
    return layers


def check_layers(runtime: str, layers: list[LayerCase], options: dict | None = None
                 ) -> tuple[list[LayerVerdict], dict[str, str]]:
    """Run each layer through ``runtime`` (one child) and judge it against the engine: (verdicts, versions)."""
    from ..sandbox import SandboxFailure
    from .subject import RuntimeSubject

    subject = RuntimeSubject(runtime, options)
    todo = [la for la in layers if not la.skipped]
    verdicts: dict[str, LayerVerdict] = {la.name: LayerVerdict(la.name, "skipped", None, la.skipped)
                                         for la in layers if la.skipped}
    answers: dict[str, object] = {}
    if todo:
        try:
            out = subject._call_child([la.record() for la in todo],
                                      [a for la in todo for a in [la.x, la.weight] + ([la.bias] if la.bias
                                                                                      is not None else [])])
        except SandboxFailure as exc:
            answers = {la.name: ("crash", exc.message) for la in todo}
        else:
            from .child import unpack

            subject.versions = {str(k): str(v) for k, v in dict(out.reply.get("versions") or {}).items()}
            outs = unpack(out.arrays[0], out.reply["shapes"]) if out.arrays else []  # type: ignore[arg-type]
            for la, entry in zip(todo, out.reply["results"]):  # type: ignore[arg-type]
                answers[la.name] = outs[int(entry["out"])] if entry["status"] == "ok" else (
                    str(entry["status"]), str(entry.get("message", "")))
    for la in todo:
        verdicts[la.name] = judge(la, answers.get(la.name, ("crash", "no answer")))
    return [verdicts[la.name] for la in layers], subject.versions


def judge(layer: LayerCase, answer: object) -> LayerVerdict:
    """The engine's float64 result on the layer's float32 values against the runtime's answer."""
    from ..engine import conv_transpose
    from ..tolerance import compare_arrays

    if isinstance(answer, tuple):
        kind, message = answer
        return LayerVerdict(layer.name, kind, None, message)
    w = layer.weight.astype(np.float64)
    expected = conv_transpose(layer.x.astype(np.float64), w, None if layer.bias is None else
                              layer.bias.astype(np.float64), layer.stride, layer.padding, layer.output_padding,
                              layer.dilation, layer.groups)
    reduction = max(1, w.shape[0] // layer.groups) * int(np.prod(w.shape[2:]))
    cmp = compare_arrays(np.asarray(answer), expected, LAYER_TOLERANCE, reduction)
    if cmp.passed:
        return LayerVerdict(layer.name, "pass", cmp.max_abs)
    kind = "shape" if cmp.shape_mismatch else "nonfinite" if cmp.nonfinite_mismatch else "values"
    return LayerVerdict(layer.name, kind, cmp.max_abs,
                        cmp.message(np.shape(answer), expected.shape))
