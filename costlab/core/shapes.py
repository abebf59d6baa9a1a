"""Tensor shapes, PyTorch's output-size rule, and input shapes as users write them."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Sequence, Union

from ..errors import CostlabError, require
from .checks import MAX_BATCH, MAX_CHANNELS, MAX_SIZE, is_int, positive_int

IntPair = tuple[int, int]
PairLike = Union[int, tuple[int, int], list]


@dataclass(frozen=True)
class Shape:
    """An activation of one sample: channels x height x width (a flat vector is c x 1 x 1)."""

    c: int
    h: int = 1
    w: int = 1
    flat: bool = field(default=False, compare=False)  # a (N, F) tensor after a flatten or linear: F features

    @property
    def numel(self) -> int:
        """Elements of one sample: c * h * w."""
        return self.c * self.h * self.w

    @property
    def spatial(self) -> int:
        """Positions per channel: h * w."""
        return self.h * self.w

    @property
    def dims(self) -> tuple[int, int, int]:
        """(c, h, w)."""
        return (self.c, self.h, self.w)

    def batched(self, batch: int = 1) -> tuple[int, int, int, int]:
        """(batch, c, h, w): the dims a tensor of this shape has."""
        return (batch, self.c, self.h, self.w)

    def __str__(self) -> str:
        return "x".join(map(str, self.dims))

    @property
    def readable(self) -> str:
        """As a table shows it: 'CxHxW', or 'F' for a flat (N, F) tensor, never a 4-D shape it is not. (str() keeps
        CxHxW everywhere, so CSV and the committed reports read one form.)"""
        return str(self.c) if self.flat else str(self)


def shape_of(dims: Sequence[int]) -> Shape:
    """A tensor's dims (batch first) as costlab's per-sample Shape: (N,C,H,W) -> CxHxW, (N,F) -> Fx1x1."""
    rest = tuple(int(d) for d in dims[1:])
    if len(rest) == 3:
        return Shape(*rest)
    if len(rest) == 1:
        return Shape(rest[0])
    size = 1
    for d in rest:
        size *= d
    return Shape(size)


def as_pair(value: PairLike, what: str) -> IntPair:
    """Normalise an int or a pair to (a, b), the way torch.nn.Conv2d does."""
    if is_int(value):
        return (value, value)
    if isinstance(value, (tuple, list)) and len(value) == 2 and all(is_int(v) for v in value):
        return (int(value[0]), int(value[1]))
    raise CostlabError(f"{what} must be an integer or a pair of integers, got {value!r}")


def same_padding(kernel: IntPair, dilation: IntPair = (1, 1)) -> IntPair:
    """Padding on every side that keeps the size at stride 1 for odd kernels: d * (k - 1) // 2 per axis."""
    return tuple(d * (k - 1) // 2 for k, d in zip(kernel, dilation))  # type: ignore[return-value]


def same_padding_end(kernel: IntPair, dilation: IntPair = (1, 1)) -> IntPair:
    """The extra padding at the bottom and right that PyTorch's padding='same' adds for an even kernel: d(k-1) mod 2."""
    return tuple(d * (k - 1) % 2 for k, d in zip(kernel, dilation))  # type: ignore[return-value]


def conv_output_size(size: int, kernel: int, stride: int, padding: int, dilation: int, padding_end: int = 0) -> int:
    """PyTorch's rule: floor((size + 2p + p_end - d(k - 1) - 1) / s) + 1 (p_end: the extra padding at one end)."""
    effective = dilation * (kernel - 1) + 1
    padded = size + 2 * padding + padding_end
    require(padded >= effective, f"kernel {kernel} (dilation {dilation}) is larger than the padded input "
                                 f"{size}+2*{padding}" + (f"+{padding_end}" if padding_end else ""))
    return (padded - effective) // stride + 1


def parse_input_shape(value: Any, what: str = "input", rank: int | None = None) -> tuple[int, ...]:
    """An input shape, batch first, from '1,3,224,224' ('1x3x224x224') or a list of ints: positive integers,
    exactly rank of them when rank is given, at least 2 (batch and features) otherwise."""
    example = "1,3,224,224"
    if isinstance(value, str):
        parts = [p.strip() for p in re.split(r"[,x]", value.strip())]
        if not all(p.isascii() and p.isdigit() for p in parts):  # int() would read '２２４'
            raise CostlabError(f"{what}: cannot parse {value!r}; expected positive integers, batch first, like {example}")
        items: Sequence[Any] = [int(p) for p in parts]
    elif isinstance(value, (list, tuple)):
        items = value
    else:
        raise CostlabError(f"{what}: expected positive integers, batch first, like [1, 3, 224, 224], got {value!r}")
    count_ok = len(items) == rank if rank else 2 <= len(items) <= 6
    if not count_ok or not all(is_int(v) and v > 0 for v in items):
        count = f"{rank} positive integers" if rank else "2 to 6 positive integers"
        raise CostlabError(f"{what}: expected {count}, batch first, like {example}, got {value!r}")
    positive_int(items[0], f"{what}: batch", MAX_BATCH)
    if len(items) > 1:
        positive_int(items[1], f"{what}: channels", MAX_CHANNELS)
    for v in items[2:]:
        positive_int(v, f"{what}: each size", MAX_SIZE)
    return tuple(int(v) for v in items)
