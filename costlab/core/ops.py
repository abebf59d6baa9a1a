"""The ops a network is made of, as frozen data: each knows its shape rule, its cost and its memory traffic.

An op prices itself from tensor dims, batch first (``(N, C, H, W)``; ``(N, F)`` for a vector), so the
same method counts an analytic row (batch 1) and a traced module call (any batch). Adding an op means
its class here, its formula in formulas.py (or a Rate in conventions.py) and one entry in traced.bridge.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar, Optional, Sequence, Union

from . import formulas, traffic
from .checks import positive_int
from .conventions import Convention
from .cost import Cost
from ..errors import CostlabError, require
from .shapes import IntPair, Shape, conv_output_size
from .traffic import Traffic
from .vocab import ACTIVATIONS

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


def _pairs(op, fields: tuple[tuple[str, str, int], ...]) -> None:
    """Normalise each (field, name, lowest value) of a frozen op to a pair of ints, as torch takes an int or a pair."""
    for field_name, what, low in fields:
        value = getattr(op, field_name)
        pair = (value, value) if isinstance(value, int) and not isinstance(value, bool) else value
        if not (isinstance(pair, (tuple, list)) and len(pair) == 2
                and all(isinstance(v, int) and not isinstance(v, bool) and v >= low for v in pair)):
            raise CostlabError(f"{what} must be integers >= {low}, got {value!r}")
        object.__setattr__(op, field_name, tuple(pair))


@dataclass(frozen=True)
class Conv2d(Op):
    """torch.nn.Conv2d: groups=cin is depthwise, a 1x1 kernel with groups=1 is pointwise.

    padding is added on every side; padding_end once more at the bottom and right, which is how PyTorch's
    padding='same' keeps the size of an even kernel at stride 1 (d(k-1) in all, the odd one at the end).
    """

    cin: int
    cout: int
    kernel: IntPair = (3, 3)
    stride: IntPair = (1, 1)
    padding: IntPair = (0, 0)
    dilation: IntPair = (1, 1)
    groups: int = 1
    bias: bool = False
    padding_end: IntPair = (0, 0)

    def __post_init__(self) -> None:
        for what, value in (("input channels", self.cin), ("output channels", self.cout), ("groups", self.groups)):
            positive_int(value, what)
        _pairs(self, (("kernel", "kernel", 1), ("stride", "stride", 1), ("padding", "padding", 0),
                      ("dilation", "dilation", 1), ("padding_end", "padding_end", 0)))
        require(self.padding_end == (0, 0) or self.stride == (1, 1),
                "padding 'same' with an even kernel needs stride 1, as PyTorch's padding='same' does")
        require(self.cin % self.groups == 0, f"groups {self.groups} does not divide input channels {self.cin}")
        require(self.cout % self.groups == 0, f"groups {self.groups} does not divide output channels {self.cout}")

    @property
    def kind(self) -> str:  # type: ignore[override]
        """pointwise (1x1), depthwise (groups == cin > 1), grouped, or conv (full kxk)."""
        if self.groups > 1 and self.groups == self.cin:
            return "depthwise"
        if self.groups > 1:
            return "grouped"
        if self.kernel == (1, 1):
            return "pointwise"
        return "conv"

    def out_shape(self, x: Shape) -> Shape:
        """(cout, floor((H + 2p + p_end - d(k-1) - 1)/s) + 1, same for W): PyTorch's rule."""
        require(x.c == self.cin, f"conv expects {self.cin} input channels, got {x.c}")
        h = conv_output_size(x.h, self.kernel[0], self.stride[0], self.padding[0], self.dilation[0], self.padding_end[0])
        w = conv_output_size(x.w, self.kernel[1], self.stride[1], self.padding[1], self.dilation[1], self.padding_end[1])
        return Shape(self.cout, h, w)

    def cost(self, ins: Sequence[Dims], out: Dims, convention: "str | Convention") -> Cost:
        """formulas.conv: cout * (cin/groups) * kh * kw MACs per output position, N * Hout * Wout positions."""
        return formulas.conv(cin=self.cin, cout=self.cout, kernel=self.kernel, positions=numel(out) // self.cout,
                             groups=self.groups, bias=self.bias, convention=convention)

    def traffic(self, ins: Sequence[Dims], out: Dims) -> Traffic:
        """traffic.weighted: the input, the weights (and bias), the output."""
        return traffic.weighted(numel(ins[0]), numel(out), self.cost(ins, out, "paper").params)


@dataclass(frozen=True)
class Linear(Op):
    """torch.nn.Linear: fin -> fout on the last dim (a flattened vector in a CNN's classifier)."""

    fin: int
    fout: int
    bias: bool = True
    kind: ClassVar[str] = "linear"

    def out_shape(self, x: Shape) -> Shape:
        """fout x 1 x 1 from a vector of fin = C*H*W features."""
        require(x.numel == self.fin, f"linear expects {self.fin} input features, got {x.numel}")
        return Shape(self.fout)

    def cost(self, ins: Sequence[Dims], out: Dims, convention: "str | Convention") -> Cost:
        """formulas.linear: fin * fout MACs per row, rows = input elements / fin."""
        return formulas.linear(fin=self.fin, fout=self.fout, rows=numel(ins[0]) // self.fin, bias=self.bias,
                               convention=convention)

    def traffic(self, ins: Sequence[Dims], out: Dims) -> Traffic:
        """traffic.weighted: the input, the weights (and bias), the output."""
        return traffic.weighted(numel(ins[0]), numel(out), self.cost(ins, out, "paper").params)


@dataclass(frozen=True)
class BatchNorm2d(Op):
    """torch.nn.BatchNorm2d in eval mode; affine adds gamma and beta."""

    channels: int
    affine: bool = True
    kind: ClassVar[str] = "bn"

    def out_shape(self, x: Shape) -> Shape:
        """Unchanged: C x H x W."""
        require(x.c == self.channels, f"batch norm expects {self.channels} channels, got {x.c}")
        return x

    def cost(self, ins: Sequence[Dims], out: Dims, convention: "str | Convention") -> Cost:
        """formulas.batch_norm: 2C params; the convention's rate per element (paper: none)."""
        return formulas.batch_norm(channels=self.channels, positions=numel(ins[0]) // self.channels,
                                   affine=self.affine, convention=convention)

    def traffic(self, ins: Sequence[Dims], out: Dims) -> Traffic:
        """traffic.batch_norm: the map, running statistics (and gamma, beta), the map again."""
        return traffic.batch_norm(self.channels, numel(ins[0]) // self.channels, self.affine)


def _key(base: str, functional: bool) -> str:
    """An op's convention key: the module's, or '<base>.functional' when a forward calls torch.nn.functional."""
    return f"{base}.functional" if functional else base


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
        return _key(self.function, self.functional)

    def out_shape(self, x: Shape) -> Shape:
        """Unchanged: C x H x W."""
        return x


@dataclass(frozen=True)
class AdaptiveAvgPool2d(Op):
    """Global average pooling to 1x1: torch.nn.AdaptiveAvgPool2d(1), or with functional=True
    F.adaptive_avg_pool2d called in the model's forward (torchvision's MobileNetV2)."""

    functional: bool = False
    kind: ClassVar[str] = "pool"

    @property
    def key(self) -> str:  # type: ignore[override]
        """ptflops and thop price the module and the functional call differently."""
        return _key("adaptive_avg_pool", self.functional)

    def out_shape(self, x: Shape) -> Shape:
        """C x 1 x 1."""
        return Shape(x.c)


@dataclass(frozen=True)
class SpatialMean(Op):
    """x.mean([2, 3]) as MNASNet's forward does it: a global average that is not a module in torchvision."""

    kind: ClassVar[str] = "pool"
    key: ClassVar[str] = "mean"

    def out_shape(self, x: Shape) -> Shape:
        """C x 1 x 1."""
        return Shape(x.c)


def pool_output_size(size: int, kernel: int, stride: int, padding: int, ceil_mode: bool) -> int:
    """PyTorch's pooling rule: conv_output_size; with ceil_mode floor((size + 2p - k + s - 1) / s) + 1, one less if the
    last window would start in the right padding. A ceil_mode window may overhang the input (PyTorch clips it), so
    the kernel may exceed the padded input by up to s - 1 (SqueezeNet's last 3x3/2 pool on a 2x2 map gives 1x1)."""
    if not ceil_mode:
        return conv_output_size(size, kernel, stride, padding, 1)
    span = size + 2 * padding - kernel + stride - 1
    require(span >= 0, f"pool kernel {kernel} is larger than the padded input {size}+2*{padding} by more than "
                       f"stride - 1 = {stride - 1}")
    out = span // stride + 1
    if (out - 1) * stride >= size + padding:
        out -= 1
    return out


@dataclass(frozen=True)
class _Pool(Op):
    """A kxk window pooled with a stride: the shape rule shared by max and average pooling."""

    kernel: IntPair = (3, 3)
    stride: IntPair = (2, 2)
    padding: IntPair = (0, 0)
    ceil_mode: bool = False
    functional: bool = False  # F.max_pool2d / F.avg_pool2d called in a forward (Inception-v3's blocks)
    kind: ClassVar[str] = "pool"
    base: ClassVar[str] = ""

    def __post_init__(self) -> None:
        _pairs(self, (("kernel", "pool kernel", 1), ("stride", "pool stride", 1), ("padding", "pool padding", 0)))
        require(all(2 * p <= k for p, k in zip(self.padding, self.kernel)),
                f"pool padding {self.padding} must be at most half the kernel {self.kernel}, as PyTorch requires")

    @property
    def key(self) -> str:  # type: ignore[override]
        return _key(self.base, self.functional)

    def out_shape(self, x: Shape) -> Shape:
        """PyTorch's pooling rule per axis with the pool's kernel, stride, padding and ceil_mode."""
        h = pool_output_size(x.h, self.kernel[0], self.stride[0], self.padding[0], self.ceil_mode)
        w = pool_output_size(x.w, self.kernel[1], self.stride[1], self.padding[1], self.ceil_mode)
        return Shape(x.c, h, w)


@dataclass(frozen=True)
class MaxPool2d(_Pool):
    """torch.nn.MaxPool2d (ResNet's stem: 3x3, stride 2, padding 1)."""

    padding: IntPair = (1, 1)
    base: ClassVar[str] = "max_pool"


@dataclass(frozen=True)
class AvgPool2d(_Pool):
    """torch.nn.AvgPool2d (DenseNet's transitions; Inception-v3's pool branches, called functionally)."""

    count_include_pad: bool = True
    base: ClassVar[str] = "avg_pool"


@dataclass(frozen=True)
class Flatten(Op):
    """torch.nn.Flatten(1): C x H x W -> a vector."""

    kind: ClassVar[str] = "flatten"
    key: ClassVar[str] = "flatten"

    def out_shape(self, x: Shape) -> Shape:
        """C*H*W x 1 x 1."""
        return Shape(x.numel)

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
class Mul(Join):
    """The squeeze-excitation rescale x * gate (a C x 1 x 1 gate broadcast over H x W)."""

    kind: ClassVar[str] = "mul"
    key: ClassVar[str] = "mul"

    def out_shape(self, x: Shape, gate: Shape) -> Shape:
        """Unchanged: C x H x W."""
        require(gate == Shape(x.c), f"gate gives {gate}, expected {x.c}x1x1")
        return x


AnyOp = Union[Conv2d, Linear, BatchNorm2d, Activation, AdaptiveAvgPool2d, SpatialMean, MaxPool2d, AvgPool2d, Flatten,
              Add, Mul, Concat, Split, ChannelShuffle]
