"""What eager PyTorch holds in memory while a network runs: conv workspaces, and the fresh pages the pass touches.

Both read the analysed rows only: an op's kernel, stride and groups from the op itself, tensor lifetimes
from the rows' tensor numbers (core.graph.walk numbers every tensor of the pass).
"""

from __future__ import annotations

from typing import Sequence

from ..core.graph import Row
from ..core.ops import Conv2d, Flatten
from ..core.traffic import DEFAULT_DTYPE_BYTES


def onednn_conv(row: Row, threads: int = 1, batch: int = 1) -> bool:
    """Whether eager PyTorch (fp32, CPU) runs a conv with oneDNN (aten's use_mkldnn): not for a 1x1 stride-1
    conv at 1 thread and batch < 16, and only if grouped, kernel > 3x3, batch > 1 or > 20480 input elements."""
    op = row.op
    kh, kw = op.kernel
    pointwise = kh == kw == 1 and op.stride[0] == 1
    return (not pointwise or threads > 1 or batch >= 16) and (
        op.groups > 1 or (kh > 3 and kw > 3) or batch > 1 or row.in_shape.numel * batch > 20480)


def conv_workspace(row: Row, threads: int = 1, batch: int = 1) -> int:
    """Elements of temporary buffers eager PyTorch holds while a conv runs (batch 1): oneDNN reorders input and
    output into its channel-blocked layout, Cin*Hin*Win + Cout*Hout*Wout; the native path unfolds a kxk
    input (im2col), Cin*kh*kw*Hout*Wout; a native 1x1 conv needs none; 0 for other ops."""
    if not isinstance(row.op, Conv2d):
        return 0
    x, y = row.in_shape, row.out_shape
    if onednn_conv(row, threads, batch):
        return x.numel + y.numel
    kh, kw = row.op.kernel
    return 0 if kh == kw == 1 and row.op.stride[0] == 1 else x.c * kh * kw * y.h * y.w


def fresh_bytes(rows: Sequence[Row], dtype_bytes: int = DEFAULT_DTYPE_BYTES, threads: int = 1,
                batch: int = 1) -> dict[str, int]:
    """Bytes of new memory each layer's output needs beyond the pass's peak so far: growth of the live set's high-water mark.

    Eager execution keeps a tensor alive until its last use (a residual or SE input until the add or
    multiply). A layer's live set is everything alive while its output is allocated; when that exceeds
    every earlier live set of the pass, the allocator must map new pages (when it returned them to the
    OS after the previous pass, as glibc's heap trimming does for large activations), and the first
    write to them faults. fresh = max(0, live_k - max(live_0..k-1)); the pass starts with its input alive.
    A conv's live set includes its workspace (conv_workspace), freed when it returns.
    """
    first = rows[0].in_shape.numel * dtype_bytes if rows else 0
    size = {0: first}
    for r in rows:  # flatten is a view: its output takes no new memory
        size[r.tensor_out] = 0 if isinstance(r.op, Flatten) else r.out_shape.numel * dtype_bytes
    last_use = {0: -1}
    for k, r in enumerate(rows):
        for t in r.tensors_in:
            last_use[t] = k
        last_use.setdefault(r.tensor_out, k)
    live = high = first
    out_bytes: dict[str, int] = {}
    for k, r in enumerate(rows):
        live += size[r.tensor_out]
        peak = live + conv_workspace(r, threads, batch) * dtype_bytes
        out_bytes[r.name] = max(0, peak - high)
        high = max(high, peak)
        for t in set(r.tensors_in):
            if last_use.get(t) == k:
                live -= size.get(t, 0)  # a split's parts are views no row produced: no memory of their own
    return out_bytes
