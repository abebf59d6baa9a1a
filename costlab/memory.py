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
    """Elements read and written by one layer (batch 1)."""

    read: int = 0
    written: int = 0

    @property
    def total(self) -> int:
        return self.read + self.written

    def bytes(self, dtype_bytes: int = DEFAULT_DTYPE_BYTES) -> int:
        """bytes = dtype_bytes * (read + written)."""
        return dtype_bytes * self.total


def conv2d(cin: int, hin: int, win: int, cout: int, hout: int, wout: int, weights: int) -> Traffic:
    """read = Cin*Hin*Win + weights (k_h*k_w*Cin*Cout/g [+ Cout]); written = Cout*Hout*Wout. 1x1: hw(c1+c2) + c1c2."""
    return Traffic(cin * hin * win + weights, cout * hout * wout)


def linear(fin: int, fout: int, weights: int) -> Traffic:
    """read = fin + weights (fin*fout [+ fout]); written = fout."""
    return Traffic(fin + weights, fout)


def batch_norm(channels: int, positions: int, affine: bool = True) -> Traffic:
    """read = C*HW + 2C running stats (+ 2C gamma, beta with affine); written = C*HW (eval mode)."""
    return Traffic(channels * positions + (4 if affine else 2) * channels, channels * positions)


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
