"""Roofline latency per layer (Williams et al.'s roofline plus a fixed cost per op). Torch-free.

    t = overhead(type, path) + max(FLOPs / peak(type, path), memory) + 2 * workspace / bandwidth
        + reordered / reorder_bandwidth(path) + fresh / first_touch
    memory = activation bytes / bandwidth(activation bytes, kernel) + weight bytes / memory bandwidth

A layer is compute-bound when the FLOP term is the larger one, memory-bound otherwise, overhead-bound when it
moves no bytes and does no arithmetic (a flatten view: only the fixed cost is left); a conv's workspace
(oneDNN's blocked copies of input and output, or im2col) is written and read once more; a oneDNN conv reorders its
weights into its blocked layout on every call, and aten's native conv packs them for its GEMM for every image; the
last term charges the page faults of the memory the allocator maps afresh for outputs and workspaces
(memory.fresh_per_row: glibc's mmap threshold, best fit and heap trimming). path is the conv's kernel in eager
PyTorch (memory.onednn_conv: oneDNN or aten's own).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Optional, Sequence

from ..core.analyze import Analysis
from ..core.cost import flops_of
from ..core.graph import Row
from ..core.ops import Activation
from ..core.traffic import DEFAULT_DTYPE_BYTES, intensity
from .devices import WINDOWED_POOLS, Device
from .memory import conv_workspace, fresh_per_row, onednn_conv, reordered_weights


@dataclass
class LayerLatency:
    """One layer's predicted latency and what it comes from; measured_ms once timed."""

    name: str
    type: str
    op: str
    macs: int
    flops: int
    bytes: int
    intensity: float
    attainable_flops: float
    bound: str
    first_touch_bytes: int
    workspace_bytes: int
    predicted_ms: float
    reorder_bytes: int = 0
    measured_ms: Optional[float] = None
    note: str = ""  # what a row of a traced model folds together or could not price

    def to_dict(self) -> dict:
        out = asdict(self)
        if self.measured_ms is None:
            del out["measured_ms"]
        if not self.note:
            del out["note"]
        return out


def merge(name: str, kind: str, parts: Sequence[LayerLatency], note: str = "") -> LayerLatency:
    """Several ops timed as one (a traced leaf's functions, a container's own forward) as one row: macs, flops, bytes,
    first-touch, workspace and reorder bytes and predicted_ms summed; intensity = FLOPs / bytes, attainable = FLOPs / predicted
    time; type and bound those of the part predicted slowest. One part is that part, renamed; none (nothing priced)
    is a row of type `kind` predicted 0."""
    if len(parts) == 1:
        return replace(parts[0], name=name, note=note)
    flops = sum(p.flops for p in parts)
    nbytes = sum(p.bytes for p in parts)
    ms = sum(p.predicted_ms for p in parts)
    main = max(parts, key=lambda p: p.predicted_ms, default=None)
    return LayerLatency(name, main.type if main else kind, "+".join(dict.fromkeys(p.op for p in parts)) or kind,
                        sum(p.macs for p in parts), flops, nbytes, intensity(flops, nbytes),
                        1e3 * flops / ms if ms else 0.0, main.bound if main else "overhead",
                        sum(p.first_touch_bytes for p in parts), sum(p.workspace_bytes for p in parts), ms,
                        sum(p.reorder_bytes for p in parts), note=note)


def bound_of(compute_s: float, memory_s: float) -> str:
    """'compute' when compute_s > memory_s, 'memory' when memory time is what is left, 'overhead' when both are 0."""
    if compute_s > memory_s:
        return "compute"
    return "memory" if memory_s else "overhead"


def kernel_of(row: Row) -> str:
    """What streams a layer's data, for the device's per-kernel bandwidth: its activation function; windowed max or
    average pooling ('max_pool', 'avg_pool': torch's NCHW kernels visit the whole window of every output, far below
    copy speed); else its type."""
    if isinstance(row.op, Activation):
        return row.op.function
    key = getattr(row.op, "key", "")
    base = key.split(".")[0] if isinstance(key, str) else ""
    return base if base in WINDOWED_POOLS else row.type


def streamed_bytes(row: Row, device: Device, activation_bytes: int, dtype_bytes: int, batch: int) -> int:
    """The bytes a layer's kernel rate applies to: a windowed pool's output bytes where the device has a rate for its
    kernel (measured per output: 3x3 max pooling took 19-24 ns per output at stride 1 and 2 alike, 2x2 16 ns, where
    the bytes in and out differ 1.6x), else its activation bytes."""
    kernel = kernel_of(row)
    if kernel in WINDOWED_POOLS and kernel in device.bandwidth_by_kernel:
        return row.out_shape.numel * dtype_bytes * batch
    return activation_bytes


def predict_row(row: Row, device: Device, dtype_bytes: int = DEFAULT_DTYPE_BYTES, batch: int = 1,
                fresh: int = 0, workspace: int = 0, reorder: int = 0, onednn: bool = False) -> LayerLatency:
    """One layer: macs, bytes, intensity = FLOPs / bytes, bound,
    predicted_ms = overhead + max(compute, memory) + 2 * workspace / bandwidth + reorder / reorder rate
                   + fresh / first_touch_bandwidth.

    fresh is the bytes of newly mapped memory the row writes (its output, its workspace); workspace the bytes of a
    conv's temporary copies (memory.conv_workspace), written and read once before or after the kernel proper,
    so added to it rather than overlapped; reorder the weight bytes it copies into its kernel's layout
    (memory.reordered_weights: oneDNN's reorder at reorder_bandwidth, the native GEMM's packing at pack_bandwidth);
    onednn whether eager PyTorch runs the conv in oneDNN (memory.onednn_conv), which sets its fixed cost and the rate
    of a 1x1 conv.
    """
    macs = row.macs * batch
    flops = flops_of(macs)
    traffic = row.traffic
    weight_bytes = traffic.weights * dtype_bytes  # read once per batch
    activation_bytes = traffic.activations * dtype_bytes * batch
    nbytes = weight_bytes + activation_bytes
    peak = device.flops_for(row.type, onednn)
    bandwidth = device.bandwidth_for(activation_bytes, kernel_of(row))
    compute_s = flops / peak
    # the previous layer just wrote this layer's input, so feature maps come from cache when they fit;
    # weights are read once per pass and stream from memory
    memory_s = (streamed_bytes(row, device, activation_bytes, dtype_bytes, batch) / bandwidth
                + weight_bytes / device.memory_bandwidth)
    first_touch_s = fresh / device.first_touch_bandwidth if device.first_touch_bandwidth else 0.0
    workspace_s = device.workspace_seconds(workspace) + device.reorder_seconds(reorder, onednn)
    return LayerLatency(
        row.name, row.type, row.op_name, macs, flops, nbytes, intensity(flops, nbytes),
        min(peak, flops / memory_s) if memory_s else peak, bound_of(compute_s, memory_s),
        fresh, workspace,
        1e3 * (device.overhead_for(row.type, onednn) + max(compute_s, memory_s) + workspace_s + first_touch_s),
        reorder_bytes=reorder)


def predict_rows(rows: Sequence[Row], device: Device, dtype_bytes: int = DEFAULT_DTYPE_BYTES, threads: int = 1,
                 batch: int = 1, views: Optional[dict[int, int]] = None) -> list[LayerLatency]:
    """predict_row for every row of one pass at a batch, in execution order; on a profile of a CPU running torch
    eager (Device.eager_cpu), with each row's first-touch bytes (memory.fresh_per_row, views as there), its conv
    workspace and its reordered weights at that thread count (memory.conv_workspace, memory.reordered_weights)."""
    if not device.eager_cpu:  # a spec sheet: the roofline and the fixed cost alone, whatever the threads or batch
        return [predict_row(r, device, dtype_bytes, batch) for r in rows]
    fresh = fresh_per_row(rows, dtype_bytes, threads, batch, views)
    return [predict_row(r, device, dtype_bytes, batch, f, conv_workspace(r, threads, batch) * dtype_bytes * batch,
                        reordered_weights(r, threads, batch) * dtype_bytes, onednn_conv(r, threads, batch))
            for r, f in zip(rows, fresh)]


def predict(analysis: Analysis, device: Device, dtype_bytes: int = DEFAULT_DTYPE_BYTES,
            threads: Optional[int] = None) -> list[LayerLatency]:
    """predict_rows for every layer of an analysed network at its batch; threads (default: the device's, else 1)
    picks the conv path whose workspace counts in the live set (first touch)."""
    return predict_rows(analysis.rows, device, dtype_bytes, threads or device.threads or 1, analysis.batch)
