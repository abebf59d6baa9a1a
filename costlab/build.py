"""Turn a costlab graph into a real torch.nn.Module whose module names equal the analytic row names.

Imports torch; only the commands that need a real model import this module.
"""

from __future__ import annotations

from collections import OrderedDict

import torch
from torch import nn

from . import ops
from .graph import Gate, Layer, Node, Residual, Seq

_ACTIVATIONS = {
    "relu": nn.ReLU,
    "relu6": nn.ReLU6,
    "silu": nn.SiLU,
    "sigmoid": nn.Sigmoid,
    "hardswish": nn.Hardswish,
    "hardsigmoid": nn.Hardsigmoid,
}


class SpatialMean(nn.Module):
    """x.mean([2, 3]), as MNASNet computes its global pool."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.mean([2, 3])


class FunctionalAdaptiveAvgPool2d(nn.Module):
    """F.adaptive_avg_pool2d(x, 1) from a module that is not an nn.AdaptiveAvgPool2d, as MobileNetV2's
    forward calls it (ptflops and thop count the two differently)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return nn.functional.adaptive_avg_pool2d(x, (1, 1))


class ResidualBlock(nn.Module):
    """Runs its children in order and adds the input (or the shortcut's output) back."""

    def __init__(self, children: "OrderedDict[str, nn.Module]", shortcut: nn.Module | None) -> None:
        super().__init__()
        self._body = list(children)
        for name, module in children.items():
            self.add_module(name, module)
        self.shortcut = shortcut

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = x
        for name in self._body:
            y = self._modules[name](y)
        return y + (x if self.shortcut is None else self.shortcut(x))


class GateBlock(nn.Module):
    """x * body(x): the squeeze-excitation rescale."""

    def __init__(self, children: "OrderedDict[str, nn.Module]") -> None:
        super().__init__()
        self.body = list(children)
        for name, module in children.items():
            self.add_module(name, module)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        g = x
        for name in self.body:
            g = self._modules[name](g)
        return x * g


def build_module(node: Node) -> nn.Module:
    """The nn.Module for node; Seq -> nn.Sequential keyed by child names."""
    if isinstance(node, Layer):
        return _leaf(node.op)
    children = OrderedDict((child.name, build_module(child)) for child in node.children)
    if isinstance(node, Seq):
        return nn.Sequential(children)
    if isinstance(node, Residual):
        shortcut = None if node.shortcut is None else build_module(node.shortcut)
        return ResidualBlock(children, shortcut)
    if isinstance(node, Gate):
        return GateBlock(children)
    raise TypeError(f"not a graph node: {node!r}")


def _leaf(op: ops.Op) -> nn.Module:
    if isinstance(op, ops.Conv2d):
        return nn.Conv2d(op.cin, op.cout, op.kernel, op.stride, op.padding, op.dilation, op.groups, op.bias)
    if isinstance(op, ops.Linear):
        return nn.Linear(op.fin, op.fout, op.bias)
    if isinstance(op, ops.BatchNorm2d):
        return nn.BatchNorm2d(op.channels, affine=op.affine)
    if isinstance(op, ops.Activation):
        return _ACTIVATIONS[op.function]()
    if isinstance(op, ops.AdaptiveAvgPool2d):
        return FunctionalAdaptiveAvgPool2d() if op.functional else nn.AdaptiveAvgPool2d(1)
    if isinstance(op, ops.SpatialMean):
        return SpatialMean()
    if isinstance(op, ops.MaxPool2d):
        return nn.MaxPool2d(op.kernel, op.stride, op.padding)
    if isinstance(op, ops.Flatten):
        return nn.Flatten(1)
    raise TypeError(f"no module for {op!r}")


def build_arch(name_or_path, alpha=None, resolution=None, rho=None) -> nn.Module:
    """A built-in or TOML architecture as a real nn.Module; module names equal `costlab arch` row names."""
    from .archs import arch_graph

    node, _, _ = arch_graph(name_or_path, alpha, resolution, rho)
    return build_module(node)
