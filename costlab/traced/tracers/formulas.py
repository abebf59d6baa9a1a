"""costlab's own formulas on the shapes each module sees: any convention, and the meta device (no weights)."""

from __future__ import annotations

from collections import Counter

from ...core import ops
from ...core.conventions import get_convention
from ..bridge import aten_macs, price
from ..recorder import Recorder, dispatch_mode
from ..trace import Trace, assemble, op_name, zero_cost


def trace_formulas(model, input_shape, convention: str = "paper", device: str = "meta") -> Trace:
    """Each leaf module call priced by its costlab op (traced.bridge) under the convention; outside such modules,
    F.adaptive_avg_pool2d (told apart from a plain x.mean by a TorchFunctionMode, as fvcore tells them apart)
    and convs and matmuls priced from the aten op's shapes. Every compute op the convention leaves at 0 is
    listed as uncounted by its aten name."""
    import torch
    import torch.nn.functional as F
    from torch.overrides import TorchFunctionMode

    record = get_convention(convention)
    model.eval()
    x = torch.empty(input_shape, device=device) if device == "meta" else torch.zeros(input_shape, device=device)
    recorder = Recorder(model)
    inside: dict[int, list[str]] = {}  # leaf call index -> compute ops run inside it
    uncounted: Counter = Counter()
    pooling = [0]

    class _Pools(TorchFunctionMode):
        def __torch_function__(self, func, types, args=(), kwargs=None):
            if func is F.adaptive_avg_pool2d:
                pooling[0] += 1
                try:
                    return func(*args, **(kwargs or {}))
                finally:
                    pooling[0] -= 1
            return func(*args, **(kwargs or {}))

    def on_op(func, args, kwargs, out, module) -> None:
        name = op_name(func)
        if zero_cost(name):
            return
        running = recorder.stack[-1][1] if recorder.stack else None
        if running is not None and running.op is not None:  # priced as a whole from its op below
            inside.setdefault(len(recorder.calls) - 1, []).append(name)
            return
        if pooling[0] and name in ("mean", "_adaptive_avg_pool2d", "adaptive_avg_pool2d"):
            dims = tuple(int(d) for d in args[0].shape)
            macs = ops.AdaptiveAvgPool2d(functional=True).cost((dims,), dims[:2] + (1, 1), record).macs
        else:
            macs = aten_macs(name, args, out, record)
        if not macs:
            uncounted[name] += 1
        else:
            recorder.charge(macs)

    try:
        with torch.no_grad(), _Pools(), dispatch_mode(recorder, on_op):
            model(x)
    finally:
        recorder.remove()
    for index, call in enumerate(recorder.calls):
        if call.op is None:
            continue
        macs = price(call.op, call.in_shape, call.out_shape, record).macs
        call.macs += macs
        if not macs:
            uncounted.update(inside.get(index, []))
    total = sum(call.macs for call in recorder.calls) + sum(recorder.own.values())
    return assemble("formulas", record.name, model, input_shape, recorder.calls, dict(recorder.own), total, uncounted)
