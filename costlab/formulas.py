"""One registry of per-layer formulas: integers in, Cost(params, macs) out.

Every count costlab reports -- the analytic path, the per-module check of traces, counting an
arbitrary nn.Module -- goes through these functions. MACs depend on the counting convention:

* ``paper``  conv and linear multiply-accumulates only (MobileNet/EfficientNet papers,
  torchvision's ``_ops``, ``FlopCounterMode`` total / 2).
* ``fvcore`` what ``fvcore.nn.FlopCountAnalysis`` counts with its default handles: conv and linear
  MACs, BatchNorm (eval) 2 per element with affine and 1 without, adaptive average pooling
  1 per input element; activations, residual adds, SE multiplies and ``mean`` are not counted.
* ``ptflops`` what ptflops 0.7.5 (``backend="pytorch"``) counts: its module hooks (conv and linear
  MACs plus bias adds, BatchNorm 2 per element with affine, ReLU/ReLU6 1 per element, pooling
  modules 1 per input element) plus its patched functionals (``F.relu``, ``F.silu``, ``F.*pool*``
  1 per input element). A module whose forward calls a patched functional is counted twice:
  ``nn.ReLU`` (``F.relu``), ``nn.AdaptiveAvgPool2d`` and ``nn.MaxPool2d``; ``nn.ReLU6`` calls
  ``F.hardtanh`` and ``nn.SiLU`` has no hook, so each counts once. Hardswish, sigmoid,
  hardsigmoid, ``x + y``, ``x * y`` and ``x.mean`` are not counted.
* ``thop`` what thop 0.1.1 ``profile`` counts with its module hooks only: conv and linear MACs (no
  bias), BatchNorm 4 per element with affine (2 without), ``nn.AdaptiveAvgPool2d`` (in/out + 1)
  per output element; activations, max pooling and every functional op count 0.

Only ptflops and thop care whether a global average pool is a module or ``F.adaptive_avg_pool2d``
called in a forward (``functional=True``; torchvision's MobileNetV2 does the latter).
"""

from __future__ import annotations

from .cost import Cost
from .errors import CostlabError

CONVENTIONS: dict[str, str] = {
    "paper": "conv + linear MACs only; = papers, torchvision _ops, FlopCounterMode/2",
    "fvcore": "conv + linear MACs, BatchNorm 2/element (1 without affine), adaptive avg pool 1/input element",
    "ptflops": "ptflops (pytorch backend): fvcore + conv/linear bias adds, ReLU 2/element, ReLU6 and SiLU 1/element, "
               "avg pool module 2/input element (1 functional), max pool 2/input element",
    "thop": "thop: conv + linear MACs, BatchNorm 4/element (2 without affine), avg pool module HW+1 per channel "
            "(functional 0); activations 0",
}
# ptflops: calls per element of each activation = its module hook + its patched functional (see module docstring)
PTFLOPS_ACTIVATION_CALLS = {"relu": 2, "relu6": 1, "silu": 1}
DEFAULT_CONVENTION = "paper"


def check_convention(convention: str) -> str:
    """Return convention if costlab knows it, else raise a CostlabError listing the known ones."""
    if convention not in CONVENTIONS:
        raise CostlabError(f"unknown convention {convention!r}; known: {', '.join(CONVENTIONS)}")
    return convention


def conv2d(cin: int, cout: int, kh: int, kw: int, hout: int, wout: int, groups: int = 1, bias: bool = False,
           convention: str = DEFAULT_CONVENTION) -> Cost:
    """params = cout * (cin/groups) * kh * kw (+ cout bias); macs = cout * (cin/groups) * kh * kw * hout * wout (+ cout * hout * wout bias adds under ptflops)."""
    weights = cout * (cin // groups) * kh * kw
    bias_adds = cout * hout * wout if bias and convention == "ptflops" else 0
    return Cost(params=weights + (cout if bias else 0), macs=weights * hout * wout + bias_adds)


def linear(fin: int, fout: int, bias: bool = True, rows: int = 1, convention: str = DEFAULT_CONVENTION) -> Cost:
    """params = fin * fout (+ fout bias); macs = rows * fin * fout (+ rows * fout bias adds under ptflops)."""
    bias_adds = rows * fout if bias and convention == "ptflops" else 0
    return Cost(params=fin * fout + (fout if bias else 0), macs=rows * fin * fout + bias_adds)


def batch_norm(channels: int, positions: int, affine: bool = True, convention: str = DEFAULT_CONVENTION) -> Cost:
    """params = 2C with affine (gamma, beta); macs = 0 (paper), C*HW*(2 if affine else 1) (fvcore, ptflops), twice that (thop)."""
    params = 2 * channels if affine else 0
    per_element = {"fvcore": 1, "ptflops": 1, "thop": 2}.get(convention, 0) * (2 if affine else 1)
    return Cost(params, channels * positions * per_element)


def adaptive_avg_pool(channels: int, positions_in: int, convention: str = DEFAULT_CONVENTION,
                      functional: bool = False) -> Cost:
    """Global average pool to 1x1: macs = 0 (paper), C*HW (fvcore), C*HW*(1 if functional else 2) (ptflops), C*(HW+1) as a module, 0 functional (thop)."""
    if convention == "fvcore":
        return Cost(0, channels * positions_in)
    if convention == "ptflops":
        return Cost(0, channels * positions_in * (1 if functional else 2))
    if convention == "thop" and not functional:
        return Cost(0, channels * (positions_in + 1))
    return Cost(0, 0)


def activation(function: str, numel: int, convention: str = DEFAULT_CONVENTION) -> Cost:
    """params = 0; macs = numel * PTFLOPS_ACTIVATION_CALLS[function] (ptflops; 0 if absent), else 0."""
    if convention == "ptflops":
        return Cost(0, numel * PTFLOPS_ACTIVATION_CALLS.get(function, 0))
    return Cost(0, 0)


def max_pool(numel_in: int, convention: str = DEFAULT_CONVENTION) -> Cost:
    """params = 0; macs = 2 * input elements (ptflops: nn.MaxPool2d hook + patched F.max_pool2d), else 0."""
    return Cost(0, 2 * numel_in if convention == "ptflops" else 0)


def uncounted(numel: int = 0, convention: str = DEFAULT_CONVENTION) -> Cost:
    """params = 0; macs = 0 in every convention costlab has (residual add, SE multiply, x.mean: written as operators, no tool sees them)."""
    return Cost(0, 0)
