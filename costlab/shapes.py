"""Tensor shapes, PyTorch's output-size rule, and the channel/depth rounding rules of the MBConv families."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Union

from .errors import CostlabError, require

IntPair = tuple[int, int]
PairLike = Union[int, tuple[int, int], list]


@dataclass(frozen=True)
class Shape:
    """An activation of one sample: channels x height x width (a flat vector is c x 1 x 1)."""

    c: int
    h: int = 1
    w: int = 1

    @property
    def numel(self) -> int:
        """Elements of one sample: c * h * w."""
        return self.c * self.h * self.w

    @property
    def spatial(self) -> int:
        """Positions per channel: h * w."""
        return self.h * self.w

    def __str__(self) -> str:
        return f"{self.c}x{self.h}x{self.w}"


def as_pair(value: PairLike, what: str) -> IntPair:
    """Normalise an int or a pair to (a, b), the way torch.nn.Conv2d does."""
    if isinstance(value, bool):
        raise CostlabError(f"{what} must be an integer or a pair of integers, got {value!r}")
    if isinstance(value, int):
        return (value, value)
    if isinstance(value, (tuple, list)) and len(value) == 2 and all(
        isinstance(v, int) and not isinstance(v, bool) for v in value
    ):
        return (int(value[0]), int(value[1]))
    raise CostlabError(f"{what} must be an integer or a pair of integers, got {value!r}")


def positive_int(value: object, what: str) -> int:
    """Return value if it is an int >= 1, else raise a CostlabError naming it."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise CostlabError(f"{what} must be a positive integer, got {value!r}")
    return value


def same_padding(kernel: IntPair, dilation: IntPair = (1, 1)) -> IntPair:
    """Padding that keeps the size at stride 1 for odd kernels: d * (k - 1) // 2 per axis."""
    return tuple(d * (k - 1) // 2 for k, d in zip(kernel, dilation))  # type: ignore[return-value]


def conv_output_size(size: int, kernel: int, stride: int, padding: int, dilation: int) -> int:
    """PyTorch's rule: floor((size + 2p - d(k - 1) - 1) / s) + 1."""
    effective = dilation * (kernel - 1) + 1
    require(
        size + 2 * padding >= effective,
        f"kernel {kernel} (dilation {dilation}) is larger than the padded input {size}+2*{padding}",
    )
    return (size + 2 * padding - effective) // stride + 1


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
