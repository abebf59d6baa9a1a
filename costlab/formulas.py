"""One registry of per-layer formulas: integers in, Cost(params, macs) out.

Every count costlab reports -- the analytic path, the per-module check of traces, counting an
arbitrary nn.Module -- goes through these functions. MACs depend on the counting convention:

* ``paper``  conv and linear multiply-accumulates only (MobileNet/EfficientNet papers,
  torchvision's ``_ops``, ``FlopCounterMode`` total / 2).
* ``fvcore`` what ``fvcore.nn.FlopCountAnalysis`` counts with its default handles: conv and linear
  MACs, BatchNorm (eval) 2 per element with affine and 1 without, adaptive average pooling
  1 per input element; activations, residual adds, SE multiplies and ``mean`` are not counted.
"""

from __future__ import annotations

from .cost import Cost
from .errors import CostlabError

CONVENTIONS: dict[str, str] = {
    "paper": "conv + linear MACs only; = papers, torchvision _ops, FlopCounterMode/2",
    "fvcore": "conv + linear MACs, BatchNorm 2/element (1 without affine), adaptive avg pool 1/input element",
}
DEFAULT_CONVENTION = "paper"


def check_convention(convention: str) -> str:
    """Return convention if costlab knows it, else raise a CostlabError listing the known ones."""
    if convention not in CONVENTIONS:
        raise CostlabError(f"unknown convention {convention!r}; known: {', '.join(CONVENTIONS)}")
    return convention


def conv2d(cin: int, cout: int, kh: int, kw: int, hout: int, wout: int, groups: int = 1, bias: bool = False) -> Cost:
    """params = cout * (cin/groups) * kh * kw (+ cout bias); macs = cout * (cin/groups) * kh * kw * hout * wout."""
    weights = cout * (cin // groups) * kh * kw
    return Cost(params=weights + (cout if bias else 0), macs=weights * hout * wout)


def linear(fin: int, fout: int, bias: bool = True, rows: int = 1) -> Cost:
    """params = fin * fout (+ fout bias); macs = rows * fin * fout."""
    return Cost(params=fin * fout + (fout if bias else 0), macs=rows * fin * fout)


def batch_norm(channels: int, positions: int, affine: bool = True, convention: str = DEFAULT_CONVENTION) -> Cost:
    """params = 2C with affine (gamma, beta); macs = 0 (paper) or C*HW*(2 if affine else 1) (fvcore, eval)."""
    params = 2 * channels if affine else 0
    if convention == "fvcore":
        return Cost(params, channels * positions * (2 if affine else 1))
    return Cost(params, 0)


def adaptive_avg_pool(channels: int, positions_in: int, convention: str = DEFAULT_CONVENTION) -> Cost:
    """params = 0; macs = 0 (paper) or C * H_in * W_in (fvcore: one per input element)."""
    return Cost(0, channels * positions_in if convention == "fvcore" else 0)


def uncounted(numel: int = 0, convention: str = DEFAULT_CONVENTION) -> Cost:
    """params = 0; macs = 0 in every convention costlab has (activations, add, mul, mean, max-pool)."""
    return Cost(0, 0)
