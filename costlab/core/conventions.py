"""Counting conventions as data: one record per tool, saying what each op costs under it and who reproduces it.

Conv and linear multiply-accumulates are counted by every convention; they differ in the bias adds and in
the ops the papers leave out. Every other op is priced by a Rate: MACs per input element plus MACs per
output element, the way fvcore's own ``elementwise_flop_counter(input_scale, output_scale)`` writes its
handles. An op key a convention does not list costs 0 under it.

Op keys: ``batch_norm`` (eval, with gamma and beta) and ``batch_norm.no_affine``; each activation by its
function name; ``adaptive_avg_pool`` (an ``nn.AdaptiveAvgPool2d`` module) and
``adaptive_avg_pool.functional`` (``F.adaptive_avg_pool2d`` called in a forward, as torchvision's
MobileNetV2 does); ``max_pool``; ``mean`` (``x.mean([2, 3])``, MNASNet); ``add`` and ``mul`` (the
residual sum and the SE rescale, written ``x + y`` and ``x * s``); ``flatten``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Mapping

from ..errors import CostlabError


@dataclass(frozen=True)
class Rate:
    """MACs of a parameterless op: per_input * input elements + per_output * output elements."""

    per_input: int = 0
    per_output: int = 0

    def macs(self, numel_in: int, numel_out: int) -> int:
        """macs = per_input * numel_in + per_output * numel_out."""
        return self.per_input * numel_in + self.per_output * numel_out


FREE = Rate()


@dataclass(frozen=True)
class Convention:
    """What one tool counts: bias adds or not, and a Rate per op key (absent keys cost 0)."""

    name: str
    summary: str
    tool: str  # what it reproduces, with the version
    tracers: tuple[str, ...]  # tracers reproducing it on traced models, preferred first (the default of --tracer auto)
    bias_adds: bool = False  # conv and linear bias adds, 1 per output element
    rates: Mapping[str, Rate] = field(default_factory=dict)

    def rate(self, key: str) -> Rate:
        """The Rate of an op key under this convention (FREE when the convention does not count it)."""
        return self.rates.get(key, FREE)


def _rates(**rates: Rate) -> Mapping[str, Rate]:
    return MappingProxyType({key.replace("__", "."): rate for key, rate in rates.items()})


PAPER = Convention(
    "paper", "conv + linear MACs only; = papers, torchvision _ops, FlopCounterMode/2",
    "the MobileNet/EfficientNet papers, torchvision's _ops, torch.utils.flop_counter.FlopCounterMode / 2",
    tracers=("torch", "formulas"),
)
FVCORE = Convention(
    "fvcore", "conv + linear MACs, BatchNorm 2/element (1 without affine), adaptive avg pool 1/input element",
    "fvcore 0.1.5 FlopCountAnalysis with its default handles",
    tracers=("formulas", "fvcore"),
    rates=_rates(batch_norm=Rate(2), batch_norm__no_affine=Rate(1), adaptive_avg_pool=Rate(1),
                 adaptive_avg_pool__functional=Rate(1)),
)
# ptflops counts a module by its hook and again by the functional its forward calls when that is patched:
# nn.ReLU (F.relu) and every pooling module count twice; nn.ReLU6 calls F.hardtanh (not patched) and nn.SiLU
# has no hook, so each counts once; a patched functional called in a forward (F.relu, F.max_pool2d...) once;
# hardswish, sigmoid, x + y, x * s, x.mean, torch.cat and channel shuffles not at all
PTFLOPS = Convention(
    "ptflops", "ptflops (pytorch backend): fvcore + conv/linear bias adds, ReLU 2/element, ReLU6 and SiLU 1/element, "
               "avg pool module 2/input element (1 functional), max pool 2/input element",
    "ptflops 0.7.5 get_model_complexity_info(..., backend='pytorch')",
    tracers=("ptflops",), bias_adds=True,
    rates=_rates(batch_norm=Rate(2), batch_norm__no_affine=Rate(1), relu=Rate(2), relu6=Rate(1), silu=Rate(1),
                 relu__functional=Rate(1), relu6__functional=Rate(1), silu__functional=Rate(1),
                 adaptive_avg_pool=Rate(2), adaptive_avg_pool__functional=Rate(1), max_pool=Rate(2),
                 max_pool__functional=Rate(1), avg_pool=Rate(2), avg_pool__functional=Rate(1)),
)
# thop sees modules only (a functional pool counts 0); its adaptive pool is (kernel + 1) per output element and
# its nn.AvgPool2d 1 per output element; max pooling and activations 0
THOP = Convention(
    "thop", "thop: conv + linear MACs, BatchNorm 4/element (2 without affine), avg pool module HW+1 per channel "
            "(functional 0); activations 0",
    "thop 0.1.1 profile",
    tracers=("thop",),
    rates=_rates(batch_norm=Rate(4), batch_norm__no_affine=Rate(2), adaptive_avg_pool=Rate(1, 1), avg_pool=Rate(0, 1)),
)

CONVENTIONS: Mapping[str, Convention] = MappingProxyType({c.name: c for c in (PAPER, FVCORE, PTFLOPS, THOP)})
DEFAULT_CONVENTION = PAPER.name


def get_convention(convention: "str | Convention") -> Convention:
    """The record of a convention by name (a record passes through); a CostlabError lists the known ones."""
    if isinstance(convention, Convention):
        return convention
    if convention not in CONVENTIONS:
        raise CostlabError(f"unknown convention {convention!r}; known: {', '.join(CONVENTIONS)}")
    return CONVENTIONS[convention]


def reproducing(tracer: str) -> list[str]:
    """The conventions a tracer reproduces exactly."""
    return [c.name for c in CONVENTIONS.values() if tracer in c.tracers]
