"""`convt port`: one transposed convolution in another framework's words — parsed, planned, proven, emitted.

Data flows one way: :mod:`.layer` parses the text users copy into a :class:`~convt_cli.conventions.core.Geometry`,
:mod:`.plan` turns it into a plain record for each target (arguments, weight conversion, extra op,
proof on the NumPy engine), :mod:`.emit` writes the self-contained snippet; ``render/port.py`` draws.
"""

FRAMEWORKS = ("torch", "onnx", "jax", "flax", "keras", "tf", "mlx")
