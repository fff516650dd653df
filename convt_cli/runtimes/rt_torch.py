"""PyTorch's own compilers: ``inductor`` (torch.compile, CPU C++ codegen) and ``export`` (torch.export +
the default decompositions, run as the exported module). Child side only.
"""

from __future__ import annotations

import os

import numpy as np

from .child import module_source, save_weights, script, stage

NEEDS_TORCH = True


def load(options: dict) -> dict:
    import torch

    torch.set_num_threads(1)
    if options["runtime"] == "inductor":
        import torch._inductor.config as cfg

        cfg.compile_threads = 1
        cfg.cpp_wrapper = False
    return {"torch": torch.__version__}


def convert(module, case: dict, x: np.ndarray, w, b, options: dict, tmp: str):  # noqa: ANN001, ANN201
    import torch

    with stage("exporter"):
        ep = torch.export.export(module, (torch.from_numpy(x),))
    if options["runtime"] == "export":
        with stage("converter"):
            fn = ep.run_decompositions().module()
        return {"fn": fn, "ep": ep}
    torch._dynamo.reset()
    with stage("converter"):
        fn = torch.compile(module, backend="inductor", fullgraph=True, dynamic=False)
    return {"fn": fn, "ep": ep}


def run(handle: dict, x: np.ndarray) -> np.ndarray:
    import torch

    with torch.no_grad():
        return handle["fn"](torch.from_numpy(x)).detach().numpy()


def save_program(handle, case: dict, w, b, save_dir: str, stem: str) -> tuple[list[str], str]:  # noqa: ANN001
    """The weights and the exported program (``.pt2``) of a case, and its module's source indented for a
    script's function body."""
    import torch

    files = save_weights(case, w, b, save_dir, stem)
    if handle is not None:
        torch.export.save(handle["ep"], os.path.join(save_dir, f"{stem}.pt2"))
        files.append(f"{stem}.pt2")
    return files, module_source(case, stem).replace("\n", "\n    ").rstrip()


def save(handle, case: dict, x, w, b, options: dict, save_dir: str, stem: str, tmp: str) -> list[str]:  # noqa: ANN001

    files, src = save_program(handle, case, w, b, save_dir, stem)
    if options["runtime"] == "inductor":
        body = ("def run(x):\n    " + src + "\n"
                "    f = torch.compile(m, backend='inductor', fullgraph=True, dynamic=False)\n"
                "    with torch.no_grad():\n        return f(torch.from_numpy(x)).numpy()\n")
        title = "torch.compile(backend='inductor'), CPU"
    else:
        body = ("def run(x):\n    " + src + "\n"
                "    ep = torch.export.export(m, (torch.from_numpy(x),)).run_decompositions()\n"
                "    with torch.no_grad():\n        return ep.module()(torch.from_numpy(x)).numpy()\n")
        title = "torch.export.export → run_decompositions()"
    with open(os.path.join(save_dir, f"{stem}.py"), "w", encoding="utf-8") as fh:
        fh.write(script(case, stem, title, "numpy, torch", body))
    return files + [f"{stem}.py"]
