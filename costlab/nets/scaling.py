"""Scaling rules: how a width multiplier, an expansion ratio, a squeeze ratio or a depth multiplier turns a table's
numbers into channels and repeats. Each rounding rule is written here once; a family's Rules picks among them."""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..core.vocab import ACTIVATIONS
from ..errors import require


def make_divisible(value: float, divisor: int = 8, min_value: int | None = None) -> int:
    """Round to the nearest multiple of divisor, never below 90% of value (MobileNetV2/V3, EfficientNet)."""
    if min_value is None:
        min_value = divisor
    new_value = max(min_value, int(value + divisor / 2) // divisor * divisor)
    if new_value < 0.9 * value:
        new_value += divisor
    return new_value


def round_repeats(repeats: int, depth_multiplier: float) -> int:
    """EfficientNet's depth rule: ceil(repeats * depth_multiplier)."""
    return int(math.ceil(repeats * depth_multiplier))


def scale_channels_floor(channels: int, alpha: float) -> int:
    """MobileNetV1's width rule: int(alpha * channels)."""
    return int(channels * alpha)


def scale_size_round(size: int, rho: float) -> int:
    """MobileNet's resolution multiplier: round(rho * size)."""
    return int(round(size * rho))


WIDTH_RULES = {
    "floor": "int(c * alpha) (MobileNetV1)",
    "divisible8": "make_divisible(c * alpha, 8) (MobileNetV2/V3, MnasNet, EfficientNet)",
    "divisible2": "make_divisible(c * alpha, 2): even, as ShuffleNetV2's channel halves need (ShuffleNetV2)",
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

    def __post_init__(self) -> None:
        choice(self.width, WIDTH_RULES, "width rule")
        choice(self.expand, EXPAND_RULES, "expand rule")
        choice(self.se, SE_RULES, "se rule")
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

    def squeeze(self, cin: int, expanded: int) -> int:
        """Squeeze-excitation bottleneck width."""
        if self.se == "expanded/4,divisible8":
            return make_divisible(expanded // 4, 8)
        return max(1, cin // 4)
