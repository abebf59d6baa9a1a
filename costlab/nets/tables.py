"""The built-in architectures, declared once as the papers' tables (torchvision 0.29's layouts).

Each stage row reads like the paper: block type, output channels c, repeats n, stride s (first
block only), kernel k, expansion t, squeeze-excitation, activation. Channels are the alpha = 1
values; the family's Rules scale them.
"""

from __future__ import annotations

from .model import Arch, Classifier, Head, Stage, Stem
from .scaling import Rules

# ---- rules, one per family ---------------------------------------------------------------------
MOBILENET_V1_RULES = Rules(width="floor", act="relu")
MOBILENET_V2_RULES = Rules(width="divisible8", expand="round", act="relu6")
MOBILENET_V3_RULES = Rules(width="divisible8", act="relu", se="expanded/4,divisible8", se_act="relu",
                           se_gate="hardsigmoid")
MNASNET_RULES = Rules(width="divisible8", expand="multiply", act="relu")
EFFICIENTNET_RULES = Rules(width="divisible8", expand="divisible8", act="silu", se="input/4", se_act="silu",
                           se_gate="sigmoid")
RESNET_RULES = Rules(width="divisible8", act="relu")

RULE_PRESETS = {
    "mobilenet_v1": MOBILENET_V1_RULES,
    "mobilenet_v2": MOBILENET_V2_RULES,
    "mobilenet_v3": MOBILENET_V3_RULES,
    "mnasnet": MNASNET_RULES,
    "efficientnet": EFFICIENTNET_RULES,
    "resnet": RESNET_RULES,
}

# ---- MobileNetV1 (Howard et al. 2017, Table 1; the last depthwise is stride 1 in practice) -----
#        block    c     n  s
MOBILENET_V1 = (
    Stage("dwsep", 64, 1, 1),
    Stage("dwsep", 128, 1, 2),
    Stage("dwsep", 128, 1, 1),
    Stage("dwsep", 256, 1, 2),
    Stage("dwsep", 256, 1, 1),
    Stage("dwsep", 512, 1, 2),
    Stage("dwsep", 512, 5, 1),
    Stage("dwsep", 1024, 1, 2),
    Stage("dwsep", 1024, 1, 1),
)
# Table 4's "Conv MobileNet": every depthwise-separable pair replaced by one full 3x3 conv
MOBILENET_V1_FULL = tuple(Stage("conv", s.channels, s.repeats, s.stride) for s in MOBILENET_V1)

# ---- MobileNetV2 (Sandler et al. 2018, Table 2) ------------------------------------------------
#        block      c   n  s  k  t
MOBILENET_V2 = (
    Stage("mbconv", 16, 1, 1, 3, 1),
    Stage("mbconv", 24, 2, 2, 3, 6),
    Stage("mbconv", 32, 3, 2, 3, 6),
    Stage("mbconv", 64, 4, 2, 3, 6),
    Stage("mbconv", 96, 3, 1, 3, 6),
    Stage("mbconv", 160, 3, 2, 3, 6),
    Stage("mbconv", 320, 1, 1, 3, 6),
)

# ---- MobileNetV3 (Howard et al. 2019, Tables 1 and 2; one bneck per row) -----------------------
#        block      c    n  s  k  exp size      SE        NL
MOBILENET_V3_LARGE = (
    Stage("mbconv", 16, 1, 1, 3, expanded=16, se=False, act="relu"),
    Stage("mbconv", 24, 1, 2, 3, expanded=64, se=False, act="relu"),
    Stage("mbconv", 24, 1, 1, 3, expanded=72, se=False, act="relu"),
    Stage("mbconv", 40, 1, 2, 5, expanded=72, se=True, act="relu"),
    Stage("mbconv", 40, 1, 1, 5, expanded=120, se=True, act="relu"),
    Stage("mbconv", 40, 1, 1, 5, expanded=120, se=True, act="relu"),
    Stage("mbconv", 80, 1, 2, 3, expanded=240, se=False, act="hardswish"),
    Stage("mbconv", 80, 1, 1, 3, expanded=200, se=False, act="hardswish"),
    Stage("mbconv", 80, 1, 1, 3, expanded=184, se=False, act="hardswish"),
    Stage("mbconv", 80, 1, 1, 3, expanded=184, se=False, act="hardswish"),
    Stage("mbconv", 112, 1, 1, 3, expanded=480, se=True, act="hardswish"),
    Stage("mbconv", 112, 1, 1, 3, expanded=672, se=True, act="hardswish"),
    Stage("mbconv", 160, 1, 2, 5, expanded=672, se=True, act="hardswish"),
    Stage("mbconv", 160, 1, 1, 5, expanded=960, se=True, act="hardswish"),
    Stage("mbconv", 160, 1, 1, 5, expanded=960, se=True, act="hardswish"),
)
#        block      c    n  s  k  exp size      SE        NL
MOBILENET_V3_SMALL = (
    Stage("mbconv", 16, 1, 2, 3, expanded=16, se=True, act="relu"),
    Stage("mbconv", 24, 1, 2, 3, expanded=72, se=False, act="relu"),
    Stage("mbconv", 24, 1, 1, 3, expanded=88, se=False, act="relu"),
    Stage("mbconv", 40, 1, 2, 5, expanded=96, se=True, act="hardswish"),
    Stage("mbconv", 40, 1, 1, 5, expanded=240, se=True, act="hardswish"),
    Stage("mbconv", 40, 1, 1, 5, expanded=240, se=True, act="hardswish"),
    Stage("mbconv", 48, 1, 1, 5, expanded=120, se=True, act="hardswish"),
    Stage("mbconv", 48, 1, 1, 5, expanded=144, se=True, act="hardswish"),
    Stage("mbconv", 96, 1, 2, 5, expanded=288, se=True, act="hardswish"),
    Stage("mbconv", 96, 1, 1, 5, expanded=576, se=True, act="hardswish"),
    Stage("mbconv", 96, 1, 1, 5, expanded=576, se=True, act="hardswish"),
)

# ---- MnasNet-B1 (Tan et al. 2019, Figure 7; torchvision's layout) --------------------------------
# the first row is the stem's SepConv (depthwise 3x3, then a linear 1x1 to 16)
#        block      c   n  s  k  t
MNASNET = (
    Stage("mbconv", 16, 1, 1, 3, 1),
    Stage("mbconv", 24, 3, 2, 3, 3),
    Stage("mbconv", 40, 3, 2, 5, 3),
    Stage("mbconv", 80, 3, 2, 5, 6),
    Stage("mbconv", 96, 2, 1, 3, 6),
    Stage("mbconv", 192, 4, 2, 5, 6),
    Stage("mbconv", 320, 1, 1, 3, 6),
)

# ---- EfficientNet-B0 (Tan & Le 2019, Table 1); B1-B7 scale it by (width, depth) -----------------
#        block      c    n  s  k  t  SE
EFFICIENTNET_B0 = (
    Stage("mbconv", 16, 1, 1, 3, 1, se=True),
    Stage("mbconv", 24, 2, 2, 3, 6, se=True),
    Stage("mbconv", 40, 2, 2, 5, 6, se=True),
    Stage("mbconv", 80, 3, 2, 3, 6, se=True),
    Stage("mbconv", 112, 3, 1, 5, 6, se=True),
    Stage("mbconv", 192, 4, 2, 5, 6, se=True),
    Stage("mbconv", 320, 1, 1, 3, 6, se=True),
)
# variant: (width, depth, paper resolution)
EFFICIENTNET_SCALING = {
    "efficientnet_b0": (1.0, 1.0, 224),
    "efficientnet_b1": (1.0, 1.1, 240),
    "efficientnet_b2": (1.1, 1.2, 260),
    "efficientnet_b3": (1.2, 1.4, 300),
    "efficientnet_b4": (1.4, 1.8, 380),
    "efficientnet_b5": (1.6, 2.2, 456),
    "efficientnet_b6": (1.8, 2.6, 528),
    "efficientnet_b7": (2.0, 3.1, 600),
}

# ---- EfficientNetV2 (Tan & Le 2021, Table 4 for S; torchvision's M and L) -------------------------
# fused_mbconv has no squeeze-excitation, mbconv always has one
#        block            c    n   s  k  t  SE
EFFICIENTNET_V2_S = (
    Stage("fused_mbconv", 24, 2, 1, 3, 1),
    Stage("fused_mbconv", 48, 4, 2, 3, 4),
    Stage("fused_mbconv", 64, 4, 2, 3, 4),
    Stage("mbconv", 128, 6, 2, 3, 4, se=True),
    Stage("mbconv", 160, 9, 1, 3, 6, se=True),
    Stage("mbconv", 256, 15, 2, 3, 6, se=True),
)
EFFICIENTNET_V2_M = (
    Stage("fused_mbconv", 24, 3, 1, 3, 1),
    Stage("fused_mbconv", 48, 5, 2, 3, 4),
    Stage("fused_mbconv", 80, 5, 2, 3, 4),
    Stage("mbconv", 160, 7, 2, 3, 4, se=True),
    Stage("mbconv", 176, 14, 1, 3, 6, se=True),
    Stage("mbconv", 304, 18, 2, 3, 6, se=True),
    Stage("mbconv", 512, 5, 1, 3, 6, se=True),
)
EFFICIENTNET_V2_L = (
    Stage("fused_mbconv", 32, 4, 1, 3, 1),
    Stage("fused_mbconv", 64, 7, 2, 3, 4),
    Stage("fused_mbconv", 96, 7, 2, 3, 4),
    Stage("mbconv", 192, 10, 2, 3, 4, se=True),
    Stage("mbconv", 224, 19, 1, 3, 6, se=True),
    Stage("mbconv", 384, 25, 2, 3, 6, se=True),
    Stage("mbconv", 640, 7, 1, 3, 6, se=True),
)

# ---- ResNet-50 / ResNeXt-50 32x4d (He et al. 2016 Table 1, Xie et al. 2017 Table 1) ----------------
# bottleneck: 1x1 to channels * expand, 3x3 (stride, groups), 1x1 to channels
#        block          c     n  s  k  t
RESNET50 = (
    Stage("bottleneck", 256, 3, 1, 3, 0.25),
    Stage("bottleneck", 512, 4, 2, 3, 0.25),
    Stage("bottleneck", 1024, 6, 2, 3, 0.25),
    Stage("bottleneck", 2048, 3, 2, 3, 0.25),
)
RESNEXT50_32X4D = tuple(
    Stage("bottleneck", s.channels, s.repeats, s.stride, 3, 0.5, groups=32) for s in RESNET50
)


def _mnasnet(name: str, alpha: float) -> Arch:
    return Arch(name, "mnasnet", 224, Stem(32), MNASNET, Head(1280, scale="fixed"), Classifier(pool="mean"),
                MNASNET_RULES, width_mult=alpha)


def _efficientnet(name: str) -> Arch:
    width, depth, resolution = EFFICIENTNET_SCALING[name]
    return Arch(name, "efficientnet", resolution, Stem(32), EFFICIENTNET_B0, Head(per_input=4), Classifier(),
                EFFICIENTNET_RULES, width_mult=width, depth_mult=depth)


def _efficientnet_v2(name: str, stem: int, stages: tuple, resolution: int) -> Arch:
    return Arch(name, "efficientnet_v2", resolution, Stem(stem), stages, Head(1280, scale="fixed"), Classifier(),
                EFFICIENTNET_RULES)


ARCHS: dict[str, Arch] = {a.name: a for a in (
    Arch("mobilenet_v1", "mobilenet_v1", 224, Stem(32), MOBILENET_V1, Head(), Classifier(), MOBILENET_V1_RULES),
    Arch("mobilenet_v1_full", "mobilenet_v1", 224, Stem(32), MOBILENET_V1_FULL, Head(), Classifier(),
         MOBILENET_V1_RULES),
    Arch("mobilenet_v2", "mobilenet_v2", 224, Stem(32), MOBILENET_V2, Head(1280, scale="width_at_least_1"),
         Classifier(pool="functional"), MOBILENET_V2_RULES),
    Arch("mobilenet_v3_large", "mobilenet_v3", 224, Stem(16, act="hardswish"), MOBILENET_V3_LARGE,
         Head(per_input=6, act="hardswish"), Classifier(hidden=(1280,), hidden_act="hardswish"), MOBILENET_V3_RULES),
    Arch("mobilenet_v3_small", "mobilenet_v3", 224, Stem(16, act="hardswish"), MOBILENET_V3_SMALL,
         Head(per_input=6, act="hardswish"), Classifier(hidden=(1024,), hidden_act="hardswish"), MOBILENET_V3_RULES),
    _mnasnet("mnasnet0_5", 0.5),
    _mnasnet("mnasnet0_75", 0.75),
    _mnasnet("mnasnet1_0", 1.0),
    _mnasnet("mnasnet1_3", 1.3),
    *(_efficientnet(name) for name in EFFICIENTNET_SCALING),
    _efficientnet_v2("efficientnet_v2_s", 24, EFFICIENTNET_V2_S, 384),
    _efficientnet_v2("efficientnet_v2_m", 24, EFFICIENTNET_V2_M, 480),
    _efficientnet_v2("efficientnet_v2_l", 32, EFFICIENTNET_V2_L, 480),
    Arch("resnet50", "resnet", 224, Stem(64, kernel=7, maxpool=True), RESNET50, Head(), Classifier(), RESNET_RULES),
    Arch("resnext50_32x4d", "resnet", 224, Stem(64, kernel=7, maxpool=True), RESNEXT50_32X4D, Head(), Classifier(),
         RESNET_RULES),
)}

# the built-ins torchvision also has (same layer order, same parameter count)
TORCHVISION_NAMES = tuple(name for name in ARCHS if not name.startswith("mobilenet_v1"))
