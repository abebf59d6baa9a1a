"""Counting any nn.Module (`costlab analyze`, budgets on MODULE:CALLABLE): a trace as typed per-layer rows."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

from ..core.conventions import DEFAULT_CONVENTION
from ..core.cost import flops_of
from ..core.ops import Conv2d
from ..errors import CostlabError
from ..io.render import dims_text
from .models import make_model, user_call
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
    """A real model counted by a tracer: totals, the layers as traced, and the ops left uncounted."""

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

    def row_dicts(self) -> list[dict]:
        return [traced_row(layer) for layer in self.trace.layers]

    def to_dict(self) -> dict:
        """The JSON shape of `costlab analyze`: that of `costlab arch`, plus tracer, device, input and uncounted ops."""
        return {"name": self.name, "resolution": self.input[2] if len(self.input) > 2 else None, "alpha": None,
                "convention": self.convention, "tracer": self.tracer, "device": self.device,
                "input": list(self.input), "batch": self.input[0], "params": self.params, "macs": self.macs,
                "flops": self.flops, "uncounted_ops": self.uncounted, "layers": self.row_dicts()}

    def frame(self):
        """The traced layers as a pandas DataFrame (columns as in to_dict()['layers'])."""
        import pandas as pd

        return pd.DataFrame.from_records(self.row_dicts())


def analyze_model(spec: str, input_dims: tuple[int, ...], tracer: str = "auto", convention: Optional[str] = None,
                  device: Optional[str] = None) -> TracedAnalysis:
    """Count MODULE:CALLABLE's model on input_dims (batch first) with a tracer, on device (default: the tracer's)."""
    tracer, convention = pick_tracer(tracer, convention)
    device = device or get_tracer(tracer).device
    model = make_model(spec, device)
    trace = traced(spec, model, input_dims, tracer, convention, device)
    return TracedAnalysis(spec, tuple(input_dims), tracer, convention, device, trace)


def traced(label: str, model: Any, input_dims: tuple[int, ...], tracer: str, convention: str, device: str) -> Trace:
    """run_tracer, with whatever the model's forward does wrong (the wrong channels, too small an input, a sys.exit)
    as one CostlabError naming the model and the input; an input without its batch dimension is refused too."""
    dims = dims_text(input_dims).replace("x", ",")
    try:
        trace = user_call(f"{label} on input {dims} ({device})", lambda: run_tracer(tracer, model, input_dims, convention))
    except CostlabError as exc:
        if len(input_dims) == 4:
            raise
        raise CostlabError(f"{exc} (the input is batch first: N,C,H,W for images, e.g. 1,3,224,224)") from None
    for layer in trace.layers:  # a 2-d conv sees N,C,H,W: three dims mean torch ran the input unbatched
        if isinstance(layer.op, Conv2d) and len(layer.in_shape) == 3:
            raise CostlabError(f"{label} ran input {dims} as one unbatched image ({layer.name} saw "
                               f"{dims_text(layer.in_shape)}): --input is batch first, N,C,H,W, e.g. 1,{dims}")
    return trace


def analyze_instance(model: Any, input_dims: tuple[int, ...], tracer: str = "auto",
                     convention: Optional[str] = None) -> TracedAnalysis:
    """Count an nn.Module instance on input_dims (batch first), on its own device."""
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

    @property
    def flops(self) -> int:
        return flops_of(self.macs)


def analyze_module(model: Any, input_shape, convention: str = DEFAULT_CONVENTION, tracer: str = "auto") -> ModelCount:
    """Count an nn.Module (on its own device) or a MODULE:CALLABLE (built on the tracer's device) under a convention."""
    from .tracers import model_device

    tracer, convention = pick_tracer(tracer, convention)
    dims = tuple(int(d) for d in input_shape)
    label = model if isinstance(model, str) else type(model).__name__
    if isinstance(model, str):
        model = make_model(model, get_tracer(tracer).device)
    trace = traced(label, model, dims, tracer, convention, model_device(model))
    return ModelCount(trace.params, trace.total_macs, tracer, convention, dict(trace.uncounted))
