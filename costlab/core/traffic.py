"""Memory traffic per layer: elements read and written, and arithmetic intensity = FLOPs / bytes.

ShuffleNetV2 (Ma et al. 2018, guideline G1) prices a 1x1 convolution's memory access cost as
MAC = hw(c1 + c2) + c1*c2: read the input feature map, read the weights, write the output. The
functions below generalise that to every op (each op class in ops.py picks its formula), counting
each tensor once per layer (no cache reuse across layers, no re-reads inside a kernel). All counts are
elements; multiply by the dtype size (fp32 = 4 bytes) for bytes.
"""

from __future__ import annotations

from dataclasses import dataclass

from .checks import positive_int

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
        """read + written."""
        return self.read + self.written

    def bytes(self, dtype_bytes: int = DEFAULT_DTYPE_BYTES) -> int:
        """bytes = dtype_bytes * (read + written)."""
        return dtype_bytes * self.total


def weighted(numel_in: int, numel_out: int, weights: int) -> Traffic:
    """Conv and linear: read = input + weights (k_h*k_w*Cin*Cout/g [+ Cout]); written = output. 1x1: hw(c1+c2) + c1c2."""
    return Traffic(numel_in + weights, numel_out, weights)


def batch_norm(channels: int, positions: int, affine: bool = True) -> Traffic:
    """read = C*HW + 2C running stats (+ 2C gamma, beta with affine); written = C*HW (eval mode)."""
    state = (4 if affine else 2) * channels
    return Traffic(channels * positions + state, channels * positions, state)


def streamed(numel_in: int, numel_out: int) -> Traffic:
    """read = n_in; written = n_out (activations n -> n; pooling C*H*W -> C*H'*W', each input read once)."""
    return Traffic(numel_in, numel_out)


def combined(numels_in: tuple[int, ...], numel_out: int) -> Traffic:
    """A join of several tensors (residual add, SE rescale by a C x 1 x 1 gate): read = sum of inputs; written = n_out."""
    return Traffic(sum(numels_in), numel_out)


def view() -> Traffic:
    """read = written = 0 (flatten reshapes without copying)."""
    return Traffic(0, 0)


def intensity(flops: int, nbytes: int) -> float:
    """Arithmetic intensity = FLOPs / bytes (0 when nothing moves)."""
    return flops / nbytes if nbytes else 0.0


def check_dtype_bytes(value: int, what: str = "dtype size in bytes") -> int:
    """A dtype size in bytes: a positive integer, at most 16."""
    return positive_int(value, what, 16)
