"""DenseNet-BC (Huang et al. 2017, Table 1), torchvision 0.29's densenet121/161/169/201.

A dense block of n layers with growth rate k: layer i sees c0 + i*k channels, runs BN-ReLU-conv1x1 to bn_size*k
and BN-ReLU-conv3x3 to k, and its k new maps are concatenated after everything before them, so the block ends
with c0 + n*k channels. A transition (BN-ReLU-conv1x1 to floor(theta * c), then a 2x2 average pool of stride 2)
follows every block but the last; DenseNet-BC compresses by theta = 0.5. torchvision's forward then calls F.relu
after norm5 and F.adaptive_avg_pool2d and torch.flatten before its one Linear, all functional.

--alpha multiplies the growth rate and the stem's channels, int(c * alpha) (DENSENET_RULES); the bottleneck stays
bn_size times the scaled growth rate and each transition compresses whatever reaches it.
"""

from __future__ import annotations

import math

from ...core.graph import Identity, Layer, Node, Seq, branches
from ...core.ops import Activation, AvgPool2d, BatchNorm2d
from ..blocks import conv
from ..model import Arch, Classifier, Head, Stage, Stem
from ..stages import StageContext, StageError, StageKind, block_count, register
from .rules import DENSENET_RULES


def pre_activation(name: str, cin: int, cout: int, kernel: int, act: str) -> Seq:
    """BN -> act -> kxk conv without bias, DenseNet's composite function H: 2*cin + k^2*cin*cout params."""
    return Seq(name, (Layer("norm", BatchNorm2d(cin)), Layer("relu", Activation(act)), conv("conv", cin, cout, kernel)))


def dense_layer(name: str, cin: int, growth: int, bottleneck: int, act: str) -> Node:
    """x -> concat(x, H3x3(H1x1(x))): cin + growth channels out; 2*cin + cin*b + 2*b + 9*b*growth params,
    b = bottleneck (bn_size x growth)."""
    new = Seq("new", (pre_activation("bottleneck", cin, bottleneck, 1, act),
                      pre_activation("conv", bottleneck, growth, 3, act)))
    return branches(name, (Identity(), new), "concat")


def _dense_block(ctx: StageContext) -> tuple[Node, int]:
    """repeats dense layers, layer j on cin + j*k channels; the block gives cin + repeats*k."""
    growth = ctx.cout
    bottleneck = int(growth * ctx.stage.expand)
    if bottleneck < 1:
        raise StageError(f"expand {ctx.stage.expand:g} x growth rate {growth} leaves the bottleneck with "
                         f"{bottleneck} channels", "expand")
    layers = tuple(dense_layer(str(j), ctx.cin + j * growth, growth, bottleneck, ctx.act)
                   for j in range(block_count(ctx)))
    return Seq(f"stage{ctx.index}", layers), ctx.cin + len(layers) * growth


def _transition(ctx: StageContext) -> tuple[Node, int]:
    """H1x1 to floor(theta * cin) channels (theta = the stage's expand), then 2x2 average pool, stride 2."""
    cout = math.floor(ctx.cin * ctx.stage.expand)
    if cout < 1:
        raise StageError(f"expand {ctx.stage.expand:g} compresses {ctx.cin} channels to {cout}", "expand")
    parts = (pre_activation("compress", ctx.cin, cout, 1, ctx.act), Layer("pool", AvgPool2d((2, 2), (2, 2))))
    return Seq(f"stage{ctx.index}", parts), cout


# dense: channels = growth rate k, repeats = layers, expand = bn_size; transition: expand = compression theta
register("dense", StageKind(("channels", "repeats", "expand", "act"), _dense_block))
register("transition", StageKind(("expand", "act"), _transition, stride=lambda stage: 2, has_channels=False))


def densenet_bc(growth: int, blocks: tuple[int, ...], bn_size: int = 4, compression: float = 0.5) -> tuple[Stage, ...]:
    """Table 1's rows: a dense block of each size, a transition after every block but the last, then norm5 + F.relu."""
    stages: list[Stage] = []
    for i, n in enumerate(blocks):
        if i:
            stages.append(Stage("transition", expand=compression))
        stages.append(Stage("dense", growth, n, expand=bn_size))
    return (*stages, Stage("bn_act", functional=True))


#                 stem   k   layers per dense block (Table 1; densenet161 from the authors' ImageNet models)
DENSENET_BC = {
    "densenet121": (64, 32, (6, 12, 24, 16)),
    "densenet161": (96, 48, (6, 12, 36, 24)),
    "densenet169": (64, 32, (6, 12, 32, 32)),
    "densenet201": (64, 32, (6, 12, 48, 32)),
}


def _densenet(name: str) -> Arch:
    stem, growth, blocks = DENSENET_BC[name]
    return Arch(name, "densenet", 224, Stem(stem, kernel=7, maxpool=True), densenet_bc(growth, blocks), Head(),
                Classifier(pool="functional"), DENSENET_RULES)


ARCHS = tuple(_densenet(name) for name in DENSENET_BC)
