"""Count a real nn.Module: per-module MACs from fvcore, FlopCounterMode or costlab's own formulas.

Every trace records the leaf modules in execution order (name, class, input and output shape,
params) with forward hooks, the MACs each module computes, the MACs computed by ops that live in a
container's own forward (residual add, SE multiply, MNASNet's x.mean, MobileNetV2's functional
pooling), and every op that was *not* counted, by name and count. torch, torchvision and fvcore are
imported inside functions: importing this module is cheap.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Optional

from . import formulas
from .errors import CostlabError
from .shapes import Shape

TRACERS: dict[str, str] = {
    "fvcore": "fvcore.nn.FlopCountAnalysis (jit trace, real tensors); reproduces the 'fvcore' convention",
    "torch": "torch.utils.flop_counter.FlopCounterMode, total / 2; reproduces the 'paper' convention",
    "formulas": "costlab's formula registry applied to the shapes each module sees (any convention, meta device)",
    "ptflops": "ptflops' own hooks and patched functionals (pytorch backend, real tensors, batch 1); the 'ptflops' convention",
    "thop": "thop.profile's module hooks (real tensors); reproduces the 'thop' convention",
}
TRACER_CONVENTION = {"fvcore": "fvcore", "torch": "paper", "ptflops": "ptflops", "thop": "thop"}

# aten ops that move or reshape memory and compute nothing: never listed as uncounted.
ZERO_COST_ATEN = frozenset("""
    empty empty_like empty_strided new_empty zeros zeros_like ones ones_like full full_like zero_ fill_
    clone detach alias lift_fresh copy_ _to_copy contiguous view _unsafe_view reshape as_strided
    t transpose permute expand expand_as flatten unflatten slice select unsqueeze squeeze cat stack
    split chunk narrow dropout native_dropout feature_dropout alpha_dropout _reshape_alias
    size to type_as Int ScalarImplicit unbind split_with_sizes new_zeros new_full constant_pad_nd arange
""".split())

# Leaf modules that compute nothing (in eval) and have no analytic row of their own.
TRANSPARENT_MODULES = frozenset({"Dropout", "Dropout2d", "Identity", "StochasticDepth", "Flatten"})


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
    info: dict = field(default_factory=dict)


@dataclass
class Trace:
    """Per-module MACs of one forward pass of a real model, from one tracer."""

    tracer: str
    convention: str
    input_shape: tuple[int, ...]
    layers: list[TracedLayer]
    total_macs: int
    params: int
    uncounted: Counter = field(default_factory=Counter)
    modules: frozenset = frozenset()

    @property
    def counted_macs(self) -> int:
        """Sum over layers; equals total_macs when attribution is complete."""
        return sum(layer.macs for layer in self.layers)

    def uncounted_text(self) -> str:
        """'silu x49, add x9' (most frequent first) or 'none'."""
        if not self.uncounted:
            return "none"
        return ", ".join(f"{op} x{n}" for op, n in sorted(self.uncounted.items(), key=lambda kv: (-kv[1], kv[0])))


def shape_of(dims: tuple[int, ...]) -> Shape:
    """A traced tensor shape (batch first) as costlab's per-sample Shape: (N,C,H,W) -> CxHxW, (N,F) -> Fx1x1."""
    rest = tuple(dims[1:])
    if len(rest) == 3:
        return Shape(*rest)
    if len(rest) == 1:
        return Shape(rest[0])
    return Shape(math.prod(rest) if rest else 1)


# --------------------------------------------------------------------------------------------
# Recording leaf calls


class _Recorder:
    """Forward hooks on every module: one record per leaf call, in order, and the stack of modules now running.

    MACs are charged per call: charge() puts them on the leaf call now running (a module reused three
    times gets three records, each with its own MACs) or, between leaf calls, on the container whose
    own forward is running (residual add, SE multiply). With counter(module) -> int, a tool's running
    count kept on each leaf module (ptflops' __flops__, thop's total_ops), every call also gets what
    that count grew by during it: read before the call and again at the next hook event, by which time
    the tool's own forward hook on that module has run (the tool registers it after ours).
    """

    def __init__(self, model, counter=None) -> None:
        self.names = {m: n for n, m in model.named_modules()}
        self.leaves = {m for m in self.names if next(iter(m.children()), None) is None}
        self.calls: list[TracedLayer] = []
        self.own: Counter = Counter()  # MACs of each container's own forward, by module name
        self.stack: list[tuple[Any, Optional[TracedLayer]]] = []
        self.counter = counter
        self.open: Optional[tuple[Any, TracedLayer, int]] = None  # last leaf call whose tool count is not read yet
        self.called: set = set()
        self.handles: list[Any] = []
        for module in self.names:
            self.handles.append(module.register_forward_pre_hook(self._pre))
            self.handles.append(module.register_forward_hook(self._post))

    def _pre(self, module, inputs) -> None:
        self._read_counter()
        call = None
        if module in self.leaves:
            params = 0 if module in self.called else sum(p.numel() for p in module.parameters(recurse=False))
            self.called.add(module)  # a reused module's params are on its first call only
            call = TracedLayer(self.names[module], type(module).__name__, _dims(inputs[0] if inputs else None), (),
                               params)
            self.calls.append(call)
        self.stack.append((module, call))

    def _post(self, module, inputs, output) -> None:
        self._read_counter()
        if self.stack and self.stack[-1][0] is module:
            _, call = self.stack.pop()
            if call is not None:
                call.out_shape = _dims(output)
                if self.counter is not None:
                    self.open = (module, call, self.counter(module))

    def _read_counter(self, counter=None) -> None:
        if self.open is not None:
            module, call, before = self.open
            self.open = None
            call.macs += (counter or self.counter)(module) - before

    def flush(self, counter=None) -> None:
        """Read the last leaf call's count once the forward is over (no hook fires after a leaf root's call).

        counter: where the final counts are then (thop has removed its buffers by the time profile returns)."""
        self._read_counter(counter)

    def charge(self, macs: int) -> None:
        """MACs of one op: to the leaf call running it, else to the container running it (the root outside any)."""
        module, call = self.stack[-1] if self.stack else (None, None)
        if call is not None:
            call.macs += macs
        else:
            self.own[self.names[module] if module is not None else ""] += macs

    def current(self) -> Optional[str]:
        return self.names[self.stack[-1][0]] if self.stack else None

    def remove(self) -> None:
        for handle in self.handles:
            handle.remove()


def _dims(x: Any) -> tuple[int, ...]:
    if isinstance(x, (tuple, list)) and x:
        x = x[0]
    shape = getattr(x, "shape", None)
    return tuple(int(d) for d in shape) if shape is not None else ()


def _assemble(tracer: str, convention: str, model, input_shape, calls: list[TracedLayer], own: dict[str, int],
              total: int, uncounted: Counter) -> Trace:
    """Leaf calls (each with its own MACs) plus one functional row per container with MACs of its own."""
    modules = dict(model.named_modules())
    layers = list(calls)
    for name, macs in own.items():
        if macs:
            layers.append(TracedLayer(name, type(modules[name]).__name__ if name in modules else "", (), (), 0, macs,
                                      functional=True))
    if total != sum(layer.macs for layer in layers):  # ops outside the root module's forward (should not happen)
        layers.append(TracedLayer("(outside)", "", (), (), 0, total - sum(l.macs for l in layers), functional=True))
    params = sum(p.numel() for p in model.parameters())
    return Trace(tracer, convention, tuple(input_shape), layers, total, params, uncounted, frozenset(modules))


def _own_from_totals(model, totals: dict[str, int]) -> dict[str, int]:
    """Per-module totals that include descendants (fvcore, thop) -> each module's own MACs."""
    own = {}
    for name, module in model.named_modules():
        children = [f"{name}.{c}" if name else c for c, _ in module.named_children()]
        own[name] = totals.get(name, 0) - sum(totals.get(c, 0) for c in children)
    return own


def _split_over_calls(calls: list[TracedLayer], own: dict[str, int], weigh) -> None:
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


# --------------------------------------------------------------------------------------------
# The tracers


def trace_fvcore(model, input_shape, device: str = "cpu") -> Trace:
    """fvcore.nn.FlopCountAnalysis by_module() (its 'flops' are MACs); unsupported_ops() become the uncounted list."""
    import warnings

    import torch

    with warnings.catch_warnings():  # fvcore's import touches the deprecated torch.jit.script
        warnings.simplefilter("ignore", FutureWarning)
        from fvcore.nn import FlopCountAnalysis

    model.eval()
    x = torch.zeros(input_shape, device=device)
    recorder = _Recorder(model)
    try:
        with torch.no_grad():
            model(x)
    finally:
        recorder.remove()
    analysis = FlopCountAnalysis(model, x)
    analysis.unsupported_ops_warnings(False).uncalled_modules_warnings(False).tracer_warnings("none")
    # fvcore silently ignores some ops that do compute (relu, clamp, max...): have it report them too
    analysis._ignored_ops = {op for op in analysis._ignored_ops if _zero_cost(_short(op))}
    try:
        per_module = {k: int(v) for k, v in analysis.by_module().items()}
    except Exception as exc:  # fvcore's jit trace of data-dependent control flow on meta tensors, for instance
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        hint = "; try --device cpu, or --tracer formulas --convention fvcore on meta" if device == "meta" else ""
        raise CostlabError(f"fvcore could not trace the model on {device}: {type(exc).__name__}: {first}{hint}") from exc
    uncounted = Counter({_short(op): int(n) for op, n in analysis.unsupported_ops().items()
                         if not _zero_cost(_short(op))})
    own = _own_from_totals(model, per_module)
    modules = dict(model.named_modules())

    def weigh(call: TracedLayer) -> int:  # costlab's fvcore price of this call's shapes, else its input size
        module = modules[call.name]
        if type(module).__name__ in MODULE_PRICED:
            return price_module(module, call.in_shape, call.out_shape, "fvcore")
        return math.prod(call.in_shape)

    # by_module() is per module, not per call: a reused leaf's MACs are shared among its calls
    _split_over_calls(recorder.calls, own, weigh)
    leaves = {call.name for call in recorder.calls}
    containers = {name: macs for name, macs in own.items() if name not in leaves}
    total = int(analysis.total())
    return _assemble("fvcore", "fvcore", model, input_shape, recorder.calls, containers, total, uncounted)


def _short(op: str) -> str:
    return op.split("::", 1)[-1]


def _zero_cost(name: str) -> bool:
    """Memory and shape ops (and in-place variants, e.g. dropout_ in eval) that compute nothing."""
    return name in ZERO_COST_ATEN or name.rstrip("_") in ZERO_COST_ATEN


def _dispatch_mode(recorder: _Recorder, on_op):
    """A TorchDispatchMode that hands every aten op to on_op(name, func, args, kwargs, out, module_name)."""
    from torch.utils._python_dispatch import TorchDispatchMode

    class _Ops(TorchDispatchMode):
        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            kwargs = kwargs or {}
            out = func(*args, **kwargs)
            on_op(func, args, kwargs, out, recorder.current())
            return out

    return _Ops()


def _op_name(func) -> str:
    return str(func.overloadpacket).split(".")[-1]


def trace_torch(model, input_shape, device: str = "meta") -> Trace:
    """FlopCounterMode per-module FLOPs / 2; aten ops it has no formula for (and that compute something) are listed."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    model.eval()
    x = torch.empty(input_shape, device=device) if device == "meta" else torch.zeros(input_shape, device=device)
    recorder = _Recorder(model)
    counter = FlopCounterMode(display=False)
    uncounted: Counter = Counter()

    def global_flops() -> int:
        return sum(counter.flop_counts["Global"].values())

    counted = [0]  # Global FLOPs already charged

    def on_op(func, args, kwargs, out, module) -> None:
        # FlopCounterMode sits below this mode: it has counted the op by the time func returns here
        flops = global_flops() - counted[0]
        counted[0] += flops
        recorder.charge(flops)  # per call of a leaf module, or to the container running the op
        name = _op_name(func)
        if _zero_cost(name):
            return
        if func.overloadpacket in counter.flop_registry:
            return
        uncounted[name] += 1

    try:
        with torch.no_grad(), counter, _dispatch_mode(recorder, on_op):
            model(x)
    finally:
        recorder.remove()
    for call in recorder.calls:
        call.macs = _half(call.macs, call.name)
    own = {name: _half(flops, name or "(root)") for name, flops in recorder.own.items()}
    total = _half(global_flops(), "Global")
    return _assemble("torch", "paper", model, input_shape, recorder.calls, own, total, uncounted)


def _half(flops: int, where: str) -> int:
    if flops % 2:
        raise CostlabError(f"FlopCounterMode reported an odd FLOP count {flops} for {where}; cannot halve to MACs")
    return flops // 2


def trace_formulas(model, input_shape, convention: str = "paper", device: str = "meta") -> Trace:
    """costlab's formula registry on the shapes each op sees, attributed to the module running it.

    Convs and linears are priced from their module (kernel, groups, bias) or, outside a module, from
    the aten op's shapes; BatchNorm from its module; adaptive average pooling wherever
    F.adaptive_avg_pool2d runs (a TorchFunctionMode tells it apart from a plain x.mean, which
    fvcore does not count). Whatever a convention prices at 0 but computes is listed as uncounted.
    """
    import torch
    import torch.nn.functional as F
    from torch.overrides import TorchFunctionMode

    formulas.check_convention(convention)
    model.eval()
    x = torch.empty(input_shape, device=device) if device == "meta" else torch.zeros(input_shape, device=device)
    recorder = _Recorder(model)
    leaf_types = {name: type(m).__name__ for m, name in recorder.names.items() if m in recorder.leaves}
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
        name = _op_name(func)
        if _zero_cost(name):
            return
        if leaf_types.get(module) in MODULE_PRICED:
            return  # priced from the module's own shapes below
        if pooling[0] and name in ("mean", "_adaptive_avg_pool2d", "adaptive_avg_pool2d"):
            macs = formulas.adaptive_avg_pool(int(args[0].shape[1]), math.prod(int(d) for d in args[0].shape[2:]),
                                              convention).macs * int(args[0].shape[0])
        else:
            macs = _aten_macs(name, args, out)
        if not macs:
            uncounted[name] += 1
        else:
            recorder.charge(macs)

    try:
        with torch.no_grad(), _Pools(), _dispatch_mode(recorder, on_op):
            model(x)
    finally:
        recorder.remove()
    modules = dict(model.named_modules())
    for call in recorder.calls:
        if call.module in MODULE_PRICED:
            macs = price_module(modules[call.name], call.in_shape, call.out_shape, convention)
            if not macs:
                uncounted[MODULE_PRICED[call.module]] += 1
            call.macs += macs
    total = sum(call.macs for call in recorder.calls) + sum(recorder.own.values())
    return _assemble("formulas", convention, model, input_shape, recorder.calls, dict(recorder.own), total, uncounted)


def trace_ptflops(model, input_shape, device: str = "cpu") -> Trace:
    """ptflops' pytorch backend run by hand: what each call adds to its module's __flops__, plus every patched
    functional call (F.relu, F.silu, F.adaptive_avg_pool2d...) charged to the module call running it. At batch 1
    the total is get_model_complexity_info's (which divides module counts, not functional ones, by the batch)."""
    import io

    import torch
    from ptflops import pytorch_engine as engine

    model.eval()
    x = torch.zeros(input_shape, device=device)
    recorder = _Recorder(model, counter=lambda module: int(getattr(module, "__flops__", 0)))
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
        with torch.no_grad(), _dispatch_mode(recorder, uncounted.on_op):
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
    total = sum(call.macs for call in recorder.calls) + sum(recorder.own.values())
    return _finish("ptflops", model, input_shape, recorder, total, uncounted.ops)


def trace_thop(model, input_shape, device: str = "cpu") -> Trace:
    """thop.profile: what each call adds to its module's total_ops (thop's own hooks); its per-module totals
    (ret_layer_info=True) give what containers count of their own (nothing, in thop 0.1.1)."""
    import torch
    from thop import profile

    model.eval()
    x = torch.zeros(input_shape, device=device)

    def thop_count(module) -> int:  # a float64 buffer thop adds for the run (ignored as bookkeeping below)
        return int(module.total_ops.item()) if "total_ops" in module._buffers else 0

    recorder = _Recorder(model, counter=thop_count)
    uncounted = _ContainerOps(recorder, [0])
    try:
        with _dispatch_mode(recorder, uncounted.on_op):
            total, _, info = profile(model, (x,), verbose=False, ret_layer_info=True)
    finally:
        recorder.remove()
    totals: dict[str, int] = {"": int(total)}

    def collect(prefix: str, layer_info: dict) -> None:
        for child, (ops, _, grandchildren) in layer_info.items():
            name = f"{prefix}.{child}" if prefix else child
            totals[name] = int(ops)
            collect(name, grandchildren)

    collect("", info)
    recorder.flush(lambda module: totals[recorder.names[module]])
    leaves = {recorder.names[m] for m in recorder.leaves}
    for name, macs in _own_from_totals(model, totals).items():
        if name not in leaves:
            recorder.own[name] += macs
    return _finish("thop", model, input_shape, recorder, int(total), uncounted.ops)


class _ContainerOps:
    """Aten ops a container runs in its own forward (residual add, SE multiply, x.mean) that no tool charged."""

    def __init__(self, recorder: _Recorder, pending: list) -> None:
        self.leaves = {recorder.names[m] for m in recorder.leaves}
        self.pending, self.ops = pending, Counter()

    def on_op(self, func, args, kwargs, out, module) -> None:
        if self.pending[0]:
            self.pending[0] = 0
            return
        name = _op_name(func)
        if module not in self.leaves and not _zero_cost(name) and not _bookkeeping(args, out):
            self.ops[name] += 1


def _bookkeeping(args, out) -> bool:
    """thop's hooks keep their counts in float64 tensors (the traced model runs in float32)."""
    tensors = [t for t in (*args, out) if hasattr(t, "dtype")]
    return any(str(t.dtype) == "torch.float64" for t in tensors)


def _finish(tracer: str, model, input_shape, recorder: _Recorder, total: int, uncounted: Counter) -> Trace:
    """The recorded calls as a Trace; leaf calls charged 0 that compute something are listed as uncounted."""
    for call in recorder.calls:
        if not call.macs and call.module not in TRANSPARENT_MODULES:
            uncounted[call.module.lower()] += 1
    return _assemble(tracer, tracer, model, input_shape, recorder.calls, dict(recorder.own), total, uncounted)


# Leaf modules priced from their own attributes; the value names the op when a convention prices it at 0.
MODULE_PRICED = {"Conv2d": "convolution", "Linear": "linear", "BatchNorm2d": "batch_norm"}


def price_module(module, in_dims: tuple[int, ...], out_dims: tuple[int, ...], convention: str) -> int:
    """MACs of one call of a leaf module, batch included, through costlab.formulas."""
    kind = type(module).__name__
    batch = in_dims[0] if in_dims else 1
    if kind == "Conv2d":
        kh, kw = module.kernel_size
        cost = formulas.conv2d(module.in_channels, module.out_channels, kh, kw, out_dims[2], out_dims[3],
                               module.groups, module.bias is not None)
        return cost.macs * batch
    if kind == "Linear":
        return formulas.linear(module.in_features, module.out_features, module.bias is not None,
                               rows=math.prod(in_dims[:-1])).macs
    if kind == "BatchNorm2d":
        return formulas.batch_norm(in_dims[1], math.prod(in_dims[2:]), module.affine, convention).macs * batch
    return formulas.uncounted(math.prod(in_dims), convention).macs


def _aten_macs(name: str, args, out) -> Optional[int]:
    """MACs of a compute op met outside a priced module (conv / matmul in a container's forward), else None."""
    if name in ("convolution", "_convolution"):
        x, w = args[0], args[1]
        groups = int(args[8])
        n, cin = int(x.shape[0]), int(x.shape[1])
        cout, _, kh, kw = (int(d) for d in w.shape)
        return formulas.conv2d(cin, cout, kh, kw, int(out.shape[2]), int(out.shape[3]), groups).macs * n
    if name in ("addmm", "mm"):
        a, b = (args[1], args[2]) if name == "addmm" else (args[0], args[1])
        return formulas.linear(int(a.shape[1]), int(b.shape[1]), rows=int(a.shape[0])).macs
    return None


def model_device(model) -> str:
    """The device of the model's first parameter or buffer ('cpu' for a model without any)."""
    for tensor in list(model.parameters()) + list(model.buffers()):
        return tensor.device.type
    return "cpu"


def run_tracer(tracer: str, model, input_shape, convention: Optional[str] = None) -> Trace:
    """Dispatch to one tracer on the model's own device (meta: no weights, no activations; fvcore needs real ones)."""
    device = model_device(model)
    if tracer == "fvcore":
        return trace_fvcore(model, input_shape, device)
    if tracer == "torch":
        return trace_torch(model, input_shape, device)
    if tracer == "formulas":
        return trace_formulas(model, input_shape, convention or formulas.DEFAULT_CONVENTION, device)
    if tracer == "ptflops":
        return trace_ptflops(model, input_shape, device)
    if tracer == "thop":
        return trace_thop(model, input_shape, device)
    raise CostlabError(f"unknown tracer {tracer!r}; known: {', '.join(TRACERS)}")


# --------------------------------------------------------------------------------------------
# Counting a user's nn.Module (costlab analyze)


def parse_input(text: str) -> tuple[int, ...]:
    """'1,3,224,224' -> (1, 3, 224, 224): positive integers, batch first."""
    parts = [p.strip() for p in str(text).replace("x", ",").split(",")]
    if len(parts) < 2 or not all(p.isdigit() and int(p) > 0 for p in parts):
        raise CostlabError(f"--input must be positive integers like 1,3,224,224, got {text!r}")
    return tuple(int(p) for p in parts)


def load_callable(spec: str):
    """'package.module:attr' -> the callable (imports user code; the working directory is importable)."""
    import importlib
    import os
    import sys

    module_name, sep, attr = str(spec).partition(":")
    if not sep or not module_name or not attr:
        raise CostlabError(f"expected MODULE:CALLABLE, got {spec!r}")
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:  # ImportError, or any error raised while importing user code
        raise CostlabError(f"cannot import module {module_name!r}: {type(exc).__name__}: {exc}") from exc
    target = module
    for part in attr.split("."):
        if not hasattr(target, part):
            raise CostlabError(f"module {module_name!r} has no attribute {attr!r}")
        target = getattr(target, part)
    if not callable(target):
        raise CostlabError(f"{spec} is not callable (it is a {type(target).__name__})")
    return target


def make_model(spec: str, device: str = "meta"):
    """Call MODULE:CALLABLE under torch.device(device) (meta: no weights allocated) and check it is an nn.Module."""
    import torch
    from torch import nn

    factory = load_callable(spec)
    try:
        with torch.device(device):
            model = factory()
    except Exception as exc:
        raise CostlabError(f"{spec}() raised {type(exc).__name__}: {exc}") from exc
    if not isinstance(model, nn.Module):
        raise CostlabError(f"{spec}() returned a {type(model).__name__}, not a torch.nn.Module")
    return model.eval()


def pick_tracer(tracer: str, convention: Optional[str]) -> tuple[str, str]:
    """Resolve --tracer auto and check the tracer can reproduce the convention."""
    if convention is not None:
        formulas.check_convention(convention)
    if tracer == "auto":
        tracer = "torch" if convention in (None, "paper") else "formulas"
    if tracer not in TRACERS:
        raise CostlabError(f"unknown tracer {tracer!r}; known: auto, {', '.join(TRACERS)}")
    fixed = TRACER_CONVENTION.get(tracer)
    if fixed and convention not in (None, fixed):
        raise CostlabError(f"tracer {tracer} reproduces the {fixed!r} convention, not {convention!r}; "
                           f"use --tracer formulas (or auto) for {convention!r}")
    return tracer, fixed or convention or formulas.DEFAULT_CONVENTION


def layer_kind(module) -> str:
    """costlab's layer type of a leaf module (same vocabulary as analytic rows)."""
    kind = type(module).__name__
    if kind == "Conv2d":
        if module.groups > 1:
            return "depthwise" if module.groups == module.in_channels else "grouped"
        return "pointwise" if tuple(module.kernel_size) == (1, 1) else "conv"
    if kind == "Linear":
        return "linear"
    if kind.startswith("BatchNorm"):
        return "bn"
    if "Pool" in kind:
        return "pool"
    if kind in ("ReLU", "ReLU6", "SiLU", "Sigmoid", "Hardswish", "Hardsigmoid", "GELU", "Tanh"):
        return "act"
    return kind.lower()


def analyze_model(spec: str, input_dims: tuple[int, ...], tracer: str = "auto", convention: Optional[str] = None,
                  device: str = "meta") -> dict:
    """Count MODULE:CALLABLE's model on input_dims: the JSON shape of `costlab arch` plus tracer and uncounted ops."""
    tracer, convention = pick_tracer(tracer, convention)
    model = make_model(spec, device)
    try:
        trace = run_tracer(tracer, model, input_dims, convention)
    except CostlabError:
        raise
    except Exception as exc:  # the model cannot run on this input (wrong channels, too small...)
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise CostlabError(f"{spec} failed on input {','.join(map(str, input_dims))} "
                           f"({device}): {type(exc).__name__}: {first}") from exc
    modules = dict(model.named_modules())
    batch = input_dims[0]
    layers = []
    for layer in trace.layers:
        module = modules.get(layer.name)
        conv = type(module).__name__ == "Conv2d"
        layers.append({
            "name": layer.name or "(root)",
            "op": layer.module,
            "type": "functional" if layer.functional else layer_kind(module),
            "stage": layer.name.split(".")[0] if layer.name else "",
            "input_shape": list(layer.in_shape[1:]),
            "output_shape": list(layer.out_shape[1:]),
            "kernel": "x".join(map(str, module.kernel_size)) if conv else "",
            "stride": module.stride[0] if conv else 1,
            "groups": module.groups if conv else 1,
            "params": layer.params,
            "macs": layer.macs,
            "flops": 2 * layer.macs,
        })
    return {
        "name": spec,
        "resolution": input_dims[2] if len(input_dims) > 2 else None,
        "alpha": None,
        "convention": convention,
        "tracer": tracer,
        "device": device,
        "input": list(input_dims),
        "batch": batch,
        "params": trace.params,
        "macs": trace.total_macs,
        "flops": 2 * trace.total_macs,
        "uncounted_ops": dict(trace.uncounted),
        "layers": layers,
    }


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
        return 2 * self.macs


def analyze_module(model, input_shape, convention: str = formulas.DEFAULT_CONVENTION, tracer: str = "auto") -> ModelCount:
    """Count an nn.Module (on its own device) or a MODULE:CALLABLE (built on meta) under a convention."""
    tracer, convention = pick_tracer(tracer, convention)
    dims = tuple(int(d) for d in input_shape)
    if isinstance(model, str):
        model = make_model(model, "meta")
    trace = run_tracer(tracer, model, dims, convention)
    return ModelCount(trace.params, trace.total_macs, tracer, convention, dict(trace.uncounted))
