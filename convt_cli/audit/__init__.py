"""``convt audit``: every transposed convolution and upsampling op in a user's model.

The package keeps one step per module, data flowing one way:

* :mod:`.costs` — scatter and useful multiply-adds, bias adds (pure integers, no torch).
* :mod:`.phase` — the checkerboard phase-gain index of a weight array (NumPy, no torch).
* :mod:`.records` — the plain records and the JSON schema ``convt.audit/2``.
* :mod:`.model` — reading ``MODEL`` and ``--weights`` (torch, lazily).
* :mod:`.trace` — the forward-hook trace shared with ``convt neck`` (torch, lazily).
* :mod:`.onnx_read` — the same records from an ONNX graph (onnx, lazily).
* :mod:`.run` — the pipeline: config → model → trace → records.

Nothing here prints; :mod:`convt_cli.render.audit` draws the records.
"""
