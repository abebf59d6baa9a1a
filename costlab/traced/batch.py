"""A trace at batch 1 scaled to batch n, where a trace at batch 2 shows every count linear in the batch.

Counting on CPU allocates the activations, so a model that cannot run on the meta device is traced at batch 1 and
2 instead of at the batch asked for. A count c(b) of a network whose ops each work per sample is b * c(1); the
batch-2 trace checks that for every layer and the total (c(2) = 2 c(1)), which an op mixing samples (a matrix
product over the batch, a loop over it) breaks, and scaling is refused then.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Optional

from .trace import Trace, TracedLayer


def nonlinearity(one: Trace, two: Trace) -> Optional[str]:
    """Why the counts of two traces at batch 1 and 2 are not those of one per-sample network; None when they are."""
    if two.total_macs != 2 * one.total_macs:
        return f"batch 1 counts {one.total_macs:,} MACs and batch 2 {two.total_macs:,}, not twice as many"
    if [layer.name for layer in one.layers] != [layer.name for layer in two.layers]:
        return "batch 2 runs other layers than batch 1"
    for a, b in zip(one.layers, two.layers):
        if b.macs != 2 * a.macs or b.params != a.params:
            return f"{a.name or '(root)'} counts {a.macs:,} MACs at batch 1 and {b.macs:,} at batch 2"
    return None


def _rebatched(one: tuple[int, ...], two: tuple[int, ...], n: int) -> tuple[int, ...]:
    """A layer's shape at batch n: its batch-1 shape with the leading dim scaled when batch 2 doubled it."""
    if one and two and len(one) == len(two) and two[0] == 2 * one[0] and one[1:] == two[1:]:
        return (n * one[0], *one[1:])
    return one


def scaled(one: Trace, two: Trace, n: int) -> Trace:
    """The batch-1 trace at batch n: every layer's MACs times n (params unchanged), shapes with the batch n."""
    layers = [TracedLayer(a.name, a.module, _rebatched(a.in_shape, b.in_shape, n),
                          _rebatched(a.out_shape, b.out_shape, n), a.params, a.macs * n, a.functional, a.op)
              for a, b in zip(one.layers, two.layers)]
    return replace(one, input_shape=(n, *one.input_shape[1:]), layers=layers, total_macs=one.total_macs * n,
                   notes=list(one.notes))
