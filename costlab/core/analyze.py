"""Rows -> totals: a network's cost at a batch, and its totals by stage or by layer type.

Results are typed (Analysis, Group); ``Analysis.frame()`` gives the rows as a pandas DataFrame for
Python users (pandas is imported only then: it costs half a second, and the CLI does not need it).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from .conventions import DEFAULT_CONVENTION, get_convention
from .cost import Cost, Priced
from .graph import Node, Row, walk
from .shapes import Shape
from .vocab import LAYER_TYPES

GROUP_KEYS = ("stage", "type")


@dataclass(frozen=True)
class Group(Priced):
    """Totals of the rows sharing a stage or a layer type, with their shares of the whole network."""

    key: str  # 'stage' or 'type'
    label: str
    cost: Cost
    macs_share: float
    params_share: float

    @property
    def description(self) -> str:
        """What reports call a layer type ('1x1 conv'); a stage's own name."""
        return LAYER_TYPES.get(self.label, self.label) if self.key == "type" else self.label

    def to_dict(self) -> dict:
        """JSON shape: {stage|type: label, params, macs, flops, macs_share, params_share}."""
        return {self.key: self.label, "params": self.params, "macs": self.macs, "flops": self.flops,
                "macs_share": self.macs_share, "params_share": self.params_share}


@dataclass(frozen=True)
class Analysis(Priced):
    """A whole network's cost: rows at batch 1, totals at the given batch."""

    name: str
    input_shape: Shape
    convention: str
    rows: tuple[Row, ...]
    output_shape: Shape
    batch: int = 1
    alpha: Optional[float] = None
    width_rule: Optional[str] = None  # how alpha applied to an architecture's table ('torchvision', 'paper')
    depth: Optional[float] = None  # a depth multiplier asked for (times the variant's own), None if none was

    @property
    def resolution(self) -> int:
        return self.input_shape.h

    @property
    def cost(self) -> Cost:
        """Sum of every row; MACs scale with the batch, params do not."""
        return sum((r.cost for r in self.rows), Cost()).scaled(self.batch)

    total = cost

    def grouped(self, key: str) -> list[Group]:
        """Totals per stage or per layer type, in first-seen order, with shares of the whole."""
        if key not in GROUP_KEYS:
            raise ValueError(f"group by one of {GROUP_KEYS}, not {key!r}")
        sums: dict[str, Cost] = {}
        for row in self.rows:
            label = getattr(row, key)
            sums[label] = sums.get(label, Cost()) + row.cost
        total = self.total
        return [Group(key, label, cost.scaled(self.batch),
                      cost.scaled(self.batch).macs / total.macs if total.macs else 0.0,
                      cost.params / total.params if total.params else 0.0)
                for label, cost in sums.items()]

    def row_dicts(self) -> list[dict]:
        """Every row as plain data (JSON and CSV shape), MACs at the analysis' batch."""
        return [row_dict(r, self.batch) for r in self.rows]

    def to_dict(self) -> dict:
        """The JSON shape of `costlab arch`: name, resolution, alpha, width_rule (an architecture's), depth (when one
        was asked for), convention,
        batch, totals, layers."""
        rule = {} if self.width_rule is None else {"width_rule": self.width_rule}
        depth = {} if self.depth is None else {"depth": self.depth}
        return {"name": self.name, "resolution": self.resolution, "alpha": self.alpha, **rule, **depth,
                "convention": self.convention, "batch": self.batch, "params": self.params, "macs": self.macs,
                "flops": self.flops, "layers": self.row_dicts()}

    def frame(self):
        """The rows as a pandas DataFrame: name, stage, type, op, input/output shape, kernel, stride, groups,
        params, macs, flops (MACs at the analysis' batch). Totals are frame.sum(); views by stage or type
        are frame.groupby('stage', sort=False)."""
        from ..io.frames import exact_frame

        columns = ["name", "stage", "type", "op", "input_shape", "output_shape", "kernel", "stride", "groups",
                   "params", "macs", "flops"]
        records = []
        for r in self.rows:
            record = row_dict(r, self.batch)
            record["input_shape"], record["output_shape"] = str(r.in_shape), str(r.out_shape)
            records.append({c: record[c] for c in columns})
        return exact_frame(records, columns)


def analyze(node: Node, input_shape: "Shape | tuple[Shape, ...]", convention: str = DEFAULT_CONVENTION,
            name: str = "", batch: int = 1, alpha: Optional[float] = None) -> Analysis:
    """Rows and totals of node fed a batch of input_shape (a tuple of shapes for a cell with several inputs, the
    first kept as the analysis' input_shape) under a counting convention."""
    record = get_convention(convention)
    rows, out = walk(node, input_shape, record)
    first = input_shape[0] if isinstance(input_shape, tuple) else input_shape
    return Analysis(name or node.name, first, record.name, tuple(rows), out, batch, alpha)


def row_dict(row: Row, batch: int = 1) -> dict:
    """A row as plain data with snake_case keys and exact integers (MACs at the batch)."""
    return {
        "name": row.name,
        "op": row.op_name,
        "type": row.type,
        "stage": row.stage,
        "input_shape": list(row.in_shape.dims),
        "output_shape": list(row.out_shape.dims),
        "kernel": row.kernel_text,
        "stride": row.op.stride[0],
        "groups": row.op.groups,
        "params": row.params,
        "macs": row.macs * batch,
        "flops": row.cost.flops * batch,
    }
