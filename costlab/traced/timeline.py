"""One forward pass of any nn.Module as the ops it ran, in order, grouped into the units forward hooks can time.

`costlab latency MODULE:CALLABLE` prices these ops with the same roofline as an analysed network's rows:
- one call of a leaf module (a module without children) is one unit, its op from the bridge (bridge.op_of); a
  leaf the bridge does not know is priced by the torch functions it calls (functions.FROM_FUNCTION and
  MOVING_FUNCTIONS), or left unpriced, with a note;
- the functions a container calls in its own forward, between its children (x + y, out += identity, torch.cat,
  F.relu, x.mean), are folded into one unit named after the container, with a note naming them; its time is the
  container's own (perf.measure.Passes.self_ms);
- modules that compute nothing (Dropout, Identity: bridge.is_transparent) are no unit.
Every op is a core.graph.Row whose tensors are numbered, so perf.memory sees each tensor's lifetime; a view or an
in-place result shares the memory of the tensor it was made from (views).
"""

from __future__ import annotations

import weakref
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Optional

import torch

from ..core.cost import Cost
from ..core.graph import Row, layer_type
from ..core.ops import Op
from ..core.shapes import shape_of
from .bridge import is_transparent, op_of
from .functions import FROM_FUNCTION, MOVING_FUNCTIONS, tensor_args, call_of
from .recorder import dispatch_mode
from .trace import op_name, zero_cost

ROOT = "(root)"


@dataclass
class Unit:
    """What one timing covers: a leaf module's call, or a container's own forward (call -1); rows index OpTrace.rows."""

    name: str
    module: str
    call: int
    kind: str
    rows: list[int] = field(default_factory=list)
    unpriced: Counter = field(default_factory=Counter)

    @property
    def own(self) -> bool:
        return self.call < 0

    def note(self, rows: list[Row]) -> str:
        """What the unit folds together or could not price, for the reader: '' for a leaf priced by its own op."""
        parts = []
        if self.own:
            names = Counter(r.op_name for r in (rows[i] for i in self.rows))
            parts.append("own forward of " + (self.module or "the root") + ": "
                         + (", ".join(f"{n} x{c}" if c > 1 else n for n, c in names.items()) or "nothing priced"))
        elif not self.rows:
            parts.append(f"{self.kind}: not priced (no op costlab knows)")
        if self.unpriced:
            parts.append("not priced (0 ms): " + ", ".join(f"{n} x{c}" if c > 1 else n for n, c in self.unpriced.items()))
        return "; ".join(parts)


@dataclass
class OpTrace:
    """The ops of one pass (Rows, per sample), the units that time them, and which tensors are views of which."""

    rows: list[Row]
    units: list[Unit]
    views: dict[int, int]
    batch: int

    def unit_rows(self, unit: Unit) -> list[Row]:
        return [self.rows[i] for i in unit.rows]


def _per_sample(dims: tuple[int, ...]) -> tuple[int, ...]:
    return (1,) + tuple(dims[1:]) if dims else (1,)


def _dims(t: torch.Tensor) -> tuple[int, ...]:
    return tuple(int(d) for d in t.shape)


class _Tensors:
    """Numbers for the tensors of a pass (0 is the input); a view or an in-place result is noted in views."""

    def __init__(self) -> None:
        self.known: dict[int, tuple[Any, int]] = {}
        self.views: dict[int, int] = {}
        self.count = -1

    def _remember(self, t: torch.Tensor, number: int) -> int:
        self.known[id(t)] = (weakref.ref(t), number)
        return number

    def number(self, t: torch.Tensor) -> int:
        """The tensor's number; a tensor not seen yet (made by an unrecorded op) gets one, tied to its base if a view."""
        entry = self.known.get(id(t))
        if entry is not None and entry[0]() is t:
            return entry[1]
        self.count += 1
        n = self.count
        base = getattr(t, "_base", None)
        if base is not None:
            self.views[n] = self.number(base)
        return self._remember(t, n)

    def result(self, t: torch.Tensor, inputs: tuple, numbers: list[int]) -> int:
        """A new number for an op's output; an input returned (in-place) or a view of a known tensor shares its memory."""
        self.count += 1
        n = self.count
        for obj, k in zip(inputs, numbers):
            if t is obj:
                self.views[n] = k
                break
        else:
            base = getattr(t, "_base", None)
            if base is not None:
                self.views[n] = self.number(base)
        return self._remember(t, n)


def _first_tensor(x: Any) -> Optional[torch.Tensor]:
    if isinstance(x, torch.Tensor):
        return x
    if isinstance(x, (tuple, list)):
        return next((t for t in x if isinstance(t, torch.Tensor)), None)
    return None


def trace_ops(model, input_dims: tuple[int, ...]) -> OpTrace:
    """Run model once on zeros of input_dims (on the model's device; meta allocates nothing) and record its ops."""
    from torch.overrides import TorchFunctionMode

    from .tracers import model_device

    names = {m: n for n, m in model.named_modules()}
    leaves = {m for m in names if next(iter(m.children()), None) is None}
    rows: list[Row] = []
    units: list[Unit] = []
    own: dict[str, Unit] = {}
    calls: Counter = Counter()
    tensors = _Tensors()
    stack: list[tuple[Any, Optional[Unit], Optional[Op], list[int], tuple]] = []  # module, unit, op, inputs
    depth = [0]  # >0 while a recorded function runs: what it calls inside is part of it

    def emit(unit: Unit, op: Op, ins: tuple, numbers: list[int], out: torch.Tensor, out_number: int) -> None:
        in_dims = [_dims(t) for t in ins]
        out_dims = _dims(out)
        try:
            cost = op.cost(tuple(_per_sample(d) for d in in_dims), _per_sample(out_dims), "paper")
        except Exception:  # noqa: BLE001 - an op on shapes its formula does not take: priced for bytes only
            cost = Cost()
        unit.rows.append(len(rows))
        rows.append(Row(unit.name, op, layer_type(op, False), unit.module.split(".")[0],
                        tuple(shape_of(d) for d in in_dims) or (shape_of(out_dims),), shape_of(out_dims), cost,
                        tuple(numbers), out_number))

    def collecting() -> Optional[Unit]:
        """The unit a function called now belongs to: a container's own (made on first use), an unknown leaf's, or
        None inside a leaf priced by its own op."""
        if not stack:
            return None
        module, unit, op, _, _ = stack[-1]
        if unit is not None:
            return None if op is not None else unit
        path = names[module]
        if path not in own:
            own[path] = Unit(path or ROOT, path, -1, type(module).__name__)
            units.append(own[path])
        return own[path]

    def pre(module, inputs) -> None:
        unit = op = None
        ins: tuple = ()
        numbers: list[int] = []
        if module in leaves and not is_transparent(type(module).__name__):
            path = names[module]
            k = calls[path]
            calls[path] += 1
            unit = Unit(path if k == 0 else f"{path}#{k + 1}", path, k, type(module).__name__)
            units.append(unit)
            op = op_of(module)
            ins = tuple(t for t in inputs if isinstance(t, torch.Tensor))
            numbers = [tensors.number(t) for t in ins]
        stack.append((module, unit, op, numbers, ins))

    def post(module, inputs, output) -> None:
        if not stack or stack[-1][0] is not module:
            return
        _, unit, op, numbers, ins = stack.pop()
        out = _first_tensor(output)
        if unit is not None and op is not None and out is not None and ins:
            emit(unit, op, ins, numbers, out, tensors.result(out, ins, numbers))

    class _Functions(TorchFunctionMode):
        def __torch_function__(self, func, types, args=(), kwargs=None):
            kwargs = kwargs or {}
            make = FROM_FUNCTION.get(func) or MOVING_FUNCTIONS.get(func)
            unit = collecting() if make is not None and not depth[0] else None
            if unit is None:
                return func(*args, **kwargs)
            moving = func not in FROM_FUNCTION
            ins = tensor_args(args) if moving else tensor_args(args[:1])
            numbers = [tensors.number(t) for t in ins]
            depth[0] += 1
            try:
                out = func(*args, **kwargs)
            finally:
                depth[0] -= 1
            result = _first_tensor(out)
            if result is None or not ins or (moving and result is ins[0] and func is torch.Tensor.contiguous):
                return out  # .contiguous() of a contiguous tensor returns it: nothing moved
            call = make(args, kwargs, out) if moving else call_of(func, args, kwargs, out, None)
            emit(unit, call.op, ins, numbers, result, tensors.result(result, ins, numbers))
            return out

    class _Tracker:
        def current(self):
            return None

    def on_op(func, args, kwargs, out, _module) -> None:
        name = op_name(func)
        if depth[0] or zero_cost(name):
            return
        unit = collecting()
        if unit is not None:
            unit.unpriced[name] += 1

    x = torch.zeros(input_dims, device=model_device(model))
    tensors._remember(x, 0)
    tensors.count = 0
    handles = []
    for module in names:
        handles.append(module.register_forward_pre_hook(pre))
        handles.append(module.register_forward_hook(post))
    try:
        with torch.no_grad(), _Functions(), dispatch_mode(_Tracker(), on_op):
            model(x)
    finally:
        for h in handles:
            h.remove()
    return OpTrace(rows, units, tensors.views, int(input_dims[0]))
