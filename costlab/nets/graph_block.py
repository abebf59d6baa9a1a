"""A block written as a small graph of named nodes, each with its op and its inputs, joined by concat, sum or
multiply: the one definition behind a TOML file's [blocks.NAME] tables (nets/graph_spec.py) and NASNet's cells
(nets/tables/nasnet.py). A block builds to a core.graph.Cell, and a stage repeats it like any block kind.

A block reads one input ("x") or two: the output before it and the one before that (NASNet's cells take the
previous two cells' outputs). A two-input block hands on (its output, one of its inputs): by default its first
input, so the next block reads (this block's output, this block's input); `passes` may name the second instead
(NASNet-A Large's reduction cells, after which the next cell reads the cell before the reduction again).

Checked when the block is defined, each error naming the node and key: unknown op or key, a duplicated name, an
input that is no node or block input, a cycle (found without recursion), a node that never reaches the output, a
block input or split part nothing reads, the wrong number of inputs. Channels are checked when a stage builds it.
"""

from __future__ import annotations

import heapq
import re
from dataclasses import dataclass, field, replace
from fractions import Fraction
from typing import Any, Optional

from ..core.graph import Cell, Seq, Wire
from ..errors import CostlabError
from . import expr
from .graph_ops import OPS, TEXT_KEYS, WINDOWED, NodeError, check_value
from .stages import StageContext, StageError, StageKind, block_count

STAGE_NAMES = ("channels", "widths", "expand", "kernel", "stride")  # the stage keys a node may read
NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
MAX_NODES = 1000


class GraphError(StageError):
    """A problem with one node (index: its position as written) or, node None, with the block's own key."""

    def __init__(self, block: str, detail: str, key: Optional[str], node: Optional["GraphNode"] = None) -> None:
        where = f"block {block!r}" + (f", node {node.name!r}" if node is not None else "")
        table = f"blocks.{block}.nodes" if node is not None else f"blocks.{block}"
        super().__init__(f"{where}: {detail}", key, table, node.index if node is not None else None)
        self.detail, self.node = detail, node.name if node is not None else None


@dataclass(frozen=True)
class GraphNode:
    """One named node: its op, the values it reads ('name', or 'name:i' for part i of a split), and its keys
    (integers may be expressions, nets/expr.py)."""

    name: str
    op: str
    inputs: tuple[str, ...]
    keys: tuple[tuple[str, Any], ...] = ()
    index: int = 0

    @property
    def values(self) -> dict[str, Any]:
        return dict(self.keys)


def node(name: str, op: str, *inputs: str, **keys: Any) -> GraphNode:
    """A GraphNode written as Python (NASNet's tables): node("b1", "conv", "x", channels="channels", kernel=1)."""
    return GraphNode(name, op, inputs, tuple(keys.items()))


@dataclass(frozen=True, eq=False)
class GraphBlock:
    """A block as a graph: its inputs, its nodes as written, the node it returns and, with two inputs, the input it
    hands on as the next block's second. Checked whole on creation; `order` is the execution order (as written
    wherever that reads only earlier values)."""

    name: str
    nodes: tuple[GraphNode, ...]
    output: str
    inputs: tuple[str, ...] = ("x",)
    passes: Optional[str] = None
    deepens: bool = True  # a depth multiplier repeats it (NASNet's normal cells); False: exactly its stage's repeats

    order: tuple[GraphNode, ...] = field(init=False, repr=False)
    reads: frozenset = field(init=False, repr=False)  # the stage keys its nodes read

    def __post_init__(self) -> None:
        object.__setattr__(self, "nodes", tuple(replace(n, index=i) for i, n in enumerate(self.nodes)))
        self._check_inputs()
        by_name = self._check_nodes()
        object.__setattr__(self, "order", _execution_order(self, by_name))
        self._check_reach(by_name)
        object.__setattr__(self, "reads", frozenset().union(*(_names_read(n) for n in self.nodes)) & set(STAGE_NAMES))

    def fail(self, detail: str, key: Optional[str], at: Optional[GraphNode] = None) -> GraphError:
        return GraphError(self.name, detail, key, at)

    def _check_inputs(self) -> None:
        if not 1 <= len(self.inputs) <= 2 or len(set(self.inputs)) != len(self.inputs):
            raise self.fail(f"takes one or two differently named inputs, got {list(self.inputs)}", "inputs")
        for name in self.inputs:
            if not NAME.match(name):
                raise self.fail(f"input name {name!r} must be letters, digits and underscores", "inputs")
        if self.passes is not None and (len(self.inputs) != 2 or self.passes not in self.inputs):
            raise self.fail(f"passes names the input a two-input block hands on ({' or '.join(self.inputs)}), "
                            f"got {self.passes!r}" if len(self.inputs) == 2
                            else "passes applies to a block with two inputs only", "passes")
        if not 1 <= len(self.nodes) <= MAX_NODES:
            raise self.fail(f"has {len(self.nodes):,} nodes; a block has 1 to {MAX_NODES:,}", "nodes")

    def _check_nodes(self) -> dict[str, GraphNode]:
        by_name: dict[str, GraphNode] = {}
        for n in self.nodes:
            if not NAME.match(n.name):
                raise self.fail(f"node name {n.name!r} must be letters, digits and underscores", "name", n)
            if n.name in by_name or n.name in self.inputs:
                raise self.fail(f"the name {n.name!r} is taken by an earlier " +
                                ("node" if n.name in by_name else "block input"), "name", n)
            by_name[n.name] = n
            self._check_op(n)
        for n in self.nodes:
            self._check_sources(n, by_name)
        return by_name

    def _check_op(self, n: GraphNode) -> None:
        spec = OPS.get(n.op)
        if spec is None:
            raise self.fail(f"unknown op {n.op!r}; known: {', '.join(OPS)}", "op", n)
        allowed = set(STAGE_NAMES) | {"cin"} | ({"cin_prev"} if len(self.inputs) == 2 else set())
        for key, value in n.keys:
            if key not in spec.keys:
                raise self.fail(f"{key} does not apply to a {n.op!r} node (it takes: "
                                f"{', '.join(spec.keys) or 'no keys'})", key, n)
            problem = check_value(key, value)
            if problem:
                raise self.fail(problem, key, n)
            limit = {"stride"} if key == "stride" else allowed  # a block's stride is known before its channels
            for item in (value if isinstance(value, (list, tuple)) else (value,)) if key not in TEXT_KEYS else ():
                try:
                    read = expr.names(item)
                except expr.ExprError as exc:
                    raise self.fail(str(exc), key, n) from None
                if read - limit:
                    raise self.fail(f"reads {', '.join(sorted(read - limit))}; {key} may read: "
                                    f"{', '.join(sorted(limit))}", key, n)
        for key in spec.required:
            if key not in n.values:
                raise self.fail(f"a {n.op!r} node needs {key}", key, n)
        count = len(n.inputs)
        if count < spec.least or (spec.most is not None and count > spec.most):
            wanted = (f"exactly {spec.least}" if spec.least == spec.most
                      else f"at least {spec.least}" if spec.most is None else f"{spec.least} to {spec.most}")
            raise self.fail(f"a {n.op!r} node takes {wanted} input{'s' if spec.most != 1 else ''}, got {count}",
                            "inputs", n)

    def _check_sources(self, n: GraphNode, by_name: dict[str, GraphNode]) -> None:
        for source in n.inputs:
            name, colon, part = source.partition(":")
            if name not in by_name and name not in self.inputs:
                known = ", ".join(list(self.inputs) + [m for m in by_name if m != n.name])
                raise self.fail(f"unknown input {source!r} (known: {known})", "inputs", n)
            target = by_name.get(name)
            if target is not None and target.op == "split":
                parts = len(target.values["sizes"])
                if not colon or not part.isdigit() or int(part) >= parts:
                    raise self.fail(f"{name!r} splits into {parts} parts: read {name}:0 .. {name}:{parts - 1}",
                                    "inputs", n)
            elif colon:
                raise self.fail(f"{source!r}: only a split's parts are read as name:i", "inputs", n)

    def _check_reach(self, by_name: dict[str, GraphNode]) -> None:
        if self.output not in by_name:
            raise self.fail(f"output {self.output!r} is not a node (nodes: {', '.join(by_name)})", "output")
        if by_name[self.output].op == "split":
            raise self.fail(f"output {self.output!r} is a split: return one of its parts through a join", "output")
        reached, todo = {self.output}, [self.output]
        read_parts: set[str] = set()
        while todo:  # every value the output depends on, walked without recursion
            current = by_name.get(todo.pop())
            if current is None:
                continue
            for source in current.inputs:
                read_parts.add(source)
                name = source.partition(":")[0]
                if name not in reached:
                    reached.add(name)
                    todo.append(name)
        for n in self.nodes:
            if n.name not in reached:
                readers = [m.name for m in self.nodes if any(s.partition(":")[0] == n.name for s in m.inputs)]
                why = f"only {', '.join(readers)} read{'s' if len(readers) == 1 else ''} it, and they do not either" \
                    if readers else "nothing reads it"
                raise self.fail(f"never reaches the output {self.output!r}: {why}", "name", n)
            if n.op == "split":
                unread = [f"{n.name}:{i}" for i in range(len(n.values["sizes"])) if f"{n.name}:{i}" not in read_parts]
                if unread:
                    raise self.fail(f"part {', '.join(unread)} of the split is never read", "sizes", n)
        unused = [name for name in self.inputs if name not in reached]
        if unused:
            raise self.fail(f"input {', '.join(map(repr, unused))} is never read", "inputs")

    # --- building --------------------------------------------------------------------------------------------

    def build(self, name: str, cins: tuple[int, ...], env: dict[str, Any]) -> tuple[Cell, int]:
        """The block as a Cell named name on inputs of cins channels, keys evaluated with the stage's values env;
        and its output channels. Each node's input channels are what its inputs give."""
        channels: dict[str, Any] = dict(zip(self.inputs, cins))
        env = {**env, "cin": cins[0], "cin_prev": cins[1] if len(cins) > 1 else None}
        wires = []
        for n in self.order:
            inputs = tuple(_channels_of(channels, s) for s in n.inputs)
            values = {key: self._evaluate(n, key, value, env) for key, value in n.keys}
            spec = OPS[n.op]
            try:
                made, channels[n.name] = spec.build(n.name, inputs, values)
            except NodeError as exc:  # a value an expression gave is told with the expression
                written = dict(n.keys).get(exc.key)
                told = f" ({exc.key} = {written!r})" if isinstance(written, str) and exc.key not in TEXT_KEYS else ""
                raise self.fail(f"{exc}{told}", exc.key, n) from None
            except CostlabError as exc:
                raise self.fail(str(exc), None, n) from None
            wires.append(Wire(n.name, n.inputs, op=made) if spec.join else Wire(n.name, n.inputs, node=made))
        return Cell(name, self.inputs, tuple(wires), self.output), channels[self.output]

    def _evaluate(self, n: GraphNode, key: str, value: Any, env: dict[str, Any]) -> Any:
        if isinstance(value, bool) or key in TEXT_KEYS:
            return value
        try:
            if isinstance(value, (list, tuple)):
                return tuple(expr.evaluate(v, env) for v in value)
            return expr.evaluate(value, env)
        except expr.ExprError as exc:
            raise self.fail(str(exc), key, n) from None

    def stride(self, env: dict[str, Any]) -> int:
        """How much the block divides its first input's size: the strides along its paths from that input (the
        largest product, a two-input block's second input counted as already reduced). A stride written as an
        expression is evaluated on the stage's values env, as the build does."""
        factor: dict[str, Optional[int]] = {self.inputs[0]: 1}
        for n in self.order:
            known = [factor.get(s.partition(":")[0]) for s in n.inputs]
            known = [f for f in known if f is not None]
            own = self._evaluate(n, "stride", n.values.get("stride", 1), env) if n.op in WINDOWED else 1
            factor[n.name] = max(known) * own if known else None
        return factor[self.output] or 1

    def kind(self) -> StageKind:
        """The block as a stage kind: it takes repeats and the stage keys its nodes read."""
        keys = ("repeats",) + tuple(k for k in STAGE_NAMES if k in self.reads)
        return StageKind(keys, self._stage, self._stage_stride, has_channels="channels" in self.reads,
                         inputs=len(self.inputs), name=self.name, deepens=self.deepens)

    def _stage_stride(self, stage) -> int:
        env = {**_stage_values(stage, stage.channels, stage.widths), "cin": None, "cin_prev": None}
        return self.stride({**env, "stride": stage.stride}) * self.stride({**env, "stride": 1}) ** (stage.repeats - 1)

    def _stage(self, ctx: StageContext) -> tuple:
        """repeats blocks, the first taking the stage's stride; identical blocks (same input channels, stride 1) are
        built once and reused. One input: a Seq. Two: a Cell over (x, x_prev) chaining the blocks, returning the last
        output and what it hands on."""
        s = ctx.stage
        widths = tuple(ctx.rules.channels(c, ctx.width) for c in s.widths)
        if widths and min(widths) < 1:
            raise StageError(f"width {ctx.width:g} leaves a branch with no channels (widths {list(s.widths)} become "
                             f"{list(widths)})", "widths")
        env = _stage_values(s, ctx.cout if s.channels is not None else None, widths)
        built: dict[tuple, tuple[Cell, int]] = {}
        blocks, current, previous = [], ("x", ctx.cin), ("x_prev", ctx.cin_prev)
        for j in range(block_count(ctx)):
            stride = s.stride if j == 0 else 1
            cins = (current[1], previous[1]) if len(self.inputs) == 2 else (current[1],)
            key = (*cins, stride)
            if key in built:
                cell, cout = replace(built[key][0], name=str(j)), built[key][1]
            else:
                try:
                    cell, cout = self.build(str(j), cins, {**env, "stride": stride})
                except GraphError as exc:
                    raise GraphError(self.name, f"in stage{ctx.index}: {exc.detail}", exc.key,
                                     self.nodes[exc.index] if exc.index is not None else None) from None
                built[key] = (cell, cout)
            blocks.append(Wire(str(j), (current[0], previous[0]) if len(self.inputs) == 2 else (current[0],),
                               node=cell))
            handed = current if self.passes in (None, self.inputs[0]) else previous
            current, previous = (str(j), cout), handed
        if len(self.inputs) == 1:
            return Seq(f"stage{ctx.index}", tuple(w.node for w in blocks)), current[1]
        stage = Cell(f"stage{ctx.index}", ("x", "x_prev"), tuple(blocks), (current[0], previous[0]))
        return stage, current[1], previous[1]


def _stage_values(stage, channels: Optional[int], widths: tuple[int, ...]) -> dict[str, Any]:
    """The names a node's expressions read from its stage (stride aside: the first block's differs)."""
    return {"channels": channels, "widths": widths or None, "expand": Fraction(repr(float(stage.expand))),
            "kernel": stage.kernel}


def _names_read(n: GraphNode) -> set[str]:
    read: set[str] = set()
    for key, value in n.keys:
        for item in value if isinstance(value, (list, tuple)) else (value,):
            read |= expr.names(item) if key not in TEXT_KEYS else set()
    return read


def _channels_of(channels: dict[str, Any], source: str) -> int:
    name, _, part = source.partition(":")
    return channels[name][int(part)] if part else channels[name]


def _execution_order(block: GraphBlock, by_name: dict[str, GraphNode]) -> tuple[GraphNode, ...]:
    """Kahn's topological sort, taking the earliest written node that is ready each time: the written order when it
    reads only earlier values. Nodes left over sit on a cycle, which is named."""
    waiting = {n.name: {s.partition(":")[0] for s in n.inputs} - set(block.inputs) for n in block.nodes}
    readers: dict[str, list[str]] = {}
    for name, sources in waiting.items():
        for source in sources:
            readers.setdefault(source, []).append(name)
    ready = [(n.index, n.name) for n in block.nodes if not waiting[n.name]]
    heapq.heapify(ready)
    order = []
    while ready:
        _, name = heapq.heappop(ready)
        order.append(by_name[name])
        for reader in readers.get(name, ()):
            waiting[reader].discard(name)
            if not waiting[reader]:
                heapq.heappush(ready, (by_name[reader].index, reader))
    if len(order) < len(block.nodes):
        cycle = _cycle(waiting)
        shown = cycle if len(cycle) <= 12 else cycle[:10] + ["...", cycle[-2], cycle[-1]]
        raise block.fail(f"is on a cycle: {' -> '.join(shown)} ({len(cycle) - 1} nodes)", "inputs", by_name[cycle[0]])
    return tuple(order)


def _cycle(waiting: dict[str, set[str]]) -> list[str]:
    """One cycle among the nodes still waiting: follow an unmet input from one of them until a node repeats."""
    start = min(name for name, sources in waiting.items() if sources)
    path, seen = [start], {start: 0}
    while True:
        nxt = min(waiting[path[-1]])
        if nxt in seen:
            cycle = path[seen[nxt]:]
            return cycle + [cycle[0]]
        seen[nxt] = len(path)
        path.append(nxt)
