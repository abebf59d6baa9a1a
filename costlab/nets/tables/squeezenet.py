"""SqueezeNet 1.0 (Iandola et al. 2016, Table 1) and 1.1 (the authors' SqueezeNet v1.1), torchvision 0.29's layouts.

No stem: the first conv (biased, no BatchNorm, unpadded) is a stage like the rest. A fire module squeezes with a
biased 1x1 conv + ReLU, then expands through a biased 1x1 and a biased 3x3 conv (each + ReLU) side by side,
concatenated. Pools are 3x3 stride 2 with ceil_mode. The classifier is a biased 1x1 conv to the classes + ReLU,
then a global average pool (torchvision's torch.flatten after it is functional; its dropout computes nothing).

--alpha multiplies the first conv's channels and every fire width, make_divisible(c * alpha, 8)
(SQUEEZENET_RULES); the classifier conv keeps one output per class.
"""

from __future__ import annotations

from dataclasses import replace

from ...core.graph import Node, branches, seq
from ..blocks import conv_bn_act
from ..model import Arch, Classifier, Head, Stage
from ..stages import STAGE_KINDS, StageContext, StageError, StageKind, register, repeated
from .rules import SQUEEZENET_RULES


def fire(name: str, cin: int, squeeze: int, expand1x1: int, expand3x3: int, act: str) -> Node:
    """squeeze 1x1 + act, then concat(expand 1x1 + act, expand 3x3 + act), every conv with a bias: expand1x1 +
    expand3x3 channels out; (cin + 1)*s + (s + 1)*e1 + (9s + 1)*e3 params."""
    return seq(
        name,
        conv_bn_act("squeeze", cin, squeeze, 1, act=act, bn=False, bias=True),
        branches("expand", (conv_bn_act("expand1x1", squeeze, expand1x1, 1, act=act, bn=False, bias=True),
                            conv_bn_act("expand3x3", squeeze, expand3x3, 3, act=act, bn=False, bias=True)), "concat"),
    )


def _fire_widths(ctx: StageContext) -> tuple[int, int, int]:
    """The stage's (squeeze, expand1x1, expand3x3) at this width, each by the family's width rule."""
    if len(ctx.stage.widths) != 3:
        raise StageError(f"a fire stage takes widths = [squeeze, expand1x1, expand3x3], got {list(ctx.stage.widths)}",
                         "widths")
    widths = tuple(ctx.rules.channels(w, ctx.width) for w in ctx.stage.widths)
    if min(widths) < 1:
        raise StageError(f"width {ctx.width:g} leaves the fire widths {list(ctx.stage.widths)} at {list(widths)}",
                         "widths")
    return widths  # type: ignore[return-value]


def _fire_stage(ctx: StageContext) -> tuple[Node, int]:
    squeeze, expand1x1, expand3x3 = _fire_widths(ctx)

    def block(name: str, c: StageContext, cin: int, stride: int) -> Node:
        return fire(name, cin, squeeze, expand1x1, expand3x3, c.act)

    return repeated(block)(replace(ctx, cout=expand1x1 + expand3x3))


def _classifier_conv(ctx: StageContext) -> tuple[Node, int]:
    """A 'conv' stage whose channels are the classes, so at the table's channels whatever the width."""
    return STAGE_KINDS["conv"].build(replace(ctx, cout=ctx.stage.channels))


register("fire", StageKind(("widths", "repeats", "act"), _fire_stage, has_channels=False))
register("classifier_conv", StageKind(STAGE_KINDS["conv"].keys, _classifier_conv, deepens=False))

POOL = Stage("maxpool", kernel=3, stride=2, ceil=True)
# the final conv's 1000 outputs are the classes; global average pooling follows in the classifier
CLASSES = Stage("classifier_conv", 1000, 1, 1, 1, padding=0, bias=True, bn=False)

#        block  c / widths (squeeze, expand1x1, expand3x3)   n  s  k
SQUEEZENET1_0 = (
    Stage("conv", 96, 1, 2, 7, padding=0, bias=True, bn=False),                   # conv1
    POOL,                                                                         # maxpool1
    Stage("fire", widths=(16, 64, 64), repeats=2),                                # fire2, fire3
    Stage("fire", widths=(32, 128, 128)),                                         # fire4
    POOL,                                                                         # maxpool4
    Stage("fire", widths=(32, 128, 128)),                                         # fire5
    Stage("fire", widths=(48, 192, 192), repeats=2),                              # fire6, fire7
    Stage("fire", widths=(64, 256, 256)),                                         # fire8
    POOL,                                                                         # maxpool8
    Stage("fire", widths=(64, 256, 256)),                                         # fire9
    CLASSES,                                                                      # conv10
)
# 1.1: a 3x3 first conv to 64 and the pools moved earlier: 349M MACs instead of 819M at the same accuracy
SQUEEZENET1_1 = (
    Stage("conv", 64, 1, 2, 3, padding=0, bias=True, bn=False),
    POOL,
    Stage("fire", widths=(16, 64, 64), repeats=2),
    POOL,
    Stage("fire", widths=(32, 128, 128), repeats=2),
    POOL,
    Stage("fire", widths=(48, 192, 192), repeats=2),
    Stage("fire", widths=(64, 256, 256), repeats=2),
    CLASSES,
)

ARCHS = tuple(
    Arch(name, "squeezenet", 224, None, stages, Head(), Classifier(pool="adaptive", fc=False), SQUEEZENET_RULES)
    for name, stages in (("squeezenet1_0", SQUEEZENET1_0), ("squeezenet1_1", SQUEEZENET1_1))
)
