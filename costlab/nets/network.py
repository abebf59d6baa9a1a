"""An Arch table at a width multiplier -> its graph: stem, stage1..N, head, classifier."""

from __future__ import annotations

from dataclasses import replace
from typing import Optional

from ..core.checks import MAX_REPEATS
from ..core.graph import Layer, Node, Seq
from ..core.ops import Activation, AdaptiveAvgPool2d, BatchNorm2d, Flatten, Linear, MaxPool2d, SpatialMean
from ..errors import CostlabError
from .blocks import bottleneck, conv, conv_bn_act, depthwise_separable, fused_mbconv, mbconv
from .model import Arch, ArchError, Stage
from .scaling import Rules, round_repeats


def width_of(arch: Arch, alpha: Optional[float]) -> float:
    """The width multiplier actually applied: the variant's own, times the user's alpha."""
    return arch.width_mult if alpha is None else arch.width_mult * alpha


def total_stride(arch: Arch) -> int:
    """How much the network divides its input: stem stride (x2 with a max pool) times each stage's first-block stride."""
    result = arch.stem.stride * (2 if arch.stem.maxpool else 1)
    for stage in arch.stages:
        result *= stage.stride
    return result


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
        Layer("pool", MaxPool2d((3, 3), (2, 2), (1, 1))) if arch.stem.maxpool else None,
    ]
    parts: list[Node] = [Seq("stem", tuple(p for p in stem if p is not None))]
    cin = stem_c
    for i, stage in enumerate(arch.stages, 1):
        cout = _scaled(arch, alpha, stage.channels, f"stage{i} (stages[{i - 1}])", "stages", i - 1)
        repeats = round_repeats(stage.repeats, arch.depth_mult)
        if repeats > MAX_REPEATS:
            raise ArchError(f"stage{i} (stages[{i - 1}]): {stage.repeats} repeats x depth {arch.depth_mult:g} gives "
                            f"{repeats:,} blocks; at most {MAX_REPEATS:,} per stage", "stages", i - 1, "repeats")
        blocks = []
        for j in range(repeats):
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
