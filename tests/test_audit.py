"""`convt audit`'s library: costs against torch and brute force, the phase-gain index against a
direct convolution, the examples traced on meta and for real, weights files, ONNX, and bad input."""

from __future__ import annotations

import io
import math
import pickle
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from torch.utils.flop_counter import FlopCounterMode

from convt_cli.audit.costs import kept_taps, scatter_macs, useful_macs
from convt_cli.audit.phase import THRESHOLD, phase_gain
from convt_cli.audit.run import audit, make_config
from convt_cli.audit.trace import Timer, resolve_device
from convt_cli.errors import ConvtError

ROOT = Path(__file__).resolve().parent.parent
EX = ROOT / "examples"
EXAMPLES = {  # model, input shape, weights
    "dcgan": (f"{EX}/dcgan.py:build", "1x16x1x1", EX / "dcgan.safetensors"),
    "unet": (f"{EX}/unet.py:build", "1x3x64x64", EX / "unet.safetensors"),
    "subpixel": (f"{EX}/subpixel.py:build", "1x8x32x32", EX / "subpixel.safetensors"),
}


def run_example(name: str, device: str = "meta", weights: bool = True):
    model, shape, path = EXAMPLES[name]
    return audit(make_config(model, shape, str(path) if weights else None, device=device))


# ------------------------------------------------------------------------------------------- costs


def brute_useful(n, c_in, c_out, g, in_sp, k, s, p, op, d):
    """Products landing in the kept output, counted by torch itself: an all-ones input and kernel give
    each output cell the number of (input, tap) pairs that land on it."""
    nd = len(in_sp)
    fn = [None, torch.nn.functional.conv_transpose1d, torch.nn.functional.conv_transpose2d,
          torch.nn.functional.conv_transpose3d][nd]
    out = fn(torch.ones(1, 1, *in_sp, dtype=torch.float64), torch.ones(1, 1, *k, dtype=torch.float64),
             stride=s, padding=p, output_padding=op, dilation=d)
    return n * c_in * (c_out // g) * int(out.sum().item()), tuple(out.shape[2:])


@given(st.data())
def test_useful_macs_equal_a_brute_force_count(data):
    nd = data.draw(st.integers(1, 2))
    in_sp = tuple(data.draw(st.integers(1, 6)) for _ in range(nd))
    k = tuple(data.draw(st.integers(1, 5)) for _ in range(nd))
    s = tuple(data.draw(st.integers(1, 3)) for _ in range(nd))
    d = tuple(data.draw(st.integers(1, 2)) for _ in range(nd))
    p = tuple(data.draw(st.integers(0, d[i] * (k[i] - 1))) for i in range(nd))
    op = tuple(data.draw(st.integers(0, max(s[i], d[i]) - 1)) for i in range(nd))
    try:
        expected, out_sp = brute_useful(2, 3, 4, 1, in_sp, k, s, p, op, d)
    except RuntimeError:  # torch refuses an empty output: nothing to count
        return
    assert useful_macs(2, 3, 4, 1, in_sp, k, s, p, d, out_sp) == expected
    assert useful_macs(2, 3, 4, 1, in_sp, k, s, p, d, out_sp) <= scatter_macs(2, 3, 4, 1, in_sp, k)


def test_useful_macs_of_k4_s2_p1():
    # 64→32 channels at 32²: 126 kept pairs per axis of 128
    assert kept_taps(32, 4, 2, 1, 1, 64) == 126
    assert useful_macs(1, 64, 32, 1, (32, 32), (4, 4), (2, 2), (1, 1), (1, 1), (64, 64)) == 32_514_048
    assert scatter_macs(1, 64, 32, 1, (32, 32), (4, 4)) == 33_554_432


@pytest.mark.parametrize("groups", [1, 4, 16])
def test_scatter_macs_equal_flop_counter_mode_with_groups(groups):
    layer = torch.nn.ConvTranspose2d(16, 8 if groups < 16 else 16, 3, stride=2, groups=groups, device="meta")
    x = torch.empty(2, 16, 5, 7, device="meta")
    with FlopCounterMode(display=False) as counter:
        layer(x)
    assert counter.get_total_flops() == 2 * scatter_macs(2, 16, layer.out_channels, groups, (5, 7), (3, 3))


# ------------------------------------------------------------------------------------- phase gain


def constant_response_index(weight: torch.Tensor, stride: int, padding: int) -> np.ndarray:
    """Per channel, from direct transposed convolutions of an all-ones input (interior, whole periods): the std
    of the response with ``w`` over the rms of the response with ``|w|`` (the layer's full scale)."""
    x = torch.ones(1, weight.shape[0], 12, 12, dtype=torch.float64)

    def inner(w):
        y = torch.nn.functional.conv_transpose2d(x, w, stride=stride, padding=padding)[0]
        return y[:, 8:8 + 4 * stride, 8:8 + 4 * stride]  # whole periods, away from the borders

    y, full = inner(weight.double()), inner(weight.double().abs())
    return (y.std(dim=(1, 2), unbiased=False) / full.pow(2).mean(dim=(1, 2)).sqrt()).numpy()


def test_old_std_over_mean_is_kept_and_the_new_index_is_bounded_for_zero_mean_weights():
    w = torch.randn(4, 3, 3, 3, generator=torch.Generator().manual_seed(5), dtype=torch.float64)
    w -= w.mean(dim=(0, 2, 3), keepdim=True) * 0.999999  # near-zero DC gain per channel: std/|mean| explodes
    pg = phase_gain(w.numpy(), (2, 2), (1, 1), (1, 1))
    assert pg.std_over_mean > 10 and 0 < pg.worst <= 1
    x = torch.ones(1, 4, 12, 12, dtype=torch.float64)
    y = torch.nn.functional.conv_transpose2d(x, w, stride=2, padding=1)[0, pg.worst_channel, 8:16, 8:16]
    assert abs(pg.std_over_mean - float(y.std(unbiased=False) / y.mean().abs())) < 1e-6 * pg.std_over_mean


def test_phase_gain_of_random_k3_s2_matches_a_direct_convolution_and_is_positive():
    w = torch.randn(5, 3, 3, 3, generator=torch.Generator().manual_seed(1))
    pg = phase_gain(w.numpy(), (2, 2), (1, 1), (1, 1))
    direct = constant_response_index(w, 2, 1)
    np.testing.assert_allclose(pg.per_channel, direct, rtol=1e-9)
    assert min(pg.per_channel) > THRESHOLD and pg.flagged


def test_box_factored_kernel_has_phase_gain_zero_and_a_flat_response():
    # k=4, s=2, each channel a box (constant) kernel scaled per channel pair: every phase gets 2×2 taps
    scale = torch.rand(4, 3, 1, 1, generator=torch.Generator().manual_seed(2)) + 0.1
    w = scale * torch.ones(4, 3, 4, 4)
    pg = phase_gain(w.numpy(), (2, 2), (1, 1), (1, 1))
    assert pg.worst < 1e-12
    assert constant_response_index(w, 2, 1).max() < 1e-12


def test_icnr_example_has_phase_gain_zero_and_random_twin_does_not():
    report = run_example("subpixel")
    by_name = {la.name: la for la in report.layers}
    icnr, rand = by_name["icnr"], by_name["random"]
    assert icnr.phase_gain.worst < 1e-6 and not icnr.flagged
    assert rand.phase_gain.worst > THRESHOLD and rand.flagged
    from safetensors.torch import load_file

    state = load_file(str(EXAMPLES["subpixel"][2]))
    assert constant_response_index(state["icnr.weight"], 2, 2).max() < 1e-6
    np.testing.assert_allclose(constant_response_index(state["random.weight"], 2, 2),
                               rand.phase_gain.per_channel, rtol=1e-6)


def test_phase_gain_with_groups_dilation_and_padding_matches_1d_direct():
    w = torch.randn(6, 2, 5, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    pg = phase_gain(w.numpy(), (3,), (2,), (2,), groups=3)
    y = torch.nn.functional.conv_transpose1d(torch.ones(1, 6, 20, dtype=torch.float64), w, stride=3, padding=2,
                                             dilation=2, groups=3)[0]
    full = torch.nn.functional.conv_transpose1d(torch.ones(1, 6, 20, dtype=torch.float64), w.abs(), stride=3,
                                                padding=2, dilation=2, groups=3)[0]
    inner, inner_full = y[:, 12:12 + 9], full[:, 12:12 + 9]
    direct = (inner.std(dim=1, unbiased=False) / inner_full.pow(2).mean(dim=1).sqrt()).numpy()
    np.testing.assert_allclose(pg.per_channel, direct, rtol=1e-9)


# ------------------------------------------------------------------------------- the examples


def real_shapes(name: str) -> dict[str, tuple[list[int], list[int]]]:
    """Input and output shapes of every ConvTranspose/Upsample/PixelShuffle module from a plain CPU run."""
    model, shape, _ = EXAMPLES[name]
    from convt_cli.audit.model import build_model, parse_model

    module = build_model(torch, parse_model(model), "cpu").eval()
    seen = {}
    kinds = (torch.nn.ConvTranspose2d, torch.nn.Upsample, torch.nn.PixelShuffle)
    for qual, m in module.named_modules():
        if isinstance(m, kinds):
            m.register_forward_hook(lambda mod, a, out, qual=qual: seen.__setitem__(
                qual, (list(a[0].shape), list(out.shape))))
    with torch.no_grad():
        module(torch.randn(*map(int, shape.split("x"))))
    return seen


@pytest.mark.parametrize("name", list(EXAMPLES))
def test_every_example_matches_torch(name):
    report = run_example(name)
    shapes = real_shapes(name)
    model, _, _ = EXAMPLES[name]
    from convt_cli.audit.model import build_model, parse_model

    module = build_model(torch, parse_model(model), "meta")
    module_layers = [la for la in report.layers if "/F." not in la.name]
    assert {la.name for la in module_layers} == set(shapes)
    for la in module_layers:
        assert (la.input_shape, la.output_shape) == shapes[la.name], la.name
        if la.is_conv:
            with FlopCounterMode(display=False) as counter:
                module.get_submodule(la.name)(torch.empty(la.input_shape, device="meta"))
            assert 2 * la.macs_scatter == counter.get_total_flops(), la.name
            assert la.params == sum(p.numel() for p in module.get_submodule(la.name).parameters())
            assert la.phase_gain is not None  # weights from the file are real


def test_dcgan_records():
    report = run_example("dcgan")
    convs = [la for la in report.layers if la.is_conv]
    assert len(convs) == 5 and [la.output_shape[-1] for la in convs] == [4, 8, 16, 32, 64]
    assert all(la.overlap == "even" for la in convs[1:])  # k4 s2: even overlap
    # k4 s1 on a 1×1 input: one input element per channel, so no output cell gets two products
    assert convs[0].overlap == "none" and convs[0].overlap_per_cell == [1, 1]
    assert convs[1].macs_useful < convs[1].macs_scatter  # p=1 crops a border of products
    assert convs[0].phase_gain.worst == 0.0  # stride 1: one phase, nothing to differ
    assert report.totals["macs_scatter"] == sum(la.macs_scatter for la in convs)


def test_unet_sees_the_functional_interpolate_once_and_the_uneven_k3_s2():
    report = run_example("unet")
    kinds = [la.kind for la in report.layers]
    assert kinds == ["ConvTranspose2d", "interpolate", "Upsample"]  # Upsample's inner interpolate not counted
    up1 = report.layers[0]
    assert up1.overlap == "uneven" and up1.overlap_per_cell == [1, 4] and up1.flagged
    assert up1.output_shape == [1, 32, 16, 16]
    assert report.layers[1].name == "UNet/F.interpolate"
    assert "mode='bilinear'" in report.layers[1].op and "antialias" not in report.layers[1].op


def test_meta_and_cpu_agree_and_only_cpu_times():
    meta, cpu = run_example("unet", "meta"), run_example("unet", "cpu")
    strip = [(la.name, la.input_shape, la.output_shape, la.macs_useful) for la in meta.layers]
    assert strip == [(la.name, la.input_shape, la.output_shape, la.macs_useful) for la in cpu.layers]
    assert all(la.time_ms is None for la in meta.layers)
    assert all(la.time_ms is not None and la.time_ms >= 0 for la in cpu.layers)


def test_phase_gain_is_null_without_real_weights_and_computed_with_init_weights():
    meta = run_example("subpixel", "meta", weights=False)
    assert meta.weights.reason == "meta" and all(la.phase_gain is None for la in meta.layers)
    cpu = run_example("subpixel", "cpu", weights=False)
    assert cpu.weights.reason == "random" and all(la.phase_gain is None for la in cpu.layers)
    init = audit(make_config(EXAMPLES["subpixel"][0], "1x8x32x32", init_weights=True))
    assert init.weights.reason == "init"
    assert all(la.phase_gain is not None for la in init.layers if la.is_conv)
    # build() applies ICNR itself and --seed 0 seeds its init: the same figures as the shipped weights
    shipped = run_example("subpixel")
    assert [la.to_dict()["phase_gain_index"] for la in init.layers] == \
        [la.to_dict()["phase_gain_index"] for la in shipped.layers]
    assert [la.flagged for la in init.layers] == [False, True, False]  # only the layer named random
    assert [la.to_dict()["phase_gain_index"] for la in meta.layers] == [None, None, None]


# -------------------------------------------------------------------------------------- weights


def test_pt_and_safetensors_give_the_same_report(tmp_path):
    from safetensors.torch import load_file

    state = load_file(str(EXAMPLES["subpixel"][2]))
    pt = tmp_path / "w.pt"
    torch.save(state, pt)
    a = audit(make_config(EXAMPLES["subpixel"][0], "1x8x32x32", str(pt))).to_dict()
    b = run_example("subpixel").to_dict()
    assert a["weights"]["format"] == "pt" and b["weights"]["format"] == "safetensors"
    assert a["layers"] == b["layers"]


def test_missing_and_unexpected_keys_are_reported(tmp_path):
    from safetensors.torch import load_file

    state = load_file(str(EXAMPLES["subpixel"][2]))
    del state["random.weight"]
    state["extra.weight"] = torch.zeros(2)
    path = tmp_path / "w.pth"
    torch.save({"state_dict": state}, path)
    for device in ("meta", "cpu"):
        report = audit(make_config(EXAMPLES["subpixel"][0], "1x8x32x32", str(path), device=device))
        assert report.weights.missing == ["random.weight"] and report.weights.unexpected == ["extra.weight"]
        by_name = {la.name: la for la in report.layers}
        assert by_name["random"].phase_gain is None  # its weights were not in the file
        assert by_name["icnr"].phase_gain is not None


class Payload:
    def __reduce__(self):
        return (Path.touch, (Path(MARKER),))


MARKER = "/tmp/i13-audit-pickle-ran"


def test_a_pickle_that_is_not_a_state_dict_is_refused_without_running(tmp_path):
    Path(MARKER).unlink(missing_ok=True)
    path = tmp_path / "evil.pt"
    with open(path, "wb") as f:
        pickle.dump(Payload(), f, protocol=2)
    with pytest.raises(ConvtError, match="weights_only=True"):
        audit(make_config(EXAMPLES["subpixel"][0], "1x8x32x32", str(path)))
    assert not Path(MARKER).exists()


def test_a_list_of_tensors_is_not_a_state_dict(tmp_path):
    path = tmp_path / "list.pt"
    torch.save([torch.zeros(2)], path)
    with pytest.raises(ConvtError, match="not a state dict"):
        audit(make_config(EXAMPLES["subpixel"][0], "1x8x32x32", str(path)))


def test_a_shape_mismatch_in_the_weights_names_the_key(tmp_path):
    from safetensors.torch import load_file, save_file

    state = load_file(str(EXAMPLES["subpixel"][2]))
    state["icnr.weight"] = torch.zeros(8, 4, 4, 4)
    path = tmp_path / "bad.safetensors"
    save_file(state, str(path))
    with pytest.raises(ConvtError, match=r"icnr\.weight has shape \(8, 4, 4, 4\)"):
        audit(make_config(EXAMPLES["subpixel"][0], "1x8x32x32", str(path)))


# ----------------------------------------------------------------------------------------- ONNX


def make_onnx(path: Path, pads=(1, 1, 1, 1), op_pad=(1, 1), d2s_mode="CRD") -> np.ndarray:
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    w = np.random.default_rng(0).standard_normal((4, 3, 3, 3)).astype(np.float32)
    nodes = [
        helper.make_node("ConvTranspose", ["x", "w", "b"], ["y"], name="up", strides=[2, 2], pads=list(pads),
                         output_padding=list(op_pad)),
        helper.make_node("Resize", ["y", "", "scales"], ["z"], name="resize", mode="nearest",
                         coordinate_transformation_mode="asymmetric", nearest_mode="floor"),
        helper.make_node("DepthToSpace", ["z"], ["o"], name="d2s", blocksize=1 + 0 * 2, mode=d2s_mode),
    ]
    graph = helper.make_graph(
        nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 4, 8, 8])],
        [helper.make_tensor_value_info("o", TensorProto.FLOAT, None)],
        initializer=[numpy_helper.from_array(w, "w"), numpy_helper.from_array(np.zeros(3, np.float32), "b"),
                     numpy_helper.from_array(np.array([1, 1, 2, 2], np.float32), "scales")])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))
    return w


def test_onnx_nodes_with_inferred_shapes_and_pytorch_terms(tmp_path):
    path = tmp_path / "m.onnx"
    w = make_onnx(path)
    report = audit(make_config(str(path), "2x4x8x8"))
    up, resize, d2s = report.layers
    layer = torch.nn.ConvTranspose2d(4, 3, 3, stride=2, padding=1, output_padding=1)
    assert up.op == "ConvTranspose2d(4, 3, kernel_size=3, stride=2, padding=1, output_padding=1)"
    assert up.output_shape == list(layer(torch.zeros(2, 4, 8, 8)).shape) == [2, 3, 16, 16]
    assert up.macs_scatter == scatter_macs(2, 4, 3, 1, (8, 8), (3, 3))
    brute, _ = brute_useful(2, 4, 3, 1, (8, 8), (3, 3), (2, 2), (1, 1), (1, 1), (1, 1))
    assert up.macs_useful == brute
    assert up.attributes["pads"] == [1, 1, 1, 1] and up.params == w.size + 3
    assert up.phase_gain.worst == pytest.approx(phase_gain(w, (2, 2), (1, 1), (1, 1)).worst)
    assert resize.op == "F.interpolate(scale_factor=2.0, mode='nearest')" and resize.output_shape == [2, 3, 32, 32]
    assert d2s.op == "PixelShuffle(upscale_factor=1)"
    assert report.weights.reason == "onnx"


def test_onnx_asymmetric_pads_are_said_plainly(tmp_path):
    path = tmp_path / "m.onnx"
    make_onnx(path, pads=(0, 0, 1, 1), op_pad=(0, 0))
    up = audit(make_config(str(path), "1x4x8x8")).layers[0]
    assert "then crop begin 0, end 1" in up.op
    assert up.output_shape == [1, 3, 16, 16]
    # brute force: the full 17×17 canvas of pair counts, cropped by one at the end only
    canvas = torch.nn.functional.conv_transpose2d(torch.ones(1, 1, 8, 8), torch.ones(1, 1, 3, 3), stride=2)
    assert up.macs_useful == 4 * 3 * int(canvas[..., :16, :16].sum()) == 4 * 3 * 23 * 23
    assert up.macs_useful < up.macs_scatter


def test_onnx_symbolic_input_without_shape_asks_for_it(tmp_path):
    path = tmp_path / "m.onnx"
    make_onnx(path)  # input N×4×8×8 with a symbolic N
    with pytest.raises(ConvtError, match="give the input's shape with --shape"):
        audit(make_config(str(path)))
    with pytest.raises(ConvtError, match="an ONNX file carries its own weights"):
        make_config(str(path), "1x4x8x8", weights="w.pt")
    with pytest.raises(ConvtError, match="rank 4"):
        audit(make_config(str(path), "1x4x8"))


def test_onnx_without_the_package_is_a_clear_install_message(monkeypatch, tmp_path):
    import builtins

    path = tmp_path / "m.onnx"
    make_onnx(path)
    real_import = builtins.__import__

    def no_onnx(name, *args, **kwargs):
        if name == "onnx" or name.startswith("onnx."):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_onnx)
    with pytest.raises(ConvtError, match="pip install onnx"):
        audit(make_config(str(path), "1x4x8x8"))


# ------------------------------------------------------------------------------------ bad input


BAD_MODEL = '''
import torch.nn as nn

def needs_args(width):
    return nn.Linear(width, 2)

def not_a_module():
    return 42

def raises():
    raise RuntimeError("cannot build\\n on two lines")

def picky():
    return nn.Sequential(nn.ConvTranspose2d(3, 2, 2, 2))


class DataDependent(nn.Module):
    def forward(self, x):
        return x[:, : int(x.sum().item()) % 2 + 1]


def data_dependent():
    return DataDependent()
'''


@pytest.fixture()
def bad_file(tmp_path):
    path = tmp_path / "bad_model.py"
    path.write_text(BAD_MODEL)
    return str(path)


@pytest.mark.parametrize("spec, shape, needle", [
    ("{f}:nope", "1x3x4x4", "has no 'nope'"),
    ("/no/such/file.py:build", "1x3x4x4", "no such file"),
    ("no_such_package_xyz.models:build", "1x3x4x4", "no module named 'no_such_package_xyz'"),
    ("{f}:needs_args", "1x3x4x4", "needs arguments (width)"),
    ("{f}:not_a_module", "1x3x4x4", "returned int, not a torch.nn.Module"),
    ("{f}:raises", "1x3x4x4", "raises() failed: cannot build on two lines"),
    ("{f}:picky", "1x5x4x4", "the model rejected the input 1×5×4×4: "),
    ("{f}", "1x3x4x4", "names a file but not the function that builds the model; try "),
    ("{f}.txt", "1x3x4x4", "must be path/to/file.py:FUNC"),
    ("{f}:picky", None, "--shape is needed"),
    ("/no/such.onnx", None, "no such ONNX file"),
])
def test_bad_input_is_one_clear_sentence(bad_file, spec, shape, needle):
    with pytest.raises(ConvtError) as info:
        audit(make_config(spec.format(f=bad_file), shape))
    message = str(info.value)
    assert needle in message and "\n" not in message and "Traceback" not in message


def test_a_model_that_needs_values_on_meta_is_told_to_use_the_cpu(bad_file):
    with pytest.raises(ConvtError, match="try --device cpu"):
        audit(make_config(f"{bad_file}:data_dependent", "1x3x4x4"))
    assert audit(make_config(f"{bad_file}:data_dependent", "1x3x4x4", device="cpu")).layers == []


def test_the_models_own_shape_error_is_kept(bad_file):
    with pytest.raises(ConvtError) as info:
        audit(make_config(f"{bad_file}:picky", "1x5x4x4", device="cpu"))
    assert "expected input" in str(info.value) and "3 channels" in str(info.value)


def test_other_weight_suffixes_are_refused(tmp_path):
    path = tmp_path / "w.bin"
    path.write_bytes(b"x")
    with pytest.raises(ConvtError, match=r"\.bin is not read"):
        audit(make_config(EXAMPLES["subpixel"][0], "1x8x32x32", str(path)))


# ---------------------------------------------------------------------- the CUDA side, stand-ins


class FakeEvent:
    clock = 0.0

    def __init__(self, enable_timing=False):
        self.t = None

    def record(self):
        FakeEvent.clock += 2.5
        self.t = FakeEvent.clock

    def elapsed_time(self, other):
        return other.t - self.t


class FakeCuda:
    Event = FakeEvent
    synced = 0

    def __init__(self, available=True):
        self.available = available

    def is_available(self):
        return self.available

    def synchronize(self):
        FakeCuda.synced += 1


class FakeTorch:
    __version__ = "9.9"

    class version:
        cuda = "12.4"

    def __init__(self, available=True):
        self.cuda = FakeCuda(available)


def test_cuda_timer_reads_events_once_after_one_synchronize():
    class Rec:
        time_ms = None

    timer = Timer(FakeTorch(), "cuda")
    records = [Rec(), Rec()]
    for rec in records:
        timer.stop(rec, timer.start())
    assert all(r.time_ms is None for r in records)  # not read before the GPU is waited for
    before = FakeCuda.synced
    timer.finish()
    assert FakeCuda.synced == before + 1 and [r.time_ms for r in records] == [2.5, 2.5]


def test_device_choice_with_and_without_a_gpu():
    assert resolve_device(FakeTorch(True), "auto") == "cuda"
    assert resolve_device(FakeTorch(False), "auto") == "cpu"
    with pytest.raises(ConvtError, match="no CUDA GPU is visible"):
        resolve_device(FakeTorch(False), "cuda")


def test_zero_mean_phases_give_a_finite_index_and_the_classic_figure_is_infinite():
    w = np.zeros((1, 1, 2, 2))
    w[0, 0, 0, 0], w[0, 0, 1, 1] = 1.0, -1.0
    pg = phase_gain(w, (2, 2), (0, 0), (1, 1))
    # S = [1, 0, 0, -1], |w| sums A = [1, 0, 0, 1]: std S = √0.5, rms A = √0.5 → all ripple
    assert pg.worst == pytest.approx(1.0) and pg.flagged and math.isinf(pg.std_over_mean)
    assert phase_gain(np.zeros((1, 1, 2, 2)), (2, 2), (0, 0), (1, 1)).worst == 0.0


def test_huge_strides_cost_only_the_taps():
    rng = np.random.default_rng(0)
    pg = phase_gain(rng.standard_normal((2, 3, 3, 3)), (50000, 50000), (0, 0), (1, 1))
    assert pg.phase_sums == () and pg.cells == 50000 ** 2 and THRESHOLD < pg.worst <= 1  # mostly empty phases
    small = phase_gain(rng.standard_normal((2, 3, 3)), (7,), (1,), (2,))
    from convt_cli.audit.phase import phase_sums

    full = phase_sums(rng.standard_normal((2, 3, 3)), (7,), (1,), (2,))
    assert len(small.phase_sums) == 7 and full.shape == (3, 7)


# ------------------------------------------------------------------- functional calls, modules, dims


FUNCTIONAL = '''
import torch
import torch.nn as nn
import torch.nn.functional as F


class Up(nn.Module):
    def __init__(self):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(4, 2, 3, 3))
        self.up = nn.ConvTranspose3d(2, 2, 2, stride=2)
        self.line = nn.ConvTranspose1d(2, 2, 4, stride=2, padding=1)

    def forward(self, x):
        y = F.conv_transpose2d(x, self.weight, stride=2, padding=1)
        y = F.pixel_shuffle(torch.cat([y, y, y, y], dim=1), 2)
        z = self.up(y.reshape(1, 2, 2, 7, 14))
        return self.line(z.reshape(2, -1)[:, :8])


def build():
    return Up()
'''


@pytest.fixture()
def functional_model(tmp_path, monkeypatch):
    (tmp_path / "functional_model.py").write_text(FUNCTIONAL)
    monkeypatch.syspath_prepend(str(tmp_path))
    return tmp_path


def test_functional_calls_module_names_and_every_dimension(functional_model, tmp_path):
    torch.manual_seed(0)
    import functional_model as fm

    state = fm.build().state_dict()
    torch.save(state, tmp_path / "w.pt")
    # package.module:FUNC — the module found on sys.path
    report = audit(make_config("functional_model:build", "1x4x4x4", str(tmp_path / "w.pt")))
    kinds = [(la.name, la.kind) for la in report.layers]
    assert kinds == [("Up/F.conv_transpose2d", "conv_transpose2d"), ("Up/F.pixel_shuffle", "pixel_shuffle"),
                     ("up", "ConvTranspose3d"), ("line", "ConvTranspose1d")]
    conv2d, _, conv3d, conv1d = report.layers
    assert conv2d.output_shape == [1, 2, 7, 7] and conv2d.op == "F.conv_transpose2d(stride=2, padding=1)"
    # the functional call's weight is the parameter "weight": its values come from the file
    expected = phase_gain(state["weight"].double().numpy(), (2, 2), (1, 1), (1, 1)).worst
    assert conv2d.phase_gain.worst == pytest.approx(expected)
    assert conv3d.phase_gain.phase_shape == (2, 2, 2) and conv3d.overlap == "none"
    # unbatched 1-d input (C, L): batch 1
    assert conv1d.input_shape == [2, 8] and conv1d.output_shape == [2, 16]
    assert conv1d.macs_scatter == scatter_macs(1, 2, 2, 1, (8,), (4,))
    from rich.console import Console

    from convt_cli.render.audit import render_audit

    console = Console(width=80, record=True, file=io.StringIO())
    console.print(render_audit(report))
    text = console.export_text()
    assert "Up/F.conv_transpose2d" in text and "ConvTranspose3d(2, 2, kernel_size=(2, 2, 2)" in text


def test_the_shipped_weights_are_what_make_weights_draws(monkeypatch):
    from safetensors.torch import load_file

    monkeypatch.syspath_prepend(str(EX))
    import make_weights

    for name, state in (("dcgan", make_weights.dcgan_state()), ("unet", make_weights.unet_state()),
                        ("subpixel", make_weights.subpixel_state())):
        shipped = load_file(str(EX / f"{name}.safetensors"))
        assert shipped.keys() == state.keys(), name
        assert all(torch.equal(shipped[k], state[k]) for k in state), name
    assert sum((EX / f"{n}.safetensors").stat().st_size for n in EXAMPLES) < 1_000_000


SUBPIXEL_CONV = '''
import torch.nn as nn


def build():
    return nn.Sequential(nn.Conv2d(3, 2 * 9, 3, padding=1, bias=False), nn.PixelShuffle(3))


def build_strided():
    return nn.Sequential(nn.Conv2d(3, 2 * 4, 3, stride=2, padding=1), nn.PixelShuffle(2))
'''


def test_conv_then_pixel_shuffle_gets_the_phase_gain_of_a_direct_run(tmp_path):
    path = tmp_path / "subpixel_conv.py"
    path.write_text(SUBPIXEL_CONV)
    report = audit(make_config(f"{path}:build", "1x3x8x8", init_weights=True, device="cpu", seed=4))
    shuffle = report.layers[0]
    assert shuffle.kind == "PixelShuffle" and shuffle.phase_gain.phase_shape == (3, 3)
    # direct: the same layer on an all-ones input, interior cells, whole periods
    from convt_cli.audit.model import build_model, parse_model

    torch.manual_seed(4)
    module = build_model(torch, parse_model(f"{path}:build"), "cpu").double()
    with torch.no_grad():
        y = module(torch.ones(1, 3, 12, 12, dtype=torch.float64))[0, :, 6:30, 6:30]
        module[0].weight.abs_()
        full = module(torch.ones(1, 3, 12, 12, dtype=torch.float64))[0, :, 6:30, 6:30]
    direct = (y.std(dim=(1, 2), unbiased=False) / full.pow(2).mean(dim=(1, 2)).sqrt()).numpy()
    np.testing.assert_allclose(shuffle.phase_gain.per_channel, direct, rtol=1e-9)
    assert shuffle.flagged
    # ICNR in the example: index 0; a strided conv is not a sub-pixel layer: no index
    sub = {la.name: la for la in run_example("subpixel").layers}["shuffle.1"]
    assert sub.phase_gain.worst < 1e-6 and not sub.flagged
    strided = audit(make_config(f"{path}:build_strided", "1x3x8x8", init_weights=True))
    assert strided.layers[0].phase_gain is None
