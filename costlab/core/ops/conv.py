"""Convolutions: the analytic Conv2d of costlab's graphs, and the convolution of any rank a traced model runs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from .. import formulas, traffic
from ...errors import require
from ..checks import positive_int
from ..conventions import Convention
from ..cost import Cost
from ..shapes import IntPair, Shape, conv_output_size
from ..traffic import Traffic
from .base import Dims, Op, numel, pairs


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
        pairs(self, (("kernel", "kernel", 1), ("stride", "stride", 1), ("padding", "padding", 0),
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
class ConvNd(Op):
    """A convolution of any rank as a traced model runs it (Conv1d, Conv3d, ConvTranspose1d/2d/3d, F.conv*):
    its weight is cout x cin/groups x k... (cin x cout/groups x k... when transposed)."""

    cin: int
    cout: int
    kernel: tuple[int, ...] = (3, 3)
    groups: int = 1
    bias: bool = False
    transposed: bool = False

    @property
    def kind(self) -> str:  # type: ignore[override]
        return "transposed" if self.transposed else "conv"

    @property
    def key(self) -> str:  # type: ignore[override]
        return "conv_transpose" if self.transposed else "conv"

    def cost(self, ins: Sequence[Dims], out: Dims, convention: "str | Convention") -> Cost:
        """formulas.conv at N * prod(output size) positions, or N * prod(input size) when transposed: every input
        position scatters one kernel, as fvcore and FlopCounterMode count it."""
        positions = numel(ins[0]) // self.cin if self.transposed else numel(out) // self.cout
        return formulas.conv(cin=self.cin, cout=self.cout, kernel=self.kernel, positions=positions,
                             groups=self.groups, bias=self.bias, convention=convention)

    def traffic(self, ins: Sequence[Dims], out: Dims) -> Traffic:
        """traffic.weighted: the input, the weights (and bias), the output."""
        return traffic.weighted(numel(ins[0]), numel(out), self.cost(ins, out, "paper").params)
