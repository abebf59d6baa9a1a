"""MnasNet-B1 (Tan et al. 2019), EfficientNet B0-B7 (Tan & Le 2019) and EfficientNetV2 S/M/L (Tan & Le 2021),
torchvision 0.29's layouts: one stage row per paper row."""

from __future__ import annotations

from ..model import Arch, Classifier, Head, Stage, Stem
from .rules import EFFICIENTNET_RULES, MNASNET_RULES

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


ARCHS = (
    _mnasnet("mnasnet0_5", 0.5),
    _mnasnet("mnasnet0_75", 0.75),
    _mnasnet("mnasnet1_0", 1.0),
    _mnasnet("mnasnet1_3", 1.3),
    *(_efficientnet(name) for name in EFFICIENTNET_SCALING),
    _efficientnet_v2("efficientnet_v2_s", 24, EFFICIENTNET_V2_S, 384),
    _efficientnet_v2("efficientnet_v2_m", 24, EFFICIENTNET_V2_M, 480),
    _efficientnet_v2("efficientnet_v2_l", 32, EFFICIENTNET_V2_L, 480),
)
