"""Xception (Chollet 2017, Figure 5), timm 1.0.31's legacy_xception (the Keras port): entry, middle and exit flows.

The stem is two unpadded 3x3 convs (stride 2, then 1) with BN and ReLU. Each Xception block is, per width in
`widths`, ReLU -> separable 3x3 -> BN (the first ReLU left out of block 1, whose input has just been through one:
first_act = false), then a 3x3 stride-2 max pool (padding 1) when the block strides; plus x, or plus a 1x1 conv
(the stride) and BN when the channels or the size change. A separable conv is timm's SeparableConv2d: a 3x3
depthwise and a 1x1 pointwise, neither with a bias, no norm between. The exit flow ends in two separable convs, each
with BN and ReLU, then global average pooling and the classifier. --alpha floors every width, int(c * alpha).
"""

from __future__ import annotations

from ...core.graph import Layer, Node, Residual, seq
from ...core.ops import Activation, BatchNorm2d, MaxPool2d
from ..blocks import downsample, keras_separable
from ..model import Arch, Classifier, Stage
from ..stages import COMMON, StageContext, StageError, StageKind, register, repeated
from .rules import XCEPTION_RULES


def separable_bn_act(name: str, cin: int, cout: int, kernel: int, act: str) -> Node:
    """Separable kxk conv (depthwise, then pointwise; no biases, no norm between) -> BN -> act:
    params k^2*cin + cin*cout + 2*cout; MACs (k^2*cin + cin*cout) * Hout*Wout."""
    return seq(name, keras_separable("sep", cin, cout, kernel, bias=False, act=None), Layer("bn", BatchNorm2d(cout)),
               Layer("act", Activation(act)))


def xception_block(name: str, cin: int, widths: tuple[int, ...], stride: int, act: str, first_act: bool) -> Node:
    """[act -> separable 3x3 to w -> BN] for each w of widths (no act first when first_act is false), a 3x3 stride-s
    max pool (padding 1) when s > 1, plus the shortcut: x, or 1x1 conv (stride s) -> BN when the channels or size
    change. params sum_i (9*c_i + c_i*w_i + 2*w_i) (+ cin*cout + 2*cout), c_i the input of conv i."""
    children: list[Node] = []
    c = cin
    for i, w in enumerate(widths):
        if i or first_act:
            children.append(Layer(f"act{i}", Activation(act)))
        children += [keras_separable(f"sep{i}", c, w, 3, bias=False, act=None), Layer(f"bn{i}", BatchNorm2d(w))]
        c = w
    if stride > 1:
        children.append(Layer("pool", MaxPool2d((3, 3), (stride, stride), (1, 1))))
    return Residual(name, tuple(children), downsample(cin, widths[-1], stride))


def _xception(name: str, ctx: StageContext, cin: int, stride: int) -> Node:
    s = ctx.stage
    if not s.widths or s.widths[-1] != s.channels:
        raise StageError(f"widths {list(s.widths)} must list the separable convs' widths, the last being the "
                         f"block's channels {s.channels}", "widths")
    widths = tuple(ctx.rules.channels(w, ctx.width) for w in s.widths[:-1]) + (ctx.cout,)
    return xception_block(name, cin, widths, stride, ctx.act, s.first_act or not ctx.first)


def _separable(name: str, ctx: StageContext, cin: int, stride: int) -> Node:
    if stride != 1:
        raise StageError("a separable stage runs at stride 1 (Xception's exit flow)", "stride")
    return separable_bn_act(name, cin, ctx.cout, ctx.stage.kernel, ctx.act)


register("xception", StageKind(("channels", "repeats", "stride", "act", "widths", "first_act"), repeated(_xception)))
register("separable", StageKind(COMMON, repeated(_separable)))

# ---- Xception (Chollet 2017, Figure 5; timm's legacy_xception) ---------------------------------------
#        block         c     n  s  separable convs' widths
XCEPTION = (
    Stage("conv", 32, 1, 2, 3, padding=0),  # entry flow: conv1, conv2 (unpadded)
    Stage("conv", 64, 1, 1, 3, padding=0),
    Stage("xception", 128, 1, 2, widths=(128, 128), first_act=False),
    Stage("xception", 256, 1, 2, widths=(256, 256)),
    Stage("xception", 728, 1, 2, widths=(728, 728)),
    Stage("xception", 728, 8, 1, widths=(728, 728, 728)),  # middle flow, 8 times
    Stage("xception", 1024, 1, 2, widths=(728, 1024)),  # exit flow
    Stage("separable", 1536),
    Stage("separable", 2048),
)

ARCHS = (
    Arch("xception", "xception", 299, None, XCEPTION, classifier=Classifier(), rules=XCEPTION_RULES),
)
