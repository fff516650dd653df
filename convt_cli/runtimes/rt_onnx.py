"""onnxruntime: ``torch.onnx.export`` (dynamo exporter, or the TorchScript one) → onnxruntime, CPU.

Child side only (imported inside the sandbox). Options: ``exporter`` (dynamo | torchscript), ``opset``
(None: the exporter's default).
"""

from __future__ import annotations

import os
import shutil

import numpy as np

from .child import StageFailure, save_weights, script, stage

NEEDS_TORCH = True


def load(options: dict) -> dict:
    import onnx
    import onnxruntime
    import torch

    versions = {"torch": torch.__version__, "onnx": onnx.__version__, "onnxruntime": onnxruntime.__version__}
    if options.get("exporter", "dynamo") == "dynamo":
        import onnxscript

        versions["onnxscript"] = onnxscript.__version__
    return versions


def export_onnx(module, x: np.ndarray, options: dict, path: str) -> None:  # noqa: ANN001
    """The module → an ONNX file at ``path`` by the chosen exporter (raises StageFailure("exporter"))."""
    import torch

    dynamo = options.get("exporter", "dynamo") == "dynamo"
    kwargs: dict[str, object] = {"dynamo": dynamo}
    if options.get("opset"):
        kwargs["opset_version"] = int(options["opset"])
    if dynamo:
        kwargs["verbose"] = False
        kwargs["external_data"] = False
    with stage("exporter"):
        torch.onnx.export(module, (torch.from_numpy(x),), path, input_names=["x"], output_names=["y"], **kwargs)
        if not os.path.exists(path):
            raise StageFailure("exporter", "torch.onnx.export wrote no file")


def session(path: str):  # noqa: ANN201
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    so.log_severity_level = 3
    return ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])


def convert(module, case: dict, x: np.ndarray, w, b, options: dict, tmp: str):  # noqa: ANN001, ANN201
    path = os.path.join(tmp, "model.onnx")
    export_onnx(module, x, options, path)
    with stage("runtime"):
        sess = session(path)
    return {"session": sess, "path": path}


def run(handle: dict, x: np.ndarray) -> np.ndarray:
    sess = handle["session"]
    return sess.run(None, {sess.get_inputs()[0].name: x})[0]


def save(handle, case: dict, x, w, b, options: dict, save_dir: str, stem: str, tmp: str) -> list[str]:  # noqa: ANN001
    files = save_weights(case, w, b, save_dir, stem)
    exported = os.path.join(tmp, "model.onnx")
    if not os.path.exists(exported):  # the export failed: the script re-runs the export
        body = _export_body(case, stem, options)
    else:
        shutil.copy(exported, os.path.join(save_dir, f"{stem}.onnx"))
        files.append(f"{stem}.onnx")
        body = (
            "def run(x):\n"
            "    import onnxruntime as ort\n\n"
            f"    sess = ort.InferenceSession(str(HERE / '{stem}.onnx'), providers=['CPUExecutionProvider'])\n"
            "    return sess.run(None, {sess.get_inputs()[0].name: x})[0]\n")
    with open(os.path.join(save_dir, f"{stem}.py"), "w", encoding="utf-8") as fh:
        fh.write(script(case, stem, f"torch.onnx.export ({options.get('exporter', 'dynamo')}) → onnxruntime",
                        "numpy, torch, onnxruntime", body))
    return files + [f"{stem}.py"]


def _export_body(case: dict, stem: str, options: dict) -> str:
    from .child import module_source

    opset = f", opset_version={int(options['opset'])}" if options.get("opset") else ""
    dynamo = options.get("exporter", "dynamo") == "dynamo"
    src = module_source(case, stem).replace("\n", "\n    ")
    return (
        "def run(x):\n    " + src.rstrip() + "\n"
        f"    torch.onnx.export(m, (torch.from_numpy(x),), str(HERE / '{stem}.onnx'), dynamo={dynamo}{opset})\n"
        "    import onnxruntime as ort\n\n"
        f"    sess = ort.InferenceSession(str(HERE / '{stem}.onnx'), providers=['CPUExecutionProvider'])\n"
        "    return sess.run(None, {sess.get_inputs()[0].name: x})[0]\n")
