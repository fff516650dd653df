"""Other frameworks' transposed convolutions, each in its own words, computed by the one NumPy engine.

Each module speaks one framework's argument names, layouts and padding rules and maps a layer onto
:class:`~convt_cli.conventions.core.Geometry` (PyTorch layout: the full scatter canvas and what each
end crops). No framework is imported here.
"""

from .core import Geometry, compute
from .onnx_op import onnx_conv_transpose, onnx_geometry

__all__ = ["Geometry", "compute", "onnx_conv_transpose", "onnx_geometry"]
