"""MixNet-S and MixNet-M (Tan & Le 2019, "MixConv", Figures 8 and 9), timm 1.0.31's layouts (mixnet_s, mixnet_m).

One stage row per block string of timm's arch_def, in its order. A kernel list is a mixed depthwise conv (timm's
k3.5.7: the channels split equally, the remainder to the first group, one kernel per group); expand_groups /
project_groups = 2 are timm's a1.1 / p1.1, a 1x1 conv split into two channel groups; se is the squeeze ratio of the
block's input (timm's se0.5). The 1536-wide head conv is fixed: --alpha leaves it as it is, as timm's
round_chs_fn does (`mixnet_m --alpha 1.3` is timm's mixnet_l).
"""

from __future__ import annotations

from ..model import Arch, Head, Stage, Stem
from .rules import MIXNET_RULES

SW = "silu"  # timm's nsw: swish

# ---- MixNet-S (timm's _gen_mixnet_s) ---------------------------------------------------------------
#        block      c   n  s  k                  t  SE      act  grouped 1x1 expand / project
MIXNET_S = (
    Stage("mbconv", 16, 1, 1, 3, 1),
    Stage("mbconv", 24, 1, 2, 3, 6, expand_groups=2, project_groups=2),
    Stage("mbconv", 24, 1, 1, 3, 3, expand_groups=2, project_groups=2),
    Stage("mbconv", 40, 1, 2, (3, 5, 7), 6, se=0.5, act=SW),
    Stage("mbconv", 40, 3, 1, (3, 5), 6, se=0.5, act=SW, expand_groups=2, project_groups=2),
    Stage("mbconv", 80, 1, 2, (3, 5, 7), 6, se=0.25, act=SW, project_groups=2),
    Stage("mbconv", 80, 2, 1, (3, 5), 6, se=0.25, act=SW, project_groups=2),
    Stage("mbconv", 120, 1, 1, (3, 5, 7), 6, se=0.5, act=SW, expand_groups=2, project_groups=2),
    Stage("mbconv", 120, 2, 1, (3, 5, 7, 9), 3, se=0.5, act=SW, expand_groups=2, project_groups=2),
    Stage("mbconv", 200, 1, 2, (3, 5, 7, 9, 11), 6, se=0.5, act=SW),
    Stage("mbconv", 200, 2, 1, (3, 5, 7, 9), 6, se=0.5, act=SW, project_groups=2),
)

# ---- MixNet-M (timm's _gen_mixnet_m) ---------------------------------------------------------------
#        block      c   n  s  k                  t  SE      act  grouped 1x1 expand / project
MIXNET_M = (
    Stage("mbconv", 24, 1, 1, 3, 1),
    Stage("mbconv", 32, 1, 2, (3, 5, 7), 6, expand_groups=2, project_groups=2),
    Stage("mbconv", 32, 1, 1, 3, 3, expand_groups=2, project_groups=2),
    Stage("mbconv", 40, 1, 2, (3, 5, 7, 9), 6, se=0.5, act=SW),
    Stage("mbconv", 40, 3, 1, (3, 5), 6, se=0.5, act=SW, expand_groups=2, project_groups=2),
    Stage("mbconv", 80, 1, 2, (3, 5, 7), 6, se=0.25, act=SW),
    Stage("mbconv", 80, 3, 1, (3, 5, 7, 9), 6, se=0.25, act=SW, expand_groups=2, project_groups=2),
    Stage("mbconv", 120, 1, 1, 3, 6, se=0.5, act=SW),
    Stage("mbconv", 120, 3, 1, (3, 5, 7, 9), 3, se=0.5, act=SW, expand_groups=2, project_groups=2),
    Stage("mbconv", 200, 1, 2, (3, 5, 7, 9), 6, se=0.5, act=SW),
    Stage("mbconv", 200, 3, 1, (3, 5, 7, 9), 6, se=0.5, act=SW, project_groups=2),
)

ARCHS = (
    Arch("mixnet_s", "mixnet", 224, Stem(16), MIXNET_S, Head(1536, scale="fixed"), rules=MIXNET_RULES),
    Arch("mixnet_m", "mixnet", 224, Stem(24), MIXNET_M, Head(1536, scale="fixed"), rules=MIXNET_RULES),
)
