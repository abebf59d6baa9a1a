"""Counting any nn.Module (`costlab analyze`, budgets on MODULE:CALLABLE): a trace as typed per-layer rows."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

from ..core.conventions import DEFAULT_CONVENTION
from ..core.cost import flops_of
from ..core.ops import Conv2d
from ..errors import CostlabError
from ..io.render import dims_text
from .batch import nonlinearity, scaled
from ..isolate import run_isolated
from .models import UserCodeError, make_model, user_call
from .trace import Trace, TracedLayer
from .tracers import get_tracer, pick_tracer, run_tracer


def layer_type(layer: TracedLayer) -> str:
    """A traced call's type, in the vocabulary of analytic rows: its op's kind, 'functional' for a container's own ops."""
    if layer.functional:
        return "functional"
    return layer.op.kind if layer.op is not None else layer.module.lower()


def traced_row(layer: TracedLayer) -> dict:
    """One traced call as plain data, in the shape of an analytic row (JSON and CSV)."""
    conv = isinstance(layer.op, Conv2d)
    return {
        "name": layer.name or "(root)",
        "op": layer.module,
        "type": layer_type(layer),
        "stage": layer.name.split(".")[0] if layer.name else "",
        "input_shape": list(layer.in_shape[1:]),
        "output_shape": list(layer.out_shape[1:]),
        "kernel": dims_text(layer.op.kernel) if conv else "",
        "stride": layer.op.stride[0] if conv else 1,
        "groups": layer.op.groups if conv else 1,
        "params": layer.params,
        "macs": layer.macs,
        "flops": flops_of(layer.macs),
    }


@dataclass(frozen=True)
class TracedAnalysis:
    """A real model counted by a tracer: totals, the layers as traced, the ops left uncounted (zero by the convention's
    rule) and unpriced (no rule prices them), and notes (where costlab differs from the tool on purpose, how it ran)."""

    name: str
    input: tuple[int, ...]
    tracer: str
    convention: str
    device: str
    trace: Trace

    @property
    def params(self) -> int:
        return self.trace.params

    @property
    def macs(self) -> int:
        return self.trace.total_macs

    @property
    def flops(self) -> int:
        return flops_of(self.macs)

    @property
    def uncounted(self) -> dict:
        return dict(self.trace.uncounted)

    @property
    def unpriced(self) -> dict:
        return dict(self.trace.unpriced)

    @property
    def notes(self) -> list[str]:
        return list(self.trace.notes)

    def row_dicts(self) -> list[dict]:
        return [traced_row(layer) for layer in self.trace.layers]

    def to_dict(self) -> dict:
        """The JSON shape of `costlab analyze`: that of `costlab arch`, plus tracer, device, input, the uncounted and
        unpriced ops and the notes."""
        return {"name": self.name, "resolution": self.input[2] if len(self.input) > 2 else None, "alpha": None,
                "convention": self.convention, "tracer": self.tracer, "device": self.device,
                "input": list(self.input), "batch": self.input[0], "params": self.params, "macs": self.macs,
                "flops": self.flops, "uncounted_ops": self.uncounted, "unpriced_ops": self.unpriced,
                "notes": self.notes, "layers": self.row_dicts()}

    def frame(self):
        """The traced layers as a pandas DataFrame (columns as in to_dict()['layers'])."""
        from ..io.frames import exact_frame

        return exact_frame(self.row_dicts())


def analyze_model(spec: str, input_dims: tuple[int, ...], tracer: str = "auto", convention: Optional[str] = None,
                  device: Optional[str] = None) -> TracedAnalysis:
    """Count MODULE:CALLABLE's model on input_dims (batch first) with a tracer, on device (default: the tracer's)."""
    tracer, convention = pick_tracer(tracer, convention)
    trace, device = count_spec(spec, tuple(input_dims), tracer, convention, device)
    return TracedAnalysis(spec, tuple(input_dims), tracer, convention, device, trace)


def count_spec(spec: str, dims: tuple[int, ...], tracer: str, convention: str,
               device: Optional[str] = None) -> tuple[Trace, str]:
    """Build MODULE:CALLABLE on device (default: the tracer's) and trace it, isolated from costlab's process when the
    command line runs it (costlab.isolate); (the trace, the device it ran on)."""
    return run_isolated(f"loading and tracing {spec}", _count_spec, spec, dims, tracer, convention, device)


def _count_spec(spec: str, dims: tuple[int, ...], tracer: str, convention: str,
                device: Optional[str] = None) -> tuple[Trace, str]:
    """count_spec's work.

    On the default meta device, a model that cannot be built or run there (RegNet computes its widths with tensor
    ops while it is built; nn.DataParallel moves the model to a GPU where there is one) is counted on CPU instead,
    and a note says so. Code that exits or is interrupted is not run again, and a device asked for is the device used
    (its error then says --device cpu runs the model on real tensors)."""
    if device is not None or get_tracer(tracer).device != "meta":
        device = device or get_tracer(tracer).device
        try:
            return traced(spec, make_model(spec, device), dims, tracer, convention, device), device
        except UserCodeError as exc:
            if device == "meta" and not exc.stopped:
                exc.args = (f"{exc} (on the meta device, as asked; --device cpu runs it on real tensors)",)
            raise
    try:
        return traced(spec, make_model(spec, "meta"), dims, tracer, convention, "meta"), "meta"
    except UserCodeError as exc:
        if exc.stopped:
            raise
        return count_on_cpu(spec, dims, tracer, convention, str(exc)), "cpu"


def count_on_cpu(spec: str, dims: tuple[int, ...], tracer: str, convention: str, why: str) -> Trace:
    """The model built and traced on CPU, keeping memory bounded: batches 1 and 2 only, scaled to the batch asked for
    when every count is linear in the batch (traced.batch), else refused naming why; an error on CPU too is one
    line naming what failed there."""
    model = make_model(spec, "cpu")
    n = dims[0]
    if n <= 2:
        trace = traced(spec, model, dims, tracer, convention, "cpu")
        how = f"counted on cpu at batch {n}"
    else:
        one = traced(spec, model, (1, *dims[1:]), tracer, convention, "cpu")
        two = traced(spec, model, (2, *dims[1:]), tracer, convention, "cpu")
        why_not = nonlinearity(one, two)
        if why_not:
            raise CostlabError(f"{spec} runs only on cpu ({why}), and batch {n} is not scaled from batch 1: {why_not}; "
                               f"--device cpu counts batch {n} itself")
        trace = scaled(one, two, n)
        how = f"counted on cpu at batch 1 and scaled to batch {n} (batch 2 showed every count linear in the batch)"
    trace.notes.append(f"the meta device could not serve ({why}): {how}")
    return trace


def traced(label: str, model: Any, input_dims: tuple[int, ...], tracer: str, convention: str, device: str) -> Trace:
    """run_tracer, with whatever the model's forward does wrong (the wrong channels, too small an input, a sys.exit)
    as one CostlabError naming the model and the input; an input without its batch dimension is refused too. A model
    in training mode is counted in it (as fvcore and FlopCounterMode count it; ptflops and thop switch to eval), and a
    note says so where that changes a count (BatchNorm on the batch's statistics)."""
    dims = dims_text(input_dims).replace("x", ",")
    try:
        trace = user_call(f"{label} on input {dims} ({device})",
                          lambda: run_tracer(tracer, model, input_dims, convention, device))
    except UserCodeError as exc:
        if len(input_dims) != 4:
            exc.args = (f"{exc} (the input is batch first: N,C,H,W for images, e.g. 1,3,224,224)",)
        raise
    for layer in trace.layers:  # a 2-d conv sees N,C,H,W: three dims mean torch ran the input unbatched
        if isinstance(layer.op, Conv2d) and len(layer.in_shape) == 3:
            raise CostlabError(f"{label} ran input {dims} as one unbatched image ({layer.name} saw "
                               f"{dims_text(layer.in_shape)}): --input is batch first, N,C,H,W, e.g. 1,{dims}")
    if tracer not in ("ptflops", "thop") and _training_batch_norm(model):
        trace.notes.append("BatchNorm in training mode, counted so (on the batch's statistics); call .eval() on the "
                           "model to count inference")
    return trace


def _training_batch_norm(model: Any) -> bool:
    from torch.nn.modules.batchnorm import _BatchNorm

    return any(isinstance(m, _BatchNorm) and m.training for m in model.modules())


def analyze_instance(model: Any, input_dims: tuple[int, ...], tracer: str = "auto",
                     convention: Optional[str] = None) -> TracedAnalysis:
    """Count an nn.Module instance on input_dims (batch first), on its own device, in the mode it is in."""
    from .tracers import model_device

    tracer, convention = pick_tracer(tracer, convention)
    device = model_device(model)
    trace = traced(type(model).__name__, model, input_dims, tracer, convention, device)
    return TracedAnalysis(type(model).__name__, tuple(input_dims), tracer, convention, device, trace)


@dataclass(frozen=True)
class ModelCount:
    """Totals of a traced model at its input's batch: params, MACs, FLOPs (= 2 * MACs), and how they were counted."""

    params: int
    macs: int
    tracer: str
    convention: str
    uncounted: dict = field(default_factory=dict)
    unpriced: dict = field(default_factory=dict)
    notes: tuple = ()

    @property
    def flops(self) -> int:
        return flops_of(self.macs)


def analyze_module(model: Any, input_shape, convention: str = DEFAULT_CONVENTION, tracer: str = "auto") -> ModelCount:
    """Count an nn.Module (on its own device) or a MODULE:CALLABLE (built on the tracer's device, on CPU where the
    meta device cannot serve) under a convention."""
    from .tracers import model_device

    tracer, convention = pick_tracer(tracer, convention)
    dims = tuple(int(d) for d in input_shape)
    if isinstance(model, str):
        trace, _ = count_spec(model, dims, tracer, convention)
    else:
        trace = traced(type(model).__name__, model, dims, tracer, convention, model_device(model))
    return ModelCount(trace.params, trace.total_macs, tracer, convention, dict(trace.uncounted), dict(trace.unpriced),
                      tuple(trace.notes))
