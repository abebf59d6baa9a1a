"""Walk a network graph into per-layer rows and totals, grouped by stage or by layer type."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

from .cost import Cost
from .formulas import DEFAULT_CONVENTION, check_convention
from .graph import Node, Row, walk
from .shapes import Shape

LAYER_TYPES = {
    "pointwise": "1x1 conv",
    "depthwise": "depthwise conv",
    "conv": "full conv",
    "grouped": "grouped conv",
    "se": "squeeze-excitation",
    "linear": "linear",
    "bn": "batch norm",
    "act": "activation",
    "pool": "pooling",
    "add": "residual add",
    "mul": "SE multiply",
    "flatten": "flatten",
}


@dataclass(frozen=True)
class Analysis:
    """A whole network's cost: rows at batch 1, totals at the given batch."""

    name: str
    input_shape: Shape
    convention: str
    rows: tuple[Row, ...]
    output_shape: Shape
    batch: int = 1
    alpha: Optional[float] = None
    extra: dict = field(default_factory=dict)

    @property
    def resolution(self) -> int:
        return self.input_shape.h

    @property
    def total(self) -> Cost:
        """Sum of every row; MACs scale with the batch, params do not."""
        return sum((r.cost for r in self.rows), Cost()).scaled(self.batch)

    @property
    def params(self) -> int:
        return self.total.params

    @property
    def macs(self) -> int:
        return self.total.macs

    @property
    def flops(self) -> int:
        return self.total.flops

    def grouped(self, key: str) -> list[dict]:
        """Totals per stage or per layer type, in first-seen order, with shares of the whole."""
        groups: dict[str, Cost] = {}
        for row in self.rows:
            label = getattr(row, key)
            groups[label] = groups.get(label, Cost()) + row.cost
        total = self.total
        out = []
        for label, cost in groups.items():
            cost = cost.scaled(self.batch)
            out.append({
                key: label,
                "params": cost.params,
                "macs": cost.macs,
                "flops": cost.flops,
                "macs_share": cost.macs / total.macs if total.macs else 0.0,
                "params_share": cost.params / total.params if total.params else 0.0,
            })
        return out


def analyze(node: Node, input_shape: Shape, convention: str = DEFAULT_CONVENTION, name: str = "",
            batch: int = 1, alpha: Optional[float] = None) -> Analysis:
    """Rows and totals of node fed a batch of input_shape under a counting convention."""
    check_convention(convention)
    rows, out = walk(node, input_shape, convention)
    return Analysis(name or node.name, input_shape, convention, tuple(rows), out, batch, alpha)


def row_dict(row: Row, batch: int = 1) -> dict:
    """A row as plain data with snake_case keys and exact integers."""
    return {
        "name": row.name,
        "op": row.op,
        "type": row.type,
        "stage": row.stage,
        "input_shape": [row.in_shape.c, row.in_shape.h, row.in_shape.w],
        "output_shape": [row.out_shape.c, row.out_shape.h, row.out_shape.w],
        "kernel": row.kernel,
        "stride": row.stride,
        "groups": row.groups,
        "params": row.params,
        "macs": row.macs * batch,
        "flops": row.cost.flops * batch,
    }


def analysis_dict(analysis: Analysis) -> dict:
    """The JSON shape of `costlab arch`: name, resolution, alpha, convention, totals, layers."""
    return {
        "name": analysis.name,
        "resolution": analysis.resolution,
        "alpha": analysis.alpha,
        "convention": analysis.convention,
        "batch": analysis.batch,
        "params": analysis.params,
        "macs": analysis.macs,
        "flops": analysis.flops,
        "layers": [row_dict(r, analysis.batch) for r in analysis.rows],
    }
