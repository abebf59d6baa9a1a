"""Latency of any nn.Module (MODULE:CALLABLE): its traced ops priced by the same roofline, timed per traced unit.

The ops come from one pass on the meta device (traced.timeline: no weights, no activations); each unit - a leaf
module's call, or a container's own forward with what it computes between its children - is one row, the sum of its
ops' predictions (roofline.merge). With measure, a second instance built on the CPU is timed by forward hooks: a
leaf call's span, a container's own time (its span minus its children's).
"""

from __future__ import annotations

from collections import Counter

from ..errors import CostlabError
from .devices import Device
from .roofline import LayerLatency, merge, predict_rows


def traced_layers(spec, input_dims: tuple[int, ...], device: Device, dtype_bytes: int, threads: int):
    """(the trace, one LayerLatency per unit) for a MODULE:CALLABLE (or an nn.Module) on input_dims, batch first.

    A MODULE:CALLABLE is built and run on the meta device (no weights, no activations); a model whose construction
    or forward needs real tensors (torchvision's RegNet copies into its weights; a custom autograd Function computing
    with numpy) is built and run on the CPU instead.
    """
    from ..isolate import run_isolated

    if isinstance(spec, str):
        trace = run_isolated(f"loading and tracing {spec}", _trace_ops, spec, input_dims)
    else:
        trace = _trace_ops(spec, input_dims)
    rows = predict_rows(trace.rows, device, dtype_bytes, threads, trace.batch, trace.views)
    layers = [merge(u.name, u.kind, [rows[i] for i in u.rows], u.note(trace.rows)) for u in trace.units]
    return trace, layers


def _trace_ops(spec, input_dims: tuple[int, ...]):
    """The op timeline of spec on input_dims: on the meta device, else (its construction or forward needs real
    tensors) on the CPU."""
    from ..traced.models import UserCodeError, make_model, user_call
    from ..traced.timeline import trace_ops

    label = spec if isinstance(spec, str) else type(spec).__name__
    dims = ",".join(map(str, input_dims))
    if not isinstance(spec, str):
        return user_call(f"{label} on input {dims}", lambda: trace_ops(spec, input_dims))
    try:
        model = make_model(spec, "meta")
        return user_call(f"{label} on input {dims}", lambda: trace_ops(model, input_dims))
    except UserCodeError as exc:
        if exc.stopped:
            raise
        model = make_model(spec, "cpu")
        return user_call(f"{label} on input {dims} (cpu)", lambda: trace_ops(model, input_dims))


def traced_report(spec: str, device: Device, threads: int, input_dims: tuple[int, ...], measure: bool,
                  dtype_bytes: int, repeats: int, warmup: int):
    """LatencyReport of a MODULE:CALLABLE: one row per traced unit; with measure, each unit's median time."""
    from ..core.shapes import parse_input_shape
    from ..extras import require
    from .latency import LatencyReport

    require(f"latency of {spec}", ("torch",))
    input_dims = parse_input_shape(list(input_dims), "--input", rank=4)
    trace, layers = traced_layers(spec, input_dims, device, dtype_bytes, threads)
    macs = sum(r.macs for r in trace.rows) * trace.batch
    counted = counted_trace(spec, input_dims)
    report = LatencyReport(spec, input_dims[2], device.name, threads, dtype_bytes, macs, layers,
                           batch=input_dims[0], unpriced=Counter(counted.unpriced) | unplaced_ops(trace),
                           counted_macs=counted.total_macs)
    if measure:
        report.measured = _measure(spec, trace, layers, threads, input_dims, repeats, warmup)
    return report


def unplaced_ops(trace) -> Counter:
    """The ops of a traced model the roofline gives no time (an LSTM's addmm and gates): its units' unpriced ops."""
    return sum((Counter(u.unpriced) for u in trace.units), Counter())


def counted_trace(spec: str, input_dims: tuple[int, ...]):
    """spec counted as `costlab analyze` counts it (paper convention, FlopCounterMode): its MACs, priced by a rule or
    not, and the ops that compute and that no rule prices."""
    from ..core.conventions import DEFAULT_CONVENTION
    from ..traced.count import count_spec

    trace, _ = count_spec(spec, tuple(input_dims), "torch", DEFAULT_CONVENTION)
    return trace


def _measure(spec: str, trace, layers: list[LayerLatency], threads: int, input_dims, repeats: int,
             warmup: int) -> dict:
    from ..isolate import run_isolated
    from .latency import correlations

    passes, total = run_isolated(f"timing {spec} on the CPU", _time_on_cpu, spec, threads, input_dims, repeats, warmup)
    for unit, layer in zip(trace.units, layers):
        ran = passes.calls_of(unit.module)
        if not unit.own and ran <= unit.call:
            raise CostlabError(f"{spec}: module {unit.module!r} ran {ran} time(s) on the CPU but {unit.call + 1} on "
                               f"the meta device; its forward depends on the data, so it cannot be timed per layer")
        layer.measured_ms = passes.self_ms(unit.module) if unit.own else passes.call_ms(unit.module, unit.call)
    return {"measured_total_ms": total, **correlations(layers)}


def _time_on_cpu(spec: str, threads: int, input_dims, repeats: int, warmup: int):
    """(Passes, the whole model's median ms) of MODULE:CALLABLE built on the CPU and timed there."""
    import torch

    from ..traced.models import make_model, user_call
    from .measure import measure_total, record_passes, torch_threads

    dims = ",".join(map(str, input_dims))
    with torch_threads(threads):
        torch.manual_seed(0)
        model = make_model(spec, "cpu")
        x = torch.randn(input_dims)
        passes = user_call(f"{spec} on input {dims} (cpu)", lambda: record_passes(model, x, repeats, warmup))
        total = user_call(f"{spec} on input {dims} (cpu)", lambda: measure_total(model, x, repeats, warmup))
    return passes, total
