"""The presets against upstream: parameter counts and FLOPs, state-dict keys, position encodings, --weights.

The figures are upstream's (facebookresearch/sam3 ``sam3/model/necks.py`` built by ``sam3/model_builder.py``;
detectron2 ``detectron2/modeling/backbone/vit.py``), counted here on the module convt builds — parameters
with ``sum(p.numel())``, FLOPs with ``torch.utils.flop_counter.FlopCounterMode`` over the whole forward
on the meta device — never copied from convt's own plan. The expected key lists are written out by hand
from upstream's ``__init__`` code.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode
from typer.testing import CliRunner

from convt_cli.cli import app
from convt_cli.errors import ConvtError
from convt_cli.neck import build_for, make_config, plan_neck, trace_neck

runner = CliRunner()


def counted(preset: str, **kw):
    cfg = make_config(preset=preset, **kw)
    module = build_for(cfg, "meta")
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        module(torch.empty(cfg.shape, device="meta"))
    return cfg, module, sum(p.numel() for p in module.parameters()), counter.get_total_flops()


# ---------------------------------------------------------------- upstream's figures


@pytest.mark.parametrize("preset,params,gflops,digits", [
    ("sam3", 7_802_112, 214.88, 2),  # build_sam3_image_model: single neck
    ("sam3-video", 15_604_224, 429.77, 2),  # build_sam3_video_model: dual neck
    ("sam3.1", 20_848_896, 638.0, 1),  # Sam3TriViTDetNeck(neck_norm=None, scale_factors=(4, 2, 1)): 3 × 6,949,632
])
def test_parameters_and_flops_equal_upstreams_figures(preset, params, gflops, digits):
    cfg, _module, n, flops = counted(preset)
    assert cfg.shape == (1, 1024, 72, 72)
    assert n == params
    assert round(flops / 1e9, digits) == gflops
    plan = plan_neck(cfg)  # and the analytic plan agrees with the built module
    assert sum(la.params for la in plan.layers) == n and sum(la.flops for la in plan.layers) == flops


def test_the_dual_and_triple_necks_are_copies_of_the_single_one():
    _, _, single, single_flops = counted("sam3")
    _, _, dual, dual_flops = counted("sam3-video")
    _, _, tri, tri_flops = counted("sam3.1")
    _, _, one_tri, one_tri_flops = counted("sam3", scales="4,2,1")
    assert dual == 2 * single and dual_flops == 2 * single_flops
    assert one_tri == 6_949_632 and tri == 3 * one_tri and tri_flops == 3 * one_tri_flops


def test_vitdet_h_has_detectron2s_layernorms_and_bias_free_convs():
    cfg, module, n, flops = counted("vitdet-h")
    assert cfg.shape == (1, 1280, 64, 64)
    by_hand = (
        (1280 * 640 * 4 + 640) + 2 * 640 + (640 * 320 * 4 + 320) + (320 * 256 + 2 * 256) + (256 * 256 * 9 + 2 * 256)
        + (1280 * 640 * 4 + 640) + (640 * 256 + 2 * 256) + (256 * 256 * 9 + 2 * 256)
        + 2 * ((1280 * 256 + 2 * 256) + (256 * 256 * 9 + 2 * 256))
    )
    assert n == by_hand
    # the same structure as SAM 3's on this input, minus the conv biases, plus the norms
    _, _, sam3_n, sam3_flops = counted("sam3", shape="1x1280x64x64")
    assert n == sam3_n - 8 * 256 + 2 * 640 + 8 * 2 * 256 and flops == sam3_flops  # LayerNorm: 0 FLOPs
    first = module.simfp_2
    assert isinstance(first[0], torch.nn.ConvTranspose2d) and first[0].bias is not None
    assert type(first[1]).__name__ == "LayerNorm2d" and isinstance(first[2], torch.nn.GELU)
    assert first[4].bias is None and type(first[4].norm).__name__ == "LayerNorm2d"


def test_mask_decoder_upscaling():
    cfg, module, n, flops = counted("sam3-mask-decoder")
    assert n == (256 * 64 * 4 + 64) + 2 * 64 + (64 * 32 * 4 + 32)
    assert flops == 2 * 256 * 64 * 4 * 72 * 72 + 2 * 64 * 32 * 4 * 144 * 144
    out = module(torch.empty(cfg.shape, device="meta"))
    assert [tuple(o.shape) for o in out] == [(1, 32, 288, 288)]


# ---------------------------------------------------------------- state-dict keys, as upstream names them


def sam3_head(head: str, scales=(4.0, 2.0, 1.0, 0.5)) -> list[str]:
    """Written from Sam3DualViTDetNeck.__init__ / Sam3TriViTDetNeck.__init__ (neck_norm=None: every bias)."""
    names = {4.0: ["dconv_2x2_0", "dconv_2x2_1", "conv_1x1", "conv_3x3"], 2.0: ["dconv_2x2", "conv_1x1", "conv_3x3"],
             1.0: ["conv_1x1", "conv_3x3"], 0.5: ["conv_1x1", "conv_3x3"]}
    return [f"{head}.{i}.{m}.{p}" for i, s in enumerate(scales) for m in names[s] for p in ("weight", "bias")]


VITDET_KEYS = [
    # SimpleFeaturePyramid(norm="LN"): stage simfp_<log2 stride>, a plain nn.Sequential (numbered), detectron2's
    # Conv2d(bias=False, norm=LayerNorm) keeps its norm as the child "norm"
    "simfp_2.0.weight", "simfp_2.0.bias", "simfp_2.1.weight", "simfp_2.1.bias", "simfp_2.3.weight", "simfp_2.3.bias",
    "simfp_2.4.weight", "simfp_2.4.norm.weight", "simfp_2.4.norm.bias",
    "simfp_2.5.weight", "simfp_2.5.norm.weight", "simfp_2.5.norm.bias",
    "simfp_3.0.weight", "simfp_3.0.bias", "simfp_3.1.weight", "simfp_3.1.norm.weight", "simfp_3.1.norm.bias",
    "simfp_3.2.weight", "simfp_3.2.norm.weight", "simfp_3.2.norm.bias",
    "simfp_4.0.weight", "simfp_4.0.norm.weight", "simfp_4.0.norm.bias",
    "simfp_4.1.weight", "simfp_4.1.norm.weight", "simfp_4.1.norm.bias",
    "simfp_5.1.weight", "simfp_5.1.norm.weight", "simfp_5.1.norm.bias",
    "simfp_5.2.weight", "simfp_5.2.norm.weight", "simfp_5.2.norm.bias",
]


@pytest.mark.parametrize("preset,keys", [
    ("sam3", sam3_head("convs")),
    ("sam3-video", sam3_head("convs") + sam3_head("sam2_convs")),
    ("sam3.1", sam3_head("convs", (4.0, 2.0, 1.0)) + sam3_head("interactive_convs", (4.0, 2.0, 1.0))
     + sam3_head("propagation_convs", (4.0, 2.0, 1.0))),
    ("vitdet-h", VITDET_KEYS),
    ("sam3-mask-decoder", [f"output_upscaling.{i}.{p}" for i in (0, 1, 3) for p in ("weight", "bias")]),
])
def test_state_dict_keys_are_upstreams(preset, keys):
    _, module, _, _ = counted(preset)
    assert list(module.state_dict()) == keys
    if preset == "sam3-video":
        assert len(keys) == 44
    if preset == "sam3":
        assert module.sam2_convs is None  # Sam3DualViTDetNeck(add_sam2_neck=False)


# ---------------------------------------------------------------- position encodings


def test_position_encodings_miss_upstreams_precomputed_cache_at_1008_px():
    plan = plan_neck(make_config(preset="sam3-video"))
    pos = {b.name: b.position for b in plan.branches}
    assert pos["convs.0"].shape == (1, 256, 288, 288) and pos["convs.0"].bytes == 256 * 288 * 288 * 4
    assert [pos[f"convs.{i}"].cache for i in range(4)] == ["miss"] * 4  # 288, 144, 72, 36 ≠ 252, 126, 63, 31
    assert pos["sam2_convs.0"].cache == "cached" and pos["sam2_convs.0"].cached_by == "convs.0"
    assert pos["convs.3"].shape == (1, 256, 36, 36)  # the dropped level gets one too
    precomputed = 256 * 4 * (252**2 + 126**2 + 63**2 + 31**2)
    missed = 256 * 4 * (288**2 + 144**2 + 72**2 + 36**2)
    assert plan.memory.position_cache_bytes == precomputed + missed
    assert plan.memory.position_bytes == 2 * missed


def test_position_encodings_hit_the_precomputed_sizes_and_cost_a_cast_in_half_precision():
    plan = plan_neck(make_config(preset="sam3", shape="1x1024x63x63", dtype="bfloat16"))
    assert [b.position.cache for b in plan.branches] == ["precomputed"] * 4  # 252, 126, 63, 31
    first = plan.branches[0].position
    assert first.cast_bytes == first.bytes // 2 and first.cache_bytes == 0
    assert all(b.position is None for b in plan_neck(make_config(preset="vitdet-h")).branches)


# ---------------------------------------------------------------- --weights with upstream's key names


def sam3_checkpoint(module, prefix="detector.backbone.vision_backbone.", extra_heads=("sam2_convs",)):
    """A checkpoint shaped like sam3.pt: the video model's keys (neck, its SAM 2 twin, trunk, tracker)."""
    gen = torch.Generator().manual_seed(5)
    state = {prefix + k: torch.randn(v.shape, generator=gen) for k, v in module.state_dict().items()}
    for head in extra_heads:
        state.update({prefix + k.replace("convs.", f"{head}.", 1): torch.randn(v.shape, generator=gen)
                      for k, v in module.state_dict().items()})
    # a box-factored first deconvolution: every tap equal → no checkerboard (phase-gain index 0)
    w = state[prefix + "convs.0.dconv_2x2_0.weight"]
    state[prefix + "convs.0.dconv_2x2_0.weight"] = w[..., :1, :1].expand_as(w).contiguous()
    state[prefix + "trunk.patch_embed.proj.weight"] = torch.zeros(4, 3, 2, 2)
    state["tracker.sam_mask_decoder.output_upscaling.0.weight"] = torch.zeros(8, 2, 2, 2)
    return state


def test_weights_map_upstream_keys_and_report_the_trained_phase_gain(tmp_path):
    cfg = make_config(preset="sam3", shape="1x16x6x6", d_model=8, device="cpu")
    state = sam3_checkpoint(build_for(cfg, "cpu"))
    path = tmp_path / "sam3.pt"
    torch.save({"model": state}, path)  # upstream unwraps "model"
    trace = trace_neck(make_config(preset="sam3", shape="1x16x6x6", d_model=8, device="cpu", weights=str(path)))
    w = trace.weights
    assert w.prefix == "detector.backbone.vision_backbone." and w.format == "pt"
    assert len(w.loaded) == 22 and w.missing == []
    assert len(w.unexpected) == 22 and all(".sam2_convs." in k for k in w.unexpected)  # the image model ignores them
    assert w.other_keys == 2
    pg = {r.name: r.phase_gain for r in trace.audit.layers}
    assert pg["convs.0.dconv_2x2_0"].worst == pytest.approx(0.0, abs=1e-12)
    assert pg["convs.0.dconv_2x2_1"].worst > 0.01  # random trained-looking weights: flagged
    assert trace.audit.weights.real and trace.audit.weights.unexpected == w.unexpected
    # the module ran with the checkpoint's weights
    data = trace.to_dict()
    assert data["weights"]["loaded"] == 22 and data["input"]["preset"] == "sam3"
    doc = (Path(__file__).resolve().parent.parent / "docs" / "neck-json.md").read_text(encoding="utf-8")
    assert all(f"`{key}`" in doc for key in data["weights"])
    assert data["audit"]["layers"][0]["phase_gain_index"] == pytest.approx(0.0, abs=1e-12)


def test_weights_from_safetensors_with_missing_keys(tmp_path):
    from safetensors.torch import save_file

    cfg = make_config(preset="sam3.1", shape="1x16x6x6", d_model=8, device="meta")
    module = build_for(cfg, "cpu")
    state = {"detector.backbone.vision_backbone." + k: v.clone() for k, v in module.state_dict().items()
             if not k.startswith("propagation_convs.2.")}
    path = tmp_path / "sam3.1.safetensors"
    save_file(state, str(path))
    trace = trace_neck(make_config(preset="sam3.1", shape="1x16x6x6", d_model=8, device="meta",
                                   weights=str(path)))
    assert trace.weights.format == "safetensors"
    assert trace.weights.missing == [f"propagation_convs.2.{m}.{p}" for m in ("conv_1x1", "conv_3x3")
                                     for p in ("weight", "bias")]
    assert all(r.phase_gain is not None for r in trace.audit.layers)  # every deconvolution was in the file


def test_weights_errors(tmp_path, monkeypatch):
    cfg = make_config(preset="sam3", shape="1x16x6x6", d_model=8, device="meta")
    module = build_for(cfg, "cpu")
    wrong = {"backbone.vision_backbone." + k: torch.zeros(3) for k in module.state_dict()}
    torch.save(wrong, tmp_path / "wrong.pt")
    with pytest.raises(ConvtError, match="convs.0.dconv_2x2_0.weight has shape \\(3,\\), the neck expects"):
        trace_neck(make_config(preset="sam3", shape="1x16x6x6", d_model=8, device="meta",
                               weights=str(tmp_path / "wrong.pt")))
    torch.save({"something.else": torch.zeros(2)}, tmp_path / "other.pt")
    with pytest.raises(ConvtError, match="none of the neck's 22 tensors"):
        trace_neck(make_config(preset="sam3", shape="1x16x6x6", d_model=8, device="meta",
                               weights=str(tmp_path / "other.pt")))
    torch.save(sam3_checkpoint(module), tmp_path / "big.pt")
    monkeypatch.setenv("CONVT_MAX_BYTES", "1K")
    with pytest.raises(ConvtError, match="memory budget"):
        trace_neck(make_config(preset="sam3", shape="1x16x6x6", d_model=8, device="meta",
                               weights=str(tmp_path / "big.pt")))


def test_weights_never_unpickle_code(tmp_path):
    import pickle

    class Boom:
        def __reduce__(self):
            return (print, ("unpickled!",))

    path = tmp_path / "evil.pt"
    path.write_bytes(pickle.dumps({"convs.0.conv_1x1.weight": Boom()}))
    with pytest.raises(ConvtError, match="weights_only"):
        trace_neck(make_config(preset="sam3", shape="1x16x6x6", d_model=8, device="meta", weights=str(path)))


# ---------------------------------------------------------------- the CLI


def test_cli_names_the_preset_builder_and_the_1280_geometry():
    r = runner.invoke(app, ["neck", "--shape", "1x1280x64x64", "--device", "meta"], env={"COLUMNS": "200"})
    assert r.exit_code == 0, r.stderr
    out = " ".join(r.stdout.split())
    assert "(--preset sam3)" in out and "build_sam3_image_model(enable_inst_interactivity=False)" in out
    assert "SAM 3 itself feeds 1×1024×72²" in out and "ViTDet-H geometry" in out
    assert "--preset vitdet-h" in out and "SAM 1" not in out
    data = json.loads(runner.invoke(app, ["neck", "--preset", "sam3.1", "--device", "meta", "--json"]).stdout)
    assert data["input"]["preset"] == "sam3.1" and data["config"]["scalp"] == 0
    assert data["config"]["heads"] == ["convs", "interactive_convs", "propagation_convs"]
    assert "Sam3TriViTDetNeck" in data["config"]["builder"] and data["totals"]["params"] == 20_848_896


@pytest.mark.parametrize("preset,line", [
    ("sam3", "sam3: single neck (convs) · 4 levels, 3 kept (scalp=1) · 7,802,112 params · 214.88 GFLOPs at 1×1024×72²"),
    ("sam3-video", "sam3-video: dual neck (convs, sam2_convs) · 4 levels, 3 kept (scalp=1) · 15,604,224 params · "
                   "429.77 GFLOPs at 1×1024×72²"),
    ("sam3.1", "sam3.1: triple neck (convs, interactive_convs, propagation_convs) · 3 levels, 3 kept (scalp=0) · "
               "20,848,896 params · 638.03 GFLOPs at 1×1024×72²"),
])
def test_one_line_summaries(preset, line):
    r = runner.invoke(app, ["neck", "--preset", preset, "--device", "meta"], env={"COLUMNS": "250"})
    assert r.exit_code == 0 and line in " ".join(r.stdout.split())


def test_cli_weights_report_and_errors(tmp_path):
    cfg = make_config(preset="sam3-mask-decoder", shape="1x16x4x4", device="meta")
    module = build_for(cfg, "cpu")
    state = {"tracker.sam_mask_decoder." + k: v for k, v in module.state_dict().items()}
    path = tmp_path / "tracker.pt"
    torch.save(state, path)
    r = runner.invoke(app, ["neck", "--preset", "sam3-mask-decoder", "--shape", "1x16x4x4", "--device", "cpu",
                            "--weights", str(path)], env={"COLUMNS": "200", "NO_COLOR": "1"})
    assert r.exit_code == 0, r.stderr
    out = " ".join(r.stdout.split())
    assert "prefix 'tracker.sam_mask_decoder.' · 6 of 6 neck tensors loaded" in out
    assert "output_upscaling.0: no overlap, no gaps" in out and "phase-gain index" in out
    bad = runner.invoke(app, ["neck", "--weights", str(tmp_path / "x.bin")])
    assert bad.exit_code == 1 and bad.stderr.count("\n") == 1 and ".bin is not read" in bad.stderr


def test_a_full_size_checkpoint_with_upstreams_names_and_shapes(tmp_path):
    """sam3.pt's layout at SAM 3's own sizes (float16 safetensors, as converted checkpoints ship), on meta."""
    from safetensors.torch import save_file

    shapes = {"convs.0.dconv_2x2_0.weight": (1024, 512, 2, 2), "convs.0.dconv_2x2_0.bias": (512,),
              "convs.0.dconv_2x2_1.weight": (512, 256, 2, 2), "convs.0.dconv_2x2_1.bias": (256,),
              "convs.1.dconv_2x2.weight": (1024, 512, 2, 2), "convs.1.dconv_2x2.bias": (512,),
              "convs.2.conv_1x1.weight": (256, 1024, 1, 1), "convs.2.conv_3x3.weight": (256, 256, 3, 3)}
    gen = torch.Generator().manual_seed(0)
    prefix = "detector.backbone.vision_backbone."
    state = {prefix + k: torch.randn(s, generator=gen).half() for k, s in shapes.items()}
    state[prefix + "sam2_convs.0.dconv_2x2_0.weight"] = torch.zeros(1024, 512, 2, 2, dtype=torch.float16)
    path = tmp_path / "sam3.safetensors"
    save_file(state, str(path))
    trace = trace_neck(make_config(preset="sam3", device="meta", weights=str(path)))
    w = trace.weights
    assert sorted(w.loaded) == sorted(shapes) and len(w.missing) == 22 - len(shapes)
    assert w.unexpected == [prefix + "sam2_convs.0.dconv_2x2_0.weight"]
    assert [r.name for r in trace.audit.layers if r.phase_gain is not None] == [
        "convs.0.dconv_2x2_0", "convs.0.dconv_2x2_1", "convs.1.dconv_2x2"]
    assert all(r.phase_gain.worst > 0.01 for r in trace.audit.layers)  # random kernels ripple
