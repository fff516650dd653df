"""ExecuTorch: ``torch.export`` → ``exir.to_edge`` → ``to_executorch`` (a .pte program, portable kernels,
no delegate) → ``executorch.runtime``. Child side only.
"""

from __future__ import annotations

import os

import numpy as np

from .child import save_weights, script, stage

NEEDS_TORCH = True


def load(options: dict) -> dict:
    from importlib.metadata import version

    import torch
    from executorch.exir import to_edge  # noqa: F401
    from executorch.runtime import Runtime

    options["_rt"] = Runtime.get()
    return {"torch": torch.__version__, "executorch": version("executorch")}


def convert(module, case: dict, x: np.ndarray, w, b, options: dict, tmp: str):  # noqa: ANN001, ANN201
    import torch
    from executorch.exir import to_edge

    with stage("exporter"):
        ep = torch.export.export(module, (torch.from_numpy(x),))
    with stage("converter"):
        buffer = to_edge(ep).to_executorch().buffer
    path = os.path.join(tmp, "model.pte")
    with open(path, "wb") as fh:
        fh.write(buffer)
    with stage("runtime"):
        method = options["_rt"].load_program(path).load_method("forward")
    return {"method": method, "path": path}


def run(handle: dict, x: np.ndarray) -> np.ndarray:
    import torch

    return handle["method"].execute([torch.from_numpy(x)])[0].numpy()


def save(handle, case: dict, x, w, b, options: dict, save_dir: str, stem: str, tmp: str) -> list[str]:  # noqa: ANN001
    import shutil

    files = save_weights(case, w, b, save_dir, stem)
    if os.path.exists(os.path.join(tmp, "model.pte")):
        shutil.copy(os.path.join(tmp, "model.pte"), os.path.join(save_dir, f"{stem}.pte"))
        files.append(f"{stem}.pte")
    body = ("def run(x):\n    import torch\n    from executorch.runtime import Runtime\n\n"
            f"    method = Runtime.get().load_program(str(HERE / '{stem}.pte')).load_method('forward')\n"
            "    return method.execute([torch.from_numpy(x)])[0].numpy()\n")
    with open(os.path.join(save_dir, f"{stem}.py"), "w", encoding="utf-8") as fh:
        fh.write(script(case, stem, "exir.to_edge → to_executorch → executorch.runtime", "numpy, torch, executorch",
                        body))
    return files + [f"{stem}.py"]
