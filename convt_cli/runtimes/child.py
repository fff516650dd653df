"""The sandboxed side of a runtime check: build each case's ``torch.nn.ConvTransposeNd``, hand it to the
runtime module (export → convert → load → run) and answer the outputs, or which stage refused and why.

``run_batch(request, arrays)`` is the sandbox target (``convt_cli.runtimes.child:run_batch``). One
child runs many cases (exports are slow, imports slower); a stage's exception is that case's answer
and the batch goes on. A crash or hang ends the child: the parent re-runs that batch case by case.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import tempfile
import warnings
from collections.abc import Iterator

import numpy as np

STAGES = ("exporter", "converter", "runtime")


class StageFailure(Exception):
    """A stage refused: ``stage`` is exporter | converter | runtime."""

    def __init__(self, stage: str, message: str):
        super().__init__(message)
        self.stage = stage
        self.message = message


def _describe(exc: BaseException) -> str:
    try:
        text = " ".join(str(exc).split())
    except BaseException as inner:  # noqa: BLE001 - foreign __str__
        text = f"(its message could not be read: {type(inner).__name__})"
    return f"{type(exc).__name__}: {text[:600] or '(no message)'}"


@contextlib.contextmanager
def stage(name: str) -> Iterator[None]:
    """Exceptions inside become :class:`StageFailure` of this stage."""
    try:
        yield
    except StageFailure:
        raise
    except Exception as exc:  # noqa: BLE001 - whatever the toolchain raises is the stage's answer
        raise StageFailure(name, _describe(exc)) from None


def build_module(case: dict, w: np.ndarray, b: np.ndarray | None):  # noqa: ANN201
    """The real ``torch.nn.ConvTransposeNd`` of a case, float32, with the case's weights."""
    import torch

    cls = {1: torch.nn.ConvTranspose1d, 2: torch.nn.ConvTranspose2d, 3: torch.nn.ConvTranspose3d}[case["ndim"]]
    m = cls(case["c_in"], case["c_out"], tuple(case["kernel"]), stride=tuple(case["stride"]),
            padding=tuple(case["padding"]), output_padding=tuple(case["output_padding"]), groups=case["groups"],
            bias=b is not None, dilation=tuple(case["dilation"]))
    with torch.no_grad():
        m.weight.copy_(torch.from_numpy(np.ascontiguousarray(w, dtype=np.float32)))
        if b is not None:
            m.bias.copy_(torch.from_numpy(np.ascontiguousarray(b, dtype=np.float32)))
    return m.eval()


def runtime_module(name: str):  # noqa: ANN201
    from . import RUNTIMES

    return importlib.import_module(f"convt_cli.runtimes.{RUNTIMES[name].module}")


def run_batch(request: dict, arrays: list[np.ndarray]) -> tuple[dict, list[np.ndarray]]:
    """Run every case of ``request["cases"]`` through ``request["runtime"]``; see the module docstring."""
    from ..sandbox.child import loaded

    warnings.filterwarnings("ignore")
    name = str(request["runtime"])
    options = dict(request.get("options") or {})
    options["runtime"] = name
    rt = runtime_module(name)
    versions = rt.load(options)
    loaded()
    save_dir = request.get("save_dir")
    results: list[dict] = []
    outs: list[np.ndarray] = []
    inputs = unpack(arrays[0], request["shapes"]) if arrays else []
    pos = 0
    for case in request["cases"]:
        x, w = inputs[pos], inputs[pos + 1]
        b = inputs[pos + 2] if case["bias"] else None
        pos += 3 if case["bias"] else 2
        with tempfile.TemporaryDirectory(prefix="convt-rt-") as tmp:
            handle = None  # kept when only running failed: the artifact is saved all the same
            try:
                with stage("exporter"):
                    module = build_module(case, w, b) if rt.NEEDS_TORCH else None
                handle = rt.convert(module, case, x, w, b, options, tmp)
                with stage("runtime"):
                    out = np.asarray(rt.run(handle, x))
                entry: dict[str, object] = {"status": "ok", "out": len(outs)}
                outs.append(np.ascontiguousarray(out))
            except StageFailure as exc:
                entry = {"status": exc.stage, "message": exc.message}
            if save_dir:
                entry["saved"] = _save(rt, handle, case, x, w, b, options, str(save_dir), tmp)
        results.append(entry)
    flat, shapes = pack(outs)
    return {"results": results, "versions": versions, "shapes": shapes}, [flat]


def pack(arrays: list[np.ndarray]) -> tuple[np.ndarray, list[list[int]]]:
    """Many float32 arrays as one flat array and their shapes (the pipe carries few arrays)."""
    flat = np.concatenate([np.asarray(a, np.float32).ravel() for a in arrays]) if arrays else np.zeros(0, np.float32)
    return flat, [[int(n) for n in np.shape(a)] for a in arrays]


def unpack(flat: np.ndarray, shapes: list[list[int]]) -> list[np.ndarray]:
    out, pos = [], 0
    for shape in shapes:
        n = int(np.prod(shape)) if shape else 1
        if pos + n > flat.size:
            raise ValueError("the packed arrays are shorter than their shapes say")
        out.append(flat[pos:pos + n].reshape(shape))
        pos += n
    return out


def _save(rt, handle, case: dict, x: np.ndarray, w: np.ndarray, b: np.ndarray | None,  # noqa: ANN001
          options: dict, save_dir: str, tmp: str) -> list[str]:
    """Write the case's artifact (if the toolchain produced one), its input and a script that runs it."""
    stem = str(case.get("stem") or "case")
    os.makedirs(save_dir, exist_ok=True)
    np.save(os.path.join(save_dir, f"{stem}.input.npy"), np.ascontiguousarray(x), allow_pickle=False)
    files = [f"{stem}.input.npy"]
    try:
        files += rt.save(handle, case, x, w, b, options, save_dir, stem, tmp)
    except Exception as exc:  # noqa: BLE001 - the artifact could not be written; say so in the script
        with open(os.path.join(save_dir, f"{stem}.error.txt"), "w", encoding="utf-8") as fh:
            fh.write(_describe(exc) + "\n")
        files.append(f"{stem}.error.txt")
    return files


def module_source(case: dict, stem: str) -> str:
    """Python lines that rebuild the case's torch module with the saved weights (for scripts)."""
    nd = case["ndim"]
    return (
        "import numpy as np\nimport torch\n\n"
        f"w = np.load(HERE / '{stem}.weight.npy')\n"
        + (f"b = np.load(HERE / '{stem}.bias.npy')\n" if case["bias"] else "b = None\n")
        + f"m = torch.nn.ConvTranspose{nd}d({case['c_in']}, {case['c_out']}, {tuple(case['kernel'])}, "
        f"stride={tuple(case['stride'])}, padding={tuple(case['padding'])}, "
        f"output_padding={tuple(case['output_padding'])}, groups={case['groups']}, bias=b is not None, "
        f"dilation={tuple(case['dilation'])}).eval()\n"
        "with torch.no_grad():\n"
        "    m.weight.copy_(torch.from_numpy(w))\n"
        "    if b is not None:\n"
        "        m.bias.copy_(torch.from_numpy(b))\n"
    )


def save_weights(case: dict, w: np.ndarray, b: np.ndarray | None, save_dir: str, stem: str) -> list[str]:
    np.save(os.path.join(save_dir, f"{stem}.weight.npy"), np.ascontiguousarray(w, dtype=np.float32))
    files = [f"{stem}.weight.npy"]
    if b is not None:
        np.save(os.path.join(save_dir, f"{stem}.bias.npy"), np.ascontiguousarray(b, dtype=np.float32))
        files.append(f"{stem}.bias.npy")
    return files


SCRIPT_HEAD = '''"""Reproducer written by convt verify --save-failing: {title}

Case: {case}
Runs the saved artifact on the saved input and compares it with PyTorch's float64 result
(torch.nn.functional.conv_transpose{nd}d on the same weights). Needs: {needs}.
"""
from pathlib import Path

HERE = Path(__file__).resolve().parent
'''

SCRIPT_TAIL = '''

def reference():
    import numpy as np
    import torch

    x = torch.from_numpy(np.load(HERE / "{stem}.input.npy")).double()
    w = torch.from_numpy(np.load(HERE / "{stem}.weight.npy")).double()
    b = HERE / "{stem}.bias.npy"
    b = torch.from_numpy(np.load(b)).double() if b.exists() else None
    f = getattr(torch.nn.functional, "conv_transpose{nd}d")
    return f(x, w, b, stride={stride}, padding={padding}, output_padding={output_padding},
             groups={groups}, dilation={dilation}).numpy()


if __name__ == "__main__":
    import numpy as np

    got = np.asarray(run(np.load(HERE / "{stem}.input.npy")), dtype=np.float64)
    want = reference()
    print("runtime output shape:", list(got.shape), " PyTorch float64:", list(want.shape))
    if got.shape == want.shape:
        err = np.abs(got - want)
        print("max |runtime - PyTorch| =", float(err.max()) if err.size else 0.0)
        bad = ~(err <= 1e-5 + 1.3e-6 * np.abs(want))
        print(int(bad.sum()), "of", want.size, "values outside |a - e| <= 1e-05 + 1.3e-06*|e|")
'''


def script(case: dict, stem: str, title: str, needs: str, body: str) -> str:
    """A standalone script: ``body`` defines ``run(x) -> array`` from the saved artifact."""
    head = SCRIPT_HEAD.format(title=title, case=case.get("text", ""), nd=case["ndim"], needs=needs)
    tail = SCRIPT_TAIL.format(stem=stem, nd=case["ndim"], stride=tuple(case["stride"]),
                              padding=tuple(case["padding"]), output_padding=tuple(case["output_padding"]),
                              groups=case["groups"], dilation=tuple(case["dilation"]))
    return head + "\n" + body.strip("\n") + "\n" + tail
