"""The SAM 3 neck library: config checks, the plan, the built module, the trace, --verify, memory, Ctrl-C.

Expected sizes come from docs/semantics.md §4 (outputs 256²/128²/64²/32² for 1×1280×64×64 and
288²/144²/72²/36² for 1×1024×72×72, 256 channels); parameter counts from the module's own
``sum(p.numel())``; FLOPs from ``torch.utils.flop_counter.FlopCounterMode`` run over the whole module.
CPU runs use small shapes; the presets run on the meta device.
"""

from __future__ import annotations

import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

from convt_cli import neck as neck_mod
from convt_cli.errors import ConvtError
from convt_cli.neck import build_neck, make_config, plan_neck, trace_neck

SIDES = {"1x1280x64x64": [256, 128, 64, 32], "1x1024x72x72": [288, 144, 72, 36]}
SMALL = "2x12x6x10"  # batch 2, non-square, dim 12 (dim//4 = 3)


def branch_outputs(trace):
    return [b.out_shape for b in trace.branches]


# ---------------------------------------------------------------- branch outputs (docs/semantics.md §4)


@pytest.mark.parametrize("shape", list(SIDES))
def test_branch_outputs_on_meta(shape):
    trace = trace_neck(make_config(shape=shape, device="meta", dual=False))
    assert branch_outputs(trace) == [[1, 256, s, s] for s in SIDES[shape]]
    assert trace.shapes_ok and trace.device == "meta" and trace.timer == "none"
    assert all(layer.time_ms is None for layer in trace.layers)


@pytest.mark.parametrize("shape", list(SIDES))
def test_plan_predicts_the_same_outputs_without_torch(shape):
    plan = plan_neck(make_config(shape=shape))
    assert len(plan.branches) == 4  # the image model's single neck, SAM 3's default
    assert [list(b.layers[-1].out_shape) for b in plan.branches] == [[1, 256, s, s] for s in SIDES[shape]]


def test_default_is_the_sam3_image_model_with_a_note():
    cfg = make_config()
    assert cfg.shape == (1, 1024, 72, 72) and cfg.source == "default" and cfg.preset == "sam3"
    assert cfg.heads == ("convs",) and cfg.scalp == 1
    trace = trace_neck(make_config(device="meta", scales="1"))
    assert "default" in trace.notes
    assert "default" not in trace_neck(make_config(preset="sam3", device="meta", scales="1")).notes


def test_module_names_and_structure_follow_upstream():
    module = build_neck(16, d_model=8, scales=(4.0, 2.0, 1.0, 0.5), device="meta")
    names = [[name for name, _ in branch.named_children()] for branch in module.convs]
    assert names == [
        ["dconv_2x2_0", "gelu", "dconv_2x2_1", "conv_1x1", "conv_3x3"],
        ["dconv_2x2", "conv_1x1", "conv_3x3"],
        ["conv_1x1", "conv_3x3"],
        ["maxpool_2x2", "conv_1x1", "conv_3x3"],
    ]
    assert module.sam2_convs is None
    first = module.convs[0]
    assert isinstance(first.dconv_2x2_0, torch.nn.ConvTranspose2d)
    assert (first.dconv_2x2_0.in_channels, first.dconv_2x2_0.out_channels) == (16, 8)
    assert first.dconv_2x2_0.kernel_size == (2, 2) and first.dconv_2x2_0.stride == (2, 2)
    assert (first.dconv_2x2_1.in_channels, first.dconv_2x2_1.out_channels) == (8, 4)
    assert first.conv_3x3.padding == (1, 1) and first.conv_1x1.bias is not None
    # upstream's floor division: dim 13 → 6 and 3
    odd = build_neck(13, d_model=8, scales=(4.0,), device="meta").convs[0]
    assert (odd.dconv_2x2_0.out_channels, odd.dconv_2x2_1.out_channels) == (6, 3)


# ---------------------------------------------------------------- parameters


@pytest.mark.parametrize("dim,d_model,dual", [(1280, 256, False), (1024, 256, True), (13, 5, False)])
def test_param_counts_equal_the_modules_numel(dim, d_model, dual):
    cfg = make_config(shape=f"1x{dim}x8x8", d_model=d_model, dual=dual)
    plan = plan_neck(cfg)
    module = build_neck(dim, d_model, cfg.scales, dual, device="meta")
    groups = [("convs", module.convs)] + ([("sam2_convs", module.sam2_convs)] if dual else [])
    counted = {
        f"{g}.{i}.{name}": sum(p.numel() for p in layer.parameters())
        for g, branches in groups for i, branch in enumerate(branches) for name, layer in branch.named_children()
    }
    assert {layer.path: layer.params for layer in plan.layers} == counted
    assert sum(layer.params for layer in plan.layers) == sum(p.numel() for p in module.parameters())


def test_param_count_of_the_first_transposed_conv_matches_facts():
    # ConvTranspose2d(c_in, c_out, 2, 2) has c_in·c_out·4 + c_out parameters.
    plan = plan_neck(make_config(shape="1x1280x64x64"))
    assert plan.layers[0].path == "convs.0.dconv_2x2_0"
    assert plan.layers[0].params == 1280 * 640 * 4 + 640


def test_trace_records_the_built_modules_param_counts():
    trace = trace_neck(make_config(shape=SMALL, d_model=7, device="cpu"))
    assert all(layer.params == layer.params_predicted for layer in trace.layers)


# ---------------------------------------------------------------- FLOPs


def test_flops_of_the_first_transposed_conv_match_facts():
    # 2·c_in·c_out·4·H·W per image.
    plan = plan_neck(make_config(shape="1x1280x64x64"))
    assert plan.layers[0].flops == 2 * 1280 * 640 * 4 * 64 * 64


@pytest.mark.parametrize("shape,scales,dual", [(SMALL, "4,2,1,0.5", False), ("1x8x5x7", "4,0.5", True),
                                               ("3x6x4x4", "2,2,1", False)])
def test_flops_equal_flop_counter_mode_over_the_whole_module(shape, scales, dual):
    cfg = make_config(shape=shape, scales=scales, dual=dual, d_model=6)
    plan = plan_neck(cfg)
    module = build_neck(cfg.dim, cfg.d_model, cfg.scales, dual, device="cpu")
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        module(torch.randn(cfg.shape))
    assert sum(layer.flops for layer in plan.layers) == counter.get_total_flops()
    assert counter.get_total_flops() > 0


def test_trace_cross_checks_every_layer_against_flop_counter_mode():
    trace = trace_neck(make_config(shape=SMALL, device="cpu", dual=True, d_model=4))
    assert all(layer.flops_counted is not None for layer in trace.layers)
    assert trace.flops_ok and trace.flops_counted == trace.flops
    gelu = next(layer for layer in trace.layers if layer.name == "gelu")
    assert gelu.flops == gelu.flops_counted == 0


# ---------------------------------------------------------------- meta vs CPU, dual


@pytest.mark.parametrize("shape", [SMALL, "1x9x7x7", "1x4x2x3"])
def test_meta_and_cpu_agree_on_every_shape(shape):
    kw = dict(shape=shape, d_model=5, dual=True)
    meta = trace_neck(make_config(device="meta", **kw))
    cpu = trace_neck(make_config(device="cpu", **kw))
    assert [(layer.path, layer.out_shape) for layer in meta.layers] == [
        (layer.path, layer.out_shape) for layer in cpu.layers
    ]
    assert meta.shapes_ok and cpu.shapes_ok
    assert [layer.out_bytes for layer in meta.layers] == [layer.out_bytes for layer in cpu.layers]
    assert all(layer.time_ms is not None and layer.time_ms >= 0 for layer in cpu.layers)


def test_dual_doubles_the_branches_in_upstreams_order():
    single = trace_neck(make_config(shape=SMALL, device="meta"))
    dual = trace_neck(make_config(shape=SMALL, device="meta", dual=True))
    assert len(dual.branches) == 2 * len(single.branches) == 8
    assert [b.name for b in dual.branches] == [
        "convs.0", "sam2_convs.0", "convs.1", "sam2_convs.1", "convs.2", "sam2_convs.2", "convs.3", "sam2_convs.3",
    ]
    assert dual.params == 2 * single.params and dual.flops == 2 * single.flops
    assert [b.out_shape for b in dual.branches[::2]] == [b.out_shape for b in dual.branches[1::2]]


def test_the_sam2_twin_has_its_own_weights():
    torch.manual_seed(0)
    module = build_neck(8, 4, (2.0,), dual=True)
    a, b = module.convs[0].dconv_2x2.weight, module.sam2_convs[0].dconv_2x2.weight
    assert a.shape == b.shape and a.data_ptr() != b.data_ptr() and not torch.equal(a, b)


def test_seed_makes_runs_repeatable_and_changes_weights():
    def first_weight(seed):
        torch.manual_seed(seed)
        return build_neck(8, 4, (2.0,)).convs[0].dconv_2x2.weight.detach().clone()

    assert torch.equal(first_weight(3), first_weight(3))
    assert not torch.equal(first_weight(3), first_weight(4))


# ---------------------------------------------------------------- --verify


@pytest.mark.parametrize("dtype", ["float32", "float16", "bfloat16"])
def test_verify_passes_on_a_small_shape(dtype):
    trace = trace_neck(make_config(shape=SMALL, device="cpu", dtype=dtype, verify=True), verify=True)
    checked = [layer for layer in trace.layers if layer.verify is not None]
    assert [layer.name for layer in checked] == ["dconv_2x2_0", "dconv_2x2_1", "dconv_2x2"]
    assert trace.verify_ok is True
    for layer in checked:
        v = layer.verify
        assert v.ok and v.worst_ratio <= 1 and v.tolerance == dtype
        assert (v.rtol, v.atol) == neck_mod.TOLERANCES[dtype]
        assert v.max_abs_ref > 0


def test_verify_catches_a_wrong_result(monkeypatch):
    import convt_cli.engine as engine

    real = engine.conv_transpose

    def off_by_a_bit(x, w, b=None, **kw):
        out = real(x, w, b, **kw)
        out[..., 0, 0] += 1e-3  # one column of cells, far beyond float32's tolerance
        return out

    monkeypatch.setattr(engine, "conv_transpose", off_by_a_bit)
    trace = trace_neck(make_config(shape=SMALL, device="cpu", scales="2"), verify=True)
    v = trace.layers[0].verify
    assert trace.verify_ok is False and not v.ok and v.max_abs_diff == pytest.approx(1e-3, rel=1e-2)


def test_verify_layer_uses_the_layers_own_output():
    torch.manual_seed(1)
    layer = torch.nn.ConvTranspose2d(6, 4, 2, 2)
    x = torch.randn(1, 6, 3, 5)
    with torch.no_grad():
        y = layer(x)
        good = neck_mod.verify_layer(torch, layer, x, y, "cpu", "float32")
        bad = neck_mod.verify_layer(torch, layer, x, y * 1.01, "cpu", "float32")
    assert good.ok and not bad.ok


# ---------------------------------------------------------------- progress, Ctrl-C, memory


def test_progress_is_reported_for_every_layer():
    seen = []
    trace = trace_neck(make_config(shape=SMALL, device="cpu"), progress=lambda d, n, p: seen.append((d, n, p)))
    total = len(trace.layers)
    assert [d for d, _, _ in seen] == list(range(total + 1))
    assert [p for _, _, p in seen[:-1]] == [layer.path for layer in trace.layers] and seen[-1][2] == ""


def test_ctrl_c_keeps_what_completed():
    def stop_at_third(done, total, path):
        if done == 3:
            raise KeyboardInterrupt

    trace = trace_neck(make_config(shape=SMALL, device="cpu"), progress=stop_at_third)
    assert trace.interrupted and trace.completed_layers == 3 and len(trace.layers) == 3
    assert trace.branches[0].complete is False and trace.branches[0].out_shape is None
    assert trace.to_dict()["interrupted"] is True


def test_memory_guard_refuses_before_running(monkeypatch):
    monkeypatch.setenv("CONVT_MAX_BYTES", "100K")
    with pytest.raises(ConvtError, match="--device meta") as err:
        trace_neck(make_config(shape="1x64x32x32", device="cpu"))
    assert "budget" in str(err.value)
    # meta needs no memory, so the same shape passes there
    assert trace_neck(make_config(shape="1x64x32x32", device="meta")).shapes_ok


def test_memory_estimate_counts_weights_input_and_the_largest_step():
    plan = plan_neck(make_config(shape="1x16x8x8", d_model=4, scales="2"))
    m = plan.memory
    assert m.weights_bytes == sum(layer.params for layer in plan.layers) * 4
    assert m.input_bytes == 16 * 8 * 8 * 4
    # dconv_2x2: in 16×8×8, out 8×16×16 (+ an output-sized workspace)
    assert m.largest_step_bytes == (16 * 64 + 2 * 8 * 256) * 4
    assert m.device_bytes >= m.weights_bytes + m.input_bytes + m.largest_step_bytes
    assert plan_neck(make_config(shape="1x16x8x8", d_model=4, scales="2"), verify=True).memory.verify_bytes > 0


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    "kwargs,needle",
    [
        (dict(shape="1x1280x64"), "4-d"),
        (dict(shape="1x2x3x4x5"), "4-d"),
        (dict(shape="1x0x4x4"), "at least 1"),
        (dict(shape="0x8x4x4"), "at least 1"),
        (dict(shape="1x-8x4x4"), "at least 1"),
        (dict(shape="1x8x2.5x4"), "not a whole number"),
        (dict(shape="1xax4x4"), "not a whole number"),
        (dict(shape=""), "sizes separated"),
        (dict(shape="1x3x4x4"), "scale 4 needs at least 4 input channels"),
        (dict(shape="1x1x4x4", scales="2,1"), "scale 2 needs at least 2 input channels"),
        (dict(shape="1x8x1x4", scales="0.5"), "at least 2"),
        (dict(scales="3"), "scale 3 is not supported"),
        (dict(scales="4,8"), "scale 8 is not supported"),
        (dict(scales="4,,2"), "separated by commas"),
        (dict(scales="four"), "not a number"),
        (dict(preset="sam2"), "--preset 'sam2' is not known"),
        (dict(preset="explainer"), "--shape 1x1280x64x64"),
        (dict(preset="sam3.1", dual=True), "--preset sam3.1 builds 3 fixed head(s)"),
        (dict(preset="vitdet-h", scales="4,1"), "log2-contiguous"),
        (dict(preset="sam3-mask-decoder", scales="2"), "one fixed ×4 branch"),
        (dict(preset="sam3-mask-decoder", shape="1x4x8x8"), "at least 8 input channels"),
        (dict(scalp=4), "--scalp 4 must be from 0 to 3"),
        (dict(scalp=-1), "--scalp -1"),
        (dict(weights="model.onnx"), "--weights 'model.onnx'"),
        (dict(weights="no-such-file.pt"), "no such file"),
        (dict(device="tpu"), "--device 'tpu'"),
        (dict(dtype="float64"), "--dtype 'float64'"),
        (dict(d_model=0), "--d-model 0 must be at least 1"),
        (dict(d_model=-3), "at least 1"),
        (dict(device="meta", verify=True), "--verify needs real values"),
        (dict(seed=-1), "--seed -1 must be a whole number from 0"),
        (dict(seed=2**64), "from 0 to 2**63 - 1"),
    ],
)
def test_bad_input_is_one_clear_error(kwargs, needle):
    with pytest.raises(ConvtError) as err:
        make_config(**kwargs)
    assert needle in str(err.value)
    assert "\n" not in str(err.value)


def test_scales_accept_float_spellings_and_repeats():
    assert make_config(scales="4.0, 2, 1.00,0.5").scales == (4.0, 2.0, 1.0, 0.5)
    assert make_config(scales="(2,2)").scales == (2.0, 2.0)


@pytest.mark.skipif(torch.cuda.is_available(), reason="a GPU is present")
def test_cuda_without_a_gpu_is_a_clear_error():
    with pytest.raises(ConvtError, match="--device cuda: .*use --device cpu"):
        trace_neck(make_config(shape=SMALL, device="cuda"))


def test_auto_picks_cpu_without_a_gpu():
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert neck_mod.resolve_device(torch, "auto") == expected


def test_the_library_modules_do_not_import_torch():
    import subprocess
    import sys

    code = ("import sys; import convt_cli.neck, convt_cli.render.neck, convt_cli.commands.neck; "
            "print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "False", out.stderr


# ---------------------------------------------------------------- no stand-ins in torch's module table


def test_the_trace_leaves_torchs_module_table_alone():
    import sys
    from pathlib import Path

    import convt_cli

    trace = trace_neck(make_config(shape=SMALL, device="meta"))
    assert trace.flops_ok
    module = sys.modules.get("torch._dynamo")
    assert module is None or getattr(module, "__file__", None), "a stand-in torch._dynamo is in sys.modules"
    package = Path(convt_cli.__file__).parent
    for path in [*package.joinpath("neck").glob("*.py"), *package.joinpath("audit").glob("*.py")]:
        assert "_dynamo" not in path.read_text(encoding="utf-8"), path


# ---------------------------------------------------------------- the sam3 presets: single, dual, dropped level


def test_sam3_video_preset_is_the_dual_neck_with_the_last_level_dropped():
    trace = trace_neck(make_config(preset="sam3-video", device="meta"))
    assert trace.config.dual and trace.config.scalp == 1
    assert [b.name for b in trace.branches][-2:] == ["convs.3", "sam2_convs.3"]
    assert [b.dropped for b in trace.branches] == [False] * 6 + [True] * 2
    # the dropped 36² level: conv_1x1 (1024→256) + conv_3x3 (256→256) at 36², per neck
    per_neck = 1024 * 256 * 36 * 36 + 256 * 256 * 9 * 36 * 36
    assert trace.dropped_flops == 2 * 2 * per_neck
    data = trace.to_dict()
    assert data["totals"]["dropped_flops"] == trace.dropped_flops and data["config"]["scalp"] == 1


def test_sam3_preset_is_the_image_models_single_neck_and_dual_on_request():
    single = trace_neck(make_config(preset="sam3", device="meta"))
    assert not single.config.dual and len(single.branches) == 4 and single.branches[-1].dropped
    dual = make_config(preset="sam3", dual=True)
    assert dual.heads == ("convs", "sam2_convs") and dual.builder_heads == "sam3-video"
    assert make_config(preset="sam3-video", dual=False).heads == ("convs",)


def test_scalp_drops_the_half_level_only_unless_asked():
    shaped = trace_neck(make_config(shape=SMALL, device="meta"))  # SAM 3's structure on another input
    assert shaped.config.scalp == 1 and [b.dropped for b in shaped.branches] == [False] * 3 + [True]
    assert make_config(scales="4,2,1").scalp == 0  # no 0.5 level: nothing of SAM 3's dropped
    assert make_config(scales="0.5").scalp == 0  # one level stays
    assert make_config(scales="4,2,1", scalp=1).scalp == 1  # --scalp applies literally
    assert make_config(preset="sam3.1").scalp == 0 and make_config(preset="sam3.1", scales="4,2,1,0.5").scalp == 0


def test_neck_records_its_transposed_convolutions_as_the_audit_does():
    from convt_cli.audit.costs import scatter_macs

    trace = trace_neck(make_config(shape=SMALL, device="cpu", dual=True))
    audit = trace.audit
    convs = [la for la in trace.layers if la.kind == "ConvTranspose2d"]
    assert [r.name for r in audit.layers] == [la.path for la in convs]
    for record, layer in zip(audit.layers, convs):
        assert record.input_shape == layer.in_shape and record.output_shape == layer.out_shape
        assert 2 * record.macs_scatter == layer.flops == layer.flops_counted
        assert record.macs_useful == record.macs_scatter  # k=2, s=2, p=0: nothing cropped
        assert record.overlap == "none" and record.phase_gain is None  # random weights: no phase gain
        assert record.time_ms == layer.time_ms is not None
    n, c, h, w = (2, 12, 6, 10)
    assert audit.layers[0].macs_scatter == scatter_macs(n, c, c // 2, 1, (h, w), (2, 2))
    assert trace.to_dict()["audit"]["schema"] == "convt.audit/2"


def test_shapes_beyond_torchs_indexing_are_refused_even_on_meta():
    with pytest.raises(ConvtError, match="2\\*\\*62"):
        plan_neck(make_config(shape="1x4x1099511627776x1099511627776", device="meta"))
    with pytest.raises(ConvtError, match="dconv_2x2_1 output .* more than 2\\*\\*62"):  # the input fits (2**60)
        plan_neck(make_config(shape="1x4x536870912x536870912", device="meta", d_model=1))


def test_same_seed_same_numbers_and_the_global_rng_is_untouched():
    def first_output(seed):
        trace = trace_neck(make_config(shape=SMALL, device="cpu", scales="2", seed=seed), verify=True)
        return trace.layers[0].verify.max_abs_ref

    state = torch.random.get_rng_state()
    assert first_output(7) == first_output(7) != first_output(8)
    assert torch.equal(torch.random.get_rng_state(), state)


# ---------------------------------------------------------------- the CUDA-side decisions, with a stand-in torch


def fake_torch(available=True, built="12.4", bf16=True, free=8 * 2**30):
    from types import SimpleNamespace

    cuda = SimpleNamespace(
        is_available=lambda: available, is_bf16_supported=lambda: bf16, get_device_name=lambda *a: "Fake GPU",
        mem_get_info=lambda: (free, 16 * 2**30),
    )
    return SimpleNamespace(cuda=cuda, version=SimpleNamespace(cuda=built), __version__="9.9")


def test_device_resolution_with_and_without_a_gpu():
    assert neck_mod.resolve_device(fake_torch(), "auto") == "cuda"
    assert neck_mod.resolve_device(fake_torch(available=False), "auto") == "cpu"
    assert neck_mod.resolve_device(fake_torch(available=False), "meta") == "meta"
    with pytest.raises(ConvtError, match="no CUDA GPU is visible"):
        neck_mod.resolve_device(fake_torch(available=False), "cuda")
    with pytest.raises(ConvtError, match="no CUDA support"):
        neck_mod.resolve_device(fake_torch(available=False, built=None), "cuda")
    with pytest.raises(ConvtError, match="does not support bfloat16"):
        neck_mod.resolve_device(fake_torch(bf16=False), "auto", "bfloat16")


def test_gpu_memory_guard_uses_the_free_memory():
    plan = plan_neck(make_config(shape="1x1280x64x64"))
    assert neck_mod.check_memory(plan, "cuda", fake_torch(free=8 * 2**30)) == int(8 * 2**30 * 0.9)
    with pytest.raises(ConvtError, match="GPU memory.*--device meta"):
        neck_mod.check_memory(plan, "cuda", fake_torch(free=100 * 2**20))
    assert neck_mod.check_memory(plan, "meta") is None
