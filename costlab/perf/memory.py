"""What eager PyTorch holds in memory while a network runs: conv workspaces and weight reorders, and the fresh pages
the pass touches.

Both read the analysed rows only: an op's kernel, stride and groups from the op itself, tensor lifetimes
from the rows' tensor numbers (core.graph.walk numbers every tensor of the pass).
"""

from __future__ import annotations

import bisect
from typing import Optional, Sequence

from ..core.graph import Row
from ..core.ops import Conv2d, Flatten, Split
from ..core.traffic import DEFAULT_DTYPE_BYTES


def onednn_conv(row: Row, threads: int = 1, batch: int = 1) -> bool:
    """Whether eager PyTorch (fp32, CPU) runs a row with oneDNN (aten's use_mkldnn): only a conv, not a 1x1 stride-1
    conv at 1 thread and batch < 16, and only if grouped, kernel > 3x3, batch > 1 or > 20480 input elements."""
    op = row.op
    if not isinstance(op, Conv2d):
        return False
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
    """Weight elements a conv copies into its kernel's layout on every call at a batch, its weights
    W = Cout * Cin / groups * kh * kw (the bias is used as it is) once in oneDNN, which reorders the plain OIhw kernel
    into its blocked layout (ABcd16b16a) each time eager PyTorch calls it (ONEDNN_VERBOSE shows the reorder), and
    batch * W on aten's native path, which packs them for the GEMM it runs per image; 0 for other ops. Which of the
    two, and so its rate, is onednn_conv's answer; only oneDNN allocates a buffer for it."""
    op = row.op
    if not isinstance(op, Conv2d):
        return 0
    weights = op.cout * (op.cin // op.groups) * op.kernel[0] * op.kernel[1]
    return weights if onednn_conv(row, threads, batch) else weights * batch


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
    """glibc's main arena seen by the pages it maps: chunks laid out by address under a top, the rest mapped by brk.

        a request above MMAP_THRESHOLD_MAX     mmap: all of it fresh, every time (munmap on free)
        else                                    the smallest free chunk that holds it (best fit, split), else
                                                carved from the top: what passes the mapped end is fresh
        a free                                  coalesces with free neighbours; a chunk that reaches the top
                                                joins it, and a top of more than trim unmapped bytes is returned
                                                to the OS (trim = 2 * threshold)

    threshold = max(MMAP_THRESHOLD_MIN, the largest request of the pass at most MMAP_THRESHOLD_MAX): in the first pass
    every large request is mapped and freed, which leaves glibc's dynamic threshold there. Chunk headers, alignment
    and glibc's bins (which only approximate best fit) are not modelled.
    """

    def __init__(self, largest: int):
        self.trim = 2 * max(MMAP_THRESHOLD_MIN, largest)
        self.starts: list[int] = []  # chunk addresses in order; the last one is never free (it would be top)
        self.size: dict[int, int] = {}
        self.free_chunks: set[int] = set()
        self.end = self.mapped = 0  # where the top starts; how far brk has mapped

    def allocate(self, nbytes: int) -> tuple[Optional[int], int]:
        """Take nbytes: (the chunk's address, None for an mmap or nothing; the fresh bytes the allocation maps)."""
        if nbytes > MMAP_THRESHOLD_MAX or nbytes == 0:
            return None, nbytes
        fits = [c for c in self.free_chunks if self.size[c] >= nbytes]
        if fits:
            chunk = min(fits, key=lambda c: (self.size[c], c))
            self.free_chunks.discard(chunk)
            rest = self.size[chunk] - nbytes
            if rest:
                self.size[chunk] = nbytes
                bisect.insort(self.starts, chunk + nbytes)
                self.size[chunk + nbytes] = rest
                self.free_chunks.add(chunk + nbytes)
            return chunk, 0
        chunk = self.end
        self.starts.append(chunk)
        self.size[chunk] = nbytes
        self.end += nbytes
        fresh = max(0, self.end - self.mapped)
        self.mapped = max(self.mapped, self.end)
        return chunk, fresh

    def free(self, chunk: Optional[int]) -> None:
        if chunk is None:
            return
        self.free_chunks.add(chunk)
        i = bisect.bisect_left(self.starts, chunk)
        if i + 1 < len(self.starts) and self.starts[i + 1] in self.free_chunks:
            after = self.starts.pop(i + 1)
            self.size[chunk] += self.size.pop(after)
            self.free_chunks.discard(after)
        if i > 0 and self.starts[i - 1] in self.free_chunks:
            before = self.starts[i - 1]
            self.starts.pop(i)
            self.size[before] += self.size.pop(chunk)
            self.free_chunks.discard(chunk)
            chunk, i = before, i - 1
        if i == len(self.starts) - 1:
            self.starts.pop()
            del self.size[chunk]
            self.free_chunks.discard(chunk)
            self.end = chunk
            if self.mapped - self.end > self.trim:
                self.mapped = self.end


def fresh_per_row(rows: Sequence[Row], dtype_bytes: int = DEFAULT_DTYPE_BYTES, threads: int = 1, batch: int = 1,
                  views: Optional[dict[int, int]] = None) -> list[int]:
    """Bytes of newly mapped memory each row writes at a batch, in a pass repeated as a benchmark repeats it.

    Eager execution keeps a tensor alive until its last use (a residual or SE input until the add or multiply);
    a row allocates its conv workspace buffers (workspace_buffers) and a oneDNN conv's reordered weights, then its
    output, then frees the buffers and the inputs it read last. The allocations go through Heap (glibc's mmap
    threshold, best fit and heap trimming); the pass runs twice from the input alone, and the second pass's fresh
    bytes are returned: a steady state, as a timed pass after warm-up sees it. The network's input stays alive (the
    caller holds it); the output is freed after the pass.

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
    buffers = [[n * dtype_bytes * batch for n in workspace_buffers(r, threads, batch)]
               + [reordered_weights(r, threads, batch) * dtype_bytes] * onednn_conv(r, threads, batch) for r in rows]
    largest = max([n for n in list(size.values()) + [b for bs in buffers for b in bs] if n <= MMAP_THRESHOLD_MAX],
                  default=0)
    heap = Heap(largest)
    chunk = {0: heap.allocate(rows[0].in_shape.numel * dtype_bytes * batch)[0]} if rows else {}
    out: list[int] = []
    for _ in range(2):
        out = []
        for k, r in enumerate(rows):
            taken = [heap.allocate(b) for b in buffers[k]]
            chunk[r.tensor_out], fresh = heap.allocate(size[r.tensor_out])
            for c, _ in taken:
                heap.free(c)
            for t in {base(t) for t in r.tensors_in} | {base(r.tensor_out)}:
                if last_use.get(t) == k:
                    heap.free(chunk.pop(t, None))
            out.append(fresh + sum(f for _, f in taken))
    return out


def fresh_bytes(rows: Sequence[Row], dtype_bytes: int = DEFAULT_DTYPE_BYTES, threads: int = 1,
                batch: int = 1) -> dict[str, int]:
    """fresh_per_row by row name (the rows of an analysed network, whose names are unique)."""
    return dict(zip((r.name for r in rows), fresh_per_row(rows, dtype_bytes, threads, batch)))
