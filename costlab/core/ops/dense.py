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
        return Shape(self.fout, flat=True)

    def cost(self, ins: Sequence[Dims], out: Dims, convention: "str | Convention") -> Cost:
        """formulas.linear: fin * fout MACs per row, rows = input elements / fin."""
        return formulas.linear(fin=self.fin, fout=self.fout, rows=numel(ins[0]) // self.fin, bias=self.bias,
                               convention=convention)

    def traffic(self, ins: Sequence[Dims], out: Dims) -> Traffic:
        """traffic.weighted: the input, the weights (and bias), the output."""
        return traffic.weighted(numel(ins[0]), numel(out), self.cost(ins, out, "paper").params)




@dataclass(frozen=True)
class MatMul(Op):
    """A product of two activations: torch.matmul / @, mm, bmm, or the product inside addmm / baddbmm (the inputs
    are the two factors). form is the key a convention may skip (fvcore has no handle for baddbmm)."""

    form: str = "matmul"
    kind: ClassVar[str] = "matmul"
    arity: ClassVar[int] = 2

    @property
    def key(self) -> str:  # type: ignore[override]
        return self.form

    def cost(self, ins: Sequence[Dims], out: Dims, convention: "str | Convention") -> Cost:
        """formulas.matmul of the two factors."""
        a, b = ins
        return formulas.matmul(a=a, b=b if len(b) > 1 else (*b, 1), out=out, key=self.form, convention=convention)

    def traffic(self, ins: Sequence[Dims], out: Dims) -> Traffic:
        """traffic.combined: both factors read, the product written."""
        return traffic.combined(tuple(numel(d) for d in ins), numel(out))


@dataclass(frozen=True)
class Einsum(Op):
    """torch.einsum(equation, *operands), priced as fvcore prices it."""

    equation: str
    kind: ClassVar[str] = "matmul"
    key: ClassVar[str] = "einsum"

    def cost(self, ins: Sequence[Dims], out: Dims, convention: "str | Convention") -> Cost:
        """macs = n*c*t*p for 'abc,abd->acd', n*t*g*c for 'abc,adc->adb', else numpy's optimal contraction path's
        FLOP count / 2 (floored), fvcore's rule."""
        return Cost(0, formulas.weighted(key=self.key, macs=einsum_macs(self.equation, ins), convention=convention))


def einsum_macs(equation: str, shapes: Sequence[Dims]) -> int:
    """fvcore's einsum count: letters renamed in order of appearance, two equations by hand, numpy's path otherwise."""
    equation = equation.replace(" ", "")
    letters = dict.fromkeys(c for c in equation if c.isalpha())
    equation = equation.translate({ord(c): 97 + i for i, c in enumerate(letters)})
    if equation == "abc,abd->acd":
        n, c, t = shapes[0]
        return n * c * t * shapes[-1][-1]
    if equation == "abc,adc->adb":
        n, t, g = shapes[0]
        return n * t * g * shapes[-1][1]
    import numpy as np

    # the path needs shapes only: zero-stride views, no memory for the operands
    report = np.einsum_path(equation, *[np.broadcast_to(np.zeros(()), s) for s in shapes], optimize="optimal")[1]
    line = next(line for line in report.split("\n") if "optimized flop" in line.lower())
    return int(float(line.split(":")[-1]) // 2)


@dataclass(frozen=True)
class Attention(Op):
    """F.scaled_dot_product_attention(q, k, v): q (..., L, E), k (..., S, E), v (..., S, Ev)."""

    kind: ClassVar[str] = "attention"
    key: ClassVar[str] = "attention"
    arity: ClassVar[int] = 3

    def cost(self, ins: Sequence[Dims], out: Dims, convention: "str | Convention") -> Cost:
        """macs = batch * L * S * (E + Ev): the scores q k^T and their product with v, as FlopCounterMode counts."""
        q, k, v = ins[:3]
        macs = numel(q[:-2]) * q[-2] * k[-2] * (q[-1] + v[-1])
        return Cost(0, formulas.weighted(key=self.key, macs=macs, convention=convention))
