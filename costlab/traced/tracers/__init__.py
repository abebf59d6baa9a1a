"""The tracers: who counts a real model, on which device, under which conventions.

Which conventions a tool's tracer reproduces is stated in core.conventions (each record's `tracers`);
the formulas tracer prices any convention with costlab's own formulas.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional

from ...core.conventions import CONVENTIONS, DEFAULT_CONVENTION, get_convention
from ...errors import CostlabError


@dataclass(frozen=True)
class Tracer:
    """A way to count a real model: its description, the device it runs on by default, whether it takes any convention."""

    name: str
    description: str
    device: str
    any_convention: bool = False
    extra: str = ""  # the pip package it needs beyond costlab[trace], if any

    @property
    def convention(self) -> Optional[str]:
        """The one convention a tool's tracer reproduces (None for the formulas tracer, which takes any)."""
        if self.any_convention:
            return None
        return next(c.name for c in CONVENTIONS.values() if self.name in c.tracers)


TRACERS: dict[str, Tracer] = {t.name: t for t in (
    Tracer("torch", "torch.utils.flop_counter.FlopCounterMode, total / 2", "meta"),
    Tracer("fvcore", "fvcore.nn.FlopCountAnalysis (jit trace, real tensors)", "cpu"),
    Tracer("formulas", "costlab's formulas applied to the shapes each module sees (any convention, meta device)",
           "meta", any_convention=True),
    Tracer("ptflops", "ptflops' own hooks and patched functionals (pytorch backend, real tensors)", "cpu",
           extra="ptflops"),
    Tracer("thop", "thop.profile's module hooks (real tensors)", "cpu", extra="thop"),
)}


def get_tracer(name: str) -> Tracer:
    if name not in TRACERS:
        raise CostlabError(f"unknown tracer {name!r}; known: {', '.join(TRACERS)}")
    return TRACERS[name]


def pick_tracer(tracer: str, convention: Optional[str]) -> tuple[str, str]:
    """Resolve 'auto' to the convention's first exact tracer, and check a named tracer can count the convention."""
    if convention is not None:
        get_convention(convention)
    if tracer == "auto":
        tracer = get_convention(convention or DEFAULT_CONVENTION).tracers[0]
    chosen = get_tracer(tracer)
    fixed = chosen.convention
    if fixed and convention not in (None, fixed):
        raise CostlabError(f"tracer {tracer} reproduces the {fixed!r} convention, not {convention!r}; "
                           f"use --tracer formulas (or auto) for {convention!r}")
    return tracer, fixed or convention or DEFAULT_CONVENTION


def _runner(name: str) -> Callable:
    if name == "fvcore":
        from .fvcore import trace_fvcore as run
    elif name == "torch":
        from .flopcounter import trace_torch as run
    elif name == "formulas":
        from .formulas import trace_formulas as run
    elif name == "ptflops":
        from .tools import trace_ptflops as run
    else:
        from .tools import trace_thop as run
    return run


def model_device(model) -> str:
    """The device of the model's first parameter or buffer ('cpu' for a model without any)."""
    for tensor in list(model.parameters()) + list(model.buffers()):
        return tensor.device.type
    return "cpu"


def run_tracer(tracer: str, model, input_shape, convention: Optional[str] = None, device: Optional[str] = None):
    """Count model on input_shape with one tracer, on device (default: the model's own; a model without parameters
    or buffers runs on the device it was built for)."""
    chosen = get_tracer(tracer)
    run = _runner(chosen.name)
    device = device or model_device(model)
    if chosen.any_convention:
        return run(model, input_shape, convention or DEFAULT_CONVENTION, device)
    return run(model, input_shape, device)
