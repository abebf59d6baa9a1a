"""A network as a small tree of named nodes, and the one walker that gives every node its meaning.

Layers are leaves (one op each); Seq, Residual, Gate and Cell are containers; Identity passes its input through.
A Cell is a small graph: named wires, each a child node or an op of the cell's own (concat, sum, multiply,
split) reading earlier wires or the cell's inputs, so it holds parallel branches, channel splits and cells
with more than one input (a NASNet cell takes the two previous cells' outputs). ``run`` says once what a
container computes from its children: the analysis walks it with shapes (``walk``, giving one Row per op in
execution order), and traced.build runs the very same function on real tensors inside each container's
``nn.Module.forward``. A row's name is the dotted path of the module computing it; the root's own name is
never part of a path. Ops a container computes itself are rows named ``<container>.<wire>`` (``.add``, ``.mul``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional, Protocol, TypeVar, Union

from ..errors import CostlabError, require
from .checks import MAX_CHANNELS, MAX_ROWS
from .conventions import Convention, get_convention
from .cost import Cost, Priced
from .ops import Add, AnyOp, Concat, Mul, Split
from .shapes import Shape
from .traffic import Traffic

V = TypeVar("V")


@dataclass(frozen=True)
class Layer:
    """A leaf: one op, one module."""

    name: str
    op: AnyOp


@dataclass(frozen=True)
class Identity:
    """A branch that passes its input through: no module, no row (DenseNet's concat of x with f(x))."""

    name: str = "identity"


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


@dataclass(frozen=True)
class Wire:
    """One named value of a Cell: a child node run on its inputs, or an op of the cell's own (node None).
    An input names a cell input or an earlier wire; 'split:1' is the second part of a wire that splits."""

    name: str
    inputs: tuple[str, ...]
    node: Optional["Node"] = None
    op: Optional[AnyOp] = None


@dataclass(frozen=True)
class Cell:
    """A small graph: its inputs, named wires in execution order, and the wire it returns; a tuple of wires returns
    them all (a stage of NASNet cells hands on its last output and the one its next cell takes as the previous)."""

    name: str
    inputs: tuple[str, ...]
    wires: tuple[Wire, ...]
    output: Union[str, tuple[str, ...]]

    def __post_init__(self) -> None:
        known = set(self.inputs)
        for wire in self.wires:
            require((wire.node is None) != (wire.op is None), f"{self.name}.{wire.name}: a wire is a node or an op")
            if wire.node is not None and wire.node.name != wire.name:
                raise CostlabError(f"{self.name}.{wire.name}: the wire is named {wire.name!r} but its node "
                                   f"{wire.node.name!r}")
            for source in wire.inputs:
                require(source.split(":")[0] in known,
                        f"{self.name}.{wire.name}: unknown input {source!r} (known here: {', '.join(sorted(known))})")
            require(wire.name not in known, f"{self.name}: two values are named {wire.name!r}")
            known.add(wire.name)
        for output in (self.output,) if isinstance(self.output, str) else self.output:
            require(output.split(":")[0] in known, f"{self.name}: unknown output {output!r}")


Node = Union[Layer, Identity, Seq, Residual, Gate, Cell]
Container = Union[Seq, Residual, Gate, Cell]


def seq(name: str, *children: Optional[Node]) -> Seq:
    """A sequence, skipping children given as None (optional parts of a block)."""
    return Seq(name, tuple(c for c in children if c is not None))


def branches(name: str, parts: tuple[Node, ...], join: str = "concat") -> Cell:
    """Parallel branches from one input, joined by channel concatenation ('concat') or by sum ('sum')."""
    joiner = {"concat": Concat(), "sum": Add()}[join]
    wires = tuple(Wire(p.name, ("x",), node=p) for p in parts)
    return Cell(name, ("x",), wires + (Wire(join, tuple(p.name for p in parts), op=joiner),), join)


def split(name: str, sizes: tuple[int, ...], parts: tuple[Node, ...], join: str = "concat") -> Cell:
    """The input's channels split into sizes (views, as torch.split), part i through parts[i], then joined."""
    require(len(sizes) == len(parts), f"{name}: {len(sizes)} channel parts but {len(parts)} branches")
    joiner = {"concat": Concat(), "sum": Add()}[join]
    wires = (Wire("split", ("x",), op=Split(tuple(sizes))),)
    wires += tuple(Wire(p.name, (f"split:{i}",), node=p) for i, p in enumerate(parts))
    return Cell(name, ("x",), wires + (Wire(join, tuple(p.name for p in parts), op=joiner),), join)


def submodules(node: Container) -> tuple[Node, ...]:
    """The children of a container that are modules of their own, in registration order."""
    if isinstance(node, Residual) and node.shortcut is not None:
        children: tuple[Node, ...] = node.children + (node.shortcut,)
    elif isinstance(node, Cell):
        children = tuple(w.node for w in node.wires if w.node is not None)
    else:
        children = node.children
    return tuple(c for c in children if not isinstance(c, Identity))


class Evaluator(Protocol[V]):
    """What run() needs: run a child node on values, compute an op of the container's own on values."""

    def child(self, node: Node, *xs: V) -> V: ...

    def op(self, name: str, op: AnyOp, inputs: tuple[V, ...]) -> V: ...


def run(node: Container, ev: Evaluator[V], *xs: V) -> V:
    """What a container computes from its inputs: the one definition, for shapes and for tensors alike."""
    if isinstance(node, Cell):
        return _cell(node, ev, xs)
    (x,) = xs
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
        x = x if isinstance(child, Identity) else ev.child(child, x)
    return x


def _cell(cell: Cell, ev: Evaluator[V], xs: tuple[V, ...]) -> V:
    if len(xs) != len(cell.inputs):
        raise CostlabError(f"{cell.name}: takes {len(cell.inputs)} inputs ({', '.join(cell.inputs)}), got {len(xs)}")
    values: dict[str, V] = dict(zip(cell.inputs, xs))
    for wire in cell.wires:
        args = tuple(_read(values, source) for source in wire.inputs)
        if wire.op is not None:
            values[wire.name] = ev.op(wire.name, wire.op, args)
        elif isinstance(wire.node, Identity):
            (values[wire.name],) = args
        else:
            values[wire.name] = ev.child(wire.node, *args)
    if isinstance(cell.output, str):
        return _read(values, cell.output)
    return tuple(_read(values, output) for output in cell.output)


def _read(values: dict, source: str):
    name, _, part = source.partition(":")
    return values[name][int(part)] if part else values[name]


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


class SizeError(CostlabError):
    """A network past a size limit however large its input: too many ops, or a layer wider than MAX_CHANNELS. Not a
    ShapeError, so searching for the smallest input the network takes does not mistake it for an input too small."""

    def __init__(self, path: str, detail: str) -> None:
        super().__init__(f"{path}: {detail}" if path else detail)
        self.path, self.detail = path, detail


def op_count(node: Node, seen: Optional[dict] = None) -> int:
    """The rows a walk of node gives, counted without walking: nodes reused by repeated blocks are counted once each
    (memoised by identity), so this is quick even where the walk would take minutes."""
    seen = {} if seen is None else seen
    if id(node) in seen:
        return seen[id(node)][1]
    if isinstance(node, Layer):
        n = 1
    elif isinstance(node, Identity):
        n = 0
    elif isinstance(node, Cell):
        n = sum(1 if w.node is None else op_count(w.node, seen) for w in node.wires)
    else:
        n = sum(op_count(c, seen) for c in node.children) + (not isinstance(node, Seq))  # the add or mul
        if isinstance(node, Residual) and node.shortcut is not None:
            n += op_count(node.shortcut, seen)
    seen[id(node)] = (node, n)  # the node kept alive, so its id is not reused while counting
    return n


def check_op_count(ops: int, path: str = "") -> None:
    """A SizeError past MAX_ROWS ops (path: where the count went past it)."""
    if ops > MAX_ROWS:
        raise SizeError(path, f"{ops:,} layers, more than the {MAX_ROWS:,} a network may have")


def layer_type(op: AnyOp, in_se: bool) -> str:
    """A row's type: the op's kind, except that convs and linears inside a squeeze-excitation gate are 'se'."""
    return "se" if in_se and op.kind in ("pointwise", "conv", "linear") else op.kind


class _Shapes:
    """The evaluator of the analytic walk: values are shapes; every op becomes a Row."""

    def __init__(self, rows: list[Row], convention: Convention, path: str = "", stage: str = "",
                 in_se: bool = False, counter: Optional[list] = None) -> None:
        self.rows, self.convention, self.path, self.stage, self.in_se = rows, convention, path, stage, in_se
        self.counter = counter if counter is not None else [0]  # tensors numbered so far, shared by nested walks

    @property
    def _tensors(self) -> int:
        return self.counter[0]

    @_tensors.setter
    def _tensors(self, value: int) -> None:
        self.counter[0] = value

    def child(self, node: Node, *xs: _Value) -> _Value:
        path = f"{self.path}.{node.name}" if self.path else node.name
        stage = self.stage or node.name
        if isinstance(node, Layer):
            return self._emit(path, stage, node.op, xs)
        nested = _Shapes(self.rows, self.convention, path, stage, self.in_se or isinstance(node, Gate), self.counter)
        return run(node, nested, *xs)

    def op(self, name: str, op: AnyOp, inputs: tuple[_Value, ...]) -> _Value:
        path = f"{self.path}.{name}" if self.path else name
        return self._emit(path, self.stage or name, op, inputs)

    def _emit(self, path: str, stage: str, op: AnyOp, inputs: tuple[_Value, ...]):
        shapes = tuple(v.shape for v in inputs)
        try:
            y = op.out_shape(*shapes)
        except (CostlabError, TypeError) as exc:  # TypeError: the wrong number of inputs for the op
            detail = str(exc) if isinstance(exc, CostlabError) else f"{type(op).__name__} cannot take {len(shapes)} inputs"
            raise ShapeError(path, detail) from None
        parts = y if isinstance(y, tuple) else None  # a split: one row, several output tensors (views)
        out_shape = shapes[0] if parts else y
        if out_shape.c > MAX_CHANNELS and op.kind != "flatten":  # a flattened map is features, not channels
            raise SizeError(path, f"{out_shape.c:,} channels, more than the {MAX_CHANNELS:,} a layer may have")
        cost = op.cost(tuple(s.batched() for s in shapes), out_shape.batched(), self.convention)
        out = self._tensors + 1
        self._tensors += 1 + (len(parts) if parts else 0)
        self.rows.append(Row(path, op, layer_type(op, self.in_se), stage, shapes, out_shape, cost,
                             tuple(v.tensor for v in inputs), out))
        if parts:
            return tuple(_Value(p, out + 1 + i) for i, p in enumerate(parts))
        return _Value(y, out)


def walk(node: Node, x: "Shape | tuple[Shape, ...]", convention: "str | Convention" = "paper") -> tuple[list[Row], Shape]:
    """Every op of node fed one sample of shape x (a tuple of shapes for a cell with several inputs), in execution
    order, as Rows; and the output shape. Tensors are numbered from 0 (the first input) up."""
    check_op_count(op_count(node))
    rows: list[Row] = []
    shapes = x if isinstance(x, tuple) else (x,)
    ev = _Shapes(rows, get_convention(convention), counter=[len(shapes) - 1])
    starts = tuple(_Value(s, i) for i, s in enumerate(shapes))
    if isinstance(node, Identity):
        return rows, shapes[0]
    y = ev.child(node, *starts) if isinstance(node, Layer) else run(node, ev, *starts)
    return rows, y.shape
