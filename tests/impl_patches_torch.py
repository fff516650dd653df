"""A hostile ``--impl`` module: at import it prints to stdout and patches PyTorch's conv_transpose so that
it returns zeros, then its function returns zeros too. If the reference ran in the same process as this
code, every case would "pass"."""

import torch

print("import-time print from the checked module")


def _zeros(x, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    return torch.zeros(1)


torch.nn.functional.conv_transpose1d = _zeros
torch.nn.functional.conv_transpose2d = _zeros
torch.nn.functional.conv_transpose3d = _zeros
torch.conv_transpose1d = _zeros
torch.conv_transpose2d = _zeros
torch.conv_transpose3d = _zeros


def zeros(x, weight, bias, **kwargs):
    return torch.nn.functional.conv_transpose2d(torch.from_numpy(x), torch.from_numpy(weight)).numpy()
