"""Primitive layers as frozen data: what each does to a shape and which formula prices it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Union

from . import formulas
from .cost import Cost
from .errors import CostlabError, require
from .shapes import IntPair, Shape, conv_output_size

ACTIVATIONS = ("relu", "relu6", "silu", "sigmoid", "hardswish", "hardsigmoid")


@dataclass(frozen=True)
class Conv2d:
    """torch.nn.Conv2d: groups=cin is depthwise, a 1x1 kernel with groups=1 is pointwise."""

    cin: int
    cout: int
    kernel: IntPair = (3, 3)
    stride: IntPair = (1, 1)
    padding: IntPair = (0, 0)
    dilation: IntPair = (1, 1)
    groups: int = 1
    bias: bool = False

    def __post_init__(self) -> None:
        for what, value in (("input channels", self.cin), ("output channels", self.cout), ("groups", self.groups)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise CostlabError(f"{what} must be a positive integer, got {value!r}")
        for what, pair, low in (("kernel", self.kernel, 1), ("stride", self.stride, 1),
                                ("padding", self.padding, 0), ("dilation", self.dilation, 1)):
            if any(isinstance(v, bool) or not isinstance(v, int) or v < low for v in pair):
                raise CostlabError(f"{what} must be integers >= {low}, got {pair!r}")
        require(self.cin % self.groups == 0, f"groups {self.groups} does not divide input channels {self.cin}")
        require(self.cout % self.groups == 0, f"groups {self.groups} does not divide output channels {self.cout}")

    @property
    def kind(self) -> str:
        """pointwise (1x1), depthwise (groups == cin > 1), grouped, or conv (full kxk)."""
        if self.groups > 1 and self.groups == self.cin:
            return "depthwise"
        if self.groups > 1:
            return "grouped"
        if self.kernel == (1, 1):
            return "pointwise"
        return "conv"

    def out_shape(self, x: Shape) -> Shape:
        """(cout, floor((H + 2p - d(k-1) - 1)/s) + 1, same for W): PyTorch's rule."""
        require(x.c == self.cin, f"conv expects {self.cin} input channels, got {x.c}")
        h = conv_output_size(x.h, self.kernel[0], self.stride[0], self.padding[0], self.dilation[0])
        w = conv_output_size(x.w, self.kernel[1], self.stride[1], self.padding[1], self.dilation[1])
        return Shape(self.cout, h, w)

    def cost(self, x: Shape, y: Shape, convention: str) -> Cost:
        """formulas.conv2d at the output size: cout * (cin/groups) * kh * kw * Hout * Wout MACs."""
        return formulas.conv2d(self.cin, self.cout, *self.kernel, y.h, y.w, self.groups, self.bias, convention)


@dataclass(frozen=True)
class Linear:
    """torch.nn.Linear on a flattened vector."""

    fin: int
    fout: int
    bias: bool = True
    kind = "linear"

    def out_shape(self, x: Shape) -> Shape:
        """fout x 1 x 1 from a vector of fin = C*H*W features."""
        require(x.numel == self.fin, f"linear expects {self.fin} input features, got {x.numel}")
        return Shape(self.fout)

    def cost(self, x: Shape, y: Shape, convention: str) -> Cost:
        """formulas.linear: fin * fout MACs, fin * fout (+ fout) params."""
        return formulas.linear(self.fin, self.fout, self.bias, convention=convention)


@dataclass(frozen=True)
class BatchNorm2d:
    """torch.nn.BatchNorm2d in eval mode; affine adds gamma and beta."""

    channels: int
    affine: bool = True
    kind = "bn"

    def out_shape(self, x: Shape) -> Shape:
        """Unchanged: C x H x W."""
        require(x.c == self.channels, f"batch norm expects {self.channels} channels, got {x.c}")
        return x

    def cost(self, x: Shape, y: Shape, convention: str) -> Cost:
        """formulas.batch_norm: 2C params; C*H*W*(2 or 1) MACs under fvcore, none under paper."""
        return formulas.batch_norm(self.channels, x.spatial, self.affine, convention)


@dataclass(frozen=True)
class Activation:
    """An elementwise nonlinearity by name (relu, relu6, silu, sigmoid, hardswish, hardsigmoid)."""

    function: str
    kind = "act"

    def __post_init__(self) -> None:
        require(self.function in ACTIVATIONS, f"unknown activation {self.function!r}; known: {', '.join(ACTIVATIONS)}")

    def out_shape(self, x: Shape) -> Shape:
        """Unchanged: C x H x W."""
        return x

    def cost(self, x: Shape, y: Shape, convention: str) -> Cost:
        """formulas.activation: per-element count of this function under the convention (paper, fvcore: 0)."""
        return formulas.activation(self.function, x.numel, convention)


@dataclass(frozen=True)
class AdaptiveAvgPool2d:
    """Global average pooling to 1x1: torch.nn.AdaptiveAvgPool2d(1), or with functional=True
    F.adaptive_avg_pool2d called in the model's forward (torchvision's MobileNetV2)."""

    functional: bool = False
    kind = "pool"

    def out_shape(self, x: Shape) -> Shape:
        """C x 1 x 1."""
        return Shape(x.c)

    def cost(self, x: Shape, y: Shape, convention: str) -> Cost:
        """formulas.adaptive_avg_pool: C * H_in * W_in under fvcore, 0 under paper."""
        return formulas.adaptive_avg_pool(x.c, x.spatial, convention, self.functional)


@dataclass(frozen=True)
class SpatialMean:
    """x.mean([2, 3]) as MNASNet's forward does it: a global average that is not a module in torchvision."""

    kind = "pool"

    def out_shape(self, x: Shape) -> Shape:
        """C x 1 x 1."""
        return Shape(x.c)

    def cost(self, x: Shape, y: Shape, convention: str) -> Cost:
        """formulas.uncounted: no tool's default handles price x.mean."""
        return formulas.uncounted(x.numel, convention)


@dataclass(frozen=True)
class MaxPool2d:
    """torch.nn.MaxPool2d (ResNet's stem)."""

    kernel: int = 3
    stride: int = 2
    padding: int = 1
    kind = "pool"

    def out_shape(self, x: Shape) -> Shape:
        """PyTorch's rule per axis with the pool's kernel, stride and padding."""
        h = conv_output_size(x.h, self.kernel, self.stride, self.padding, 1)
        w = conv_output_size(x.w, self.kernel, self.stride, self.padding, 1)
        return Shape(x.c, h, w)

    def cost(self, x: Shape, y: Shape, convention: str) -> Cost:
        """formulas.max_pool: per input element under the conventions that count it, else 0."""
        return formulas.max_pool(x.numel, convention)


@dataclass(frozen=True)
class Flatten:
    """torch.nn.Flatten(1): C x H x W -> a vector."""

    kind = "flatten"

    def out_shape(self, x: Shape) -> Shape:
        """C*H*W x 1 x 1."""
        return Shape(x.numel)

    def cost(self, x: Shape, y: Shape, convention: str) -> Cost:
        """Free: a view."""
        return Cost()


@dataclass(frozen=True)
class Add:
    """The residual sum x + f(x)."""

    kind = "add"

    def out_shape(self, x: Shape) -> Shape:
        """Unchanged: C x H x W."""
        return x

    def cost(self, x: Shape, y: Shape, convention: str) -> Cost:
        """formulas.uncounted: the residual add is not priced by any convention costlab has."""
        return formulas.uncounted(x.numel, convention)


@dataclass(frozen=True)
class Mul:
    """The squeeze-excitation rescale x * gate (gate broadcast over H x W)."""

    kind = "mul"

    def out_shape(self, x: Shape) -> Shape:
        """Unchanged: C x H x W."""
        return x

    def cost(self, x: Shape, y: Shape, convention: str) -> Cost:
        """formulas.uncounted: the SE rescale is not priced by any convention costlab has."""
        return formulas.uncounted(x.numel, convention)


Op = Union[Conv2d, Linear, BatchNorm2d, Activation, AdaptiveAvgPool2d, SpatialMean, MaxPool2d, Flatten, Add, Mul]
