"""Timing torch eager on this CPU: every call of every module by forward hooks, every op a costlab container computes
in its own forward by its op timer, and whole models.

Two kinds of row are timed, and nothing else exists in a pass:
- a module call: from its forward pre-hook to its forward hook;
- an op a built network's container computes itself (core.graph.run: a residual add, a gate's multiply, a
  cell's concat, sum or split): timed around the op by traced.build.GraphModule.op_timer, and named
  '<container>.<op>', as the analysis names its row.
A traced model's container (any nn.Module with children) may also compute in its own forward (`out += identity`,
`torch.cat`); self_ms gives that time: the container's span minus its children's spans.
"""

from __future__ import annotations

import statistics
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Sequence

from ..errors import CostlabError


@dataclass
class Passes:
    """What each timed forward pass spent: per module name the seconds of each of its calls, in call order, and per
    container op '<container>.<op>' its seconds (summed over calls)."""

    calls: list[dict[str, list[float]]]
    ops: list[dict[str, float]]
    children: dict[str, list[str]]

    def calls_of(self, name: str) -> int:
        """How many times a module was called in the first timed pass."""
        return len(self.calls[0].get(name, ())) if self.calls else 0

    def call_ms(self, name: str, index: int = 0) -> float:
        """Median over passes of a module's index-th call, in ms."""
        return 1e3 * statistics.median(p[name][index] if len(p.get(name, ())) > index else 0.0 for p in self.calls)

    def module_ms(self, name: str) -> float:
        """Median over passes of all of a module's calls in the pass together, in ms."""
        return 1e3 * statistics.median(sum(p.get(name, ())) for p in self.calls)

    def op_ms(self, name: str) -> float:
        """Median over passes of a container op's time, in ms."""
        return 1e3 * statistics.median(p.get(name, 0.0) for p in self.ops)

    def self_ms(self, name: str) -> float:
        """Median over passes of a container's own time: its calls' spans minus its direct children's, in ms
        (what its forward computes itself, plus Python's and the hooks' cost between the children's calls)."""
        kids = self.children.get(name, [])
        return 1e3 * statistics.median(max(0.0, sum(p.get(name, ())) - sum(sum(p.get(k, ())) for k in kids))
                                       for p in self.calls)


def record_passes(module, x, repeats: int = 15, warmup: int = 3) -> Passes:
    """Run module(x) warmup times, then repeats times with every module hooked and every GraphModule's op timer set.

    Hooks and timers are removed afterwards, whatever happens. x is one tensor or a tuple of tensors.
    """
    import time

    import torch

    names = dict(module.named_modules())
    owner = {m: n for n, m in names.items()}
    calls: dict[str, list[float]] = {}
    ops: dict[str, float] = {}
    started: list[float] = []
    handles = []

    def pre(_m, _inp):
        started.append(time.perf_counter())

    def post(m, _inp, _out):
        calls.setdefault(owner[m], []).append(time.perf_counter() - started.pop())

    def op_timer(path: str):
        def record(op: str, seconds: float) -> None:
            key = f"{path}.{op}" if path else op
            ops[key] = ops.get(key, 0.0) + seconds
        return record

    timed = [m for m in names.values() if hasattr(m, "op_timer")]
    args = x if isinstance(x, tuple) else (x,)
    result = Passes([], [], {n: [f"{n}.{c}" if n else c for c, _ in m.named_children()] for n, m in names.items()})
    try:
        for m in names.values():
            handles.append(m.register_forward_pre_hook(pre))
            handles.append(m.register_forward_hook(post))
        for m in timed:
            m.op_timer = op_timer(owner[m])
        with torch.inference_mode():
            for _ in range(warmup):
                module(*args)
            for _ in range(repeats):
                calls.clear()
                ops.clear()
                started.clear()
                module(*args)
                result.calls.append(dict(calls))
                result.ops.append(dict(ops))
    finally:
        for h in handles:
            h.remove()
        for m in timed:
            m.op_timer = None
    return result


def measure_layers(module, x, names: Sequence[str], repeats: int = 15, warmup: int = 3) -> dict[str, float]:
    """Median milliseconds per named row of a built network (traced.build) over `repeats` passes after `warmup`.

    A row is a module (its forward call) or an op a container computes in its own forward ('<container>.<op>',
    timed by the container's op timer). A name that is neither, or that did not run, is a CostlabError naming it.
    """
    passes = record_passes(module, x, repeats, warmup)
    out = {}
    for name in names:
        if passes.calls and name in passes.calls[0]:
            out[name] = passes.module_ms(name)
        elif passes.ops and name in passes.ops[0]:
            out[name] = passes.op_ms(name)
        else:
            raise CostlabError(f"no module or container op named {name!r} ran in the built network, so it cannot be "
                               f"timed")
    return out


@contextmanager
def torch_threads(threads: int):
    """torch's intra-op thread count set to threads inside the block, restored after it."""
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def measure_total(module, x, repeats: int = 15, warmup: int = 3) -> float:
    """Median milliseconds of a whole forward pass (no hooks), after warm-up, under inference_mode."""
    import time

    import torch

    args = x if isinstance(x, tuple) else (x,)
    with torch.inference_mode():
        for _ in range(warmup):
            module(*args)
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            module(*args)
            times.append(time.perf_counter() - start)
    return 1e3 * statistics.median(times)


def torchvision_model(name: str):
    """torchvision's model of that name, untrained (weights=None), eval mode; None if torchvision has none."""
    import warnings

    import torchvision

    builder = getattr(torchvision.models, name, None)
    if builder is None or not callable(builder):
        return None
    with warnings.catch_warnings():  # GoogLeNet and Inception-v3 warn that their default initialisation will change
        warnings.simplefilter("ignore")
        return builder(weights=None).eval()
