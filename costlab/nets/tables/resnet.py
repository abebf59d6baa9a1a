"""ResNet and ResNeXt (He et al. 2016 Table 1, Xie et al. 2017 Table 1), torchvision 0.29's layouts."""

from __future__ import annotations

from ..model import Arch, Classifier, Head, Stage, Stem
from .rules import RESNET_RULES

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


ARCHS = (
    Arch("resnet50", "resnet", 224, Stem(64, kernel=7, maxpool=True), RESNET50, Head(), Classifier(), RESNET_RULES),
    Arch("resnext50_32x4d", "resnet", 224, Stem(64, kernel=7, maxpool=True), RESNEXT50_32X4D, Head(), Classifier(),
         RESNET_RULES),
)
