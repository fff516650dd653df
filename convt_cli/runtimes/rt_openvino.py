"""OpenVINO: ``openvino.convert_model`` from the torch module (or, with ``via="onnx"``, from the ONNX file
``torch.onnx.export`` wrote) → ``Core.compile_model(..., "CPU")`` with f32 inference precision (the CPU
plugin would otherwise run bf16 on CPUs that have it). Child side only.
"""

from __future__ import annotations

import os

import numpy as np

from .child import module_source, save_weights, script, stage

NEEDS_TORCH = True
CONFIG = {"INFERENCE_PRECISION_HINT": "f32", "INFERENCE_NUM_THREADS": "1"}


def load(options: dict) -> dict:
    import openvino as ov
    import torch

    versions = {"torch": torch.__version__, "openvino": ov.get_version()}
    if options.get("via") == "onnx":
        from .rt_onnx import load as onnx_load

        versions.update(onnx_load(options))
    options["_core"] = ov.Core()
    return versions


def convert(module, case: dict, x: np.ndarray, w, b, options: dict, tmp: str):  # noqa: ANN001, ANN201
    import openvino as ov
    import torch

    if options.get("via") == "onnx":
        from .rt_onnx import export_onnx

        source: object = os.path.join(tmp, "model.onnx")
        export_onnx(module, x, options, str(source))
        with stage("converter"):
            model = ov.convert_model(source)
    else:
        with stage("converter"):
            model = ov.convert_model(module, example_input=(torch.from_numpy(x),))
    with stage("runtime"):
        compiled = options["_core"].compile_model(model, "CPU", CONFIG)
    return {"model": model, "compiled": compiled}


def run(handle: dict, x: np.ndarray) -> np.ndarray:
    compiled = handle["compiled"]
    return np.asarray(compiled([x])[compiled.output(0)])


def save(handle, case: dict, x, w, b, options: dict, save_dir: str, stem: str, tmp: str) -> list[str]:  # noqa: ANN001
    import openvino as ov

    files = save_weights(case, w, b, save_dir, stem)
    if handle is not None:
        ov.save_model(handle["model"], os.path.join(save_dir, f"{stem}.xml"), compress_to_fp16=False)
        files += [f"{stem}.xml", f"{stem}.bin"]
        body = ("def run(x):\n    import openvino as ov\n\n"
                f"    compiled = ov.Core().compile_model(str(HERE / '{stem}.xml'), 'CPU', "
                "{'INFERENCE_PRECISION_HINT': 'f32'})\n"
                "    return compiled([x])[compiled.output(0)]\n")
    else:
        src = module_source(case, stem).replace("\n", "\n    ").rstrip()
        body = ("def run(x):\n    import openvino as ov\n\n    " + src + "\n"
                "    model = ov.convert_model(m, example_input=(torch.from_numpy(x),))\n"
                "    compiled = ov.Core().compile_model(model, 'CPU', {'INFERENCE_PRECISION_HINT': 'f32'})\n"
                "    return compiled([x])[compiled.output(0)]\n")
    via = " via ONNX" if options.get("via") == "onnx" else ""
    with open(os.path.join(save_dir, f"{stem}.py"), "w", encoding="utf-8") as fh:
        fh.write(script(case, stem, f"openvino.convert_model{via} → CPU plugin (f32)", "numpy, torch, openvino",
                        body))
    return files + [f"{stem}.py"]
