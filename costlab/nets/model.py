"""Architectures as typed, frozen data: a paper-style table (stem, one Stage row per stage, head, classifier)
plus the family's Rules. Built-in tables (tables.py) and TOML files (spec.py) load onto these same classes;
network.py turns one into a graph."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

from ..core.checks import positive_int
from ..core.vocab import ACTIVATIONS
from ..errors import CostlabError, require
from .scaling import Rules, choice

BLOCKS = ("dwsep", "conv", "mbconv", "fused_mbconv", "bottleneck")
HEAD_SCALES = ("width", "width_at_least_1", "fixed")
POOLS = ("adaptive", "mean", "functional")


def _act(value: Optional[str], what: str) -> None:
    if value is not None:
        choice(value, ACTIVATIONS, what)


def _positive_ratio(value, what: str) -> None:
    require(not isinstance(value, bool) and isinstance(value, (int, float)) and value > 0,
            f"{what} must be a positive number, got {value!r}")


@dataclass(frozen=True)
class Stem:
    channels: int
    kernel: int = 3
    stride: int = 2
    act: Optional[str] = None  # None: the family's activation
    maxpool: bool = False  # ResNet's 3x3 stride-2 max pool after the stem conv

    def __post_init__(self) -> None:
        positive_int(self.channels, "stem channels")
        positive_int(self.kernel, "stem kernel")
        positive_int(self.stride, "stem stride")
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
        choice(self.block, BLOCKS, "block")
        for what in ("channels", "repeats", "stride", "kernel", "groups"):
            positive_int(getattr(self, what), what)
        _positive_ratio(self.expand, "expand")
        if self.expanded is not None:
            positive_int(self.expanded, "expanded")
        _act(self.act, "act")


@dataclass(frozen=True)
class Head:
    """The last 1x1 conv before pooling: `channels` (scaled per `scale`) or `per_input` x its input channels."""

    channels: Optional[int] = None
    per_input: Optional[int] = None
    scale: str = "width"
    act: Optional[str] = None

    def __post_init__(self) -> None:
        choice(self.scale, HEAD_SCALES, "head scale")
        if self.channels is not None:
            positive_int(self.channels, "head channels")
        if self.per_input is not None:
            positive_int(self.per_input, "head per_input")
        _act(self.act, "head act")


@dataclass(frozen=True)
class Classifier:
    classes: int = 1000
    hidden: tuple[int, ...] = ()  # hidden Linear widths, scaled by the width rule (MobileNetV3: 1280)
    hidden_act: str = "relu"
    pool: str = "adaptive"  # adaptive: AdaptiveAvgPool2d + flatten; mean: x.mean([2, 3]) (MnasNet);
    # functional: F.adaptive_avg_pool2d + flatten in forward (MobileNetV2; only ptflops and thop tell it apart)

    def __post_init__(self) -> None:
        positive_int(self.classes, "classes")
        for h in self.hidden:
            positive_int(h, "hidden")
        _act(self.hidden_act, "hidden_act")
        choice(self.pool, POOLS, "pool")


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
        positive_int(self.resolution, "resolution")
        positive_int(self.in_channels, "in_channels")
        require(len(self.stages) > 0, "an architecture needs at least one stage")
        for what in ("width_mult", "depth_mult"):
            _positive_ratio(getattr(self, what), what)


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
