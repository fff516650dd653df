"""convt: see, prove and trace transposed convolution (PyTorch's ConvTranspose1d/2d/3d)."""

from .conventions.onnx_op import onnx_conv_transpose
from .engine import conv_transpose
from .errors import ConvtError

__version__ = "0.1.0"
__all__ = ["ConvtError", "__version__", "conv_transpose", "onnx_conv_transpose"]
