"""costlab's own formulas on every torch function a model calls: any convention, on the meta device (no weights)."""

from __future__ import annotations

from collections import Counter

from ...core.conventions import get_convention
from ..functions import FROM_FUNCTION, SEE_THROUGH, call_of
from ..recorder import Opaque, Recorder, dispatch_mode
from ..trace import Trace, assemble, op_name, unpriced_op, zero_cost


def trace_formulas(model, input_shape, convention: str = "paper", device: str = "meta") -> Trace:
    """Each call of a function costlab prices (traced.functions: convs, linear, matrix products, norms, pools,
    upsampling, activations) priced by its op under the convention and charged to the module running it. The model
    runs in the mode it is in (train or eval), as fvcore and FlopCounterMode run it.

    Below the functions, every aten op is watched: one that computes and ran outside a priced call is either zero by
    the convention's rule (uncounted: an add, a mean, a BatchNorm under paper) or priced by no rule (unpriced: an FFT,
    a product met outside the call costlab prices, an op the convention's tool prices and costlab did not), and
    --strict fails on the latter. Ops inside a call the convention prices at 0 (an activation under fvcore) are listed
    as uncounted by their aten names.
    """
    import torch
    from torch.overrides import TorchFunctionMode

    record = get_convention(convention)
    x = torch.empty(input_shape, device=device) if device == "meta" else torch.zeros(input_shape, device=device)
    recorder = Recorder(model)
    uncounted: Counter = Counter()
    unpriced: Counter = Counter()
    disagreements: Counter = Counter()
    inside: list[list[str]] = []  # aten ops of each priced call now running (outermost first)
    charged = [0]  # MACs priced so far
    opaque = Opaque()

    class _Functions(TorchFunctionMode):
        def __torch_function__(self, func, types, args=(), kwargs=None):
            kwargs = kwargs or {}
            if func in SEE_THROUGH:  # the functions it calls are seen and priced, each as itself
                with self:
                    return torch.overrides.redispatch_function(func, types, args, kwargs)
            if func not in FROM_FUNCTION:  # its aten ops are still watched below
                return func(*args, **kwargs)
            inside.append([])
            try:
                out = func(*args, **kwargs)
            finally:
                ran = inside.pop()
            running = recorder.stack[-1][1] if recorder.stack else None
            call = call_of(func, args, kwargs, out, running.op if running is not None else None)
            macs = call.op.cost(call.ins, call.out, record).macs
            recorder.charge(macs)
            charged[0] += macs
            if not macs:
                uncounted.update(ran)
            if call.disagreement in record.disagreements:
                disagreements[call.disagreement] += 1
            return out

    def on_op(func, args, kwargs, out, module) -> None:
        name = op_name(func)
        if zero_cost(name):
            return
        opaque.op()
        if inside:
            inside[-1].append(name)
        elif unpriced_op(name, record):
            unpriced[name] += 1
        else:
            uncounted[name] += 1

    def autograd_function(cls, run):
        """A custom autograd Function: its ops are priced as any others; fvcore's jit graph sees one opaque
        prim::PythonOp instead, a disagreement where they cost something."""
        before = charged[0]
        out = opaque.call(cls, run)
        if charged[0] > before and "autograd_function" in record.disagreements:
            disagreements["autograd_function"] += 1
        return out

    try:
        with torch.no_grad(), _Functions(), dispatch_mode(recorder, on_op), opaque.routed(autograd_function):
            model(x)
    finally:
        recorder.remove()
    total = sum(call.macs for call in recorder.calls) + sum(recorder.own.values())
    trace = assemble("formulas", record.name, model, input_shape, recorder.calls, dict(recorder.own), total, uncounted)
    trace.unpriced = unpriced + opaque.unpriced
    trace.notes = [f"{record.disagreements[key]} (x{n})" for key, n in disagreements.items()]
    return trace
