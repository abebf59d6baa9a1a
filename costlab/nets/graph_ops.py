"""The ops a graph block's node may name: the keys each takes, how many inputs, and the graph node it becomes.

A node's integer keys arrive evaluated (nets/expr.py); its input channels come from the nodes it reads, so a node
never states them. conv, sepconv and dwconv run their parts in `order` (conv-bn-act by default; NASNet's act-conv-bn,
DenseNet's bn-act-conv), each part present only when asked for (bn = true, act = "relu").
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any, Callable, Optional

from ..core.checks import MAX_CHANNELS, MAX_KERNEL, nonnegative_int, positive_int
from ..core.graph import Identity, Layer, Node, Seq
from ..core.ops import (Activation, AdaptiveAvgPool2d, Add, AnyOp, AvgPool2d, BatchNorm2d, ChannelShuffle, Concat,
                        MaxPool2d, Mul, Pad, Split)
from ..core.shapes import as_pair
from ..core.vocab import ACTIVATIONS
from ..errors import CostlabError, require
from .blocks import conv, squeeze_excitation

INT, PAIR, BOOL, ACT, ORDER, INTS, PADS = ("an integer or an expression", "an integer, an expression or a pair of them",
                                          "true or false", "an activation name", "a text like \"act-conv-bn\"",
                                          "a list of integers or expressions", "four integers")
KEY_TYPES = {"channels": INT, "kernel": PAIR, "stride": INT, "padding": PAIR, "dilation": INT, "groups": INT,
             "bias": BOOL, "bn": BOOL, "act": ACT, "order": ORDER, "ceil": BOOL, "count_include_pad": BOOL,
             "gate": ACT, "sizes": INTS, "pad": PADS}
TEXT_KEYS = ("act", "gate", "order")  # keys holding words, never expressions
ORDERS = {"-".join(p) for p in itertools.permutations(("conv", "bn", "act"))}


@dataclass(frozen=True)
class OpSpec:
    """A node op: the keys it takes (required ones first listed in required), its inputs (most None: any number),
    whether the graph holds it as a join of its own (a Wire op) rather than a child node, and its builder:
    (node name, input channels, evaluated keys) -> (graph node or op, output channels; a tuple for a split)."""

    keys: tuple[str, ...]
    required: tuple[str, ...]
    least: int
    most: Optional[int]
    build: Callable[[str, tuple, dict], tuple[Any, Any]]
    join: bool = False


def _positive(v: dict, key: str, limit: int, default: int = 1) -> int:
    return positive_int(v.get(key, default), key, limit)


def _pair_value(v: dict, key: str, low: int) -> tuple[int, int]:
    pair = as_pair(v[key], key)
    for x in pair:
        (positive_int if low else nonnegative_int)(x, key, MAX_KERNEL)
    return pair


class NodeError(CostlabError):
    """A node's key whose value the op cannot take; key names it."""

    def __init__(self, message: str, key: Optional[str] = None) -> None:
        super().__init__(message)
        self.key = key


def _checked(key: Optional[str], make: Callable[[], Any]) -> Any:
    try:
        return make()
    except NodeError:
        raise
    except CostlabError as exc:
        raise NodeError(str(exc), key) from None


def _conv_like(kind: str) -> Callable[[str, tuple, dict], tuple[Node, int]]:
    """conv: a kxk conv (groups); sepconv: a kxk depthwise (no bias) then a 1x1 pointwise (bias), Keras' and NASNet's
    SeparableConv2D; dwconv: a kxk conv with groups = input channels (channels a multiple of them, default equal).
    params: k^2*cin*cout/groups (conv), k^2*cin + cin*cout (sepconv), k^2*cout (dwconv), + biases, + 2 per BN channel;
    MACs: the weights (biases and BN aside) times the output positions."""

    def build(name: str, cins: tuple, v: dict) -> tuple[Node, int]:
        (cin,) = cins
        kernel = _checked("kernel", lambda: _pair_value(v, "kernel", 1))
        stride = _checked("stride", lambda: _positive(v, "stride", MAX_KERNEL))
        dilation = _checked("dilation", lambda: _positive(v, "dilation", MAX_KERNEL))
        padding = _checked("padding", lambda: _pair_value(v, "padding", 0)) if "padding" in v else None
        cout = _checked("channels", lambda: _positive(v, "channels", MAX_CHANNELS, cin))
        bias = v.get("bias", False)
        if kind == "dwconv" and cout % cin:
            raise NodeError(f"a depthwise conv's channels must be a multiple of its input's {cin}, got {cout}",
                            "channels")
        if kind == "conv":
            groups = _checked("groups", lambda: _positive(v, "groups", MAX_CHANNELS))
        else:  # the depthwise part of a sepconv is checked as its own conv
            groups = cin if kind == "dwconv" else 1
        if cin % groups or cout % groups:
            raise NodeError(f"groups {groups} must divide the input's {cin} channels and the output's {cout}",
                            "groups")
        if kind == "sepconv":
            main = _checked("kernel", lambda: [conv("dw", cin, cin, kernel, stride, cin, False, padding, dilation),
                                               conv("pw", cin, cout, 1, 1, 1, bias)])
        else:
            main = _checked("kernel", lambda: [conv("conv", cin, cout, kernel, stride, groups, bias, padding,
                                                    dilation)])
        parts: list[Node] = []
        convolved = False  # a BN before the conv normalises the input's channels, after it the output's
        for part in v.get("order", "conv-bn-act").split("-"):
            if part == "conv":
                parts += main
                convolved = True
            elif part == "bn" and v.get("bn", False):
                parts.append(Layer("bn", BatchNorm2d(cout if convolved else cin)))
            elif part == "act" and v.get("act"):
                parts.append(Layer("act", Activation(v["act"])))
        if len(parts) == 1:
            return Layer(name, parts[0].op), cout
        return Seq(name, tuple(parts)), cout

    return build


def _pool(cls: type) -> Callable[[str, tuple, dict], tuple[Layer, int]]:
    """A kxk max or average pool (stride, padding default (k - 1) // 2, ceil_mode): channels kept, no params."""

    def build(name: str, cins: tuple, v: dict) -> tuple[Layer, int]:
        kernel = _checked("kernel", lambda: _pair_value(v, "kernel", 1))
        stride = _checked("stride", lambda: _positive(v, "stride", MAX_KERNEL))
        padding = (_checked("padding", lambda: _pair_value(v, "padding", 0)) if "padding" in v
                   else tuple((k - 1) // 2 for k in kernel))
        extra = {"count_include_pad": v.get("count_include_pad", True)} if cls is AvgPool2d else {}
        op = _checked("padding", lambda: cls(kernel, stride, padding, ceil_mode=v.get("ceil", False), **extra))
        return Layer(name, op), cins[0]

    return build


def _layer(make: Callable[[tuple, dict], AnyOp], key: Optional[str] = None):
    """A one-op node keeping its input's channels."""
    return lambda name, cins, v: (Layer(name, _checked(key, lambda: make(cins, v))), cins[0])


def _se(name: str, cins: tuple, v: dict) -> tuple[Node, int]:
    """x * gate(conv1x1(act(conv1x1(avgpool(x))))): squeeze to `channels`, 2*C*S + C + S params (blocks.py)."""
    squeeze = _checked("channels", lambda: _positive(v, "channels", MAX_CHANNELS))
    return squeeze_excitation(name, cins[0], squeeze, v.get("act", "relu"), v.get("gate", "sigmoid")), cins[0]


def _split(name: str, cins: tuple, v: dict) -> tuple[AnyOp, tuple[int, ...]]:
    """torch.split along channels into `sizes`, which add up to the input's channels; read part i as 'name:i'."""
    sizes = tuple(_checked("sizes", lambda s=s: positive_int(s, "sizes", MAX_CHANNELS)) for s in v["sizes"])
    if sum(sizes) != cins[0]:
        raise NodeError(f"sizes {list(sizes)} add up to {sum(sizes)}, but the input has {cins[0]} channels", "sizes")
    return Split(sizes), sizes


def _concat(name: str, cins: tuple, v: dict) -> tuple[AnyOp, int]:
    """Channel concatenation: C1 + C2 + ... channels."""
    return Concat(), sum(cins)


def _sum(name: str, cins: tuple, v: dict) -> tuple[AnyOp, int]:
    """Elementwise sum of equal shapes."""
    if len(set(cins)) != 1:
        raise NodeError(f"a sum needs equal channels, its inputs have {', '.join(map(str, cins))}", "inputs")
    return Add(), cins[0]


def _multiply(name: str, cins: tuple, v: dict) -> tuple[AnyOp, int]:
    """x * gate, the gate C x 1 x 1 (squeeze-excitation's rescale)."""
    if cins[0] != cins[1]:
        raise NodeError(f"a multiply needs a gate of its map's {cins[0]} channels, got {cins[1]}", "inputs")
    return Mul(), cins[0]


def _shuffle(cins: tuple, v: dict) -> ChannelShuffle:
    groups = positive_int(v["groups"], "groups", MAX_CHANNELS)
    require(cins[0] % groups == 0, f"groups {groups} must divide the input's {cins[0]} channels")
    return ChannelShuffle(groups)


CONV_KEYS = ("channels", "kernel", "stride", "padding", "dilation", "bias", "bn", "act", "order")
OPS: dict[str, OpSpec] = {
    "conv": OpSpec(CONV_KEYS + ("groups",), ("channels", "kernel"), 1, 1, _conv_like("conv")),
    "sepconv": OpSpec(CONV_KEYS, ("channels", "kernel"), 1, 1, _conv_like("sepconv")),
    "dwconv": OpSpec(CONV_KEYS, ("kernel",), 1, 1, _conv_like("dwconv")),
    "maxpool": OpSpec(("kernel", "stride", "padding", "ceil"), ("kernel",), 1, 1, _pool(MaxPool2d)),
    "avgpool": OpSpec(("kernel", "stride", "padding", "ceil", "count_include_pad"), ("kernel",), 1, 1,
                      _pool(AvgPool2d)),
    "gap": OpSpec((), (), 1, 1, _layer(lambda cins, v: AdaptiveAvgPool2d())),
    "bn": OpSpec((), (), 1, 1, _layer(lambda cins, v: BatchNorm2d(cins[0]))),
    "act": OpSpec(("act",), ("act",), 1, 1, _layer(lambda cins, v: Activation(v["act"]), "act")),
    "pad": OpSpec(("pad",), ("pad",), 1, 1, _layer(lambda cins, v: Pad(tuple(v["pad"])), "pad")),
    "shuffle": OpSpec(("groups",), ("groups",), 1, 1, _layer(_shuffle, "groups")),
    "identity": OpSpec((), (), 1, 1, lambda name, cins, v: (Identity(name), cins[0])),
    "se": OpSpec(("channels", "act", "gate"), ("channels",), 1, 1, _se),
    "split": OpSpec(("sizes",), ("sizes",), 1, 1, _split, join=True),
    "concat": OpSpec((), (), 2, None, _concat, join=True),
    "sum": OpSpec((), (), 2, None, _sum, join=True),
    "multiply": OpSpec((), (), 2, 2, _multiply, join=True),
}
WINDOWED = ("conv", "sepconv", "dwconv", "maxpool", "avgpool")  # the ops a stride applies to


def check_value(key: str, value: Any) -> Optional[str]:
    """None when value has the type KEY_TYPES names for key, else what it must be."""
    kind = KEY_TYPES[key]
    def scalar(x: Any) -> bool:  # an integer or an expression
        return (isinstance(x, int) and not isinstance(x, bool)) or isinstance(x, str)

    listed = isinstance(value, (list, tuple))
    ok = {
        INT: scalar(value),
        PAIR: scalar(value) or (listed and len(value) == 2 and all(scalar(x) for x in value)),
        BOOL: isinstance(value, bool),
        ACT: isinstance(value, str) and value in ACTIVATIONS,
        ORDER: isinstance(value, str) and value in ORDERS,
        INTS: listed and len(value) >= 1 and all(scalar(x) for x in value),
        PADS: isinstance(value, (list, tuple)) and len(value) == 4
              and all(isinstance(x, int) and not isinstance(x, bool) and abs(x) <= MAX_KERNEL for x in value),
    }[kind]
    if ok:
        return None
    if kind == ACT:
        return f"must be one of {', '.join(ACTIVATIONS)}, got {value!r}"
    if kind == ORDER:
        return f"must name conv, bn and act once each, joined by '-' (as \"act-conv-bn\"), got {value!r}"
    return f"must be {kind}, got {value!r}"
