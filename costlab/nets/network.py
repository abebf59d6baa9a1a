"""An Arch table at a width multiplier -> its graph: stem, stage1..N, head, classifier."""

from __future__ import annotations

from typing import Optional

from ..core.graph import Cell, Layer, Node, Seq, Wire, check_op_count, op_count
from ..core.ops import Activation, AdaptiveAvgPool2d, BatchNorm2d, Flatten, Linear, MaxPool2d, SpatialMean
from ..errors import CostlabError
from .blocks import conv, conv_bn_act
from .model import Arch, ArchError
from .stages import StageContext, StageError, stage_kind


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
    """The network of arch at width alpha (relative to the named variant): stem, stage1..N, head, classifier; a Seq, or
    a Cell carrying (current, previous) from part to part when a stage's blocks take two inputs (_chained)."""
    width = width_of(arch, alpha)
    rules = arch.rules
    parts: list[Node] = []
    two_inputs: set[str] = set()  # the stages whose nodes take (current, previous) and hand on a pair
    cin = cin_prev = arch.in_channels  # cin_prev: the output before the current one (a two-input block reads it)
    cin_table = arch.in_channels  # the same widths as the table gives them, for rules that read ratios off it
    if arch.stem is not None:
        kept = rules.paper and width < rules.stem_kept_below  # timm's MobileNetV3 keeps its stem below 0.75
        stem_c = arch.stem.channels if kept else _scaled(arch, alpha, arch.stem.channels, "the stem", "stem")
        stem = [
            conv("conv", arch.in_channels, stem_c, arch.stem.kernel, arch.stem.stride),
            Layer("bn", BatchNorm2d(stem_c)),
            Layer("act", Activation(arch.stem.act or rules.act)),
            Layer("pool", MaxPool2d((3, 3), (2, 2), (1, 1))) if arch.stem.maxpool else None,
        ]
        parts.append(Seq("stem", tuple(p for p in stem if p is not None)))
        cin_prev, cin, cin_table = cin, stem_c, arch.stem.channels
    ops, seen = 0, {}
    for i, stage in enumerate(arch.stages, 1):
        where = f"stage{i} (stages[{i - 1}])"
        kind = stage_kind(stage.block)
        cout = _scaled(arch, alpha, stage.channels, where, "stages", i - 1) if stage.channels else cin
        try:
            built = kind.build(StageContext(i, stage, cin, cout, width, rules, arch.depth_mult, cin_table,
                                            cin_prev=cin_prev))
        except CostlabError as exc:
            detail = str(exc) if isinstance(exc, StageError) else f"{stage.block}: {exc}"
            table, index = getattr(exc, "table", None), getattr(exc, "index", None)
            raise ArchError(f"{where}: {detail}", table or "stages", index if table else i - 1,
                            getattr(exc, "key", None), detail) from None
        node, cin, cin_prev = built if kind.inputs == 2 else (*built, cin)
        ops += op_count(node, seen)
        check_op_count(ops, node.name)  # stop building here: stages of 1,000 blocks each could go on for minutes
        parts.append(node)
        cin_table = stage.channels or cin_table
        if kind.inputs == 2:
            two_inputs.add(node.name)
    head = arch.head
    if head.channels is not None or head.per_input is not None:
        if head.per_input is not None and rules.paper:  # the head's table width, scaled as a layer of its own
            hc = _scaled(arch, alpha, head.per_input * cin_table, "the head", "head", key="per_input")
        elif head.per_input is not None:
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
    return _chained(arch.name, parts, two_inputs) if two_inputs else Seq(arch.name, tuple(parts))


def _chained(name: str, parts: list[Node], two_inputs: set[str]) -> Cell:
    """The parts one after the other, as a Cell carrying (current, previous): a one-input part maps the current value
    and the current becomes the previous; a two-input part (a stage of NASNet cells) reads both and hands on the pair
    its Cell returns. The first two-input part sees the network's input as both."""
    wires, current, previous = [], "x", "x"
    for part in parts:
        if part.name in two_inputs:
            wires.append(Wire(part.name, (current, previous), node=part))
            current, previous = f"{part.name}:0", f"{part.name}:1"
        else:
            wires.append(Wire(part.name, (current,), node=part))
            current, previous = part.name, current
    return Cell(name, ("x",), tuple(wires), current)


def _classifier(arch: Arch, alpha: Optional[float], cin: int) -> Seq:
    cls = arch.classifier
    if cls.pool == "mean":
        parts: list[Node] = [Layer("pool", SpatialMean())]
    else:
        parts = [Layer("pool", AdaptiveAvgPool2d(functional=cls.pool == "functional")), Layer("flatten", Flatten())]
    kept = cls.hidden_scale == "fixed" or arch.rules.paper  # the paper rule keeps the 1280-wide last layer
    for i, h in enumerate(cls.hidden, 1):
        hw = h if kept else _scaled(arch, alpha, h, f"classifier hidden layer {i}", "classifier", key="hidden")
        parts += [Layer(f"fc{i}", Linear(cin, hw)), Layer(f"act{i}", Activation(cls.hidden_act))]
        cin = hw
    if cls.fc:
        parts.append(Layer("fc", Linear(cin, cls.classes)))
    return Seq("classifier", tuple(parts))
