"""PyTorch's own torch.utils.flop_counter.FlopCounterMode, per call of every leaf module."""

from __future__ import annotations

from collections import Counter

from ...core.conventions import PAPER
from ...errors import CostlabError
from ..recorder import Opaque, Recorder, dispatch_mode
from ..trace import Trace, assemble, op_name, unpriced_op, zero_cost


def _half(flops: int, where: str) -> int:
    if flops % 2:
        raise CostlabError(f"FlopCounterMode reported an odd FLOP count {flops} for {where}; cannot halve to MACs")
    return flops // 2


def trace_torch(model, input_shape, device: str = "meta") -> Trace:
    """FlopCounterMode per-module FLOPs / 2, the model run in the mode it is in; aten ops it has no formula for (and
    that compute something) are listed: uncounted when zero by the paper convention's rule, else unpriced."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    x = torch.empty(input_shape, device=device) if device == "meta" else torch.zeros(input_shape, device=device)
    recorder = Recorder(model)
    counter = FlopCounterMode(display=False)
    uncounted: Counter = Counter()
    unpriced: Counter = Counter()
    opaque = Opaque()

    def global_flops() -> int:
        return sum(counter.flop_counts["Global"].values())

    counted = [0]  # Global FLOPs already charged

    def on_op(func, args, kwargs, out, module) -> None:
        # FlopCounterMode sits below this mode: it has counted the op by the time func returns here
        flops = global_flops() - counted[0]
        counted[0] += flops
        recorder.charge(flops)  # per call of a leaf module, or to the container running the op
        name = op_name(func)
        if zero_cost(name):
            return
        opaque.op()
        if func.overloadpacket in counter.flop_registry:
            return
        (unpriced if unpriced_op(name, PAPER) else uncounted)[name] += 1

    try:
        with torch.no_grad(), counter, dispatch_mode(recorder, on_op), opaque.routed():
            model(x)
    finally:
        recorder.remove()
    for call in recorder.calls:
        call.macs = _half(call.macs, call.name)
    own = {name: _half(flops, name or "(root)") for name, flops in recorder.own.items()}
    total = _half(global_flops(), "Global")
    trace = assemble("torch", "paper", model, input_shape, recorder.calls, own, total, uncounted)
    trace.unpriced = unpriced + opaque.unpriced
    return trace
