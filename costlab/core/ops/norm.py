"""Normalisation: BatchNorm of costlab's graphs (eval), and every norm a traced model runs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Sequence

from .. import formulas, traffic
from ...errors import require
from ..conventions import Convention
from ..cost import Cost
from ..shapes import Shape
from ..traffic import Traffic
from .base import Dims, Op, key_of, numel


@dataclass(frozen=True)
class BatchNorm2d(Op):
    """torch.nn.BatchNorm2d in eval mode; affine adds gamma and beta."""

    channels: int
    affine: bool = True
    kind: ClassVar[str] = "bn"

    def out_shape(self, x: Shape) -> Shape:
        """Unchanged: C x H x W."""
        require(x.c == self.channels, f"batch norm expects {self.channels} channels, got {x.c}")
        return x

    def cost(self, ins: Sequence[Dims], out: Dims, convention: "str | Convention") -> Cost:
        """formulas.batch_norm: 2C params; the convention's rate per element (paper: none)."""
        return formulas.batch_norm(channels=self.channels, positions=numel(ins[0]) // self.channels,
                                   affine=self.affine, convention=convention)

    def traffic(self, ins: Sequence[Dims], out: Dims) -> Traffic:
        """traffic.batch_norm: the map, running statistics (and gamma, beta), the map again."""
        return traffic.batch_norm(self.channels, numel(ins[0]) // self.channels, self.affine)




NORM_KINDS = ("batch", "group", "layer", "instance")


@dataclass(frozen=True)
class Norm(Op):
    """A normalisation as a traced model runs it: batch (training=True when it uses the batch's statistics: in
    training mode, or without running statistics), group, layer or instance norm; params its gamma and beta."""

    norm: str = "batch"
    affine: bool = True
    training: bool = False
    params: int = 0
    functional: bool = False  # F.batch_norm called in a forward that is not the norm module's own
    kind: ClassVar[str] = "norm"

    @property
    def key(self) -> str:  # type: ignore[override]
        """batch_norm, batch_norm.train, group_norm, layer_norm, instance_norm, each '.no_affine' without gamma."""
        base = f"{self.norm}_norm" + (".train" if self.norm == "batch" and self.training else "")
        return key_of(base if self.affine else f"{base}.no_affine", self.functional)

    def cost(self, ins: Sequence[Dims], out: Dims, convention: "str | Convention") -> Cost:
        """formulas.norm on the input's elements."""
        return formulas.norm(key=self.key, elements=numel(ins[0]), params=self.params, convention=convention)
