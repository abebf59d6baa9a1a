"""The ops a network is made of, as frozen data: each knows its shape rule, its cost and its memory traffic.

An op prices itself from tensor dims, batch first (``(N, C, H, W)``; ``(N, F)`` for a vector), so the
same method counts an analytic row (batch 1) and a traced call (any batch). Adding an op means its class
here, its formula in core/formulas.py (or a Rate in core/conventions.py) and one entry in traced/bridge.py.
"""

from typing import Union

from .base import Dims, Op, key_of, numel, pairs
from .conv import Conv2d
from .dense import Linear
from .elementwise import Activation, Add, ChannelShuffle, Concat, Flatten, Join, Mul, Split
from .norm import BatchNorm2d
from .pool import AdaptiveAvgPool2d, AvgPool2d, MaxPool2d, SpatialMean, pool_output_size

AnyOp = Union[Conv2d, Linear, BatchNorm2d, Activation, AdaptiveAvgPool2d, SpatialMean, MaxPool2d, AvgPool2d, Flatten,
              Add, Mul, Concat, Split, ChannelShuffle]

__all__ = ["Dims", "Op", "key_of", "numel", "pairs", "Conv2d", "Linear", "Activation", "Add", "ChannelShuffle", "Concat",
           "Flatten", "Join", "Mul", "Split", "BatchNorm2d", "AdaptiveAvgPool2d", "AvgPool2d", "MaxPool2d",
           "SpatialMean", "pool_output_size", "AnyOp"]
