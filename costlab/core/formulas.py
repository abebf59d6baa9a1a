"""The formulas: named integers in, Cost(params, macs) out. Every count costlab reports comes from here.

The analytic path, the per-module check of traces and the counting of arbitrary models all price an op
through its class in ops.py, which calls these. What a convention adds (bias adds, BatchNorm, pooling,
activations) is read from its record in conventions.py, never written here as a special case.
"""

from __future__ import annotations

import math
from typing import Sequence

from .conventions import DEFAULT_CONVENTION, Convention, get_convention
from .cost import Cost


def conv(*, cin: int, cout: int, kernel: Sequence[int], positions: int, groups: int = 1, bias: bool = False,
         convention: "str | Convention" = DEFAULT_CONVENTION) -> Cost:
    """params = cout * (cin/groups) * prod(kernel) (+ cout bias); macs = that weight count * positions
    (+ cout * positions bias adds where the convention counts them); positions = N * prod(output size)."""
    weights = cout * (cin // groups) * math.prod(kernel)
    bias_adds = cout * positions if bias and get_convention(convention).bias_adds else 0
    return Cost(params=weights + (cout if bias else 0), macs=weights * positions + bias_adds)


def linear(*, fin: int, fout: int, rows: int = 1, bias: bool = True,
           convention: "str | Convention" = DEFAULT_CONVENTION) -> Cost:
    """params = fin * fout (+ fout bias); macs = rows * fin * fout (+ rows * fout bias adds where counted)."""
    bias_adds = rows * fout if bias and get_convention(convention).bias_adds else 0
    return Cost(params=fin * fout + (fout if bias else 0), macs=rows * fin * fout + bias_adds)


def batch_norm(*, channels: int, positions: int, affine: bool = True,
               convention: "str | Convention" = DEFAULT_CONVENTION) -> Cost:
    """params = 2C with affine (gamma, beta); macs = rate(batch_norm) * C * positions, positions = N*H*W."""
    key = "batch_norm" if affine else "batch_norm.no_affine"
    elements = channels * positions
    return Cost(2 * channels if affine else 0, get_convention(convention).rate(key).macs(elements, elements))


def weighted(*, key: str, macs: int, convention: "str | Convention" = DEFAULT_CONVENTION) -> int:
    """A product's multiply-accumulates (a matmul, an attention): macs, or 0 where the convention skips that key."""
    return 0 if key in get_convention(convention).skips else macs


def matmul(*, a: Sequence[int], b: Sequence[int], out: Sequence[int], key: str = "matmul",
           convention: "str | Convention" = DEFAULT_CONVENTION) -> Cost:
    """macs = prod(out) * k for a (..., n, k) @ (..., k, m) product (every broadcast batch counted), or, where the
    convention counts as fvcore does, prod(a) * m; params = 0 (both operands are activations)."""
    record = get_convention(convention)
    inner = a[-1]
    macs = math.prod(a) * b[-1] if not record.broadcast_matmul else math.prod(out) * inner
    return Cost(0, weighted(key=key, macs=macs, convention=record))


def norm(*, key: str, elements: int, params: int, convention: "str | Convention" = DEFAULT_CONVENTION) -> Cost:
    """A normalisation (batch, group, layer, instance): params its gamma and beta; macs = rate(key) * elements."""
    return Cost(params, get_convention(convention).rate(key).macs(elements, elements))


def by_rate(*, key: str, numel_in: int, numel_out: int, convention: "str | Convention" = DEFAULT_CONVENTION) -> Cost:
    """An op without parameters: params = 0; macs = per_input * numel_in + per_output * numel_out (the convention's Rate of key)."""
    return Cost(0, get_convention(convention).rate(key).macs(numel_in, numel_out))
