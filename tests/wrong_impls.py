"""Implementations under the ``--impl`` contract, loaded by path (``tests/wrong_impls.py:NAME``) exactly as a
user's file would be: one correct independent implementation and many deliberately wrong ones, each
with one known bug (its docstring names the feature the diagnosis must find).

Only NumPy, the engine and the standard library are imported here (onnx lazily), so the worker
process that loads this file starts fast. ``gather_conv_transpose`` shares no code with convt's
scatter engine: it inserts zeros, pads, and correlates with the rotated kernel.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import time

import numpy as np

from convt_cli.engine import conv_transpose

# ---------------------------------------------------------------------------------------------------
# Implementations under the contract: FUNC(x, weight, bias, *, stride, padding, output_padding, dilation, groups)
# ---------------------------------------------------------------------------------------------------


def gather_conv_transpose(x, weight, bias, *, stride, padding, output_padding, dilation, groups):
    """Correct, and independent of the engine: zero insertion + padding + correlation, rotated kernel."""
    nd = weight.ndim - 2
    n, c_in = x.shape[:2]
    spatial, kernel = x.shape[2:], weight.shape[2:]
    cig, cog = c_in // groups, weight.shape[1]
    # 1. stride - 1 zeros between input elements
    up = np.zeros((n, c_in) + tuple((i - 1) * s + 1 for i, s in zip(spatial, stride)), dtype=x.dtype)
    up[(slice(None), slice(None)) + tuple(slice(None, None, s) for s in stride)] = x
    # 2. d*(k-1) - p zeros at both ends (+ output_padding at the far end); negative amounts crop
    for axis, (k, p, op, d) in enumerate(zip(kernel, padding, output_padding, dilation), start=2):
        before, after = d * (k - 1) - p, d * (k - 1) - p + op
        pads = [(0, 0)] * up.ndim
        pads[axis] = (max(before, 0), max(after, 0))
        up = np.pad(up, pads)
        stop = up.shape[axis] - max(-after, 0)
        up = up[(slice(None),) * axis + (slice(max(-before, 0), stop),)]
    # 3. an ordinary stride-1 correlation with the dilated, 180°-rotated kernel
    window = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation))
    axes = tuple(range(2, 2 + nd))
    win = np.lib.stride_tricks.sliding_window_view(up, window, axis=axes)
    win = win[(Ellipsis,) + tuple(slice(None, None, d) for d in dilation)]  # (n, c_in, *out, *k)
    out_sp = win.shape[2:2 + nd]
    win = win.reshape((n, groups, cig) + out_sp + (-1,))
    wf = np.flip(weight, axis=axes).reshape(groups, cig, cog, -1)
    out = np.einsum("ngc...k,gcok->ngo...", win, wf).reshape((n, groups * cog) + out_sp)
    if bias is not None:
        out = out + np.asarray(bias).reshape((1, -1) + (1,) * nd)
    return out


def rotated_kernel(x, weight, bias, *, stride, padding, output_padding, dilation, groups):
    """Wrong: uses the kernel rotated by 180° (the gather view's kernel, in the scatter view)."""
    axes = tuple(range(2, weight.ndim))
    return conv_transpose(x, np.flip(weight, axis=axes), bias, stride, padding, output_padding, dilation, groups)


def output_padding_zeros(x, weight, bias, *, stride, padding, output_padding, dilation, groups):
    """Wrong: the output_padding positions are zeros (+ bias), not the computed values (pytorch#8816)."""
    out = conv_transpose(x, weight, None, stride, padding, 0, dilation, groups)
    out = np.pad(out, [(0, 0), (0, 0)] + [(0, op) for op in output_padding])
    if bias is not None:
        out = out + bias.reshape((1, -1) + (1,) * (weight.ndim - 2))
    return out


def first_group_bias(x, weight, bias, *, stride, padding, output_padding, dilation, groups):
    """Wrong: every group adds the first group's bias slice."""
    out = conv_transpose(x, weight, None, stride, padding, output_padding, dilation, groups)
    if bias is not None:
        b = np.tile(bias[: weight.shape[1]], groups)
        out = out + b.reshape((1, -1) + (1,) * (weight.ndim - 2))
    return out


def first_image_only(x, weight, bias, *, stride, padding, output_padding, dilation, groups):
    """Wrong: computes only the first image of the batch; the others stay zero."""
    first = conv_transpose(x[:1], weight, bias, stride, padding, output_padding, dilation, groups)
    out = np.zeros((x.shape[0],) + first.shape[1:])
    out[:1] = first
    return out


def dilation_ignored_when_strided(x, weight, bias, *, stride, padding, output_padding, dilation, groups):
    """Wrong: drops the dilation whenever the stride is > 1."""
    if any(s > 1 for s in stride):
        dilation = (1,) * len(stride)
        output_padding = tuple(min(op, s - 1) for op, s in zip(output_padding, stride))
    return conv_transpose(x, weight, bias, stride, padding, output_padding, dilation, groups)


def raises(x, weight, bias, **kwargs):
    raise ValueError("my kernel only handles 2-d")


def returns_none(x, weight, bias, **kwargs):
    return None


def drops_last_row(x, weight, bias, **kwargs):
    return gather_conv_transpose(x, weight, bias, **kwargs)[..., :-1]


def chatty_exit(x, weight, bias, **kwargs):
    print("debug print from the user's function")
    sys.exit(3)


def returns_nan(x, weight, bias, **kwargs):
    out = gather_conv_transpose(x, weight, bias, **kwargs)
    out.flat[0] = np.nan
    return out


def returns_inf(x, weight, bias, **kwargs):
    """+inf at the start, -inf at the end: inf - inf in any sum of the output."""
    out = gather_conv_transpose(x, weight, bias, **kwargs)
    out.flat[0], out.flat[-1] = np.inf, -np.inf
    return out


def two_d_only(x, weight, bias, **kwargs):
    if weight.ndim != 4:
        raise NotImplementedError("2-d only")
    return gather_conv_transpose(x, weight, bias, **kwargs)


NOT_A_FUNCTION = 42


def wrong_signature(x, weight):
    return x


# --- the list, continued -------------------------------------------------------------------


def kernel_axes_swapped_3d(x, weight, bias, *, stride, padding, output_padding, dilation, groups):
    """Wrong (dims_3): reads a 3-d kernel as (kW, kH, kD) — its first and last spatial axes swapped."""
    if weight.ndim == 5:
        weight = np.ascontiguousarray(np.swapaxes(weight, 2, 4))
        return conv_transpose(x, weight, bias, stride, padding, output_padding, dilation, groups)
    return conv_transpose(x, weight, bias, stride, padding, output_padding, dilation, groups)


def onnx_reference(x, weight, bias, *, stride, padding, output_padding, dilation, groups):
    """onnx.reference's own ConvTranspose (pads = padding at both ends): real bugs with groups > 1, and a
    ValueError when output_padding ≥ stride (legal in PyTorch when smaller than dilation)."""
    from onnx import TensorProto, helper
    from onnx.reference import ReferenceEvaluator

    names = ["x", "w"] + ([] if bias is None else ["b"])
    node = helper.make_node("ConvTranspose", names, ["y"], strides=list(stride), pads=list(padding) * 2,
                            output_padding=list(output_padding), dilations=list(dilation), group=groups,
                            kernel_shape=list(weight.shape[2:]))
    graph = helper.make_graph(
        [node], "convt", [helper.make_tensor_value_info(n, TensorProto.DOUBLE, None) for n in names],
        [helper.make_tensor_value_info("y", TensorProto.DOUBLE, None)])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    feeds = {"x": x, "w": weight} if bias is None else {"x": x, "w": weight, "b": bias}
    return ReferenceEvaluator(model).run(None, feeds)[0]


# --- more of our own ----------------------------------------------------------------------------------


def two_bugs(x, weight, bias, *, stride, padding, output_padding, dilation, groups):
    """Wrong twice, independently, both as wrong values: every group uses group 0's weights (groups), and
    the bias is subtracted (bias)."""
    cig = weight.shape[0] // groups
    weight = np.concatenate([weight[:cig]] * groups)
    out = conv_transpose(x, weight, None, stride, padding, output_padding, dilation, groups)
    if bias is not None:
        out -= bias.reshape((1, -1) + (1,) * (weight.ndim - 2))
    return out


def raises_for_big_padding(x, weight, bias, *, stride, padding, output_padding, dilation, groups):
    """Wrong (padding_beyond_kernel): a gather implementation that pads with d·(k−1) − p zeros and refuses
    a negative amount — it raises whenever padding > dilation·(k−1)."""
    for k, p, d in zip(weight.shape[2:], padding, dilation):
        if d * (k - 1) - p < 0:
            raise ValueError(f"index can't contain negative values (pad {d * (k - 1) - p})")
    return gather_conv_transpose(x, weight, bias, stride=stride, padding=padding, output_padding=output_padding,
                                 dilation=dilation, groups=groups)


def hangs_on_batches(x, weight, bias, **kwargs):
    """Wrong (batch_gt1): never returns for a batch of more than one image."""
    if x.shape[0] > 1:
        time.sleep(3600)
    return gather_conv_transpose(x, weight, bias, **kwargs)


def segfaults_with_groups(x, weight, bias, **kwargs):
    """Wrong (groups): reads address 0 through ctypes when groups > 1 — a segmentation fault."""
    if kwargs["groups"] > 1:
        ctypes.string_at(0)
    return gather_conv_transpose(x, weight, bias, **kwargs)


def mutates_input_with_bias(x, weight, bias, **kwargs):
    """Wrong (bias): right answer, but adds the bias into its input ``bias`` array in place (doubling it)."""
    out = gather_conv_transpose(x, weight, bias, **kwargs)
    if bias is not None:
        bias *= 2.0
    return out


def no_groups_no_dilation(x, weight, bias, *, stride, padding, output_padding, dilation, groups):
    """Correct where it claims to be: refuses groups > 1 and dilation > 1 (check it with --skip groups,dilation)."""
    if groups != 1:
        raise NotImplementedError("groups are not supported")
    if any(d != 1 for d in dilation):
        raise NotImplementedError("dilation is not supported")
    return gather_conv_transpose(x, weight, bias, stride=stride, padding=padding, output_padding=output_padding,
                                 dilation=dilation, groups=groups)


def blows_up_memory(x, weight, bias, **kwargs):
    """Wrong (stride_gt_kernel): fills 600 MB of scratch (really resident, not only mapped) and holds it a
    moment when the stride exceeds the kernel."""
    if any(s > k for s, k in zip(kwargs["stride"], weight.shape[2:])):
        import time

        scratch = np.ones(600 * 1024 * 1024 // 8)
        time.sleep(0.5)
        del scratch
    return gather_conv_transpose(x, weight, bias, **kwargs)


# --- hostile: what issue 16 found ----------------------------------------------------------------------


def exits_quietly(x, weight, bias, **kwargs):
    """os._exit(0) in the function: must read as a failed case, never as a pass."""
    os._exit(0)


class _BadMessage(Exception):
    def __str__(self):
        raise RuntimeError("no message for you")


def unprintable_exception(x, weight, bias, **kwargs):
    raise _BadMessage()


def generator_exit(x, weight, bias, **kwargs):
    raise GeneratorExit


def interrupt_parent_on_40th_call(x, weight, bias, **kwargs):
    """Correct, but on its 40th call sends SIGINT to the parent, as Ctrl-C in the terminal would."""
    _count["n"] += 1
    if _count["n"] == 40:
        os.kill(os.getppid(), signal.SIGINT)
        time.sleep(5)  # the parent stops waiting at once
    return gather_conv_transpose(x, weight, bias, **kwargs)


_count = {"n": 0}


def prints_to_stdout(x, weight, bias, **kwargs):
    print("a print from the function")
    sys.stdout.write("and a write\n")
    os.write(1, b"and a raw write to fd 1\n")
    return gather_conv_transpose(x, weight, bias, **kwargs)


# --- functions in another framework's convention (convt verify --convention) --------------------------


def keras_kernel_rotated(x, kernel, *, strides, padding, output_padding, data_format, dilation_rate):
    """Keras convention (keras.ops.conv_transpose: channels-last, kernel (*k, out, in)) with a classic port
    bug: the kernel rotated 180° on the way in, as a port from a plain convolution would do (Keras's
    transposed convolution takes the kernel as it is)."""
    from convt_cli.conventions.keras_conv import keras_conv_transpose

    nd = np.asarray(kernel).ndim - 2
    rotated = np.flip(kernel, axis=tuple(range(nd)))
    return keras_conv_transpose(x, rotated, strides=strides, padding=padding, output_padding=output_padding,
                                data_format=data_format, dilation_rate=dilation_rate)
