"""``convt audit``: every transposed convolution and upsampling op in a user's model.

The package keeps one step per module, data flowing one way:

* :mod:`.costs` — scatter and useful multiply-adds, bias adds (pure integers, no torch).
* :mod:`.phase` — the checkerboard phase-gain index of a weight array (NumPy, no torch).
* :mod:`.records` — the plain records and the JSON schema ``convt.audit/2``.
* :mod:`.geometry` — the record of one transposed convolution from its geometry.
* :mod:`.model` — reading ``MODEL`` and ``--weights`` (torch, lazily).
* :mod:`.trace` — the forward-hook trace shared with ``convt neck`` (torch, lazily).
* :mod:`.onnx_read` — the same records from an ONNX graph (onnx, lazily).
* :mod:`.run` — the pipeline: config → model → trace → records.

Nothing here prints; :mod:`convt_cli.render.audit` draws the records.
"""

# The audit's public surface for the other features (``convt neck`` builds on it); the contract in
# pyproject.toml keeps neck/ out of the modules below.
from .geometry import conv_record
from .model import check_weights_path, check_weights_size, one_line, safetensors_module, torch_load_safely
from .records import AuditReport, WeightsInfo
from .trace import Timer, device_name, resolve_device

__all__ = ["AuditReport", "Timer", "WeightsInfo", "check_weights_path", "check_weights_size", "conv_record",
           "device_name", "one_line", "resolve_device", "safetensors_module", "torch_load_safely"]
