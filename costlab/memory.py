"""Memory traffic per layer: bytes read and written, and arithmetic intensity = FLOPs / bytes.

ShuffleNetV2 (Ma et al. 2018, guideline G1) prices a 1x1 convolution's memory access cost as
MAC = hw(c1 + c2) + c1*c2: read the input feature map, read the weights, write the output.
The functions below generalise that to kxk, grouped and depthwise convolutions and to the layers
FLOP counts ignore (BatchNorm, activations, residual adds, the SE rescale, pooling), counting
each tensor once per layer (no cache reuse across layers, no re-reads inside a kernel). All counts
are elements; multiply by the dtype size (fp32 = 4 bytes, the default) for bytes. Pure Python,
no torch.
"""

from __future__ import annotations

from dataclasses import dataclass

from .errors import CostlabError
from .graph import Row

DTYPE_BYTES = {"fp32": 4, "fp16": 2, "bf16": 2, "int8": 1}
DEFAULT_DTYPE_BYTES = 4


@dataclass(frozen=True)
class Traffic:
    """Elements read and written by one layer (batch 1); weights (parameters and BatchNorm statistics) are part of read."""

    read: int = 0
    written: int = 0
    weights: int = 0

    @property
    def activations(self) -> int:
        """Elements of feature maps moved: read + written - weights."""
        return self.read + self.written - self.weights

    @property
    def total(self) -> int:
        return self.read + self.written

    def bytes(self, dtype_bytes: int = DEFAULT_DTYPE_BYTES) -> int:
        """bytes = dtype_bytes * (read + written)."""
        return dtype_bytes * self.total


def conv2d(cin: int, hin: int, win: int, cout: int, hout: int, wout: int, weights: int) -> Traffic:
    """read = Cin*Hin*Win + weights (k_h*k_w*Cin*Cout/g [+ Cout]); written = Cout*Hout*Wout. 1x1: hw(c1+c2) + c1c2."""
    return Traffic(cin * hin * win + weights, cout * hout * wout, weights)


def linear(fin: int, fout: int, weights: int) -> Traffic:
    """read = fin + weights (fin*fout [+ fout]); written = fout."""
    return Traffic(fin + weights, fout, weights)


def batch_norm(channels: int, positions: int, affine: bool = True) -> Traffic:
    """read = C*HW + 2C running stats (+ 2C gamma, beta with affine); written = C*HW (eval mode)."""
    state = (4 if affine else 2) * channels
    return Traffic(channels * positions + state, channels * positions, state)


def elementwise(numel: int) -> Traffic:
    """read = n; written = n (activations: ReLU, ReLU6, SiLU, sigmoid, hardswish, ...)."""
    return Traffic(numel, numel)


def residual_add(numel: int) -> Traffic:
    """read = 2n (branch and shortcut); written = n."""
    return Traffic(2 * numel, numel)


def se_scale(channels: int, positions: int) -> Traffic:
    """read = C*HW + C (feature map and gate); written = C*HW."""
    return Traffic(channels * positions + channels, channels * positions)


def pool(numel_in: int, numel_out: int) -> Traffic:
    """read = n_in; written = n_out (global average pool: C*H*W -> C; max pool: each input once)."""
    return Traffic(numel_in, numel_out)


def view() -> Traffic:
    """read = written = 0 (flatten reshapes without copying)."""
    return Traffic(0, 0)


def row_traffic(row: Row) -> Traffic:
    """Elements a layer of an analysed network reads and writes, by its op."""
    x, y = row.in_shape, row.out_shape
    if row.op == "Conv2d":
        return conv2d(x.c, x.h, x.w, y.c, y.h, y.w, row.params)
    if row.op == "Linear":
        return linear(x.numel, y.numel, row.params)
    if row.op == "BatchNorm2d":
        return batch_norm(x.c, x.spatial, affine=row.params > 0)
    if row.op == "Activation":
        return elementwise(x.numel)
    if row.op == "Add":
        return residual_add(x.numel)
    if row.op == "Mul":
        return se_scale(x.c, x.spatial)
    if row.op in ("AdaptiveAvgPool2d", "SpatialMean", "MaxPool2d"):
        return pool(x.numel, y.numel)
    if row.op == "Flatten":
        return view()
    raise CostlabError(f"{row.name}: no memory-traffic formula for op {row.op!r}")


def row_bytes(row: Row, dtype_bytes: int = DEFAULT_DTYPE_BYTES) -> int:
    """bytes = dtype_bytes * (elements read + elements written)."""
    return row_traffic(row).bytes(dtype_bytes)


def intensity(flops: int, nbytes: int) -> float:
    """Arithmetic intensity = FLOPs / bytes (0 when nothing moves)."""
    return flops / nbytes if nbytes else 0.0


def check_dtype_bytes(value: int) -> int:
    """A dtype size in bytes: a positive integer."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise CostlabError(f"dtype size must be a positive integer number of bytes, got {value!r}")
    return value


def onednn_conv(row: Row, threads: int = 1, batch: int = 1) -> bool:
    """Whether eager PyTorch (fp32, CPU) runs a conv with oneDNN (aten's use_mkldnn): not for a 1x1 stride-1
    conv at 1 thread and batch < 16, and only if grouped, kernel > 3x3, batch > 1 or > 20480 input elements."""
    kh, kw = (int(k) for k in row.kernel.split("x"))
    pointwise = kh == kw == 1 and row.stride == 1
    return (not pointwise or threads > 1 or batch >= 16) and (
        row.groups > 1 or (kh > 3 and kw > 3) or batch > 1 or row.in_shape.numel * batch > 20480)


def conv_workspace(row: Row, threads: int = 1, batch: int = 1) -> int:
    """Elements of temporary buffers eager PyTorch holds while a conv runs (batch 1): oneDNN reorders input and
    output into its channel-blocked layout, Cin*Hin*Win + Cout*Hout*Wout; the native path unfolds a kxk
    input (im2col), Cin*kh*kw*Hout*Wout; a native 1x1 conv needs none; 0 for other ops."""
    if row.op != "Conv2d":
        return 0
    x, y = row.in_shape, row.out_shape
    if onednn_conv(row, threads, batch):
        return x.numel + y.numel
    kh, kw = (int(k) for k in row.kernel.split("x"))
    return 0 if kh == kw == 1 and row.stride == 1 else x.c * kh * kw * y.h * y.w


def fresh_bytes(node, rows, dtype_bytes: int = DEFAULT_DTYPE_BYTES, threads: int = 1,
                batch: int = 1) -> dict[str, int]:
    """Bytes of new memory each layer's output needs beyond the pass's peak so far: growth of the live set's high-water mark.

    Eager execution keeps a tensor alive until its last use (a residual or SE input until the add or
    multiply). A layer's live set is everything alive while its output is allocated; when that exceeds
    every earlier live set of the pass, the allocator must map new pages (when it returned them to the
    OS after the previous pass, as glibc's heap trimming does for large activations), and the first
    write to them faults. fresh = max(0, live_k - max(live_0..k-1)); the pass starts with its input alive.
    A conv's live set includes its workspace (conv_workspace), freed when it returns.
    """
    from .graph import Gate, Layer, Residual, Seq

    size = {r.name: r.out_shape.numel * dtype_bytes for r in rows}
    workspace = {r.name: conv_workspace(r, threads, batch) * dtype_bytes for r in rows}
    program: list[tuple[str, list[int], int]] = []  # (row name, input tensor ids, output tensor id)
    sizes: list[int] = []

    def new(nbytes: int) -> int:
        sizes.append(nbytes)
        return len(sizes) - 1

    def run(n, x: int, prefix: str) -> int:
        path = f"{prefix}.{n.name}" if prefix else n.name
        if isinstance(n, Layer):
            out = new(0 if n.op.kind == "flatten" else size[path])  # flatten is a view
            program.append((path, [x], out))
            return out
        y = x
        for child in n.children:
            y = run(child, y, path)
        if isinstance(n, Residual):
            skip = x if n.shortcut is None else run(n.shortcut, x, path)
            out = new(size[f"{path}.add"])
            program.append((f"{path}.add", [y, skip], out))
            return out
        if isinstance(n, Gate):
            out = new(size[f"{path}.mul"])
            program.append((f"{path}.mul", [x, y], out))
            return out
        return y

    first = rows[0].in_shape.numel * dtype_bytes if rows else 0
    x0 = new(first)
    if isinstance(node, Seq):
        y = x0
        for child in node.children:
            y = run(child, y, "")
    else:
        run(node, x0, "")
    last_use = {x0: -1}
    for k, (_, inputs, out) in enumerate(program):
        for t in inputs:
            last_use[t] = k
        last_use.setdefault(out, k)
    live = first
    high = first
    out_bytes: dict[str, int] = {}
    for k, (name, inputs, out) in enumerate(program):
        live += sizes[out]
        peak = live + workspace.get(name, 0)
        out_bytes[name] = max(0, peak - high)
        high = max(high, peak)
        for t in set(inputs):
            if last_use.get(t) == k:
                live -= sizes[t]
    return out_bytes
