"""A network as a small tree of named nodes, and the one walker that gives every node its meaning.

Layers are leaves (one op each); Seq, Residual and Gate are containers. ``run`` says once what a
container computes from its children: the analysis walks it with shapes (``walk``, giving one Row per
op in execution order), and traced.build runs the very same function on real tensors inside each
container's ``nn.Module.forward``. A row's name is the dotted path of the module computing it; the
root's own name is never part of a path. Ops a container computes itself (the residual add, the SE
multiply) are rows named ``<container>.add`` / ``<container>.mul``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional, Protocol, TypeVar, Union

from ..errors import CostlabError
from .conventions import Convention, get_convention
from .cost import Cost, Priced
from .ops import Add, AnyOp, Mul
from .shapes import Shape
from .traffic import Traffic

V = TypeVar("V")


@dataclass(frozen=True)
class Layer:
    """A leaf: one op, one module."""

    name: str
    op: AnyOp


@dataclass(frozen=True)
class Seq:
    """Children run one after the other."""

    name: str
    children: tuple["Node", ...]


@dataclass(frozen=True)
class Residual:
    """y = body(x) + shortcut(x), or + x when there is no shortcut; the body's children run in order."""

    name: str
    children: tuple["Node", ...]
    shortcut: Optional["Node"] = None


@dataclass(frozen=True)
class Gate:
    """y = x * body(x): squeeze-excitation, the body ends in a C x 1 x 1 gate."""

    name: str
    children: tuple["Node", ...]


Node = Union[Layer, Seq, Residual, Gate]
Container = Union[Seq, Residual, Gate]


def seq(name: str, *children: Optional[Node]) -> Seq:
    """A sequence, skipping children given as None (optional parts of a block)."""
    return Seq(name, tuple(c for c in children if c is not None))


def submodules(node: Container) -> tuple[Node, ...]:
    """The children of a container that are modules of their own, in registration order."""
    if isinstance(node, Residual) and node.shortcut is not None:
        return node.children + (node.shortcut,)
    return node.children


class Evaluator(Protocol[V]):
    """What run() needs: run a child node on a value, compute an op of the container's own on values."""

    def child(self, node: Node, x: V) -> V: ...

    def op(self, name: str, op: AnyOp, inputs: tuple[V, ...]) -> V: ...


def run(node: Container, ev: Evaluator[V], x: V) -> V:
    """What a container computes from its input x: the one definition, for shapes and for tensors alike."""
    if isinstance(node, Seq):
        return _chain(node.children, ev, x)
    if isinstance(node, Residual):
        y = _chain(node.children, ev, x)
        skip = x if node.shortcut is None else ev.child(node.shortcut, x)
        return ev.op("add", Add(), (y, skip))
    if isinstance(node, Gate):
        return ev.op("mul", Mul(), (x, _chain(node.children, ev, x)))
    raise TypeError(f"not a container node: {node!r}")


def _chain(children: tuple[Node, ...], ev: Evaluator[V], x: V) -> V:
    for child in children:
        x = ev.child(child, x)
    return x


# --- the analytic walk ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Row(Priced):
    """One op of an analysed network at batch 1, in execution order.

    tensors_in / tensor_out number the tensors of the pass (0 is the network's input), so tensor
    lifetimes can be read off the rows.
    """

    name: str
    op: AnyOp
    type: str
    stage: str
    inputs: tuple[Shape, ...]
    out_shape: Shape
    cost: Cost = field(default_factory=Cost)
    tensors_in: tuple[int, ...] = (0,)
    tensor_out: int = 1

    @property
    def in_shape(self) -> Shape:
        """The first input's shape (the feature map, for the residual add and SE multiply)."""
        return self.inputs[0]

    @property
    def traffic(self) -> Traffic:
        """Elements this op reads and writes at batch 1 (core.traffic, through the op)."""
        return self.op.traffic(tuple(s.batched() for s in self.inputs), self.out_shape.batched())

    @property
    def op_name(self) -> str:
        """The op's class name: Conv2d, BatchNorm2d, Activation, Add..."""
        return type(self.op).__name__

    @property
    def kernel_text(self) -> str:
        """'3x3' for windowed ops (conv, pooling), '' for the rest."""
        return "x".join(map(str, self.op.kernel)) if self.op.kernel else ""  # as Shape prints itself


@dataclass(frozen=True)
class _Value:
    shape: Shape
    tensor: int


class ShapeError(CostlabError):
    """An op that cannot take the shapes reaching it; path names the node, detail says why."""

    def __init__(self, path: str, detail: str) -> None:
        super().__init__(f"{path}: {detail}")
        self.path, self.detail = path, detail


def layer_type(op: AnyOp, in_se: bool) -> str:
    """A row's type: the op's kind, except that convs and linears inside a squeeze-excitation gate are 'se'."""
    return "se" if in_se and op.kind in ("pointwise", "conv", "linear") else op.kind


class _Shapes:
    """The evaluator of the analytic walk: values are shapes; every op becomes a Row."""

    def __init__(self, rows: list[Row], convention: Convention, path: str = "", stage: str = "",
                 in_se: bool = False) -> None:
        self.rows, self.convention, self.path, self.stage, self.in_se = rows, convention, path, stage, in_se

    def child(self, node: Node, x: _Value) -> _Value:
        path = f"{self.path}.{node.name}" if self.path else node.name
        stage = self.stage or node.name
        if isinstance(node, Layer):
            return self._emit(path, path, stage, node.op, (x,))
        nested = _Shapes(self.rows, self.convention, path, stage, self.in_se or isinstance(node, Gate))
        return run(node, nested, x)

    def op(self, name: str, op: AnyOp, inputs: tuple[_Value, ...]) -> _Value:
        path = f"{self.path}.{name}" if self.path else name
        return self._emit(path, self.path or name, self.stage or name, op, inputs)

    def _emit(self, path: str, where: str, stage: str, op: AnyOp, inputs: tuple[_Value, ...]) -> _Value:
        shapes = tuple(v.shape for v in inputs)
        try:
            y = op.out_shape(*shapes)
        except CostlabError as exc:
            raise ShapeError(where, str(exc)) from None
        cost = op.cost(tuple(s.batched() for s in shapes), y.batched(), self.convention)
        out = len(self.rows) + 1
        self.rows.append(Row(path, op, layer_type(op, self.in_se), stage, shapes, y, cost,
                             tuple(v.tensor for v in inputs), out))
        return _Value(y, out)


def walk(node: Node, x: Shape, convention: "str | Convention" = "paper") -> tuple[list[Row], Shape]:
    """Every op of node fed one sample of shape x, in execution order, as Rows; and the output shape."""
    rows: list[Row] = []
    ev = _Shapes(rows, get_convention(convention))
    start = _Value(x, 0)
    y = ev.child(node, start) if isinstance(node, Layer) else run(node, ev, start)
    return rows, y.shape
