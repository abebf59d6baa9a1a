"""Counting conventions as data: one record per tool, saying what each op costs under it and who reproduces it.

Conv and linear multiply-accumulates are counted by every convention; they differ in the bias adds and in
the ops the papers leave out. Every other op is priced by a Rate: MACs per input element plus MACs per
output element, the way fvcore's own ``elementwise_flop_counter(input_scale, output_scale)`` writes its
handles. An op key a convention does not list costs 0 under it.

Op keys (each op class in core/ops names its own): ``batch_norm`` (eval, with gamma and beta),
``batch_norm.train`` (batch statistics), ``group_norm``, ``layer_norm``, ``instance_norm``, each with
``.no_affine``; each activation by its function name; ``adaptive_avg_pool``, ``max_pool``, ``avg_pool`` (2-d;
``avg_pool1d``, ``adaptive_max_pool3d``... for other ranks); ``upsample_<mode><rank>d``; ``grid_sample``;
``mean`` (``x.mean([2, 3])``, MNASNet); ``add``, ``mul``, ``concat``, ``split``, ``shuffle``; ``flatten``; ``pad``
(ZeroPad2d, which no tool counts).
A key with ``.functional`` is the same op called as ``torch.nn.functional.*`` in a forward instead of as its
module (only ptflops and thop tell the two apart). Products (conv, linear, matmul forms, einsum, attention)
are counted by every convention but where its ``skips`` name them.
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
    """What one tool counts: bias adds or not, a Rate per op key (absent keys cost 0), the products it skips, how it
    counts a broadcast matmul, whether it tells a module from its functional call, and where costlab disagrees."""

    name: str
    summary: str
    tool: str  # what it reproduces, with the version
    tracers: tuple[str, ...]  # tracers reproducing it on traced models, preferred first (the default of --tracer auto)
    bias_adds: bool = False  # conv and linear bias adds, 1 per output element
    rates: Mapping[str, Rate] = field(default_factory=dict)
    skips: frozenset = frozenset()  # product keys (matmul forms, attention) the tool does not count
    broadcast_matmul: bool = True  # a (n, k) @ (B, k, m) product counts B*n*k*m (False: prod(a) * m, as fvcore)
    tells_functional: bool = False  # a module and its F.* call cost differently (hooks and patched functionals)
    # the tool hooks modules by their exact class: a subclass it has no hook for (timm's BatchNormAct2d) counts only
    # what the functions its forward calls count (traced.unhooked)
    hooks_by_class: bool = False
    disagreements: Mapping[str, str] = field(default_factory=dict)  # where costlab counts on purpose what the tool does not
    # the aten ops (as dispatched) the tool prices: one of these that costlab's formulas did not price is unpriced
    counted_aten: frozenset = frozenset()

    def rate(self, key: str) -> Rate:
        """The Rate of an op key under this convention (FREE when the convention does not count it); a tool that
        does not tell a module from its functional call prices 'x.functional' as 'x'."""
        if key in self.rates:
            return self.rates[key]
        if key.endswith(".functional") and not self.tells_functional:
            return self.rates.get(key[: -len(".functional")], FREE)
        return FREE


def _rates(**rates: Rate) -> Mapping[str, Rate]:
    return MappingProxyType({key.replace("__", "."): rate for key, rate in rates.items()})


PAPER = Convention(
    "paper", "conv + linear MACs only; = papers, torchvision _ops, FlopCounterMode/2",
    "the MobileNet/EfficientNet papers, torchvision's _ops, torch.utils.flop_counter.FlopCounterMode / 2",
    tracers=("torch", "formulas"),
    counted_aten=frozenset("""mm addmm bmm baddbmm convolution _convolution _slow_conv2d_forward cudnn_convolution
        convolution_overrideable _scaled_mm _scaled_dot_product_flash_attention _scaled_dot_product_efficient_attention
        _scaled_dot_product_cudnn_attention _flash_attention_forward _efficient_attention_forward flex_attention""".split()),
)
FVCORE = Convention(
    "fvcore", "conv + linear MACs, BatchNorm 2/element (1 without affine), adaptive avg pool 1/input element",
    "fvcore 0.1.5 FlopCountAnalysis with its default handles",
    tracers=("formulas", "fvcore"),
    rates=_rates(batch_norm=Rate(2), batch_norm__no_affine=Rate(1), batch_norm__train=Rate(5),
                 batch_norm__train__no_affine=Rate(4), group_norm=Rate(5), group_norm__no_affine=Rate(4),
                 layer_norm=Rate(5), layer_norm__no_affine=Rate(4), instance_norm=Rate(5),
                 instance_norm__no_affine=Rate(4), adaptive_avg_pool=Rate(1), upsample_nearest2d=Rate(0, 1),
                 upsample_bilinear2d=Rate(0, 4), grid_sample=Rate(0, 4)),
    skips=frozenset({"baddbmm", "attention"}), broadcast_matmul=False,
    counted_aten=frozenset("""mm addmm bmm convolution _convolution native_batch_norm _native_batch_norm_legit
        _native_batch_norm_legit_no_training native_group_norm native_layer_norm upsample_nearest2d
        upsample_bilinear2d _adaptive_avg_pool2d grid_sampler_2d""".split()),
    disagreements=MappingProxyType({
        "conv.string_padding": "fvcore counts a conv given padding='same' or 'valid' as 0 (it has no handle for "
                               "aten::_convolution_mode); costlab counts its MACs",
        "autograd_function": "fvcore counts a custom autograd Function as 0 (its jit graph shows one opaque "
                             "prim::PythonOp); costlab counts the ops its forward runs"}),
)
# ptflops counts a module by its hook and again by the functional its forward calls when that is patched:
# nn.ReLU (F.relu), nn.GELU, nn.ELU and every pooling module count twice; nn.ReLU6 calls F.hardtanh (not
# patched) and nn.SiLU has no hook, so each counts once; a patched functional called in a forward (F.relu,
# F.max_pool2d...) once; its norm hooks count 2 per element with affine whatever the mode, a functional norm 0;
# hardswish, sigmoid, x + y, x * s, x.mean, torch.cat and channel shuffles not at all
_POOLS = {f"{adaptive}{kind}_pool{rank}": rate for adaptive in ("", "adaptive_") for kind in ("avg", "max")
          for rank in ("1d", "", "3d") for rate in [Rate(2)]}
PTFLOPS = Convention(
    "ptflops", "ptflops (pytorch backend): fvcore + conv/linear bias adds, ReLU 2/element, ReLU6 and SiLU 1/element, "
               "avg pool module 2/input element (1 functional), max pool 2/input element",
    "ptflops 0.7.5 get_model_complexity_info(..., backend='pytorch')",
    tracers=("ptflops",), bias_adds=True, broadcast_matmul=False, tells_functional=True, hooks_by_class=True,
    rates=_rates(batch_norm=Rate(2), batch_norm__no_affine=Rate(1), batch_norm__train=Rate(2),
                 batch_norm__train__no_affine=Rate(1), group_norm=Rate(2), group_norm__no_affine=Rate(1),
                 layer_norm=Rate(2), layer_norm__no_affine=Rate(1), instance_norm=Rate(2),
                 instance_norm__no_affine=Rate(1), relu=Rate(2), relu6=Rate(1), silu=Rate(1), gelu=Rate(2),
                 elu=Rate(2), leaky_relu=Rate(1), relu__functional=Rate(1), relu6__functional=Rate(1),
                 silu__functional=Rate(1), gelu__functional=Rate(1), elu__functional=Rate(1),
                 **{key.replace(".", "__"): rate for key, rate in _POOLS.items()},
                 **{f"{key}__functional": Rate(1) for key in _POOLS}),
)
# thop sees modules only (a functional pool counts 0); its adaptive pool is (kernel + 1) per output element and
# its nn.AvgPool2d 1 per output element; its norm hooks (batch, layer, instance; not group) 4 per element with
# affine; max pooling and activations 0
THOP = Convention(
    "thop", "thop: conv + linear MACs, BatchNorm 4/element (2 without affine), avg pool module HW+1 per channel "
            "(functional 0); activations 0",
    "thop 0.1.1 profile",
    tracers=("thop",), broadcast_matmul=False, tells_functional=True, hooks_by_class=True,
    rates=_rates(batch_norm=Rate(4), batch_norm__no_affine=Rate(2), batch_norm__train=Rate(4),
                 batch_norm__train__no_affine=Rate(2), layer_norm=Rate(4), layer_norm__no_affine=Rate(2),
                 instance_norm=Rate(4), instance_norm__no_affine=Rate(2),
                 **{f"adaptive_avg_pool{rank}": Rate(1, 1) for rank in ("1d", "", "3d")},
                 **{f"avg_pool{rank}": Rate(0, 1) for rank in ("1d", "", "3d")}),
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
