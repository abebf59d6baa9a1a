"""Timing torch eager on this CPU: every layer of a built network by forward hooks, and whole models."""

from __future__ import annotations

from typing import Sequence

from ..errors import CostlabError


def measure_layers(module, x, names: Sequence[str], repeats: int = 15, warmup: int = 3) -> dict[str, float]:
    """Median milliseconds per named layer over `repeats` forward passes after `warmup`, via forward hooks.

    A leaf's time is its forward call. A residual `X.add` or gate `X.mul` (computed inside X's forward,
    not a module) is the time from the last of X's direct children finishing to X finishing.
    """
    import statistics
    import time

    import torch

    modules = dict(module.named_modules())
    wanted = set(names)
    stamps: dict[str, list[float]] = {}
    handles = []

    def pre(name):
        def hook(_m, _inp):
            stamps.setdefault(name + "#start", []).append(time.perf_counter())
        return hook

    def post(name):
        def hook(_m, _inp, _out):
            stamps.setdefault(name + "#end", []).append(time.perf_counter())
        return hook

    blocks: dict[str, tuple[str, list[str]]] = {}
    for row_name in wanted:
        if row_name in modules:
            continue
        parent, _, leaf = row_name.rpartition(".")
        if leaf in ("add", "mul") and parent in modules:
            children = [f"{parent}.{c}" for c, _ in modules[parent].named_children()]
            blocks[row_name] = (parent, children)
        else:
            raise CostlabError(f"no module named {row_name!r} to measure")
    timed = {n for n in wanted if n in modules}
    timed |= {p for p, _ in blocks.values()} | {c for _, cs in blocks.values() for c in cs}
    for name in timed:
        handles.append(modules[name].register_forward_pre_hook(pre(name)))
        handles.append(modules[name].register_forward_hook(post(name)))
    try:
        with torch.inference_mode():
            for _ in range(warmup):
                module(x)
            stamps.clear()
            for _ in range(repeats):
                module(x)
    finally:
        for h in handles:
            h.remove()
    out = {}
    for name in names:
        if name in blocks:
            parent, children = blocks[name]
            ends = zip(*[stamps[c + "#end"] for c in children]) if children else None
            gaps = [e - max(c) for e, c in zip(stamps[parent + "#end"], ends)] if ends else []
            out[name] = 1e3 * statistics.median(gaps)
        else:
            spans = [e - s for s, e in zip(stamps[name + "#start"], stamps[name + "#end"])]
            out[name] = 1e3 * statistics.median(spans)
    return out


def measure_total(module, x, repeats: int = 15, warmup: int = 3) -> float:
    """Median milliseconds of a whole forward pass (no hooks), after warm-up, under inference_mode."""
    import statistics
    import time

    import torch

    with torch.inference_mode():
        for _ in range(warmup):
            module(x)
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            module(x)
            times.append(time.perf_counter() - start)
    return 1e3 * statistics.median(times)


def torchvision_model(name: str):
    """torchvision's model of that name, untrained (weights=None), eval mode; None if torchvision has none."""
    import torchvision

    builder = getattr(torchvision.models, name, None)
    if builder is None or not callable(builder):
        return None
    return builder(weights=None).eval()
