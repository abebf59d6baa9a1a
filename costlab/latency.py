"""Roofline latency per layer, measured per-layer latency (torch eager, CPU), and Spearman rank correlation.

Prediction (Williams et al.'s roofline plus a fixed cost per op):
    t = overhead(type) + max(FLOPs / peak(type), memory) + 2 * workspace / bandwidth + fresh / first_touch
    memory = activation bytes / bandwidth(activation bytes, kernel) + weight bytes / memory bandwidth
a layer is compute-bound when the FLOP term is the larger one, memory-bound otherwise; a conv's workspace
(oneDNN's blocked copies of input and output, or im2col) is written and read once more; the last term
charges the page faults of outputs and workspaces that grow the pass's live memory past its earlier peak.
Measuring imports torch inside the functions that need it; prediction does not.
"""

from __future__ import annotations

import math
from typing import Optional, Sequence

from .analyze import Analysis
from .devices import Device
from .errors import CostlabError
from .graph import Layer, Node, Residual, Row, Seq
from .memory import DEFAULT_DTYPE_BYTES, conv_workspace, fresh_bytes, intensity, row_traffic
from .ops import Activation


def predict_row(row: Row, device: Device, dtype_bytes: int = DEFAULT_DTYPE_BYTES, batch: int = 1,
                kernel: Optional[str] = None, fresh: int = 0, workspace: int = 0) -> dict:
    """One layer: macs, bytes, intensity = FLOPs / bytes, bound,
    predicted_ms = overhead + max(compute, memory) + 2 * workspace / bandwidth + fresh / first_touch_bandwidth.

    kernel names what streams the data (an activation function, else the layer type) for the
    device's per-kernel bandwidth; fresh is the bytes of newly mapped memory the output lands in;
    workspace the bytes of a conv's temporary copies (memory.conv_workspace), written and read once
    before or after the kernel proper, so added to it rather than overlapped.
    """
    macs = row.macs * batch
    flops = 2 * macs
    traffic = row_traffic(row)
    weight_bytes = traffic.weights * dtype_bytes  # read once per batch
    activation_bytes = traffic.activations * dtype_bytes * batch
    nbytes = weight_bytes + activation_bytes
    peak = device.flops_for(row.type)
    bandwidth = device.bandwidth_for(activation_bytes, kernel or row.type)
    compute_s = flops / peak
    # the previous layer just wrote this layer's input, so feature maps come from cache when they fit;
    # weights are read once per pass and stream from memory
    memory_s = activation_bytes / bandwidth + weight_bytes / device.memory_bandwidth
    ai = intensity(flops, nbytes)
    first_touch_s = fresh / device.first_touch_bandwidth if device.first_touch_bandwidth else 0.0
    workspace_s = device.workspace_seconds(workspace)
    return {
        "name": row.name,
        "type": row.type,
        "op": row.op,
        "macs": macs,
        "flops": flops,
        "bytes": nbytes,
        "intensity": ai,
        "attainable_flops": min(peak, flops / memory_s) if memory_s else peak,
        "bound": "compute" if compute_s > memory_s else "memory",
        "first_touch_bytes": fresh,
        "workspace_bytes": workspace,
        "predicted_ms": 1e3 * (device.overhead_for(row.type) + max(compute_s, memory_s) + workspace_s + first_touch_s),
    }


def predict(analysis: Analysis, device: Device, dtype_bytes: int = DEFAULT_DTYPE_BYTES,
            node: Optional[Node] = None, threads: Optional[int] = None) -> list[dict]:
    """predict_row for every layer of an analysed network, in execution order; node (the graph that
    was analysed) tells activations apart (SiLU is not ReLU) and gives tensor lifetimes (first touch);
    threads (default: the device's, else 1) picks the conv path whose workspace counts in the live set."""
    functions = activation_functions(node) if node is not None else {}
    threads = threads or device.threads or 1
    fresh = fresh_bytes(node, analysis.rows, dtype_bytes, threads, analysis.batch) if node is not None else {}
    b = analysis.batch
    return [predict_row(r, device, dtype_bytes, b, functions.get(r.name), fresh.get(r.name, 0) * b,
                        conv_workspace(r, threads, b) * dtype_bytes * b) for r in analysis.rows]


def activation_functions(node: Node) -> dict[str, str]:
    """Row name -> activation function for every Activation leaf of a graph (names as graph.walk gives them)."""
    out: dict[str, str] = {}

    def visit(n: Node, prefix: str) -> None:
        path = f"{prefix}.{n.name}" if prefix else n.name
        if isinstance(n, Layer):
            if isinstance(n.op, Activation):
                out[path] = n.op.function
            return
        for child in n.children:
            visit(child, path)
        if isinstance(n, Residual) and n.shortcut is not None:
            visit(n.shortcut, path)

    if isinstance(node, Seq):  # the root's own name is not part of the paths
        for child in node.children:
            visit(child, "")
    else:
        visit(node, "")
    return out


def ranks(values: Sequence[float]) -> list[float]:
    """1-based ranks, ties sharing the mean of the ranks they span (as scipy.stats.rankdata 'average')."""
    order = sorted(range(len(values)), key=lambda i: values[i])
    out = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        for k in range(i, j + 1):
            out[order[k]] = (i + j) / 2 + 1
        i = j + 1
    return out


def pearson(x: Sequence[float], y: Sequence[float]) -> float:
    """r = sum (x - mx)(y - my) / sqrt(sum (x - mx)^2 * sum (y - my)^2); NaN if either is constant."""
    n = len(x)
    mx, my = sum(x) / n, sum(y) / n
    sxy = sum((a - mx) * (b - my) for a, b in zip(x, y))
    sxx = sum((a - mx) ** 2 for a in x)
    syy = sum((b - my) ** 2 for b in y)
    if sxx == 0 or syy == 0:
        return math.nan
    return sxy / math.sqrt(sxx * syy)


def spearman(x: Sequence[float], y: Sequence[float]) -> float:
    """rho = Pearson correlation of the (tie-averaged) ranks of x and y."""
    if len(x) != len(y):
        raise CostlabError(f"spearman needs two sequences of the same length, got {len(x)} and {len(y)}")
    if len(x) < 2:
        raise CostlabError(f"spearman needs at least 2 pairs, got {len(x)}")
    return pearson(ranks(x), ranks(y))


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


def check_threads(threads: int) -> int:
    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
        raise CostlabError(f"threads must be a positive integer, got {threads!r}")
    return threads


def latency_report(name: str, device: Device, threads: int = 1, resolution: Optional[int] = None,
                   measure: bool = False, dtype_bytes: int = DEFAULT_DTYPE_BYTES, repeats: int = 15,
                   warmup: int = 3, torchvision_total: bool = True) -> dict:
    """Predicted (and with measure, measured) per-layer latency of a built-in architecture at batch 1, fp32.

    measured_total_ms times costlab's own built module (the one measured per layer); when torchvision
    has a model of the same name, torchvision_total_ms times that one too (weights=None, eval).
    """
    from .analyze import analyze
    from .archs import arch_graph

    check_threads(threads)
    node, shape, meta = arch_graph(name, resolution=resolution)
    analysis = analyze(node, shape, name=meta["name"])
    layers = predict(analysis, device, dtype_bytes, node, threads)
    report = {
        "name": analysis.name,
        "resolution": analysis.resolution,
        "device": device.name,
        "threads": threads,
        "dtype_bytes": dtype_bytes,
        "macs": analysis.macs,
        "bytes": sum(r["bytes"] for r in layers),
        "predicted_total_ms": sum(r["predicted_ms"] for r in layers),
    }
    if measure:
        if dtype_bytes != 4:
            raise CostlabError("--measure times fp32 torch eager; use the default dtype size 4")
        report.update(_measure(name, analysis, layers, threads, repeats, warmup, torchvision_total))
    report["layers"] = layers
    return report


def _measure(name, analysis, layers, threads, repeats, warmup, torchvision_total) -> dict:
    import torch

    from .build import build_arch

    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        torch.manual_seed(0)
        model = build_arch(name, resolution=analysis.resolution).eval()
        s = analysis.input_shape
        x = torch.randn(1, s.c, s.h, s.w)
        measured = measure_layers(model, x, [r["name"] for r in layers], repeats, warmup)
        out = {"measured_total_ms": measure_total(model, x, repeats, warmup)}
        tv = torchvision_model(name) if torchvision_total else None
        if tv is not None:
            out["torchvision_total_ms"] = measure_total(tv, x, repeats, warmup)
    finally:
        torch.set_num_threads(previous)
    for r in layers:
        r["measured_ms"] = measured[r["name"]]
    times = [r["measured_ms"] for r in layers]
    out["measured_layers_ms"] = sum(times)
    out["spearman_predicted"] = spearman([r["predicted_ms"] for r in layers], times)
    out["spearman_macs"] = spearman([r["macs"] for r in layers], times)
    return out


def torchvision_model(name: str):
    """torchvision's model of that name, untrained (weights=None), eval mode; None if torchvision has none."""
    import torchvision

    builder = getattr(torchvision.models, name, None)
    if builder is None or not callable(builder):
        return None
    return builder(weights=None).eval()


def shares_by_type(layers: Sequence[dict], key: str = "measured_ms") -> list[dict]:
    """Per layer type: share of all MACs and share of the total of `key` (latency), in first-seen order."""
    macs: dict[str, float] = {}
    time: dict[str, float] = {}
    for r in layers:
        macs[r["type"]] = macs.get(r["type"], 0) + r["macs"]
        time[r["type"]] = time.get(r["type"], 0.0) + r[key]
    total_macs, total_time = sum(macs.values()) or 1, sum(time.values()) or 1.0
    return [{"type": t, "macs": macs[t], "macs_share": macs[t] / total_macs, key: time[t],
             "latency_share": time[t] / total_time} for t in macs]
