"""ptflops and thop run live, each call charged what the tool's own hooks and patched functionals counted during it."""

from __future__ import annotations

from collections import Counter

from ..bridge import is_transparent
from ..recorder import Opaque, Recorder, dispatch_mode
from ..trace import Trace, assemble, op_name, own_from_totals, unknown_op, zero_cost


def trace_ptflops(model, input_shape, device: str = "cpu") -> Trace:
    """ptflops' pytorch backend run by hand: what each call adds to its module's __flops__, plus every patched
    functional call (F.relu, F.silu, F.adaptive_avg_pool2d...) charged to the module call running it. At batch 1
    the total is get_model_complexity_info's (which divides module counts, not functional ones, by the batch)."""
    import io

    import torch
    from ptflops import pytorch_engine as engine

    modes = _eval(model)  # as get_model_complexity_info runs it
    x = torch.zeros(input_shape, device=device)
    recorder = Recorder(model, counter=lambda module: int(getattr(module, "__flops__", 0)))
    pending = [0]  # a patched functional was just charged: the next aten op is the one it counted

    class _Charged(list):
        def append(self, flops) -> None:
            recorder.charge(int(flops))
            pending[0] = 1
            super().append(flops)

    uncounted = _ContainerOps(recorder, pending)
    collector = _Charged()
    engine.add_flops_counting_methods(model)
    model.start_flops_count(ost=io.StringIO(), verbose=False, ignore_list=[])
    engine.patch_functional(collector)
    engine.patch_tensor_ops(collector)
    try:
        with torch.no_grad(), dispatch_mode(recorder, uncounted.on_op), uncounted.opaque.routed():
            model(x)
        recorder.flush()
        for module, name in recorder.names.items():  # a hooked module with children (none in torchvision)
            if module not in recorder.leaves and engine.is_supported_instance(module):
                recorder.own[name] += int(module.__flops__)
    finally:
        engine.unpatch_functional()
        engine.unpatch_tensor_ops()
        model.stop_flops_count()
        recorder.remove()
        _restore(modes)
    total = sum(call.macs for call in recorder.calls) + sum(recorder.own.values())
    return _finish("ptflops", model, input_shape, recorder, total, uncounted)


def trace_thop(model, input_shape, device: str = "cpu") -> Trace:
    """thop.profile: what each call adds to its module's total_ops (thop's own hooks); its per-module totals
    (ret_layer_info=True) give what containers count of their own (nothing, in thop 0.1.1)."""
    import torch
    from thop import profile

    modes = _eval(model)  # as profile runs it
    x = torch.zeros(input_shape, device=device)

    def thop_count(module) -> int:  # a float64 buffer thop adds for the run (ignored as bookkeeping below)
        return int(module.total_ops.item()) if "total_ops" in module._buffers else 0

    recorder = Recorder(model, counter=thop_count)
    uncounted = _ContainerOps(recorder, [0])
    try:
        with dispatch_mode(recorder, uncounted.on_op), uncounted.opaque.routed():
            total, thop_params, info = profile(model, (x,), verbose=False, ret_layer_info=True)
    finally:
        recorder.remove()
        _restore(modes)
    totals: dict[str, int] = {"": int(total)}

    def collect(prefix: str, layer_info: dict) -> None:
        for child, (ops, _, grandchildren) in layer_info.items():
            name = f"{prefix}.{child}" if prefix else child
            totals[name] = int(ops)
            collect(name, grandchildren)

    collect("", info)
    recorder.flush(lambda module: totals[recorder.names[module]])
    leaves = {recorder.names[m] for m in recorder.leaves}
    for name, macs in own_from_totals(model, totals).items():
        if name not in leaves:
            recorder.own[name] += macs
    trace = _finish("thop", model, input_shape, recorder, int(total), uncounted)
    if int(thop_params) != trace.params:
        trace.notes.append(f"thop counts {int(thop_params):,} params, those of the modules it has a rule for and that "
                           f"ran; costlab counts every parameter, {trace.params:,}")
    return trace


class _ContainerOps:
    """Aten ops a container runs in its own forward (residual add, SE multiply, x.mean) that no tool charged, and,
    anywhere, ops of no family costlab has a rule for (unpriced)."""

    def __init__(self, recorder: Recorder, pending: list) -> None:
        self.leaves = {recorder.names[m] for m in recorder.leaves}
        self.pending, self.ops, self.unpriced = pending, Counter(), Counter()
        self.opaque = Opaque()

    def on_op(self, func, args, kwargs, out, module) -> None:
        name = op_name(func)
        if not zero_cost(name) and not _bookkeeping(args, out):
            self.opaque.op()
        if self.pending[0]:
            self.pending[0] = 0
        elif unknown_op(name):
            self.unpriced[name] += 1
        elif module not in self.leaves and not zero_cost(name) and not _bookkeeping(args, out):
            self.ops[name] += 1


def _eval(model) -> dict:
    """Put the model in eval, as ptflops and thop do; the modes before, to restore."""
    modes = {module: module.training for module in model.modules()}
    model.eval()
    return modes


def _restore(modes: dict) -> None:
    for module, training in modes.items():
        module.training = training


def _bookkeeping(args, out) -> bool:
    """thop's hooks keep their counts in float64 tensors (the traced model runs in float32)."""
    tensors = [t for t in (*args, out) if hasattr(t, "dtype")]
    return any(str(t.dtype) == "torch.float64" for t in tensors)


def _finish(tracer: str, model, input_shape, recorder: Recorder, total: int, ops: _ContainerOps) -> Trace:
    """The recorded calls as a Trace; leaf calls charged 0 that compute something are listed as uncounted."""
    uncounted = ops.ops
    for call in recorder.calls:
        if not call.macs and not is_transparent(call.module):
            uncounted[call.module.lower()] += 1
    trace = assemble(tracer, tracer, model, input_shape, recorder.calls, dict(recorder.own), total, uncounted)
    trace.unpriced = ops.unpriced + ops.opaque.unpriced
    return trace
