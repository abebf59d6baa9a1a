"""Composite blocks as graph nodes built from the primitive layers.

Channel counts are passed in already rounded, so each architecture keeps its own rounding rule
(nets/scaling.py) and a block is just its structure.
"""

from __future__ import annotations

from typing import Optional

from ..core.graph import Gate, Layer, Node, Residual, Seq, seq
from ..core.ops import Activation, AdaptiveAvgPool2d, BatchNorm2d, Conv2d
from ..core.shapes import as_pair, same_padding, same_padding_end


def conv(name: str, cin: int, cout: int, kernel=3, stride=1, groups: int = 1, bias: bool = False,
         padding=None, dilation=1) -> Layer:
    """A bare Conv2d; padding None is 'same': d(k-1)//2 on every side, and at stride 1 an even kernel's odd one at the
    bottom and right as PyTorch's padding='same' (at a larger stride, the symmetric part only)."""
    k, d, s = as_pair(kernel, "kernel"), as_pair(dilation, "dilation"), as_pair(stride, "stride")
    p = same_padding(k, d) if padding is None else as_pair(padding, "padding")
    end = same_padding_end(k, d) if padding is None and s == (1, 1) else (0, 0)
    return Layer(name, Conv2d(cin, cout, k, s, p, d, groups, bias, end))


def conv_bn_act(name: str, cin: int, cout: int, kernel=3, stride=1, groups: int = 1,
                act: Optional[str] = "relu", bn: bool = True, bias: bool = False, padding=None,
                functional: bool = False) -> Seq:
    """Conv2d -> BatchNorm2d -> activation (torchvision's Conv2dNormActivation); bn/act optional; functional: the
    activation is called as F.relu in the forward (GoogLeNet's and Inception-v3's BasicConv2d)."""
    return seq(
        name,
        conv("conv", cin, cout, kernel, stride, groups, bias, padding),
        Layer("bn", BatchNorm2d(cout)) if bn else None,
        Layer("act", Activation(act, functional)) if act else None,
    )


def depthwise_separable(name: str, cin: int, cout: int, kernel=3, stride=1, act: Optional[str] = "relu",
                        bn: bool = True, bias: bool = False, padding=None) -> Seq:
    """kxk depthwise (groups = cin) then 1x1 pointwise: k^2*M + M*N weights instead of k^2*M*N."""
    return seq(
        name,
        conv_bn_act("dw", cin, cin, kernel, stride, groups=cin, act=act, bn=bn, bias=bias, padding=padding),
        conv_bn_act("pw", cin, cout, 1, 1, act=act, bn=bn, bias=bias),
    )


def squeeze_excitation(name: str, channels: int, squeeze: int, act: str = "relu", gate: str = "sigmoid") -> Gate:
    """x * gate(fc2(act(fc1(avgpool(x))))), fc1/fc2 being 1x1 convs with bias: 2*C*S + C + S params."""
    return Gate(name, (
        Layer("avgpool", AdaptiveAvgPool2d()),
        conv("fc1", channels, squeeze, 1, bias=True),
        Layer("act", Activation(act)),
        conv("fc2", squeeze, channels, 1, bias=True),
        Layer("gate", Activation(gate)),
    ))


def mbconv(name: str, cin: int, cout: int, kernel: int, stride: int, expanded: int, se_channels: int = 0,
           act: str = "relu6", se_act: str = "relu", se_gate: str = "sigmoid", residual: Optional[bool] = None) -> Node:
    """Inverted residual: [1x1 expand] -> kxk depthwise -> [SE] -> 1x1 linear project, + x when stride 1 and cin == cout.

    The expand conv is left out when expanded == cin (expansion ratio 1), as in MobileNetV2/V3 and EfficientNet.
    """
    children = [
        conv_bn_act("expand", cin, expanded, 1, act=act) if expanded != cin else None,
        conv_bn_act("dw", expanded, expanded, kernel, stride, groups=expanded, act=act),
        squeeze_excitation("se", expanded, se_channels, se_act, se_gate) if se_channels else None,
        conv_bn_act("project", expanded, cout, 1, act=None),
    ]
    return _maybe_residual(name, children, cin, cout, stride, residual)


def fused_mbconv(name: str, cin: int, cout: int, kernel: int, stride: int, expanded: int, se_channels: int = 0,
                 act: str = "silu", se_act: str = "silu", se_gate: str = "sigmoid", residual: Optional[bool] = None) -> Node:
    """EfficientNetV2's fused block: kxk full conv expand (stride) -> [SE] -> 1x1 project; a single kxk conv when expanded == cin."""
    if expanded == cin:
        children = [conv_bn_act("fused", cin, cout, kernel, stride, act=act)]
    else:
        children = [
            conv_bn_act("fused", cin, expanded, kernel, stride, act=act),
            squeeze_excitation("se", expanded, se_channels, se_act, se_gate) if se_channels else None,
            conv_bn_act("project", expanded, cout, 1, act=None),
        ]
    return _maybe_residual(name, children, cin, cout, stride, residual)


def downsample(cin: int, cout: int, stride: int) -> Optional[Seq]:
    """ResNet's projection shortcut, 1x1 conv (stride) -> BatchNorm2d: cin*cout + 2*cout params; None (the identity)
    when the block keeps both the size and the channels."""
    if stride == 1 and cin == cout:
        return None
    return seq("downsample", conv("conv", cin, cout, 1, stride), Layer("bn", BatchNorm2d(cout)))


def bottleneck(name: str, cin: int, width: int, cout: int, stride: int = 1, groups: int = 1, act: str = "relu",
               kernel: int = 3) -> Seq:
    """ResNet/ResNeXt bottleneck: 1x1 reduce -> kxk (stride, groups) -> 1x1 expand, + projected shortcut, then ReLU."""
    body = Residual("block", (
        conv_bn_act("reduce", cin, width, 1, act=act),
        conv_bn_act("conv3", width, width, kernel, stride, groups=groups, act=act),
        conv_bn_act("expand", width, cout, 1, act=None),
    ), downsample(cin, cout, stride))
    return seq(name, body, Layer("act", Activation(act)))


def basic_block(name: str, cin: int, cout: int, stride: int = 1, act: str = "relu", kernel: int = 3) -> Seq:
    """ResNet-18/34's basic block: kxk (stride) -> BN -> act -> kxk -> BN, + projected shortcut, then act;
    k^2*cin*cout + k^2*cout^2 + 4*cout params without the shortcut."""
    body = Residual("block", (
        conv_bn_act("conv1", cin, cout, kernel, stride, act=act),
        conv_bn_act("conv2", cout, cout, kernel, act=None),
    ), downsample(cin, cout, stride))
    return seq(name, body, Layer("act", Activation(act)))


def stacked_convs(name: str, cin: int, cout: int, kernel: int, repeats: int, stride: int = 1,
                  separable: bool = False, bias: bool = False, act: Optional[str] = None, bn: bool = False,
                  padding=None) -> Seq:
    """repeats kxk convs in a row (two 3x3 see what one 5x5 sees); the first one maps cin -> cout and takes the stride."""
    make = depthwise_separable if separable else conv_bn_act
    return Seq(name, tuple(
        make(str(i), cin if i == 0 else cout, cout, kernel, stride if i == 0 else 1, act=act, bn=bn, bias=bias,
             padding=padding)
        for i in range(repeats)
    ))


def _maybe_residual(name: str, children: list, cin: int, cout: int, stride: int, residual: Optional[bool]) -> Node:
    parts = tuple(c for c in children if c is not None)
    use_residual = (stride == 1 and cin == cout) if residual is None else residual
    return Residual(name, parts) if use_residual else Seq(name, parts)
