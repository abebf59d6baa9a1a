"""A costlab graph as a real torch.nn.Module whose module names equal the analytic row names.

Each container node becomes a GraphModule whose forward is core.graph.run, the same function the
analysis walks with shapes: the network computes exactly what was counted. Leaves come from the bridge.
"""

from __future__ import annotations

import time
from typing import Callable, Optional

import torch
from torch import nn

from ..core.graph import Container, Identity, Layer, Node, run, submodules
from ..core.ops import AnyOp
from .bridge import function_for, module_for


class _Tensors:
    """run()'s evaluator on tensors: children are this module's submodules, own ops come from the bridge."""

    def __init__(self, module: nn.Module) -> None:
        self.module = module

    def child(self, node: Node, *xs: torch.Tensor) -> torch.Tensor:
        return self.module._modules[node.name](*xs)

    def op(self, name: str, op: AnyOp, inputs: tuple[torch.Tensor, ...]) -> torch.Tensor:
        timer = self.module.op_timer
        if timer is None:
            return function_for(op)(*inputs)
        start = time.perf_counter()
        out = function_for(op)(*inputs)
        timer(name, time.perf_counter() - start)
        return out


class GraphModule(nn.Module):
    """A container node (Seq, Residual, Gate, Cell) with its children as submodules, named as the node names them.

    op_timer: None, or a callable (op name, seconds) called after every op the container computes in its own
    forward (a residual add, a gate's multiply, a cell's concat, sum or split), with that op's wall time:
    what forward hooks are to the submodules (perf.measure sets it while it times a network).
    """

    def __init__(self, node: Container) -> None:
        super().__init__()
        self.node = node
        self.op_timer: Optional[Callable[[str, float], None]] = None
        for child in submodules(node):
            self.add_module(child.name, build_module(child))

    def forward(self, *xs: torch.Tensor) -> torch.Tensor:
        return run(self.node, _Tensors(self), *xs)

    def extra_repr(self) -> str:
        return type(self.node).__name__


def build_module(node: Node) -> nn.Module:
    """The nn.Module for node: a leaf module for a Layer, nn.Identity for an Identity, a GraphModule for a container."""
    if isinstance(node, Layer):
        return module_for(node.op)
    if isinstance(node, Identity):
        return nn.Identity()
    return GraphModule(node)


def build_arch(name_or_path, alpha=None, resolution=None, rho=None, width_rule=None) -> nn.Module:
    """A built-in or TOML architecture as a real nn.Module; module names equal `costlab arch` row names."""
    from ..nets.registry import arch_graph

    return build_module(arch_graph(name_or_path, alpha, resolution, rho, width_rule=width_rule).node)
