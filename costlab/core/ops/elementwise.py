"""Elementwise ops and joins: activations, flatten, sums, products, concatenation, channel split and shuffle."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Sequence

from .. import formulas, traffic
from ...errors import require
from ..checks import positive_int
from ..conventions import Convention
from ..cost import Cost
from ..shapes import Shape
from ..traffic import Traffic
from ..vocab import ACTIVATIONS
from .base import Dims, Op, key_of, numel


@dataclass(frozen=True)
class Activation(Op):
    """An elementwise nonlinearity by name (relu, relu6, silu, sigmoid, hardswish, hardsigmoid); functional=True
    when a forward calls F.relu itself instead of an nn.ReLU module (GoogLeNet's BasicConv2d, DenseNet's head)."""

    function: str
    functional: bool = False
    kind: ClassVar[str] = "act"

    def __post_init__(self) -> None:
        require(self.function in ACTIVATIONS, f"unknown activation {self.function!r}; known: {', '.join(ACTIVATIONS)}")

    @property
    def key(self) -> str:  # type: ignore[override]
        """Priced by its function's rate: ptflops counts an nn.ReLU twice, F.relu, relu6 and silu once."""
        return key_of(self.function, self.functional)

    def out_shape(self, x: Shape) -> Shape:
        """Unchanged: C x H x W."""
        return x


@dataclass(frozen=True)
class Flatten(Op):
    """torch.nn.Flatten(1): C x H x W -> a vector."""

    kind: ClassVar[str] = "flatten"
    key: ClassVar[str] = "flatten"

    def out_shape(self, x: Shape) -> Shape:
        """C*H*W features."""
        return Shape(x.numel, flat=True)

    def traffic(self, ins: Sequence[Dims], out: Dims) -> Traffic:
        """traffic.view: a reshape moves nothing."""
        return traffic.view()


class Join(Op):
    """An op joining two or more tensors in its container's own forward (sum, product, concat): priced per output
    element, every input read once and the result written once."""

    arity: ClassVar[int] = 2

    def cost(self, ins: Sequence[Dims], out: Dims, convention: "str | Convention") -> Cost:
        """formulas.by_rate on the output elements (an n-element join combines n pairs)."""
        return formulas.by_rate(key=self.key, numel_in=numel(out), numel_out=numel(out), convention=convention)

    def traffic(self, ins: Sequence[Dims], out: Dims) -> Traffic:
        """traffic.combined: every input read, the result written."""
        return traffic.combined(tuple(numel(d) for d in ins), numel(out))


@dataclass(frozen=True)
class Add(Join):
    """The sum of two or more equal shapes: a residual x + f(x), or parallel branches summed (ResNeXt's paths)."""

    kind: ClassVar[str] = "add"
    key: ClassVar[str] = "add"

    def out_shape(self, *xs: Shape) -> Shape:
        """Unchanged: C x H x W, the same for every input."""
        require(len(xs) >= 2, f"a sum takes at least two inputs, got {len(xs)}")
        require(len(set(xs)) == 1, "a sum needs equal shapes, got " + " and ".join(map(str, xs)))
        return xs[0]

    def cost(self, ins: Sequence[Dims], out: Dims, convention: "str | Convention") -> Cost:
        """formulas.by_rate: n inputs are n - 1 additions per output element."""
        n = numel(out) * (len(ins) - 1)
        return formulas.by_rate(key=self.key, numel_in=n, numel_out=n, convention=convention)


@dataclass(frozen=True)
class Concat(Join):
    """torch.cat along channels: inputs of the same height and width, channels added up (a copy into one tensor)."""

    kind: ClassVar[str] = "concat"
    key: ClassVar[str] = "concat"

    def out_shape(self, *xs: Shape) -> Shape:
        """(C1 + C2 + ..., H, W)."""
        require(len(xs) >= 1, "a concat takes at least one input")
        require(len({(x.h, x.w) for x in xs}) == 1,
                "a concat needs the same height and width, got " + ", ".join(map(str, xs)))
        return Shape(sum(x.c for x in xs), xs[0].h, xs[0].w)

    def cost(self, ins: Sequence[Dims], out: Dims, convention: "str | Convention") -> Cost:
        """formulas.by_rate on the elements copied (no tool counts a concat)."""
        return formulas.by_rate(key=self.key, numel_in=numel(out), numel_out=numel(out), convention=convention)


@dataclass(frozen=True)
class Split(Op):
    """torch.split along channels into parts of the given sizes: views of the input, nothing copied."""

    sizes: tuple[int, ...]
    kind: ClassVar[str] = "split"
    key: ClassVar[str] = "split"

    def __post_init__(self) -> None:
        require(len(self.sizes) >= 1, "a split needs at least one part")
        for size in self.sizes:
            positive_int(size, "split size")

    def out_shape(self, x: Shape) -> tuple[Shape, ...]:  # type: ignore[override]
        """One C_i x H x W shape per part; the sizes must add up to C."""
        require(sum(self.sizes) == x.c, f"split sizes {list(self.sizes)} add up to {sum(self.sizes)}, "
                                        f"but the input has {x.c} channels")
        return tuple(Shape(c, x.h, x.w) for c in self.sizes)

    def traffic(self, ins: Sequence[Dims], out: Dims) -> Traffic:
        """traffic.view: the parts are views."""
        return traffic.view()


@dataclass(frozen=True)
class ChannelShuffle(Op):
    """ShuffleNet's channel shuffle with g groups: (N, g, C/g, H, W) transposed to (N, C/g, g, H, W), a copy."""

    groups: int = 2
    kind: ClassVar[str] = "shuffle"
    key: ClassVar[str] = "shuffle"

    def __post_init__(self) -> None:
        positive_int(self.groups, "shuffle groups")

    def out_shape(self, x: Shape) -> Shape:
        """Unchanged: C x H x W (C divisible by the groups)."""
        require(x.c % self.groups == 0, f"shuffle groups {self.groups} do not divide {x.c} channels")
        return x


@dataclass(frozen=True)
class Pad(Op):
    """torch.nn.ZeroPad2d((left, right, top, bottom)): zero rows and columns added at each side, a negative amount
    cropping instead. NASNet's factorized reduction pads (-1, 1, -1, 1): one pixel cropped at the top left and one
    zero added at the bottom right, so the stride-2 pool after it samples the odd pixels."""

    amounts: tuple[int, int, int, int]
    kind: ClassVar[str] = "pad"
    key: ClassVar[str] = "pad"

    def __post_init__(self) -> None:
        require(isinstance(self.amounts, (tuple, list)) and len(self.amounts) == 4
                and all(isinstance(a, int) and not isinstance(a, bool) for a in self.amounts),
                f"padding must be four integers (left, right, top, bottom), got {self.amounts!r}")
        object.__setattr__(self, "amounts", tuple(self.amounts))

    def out_shape(self, x: Shape) -> Shape:
        """(C, H + top + bottom, W + left + right)."""
        left, right, top, bottom = self.amounts
        h, w = x.h + top + bottom, x.w + left + right
        require(h >= 1 and w >= 1, f"padding {list(self.amounts)} leaves {x} with no pixels")
        return Shape(x.c, h, w)


@dataclass(frozen=True)
class Mul(Join):
    """The squeeze-excitation rescale x * gate (a C x 1 x 1 gate broadcast over H x W)."""

    kind: ClassVar[str] = "mul"
    key: ClassVar[str] = "mul"

    def out_shape(self, x: Shape, gate: Shape) -> Shape:
        """Unchanged: C x H x W."""
        require(gate == Shape(x.c), f"gate gives {gate}, expected {x.c}x1x1")
        return x




@dataclass(frozen=True)
class Upsample(Op):
    """F.interpolate / nn.Upsample of a rank-d input (d = 1, 2, 3) in a mode (nearest, bilinear, bicubic, ...)."""

    mode: str = "nearest"
    rank: int = 2
    functional: bool = False
    kind: ClassVar[str] = "upsample"

    @property
    def key(self) -> str:  # type: ignore[override]
        """upsample_nearest2d, upsample_bilinear2d, ...: fvcore prices only those two."""
        return key_of(f"upsample_{self.mode}{self.rank}d", self.functional)


@dataclass(frozen=True)
class GridSample(Op):
    """F.grid_sample: fvcore counts it as bilinear, 4 per output element."""

    kind: ClassVar[str] = "upsample"
    key: ClassVar[str] = "grid_sample"
    arity: ClassVar[int] = 2
