"""Deployment runtimes for ``convt verify --runtime`` and ``convt audit --runtime``.

Each case becomes a real ``torch.nn.ConvTransposeNd`` with seeded weights, is converted by the real
exporter and run by the real runtime on the CPU, inside the sandbox (:mod:`convt_cli.sandbox`): a
runtime that crashes, hangs or blows memory is a failed case. The rooms:

- this module — the registry: names, the pyproject extra that installs each, availability checks
  (no foreign import: ``importlib.util.find_spec`` only);
- :mod:`.child` — what runs in the sandboxed child: build the module, export, convert, run, save;
- one module per runtime (:mod:`.rt_onnx`, :mod:`.rt_openvino`, :mod:`.rt_tflite`, :mod:`.rt_torch`,
  :mod:`.rt_tvm`, :mod:`.rt_executorch`) and :mod:`.fake`, a NumPy "runtime" with planted bugs;
- :mod:`.subject` — the parent's side: a verify subject that runs cases in batches per child;
- :mod:`.matrix` — runtime × feature pass rates; :mod:`.layers` — per-layer verdicts for audit.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass

from ..errors import ConvtError
from ..parsing import parse_name_list


@dataclass(frozen=True)
class RuntimeInfo:
    name: str
    module: str  # convt_cli.runtimes.<module> (child side)
    extra: str  # the pyproject extra that installs it
    requires: tuple[str, ...]  # importable top-level modules it needs
    what: str  # one line: the path a case takes
    artifact: str  # the file kind --save-failing writes
    cost_s: float  # seconds per case measured on 2 cores shared with other work (the estimate, the default size)
    default_cases: int  # forward cases of the default sweep (curated corners first, then random)
    batch: int = 24  # cases per child process
    per_case_s: float = 30.0  # timeout allowance per case (start-up allowance added)
    startup_s: float = 6.0  # a child's start-up (imports), measured


RUNTIMES: dict[str, RuntimeInfo] = {r.name: r for r in (
    RuntimeInfo("onnxruntime", "rt_onnx", "runtimes", ("onnx", "onnxruntime"),
                "torch.onnx.export (dynamo or TorchScript exporter) → onnxruntime CPUExecutionProvider", ".onnx",
                4.6, 48),
    RuntimeInfo("openvino", "rt_openvino", "runtimes", ("openvino",),
                "openvino.convert_model (from the torch module, or from ONNX with --via onnx) → CPU plugin, f32",
                ".xml/.bin", 2.4, 72),
    RuntimeInfo("tflite", "rt_tflite", "tflite", ("litert_torch", "ai_edge_litert"),
                "litert_torch.convert → .tflite → ai_edge_litert Interpreter", ".tflite", 4.5, 48, batch=12,
                startup_s=12.0),
    RuntimeInfo("inductor", "rt_torch", "runtimes", ("torch",),
                "torch.compile(backend='inductor') on the CPU (C++ codegen)", ".pt2", 2.0, 48, batch=12,
                startup_s=20.0),
    RuntimeInfo("export", "rt_torch", "runtimes", ("torch",),
                "torch.export.export → run_decompositions() → the exported module", ".pt2", 0.4, 240),
    RuntimeInfo("tvm", "rt_tvm", "tvm", ("tvm",),
                "torch.export → tvm.relax.frontend.torch.from_exported_program → tvm.compile(llvm) → Relax VM",
                ".pt2", 2.5, 72, batch=12),
    RuntimeInfo("executorch", "rt_executorch", "executorch", ("executorch",),
                "torch.export → exir.to_edge → to_executorch → executorch.runtime (portable kernels)", ".pte",
                2.5, 72),
    # Test doubles: the NumPy engine with one planted bug each (all three for "fake").
    RuntimeInfo("fake", "fake", "", (), "a NumPy stand-in with planted bugs (tests)", ".npz", 0.02, 600, batch=200,
                startup_s=1.0),
    RuntimeInfo("fake-op", "fake", "", (), "NumPy stand-in: drops output_padding (tests)", ".npz", 0.02, 600, batch=200,
                startup_s=1.0),
    RuntimeInfo("fake-crop", "fake", "", (), "NumPy stand-in: crops output_padding on the wrong side (tests)",
                ".npz", 0.02, 600, batch=200, startup_s=1.0),
    RuntimeInfo("fake-groups", "fake", "", (), "NumPy stand-in: ignores groups (tests)", ".npz", 0.02, 600, batch=200,
                startup_s=1.0),
)}
REAL = tuple(n for n in RUNTIMES if not n.startswith("fake"))
EXPORTERS = ("dynamo", "torchscript")
TORCHSCRIPT_COST_S = 0.25  # onnxruntime with the TorchScript exporter: seconds per case
TORCHSCRIPT_CASES = 600


def default_cases(name: str, exporter: str = "dynamo") -> int:
    """Forward cases of the default sweep through ``name``: a few minutes on 2 cores."""
    if name == "onnxruntime" and exporter == "torchscript":
        return TORCHSCRIPT_CASES
    return RUNTIMES[name].default_cases


def estimate_s(name: str, cases: int, exporter: str = "dynamo") -> float:
    """Seconds a sweep of ``cases`` cases through ``name`` is expected to take here."""
    info = RUNTIMES[name]
    cost = TORCHSCRIPT_COST_S if name == "onnxruntime" and exporter == "torchscript" else info.cost_s
    return cases * cost + -(-cases // info.batch) * info.startup_s


def parse_runtimes(text: str) -> tuple[str, ...]:
    """``"onnxruntime,openvino"`` → names; an unknown one names every valid one."""
    return parse_name_list(text, "--runtime", RUNTIMES, listed=REAL, noun="runtime convt knows",
                           noun_zh=" convt 认识的运行时", lower=True)


def missing(name: str, via_onnx: bool = False) -> list[str]:
    """The modules ``name`` needs that are not importable here (nothing is imported)."""
    info = RUNTIMES[name]
    need = list(info.requires) + (["torch"] if info.requires else [])
    if name == "onnxruntime" or via_onnx:
        need += ["onnx", "onnxruntime"] if name == "onnxruntime" else ["onnx"]
    return [m for m in dict.fromkeys(need) if importlib.util.find_spec(m) is None]


def check_installed(name: str, *, exporter: str = "dynamo", via_onnx: bool = False) -> None:
    """Raise ConvtError with the pip command of the extra when ``name``'s packages are absent."""
    info = RUNTIMES[name]
    absent = missing(name, via_onnx)
    if exporter == "dynamo" and (name == "onnxruntime" or via_onnx) and importlib.util.find_spec("onnxscript") is None:
        absent.append("onnxscript")
    if absent:
        raise ConvtError(
            f"--runtime {name} needs {', '.join(absent)}, which is not installed: "
            f"install it with pip install 'convt[{info.extra}]'",
            zh=f"--runtime {name} 需要 {', '.join(absent)}（未安装）：请运行 pip install 'convt[{info.extra}]'")
