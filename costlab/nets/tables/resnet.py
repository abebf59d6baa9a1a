"""ResNet, ResNeXt and Wide ResNet (He et al. 2016 Table 1, Xie et al. 2017 Table 1, Zagoruyko & Komodakis 2016),
torchvision 0.29's layouts: one stage row per conv2_x .. conv5_x row of the paper's table.

--alpha multiplies every stage's output channels and the stem's, make_divisible(c * alpha, 8) (RESNET_RULES); a
bottleneck's inner width is make_divisible(int(c * t) * alpha, 8).
"""

from __future__ import annotations

from dataclasses import replace

from ..blocks import basic_block
from ..model import Arch, Classifier, Head, Stage, Stem
from ..stages import COMMON, StageContext, StageKind, register, repeated
from .rules import RESNET_RULES


def _basic(name: str, ctx: StageContext, cin: int, stride: int):
    return basic_block(name, cin, ctx.cout, stride, ctx.act, ctx.stage.kernel)


register("basic", StageKind(COMMON, repeated(_basic)))


def resnext(stages: tuple[Stage, ...], groups: int, width_per_group: int) -> tuple[Stage, ...]:
    """Bottleneck stages with torchvision's grouped inner width: planes * width_per_group/64 * groups, where planes
    = channels/4, so expand t = groups * width_per_group / 256 (ResNeXt-50 32x4d: 0.5; Wide ResNet-50-2, one group
    of 128: 0.5)."""
    return tuple(replace(s, expand=groups * width_per_group / 256, groups=groups) for s in stages)


# ---- ResNet-18 / 34 (He et al. 2016 Table 1): basic blocks, two 3x3 convs to c ---------------------
#        block     c    n  s  k
RESNET18 = (
    Stage("basic", 64, 2, 1, 3),
    Stage("basic", 128, 2, 2, 3),
    Stage("basic", 256, 2, 2, 3),
    Stage("basic", 512, 2, 2, 3),
)
RESNET34 = (
    Stage("basic", 64, 3, 1, 3),
    Stage("basic", 128, 4, 2, 3),
    Stage("basic", 256, 6, 2, 3),
    Stage("basic", 512, 3, 2, 3),
)

# ---- ResNet-50 / 101 / 152 (He et al. 2016 Table 1), their ResNeXt and wide variants ---------------
# bottleneck: 1x1 to channels * expand, 3x3 (stride, groups), 1x1 to channels
#        block          c     n  s  k  t
RESNET50 = (
    Stage("bottleneck", 256, 3, 1, 3, 0.25),
    Stage("bottleneck", 512, 4, 2, 3, 0.25),
    Stage("bottleneck", 1024, 6, 2, 3, 0.25),
    Stage("bottleneck", 2048, 3, 2, 3, 0.25),
)
RESNET101 = (
    Stage("bottleneck", 256, 3, 1, 3, 0.25),
    Stage("bottleneck", 512, 4, 2, 3, 0.25),
    Stage("bottleneck", 1024, 23, 2, 3, 0.25),
    Stage("bottleneck", 2048, 3, 2, 3, 0.25),
)
RESNET152 = (
    Stage("bottleneck", 256, 3, 1, 3, 0.25),
    Stage("bottleneck", 512, 8, 2, 3, 0.25),
    Stage("bottleneck", 1024, 36, 2, 3, 0.25),
    Stage("bottleneck", 2048, 3, 2, 3, 0.25),
)

#                      stages     groups  width per group
VARIANTS = {
    "resnet18": (RESNET18, None, None),
    "resnet34": (RESNET34, None, None),
    "resnet50": (RESNET50, None, None),
    "resnet101": (RESNET101, None, None),
    "resnet152": (RESNET152, None, None),
    "resnext50_32x4d": (RESNET50, 32, 4),
    "resnext101_32x8d": (RESNET101, 32, 8),
    "resnext101_64x4d": (RESNET101, 64, 4),
    "wide_resnet50_2": (RESNET50, 1, 128),
    "wide_resnet101_2": (RESNET101, 1, 128),
}


def _resnet(name: str) -> Arch:
    stages, groups, width_per_group = VARIANTS[name]
    if groups is not None:
        stages = resnext(stages, groups, width_per_group)
    return Arch(name, "resnet", 224, Stem(64, kernel=7, maxpool=True), stages, Head(), Classifier(), RESNET_RULES)


ARCHS = tuple(_resnet(name) for name in VARIANTS)
