"""Architectures as typed, frozen data, and the one place their scaling rules turn a table into a graph.

An Arch is a paper-style table (stem, one Stage row per stage, head, classifier) plus the family's
Rules: how a width multiplier rounds channels, how an expansion ratio becomes expanded channels,
and how wide a squeeze-excitation is. Built-in tables (archs_tables.py) and TOML files (spec.py)
load onto these same classes.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Optional

from .blocks import bottleneck, conv, conv_bn_act, depthwise_separable, fused_mbconv, mbconv
from .errors import CostlabError, require
from .graph import Layer, Node, Seq
from .ops import ACTIVATIONS, Activation, AdaptiveAvgPool2d, BatchNorm2d, Flatten, Linear, MaxPool2d, SpatialMean
from .shapes import make_divisible, round_repeats, scale_channels_floor

BLOCKS = ("dwsep", "conv", "mbconv", "fused_mbconv", "bottleneck")
WIDTH_RULES = {
    "floor": "int(c * alpha) (MobileNetV1)",
    "divisible8": "make_divisible(c * alpha, 8) (MobileNetV2/V3, MnasNet, EfficientNet)",
}
EXPAND_RULES = {
    "round": "int(round(cin * t)) (MobileNetV2)",
    "divisible8": "make_divisible(cin * t, 8) (EfficientNet)",
    "multiply": "cin * t (MnasNet)",
}
SE_RULES = {
    "input/4": "max(1, cin // 4) (EfficientNet)",
    "expanded/4,divisible8": "make_divisible(expanded // 4, 8) (MobileNetV3)",
}
HEAD_SCALES = ("width", "width_at_least_1", "fixed")
POOLS = ("adaptive", "mean", "functional")


def _choice(value: str, known, what: str) -> None:
    require(value in known, f"unknown {what} {value!r}; known: {', '.join(known)}")


def _act(value: Optional[str], what: str) -> None:
    require(value is None or value in ACTIVATIONS, f"unknown {what} {value!r}; known: {', '.join(ACTIVATIONS)}")


@dataclass(frozen=True)
class Rules:
    """A family's scaling rules, each written once."""

    width: str = "divisible8"
    expand: str = "divisible8"
    act: str = "relu"
    se: str = "input/4"
    se_act: str = "relu"
    se_gate: str = "sigmoid"

    def __post_init__(self) -> None:
        _choice(self.width, WIDTH_RULES, "width rule")
        _choice(self.expand, EXPAND_RULES, "expand rule")
        _choice(self.se, SE_RULES, "se rule")
        for what, value in (("act", self.act), ("se_act", self.se_act), ("se_gate", self.se_gate)):
            require(value in ACTIVATIONS, f"unknown {what} {value!r}; known: {', '.join(ACTIVATIONS)}")

    def channels(self, c: int, width: float) -> int:
        """Output channels of a layer declared with c channels, at width multiplier width."""
        if self.width == "floor":
            return scale_channels_floor(c, width)
        return make_divisible(c * width, 8)

    def expanded(self, cin: int, t: float) -> int:
        """Channels of the expanded (hidden) layer of an inverted residual with input cin, ratio t."""
        if self.expand == "round":
            return int(round(cin * t))
        if self.expand == "multiply":
            return int(cin * t)
        return make_divisible(cin * t, 8)

    def squeeze(self, cin: int, expanded: int) -> int:
        """Squeeze-excitation bottleneck width."""
        if self.se == "expanded/4,divisible8":
            return make_divisible(expanded // 4, 8)
        return max(1, cin // 4)


@dataclass(frozen=True)
class Stem:
    channels: int
    kernel: int = 3
    stride: int = 2
    act: Optional[str] = None  # None: the family's activation
    maxpool: bool = False  # ResNet's 3x3 stride-2 max pool after the stem conv

    def __post_init__(self) -> None:
        _positive(self.channels, "stem channels")
        _positive(self.kernel, "stem kernel")
        _positive(self.stride, "stem stride")
        _act(self.act, "stem act")


@dataclass(frozen=True)
class Stage:
    """One row of the table: `repeats` blocks, the first takes the stride and maps to `channels`."""

    block: str
    channels: int
    repeats: int = 1
    stride: int = 1
    kernel: int = 3
    expand: float = 1.0  # expansion ratio t (bottleneck: width = channels * expand)
    expanded: Optional[int] = None  # absolute expanded channels (MobileNetV3's "exp size"), scaled by width
    se: bool = False
    act: Optional[str] = None
    groups: int = 1  # bottleneck 3x3 groups (ResNeXt)

    def __post_init__(self) -> None:
        _choice(self.block, BLOCKS, "block")
        _positive(self.channels, "channels")
        _positive(self.repeats, "repeats")
        _positive(self.stride, "stride")
        _positive(self.kernel, "kernel")
        _positive(self.groups, "groups")
        require(not isinstance(self.expand, bool) and isinstance(self.expand, (int, float)) and self.expand > 0,
                f"expand must be a positive number, got {self.expand!r}")
        if self.expanded is not None:
            _positive(self.expanded, "expanded")
        _act(self.act, "act")


@dataclass(frozen=True)
class Head:
    """The last 1x1 conv before pooling: `channels` (scaled per `scale`) or `per_input` x its input channels."""

    channels: Optional[int] = None
    per_input: Optional[int] = None
    scale: str = "width"
    act: Optional[str] = None

    def __post_init__(self) -> None:
        _choice(self.scale, HEAD_SCALES, "head scale")
        if self.channels is not None:
            _positive(self.channels, "head channels")
        if self.per_input is not None:
            _positive(self.per_input, "head per_input")
        _act(self.act, "head act")


@dataclass(frozen=True)
class Classifier:
    classes: int = 1000
    hidden: tuple[int, ...] = ()  # hidden Linear widths, scaled by the width rule (MobileNetV3: 1280)
    hidden_act: str = "relu"
    pool: str = "adaptive"  # adaptive: AdaptiveAvgPool2d + flatten; mean: x.mean([2, 3]) (MnasNet);
    # functional: F.adaptive_avg_pool2d + flatten in forward (MobileNetV2; only ptflops and thop tell it apart)

    def __post_init__(self) -> None:
        _positive(self.classes, "classes")
        for h in self.hidden:
            _positive(h, "hidden")
        _act(self.hidden_act, "hidden_act")
        _choice(self.pool, POOLS, "pool")


@dataclass(frozen=True)
class Arch:
    name: str
    family: str
    resolution: int
    stem: Stem
    stages: tuple[Stage, ...]
    head: Head = field(default_factory=Head)
    classifier: Classifier = field(default_factory=Classifier)
    rules: Rules = field(default_factory=Rules)
    width_mult: float = 1.0
    depth_mult: float = 1.0
    in_channels: int = 3

    def __post_init__(self) -> None:
        _positive(self.resolution, "resolution")
        _positive(self.in_channels, "in_channels")
        require(len(self.stages) > 0, "an architecture needs at least one stage")
        for what, value in (("width_mult", self.width_mult), ("depth_mult", self.depth_mult)):
            require(not isinstance(value, bool) and isinstance(value, (int, float)) and value > 0,
                    f"{what} must be a positive number, got {value!r}")


class ArchError(CostlabError):
    """A shape problem found while building an arch, located in its table (TOML files report the key and line).

    table: 'stem', 'stages', 'head', 'classifier' or '' (top level); index: the stage; key: the field, if known.
    detail: the message without its location, for callers that print the location their own way.
    """

    def __init__(self, message: str, table: str = "", index: Optional[int] = None, key: Optional[str] = None,
                 detail: Optional[str] = None) -> None:
        super().__init__(message)
        self.table, self.index, self.key = table, index, key
        self.detail = message if detail is None else detail


def _positive(value, what: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise CostlabError(f"{what} must be a positive integer, got {value!r}")


def width_of(arch: Arch, alpha: Optional[float]) -> float:
    """The width multiplier actually applied: the variant's own, times the user's alpha."""
    return arch.width_mult if alpha is None else arch.width_mult * alpha


def _scaled(arch: Arch, alpha: Optional[float], c: int, what: str, table: str, index: Optional[int] = None,
            key: str = "channels") -> int:
    """rules.channels(c, width), refusing a width that rounds a layer down to no channels at all."""
    width = width_of(arch, alpha)
    out = arch.rules.channels(c, width)
    if out >= 1:
        return out
    if alpha is None:
        setting, needed = f"width_mult {arch.width_mult:g}", f"width_mult >= {1 / c:g}"
    else:
        setting = f"alpha {alpha:g}" + (f" (x {arch.name}'s width_mult {arch.width_mult:g})" if arch.width_mult != 1 else "")
        needed = f"alpha >= {1 / (c * arch.width_mult):g}"
    raise ArchError(f"{setting} leaves {what} with {out} channels ({c} x {width:g} rounds down to {out}); "
                    f"it needs {needed}", table, index, key)


def build_graph(arch: Arch, alpha: Optional[float] = None) -> Seq:
    """The network of arch at width alpha (relative to the named variant): stem, stage1..N, head, classifier."""
    width = width_of(arch, alpha)
    rules = arch.rules
    stem_c = _scaled(arch, alpha, arch.stem.channels, "the stem", "stem")
    stem = [
        conv("conv", arch.in_channels, stem_c, arch.stem.kernel, arch.stem.stride),
        Layer("bn", BatchNorm2d(stem_c)),
        Layer("act", Activation(arch.stem.act or rules.act)),
        Layer("pool", MaxPool2d(3, 2, 1)) if arch.stem.maxpool else None,
    ]
    parts: list[Node] = [Seq("stem", tuple(p for p in stem if p is not None))]
    cin = stem_c
    for i, stage in enumerate(arch.stages, 1):
        cout = _scaled(arch, alpha, stage.channels, f"stage{i} (stages[{i - 1}])", "stages", i - 1)
        blocks = []
        for j in range(round_repeats(stage.repeats, arch.depth_mult)):
            if j >= 2:  # blocks after the first two repeat block 1 exactly (cin == cout, stride 1): reuse it
                blocks.append(replace(blocks[1], name=str(j)))
                continue
            try:
                blocks.append(_block(str(j), stage, cin, cout, stage.stride if j == 0 else 1, width, rules))
            except CostlabError as exc:
                detail = exc.detail if isinstance(exc, ArchError) else f"{stage.block}: {exc}"
                raise ArchError(f"stage{i} (stages[{i - 1}]): {detail}", "stages", i - 1,
                                getattr(exc, "key", None), detail) from None
            cin = cout
        parts.append(Seq(f"stage{i}", tuple(blocks)))
    head = arch.head
    if head.channels is not None or head.per_input is not None:
        if head.per_input is not None:
            hc = head.per_input * cin
        elif head.scale == "fixed":
            hc = head.channels
        elif head.scale == "width_at_least_1" and width < 1:
            hc = rules.channels(head.channels, 1.0)
        else:
            hc = _scaled(arch, alpha, head.channels, "the head", "head")
        parts.append(conv_bn_act("head", cin, hc, 1, act=head.act or rules.act))
        cin = hc
    parts.append(_classifier(arch, alpha, cin))
    return Seq(arch.name, tuple(parts))


def _block(name: str, stage: Stage, cin: int, cout: int, stride: int, width: float, rules: Rules) -> Node:
    act = stage.act or rules.act
    if stage.block == "dwsep":
        return depthwise_separable(name, cin, cout, stage.kernel, stride, act=act)
    if stage.block == "conv":
        return conv_bn_act(name, cin, cout, stage.kernel, stride, act=act)
    if stage.block == "bottleneck":
        mid = rules.channels(int(stage.channels * stage.expand), width)
        how = f"channels {stage.channels} x expand {stage.expand:g}" + (f" at width {width:g}" if width != 1 else "")
        if mid < 1:
            raise ArchError(f"{how} leaves the bottleneck with {mid} channels", key="expand")
        if mid % stage.groups:
            raise ArchError(f"groups {stage.groups} does not divide the bottleneck width {mid} ({how})", key="groups")
        return bottleneck(name, cin, mid, cout, stride, stage.groups, act)
    expanded = rules.channels(stage.expanded, width) if stage.expanded else rules.expanded(cin, stage.expand)
    if expanded < 1:
        key, how = (("expanded", f"expanded {stage.expanded} at width {width:g}") if stage.expanded
                    else ("expand", f"expand {stage.expand:g} on {cin} input channels"))
        raise ArchError(f"{how} leaves {expanded} expanded channels", key=key)
    squeeze = rules.squeeze(cin, expanded) if stage.se else 0
    make = mbconv if stage.block == "mbconv" else fused_mbconv
    return make(name, cin, cout, stage.kernel, stride, expanded, squeeze, act, rules.se_act, rules.se_gate)


def _classifier(arch: Arch, alpha: Optional[float], cin: int) -> Seq:
    cls = arch.classifier
    if cls.pool == "mean":
        parts: list[Node] = [Layer("pool", SpatialMean())]
    else:
        parts = [Layer("pool", AdaptiveAvgPool2d(functional=cls.pool == "functional")), Layer("flatten", Flatten())]
    for i, h in enumerate(cls.hidden, 1):
        hw = _scaled(arch, alpha, h, f"classifier hidden layer {i}", "classifier", key="hidden")
        parts += [Layer(f"fc{i}", Linear(cin, hw)), Layer(f"act{i}", Activation(cls.hidden_act))]
        cin = hw
    parts.append(Layer("fc", Linear(cin, cls.classes)))
    return Seq("classifier", tuple(parts))


def total_stride(arch: Arch) -> int:
    """How much the network divides its input: stem stride (x2 with a max pool) times each stage's first-block stride."""
    result = arch.stem.stride * (2 if arch.stem.maxpool else 1)
    for stage in arch.stages:
        result *= stage.stride
    return result
