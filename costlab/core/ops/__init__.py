"""The ops a network is made of, as frozen data: each knows its shape rule, its cost and its memory traffic.

An op prices itself from tensor dims, batch first (``(N, C, H, W)``; ``(N, F)`` for a vector), so the
same method counts an analytic row (batch 1) and a traced call (any batch). Adding an op means its class
here, its formula in core/formulas.py (or a Rate in core/conventions.py) and one entry in traced/bridge.py.
"""

from typing import Union

from .base import Dims, Op, key_of, numel, pairs
from .conv import Conv2d, ConvNd
from .dense import Attention, Einsum, Linear, MatMul
from .elementwise import (Activation, Add, ChannelShuffle, Concat, Flatten, GridSample, Join, Mul, Pad, Split,
                          Upsample)
from .norm import NORM_KINDS, BatchNorm2d, Norm
from .pool import AdaptiveAvgPool2d, AvgPool2d, MaxPool2d, Pool, SpatialMean, pool_output_size

# the ops of costlab's own graphs (each has a shape rule); the rest price what a traced model runs
AnyOp = Union[Conv2d, Linear, BatchNorm2d, Activation, AdaptiveAvgPool2d, SpatialMean, MaxPool2d, AvgPool2d, Flatten,
              Add, Mul, Concat, Split, ChannelShuffle, Pad]
TracedOp = Union[ConvNd, MatMul, Einsum, Attention, Norm, Pool, Upsample, GridSample]

__all__ = ["Dims", "Op", "key_of", "numel", "pairs", "Conv2d", "ConvNd", "Linear", "MatMul", "Einsum", "Attention",
           "Activation", "Add", "ChannelShuffle", "Concat", "Flatten", "Join", "Mul", "Pad", "Split", "Upsample",
           "GridSample",
           "BatchNorm2d", "Norm", "NORM_KINDS", "AdaptiveAvgPool2d", "AvgPool2d", "MaxPool2d", "Pool", "SpatialMean",
           "pool_output_size", "AnyOp", "TracedOp"]
