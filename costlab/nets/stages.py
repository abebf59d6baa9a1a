"""What each block kind makes of a stage row: the stage keys it gives a meaning to, and how it builds the stage.

A family adds a block kind by registering a StageKind here (families do it in their own module, next to their
tables), so adding a block is its builder and one registration; Stage rows and TOML files pick it by name.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Callable, Optional

from ..core.checks import MAX_REPEATS
from ..core.graph import Layer, Node, Seq
from ..core.ops import Activation, AvgPool2d, BatchNorm2d, MaxPool2d
from ..errors import CostlabError
from .blocks import bottleneck, conv_bn_act, depthwise_separable, fused_mbconv, mbconv
from .scaling import Rules, round_repeats, squeeze_ratio

if TYPE_CHECKING:
    from .model import Stage

COMMON = ("channels", "repeats", "stride", "kernel", "act")  # the keys every conv-like block takes


@dataclass(frozen=True)
class StageContext:
    """One stage being built: its row, its input channels, its output channels at this width, the family's rules."""

    index: int  # 1-based: stage{index}
    stage: "Stage"
    cin: int
    cout: int
    width: float
    rules: Rules
    depth_mult: float
    cin_table: int = 0  # the block's input channels as the table gives them (before the width multiplier)
    first: bool = True  # the stage's first block (the blocks after it take the stage's output, at stride 1)
    cin_prev: Optional[int] = None  # channels of the output before the input: a two-input block's second input

    @property
    def act(self) -> str:
        return self.stage.act or self.rules.act


class StageError(CostlabError):
    """A stage that cannot be built, naming the stage key at fault; or, with table and index, a key elsewhere (a node
    of a graph block: table 'blocks.NAME.nodes', index the node's)."""

    def __init__(self, message: str, key: Optional[str] = None, table: Optional[str] = None,
                 index: Optional[int] = None) -> None:
        super().__init__(message)
        self.key, self.table, self.index = key, table, index


@dataclass(frozen=True, repr=False)
class StageKind:
    """A block kind: the stage keys it takes, how it builds a stage (its Seq and output channels), and how much it
    divides the input's height and width.

    A kind taking two inputs (inputs = 2, NASNet's cells) reads the output before its input too; its build returns
    (node, cout, cout_prev), cout_prev the channels of what the next stage receives as its second input. name: a kind
    a Stage row holds itself (a TOML file's graph block) rather than by its registered name."""

    keys: tuple[str, ...]
    build: Callable[[StageContext], tuple]
    stride: Callable[["Stage"], int] = lambda stage: stage.stride
    has_channels: bool = True  # a pooling stage keeps its input's channels
    mixed_kernel: bool = False  # takes a list of kernels (a mixed depthwise conv)
    inputs: int = 1
    name: str = ""
    deepens: bool = True  # a depth multiplier repeats its blocks; False: a plain layer kept as the table has it

    def __str__(self) -> str:
        return self.name or "<unnamed block kind>"

    def __repr__(self) -> str:
        return repr(str(self))


STAGE_KINDS: dict[str, StageKind] = {}


def register(name: str, kind: StageKind) -> None:
    """Add a block kind (a family's module does this at import)."""
    STAGE_KINDS[name] = kind


def stage_kind(name: "str | StageKind") -> Optional[StageKind]:
    """The kind of a block name, every built-in family loaded first (a kind itself passes through); None if there is
    none."""
    if isinstance(name, StageKind):
        return name
    if name not in STAGE_KINDS:
        from . import tables  # noqa: F401  (families register their kinds as they load)
    return STAGE_KINDS.get(name)


def block_count(ctx: StageContext) -> int:
    """Blocks in the stage: ceil(repeats x depth multiplier) (EfficientNet's rule), at most MAX_REPEATS. A kind that
    does not deepen keeps its repeats: torchvision's depth_mult scales the MBConv stages, never a stem-like conv."""
    if not stage_kind(ctx.stage.block).deepens:
        return ctx.stage.repeats
    repeats = round_repeats(ctx.stage.repeats, ctx.depth_mult)
    if repeats > MAX_REPEATS:
        raise StageError(f"{ctx.stage.repeats} repeats x depth multiplier {ctx.depth_mult:g} (--depth x the "
                         f"network's depth_mult) gives {repeats:,} blocks; at most {MAX_REPEATS:,} per stage", "repeats")
    return repeats


def repeated(block: Callable[[str, StageContext, int, int], Node]) -> Callable[[StageContext], tuple[Node, int]]:
    """A stage of `repeats` blocks (times the depth multiplier): the first maps cin -> cout and takes the stride,
    the rest map cout -> cout at stride 1 and, being identical, are built once and reused."""

    def build(ctx: StageContext) -> tuple[Node, int]:
        blocks: list[Node] = []
        rest = replace(ctx, cin_table=ctx.stage.channels or ctx.cin_table, first=False)
        for j in range(block_count(ctx)):
            if j >= 2:  # blocks after the first two repeat block 1 exactly (cin == cout, stride 1): reuse it
                blocks.append(replace(blocks[1], name=str(j)))
            elif j == 0:
                blocks.append(block("0", ctx, ctx.cin, ctx.stage.stride))
            else:
                blocks.append(block("1", rest, ctx.cout, 1))
        return Seq(f"stage{ctx.index}", tuple(blocks)), ctx.cout

    return build


def _dwsep(name: str, ctx: StageContext, cin: int, stride: int) -> Node:
    return depthwise_separable(name, cin, ctx.cout, ctx.stage.kernel, stride, act=ctx.act)


def _conv(name: str, ctx: StageContext, cin: int, stride: int) -> Node:
    s = ctx.stage
    return conv_bn_act(name, cin, ctx.cout, s.kernel, stride, act=ctx.act, bn=s.bn, bias=s.bias, padding=s.padding,
                       functional=s.functional)


def _bottleneck(name: str, ctx: StageContext, cin: int, stride: int) -> Node:
    s = ctx.stage
    mid = ctx.rules.channels(int(s.channels * s.expand), ctx.width)
    how = f"channels {s.channels} x expand {s.expand:g}" + (f" at width {ctx.width:g}" if ctx.width != 1 else "")
    if mid < 1:
        raise StageError(f"{how} leaves the bottleneck with {mid} channels", "expand")
    if mid % s.groups:
        raise StageError(f"groups {s.groups} does not divide the bottleneck width {mid} ({how})", "groups")
    return bottleneck(name, cin, mid, ctx.cout, stride, s.groups, ctx.act, s.kernel)


def _mbconv(name: str, ctx: StageContext, cin: int, stride: int) -> Node:
    s, rules = ctx.stage, ctx.rules
    if s.expanded:
        expanded = rules.expanded_from_size(s.expanded, cin, ctx.cin_table, ctx.width)
    else:
        expanded = rules.expanded(cin, s.expand)
    if expanded < 1:
        key, how = (("expanded", f"expanded {s.expanded} at width {ctx.width:g}") if s.expanded
                    else ("expand", f"expand {s.expand:g} on {cin} input channels"))
        raise StageError(f"{how} leaves {expanded} expanded channels", key)
    squeeze = rules.squeeze(cin, expanded, squeeze_ratio(s.se)) if s.se else 0
    if s.block == "fused_mbconv":
        return fused_mbconv(name, cin, ctx.cout, s.kernel, stride, expanded, squeeze, ctx.act, rules.se_act,
                            rules.se_gate)
    _check_groups(s, cin, expanded, ctx.cout)
    kernels = s.kernel if isinstance(s.kernel, tuple) else (s.kernel,)
    if len(kernels) > expanded:
        raise StageError(f"{len(kernels)} kernels need at least as many channels, but the depthwise conv has "
                         f"{expanded}", "kernel")
    return mbconv(name, cin, ctx.cout, kernels, stride, expanded, squeeze, ctx.act, rules.se_act, rules.se_gate,
                  expand_groups=s.expand_groups, project_groups=s.project_groups, se_pool=rules.se_pool)


def _check_groups(s: "Stage", cin: int, expanded: int, cout: int) -> None:
    """A grouped 1x1 splits its input and output channels equally: the groups must divide both."""
    if s.expand_groups > 1 and expanded == cin:
        raise StageError(f"expand_groups {s.expand_groups} needs an expand conv, but the block expands {cin} "
                         f"channels to {expanded} (none)", "expand_groups")
    for key, groups, a, b in (("expand_groups", s.expand_groups, cin, expanded),
                              ("project_groups", s.project_groups, expanded, cout)):
        if a % groups or b % groups:
            raise StageError(f"{key} {groups} does not divide the 1x1 conv's {a} input and {b} output channels",
                             key)


def _bn_act(ctx: StageContext) -> tuple[Node, int]:
    s = ctx.stage
    parts = (Layer("bn", BatchNorm2d(ctx.cin)), Layer("act", Activation(ctx.act, s.functional)))
    return Seq(f"stage{ctx.index}", parts), ctx.cin


def _pool(ctx: StageContext) -> tuple[Node, int]:
    s = ctx.stage
    padding = 0 if s.padding is None else s.padding
    cls = MaxPool2d if s.block == "maxpool" else AvgPool2d
    op = cls(s.kernel, s.stride, padding, ceil_mode=s.ceil, functional=s.functional)
    return Seq(f"stage{ctx.index}", (Layer("pool", op),)), ctx.cin


for _name, _kind in {
    "dwsep": StageKind(COMMON, repeated(_dwsep)),
    "conv": StageKind(COMMON + ("padding", "bias", "bn", "functional"), repeated(_conv), deepens=False),
    "mbconv": StageKind(COMMON + ("expand", "expanded", "se", "expand_groups", "project_groups"), repeated(_mbconv),
                        mixed_kernel=True),
    "fused_mbconv": StageKind(COMMON + ("expand", "expanded", "se"), repeated(_mbconv)),
    "bottleneck": StageKind(COMMON + ("expand", "groups"), repeated(_bottleneck)),
    "bn_act": StageKind(("act", "functional"), _bn_act, has_channels=False),  # DenseNet's norm5 + F.relu
    "maxpool": StageKind(("kernel", "stride", "padding", "ceil", "functional"), _pool, has_channels=False),
    "avgpool": StageKind(("kernel", "stride", "padding", "ceil", "functional"), _pool, has_channels=False),
}.items():
    register(_name, _kind)
