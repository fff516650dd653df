"""A stand-in "runtime" with planted bugs, to prove the whole ``--runtime`` path (export → run → cluster →
artifact) names a toolchain's bug by its feature. It "exports" a case to an ``.npz`` artifact (weights and
attributes, no pickle) and "runs" it on convt's NumPy engine with the bug(s) of its name:

- ``fake-op`` drops ``output_padding`` (the output is too short: a shape failure);
- ``fake-crop`` puts the ``output_padding`` rows on the wrong side, as a SAME_UPPER/SAME_LOWER swap does
  (the window is shifted: wrong values);
- ``fake-groups`` ignores groups past the first: every group reads the first group's input channels;
- ``fake`` has all three: output_padding dropped in 1-d cases, on the wrong side in 2-d and 3-d ones.
Child side; needs no torch.
"""

from __future__ import annotations

import json
import os

import numpy as np

from .child import script, stage

NEEDS_TORCH = False
BUGS = {"fake": ("op", "crop", "groups"), "fake-op": ("op",), "fake-crop": ("crop",), "fake-groups": ("groups",)}


def load(options: dict) -> dict:
    return {"numpy": np.__version__}


def convert(module, case: dict, x: np.ndarray, w, b, options: dict, tmp: str):  # noqa: ANN001, ANN201
    with stage("exporter"):
        attrs = {k: case[k] for k in ("ndim", "stride", "padding", "output_padding", "dilation", "groups")}
        attrs["bugs"] = list(BUGS[options["runtime"]])
        path = os.path.join(tmp, "model.npz")
        arrays = {"weight": np.asarray(w, np.float32), "attrs": np.frombuffer(json.dumps(attrs).encode(), np.uint8)}
        if b is not None:
            arrays["bias"] = np.asarray(b, np.float32)
        np.savez(path, **arrays)
    with stage("runtime"):
        model = load_artifact(path)
    return {"model": model, "path": path}


def load_artifact(path: str) -> dict:
    with np.load(path, allow_pickle=False) as z:
        attrs = json.loads(bytes(z["attrs"]).decode())
        return {"attrs": attrs, "weight": z["weight"], "bias": z["bias"] if "bias" in z.files else None}


def run_artifact(model: dict, x: np.ndarray) -> np.ndarray:
    """The engine with the artifact's planted bugs."""
    from ..engine import conv_transpose

    a, w, b = model["attrs"], model["weight"].astype(np.float64), model["bias"]
    bugs = set(a["bugs"])
    x = x.astype(np.float64)
    s, p, op, d, g = (tuple(a[k]) if k != "groups" else a[k] for k in
                      ("stride", "padding", "output_padding", "dilation", "groups"))
    if "groups" in bugs and g > 1:
        cig = w.shape[0] // g
        x = np.concatenate([x[:, :cig]] * g, axis=1)  # every group reads group 0's channels
    if "op" in bugs and ("crop" not in bugs or len(op) == 1):  # "fake": dropped in 1-d, wrong side in 2-/3-d
        op = (0,) * len(op)
    if "crop" in bugs and any(op):
        full = conv_transpose(x, w, None, s, (0,) * len(s), (0,) * len(s), d, g)
        out = conv_transpose(x, w, None, s, p, op, d, g)
        nd = len(s)
        padded = np.pad(full, [(0, 0), (0, 0)] + [(o, o) for o in op])
        # PyTorch keeps padded[p + op : p + op + n] (the op extra cells after the window); the bug keeps
        # padded[p : p + n] (the extra cells before it)
        y = padded[(slice(None), slice(None)) + tuple(slice(pi, pi + n) for pi, n in zip(p, out.shape[-nd:]))]
    else:
        y = conv_transpose(x, w, None, s, p, op, d, g)
    if b is not None:
        y = y + b.astype(np.float64).reshape((1, -1) + (1,) * (y.ndim - 2))
    return y.astype(np.float32)


def run(handle: dict, x: np.ndarray) -> np.ndarray:
    return run_artifact(handle["model"], x)


def save(handle, case: dict, x, w, b, options: dict, save_dir: str, stem: str, tmp: str) -> list[str]:  # noqa: ANN001
    import shutil

    from .child import save_weights

    files = save_weights(case, w, b, save_dir, stem)
    shutil.copy(handle["path"], os.path.join(save_dir, f"{stem}.npz"))
    body = ("def run(x):\n    from convt_cli.runtimes.fake import load_artifact, run_artifact\n\n"
            f"    return run_artifact(load_artifact(str(HERE / '{stem}.npz')), x)\n")
    with open(os.path.join(save_dir, f"{stem}.py"), "w", encoding="utf-8") as fh:
        fh.write(script(case, stem, f"the {options['runtime']} stand-in runtime (planted bugs)",
                        "numpy, torch, convt", body))
    return files + [f"{stem}.npz", f"{stem}.py"]
