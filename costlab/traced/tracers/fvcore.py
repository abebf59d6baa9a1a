"""fvcore's FlopCountAnalysis, per call of every leaf module."""

from __future__ import annotations

import math
from collections import Counter

from ...core.conventions import FVCORE
from ...errors import CostlabError
from ..bridge import price
from ..recorder import Recorder
from ..trace import Trace, TracedLayer, assemble, own_from_totals, split_over_calls, unpriced_op, zero_cost


def _short(op: str) -> str:
    return op.split("::", 1)[-1]


def trace_fvcore(model, input_shape, device: str = "cpu") -> Trace:
    """fvcore.nn.FlopCountAnalysis by_module() (its 'flops' are MACs), the model traced in the mode it is in;
    unsupported_ops() become the uncounted list (zero by fvcore's rule) and the unpriced one (no rule prices them)."""
    import warnings

    import torch

    with warnings.catch_warnings():  # fvcore's import touches the deprecated torch.jit.script
        warnings.simplefilter("ignore", FutureWarning)
        from fvcore.nn import FlopCountAnalysis

    x = torch.zeros(input_shape, device=device)
    recorder = Recorder(model)
    try:
        with torch.no_grad():
            model(x)
    finally:
        recorder.remove()
    analysis = FlopCountAnalysis(model, x)
    analysis.unsupported_ops_warnings(False).uncalled_modules_warnings(False).tracer_warnings("none")
    # fvcore silently ignores some ops that do compute (relu, clamp, max...): have it report them too
    analysis._ignored_ops = {op for op in analysis._ignored_ops if zero_cost(_short(op))}
    try:
        per_module = {k: int(v) for k, v in analysis.by_module().items()}
    except Exception as exc:  # fvcore's jit trace of data-dependent control flow on meta tensors, for instance
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        hint = "; try --device cpu, or --tracer formulas --convention fvcore on meta" if device == "meta" else ""
        raise CostlabError(f"fvcore could not trace the model on {device}: {type(exc).__name__}: {first}{hint}") from exc
    skipped = Counter({_short(op): int(n) for op, n in analysis.unsupported_ops().items() if not zero_cost(_short(op))})
    unpriced = Counter({op: n for op, n in skipped.items() if unpriced_op(op, FVCORE)})
    uncounted = skipped - unpriced
    own = own_from_totals(model, per_module)

    def weigh(call: TracedLayer) -> int:  # costlab's fvcore price of this call's shapes, else its input size
        if call.op is not None:
            return price(call.op, call.in_shape, call.out_shape, "fvcore").macs
        return math.prod(call.in_shape)

    # by_module() is per module, not per call: a reused leaf's MACs are shared among its calls
    split_over_calls(recorder.calls, own, weigh)
    leaves = {call.name for call in recorder.calls}
    containers = {name: macs for name, macs in own.items() if name not in leaves}
    total = int(analysis.total())
    trace = assemble("fvcore", "fvcore", model, input_shape, recorder.calls, containers, total, uncounted)
    trace.unpriced = unpriced
    return trace
