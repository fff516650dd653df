"""SAM 3's ViTDet necks (upstream ``Sam3DualViTDetNeck``, ``Sam3TriViTDetNeck``), detectron2's ViTDet-H
pyramid and SAM 3's mask-decoder upscaling: build them with torch, run them, trace every layer.

The presets (:mod:`.presets`) say which upstream builder and file each follows.

Three steps, each usable on its own:

* :func:`make_config` (:mod:`.config`) reads and checks the user's choices (pure: no torch).
* :func:`plan_neck` (:mod:`.plan`) predicts every layer from the formulas alone — shapes,
  parameter counts, FLOPs, activation bytes, the fan-in of each output cell and a peak-memory
  estimate (pure: no torch).
* :func:`trace_neck` (:mod:`.run`) builds the neck with upstream's structure and module names
  (:mod:`.build`), runs it layer by layer on the chosen device, times each layer with the audit's
  timer, counts FLOPs with ``torch.utils.flop_counter.FlopCounterMode``, records the transposed
  convolutions as the audit does, and with ``verify`` checks every ConvTranspose2d output against
  the NumPy engine (:mod:`.checks`).

Nothing here prints; :mod:`convt_cli.render.neck` draws the records and ``--json`` dumps them
(:mod:`.records`). torch is imported lazily, inside the functions that need it.
"""

from ..audit import resolve_device
from .build import branches_in_order, build_for, build_neck, count_flops
from .checks import check_memory, verify_layer
from .config import (
    CUDA_FREE_SHARE,
    DEVICES,
    DTYPES,
    HEADROOM,
    ITEMSIZE,
    MAX_NUMEL,
    SCHEMA,
    SUPPORTED_SCALES,
    TF32_TOLERANCE,
    TOLERANCES,
    NeckConfig,
    _parse_shape,  # noqa: F401 - the fuzz tests read it from here
    make_config,
    parse_scales,
)
from .plan import (
    LayerSpec,
    MemoryEstimate,
    NeckPlan,
    PlannedBranch,
    PlannedLayer,
    PositionEncoding,
    branch_names,
    branch_specs,
    plan_neck,
)
from .presets import DEFAULT_PRESET, PRESETS, Preset
from .records import BranchRecord, LayerRecord, NeckTrace, VerifyRecord
from .run import trace_neck

__all__ = [
    "CUDA_FREE_SHARE", "DEFAULT_PRESET", "DEVICES", "DTYPES", "HEADROOM", "ITEMSIZE", "MAX_NUMEL",
    "PRESETS", "SCHEMA", "SUPPORTED_SCALES", "TF32_TOLERANCE", "TOLERANCES", "BranchRecord", "LayerRecord",
    "LayerSpec", "MemoryEstimate", "NeckConfig", "NeckPlan", "NeckTrace", "PlannedBranch", "PlannedLayer",
    "PositionEncoding", "Preset", "VerifyRecord", "branch_names", "branch_specs", "branches_in_order", "build_for",
    "build_neck", "check_memory", "count_flops",
    "make_config", "parse_scales", "plan_neck", "resolve_device", "trace_neck", "verify_layer",
]
