"""Apache TVM: ``torch.export`` → ``tvm.relax.frontend.torch.from_exported_program`` → ``tvm.compile``
(target llvm) → the Relax virtual machine on the CPU. Child side only.
"""

from __future__ import annotations

import os

import numpy as np

from .child import script, stage
from .rt_torch import save_program

NEEDS_TORCH = True


def load(options: dict) -> dict:
    import torch
    import tvm
    from tvm.relax.frontend.torch import from_exported_program  # noqa: F401

    return {"torch": torch.__version__, "tvm": tvm.__version__}


def convert(module, case: dict, x: np.ndarray, w, b, options: dict, tmp: str):  # noqa: ANN001, ANN201
    import torch
    import tvm
    from tvm import relax
    from tvm.relax.frontend.torch import from_exported_program

    with stage("exporter"):
        ep = torch.export.export(module, (torch.from_numpy(x),))
    with stage("converter"):
        mod = from_exported_program(ep, keep_params_as_input=False)
        ex = tvm.compile(mod, target="llvm")
    with stage("runtime"):
        vm = relax.VirtualMachine(ex, tvm.cpu())
    return {"vm": vm, "ep": ep}


def run(handle: dict, x: np.ndarray) -> np.ndarray:
    import tvm

    out = handle["vm"]["main"](tvm.runtime.tensor(x) if hasattr(tvm.runtime, "tensor") else tvm.nd.array(x))
    while isinstance(out, (list, tuple)) or type(out).__name__ in ("Array", "ADT"):
        out = out[0]
    return out.numpy()


def save(handle, case: dict, x, w, b, options: dict, save_dir: str, stem: str, tmp: str) -> list[str]:  # noqa: ANN001

    files, src = save_program(handle, case, w, b, save_dir, stem)
    body = ("def run(x):\n    import tvm\n    from tvm import relax\n"
            "    from tvm.relax.frontend.torch import from_exported_program\n\n    " + src + "\n"
            "    ep = torch.export.export(m, (torch.from_numpy(x),))\n"
            "    vm = relax.VirtualMachine(tvm.compile(from_exported_program(ep), target='llvm'), tvm.cpu())\n"
            "    out = vm['main'](tvm.runtime.tensor(x))\n"
            "    return out[0].numpy() if not hasattr(out, 'numpy') else out.numpy()\n")
    with open(os.path.join(save_dir, f"{stem}.py"), "w", encoding="utf-8") as fh:
        fh.write(script(case, stem, "torch.export → TVM Relax (llvm)", "numpy, torch, apache-tvm", body))
    return files + [f"{stem}.py"]
