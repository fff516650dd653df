"""TFLite / LiteRT: ``litert_torch.convert`` (torch → .tflite, NCHW kept at the boundary) → the
``ai_edge_litert`` Interpreter. Child side only.
"""

from __future__ import annotations

import os

import numpy as np

from .child import save_weights, script, stage

NEEDS_TORCH = True


def load(options: dict) -> dict:
    import ai_edge_litert
    import litert_torch
    import torch
    from ai_edge_litert.interpreter import Interpreter  # noqa: F401

    return {"torch": torch.__version__, "litert_torch": getattr(litert_torch, "__version__", "?"),
            "ai_edge_litert": getattr(ai_edge_litert, "__version__", "?")}


def convert(module, case: dict, x: np.ndarray, w, b, options: dict, tmp: str):  # noqa: ANN001, ANN201
    import litert_torch
    import torch
    from ai_edge_litert.interpreter import Interpreter

    path = os.path.join(tmp, "model.tflite")
    with stage("converter"):
        edge = litert_torch.convert(module, (torch.from_numpy(x),))
        edge.export(path)
    with stage("runtime"):
        interp = Interpreter(model_path=path, num_threads=1)
        interp.allocate_tensors()
    return {"interp": interp, "path": path}


def run(handle: dict, x: np.ndarray) -> np.ndarray:
    return _invoke(handle["interp"], x)


def _invoke(interp, x: np.ndarray) -> np.ndarray:  # noqa: ANN001
    inp = interp.get_input_details()[0]
    if list(inp["shape"]) != list(x.shape):
        interp.resize_tensor_input(inp["index"], list(x.shape))
        interp.allocate_tensors()
    interp.set_tensor(inp["index"], x)
    interp.invoke()
    return interp.get_tensor(interp.get_output_details()[0]["index"])


_RUN_BODY = ("def run(x):\n    from ai_edge_litert.interpreter import Interpreter\n\n"
             "    from ai_edge_litert.interpreter import Interpreter\n"
             "    it = Interpreter(model_path=str(HERE / '{stem}.tflite'))\n"
             "    it.allocate_tensors()\n"
             "    it.set_tensor(it.get_input_details()[0]['index'], x)\n"
             "    it.invoke()\n"
             "    return it.get_tensor(it.get_output_details()[0]['index'])\n")


def save(handle, case: dict, x, w, b, options: dict, save_dir: str, stem: str, tmp: str) -> list[str]:  # noqa: ANN001
    import shutil

    files = save_weights(case, w, b, save_dir, stem)
    if os.path.exists(os.path.join(tmp, "model.tflite")):
        shutil.copy(os.path.join(tmp, "model.tflite"), os.path.join(save_dir, f"{stem}.tflite"))
        files.append(f"{stem}.tflite")
    else:  # the conversion failed: the script converts again (and shows the converter's error)
        from .child import module_source

        src = module_source(case, stem).replace("\n", "\n    ").rstrip()
        body = ("def run(x):\n    import litert_torch\n\n    " + src + "\n"
                f"    litert_torch.convert(m, (torch.from_numpy(x),)).export(str(HERE / '{stem}.tflite'))\n"
                + _RUN_BODY.split("\n", 2)[2].replace("{stem}", stem))
        with open(os.path.join(save_dir, f"{stem}.py"), "w", encoding="utf-8") as fh:
            fh.write(script(case, stem, "litert_torch.convert → ai_edge_litert Interpreter",
                            "numpy, torch, litert-torch, ai-edge-litert", body))
        return files + [f"{stem}.py"]
    body = ("def run(x):\n    from ai_edge_litert.interpreter import Interpreter\n\n"
            f"    it = Interpreter(model_path=str(HERE / '{stem}.tflite'))\n"
            "    it.allocate_tensors()\n"
            "    it.set_tensor(it.get_input_details()[0]['index'], x)\n"
            "    it.invoke()\n"
            "    return it.get_tensor(it.get_output_details()[0]['index'])\n")
    with open(os.path.join(save_dir, f"{stem}.py"), "w", encoding="utf-8") as fh:
        fh.write(script(case, stem, "litert_torch.convert → ai_edge_litert Interpreter", "numpy, torch, ai-edge-litert",
                        body))
    return files + [f"{stem}.py"]
