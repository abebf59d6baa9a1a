"""Forward hooks on every module of a model: one record per leaf call, in order, and the stack of modules running."""

from __future__ import annotations

from collections import Counter
from contextlib import contextmanager
from typing import Any, Callable, Optional

from .bridge import is_subclass, op_of
from .trace import TracedLayer


def dims(x: Any) -> tuple[int, ...]:
    """The shape of a tensor (of the first tensor of a tuple), () for anything else."""
    if isinstance(x, (tuple, list)) and x:
        x = x[0]
    shape = getattr(x, "shape", None)
    return tuple(int(d) for d in shape) if shape is not None else ()


class Recorder:
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
        # a call of its own: a module without children, or a priced module keeping helpers as children (timm's
        # BatchNormAct2d, a BatchNorm2d whose forward runs its norm, then its act and drop children)
        self.leaves = {m for m in self.names if next(iter(m.children()), None) is None or op_of(m) is not None}
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
            call = TracedLayer(self.names[module], type(module).__name__, dims(inputs[0] if inputs else None), (),
                               params, op=op_of(module), subclass=is_subclass(module))
            self.calls.append(call)
        self.stack.append((module, call))

    def _post(self, module, inputs, output) -> None:
        self._read_counter()
        if self.stack and self.stack[-1][0] is module:
            _, call = self.stack.pop()
            if call is not None:
                call.out_shape = dims(output)
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


def dispatch_mode(recorder: Recorder, on_op):
    """A TorchDispatchMode that hands every aten op to on_op(func, args, kwargs, out, module_name)."""
    from torch.utils._python_dispatch import TorchDispatchMode

    class _Ops(TorchDispatchMode):
        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            kwargs = kwargs or {}
            out = func(*args, **kwargs)
            on_op(func, args, kwargs, out, recorder.current())
            return out

    return _Ops()


class Opaque:
    """Custom autograd Functions (torch function modes do not see Function.apply, only the ops its forward runs): one
    whose forward ran no computing aten op (numpy, a C extension) shows nothing costlab could price, so it is listed
    as unpriced by name. The tracer calls op() for each computing aten op it sees."""

    def __init__(self) -> None:
        self.ops = 0
        self.unpriced: Counter = Counter()

    def op(self) -> None:
        self.ops += 1

    def call(self, cls, run: Callable[[], Any]) -> Any:
        before = self.ops
        out = run()
        if self.ops == before:
            self.unpriced[f"{cls.__name__}.apply"] += 1
        return out

    @contextmanager
    def routed(self, on_call: Optional[Callable] = None):
        """Every custom Function's forward goes through on_call(cls, run) (default: call) while the trace runs, then is
        restored. Its forward, not apply: code often keeps `fn = MyFunction.apply` from before the trace, while apply
        looks forward up on the class at every call."""
        from torch.autograd import Function

        on_call = on_call or self.call
        patched = {}
        for cls in _subclasses(Function):
            original = vars(cls).get("forward")
            if isinstance(original, staticmethod):
                patched[cls] = original
                setattr(cls, "forward", staticmethod(_routed(cls, original.__func__, on_call)))
        try:
            yield self
        finally:
            for cls, original in patched.items():
                setattr(cls, "forward", original)


def _subclasses(cls) -> list:
    found, todo = [], [cls]
    while todo:
        for sub in todo.pop().__subclasses__():
            if sub not in found:
                found.append(sub)
                todo.append(sub)
    return found


def _routed(cls, forward: Callable, on_call: Callable) -> Callable:
    def routed_forward(*args, **kwargs):
        return on_call(cls, lambda: forward(*args, **kwargs))
    return routed_forward
