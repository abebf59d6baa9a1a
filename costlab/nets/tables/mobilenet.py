"""MobileNetV1, V2 and V3 (Howard et al. 2017, Sandler et al. 2018, Howard et al. 2019), torchvision 0.29's layouts.

Each stage row reads like the paper: block type, output channels c, repeats n, stride s (first block
only), kernel k, expansion t, squeeze-excitation, activation. Channels are the alpha = 1 values; the
family's Rules scale them.
"""

from __future__ import annotations

from ..model import Arch, Classifier, Head, Stage, Stem
from .rules import MOBILENET_V1_RULES, MOBILENET_V2_RULES, MOBILENET_V3_RULES

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

ARCHS = (
    Arch("mobilenet_v1", "mobilenet_v1", 224, Stem(32), MOBILENET_V1, Head(), Classifier(), MOBILENET_V1_RULES),
    Arch("mobilenet_v1_full", "mobilenet_v1", 224, Stem(32), MOBILENET_V1_FULL, Head(), Classifier(),
         MOBILENET_V1_RULES),
    Arch("mobilenet_v2", "mobilenet_v2", 224, Stem(32), MOBILENET_V2, Head(1280, scale="width_at_least_1"),
         Classifier(pool="functional"), MOBILENET_V2_RULES),
    Arch("mobilenet_v3_large", "mobilenet_v3", 224, Stem(16, act="hardswish"), MOBILENET_V3_LARGE,
         Head(per_input=6, act="hardswish"), Classifier(hidden=(1280,), hidden_act="hardswish"), MOBILENET_V3_RULES),
    Arch("mobilenet_v3_small", "mobilenet_v3", 224, Stem(16, act="hardswish"), MOBILENET_V3_SMALL,
         Head(per_input=6, act="hardswish"), Classifier(hidden=(1024,), hidden_act="hardswish"), MOBILENET_V3_RULES),
)
