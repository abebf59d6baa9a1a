"""Dense layers: linear and matrix products."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Sequence

from .. import formulas, traffic
from ...errors import require
from ..conventions import Convention
from ..cost import Cost
from ..shapes import Shape
from ..traffic import Traffic
from .base import Dims, Op, numel


@dataclass(frozen=True)
class Linear(Op):
    """torch.nn.Linear: fin -> fout on the last dim (a flattened vector in a CNN's classifier)."""

    fin: int
    fout: int
    bias: bool = True
    kind: ClassVar[str] = "linear"

    def out_shape(self, x: Shape) -> Shape:
        """fout x 1 x 1 from a vector of fin = C*H*W features."""
        require(x.numel == self.fin, f"linear expects {self.fin} input features, got {x.numel}")
        return Shape(self.fout)

    def cost(self, ins: Sequence[Dims], out: Dims, convention: "str | Convention") -> Cost:
        """formulas.linear: fin * fout MACs per row, rows = input elements / fin."""
        return formulas.linear(fin=self.fin, fout=self.fout, rows=numel(ins[0]) // self.fin, bias=self.bias,
                               convention=convention)

    def traffic(self, ins: Sequence[Dims], out: Dims) -> Traffic:
        """traffic.weighted: the input, the weights (and bias), the output."""
        return traffic.weighted(numel(ins[0]), numel(out), self.cost(ins, out, "paper").params)


