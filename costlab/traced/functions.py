"""The torch functions costlab prices, and the op each call is: the second half of the torch -> costlab bridge.

Every nn.Module computes through these functions (nn.Conv2d calls F.conv2d, nn.Linear F.linear), so pricing
the call prices any model, functional code and module subclasses included. Each entry takes the call's
arguments and result and gives a Call: the costlab op, the dims it prices, and whether costlab disagrees with a
tool there on purpose.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Optional

import torch
import torch.nn.functional as F

from ..core import ops
from ..core.ops import Dims


@dataclass(frozen=True)
class Call:
    """One priced function call: its op, the dims of the inputs the op prices and of the output."""

    op: ops.Op
    ins: tuple[Dims, ...]
    out: Dims
    disagreement: str = ""  # a key of Convention.disagreements, when a tool counts this call differently


def _dims(t) -> Dims:
    return tuple(int(d) for d in t.shape)


def _arg(args: tuple, kwargs: dict, index: int, name: str, default=None):
    if len(args) > index:
        return args[index]
    return kwargs.get(name, default)


def _conv(args, kwargs, out) -> Call:
    x, w = args[0], _arg(args, kwargs, 1, "weight")
    groups = int(_arg(args, kwargs, 6, "groups", 1))
    padding = _arg(args, kwargs, 4, "padding", 0)
    op = ops.ConvNd(int(x.shape[1]), int(w.shape[0]), tuple(int(k) for k in w.shape[2:]), groups,
                    _arg(args, kwargs, 2, "bias") is not None)
    return Call(op, (_dims(x),), _dims(out), "conv.string_padding" if isinstance(padding, str) else "")


def _conv_transpose(args, kwargs, out) -> Call:
    x, w = args[0], _arg(args, kwargs, 1, "weight")
    groups = int(_arg(args, kwargs, 6, "groups", 1))
    op = ops.ConvNd(int(x.shape[1]), int(w.shape[1]) * groups, tuple(int(k) for k in w.shape[2:]), groups,
                    _arg(args, kwargs, 2, "bias") is not None, transposed=True)
    return Call(op, (_dims(x),), _dims(out))


def _linear(args, kwargs, out) -> Call:
    x, w = args[0], _arg(args, kwargs, 1, "weight")
    op = ops.Linear(int(w.shape[1]), int(w.shape[0]), _arg(args, kwargs, 2, "bias") is not None)
    return Call(op, (_dims(x),), _dims(out))


def _product(form: str, first: int) -> Callable:
    """A matmul form whose two factors are the arguments first and first + 1."""
    def make(args, kwargs, out) -> Call:
        return Call(ops.MatMul(form), (_dims(args[first]), _dims(args[first + 1])), _dims(out))
    return make


def _einsum(args, kwargs, out) -> Call:
    operands = args[1] if len(args) == 2 and isinstance(args[1], (list, tuple)) else args[1:]
    return Call(ops.Einsum(args[0]), tuple(_dims(t) for t in operands), _dims(out))


def _attention(args, kwargs, out) -> Call:
    q, k, v = args[0], _arg(args, kwargs, 1, "key"), _arg(args, kwargs, 2, "value")
    return Call(ops.Attention(), (_dims(q), _dims(k), _dims(v)), _dims(out))


def _norm(norm: str, weight_index: int, training: Callable[[tuple, dict], bool]) -> Callable:
    def make(args, kwargs, out) -> Call:
        names = {1: "running_mean", 2: "weight", 3: "weight"}
        affine = _arg(args, kwargs, weight_index, names.get(weight_index, "weight")) is not None
        return Call(ops.Norm(norm, affine, training(args, kwargs)), (_dims(args[0]),), _dims(out))
    return make


def _interpolate(args, kwargs, out) -> Call:
    mode = _arg(args, kwargs, 3, "mode", "nearest")
    return Call(ops.Upsample(mode, args[0].dim() - 2), (_dims(args[0]),), _dims(out))


def _pool(pool: str, rank: int, adaptive: bool) -> Callable:
    def make(args, kwargs, out) -> Call:
        result = out[0] if isinstance(out, tuple) else out  # the *_with_indices forms return (values, indices)
        if rank == 2 and not adaptive:
            op = ops.MaxPool2d(1, 1, 0) if pool == "max" else ops.AvgPool2d(1, 1, 0)
        elif rank == 2 and pool == "avg":
            op = ops.AdaptiveAvgPool2d()
        else:
            op = ops.Pool(pool, rank, adaptive)
        return Call(op, (_dims(args[0]),), _dims(result))
    return make


def _activation(name: str) -> Callable:
    def make(args, kwargs, out) -> Call:
        return Call(ops.Activation(name), (_dims(args[0]),), _dims(out))
    return make


def _grid_sample(args, kwargs, out) -> Call:
    return Call(ops.GridSample(), (_dims(args[0]), _dims(_arg(args, kwargs, 1, "grid"))), _dims(out))


_ACTIVATION_FUNCTIONS = {
    "relu": (F.relu, F.relu_, torch.relu, torch.relu_, torch.Tensor.relu, torch.Tensor.relu_),
    "relu6": (F.relu6,),
    "hardtanh": (F.hardtanh, F.hardtanh_),
    "silu": (F.silu,),
    "sigmoid": (torch.sigmoid, torch.Tensor.sigmoid, torch.Tensor.sigmoid_, F.sigmoid),
    "hardswish": (F.hardswish,),
    "hardsigmoid": (F.hardsigmoid,),
    "gelu": (F.gelu,),
    "tanh": (torch.tanh, torch.Tensor.tanh, F.tanh),
    "leaky_relu": (F.leaky_relu, F.leaky_relu_),
    "elu": (F.elu, F.elu_),
    "mish": (F.mish,),
    "softplus": (F.softplus,),
}

FROM_FUNCTION: dict[Any, Callable[[tuple, dict, Any], Call]] = {
    **{f: _conv for f in (F.conv1d, F.conv2d, F.conv3d)},
    **{f: _conv_transpose for f in (F.conv_transpose1d, F.conv_transpose2d, F.conv_transpose3d)},
    F.linear: _linear,
    **{f: _product("matmul", 0) for f in (torch.matmul, torch.Tensor.matmul, torch.Tensor.__matmul__)},
    **{f: _product("mm", 0) for f in (torch.mm, torch.Tensor.mm)},
    **{f: _product("bmm", 0) for f in (torch.bmm, torch.Tensor.bmm)},
    **{f: _product("addmm", 1) for f in (torch.addmm, torch.Tensor.addmm)},
    **{f: _product("baddbmm", 1) for f in (torch.baddbmm, torch.Tensor.baddbmm)},
    torch.einsum: _einsum,
    F.scaled_dot_product_attention: _attention,
    F.batch_norm: _norm("batch", 3, lambda a, k: bool(_arg(a, k, 5, "training", False)) or _arg(a, k, 1, "running_mean") is None),
    F.group_norm: _norm("group", 2, lambda a, k: False),
    F.layer_norm: _norm("layer", 2, lambda a, k: False),
    F.instance_norm: _norm("instance", 3, lambda a, k: False),
    F.interpolate: _interpolate,
    F.grid_sample: _grid_sample,
    **{getattr(F, f"{'adaptive_' if adaptive else ''}{pool}_pool{rank}d"): _pool(pool, rank, adaptive)
       for pool in ("avg", "max") for rank in (1, 2, 3) for adaptive in (False, True)},
    **{getattr(F, f"{'adaptive_' if adaptive else ''}max_pool{rank}d_with_indices"): _pool("max", rank, adaptive)
       for rank in (1, 2, 3) for adaptive in (False, True)},
    **{f: _activation(name) for name, functions in _ACTIVATION_FUNCTIONS.items() for f in functions},
}

# Python functions that compute only through functions priced above: a tracer looks inside them (their F.linear and
# F.scaled_dot_product_attention calls are priced each as itself) instead of seeing one unpriced call
SEE_THROUGH = frozenset({F.multi_head_attention_forward})


def call_of(func, args: tuple, kwargs: dict, out, module_op: Optional[ops.Op]) -> Optional[Call]:
    """The Call one torch function call is, as the module running it computes it: inside its own module (F.conv2d in
    nn.Conv2d, F.hardtanh in nn.ReLU6) the module's op; elsewhere the function's op, marked functional."""
    make = FROM_FUNCTION.get(func)
    if make is None:
        return None
    call = make(args, kwargs, out)
    if module_op is not None and (type(module_op) is type(call.op) or module_op.key == call.op.key):
        if type(module_op) is type(call.op):
            return Call(module_op, call.ins, call.out, call.disagreement)
        return call
    if hasattr(call.op, "functional"):
        from dataclasses import replace

        return Call(replace(call.op, functional=True), call.ins, call.out, call.disagreement)
    return call


# --- functions that compute no MACs under any convention but move memory: priced for latency only ---------------

def tensor_args(args: tuple) -> tuple:
    """The tensors among a call's arguments, one level of lists unpacked (torch.cat([a, b], 1))."""
    out = []
    for a in args:
        items = a if isinstance(a, (list, tuple)) else (a,)
        out.extend(t for t in items if isinstance(t, torch.Tensor))
    return tuple(out)


def _moving(make_op: Callable[[], ops.Op]) -> Callable:
    def make(args, kwargs, out) -> Call:
        return Call(make_op(), tuple(_dims(t) for t in tensor_args(args)), _dims(out))
    return make


# x + y, out += identity, scale * x (torch's operators reach these methods), torch.cat, x.mean, and the copy
# .contiguous() makes of a transposed tensor (ShuffleNet's channel shuffle). Not in FROM_FUNCTION: no counting
# convention prices them per call as written here (ptflops counts torch.add, not x + y), so MAC counts stay as
# they are; traced.timeline prices them for the roofline, which charges the bytes they move.
MOVING_FUNCTIONS: dict[Any, Callable[[tuple, dict, Any], Call]] = {
    **{f: _moving(ops.Add) for f in (torch.add, torch.Tensor.add, torch.Tensor.add_, torch.sub, torch.Tensor.sub,
                                      torch.Tensor.sub_)},
    **{f: _moving(ops.Mul) for f in (torch.mul, torch.Tensor.mul, torch.Tensor.mul_, torch.div, torch.Tensor.div,
                                      torch.Tensor.div_)},
    **{f: _moving(ops.Concat) for f in (torch.cat, torch.concat)},
    **{f: _moving(ops.SpatialMean) for f in (torch.mean, torch.Tensor.mean)},
    torch.Tensor.contiguous: _moving(lambda: ops.ChannelShuffle(1)),
}
