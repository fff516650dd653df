"""convt: see, prove and trace transposed convolution (PyTorch's ConvTranspose1d/2d/3d)."""

from .errors import ConvtError

__version__ = "0.1.0"
__all__ = ["ConvtError", "__version__", "conv_transpose", "explore", "onnx_conv_transpose"]


def __getattr__(name: str):  # noqa: ANN202 - PEP 562: the engine (and NumPy) load on first use, not for --help
    if name == "conv_transpose":
        from .engine import conv_transpose

        return conv_transpose
    if name == "explore":
        from .explorer import explore

        return explore
    if name == "onnx_conv_transpose":
        from .conventions.onnx_op import onnx_conv_transpose

        return onnx_conv_transpose
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
