"""Pooling: global (adaptive, x.mean) and windowed (max, average)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from ...errors import require
from ..shapes import IntPair, Shape, conv_output_size
from .base import Op, key_of, pairs


@dataclass(frozen=True)
class AdaptiveAvgPool2d(Op):
    """Global average pooling to 1x1: torch.nn.AdaptiveAvgPool2d(1), or with functional=True
    F.adaptive_avg_pool2d called in the model's forward (torchvision's MobileNetV2)."""

    functional: bool = False
    kind: ClassVar[str] = "pool"

    @property
    def key(self) -> str:  # type: ignore[override]
        """ptflops and thop price the module and the functional call differently."""
        return key_of("adaptive_avg_pool", self.functional)

    def out_shape(self, x: Shape) -> Shape:
        """C x 1 x 1."""
        return Shape(x.c)


@dataclass(frozen=True)
class SpatialMean(Op):
    """x.mean([2, 3]) as MNASNet's forward does it: a global average that is not a module in torchvision; keepdim:
    x.mean((2, 3), keepdim=True), as timm's SqueezeExcite pools before its 1x1 convs."""

    keepdim: bool = False
    kind: ClassVar[str] = "pool"
    key: ClassVar[str] = "mean"

    def out_shape(self, x: Shape) -> Shape:
        """C x 1 x 1 (keepdim), or C features."""
        return Shape(x.c, flat=not self.keepdim)


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
        pairs(self, (("kernel", "pool kernel", 1), ("stride", "pool stride", 1), ("padding", "pool padding", 0)))
        require(all(2 * p <= k for p, k in zip(self.padding, self.kernel)),
                f"pool padding {self.padding} must be at most half the kernel {self.kernel}, as PyTorch requires")

    @property
    def key(self) -> str:  # type: ignore[override]
        return key_of(self.base, self.functional)

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
class Pool(Op):
    """A pooling as a traced model runs it, of any rank: max or avg, windowed or adaptive, module or functional."""

    pool: str = "avg"
    rank: int = 2
    adaptive: bool = False
    functional: bool = False
    kind: ClassVar[str] = "pool"

    @property
    def key(self) -> str:  # type: ignore[override]
        """adaptive_avg_pool, max_pool, avg_pool1d, adaptive_max_pool3d... (rank 2 unsuffixed, as the 2-d pools)."""
        base = ("adaptive_" if self.adaptive else "") + f"{self.pool}_pool" + ("" if self.rank == 2 else f"{self.rank}d")
        return key_of(base, self.functional)
