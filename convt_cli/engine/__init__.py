"""The exact N-d NumPy transposed convolution (PyTorch semantics), as the explainer's scatter.

Every input element multiplies the whole kernel and is added into a canvas at
``i*stride + j*dilation``; then ``padding`` is cropped from both ends and ``output_padding`` gives
back positions at the far end (docs/semantics.md §1). Vectorised per stride phase (see
``route._scatter``): a cost model (``cost._mode``, ``_costs``, ``_direct_cheaper``) prices each way
from the layer's numbers — one GEMM for every tap straight from the input, then each phase's taps
summed over the boxes they reach ("gemm"); each phase's shifted windows stacked into one GEMM on a
padded grid ("im2col"); broadcast multiply-adds (depthwise); or the literal scatter (few input
positions under a wide kernel) — and each phase is written once into the output, bias included.
Small GEMMs are cut into blocks that BLAS runs single-threaded, spread over the engine's own thread
pool (``set_threads``), so the engine does not collapse when other processes hold the CPUs (see
:mod:`.threads`). Tiny problems use a cached 0/1 scatter matrix. Float32 stays float32; inputs are
never written to. Never imports torch or Rich. ``benchmarks/bench_engine.py`` measures it against
PyTorch's CPU kernel and onnxruntime.

Modules, in the order a call passes through them:

- :mod:`.arguments` — reading and validating the arguments, the result dtype, the memory check;
- :mod:`.route` — ``conv_transpose`` and the dispatcher ``_scatter`` (which route, with its thresholds);
- :mod:`.literal` — the literal scatter and the tiny scatter-matrix path, ``canvas_extent``;
- :mod:`.plan` — the stride phases, their taps and the flat padded input;
- :mod:`.cost` — the cost model that picks the phases' mode, or the literal scatter;
- :mod:`.runner` — ``_Runner``, which computes the phases chunk by chunk;
- :mod:`.threads` — the engine's thread pool and blocked GEMMs.

A tunable constant lives in the module that reads it; patch it there (``_BLOCK`` is read by both
:mod:`.runner`, where it is defined, and :mod:`.cost`). This package re-exports the public API and
the private names tests read; it does not re-export the tunables, so patching one here fails loudly
instead of silently doing nothing.
"""

from __future__ import annotations

from ..errors import ConvtError
from .arguments import as_array, exact_result_dtype, prepare, result_dtype
from .cost import _mode
from .literal import _scatter_direct, _tiny, canvas_extent
from .route import conv_transpose
from .runner import _Runner
from .threads import _gemm, _run_all, engine_threads, set_threads

__all__ = [
    "ConvtError", "as_array", "canvas_extent", "conv_transpose", "engine_threads", "exact_result_dtype",
    "prepare", "result_dtype", "set_threads",
]
# Private names re-exported for reading (tests wrap them, then patch the submodule that looks them up):
_PRIVATE = (_Runner, _gemm, _mode, _run_all, _scatter_direct, _tiny)
