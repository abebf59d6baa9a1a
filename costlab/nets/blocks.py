"""Composite blocks as graph nodes built from the primitive layers.

Channel counts are passed in already rounded, so each architecture keeps its own rounding rule
(nets/scaling.py) and a block is just its structure.
"""

from __future__ import annotations

from typing import Optional

from ..core.graph import Cell, Gate, Layer, Node, Residual, Seq, Wire, branches, seq, split
from ..core.ops import (Activation, AdaptiveAvgPool2d, Add, AvgPool2d, BatchNorm2d, Concat, Conv2d, Flatten, Linear,
                        MaxPool2d, SpatialMean)
from ..core.shapes import as_pair, same_padding, same_padding_end
from .scaling import split_channels


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


def mixed_conv(name: str, cin: int, cout: int, kernels: tuple[int, ...], stride=1, depthwise: bool = False) -> Node:
    """MixConv (Tan & Le 2019) as timm's MixedConv2d: input and output channels split into len(kernels) groups
    (split_channels: equal, the remainder to the first), group i through its own k_i x k_i conv named str(i)
    (depthwise, or a full conv of its group), concatenated. Params sum_i k_i^2 c_i (depthwise) or sum_i k_i^2 c_i o_i;
    MACs the params times Hout * Wout. The split and the concat are torch.split / torch.cat in the forward. One kernel
    is a plain conv (groups = cin when depthwise)."""
    if len(kernels) == 1:
        return conv(name, cin, cout, kernels[0], stride, groups=cin if depthwise else 1)
    ins, outs = split_channels(cin, len(kernels)), split_channels(cout, len(kernels))
    parts = tuple(conv(str(i), c, o, k, stride, groups=c if depthwise else 1)
                  for i, (k, c, o) in enumerate(zip(kernels, ins, outs)))
    return split(name, ins, parts)


def _bn_act(name: str, conv_node: Node, cout: int, act: Optional[str]) -> Seq:
    """conv_node -> BatchNorm2d -> activation (none when act is None)."""
    return seq(name, conv_node, Layer("bn", BatchNorm2d(cout)), Layer("act", Activation(act)) if act else None)


def depthwise_separable(name: str, cin: int, cout: int, kernel=3, stride=1, act: Optional[str] = "relu",
                        bn: bool = True, bias: bool = False, padding=None) -> Seq:
    """kxk depthwise (groups = cin) then 1x1 pointwise: k^2*M + M*N weights instead of k^2*M*N."""
    return seq(
        name,
        conv_bn_act("dw", cin, cin, kernel, stride, groups=cin, act=act, bn=bn, bias=bias, padding=padding),
        conv_bn_act("pw", cin, cout, 1, 1, act=act, bn=bn, bias=bias),
    )


def squeeze_excitation(name: str, channels: int, squeeze: int, act: str = "relu", gate: str = "sigmoid",
                       pool: str = "adaptive") -> Gate:
    """x * gate(fc2(act(fc1(avgpool(x))))), fc1/fc2 being 1x1 convs with bias: 2*C*S + C + S params. pool 'mean':
    the global pool is x.mean((2, 3)) in the block's forward (timm's SqueezeExcite), not a module."""
    return Gate(name, (
        Layer("avgpool", SpatialMean(keepdim=True) if pool == "mean" else AdaptiveAvgPool2d()),
        conv("fc1", channels, squeeze, 1, bias=True),
        Layer("act", Activation(act)),
        conv("fc2", squeeze, channels, 1, bias=True),
        Layer("gate", Activation(gate)),
    ))


def mbconv(name: str, cin: int, cout: int, kernel: "int | tuple[int, ...]", stride: int, expanded: int,
           se_channels: int = 0, act: str = "relu6", se_act: str = "relu", se_gate: str = "sigmoid",
           residual: Optional[bool] = None, expand_groups: int = 1, project_groups: int = 1,
           se_pool: str = "adaptive") -> Node:
    """Inverted residual: [1x1 expand] -> kxk depthwise -> [SE] -> 1x1 linear project, + x when stride 1 and cin == cout.

    The expand conv is left out when expanded == cin (expansion ratio 1), as in MobileNetV2/V3 and EfficientNet.
    A tuple of kernels makes the depthwise conv a mixed one (mixed_conv, MixNet), and expand_groups / project_groups
    > 1 split a 1x1 conv into that many equal channel groups (MixNet's a1.1 / p1.1: a 1x1 MixConv): params
    cin*expanded/g_e + k^2*expanded + expanded*cout/g_p (+ BatchNorms and SE).
    """
    kernels = kernel if isinstance(kernel, tuple) else (kernel,)
    children = [
        _bn_act("expand", mixed_conv("conv", cin, expanded, (1,) * expand_groups), expanded, act)
        if expanded != cin else None,
        _bn_act("dw", mixed_conv("conv", expanded, expanded, kernels, stride, depthwise=True), expanded, act),
        squeeze_excitation("se", expanded, se_channels, se_act, se_gate, se_pool) if se_channels else None,
        _bn_act("project", mixed_conv("conv", expanded, cout, (1,) * project_groups), cout, None),
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


# --- seed 004's blocks, written as its Keras code writes them -------------------------------------------
# conv(x, f, k) is Conv2D(f, k, padding='same', activation='relu') with a bias; sepconv is SeparableConv2D: a kxk
# depthwise without bias, a 1x1 pointwise with bias, then the activation; dense is Dense with a bias. bias=False
# drops every Conv2D, pointwise and Dense bias. In the equations M is the input's channels, f the block's, HW the
# input's size (every block keeps it), and the MACs are convolutions' and linears' (biases, pooling, adds: none).


def keras_conv(name: str, cin: int, cout: int, kernel: int = 3, bias: bool = True, act: Optional[str] = "relu",
               groups: int = 1) -> Seq:
    """Keras Conv2D(cout, kernel, padding='same', groups=groups, activation=act): params k^2*cin*cout/groups (+ cout);
    MACs k^2*cin*cout/groups * HW."""
    return conv_bn_act(name, cin, cout, kernel, groups=groups, act=act, bn=False, bias=bias)


def keras_separable(name: str, cin: int, cout: int, kernel: int = 3, bias: bool = True,
                    act: Optional[str] = "relu") -> Seq:
    """Keras SeparableConv2D(cout, kernel, padding='same', activation=act): kxk depthwise (no bias), 1x1 pointwise
    (bias), then act: params k^2*cin + cin*cout (+ cout); MACs (k^2*cin + cin*cout)*HW."""
    return seq(
        name,
        conv("dw", cin, cin, kernel, groups=cin),
        conv("pw", cin, cout, 1, bias=bias),
        Layer("act", Activation(act)) if act else None,
    )


def _same_pool(name: str, kind: type) -> Layer:
    """Keras MaxPooling2D / AveragePooling2D(3, strides=1, padding='same'): padding 1 keeps the size; Keras' average
    leaves the padding out of the count."""
    extra = {"count_include_pad": False} if kind is AvgPool2d else {}
    return Layer(name, kind(kernel=3, stride=1, padding=1, **extra))


def seed_bottleneck(name: str, cin: int, cout: int, reduction: int, bias: bool = True) -> Seq:
    """bottleneck(x, f, r): 1x1 conv to w = f//r, 3x3 conv w -> w, 1x1 conv to f; no residual.
    params = M*w + 9*w^2 + w*f (+ 2w + f biases); MACs = HW * (M*w + 9*w^2 + w*f)."""
    width = cout // reduction
    return seq(name, keras_conv("reduce", cin, width, 1, bias), keras_conv("conv3", width, width, 3, bias),
               keras_conv("expand", width, cout, 1, bias))


def naive_inception(name: str, cin: int, cout: int, bias: bool = True) -> Cell:
    """naive_inception_module(x, f): 1x1, 3x3 and 5x5 convs M -> f and a 3x3 max pool, concatenated (3f + M channels).
    params = 35*M*f (+ 3f biases); MACs = 35*M*f*HW."""
    return branches(name, (keras_conv("a", cin, cout, 1, bias), keras_conv("b", cin, cout, 3, bias),
                           keras_conv("c", cin, cout, 5, bias), _same_pool("d", MaxPool2d)))


def inception(name: str, cin: int, cout: int, reduction: int, bias: bool = True) -> Cell:
    """inception_module(x, f, r): a 1x1 to f; b 1x1 to f//3 then 3x3 to f; c 1x1 to f//r then 5x5 to f; d 3x3 max pool
    then 1x1 to f; concatenated (4f channels). The seed reduces b by 3, not r.
    params = 2*M*f + M*(f//3) + 9*(f//3)*f + M*(f//r) + 25*(f//r)*f (+ 4f + f//3 + f//r biases); MACs = that weight
    count * HW."""
    b, c = cout // 3, cout // reduction
    return branches(name, (
        keras_conv("a", cin, cout, 1, bias),
        seq("b", keras_conv("reduce", cin, b, 1, bias), keras_conv("conv3", b, cout, 3, bias)),
        seq("c", keras_conv("reduce", cin, c, 1, bias), keras_conv("conv5", c, cout, 5, bias)),
        seq("d", _same_pool("pool", MaxPool2d), keras_conv("proj", cin, cout, 1, bias)),
    ))


def residual_block(name: str, channels: int, reduction: int, bias: bool = True) -> Residual:
    """residual_block(x, f, r): the seed's bottleneck (w = f//r) plus x, no activation after the add (M = f).
    params = 2*f*w + 9*w^2 (+ 2w + f biases); MACs = HW * (2*f*w + 9*w^2)."""
    return Residual(name, seed_bottleneck(name, channels, channels, reduction, bias).children)


def resnext_block(name: str, channels: int, reduction: int, cardinality: int, bias: bool = True) -> Residual:
    """resnext_block(x, f, r, c): c paths, each the seed's bottleneck with w = f//(c*r), summed, plus x (M = f).
    params = c*(2*f*w + 9*w^2) (+ c*(2w + f) biases); MACs = HW * c*(2*f*w + 9*w^2)."""
    paths = tuple(seed_bottleneck(f"path{i}", channels, channels, cardinality * reduction, bias)
                  for i in range(cardinality))
    return Residual(name, (paths[0] if cardinality == 1 else branches("paths", paths, join="sum"),))


def resnext_grouped_block(name: str, channels: int, reduction: int, cardinality: int, bias: bool = True) -> Residual:
    """resnext_block with its c paths as one grouped conv: 1x1 to g = f//r, 3x3 g -> g in c groups, 1x1 to f, plus x.
    With g = c*w: params = 2*f*g + 9*g^2/c (+ 2g + f biases), MACs = HW * (2*f*g + 9*g^2/c): the paths' weights and
    MACs exactly; only the biases differ, the paths carrying (c - 1)*f more."""
    width = channels // reduction
    return Residual(name, (keras_conv("reduce", channels, width, 1, bias),
                           keras_conv("conv3", width, width, 3, bias, groups=cardinality),
                           keras_conv("expand", width, channels, 1, bias)))


def dense_block(name: str, cin: int, growth: int, layers: int, bias: bool = True) -> Cell:
    """dense_block(x, f, d): d 3x3 convs to f, conv i on the concatenation of x and convs 1..i-1 (M + (i-1)f channels);
    returns the concatenation of all (M + d*f). MACs of conv i = 9*f*HW*(M + (i-1)f), so the block's
    9*f*HW*(d*M + f*d(d-1)/2) grows as d^2; params = 9*f*(d*M + f*d(d-1)/2) (+ d*f biases)."""
    wires: list[Wire] = []
    joined, channels = "x", cin
    for i in range(layers):
        wires.append(Wire(f"conv{i}", (joined,), node=keras_conv(f"conv{i}", channels, growth, 3, bias)))
        wires.append(Wire(f"cat{i}", (joined, f"conv{i}"), op=Concat()))
        joined, channels = f"cat{i}", channels + growth
    return Cell(name, ("x",), tuple(wires), joined)


def se_block(name: str, channels: int, rate: int, bias: bool = True) -> Gate:
    """se_block(x, f, rate): global average pool, Dense to s = f//rate with ReLU, Dense to f with sigmoid, times x.
    params = 2*f*s (+ s + f biases); MACs = 2*f*s (no HW: the Dense layers see one vector)."""
    squeeze = channels // rate
    return Gate(name, (
        Layer("gap", AdaptiveAvgPool2d()),
        Layer("flatten", Flatten()),
        Layer("fc1", Linear(channels, squeeze, bias)),
        Layer("act", Activation("relu")),
        Layer("fc2", Linear(squeeze, channels, bias)),
        Layer("gate", Activation("sigmoid")),
    ))


def nasnet_normal_cell(name: str, channels: int, bias: bool = True) -> Cell:
    """normal_cell(x1, x2, f): five pairs summed, then concatenated (5f channels, M = f for both inputs):
    a = sep3(x1) + sep5(x1), b = avg(x1) + avg(x1), c = x1 + avg(x2), d = sep5(x2) + sep3(x1), e = x2 + sep3(x2).
    Five separable convs f -> f: params = (3*9 + 2*25)*f + 5*f^2 (+ 5f biases); MACs = HW * (77*f + 5*f^2)."""
    def sep(wire: str, source: str, kernel: int) -> Wire:
        return Wire(wire, (source,), node=keras_separable(wire, channels, channels, kernel, bias))

    def pool(wire: str, source: str) -> Wire:
        return Wire(wire, (source,), node=_same_pool(wire, AvgPool2d))

    def add(wire: str, *sources: str) -> Wire:
        return Wire(wire, sources, op=Add())

    wires = (sep("a1", "x1", 3), sep("a2", "x1", 5), add("a", "a1", "a2"),
             pool("b1", "x1"), pool("b2", "x1"), add("b", "b1", "b2"),
             pool("c2", "x2"), add("c", "x1", "c2"),
             sep("d1", "x2", 5), sep("d2", "x1", 3), add("d", "d1", "d2"),
             sep("e2", "x2", 3), add("e", "x2", "e2"),
             Wire("concat", ("a", "b", "c", "d", "e"), op=Concat()))
    return Cell(name, ("x1", "x2"), wires, "concat")


def inverted_residual_block(name: str, channels: int, expansion: int, bias: bool = True) -> Residual:
    """inv_residual_block(x, f, r): 1x1 conv to e = f*r (ReLU), separable 3x3 back to f without activation, plus x.
    params = f*e + 9*e + e*f (+ e + f biases); MACs = HW * (2*f*e + 9*e)."""
    expanded = channels * expansion
    return Residual(name, (keras_conv("expand", channels, expanded, 1, bias),
                           keras_separable("sepconv", expanded, channels, 3, bias, act=None)))


def _maybe_residual(name: str, children: list, cin: int, cout: int, stride: int, residual: Optional[bool]) -> Node:
    parts = tuple(c for c in children if c is not None)
    use_residual = (stride == 1 and cin == cout) if residual is None else residual
    return Residual(name, parts) if use_residual else Seq(name, parts)
