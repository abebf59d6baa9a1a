"""A network as a small tree: named layers, sequences, residual sums and squeeze-excitation gates.

The same tree is walked for the analytic rows (analyze.py) and turned into a torch.nn.Module
(build.py); a row's name is the dotted path of the module that computes it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional, Union

from .cost import Cost
from .errors import CostlabError
from .ops import Add, Mul, Op
from .shapes import Shape


@dataclass(frozen=True)
class Layer:
    name: str
    op: Op


@dataclass(frozen=True)
class Seq:
    name: str
    children: tuple["Node", ...]


@dataclass(frozen=True)
class Residual:
    """y = body(x) + shortcut(x), or + x when there is no shortcut; children run in order."""

    name: str
    children: tuple["Node", ...]
    shortcut: Optional["Node"] = None


@dataclass(frozen=True)
class Gate:
    """y = x * body(x): squeeze-excitation, body ends in a C x 1 x 1 gate."""

    name: str
    children: tuple["Node", ...]


Node = Union[Layer, Seq, Residual, Gate]


@dataclass(frozen=True)
class Row:
    """One layer of an analysed network, batch 1."""

    name: str
    op: str
    type: str
    stage: str
    in_shape: Shape
    out_shape: Shape
    kernel: str
    stride: int
    groups: int
    cost: Cost = field(default_factory=Cost)

    @property
    def params(self) -> int:
        return self.cost.params

    @property
    def macs(self) -> int:
        return self.cost.macs


def seq(name: str, *children: Optional[Node]) -> Seq:
    """A sequence, skipping children given as None (optional parts of a block)."""
    return Seq(name, tuple(c for c in children if c is not None))


def walk(node: Node, x: Shape, convention: str) -> tuple[list[Row], Shape]:
    """Every leaf of node in execution order as a Row, and the output shape."""
    rows: list[Row] = []
    if isinstance(node, Seq):  # the root's own name is not part of module paths; its children are the stages
        for child in node.children:
            x = _walk(child, x, convention, "", child.name, False, rows)
        return rows, x
    y = _walk(node, x, convention, "", node.name, False, rows)
    return rows, y


def _join(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


def _walk(node: Node, x: Shape, convention: str, prefix: str, stage: str, in_se: bool, rows: list[Row]) -> Shape:
    path = _join(prefix, node.name)
    if isinstance(node, Layer):
        y = node.op.out_shape(x)
        rows.append(_row(path, node.op, x, y, stage, in_se, convention))
        return y
    if isinstance(node, Seq):
        for child in node.children:
            x = _walk(child, x, convention, path, stage, in_se, rows)
        return x
    if isinstance(node, Residual):
        y = x
        for child in node.children:
            y = _walk(child, y, convention, path, stage, in_se, rows)
        skip = x if node.shortcut is None else _walk(node.shortcut, x, convention, path, stage, in_se, rows)
        if y != skip:
            raise CostlabError(f"{path}: residual branch gives {y} but the shortcut carries {skip}")
        rows.append(_row(_join(path, "add"), Add(), y, y, stage, in_se, convention))
        return y
    if isinstance(node, Gate):
        g = x
        for child in node.children:
            g = _walk(child, g, convention, path, stage, True, rows)
        if g != Shape(x.c):
            raise CostlabError(f"{path}: gate gives {g}, expected {x.c}x1x1")
        rows.append(_row(_join(path, "mul"), Mul(), x, x, stage, True, convention))
        return x
    raise TypeError(f"not a graph node: {node!r}")


def _row(path: str, op: Op, x: Shape, y: Shape, stage: str, in_se: bool, convention: str) -> Row:
    kernel, stride, groups = "", 1, 1
    if hasattr(op, "kernel"):
        k = op.kernel
        kernel = f"{k[0]}x{k[1]}" if isinstance(k, tuple) else f"{k}x{k}"
        s = op.stride
        stride = s[0] if isinstance(s, tuple) else s
        groups = getattr(op, "groups", 1)
    layer_type = op.kind
    if in_se and layer_type in ("pointwise", "conv", "linear"):
        layer_type = "se"
    return Row(path, type(op).__name__, layer_type, stage, x, y, kernel, stride, groups, op.cost(x, y, convention))
