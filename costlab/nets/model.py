"""Architectures as typed, frozen data: a paper-style table (stem, one Stage row per stage, head, classifier)
plus the family's Rules. Built-in tables (tables.py) and TOML files (spec.py) load onto these same classes;
network.py turns one into a graph. Every check names the key it is about, so a TOML file can point at its line."""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Callable, Optional, Union

from ..core.checks import MAX_CHANNELS, MAX_KERNEL, MAX_REPEATS, MAX_SIZE, multiplier, nonnegative_int, positive_int
from ..core.vocab import ACTIVATIONS
from ..errors import CostlabError, require
from .scaling import Rules, choice

if TYPE_CHECKING:
    from .stages import StageKind

BLOCK_ALIASES = {"fused-mbconv": "fused_mbconv"}
HEAD_SCALES = ("width", "width_at_least_1", "fixed")
HIDDEN_SCALES = ("width", "fixed")
POOLS = ("adaptive", "mean", "functional")


class ArchError(CostlabError):
    """A problem with an architecture, located in its table (TOML files report the key and line).

    table: 'stem', 'stages', 'head', 'classifier' or '' (top level); index: the stage; key: the field, if known.
    detail: the message without its location, for callers that print the location their own way.
    """

    def __init__(self, message: str, table: str = "", index: Optional[int] = None, key: Optional[str] = None,
                 detail: Optional[str] = None) -> None:
        super().__init__(message)
        self.table, self.index, self.key = table, index, key
        self.detail = message if detail is None else detail


def _checked(key: str, check: Callable[[], object]) -> None:
    """Run one check; its CostlabError becomes an ArchError naming key."""
    try:
        check()
    except ArchError:
        raise
    except CostlabError as exc:
        raise ArchError(str(exc), key=key) from None


def _act(value: Optional[str], what: str) -> None:
    if value is not None:
        choice(value, ACTIVATIONS, what)


def _count(obj, key: str, limit: int, what: Optional[str] = None) -> None:
    _checked(key, lambda: positive_int(getattr(obj, key), what or key, limit))


@dataclass(frozen=True)
class Stem:
    channels: int
    kernel: int = 3
    stride: int = 2
    act: Optional[str] = None  # None: the family's activation
    maxpool: bool = False  # ResNet's 3x3 stride-2 max pool after the stem conv

    def __post_init__(self) -> None:
        _count(self, "channels", MAX_CHANNELS, "stem channels")
        _count(self, "kernel", MAX_KERNEL, "stem kernel")
        _count(self, "stride", MAX_KERNEL, "stem stride")
        _checked("act", lambda: _act(self.act, "stem act"))


@dataclass(frozen=True)
class Stage:
    """One row of the table: `repeats` blocks of kind `block`, the first takes the stride and maps to `channels`.
    Which other keys mean something depends on the block (nets/stages.py: each kind lists the keys it takes)."""

    block: "str | StageKind"  # a registered kind's name, or a kind itself (a TOML file's graph block)
    channels: Optional[int] = None  # output channels (a pooling stage keeps its input's)
    repeats: int = 1
    stride: int = 1
    kernel: Union[int, tuple[int, ...]] = 3  # a tuple: MixConv's kernels, one per channel group (kinds that mix)
    expand: float = 1.0  # expansion ratio t (bottleneck: width = channels * expand)
    expanded: Optional[int] = None  # absolute expanded channels (MobileNetV3's "exp size"), scaled by width
    se: Union[bool, float] = False  # True: squeeze-excitation at the family's ratio (1/4); a number: that ratio
    expand_groups: int = 1  # the 1x1 expand split into this many channel groups (MixNet's a1.1: 2)
    project_groups: int = 1  # the 1x1 project likewise (MixNet's p1.1)
    act: Optional[str] = None
    groups: int = 1  # bottleneck 3x3 groups (ResNeXt)
    widths: tuple[int, ...] = ()  # branch widths of blocks with several branches (their order: the block's)
    padding: Optional[int] = None  # None: 'same'
    ceil: bool = False  # pooling rounds its output size up (ceil_mode)
    bias: bool = False
    bn: bool = True
    functional: bool = False  # the activation (or pool) called as F.* in a forward, not as a module
    first_act: bool = True  # the block starts with its activation (Xception's blocks, but the first)

    def __post_init__(self) -> None:
        from .stages import STAGE_KINDS, StageKind, stage_kind

        if isinstance(self.block, str):
            object.__setattr__(self, "block", BLOCK_ALIASES.get(self.block, self.block))
        kind = stage_kind(self.block) if isinstance(self.block, (str, StageKind)) else None
        if kind is None:
            raise ArchError(f"unknown block {self.block!r}; known: {', '.join(STAGE_KINDS)}", key="block")
        if kind.has_channels:
            _checked("channels", lambda: require(self.channels is not None, f"a {self.block!r} stage needs channels"))
        if self.channels is not None:
            _count(self, "channels", MAX_CHANNELS)
        _count(self, "repeats", MAX_REPEATS)
        _count(self, "stride", MAX_KERNEL)
        _checked("kernel", lambda: _kernel(self, kind))
        _count(self, "groups", MAX_CHANNELS)
        _count(self, "expand_groups", MAX_CHANNELS)
        _count(self, "project_groups", MAX_CHANNELS)
        _checked("se", lambda: _se_ratio(self.se))
        _checked("expand", lambda: multiplier(self.expand, "expand"))
        if self.expanded is not None:
            _count(self, "expanded", MAX_CHANNELS)
        for w in self.widths:
            _checked("widths", lambda w=w: positive_int(w, "widths", MAX_CHANNELS))
        if self.padding is not None:
            _checked("padding", lambda: nonnegative_int(self.padding, "padding", MAX_KERNEL))
        for key in ("ceil", "bias", "bn", "functional", "first_act"):
            _checked(key, lambda key=key: require(isinstance(getattr(self, key), bool),
                                                  f"{key} must be true or false, got {getattr(self, key)!r}"))
        _checked("act", lambda: _act(self.act, "act"))
        for key in unused_keys(self):
            raise ArchError(f"{key} does not apply to a {self.block!r} block (it takes: {', '.join(kind.keys)})",
                            key=key)


def _kernel(stage: Stage, kind) -> None:
    """An int, or (for a kind that mixes kernels) a list of odd ones, each group's 'same' padding then keeping the
    same output size; stored as a tuple."""
    if not isinstance(stage.kernel, (list, tuple)):
        positive_int(stage.kernel, "kernel", MAX_KERNEL)
        return
    require(kind.mixed_kernel, f"a list of kernels (a mixed depthwise conv) applies to mbconv blocks, not to a "
                               f"{stage.block!r} block")
    require(len(stage.kernel) >= 1, "a list of kernels needs at least one")
    for k in stage.kernel:
        positive_int(k, "each kernel of the list", MAX_KERNEL)
        require(k % 2 == 1, f"each kernel of a mixed conv must be odd, got {k} in {list(stage.kernel)}")
    object.__setattr__(stage, "kernel", tuple(stage.kernel))


def _se_ratio(se) -> None:
    """true or false, or a squeeze ratio in (0, 1]."""
    if isinstance(se, bool):
        return
    require(isinstance(se, (int, float)) and math.isfinite(se),
            f"se must be true, false or a ratio from 0 to 1, got {se!r}")
    require(0 < se <= 1, f"se ratio must be above 0 and at most 1, got {se!r}")


def unused_keys(stage: Stage) -> list[str]:
    """The fields of a stage set away from their defaults that its block kind gives no meaning to."""
    from .stages import stage_kind

    keys = stage_kind(stage.block).keys
    return [f.name for f in fields(Stage)
            if f.name not in ("block",) + keys and getattr(stage, f.name) != f.default]


@dataclass(frozen=True)
class Head:
    """The last 1x1 conv before pooling: `channels` (scaled per `scale`) or `per_input` x its input channels."""

    channels: Optional[int] = None
    per_input: Optional[int] = None
    scale: str = "width"
    act: Optional[str] = None

    def __post_init__(self) -> None:
        _checked("scale", lambda: choice(self.scale, HEAD_SCALES, "head scale"))
        if self.channels is not None:
            _count(self, "channels", MAX_CHANNELS, "head channels")
        if self.per_input is not None:
            _count(self, "per_input", 64, "head per_input")
        _checked("act", lambda: _act(self.act, "head act"))


@dataclass(frozen=True)
class Classifier:
    classes: int = 1000
    hidden: tuple[int, ...] = ()  # hidden Linear widths, scaled by the width rule (MobileNetV3: 1280)
    hidden_scale: str = "width"  # fixed: the width multiplier leaves the hidden widths as they are
    hidden_act: str = "relu"
    pool: str = "adaptive"  # adaptive: AdaptiveAvgPool2d + flatten; mean: x.mean([2, 3]) (MnasNet);
    # functional: F.adaptive_avg_pool2d + flatten in forward (MobileNetV2; only ptflops and thop tell it apart)
    fc: bool = True  # False: the network ends with the pool (SqueezeNet classifies with its last conv stage)

    def __post_init__(self) -> None:
        _count(self, "classes", MAX_CHANNELS)
        for h in self.hidden:
            _checked("hidden", lambda h=h: positive_int(h, "hidden", MAX_CHANNELS))
        _checked("hidden_scale", lambda: choice(self.hidden_scale, HIDDEN_SCALES, "hidden_scale"))
        _checked("hidden_act", lambda: _act(self.hidden_act, "hidden_act"))
        _checked("pool", lambda: choice(self.pool, POOLS, "pool"))


@dataclass(frozen=True)
class Arch:
    name: str
    family: str
    resolution: int
    stem: Optional[Stem]  # None: the stages begin with the first layer (GoogLeNet, SqueezeNet, Inception-v3)
    stages: tuple[Stage, ...]
    head: Head = field(default_factory=Head)
    classifier: Classifier = field(default_factory=Classifier)
    rules: Rules = field(default_factory=Rules)
    width_mult: float = 1.0
    depth_mult: float = 1.0
    in_channels: int = 3

    def __post_init__(self) -> None:
        _count(self, "resolution", MAX_SIZE)
        _count(self, "in_channels", MAX_CHANNELS)
        _checked("stages", lambda: require(len(self.stages) > 0, "an architecture needs at least one stage"))
        _checked("width_mult", lambda: multiplier(self.width_mult, "width_mult"))
        _checked("depth_mult", lambda: multiplier(self.depth_mult, "depth_mult"))
