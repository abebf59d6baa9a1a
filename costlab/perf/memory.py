"""What eager PyTorch holds in memory while a network runs: conv workspaces and weight reorders, and the fresh pages
the pass touches.

Both read the analysed rows only: an op's kernel, stride and groups from the op itself, tensor lifetimes
from the rows' tensor numbers (core.graph.walk numbers every tensor of the pass).
"""

from __future__ import annotations

from typing import Optional, Sequence

from ..core.graph import Row
from ..core.ops import Conv2d, Flatten, Split
from ..core.traffic import DEFAULT_DTYPE_BYTES


def onednn_conv(row: Row, threads: int = 1, batch: int = 1) -> bool:
    """Whether eager PyTorch (fp32, CPU) runs a conv with oneDNN (aten's use_mkldnn): not for a 1x1 stride-1
    conv at 1 thread and batch < 16, and only if grouped, kernel > 3x3, batch > 1 or > 20480 input elements."""
    op = row.op
    kh, kw = op.kernel
    pointwise = kh == kw == 1 and op.stride[0] == 1
    return (not pointwise or threads > 1 or batch >= 16) and (
        op.groups > 1 or (kh > 3 and kw > 3) or batch > 1 or row.in_shape.numel * batch > 20480)


def workspace_buffers(row: Row, threads: int = 1, batch: int = 1) -> tuple[int, ...]:
    """The temporary buffers (elements, batch 1) a conv allocates while it runs: oneDNN's blocked copies of input and
    output (Cin*Hin*Win, Cout*Hout*Wout), or the native path's im2col (Cin*kh*kw*Hout*Wout); none for a native 1x1
    stride-1 conv or another op."""
    if not isinstance(row.op, Conv2d):
        return ()
    x, y = row.in_shape, row.out_shape
    if onednn_conv(row, threads, batch):
        return (x.numel, y.numel)
    kh, kw = row.op.kernel
    return () if kh == kw == 1 and row.op.stride[0] == 1 else (x.c * kh * kw * y.h * y.w,)


def reordered_weights(row: Row, threads: int = 1, batch: int = 1) -> int:
    """Weight elements a conv reorders on every call: oneDNN copies the plain OIhw kernel into its blocked layout
    (ABcd16b16a) each time eager PyTorch calls it (ONEDNN_VERBOSE shows the reorder), so all of it,
    Cout * Cin / groups * kh * kw (the bias is used as it is); 0 for the native path and for other ops."""
    op = row.op
    if not isinstance(op, Conv2d) or not onednn_conv(row, threads, batch):
        return 0
    return op.cout * (op.cin // op.groups) * op.kernel[0] * op.kernel[1]


def conv_workspace(row: Row, threads: int = 1, batch: int = 1) -> int:
    """Elements of temporary buffers eager PyTorch holds while a conv runs (batch 1): the sum of workspace_buffers."""
    return sum(workspace_buffers(row, threads, batch))


def view_bases(rows: Sequence[Row]) -> dict[int, int]:
    """tensor -> the tensor whose memory it shares, for the views an analysed pass makes: flatten's output, and a
    split's parts (tensor_out + 1 .. tensor_out + n; the split row's own tensor_out is a view too)."""
    bases: dict[int, int] = {}
    for r in rows:
        if isinstance(r.op, Flatten):
            bases[r.tensor_out] = r.tensors_in[0]
        elif isinstance(r.op, Split):
            bases.update({r.tensor_out + i: r.tensors_in[0] for i in range(len(r.op.sizes) + 1)})
    return bases


# glibc malloc (Linux): a request of at least the mmap threshold that no free heap chunk holds is mapped by mmap and
# unmapped when freed; each free of a mapped chunk of at most MMAP_THRESHOLD_MAX raises the threshold to its size and
# the heap's trim threshold to twice that (mallopt(3), "dynamic mmap threshold"); the threshold starts at 128 KiB
MMAP_THRESHOLD_MIN = 128 << 10
MMAP_THRESHOLD_MAX = 32 << 20  # DEFAULT_MMAP_THRESHOLD_MAX on 64-bit: 4 MiB * sizeof(long)


class Heap:
    """glibc's heap as a stack of live bytes under a mapped top, seen by the pages it maps:

        a request above MMAP_THRESHOLD_MAX     mmap: all of it fresh, every time (munmap on free)
        live grows past the mapped top          the growth is fresh (brk maps it; the first write faults)
        mapped top - live > trim               trimmed to live (returned to the OS), trim = 2 * threshold

    threshold = max(MMAP_THRESHOLD_MIN, the largest request of the pass at most MMAP_THRESHOLD_MAX): in the first pass
    every large request is mapped and freed, which leaves glibc's dynamic threshold there. Free chunks in the middle
    of the heap are not modelled: live bytes sit below the top as on a stack.
    """

    def __init__(self, largest: int, live: int = 0):
        self.trim = 2 * max(MMAP_THRESHOLD_MIN, largest)
        self.live = self.top = live

    def allocate(self, nbytes: int) -> int:
        """Take nbytes; the fresh bytes the allocation maps."""
        if nbytes > MMAP_THRESHOLD_MAX:
            return nbytes
        self.live += nbytes
        grown = max(0, self.live - self.top)
        self.top = max(self.top, self.live)
        return grown

    def free(self, nbytes: int) -> None:
        if nbytes > MMAP_THRESHOLD_MAX:
            return
        self.live -= nbytes
        if self.top - self.live > self.trim:
            self.top = self.live


def fresh_per_row(rows: Sequence[Row], dtype_bytes: int = DEFAULT_DTYPE_BYTES, threads: int = 1, batch: int = 1,
                  views: Optional[dict[int, int]] = None) -> list[int]:
    """Bytes of newly mapped memory each row writes at a batch, in a pass repeated as a benchmark repeats it.

    Eager execution keeps a tensor alive until its last use (a residual or SE input until the add or multiply);
    a row allocates its conv workspace buffers (workspace_buffers), then its output, then frees the buffers and the
    inputs it read last. The allocations go through Heap (glibc's mmap threshold and heap trimming); the pass runs
    twice from the input alone, and the second pass's fresh bytes are returned: a steady state, as a timed pass
    after warm-up sees it. The network's input stays alive (the caller holds it); the output is freed after the pass.

    views maps a tensor to the one whose memory it shares (default view_bases(rows)); a view takes no memory
    and keeps its base alive until the view's own last use. A tensor no row produced (made by an op that was not
    recorded) counts as taking no memory.
    """
    views = view_bases(rows) if views is None else views

    def base(t: int) -> int:
        while t in views:
            t = views[t]
        return t

    size = {}
    for r in rows:
        size[r.tensor_out] = 0 if r.tensor_out in views else r.out_shape.numel * dtype_bytes * batch
    last_use = {}
    for k, r in enumerate(rows):
        for t in r.tensors_in:
            last_use[base(t)] = k
        last_use.setdefault(base(r.tensor_out), k)
    last_use[0] = len(rows)  # the caller's input outlives the pass
    buffers = [[n * dtype_bytes * batch for n in workspace_buffers(r, threads, batch)] for r in rows]
    largest = max([n for n in list(size.values()) + [b for bs in buffers for b in bs] if n <= MMAP_THRESHOLD_MAX],
                  default=0)
    heap = Heap(largest, rows[0].in_shape.numel * dtype_bytes * batch if rows else 0)
    out: list[int] = []
    for _ in range(2):
        out = []
        for k, r in enumerate(rows):
            fresh = sum(heap.allocate(b) for b in buffers[k])
            fresh += heap.allocate(size[r.tensor_out])
            for b in buffers[k]:
                heap.free(b)
            for t in {base(t) for t in r.tensors_in} | {base(r.tensor_out)}:
                if last_use.get(t) == k:
                    heap.free(size.get(t, 0))
            out.append(fresh)
    return out


def fresh_bytes(rows: Sequence[Row], dtype_bytes: int = DEFAULT_DTYPE_BYTES, threads: int = 1,
                batch: int = 1) -> dict[str, int]:
    """fresh_per_row by row name (the rows of an analysed network, whose names are unique)."""
    return dict(zip((r.name for r in rows), fresh_per_row(rows, dtype_bytes, threads, batch)))
