"""Scaling rules: how a width multiplier, an expansion ratio, a squeeze ratio or a depth multiplier turns a table's
numbers into channels and repeats. Each rounding rule is written here once; a family's Rules picks among them."""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

from ..core.vocab import ACTIVATIONS
from ..errors import require

DEFAULT_SE_RATIO = 0.25  # the squeeze ratio of a stage that says se = true


def make_divisible(value: float, divisor: int = 8, min_value: int | None = None) -> int:
    """Round to the nearest multiple of divisor, never below 90% of value (MobileNetV2/V3, EfficientNet)."""
    if min_value is None:
        min_value = divisor
    new_value = max(min_value, int(value + divisor / 2) // divisor * divisor)
    if new_value < 0.9 * value:
        new_value += divisor
    return new_value


def split_channels(channels: int, groups: int) -> tuple[int, ...]:
    """MixConv's channel split (timm's _split_channels): groups parts of channels // groups, the remainder added to
    the first: split_channels(10, 3) = (4, 3, 3)."""
    base = channels // groups
    return (channels - base * (groups - 1),) + (base,) * (groups - 1)


def squeeze_of_input(cin: int, ratio: float) -> int:
    """A squeeze-excitation width from the block's input: max(1, int(cin * ratio)) (torchvision's EfficientNet:
    cin // 4 at ratio 1/4; timm's MixNet, whose round(expanded * ratio / t) is the same for cin a multiple of 8)."""
    return max(1, int(cin * ratio))


def squeeze_ratio(se: "bool | float") -> float:
    """A stage's squeeze-excitation ratio: its number, DEFAULT_SE_RATIO for true, 0 for false."""
    if se is True:
        return DEFAULT_SE_RATIO
    return float(se) if se else 0.0


def round_repeats(repeats: int, depth_multiplier: float) -> int:
    """EfficientNet's depth rule: ceil(repeats * depth_multiplier)."""
    return int(math.ceil(repeats * depth_multiplier))


def scale_channels_floor(channels: int, alpha: float) -> int:
    """MobileNetV1's width rule: int(alpha * channels)."""
    return int(channels * alpha)


def scale_size_round(size: int, rho: float) -> int:
    """MobileNet's resolution multiplier: round(rho * size)."""
    return int(round(size * rho))


WIDTH_ROUNDING = {
    "floor": "int(c * alpha) (MobileNetV1)",
    "divisible8": "make_divisible(c * alpha, 8) (MobileNetV2/V3, MnasNet, EfficientNet)",
    "divisible2": "make_divisible(c * alpha, 2): even, as ShuffleNetV2's channel halves need (ShuffleNetV2)",
}
EXPAND_RULES = {
    "round": "int(round(cin * t)) (MobileNetV2)",
    "divisible8": "make_divisible(cin * t, 8) (EfficientNet)",
    "multiply": "cin * t (MnasNet)",
}
SE_RULES = {  # the ratio is the stage's se (a number), 1/4 when it says true
    "input/4": "max(1, int(cin * ratio)) (EfficientNet: cin // 4; MixNet)",
    "expanded/4,divisible8": "make_divisible(int(expanded * ratio), 8) (MobileNetV3: expanded // 4)",
}
SE_POOLS = {
    "adaptive": "nn.AdaptiveAvgPool2d(1) (torchvision)",
    "mean": "x.mean((2, 3)) in the block's forward (timm's SqueezeExcite)",
}
WIDTH_RULE_TORCHVISION, WIDTH_RULE_PAPER = "torchvision", "paper"
WIDTH_RULES = {
    WIDTH_RULE_TORCHVISION: "every width the table gives scaled on its own: an expanded size, the classifier's "
                            "hidden width, per_input x the scaled input for the head (torchvision's MobileNetV3)",
    WIDTH_RULE_PAPER: "an expanded size read as its ratio to the table's input and applied to the scaled input, the "
                      "classifier's hidden width kept, the head's table width scaled as a layer of its own, the stem "
                      "kept below stem_kept_below (timm's _gen_mobilenet_v3: the MobileNetV3 paper's Table 3)",
}


def choice(value: str, known, what: str) -> None:
    """value must be one of known: a CostlabError listing them otherwise."""
    require(value in known, f"unknown {what} {value!r}; known: {', '.join(known)}")


@dataclass(frozen=True)
class Rules:
    """A family's scaling rules and default activations."""

    width: str = "divisible8"
    expand: str = "divisible8"
    act: str = "relu"
    se: str = "input/4"
    se_act: str = "relu"
    se_gate: str = "sigmoid"
    se_pool: str = "adaptive"
    width_rule: str = WIDTH_RULE_TORCHVISION  # how a width multiplier applies to the table (WIDTH_RULES)
    stem_kept_below: float = 0.0  # under the paper rule, a multiplier below this keeps the stem's width

    def __post_init__(self) -> None:
        choice(self.width, WIDTH_ROUNDING, "width rounding")
        choice(self.expand, EXPAND_RULES, "expand rule")
        choice(self.se, SE_RULES, "se rule")
        choice(self.se_pool, SE_POOLS, "se_pool")
        choice(self.width_rule, WIDTH_RULES, "width_rule")
        require(isinstance(self.stem_kept_below, (int, float)) and not isinstance(self.stem_kept_below, bool)
                and 0 <= self.stem_kept_below <= 64, f"stem_kept_below must be a number from 0 to 64, "
                                                     f"got {self.stem_kept_below!r}")
        for what, value in (("act", self.act), ("se_act", self.se_act), ("se_gate", self.se_gate)):
            choice(value, ACTIVATIONS, what)

    def channels(self, c: int, width: float) -> int:
        """Output channels of a layer declared with c channels, at width multiplier width."""
        if self.width == "floor":
            return scale_channels_floor(c, width)
        return make_divisible(c * width, 2 if self.width == "divisible2" else 8)

    def expanded(self, cin: int, t: float) -> int:
        """Channels of the expanded (hidden) layer of an inverted residual with input cin, ratio t."""
        if self.expand == "round":
            return int(round(cin * t))
        if self.expand == "multiply":
            return int(cin * t)
        return make_divisible(cin * t, 8)

    @property
    def paper(self) -> bool:
        """The paper width rule (WIDTH_RULES)."""
        return self.width_rule == WIDTH_RULE_PAPER

    def expanded_from_size(self, expanded: int, cin: int, cin_table: int, width: float) -> int:
        """The hidden width of a block the table gives as an absolute size (MobileNetV3's "exp size"), on cin input
        channels (cin_table in the table). torchvision: the size scaled like any width; paper: the ratio
        expanded / cin_table, exact, applied to the scaled input by the expand rule (TF's expand_input_by_factor)."""
        if self.paper:
            return self.expanded(cin, Fraction(expanded, cin_table))
        return self.channels(expanded, width)

    def squeeze(self, cin: int, expanded: int, ratio: float = DEFAULT_SE_RATIO) -> int:
        """Squeeze-excitation bottleneck width at a squeeze ratio (SE_RULES)."""
        if self.se == "expanded/4,divisible8":
            return make_divisible(int(expanded * ratio), 8)
        return squeeze_of_input(cin, ratio)
