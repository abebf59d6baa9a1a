"""The unit every formula returns: exact integer parameters and multiply-accumulates."""

from __future__ import annotations

from dataclasses import dataclass


def flops_of(macs: int) -> int:
    """flops = 2 * macs (one multiply and one add): the only place the factor is written."""
    return 2 * macs


@dataclass(frozen=True)
class Cost:
    """params and MACs of one layer or a sum of layers; FLOPs are always 2 * MACs."""

    params: int = 0
    macs: int = 0

    @property
    def flops(self) -> int:
        """flops = 2 * macs."""
        return flops_of(self.macs)

    def __add__(self, other: "Cost") -> "Cost":
        return Cost(self.params + other.params, self.macs + other.macs)

    def scaled(self, batch: int) -> "Cost":
        """The same layer run on a batch: params unchanged, macs * batch."""
        return Cost(self.params, self.macs * batch)


class Priced:
    """params, macs and flops of anything carrying a `cost` (a row, a group of rows, a whole analysis)."""

    cost: Cost

    @property
    def params(self) -> int:
        return self.cost.params

    @property
    def macs(self) -> int:
        return self.cost.macs

    @property
    def flops(self) -> int:
        return self.cost.flops
