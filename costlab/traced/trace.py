"""What a tracer returns: one record per call of a leaf module, in execution order, with the MACs it computed,
the MACs of ops containers compute in their own forward, and every op left uncounted, by name and count."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Optional

from ..core import ops
from ..core.cost import flops_of
from ..io.render import counts_text

# aten ops that move or reshape memory and compute nothing: never listed as uncounted.
ZERO_COST_ATEN = frozenset("""
    empty empty_like empty_strided new_empty zeros zeros_like ones ones_like full full_like zero_ fill_
    clone detach alias lift_fresh copy_ _to_copy contiguous view _unsafe_view reshape as_strided
    t transpose permute expand expand_as flatten unflatten slice select unsqueeze squeeze cat stack
    split chunk narrow dropout native_dropout feature_dropout alpha_dropout _reshape_alias
    size to type_as Int ScalarImplicit unbind split_with_sizes new_zeros new_full constant_pad_nd arange
""".split())


def zero_cost(name: str) -> bool:
    """Memory and shape ops (and in-place variants, e.g. dropout_ in eval) that compute nothing."""
    return name in ZERO_COST_ATEN or name.rstrip("_") in ZERO_COST_ATEN


def op_name(func) -> str:
    """An aten overload's short name: aten.convolution.default -> 'convolution'."""
    return str(func.overloadpacket).split(".")[-1]


@dataclass
class TracedLayer:
    """One call of a leaf module (or, with functional=True, the ops of a container's own forward)."""

    name: str
    module: str
    in_shape: tuple[int, ...]
    out_shape: tuple[int, ...]
    params: int = 0
    macs: int = 0
    functional: bool = False
    op: Optional[ops.AnyOp] = None  # the costlab op this call computes (traced.bridge), when it is one costlab knows


@dataclass
class Trace:
    """Per-module MACs of one forward pass of a real model, from one tracer."""

    tracer: str
    convention: str
    input_shape: tuple[int, ...]
    layers: list[TracedLayer]
    total_macs: int
    params: int
    uncounted: Counter = field(default_factory=Counter)  # ops that compute but this convention prices at 0, by name
    modules: frozenset = frozenset()
    unpriced: Counter = field(default_factory=Counter)  # ops the convention's tool prices that costlab could not
    notes: list = field(default_factory=list)  # where costlab's count differs from the tool's on purpose

    @property
    def counted_macs(self) -> int:
        """Sum over layers; equals total_macs when attribution is complete."""
        return sum(layer.macs for layer in self.layers)

    @property
    def total_flops(self) -> int:
        return flops_of(self.total_macs)

    def uncounted_text(self) -> str:
        """'silu x49, add x9' (most frequent first) or 'none'."""
        return counts_text(self.uncounted)


def assemble(tracer: str, convention: str, model, input_shape, calls: list[TracedLayer], own: dict[str, int],
             total: int, uncounted: Counter) -> Trace:
    """Leaf calls (each with its own MACs) plus one functional row per container with MACs of its own."""
    modules = dict(model.named_modules())
    layers = list(calls)
    leaves = {call.name for call in calls}
    for name, module in modules.items():  # a container with parameters of its own (timm's BatchNormAct2d) gets a row
        if name not in leaves and name not in own and any(True for _ in module.parameters(recurse=False)):
            own = {**own, name: 0}
    for name, macs in own.items():
        module = modules.get(name)
        params = sum(p.numel() for p in module.parameters(recurse=False)) if module is not None and name not in leaves else 0
        if macs or params:
            layers.append(TracedLayer(name, type(module).__name__ if module is not None else "", (), (), params, macs,
                                      functional=True))
    if total != sum(layer.macs for layer in layers):  # ops outside the root module's forward (should not happen)
        layers.append(TracedLayer("(outside)", "", (), (), 0, total - sum(l.macs for l in layers), functional=True))
    params = sum(p.numel() for p in model.parameters())
    return Trace(tracer, convention, tuple(input_shape), layers, total, params, uncounted, frozenset(modules))


def own_from_totals(model, totals: dict[str, int]) -> dict[str, int]:
    """Per-module totals that include descendants (fvcore, thop) -> each module's own MACs."""
    own = {}
    for name, module in model.named_modules():
        children = [f"{name}.{c}" if name else c for c, _ in module.named_children()]
        own[name] = totals.get(name, 0) - sum(totals.get(c, 0) for c in children)
    return own


def split_over_calls(calls: list[TracedLayer], own: dict[str, int], weigh) -> None:
    """A leaf's MACs, known only per module, shared among its calls in proportion to weigh(call).

    Exact whenever the weights are the tool's own per-call counts (costlab's formulas reproduce
    fvcore's per op): integer shares, the remainder (0 then) going to the first calls. Calls of
    identical shapes weigh the same, so they get equal shares; weights all 0 give equal shares too.
    """
    by_name: dict[str, list[TracedLayer]] = {}
    for call in calls:
        by_name.setdefault(call.name, []).append(call)
    for name, group in by_name.items():
        macs = own.get(name, 0)
        weights = [weigh(call) for call in group]
        if not sum(weights):
            weights = [1] * len(group)
        shares = [macs * w // sum(weights) for w in weights]
        for i in range(macs - sum(shares)):
            shares[i % len(shares)] += 1
        for call, share in zip(group, shares):
            call.macs = share
