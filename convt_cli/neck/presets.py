"""What each preset models: the upstream builder, its file, the heads, scales, scalp and checkpoint names (pure).

Every fact here was read in the upstream code named by ``builder`` and ``files``:

* facebookresearch/sam3 ``sam3/model_builder.py``: ``build_sam3_image_model(enable_inst_interactivity=False)``
  passes ``add_sam2_neck=False`` to ``Sam3DualViTDetNeck`` (one set of branches, ``convs``);
  ``build_sam3_video_model`` and ``build_tracker(with_backbone=True)`` build it with
  ``add_sam2_neck=True`` (``convs`` + the deep copy ``sam2_convs``); both wrap it in
  ``SAM3VLBackbone(scalp=1)``, which drops the lowest-resolution level. SAM 3.1's
  ``build_sam3_multiplex_video_predictor`` builds ``Sam3TriViTDetNeck(scale_factors=[4.0, 2.0, 1.0])``
  (``neck_norm=None``: every conv keeps its bias) with three heads ``convs``, ``interactive_convs``,
  ``propagation_convs`` inside ``SAM3VLBackboneTri(scalp=0)`` (``sam3/model/vl_combiner.py``).
  The checkpoints' keys are the video models' state-dict keys: ``detector.backbone.vision_backbone.*``
  for the neck, ``tracker.*`` (SAM 3) or ``tracker.model.*`` (SAM 3.1) for the tracker; the image
  model's ``_load_checkpoint`` strips ``detector.``.
* The tracker's mask decoder (``sam3/sam/mask_decoder.py``, ``MaskDecoder.output_upscaling``):
  ConvTranspose2d(256→64, 2, 2) → LayerNorm2d(64) → GELU → ConvTranspose2d(64→32, 2, 2) → GELU on
  the 72² image embedding.
* detectron2 ``detectron2/modeling/backbone/vit.py`` ``SimpleFeaturePyramid`` with ``norm="LN"``
  (``configs/common/models/mask_rcnn_vitdet.py``; ViT-H: ``embed_dim=1280`` in
  ``projects/ViTDet/configs/COCO/mask_rcnn_vitdet_h_75ep.py``, 1024-px images, 16-px patches → 64²):
  a LayerNorm between the two deconvolutions, ``bias=False`` and a LayerNorm after each of the two
  convolutions, stages named ``simfp_2`` … ``simfp_5``.
"""

from __future__ import annotations

from dataclasses import dataclass

SAM3_FILES = "facebookresearch/sam3: sam3/model_builder.py, sam3/model/necks.py"
SAM3_PREFIXES = ("detector.backbone.vision_backbone.", "backbone.vision_backbone.", "")


@dataclass(frozen=True)
class Preset:
    name: str
    family: str  # "sam3" (Sam3*ViTDetNeck), "vitdet" (detectron2 SimpleFeaturePyramid), "mask_decoder"
    shape: tuple[int, int, int, int]
    heads: tuple[str, ...]  # the parallel copies of the branches, in upstream's registration order
    scales: tuple[float, ...]
    scalp: int  # lowest-resolution levels dropped downstream
    model: str  # what it is, in words
    builder: str  # the upstream call chain that builds it
    files: str  # the upstream repository and files read
    prefixes: tuple[str, ...]  # where a checkpoint keeps these tensors, most specific first
    position_encoding: bool  # a 256-channel sine map per level (SAM 3's PositionEmbeddingSine)


PRESETS: dict[str, Preset] = {
    "sam3": Preset(
        "sam3", "sam3", (1, 1024, 72, 72), ("convs",), (4.0, 2.0, 1.0, 0.5), 1,
        "SAM 3 image model, single neck",
        "build_sam3_image_model(enable_inst_interactivity=False) → Sam3DualViTDetNeck(add_sam2_neck=False) "
        "in SAM3VLBackbone(scalp=1)",
        SAM3_FILES, SAM3_PREFIXES, True,
    ),
    "sam3-video": Preset(
        "sam3-video", "sam3", (1, 1024, 72, 72), ("convs", "sam2_convs"), (4.0, 2.0, 1.0, 0.5), 1,
        "SAM 3 video model, dual neck",
        "build_sam3_video_model() (also build_tracker(with_backbone=True)) → "
        "Sam3DualViTDetNeck(add_sam2_neck=True) in SAM3VLBackbone(scalp=1)",
        SAM3_FILES, SAM3_PREFIXES, True,
    ),
    "sam3.1": Preset(
        "sam3.1", "sam3", (1, 1024, 72, 72), ("convs", "interactive_convs", "propagation_convs"), (4.0, 2.0, 1.0), 0,
        "SAM 3.1, triple neck",
        "build_sam3_multiplex_video_predictor() → Sam3TriViTDetNeck(neck_norm=None, scale_factors=[4.0, 2.0, 1.0]) "
        "in SAM3VLBackboneTri(scalp=0)",
        SAM3_FILES + ", sam3/model/vl_combiner.py", SAM3_PREFIXES, True,
    ),
    "vitdet-h": Preset(
        "vitdet-h", "vitdet", (1, 1280, 64, 64), ("simfp",), (4.0, 2.0, 1.0, 0.5), 0,
        "detectron2 ViTDet-H simple feature pyramid",
        'SimpleFeaturePyramid(out_channels=256, scale_factors=(4.0, 2.0, 1.0, 0.5), norm="LN") on '
        "ViT(embed_dim=1280, patch_size=16, img_size=1024)",
        "facebookresearch/detectron2: detectron2/modeling/backbone/vit.py, "
        "projects/ViTDet/configs/COCO/mask_rcnn_vitdet_h_75ep.py",
        ("backbone.", ""), False,
    ),
    "sam3-mask-decoder": Preset(
        "sam3-mask-decoder", "mask_decoder", (1, 256, 72, 72), ("output_upscaling",), (4.0,), 0,
        "SAM 3 tracker's mask decoder upscaling",
        "build_tracker() → Sam3TrackerPredictor → MaskDecoder(transformer_dim=256).output_upscaling",
        "facebookresearch/sam3: sam3/sam/mask_decoder.py, sam3/model/sam3_tracker_base.py, sam3/model_builder.py",
        ("tracker.sam_mask_decoder.", "tracker.model.sam_mask_decoder.", "sam_mask_decoder.", ""), False,
    ),
}
DEFAULT_PRESET = "sam3"

# SAM 3's PositionEmbeddingSine(num_pos_feats=256, precompute_resolution=1008): 256 channels, float32, and a
# cache filled at construction for the sizes 1008 // 4, 8, 16 and 32 (sam3/model/position_encoding.py).
POS_CHANNELS = 256
POS_PRECOMPUTED = tuple((1008 // s, 1008 // s) for s in (4, 8, 16, 32))  # 252, 126, 63, 31


def preset_names() -> str:
    return ", ".join(PRESETS)
