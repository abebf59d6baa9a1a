"""ShuffleNetV2 (Ma et al. 2018, Table 5), torchvision 0.29's layout: the "shuffle" block kind and the four widths.

Network: stem conv 3x3/2 (24) + BN + ReLU + max pool 3/2/1; three stages of shuffle units (4, 8, 4), each
stage's first unit at stride 2; conv5 1x1 + BN + ReLU; global pool x.mean([2, 3]); fc.

A unit (torchvision's InvertedResidual) with c output channels, each branch giving c/2:
  stride 2: concat(branch1(x), branch2(x)) on the whole input;
  stride 1: x.chunk(2) into halves (x1, x2), views; concat(x1, branch2(x2));
  then channel_shuffle(x, 2) (a function torchvision calls, not a module).
  branch1 = depthwise 3x3/s + BN, 1x1 + BN + ReLU
  branch2 = 1x1 + BN + ReLU, depthwise 3x3/s + BN, 1x1 + BN + ReLU
so a stride-1 unit has 2 * (c/2)^2 + 9 * c/2 weights (+ 6 * c/2 BatchNorm params).

Widths: the paper's 0.5x, 1x, 1.5x and 2x are four channel tables (torchvision's stages_out_channels), not one
table times a multiplier (0.5x has 48 where half of 1x's 116 is 58), so each is its own variant. --alpha
multiplies the named variant's stem and stage channels and rounds each with make_divisible(c * alpha, 2), keeping
them even as the halves need; conv5 stays at the variant's 1024 (2048), as in the paper's table. It does not land on
another named variant: `shufflenet_v2_x1_0 --alpha 0.5` has 58, 116, 232 channels, shufflenet_v2_x0_5 48, 96, 192.
"""

from __future__ import annotations

from ...core.graph import Identity, Layer, Node, Seq, branches, seq, split
from ...core.ops import ChannelShuffle
from ..blocks import conv_bn_act
from ..model import Arch, Classifier, Head, Stage, Stem
from ..stages import COMMON, StageContext, StageError, StageKind, register, repeated
from .rules import SHUFFLENET_V2_RULES


def shuffle_unit(name: str, cin: int, cout: int, stride: int, kernel: int = 3, act: str = "relu") -> Seq:
    """ShuffleNetV2's unit, cout = 2h channels (h = cout / 2 per branch):
    stride 1 (cin == cout): y = shuffle(concat(x[:h], branch2(x[h:]))), branch2 = 1x1 h->h, kxk depthwise, 1x1 h->h;
    stride s > 1: y = shuffle(concat(branch1(x), branch2(x))), branch1 = kxk/s depthwise on cin, 1x1 cin->h;
    branch2 = 1x1 cin->h, kxk/s depthwise, 1x1 h->h. Weights: k^2 * cin + cin * h + cin * h + k^2 * h + h^2."""
    half = cout // 2
    branch2 = seq(
        "branch2",
        conv_bn_act("pw1", cin if stride > 1 else half, half, 1, act=act),
        conv_bn_act("dw", half, half, kernel, stride, groups=half, act=None),
        conv_bn_act("pw2", half, half, 1, act=act),
    )
    if stride > 1:
        branch1 = seq(
            "branch1",
            conv_bn_act("dw", cin, cin, kernel, stride, groups=cin, act=None),
            conv_bn_act("pw", cin, half, 1, act=act),
        )
        mix = branches("branches", (branch1, branch2))
    else:
        mix = split("branches", (half, half), (Identity("keep"), branch2))
    return Seq(name, (mix, Layer("shuffle", ChannelShuffle(2))))


def _unit(name: str, ctx: StageContext, cin: int, stride: int) -> Node:
    if ctx.cout % 2:
        raise StageError(f"a shuffle unit splits its {ctx.cout} output channels in halves: they must be even",
                         "channels")
    if stride == 1 and cin != ctx.cout:
        raise StageError(f"a stride-1 shuffle unit keeps half its input, so it needs as many input channels as "
                         f"output channels ({cin} in, {ctx.cout} out)", "stride")
    return shuffle_unit(name, cin, ctx.cout, stride, ctx.stage.kernel, ctx.act)


register("shuffle", StageKind(COMMON, repeated(_unit)))

# torchvision's stages_out_channels: stem, stage2, stage3, stage4, conv5 (Ma et al. 2018, Table 5)
SHUFFLENET_V2_CHANNELS = {
    "shufflenet_v2_x0_5": (24, 48, 96, 192, 1024),
    "shufflenet_v2_x1_0": (24, 116, 232, 464, 1024),
    "shufflenet_v2_x1_5": (24, 176, 352, 704, 1024),
    "shufflenet_v2_x2_0": (24, 244, 488, 976, 2048),
}
SHUFFLENET_V2_REPEATS = (4, 8, 4)


def _shufflenet_v2(name: str) -> Arch:
    stem, *stages, conv5 = SHUFFLENET_V2_CHANNELS[name]
    #             block      c  n  s
    rows = tuple(Stage("shuffle", c, n, 2) for c, n in zip(stages, SHUFFLENET_V2_REPEATS))
    return Arch(name, "shufflenet_v2", 224, Stem(stem, maxpool=True), rows, Head(conv5, scale="fixed"),
                Classifier(pool="mean"), SHUFFLENET_V2_RULES)


ARCHS = tuple(_shufflenet_v2(name) for name in SHUFFLENET_V2_CHANNELS)
