"""The one bridge between costlab ops and torch, one table each way.

TO_TORCH: costlab op class -> how to build its nn.Module (a leaf of the built network), or, for ops a
container computes in its own forward (the residual add, the SE multiply), the function that computes it.
FROM_TORCH: torch module class -> the costlab op one call of it computes, priced by that op's own formula;
FROM_ATEN: the compute ops a model may run outside any priced module (a conv or matmul in a container's
forward) -> the costlab op they are. Adding an op: its class in core.ops, its formula, an entry here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Optional

import torch
from torch import nn

from ..core import ops
from ..core.conventions import Convention
from ..core.cost import Cost
from ..core.shapes import same_padding, same_padding_end
from ..core.vocab import ACTIVATIONS


class SpatialMean(nn.Module):
    """x.mean([2, 3]), as MNASNet computes its global pool; keepdim, as timm's SqueezeExcite does."""

    def __init__(self, keepdim: bool = False) -> None:
        super().__init__()
        self.keepdim = keepdim

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.mean([2, 3], keepdim=self.keepdim)


class FunctionalAdaptiveAvgPool2d(nn.Module):
    """F.adaptive_avg_pool2d(x, 1) from a module that is not an nn.AdaptiveAvgPool2d, as MobileNetV2's
    forward calls it (ptflops and thop count the two differently)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return nn.functional.adaptive_avg_pool2d(x, (1, 1))


class FunctionalActivation(nn.Module):
    """F.relu(x) (or another activation) called from a module that is not the activation's own, as GoogLeNet's
    BasicConv2d and DenseNet's head do."""

    def __init__(self, function: str) -> None:
        super().__init__()
        self.function = function

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return ACTIVATION_FUNCTIONS[self.function](x)

    def extra_repr(self) -> str:
        return self.function


class FunctionalPool2d(nn.Module):
    """F.max_pool2d / F.avg_pool2d called in a forward, as Inception-v3's blocks do."""

    def __init__(self, op) -> None:
        super().__init__()
        self.op = op

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        o = self.op
        if isinstance(o, ops.MaxPool2d):
            return nn.functional.max_pool2d(x, o.kernel, o.stride, o.padding, ceil_mode=o.ceil_mode)
        return nn.functional.avg_pool2d(x, o.kernel, o.stride, o.padding, ceil_mode=o.ceil_mode,
                                        count_include_pad=o.count_include_pad)


ACTIVATION_MODULES: dict[str, type] = {
    "relu": nn.ReLU,
    "relu6": nn.ReLU6,
    "silu": nn.SiLU,
    "sigmoid": nn.Sigmoid,
    "hardswish": nn.Hardswish,
    "hardsigmoid": nn.Hardsigmoid,
    "gelu": nn.GELU,
    "tanh": nn.Tanh,
    "leaky_relu": nn.LeakyReLU,
    "elu": nn.ELU,
    "mish": nn.Mish,
    "softplus": nn.Softplus,
    "hardtanh": nn.Hardtanh,
}
ACTIVATION_FUNCTIONS = {"relu": nn.functional.relu, "relu6": nn.functional.relu6, "silu": nn.functional.silu,
                        "sigmoid": torch.sigmoid, "hardswish": nn.functional.hardswish,
                        "hardsigmoid": nn.functional.hardsigmoid, "gelu": nn.functional.gelu, "tanh": torch.tanh,
                        "leaky_relu": nn.functional.leaky_relu, "elu": nn.functional.elu, "mish": nn.functional.mish,
                        "softplus": nn.functional.softplus, "hardtanh": nn.functional.hardtanh}
assert set(ACTIVATION_MODULES) == set(ACTIVATION_FUNCTIONS) == set(ACTIVATIONS), "each activation needs its torch form"


def _pool_module(o) -> nn.Module:
    if o.functional:
        return FunctionalPool2d(o)
    if isinstance(o, ops.MaxPool2d):
        return nn.MaxPool2d(o.kernel, o.stride, o.padding, ceil_mode=o.ceil_mode)
    return nn.AvgPool2d(o.kernel, o.stride, o.padding, ceil_mode=o.ceil_mode, count_include_pad=o.count_include_pad)


@dataclass(frozen=True)
class ToTorch:
    """How a costlab op runs in torch: as a module of its own (module), or inside its container's forward (function)."""

    module: Optional[Callable[[Any], nn.Module]] = None
    function: Optional[Callable[..., torch.Tensor]] = None


TO_TORCH: dict[type, ToTorch] = {
    ops.Conv2d: ToTorch(lambda o: nn.Conv2d(o.cin, o.cout, o.kernel, o.stride, "same" if any(o.padding_end) else o.padding,
                                            o.dilation, o.groups, o.bias)),
    ops.Linear: ToTorch(lambda o: nn.Linear(o.fin, o.fout, o.bias)),
    ops.BatchNorm2d: ToTorch(lambda o: nn.BatchNorm2d(o.channels, affine=o.affine)),
    ops.Activation: ToTorch(lambda o: FunctionalActivation(o.function) if o.functional
                            else ACTIVATION_MODULES[o.function]()),
    ops.AdaptiveAvgPool2d: ToTorch(lambda o: FunctionalAdaptiveAvgPool2d() if o.functional else nn.AdaptiveAvgPool2d(1)),
    ops.SpatialMean: ToTorch(lambda o: SpatialMean(o.keepdim)),
    ops.MaxPool2d: ToTorch(_pool_module),
    ops.AvgPool2d: ToTorch(_pool_module),
    ops.Flatten: ToTorch(lambda o: nn.Flatten(1)),
    ops.ChannelShuffle: ToTorch(lambda o: nn.ChannelShuffle(o.groups)),
    ops.Pad: ToTorch(lambda o: nn.ZeroPad2d(o.amounts)),
    # written as operators, as torchvision writes them (ptflops patches torch.add and Tensor.mul, not these)
    ops.Add: ToTorch(function=lambda *xs: _sum(xs)),
    ops.Mul: ToTorch(function=lambda x, gate: x * _as_map(gate)),
    ops.Concat: ToTorch(function=lambda *xs: torch.cat(xs, 1)),
    ops.Split: ToTorch(function=lambda x: x),  # function_for binds the sizes: torch.split(x, sizes, 1)
}


def _as_map(gate: torch.Tensor) -> torch.Tensor:
    """A gate of Dense outputs (N, C) viewed as (N, C, 1, 1), as costlab's shapes see a vector; a map as it is."""
    return gate[:, :, None, None] if gate.dim() == 2 else gate


def _sum(xs):
    total = xs[0]
    for x in xs[1:]:
        total = total + x
    return total


def module_for(op: ops.AnyOp) -> nn.Module:
    """The nn.Module computing op (a leaf of a built network)."""
    entry = TO_TORCH[type(op)]
    if entry.module is None:
        raise TypeError(f"{type(op).__name__} runs inside its container's forward, not as a module")
    return entry.module(op)


def function_for(op: ops.AnyOp) -> Callable[..., torch.Tensor]:
    """The function computing op from tensors, for ops a container computes itself."""
    if isinstance(op, ops.Split):
        return lambda x: torch.split(x, list(op.sizes), 1)
    entry = TO_TORCH[type(op)]
    if entry.function is None:
        raise TypeError(f"{type(op).__name__} is a module of its own, not computed in a container's forward")
    return entry.function


# --- torch -> costlab: modules --------------------------------------------------------------------------------

def _padding(module: nn.Module) -> tuple[tuple[int, int], tuple[int, int]]:
    """(padding on every side, extra padding at the end) of a conv module."""
    if module.padding == "valid":
        return (0, 0), (0, 0)
    if module.padding == "same":
        k, d = tuple(module.kernel_size), tuple(module.dilation)
        return same_padding(k, d), same_padding_end(k, d)
    return tuple(module.padding), (0, 0)


def _conv(m: nn.Conv2d) -> ops.Conv2d:
    padding, end = _padding(m)
    return ops.Conv2d(m.in_channels, m.out_channels, tuple(m.kernel_size), tuple(m.stride), padding,
                      tuple(m.dilation), m.groups, m.bias is not None, end)


def _conv_nd(m) -> ops.ConvNd:
    return ops.ConvNd(m.in_channels, m.out_channels, tuple(m.kernel_size), m.groups, m.bias is not None,
                      m.transposed)


def _pair(v) -> tuple[int, int]:
    return (v, v) if isinstance(v, int) else tuple(v)


def _own_params(m: nn.Module) -> int:
    return sum(p.numel() for p in m.parameters(recurse=False))


def _batch_norm(m) -> ops.AnyOp:
    """nn.BatchNorm*d: the analytic 2-d op in eval with running statistics, else a Norm on the batch's statistics."""
    training = m.training or m.running_mean is None
    if isinstance(m, nn.BatchNorm2d) and not training:
        return ops.BatchNorm2d(m.num_features, m.affine)
    return ops.Norm("batch", m.affine, training, _own_params(m))


def _rank_pool(pool: str, adaptive: bool, rank: int):
    return lambda m: ops.Pool(pool, rank, adaptive)


FROM_TORCH: dict[type, Callable[[Any], ops.Op]] = {
    nn.Conv2d: _conv,
    nn.Conv1d: _conv_nd, nn.Conv3d: _conv_nd,
    nn.ConvTranspose1d: _conv_nd, nn.ConvTranspose2d: _conv_nd, nn.ConvTranspose3d: _conv_nd,
    nn.Linear: lambda m: ops.Linear(m.in_features, m.out_features, m.bias is not None),
    nn.BatchNorm1d: _batch_norm, nn.BatchNorm2d: _batch_norm, nn.BatchNorm3d: _batch_norm,
    nn.GroupNorm: lambda m: ops.Norm("group", m.affine, params=_own_params(m)),
    nn.LayerNorm: lambda m: ops.Norm("layer", m.elementwise_affine, params=_own_params(m)),
    **{cls: (lambda m: ops.Norm("instance", m.affine, params=_own_params(m)))
       for cls in (nn.InstanceNorm1d, nn.InstanceNorm2d, nn.InstanceNorm3d)},
    **{cls: (lambda m, name=name: ops.Activation(name)) for name, cls in ACTIVATION_MODULES.items()},
    nn.AdaptiveAvgPool2d: lambda m: ops.AdaptiveAvgPool2d(),
    FunctionalAdaptiveAvgPool2d: lambda m: ops.AdaptiveAvgPool2d(functional=True),
    SpatialMean: lambda m: ops.SpatialMean(m.keepdim),
    nn.MaxPool2d: lambda m: ops.MaxPool2d(_pair(m.kernel_size), _pair(m.stride), _pair(m.padding), m.ceil_mode),
    nn.AvgPool2d: lambda m: ops.AvgPool2d(_pair(m.kernel_size), _pair(m.stride), _pair(m.padding), m.ceil_mode,
                                          count_include_pad=m.count_include_pad),
    nn.MaxPool1d: _rank_pool("max", False, 1), nn.MaxPool3d: _rank_pool("max", False, 3),
    nn.AvgPool1d: _rank_pool("avg", False, 1), nn.AvgPool3d: _rank_pool("avg", False, 3),
    nn.AdaptiveAvgPool1d: _rank_pool("avg", True, 1), nn.AdaptiveAvgPool3d: _rank_pool("avg", True, 3),
    nn.AdaptiveMaxPool1d: _rank_pool("max", True, 1), nn.AdaptiveMaxPool2d: _rank_pool("max", True, 2),
    nn.AdaptiveMaxPool3d: _rank_pool("max", True, 3),
    FunctionalActivation: lambda m: ops.Activation(m.function, functional=True),
    FunctionalPool2d: lambda m: m.op,
    nn.ChannelShuffle: lambda m: ops.ChannelShuffle(m.groups),
    nn.ZeroPad2d: lambda m: ops.Pad(tuple(m.padding)),
    nn.Flatten: lambda m: ops.Flatten(),
}
# nn.Upsample is not here: its rank is its input's, which only its F.interpolate call tells (traced/functions.py)
# modules that compute nothing (in eval) and need not have an analytic row; by name where torch lacks the class
TRANSPARENT = frozenset({"Dropout", "Dropout1d", "Dropout2d", "Dropout3d", "AlphaDropout", "Identity",
                         "StochasticDepth", "Flatten", "DropPath"})


def op_of(module: nn.Module) -> Optional[ops.Op]:
    """The costlab op one call of module computes (its own op, for a subclass of a known module too); None if unknown."""
    for cls in type(module).__mro__:
        make = FROM_TORCH.get(cls)
        if make is not None:
            return make(module)
    return None


def is_subclass(module: nn.Module) -> bool:
    """A module whose op comes from a base class, not its own (timm's BatchNormAct2d, Conv2dSame, MaxPool2dSame):
    a tool hooking modules by their exact class (Convention.hooks_by_class) has no hook for it."""
    return type(module) not in FROM_TORCH and op_of(module) is not None


def is_transparent(module_class: str) -> bool:
    """A module that computes nothing and may have no row of its own (Dropout, Identity, StochasticDepth, Flatten)."""
    return module_class in TRANSPARENT


def price(op: ops.Op, in_dims: tuple[int, ...], out_dims: tuple[int, ...], convention: "str | Convention") -> Cost:
    """One call's params and MACs, batch included, through the op's own formula."""
    return op.cost((tuple(in_dims),), tuple(out_dims), convention)
