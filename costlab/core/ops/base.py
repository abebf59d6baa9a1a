"""What every op is: frozen data with a row type, a convention key, a shape rule, a cost and a memory traffic."""

from __future__ import annotations

import math
from typing import ClassVar, Optional, Sequence

from .. import formulas, traffic
from ...errors import CostlabError
from ..conventions import Convention
from ..cost import Cost
from ..shapes import IntPair, Shape
from ..traffic import Traffic

Dims = tuple[int, ...]


def numel(dims: Sequence[int]) -> int:
    """Elements of a tensor: the product of its dims."""
    return math.prod(dims)


class Op:
    """What every op offers: its row type (kind), the convention key pricing it, and for windowed ops kernel, stride
    and groups (None, (1, 1) and 1 for the others)."""

    kind: ClassVar[str] = ""
    key: ClassVar[str] = ""
    kernel: Optional[IntPair] = None
    stride: IntPair = (1, 1)
    groups: int = 1
    arity: ClassVar[int] = 1  # how many tensors it takes

    def out_shape(self, *xs: Shape) -> Shape:
        """The output shape of one sample."""
        raise NotImplementedError

    def cost(self, ins: Sequence[Dims], out: Dims, convention: "str | Convention") -> Cost:
        """params and MACs of one call on tensors of these dims."""
        return formulas.by_rate(key=self.key, numel_in=sum(numel(d) for d in ins), numel_out=numel(out),
                                convention=convention)

    def traffic(self, ins: Sequence[Dims], out: Dims) -> Traffic:
        """Elements read and written by one call: each input once, the output once."""
        return traffic.streamed(sum(numel(d) for d in ins), numel(out))


def pairs(op, fields: tuple[tuple[str, str, int], ...]) -> None:
    """Normalise each (field, name, lowest value) of a frozen op to a pair of ints, as torch takes an int or a pair."""
    for field_name, what, low in fields:
        value = getattr(op, field_name)
        pair = (value, value) if isinstance(value, int) and not isinstance(value, bool) else value
        if not (isinstance(pair, (tuple, list)) and len(pair) == 2
                and all(isinstance(v, int) and not isinstance(v, bool) and v >= low for v in pair)):
            raise CostlabError(f"{what} must be integers >= {low}, got {value!r}")
        object.__setattr__(op, field_name, tuple(pair))


def key_of(base: str, functional: bool) -> str:
    """An op's convention key: the module's, or '<base>.functional' when a forward calls torch.nn.functional."""
    return f"{base}.functional" if functional else base


