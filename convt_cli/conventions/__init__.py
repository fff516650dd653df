"""Other frameworks' transposed convolutions, each in its own words, computed by the one NumPy engine.

Each module speaks one framework's argument names, layouts and padding rules and maps a layer onto
:class:`~convt_cli.conventions.core.Geometry` (PyTorch layout: the full scatter canvas and what each
end crops). No framework is imported here.
"""

from .core import Geometry, compute
from .jax_conv import flax_geometry, jax_conv_transpose
from .keras_conv import keras_conv_transpose, keras_geometry
from .mlx_conv import mlx_conv_transpose
from .onnx_op import onnx_conv_transpose, onnx_geometry
from .tf_conv import tf_conv_transpose
from .torch_conv import torch_geometry

__all__ = ["Geometry", "compute", "flax_geometry", "jax_conv_transpose",
           "keras_conv_transpose", "keras_geometry", "mlx_conv_transpose", "onnx_conv_transpose", "onnx_geometry",
           "tf_conv_transpose", "torch_geometry"]
