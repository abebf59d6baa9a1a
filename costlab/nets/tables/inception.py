"""GoogLeNet (Szegedy et al. 2015, Table 1) and Inception-v3 (Szegedy et al. 2016), torchvision 0.29's layouts.

Every conv is torchvision's BasicConv2d: conv (no bias) + BN + F.relu, the ReLU called in its forward (functional).
Each Inception module is one stage row whose `widths` are its branches' channels, in the order WIDTHS names them;
a module concatenates its branches' outputs along channels. The pools inside Inception-v3's modules are
F.avg_pool2d / F.max_pool2d calls (functional), GoogLeNet's are nn.MaxPool2d modules.

Parameters: costlab counts the network that runs in eval. torchvision builds both with auxiliary classifiers that
run only in training; GoogLeNet's recorded num_params (6,624,904) leaves its aux1/aux2 out, Inception-v3's
(27,161,264) holds its AuxLogits head (3,326,696 params: a 1x1 conv 768->128 + BN, a 5x5 conv 128->768 + BN and
an fc 768->1000), so costlab's Inception-v3 has 23,834,568 params, torchvision's model with aux_logits=False.
--alpha multiplies every channel count with int(c * alpha) (the fc's input follows the concatenations).
"""

from __future__ import annotations

from typing import Callable

from ...core.graph import Cell, Layer, Seq, branches, seq
from ...core.ops import AvgPool2d, MaxPool2d
from ..blocks import conv_bn_act
from ..model import Arch, Classifier, Stage
from ..stages import StageContext, StageError, StageKind, register
from .rules import INCEPTION_RULES


def basic_conv(name: str, cin: int, cout: int, kernel=1, stride: int = 1, padding=None) -> Seq:
    """torchvision's BasicConv2d: kh * kw * cin * cout weights + 2 * cout BatchNorm params; padding None is 'same'."""
    return conv_bn_act(name, cin, cout, kernel, stride, padding=padding, functional=True)


def chain(name: str, cin: int, *convs: tuple) -> Seq:
    """BasicConv2d's in a row, each (cout, kernel[, stride, padding]) reading the previous one's output."""
    parts = []
    for i, (cout, kernel, *rest) in enumerate(convs):
        parts.append(basic_conv(str(i), cin, cout, kernel, *rest))
        cin = cout
    return Seq(name, tuple(parts))


def pool_branch(cin: int, cout: int, pool) -> Seq:
    """A pool (stride 1, size kept) then a 1x1 BasicConv2d: cin * cout weights + 2 * cout."""
    return seq("branch_pool", Layer("pool", pool), basic_conv("conv", cin, cout))


def fork(name: str, cin: int, cout: int) -> Cell:
    """Inception-v3's InceptionE split: a 1x3 and a 3x1 BasicConv2d on the same input, concatenated (2 * cout out);
    3 * cin * cout weights each."""
    return branches(name, (basic_conv("a", cin, cout, (1, 3)), basic_conv("b", cin, cout, (3, 1))))


# the pools Inception-v3's modules call in their forward: 3x3 stride 1 average (size kept), 3x3 stride 2 max
AVG_3x3 = AvgPool2d((3, 3), (1, 1), (1, 1), functional=True)
MAX_3x3_STRIDE_2 = MaxPool2d((3, 3), (2, 2), (0, 0), functional=True)


def googlenet_inception(name: str, cin: int, w: tuple[int, ...]) -> tuple[Cell, int]:
    """GoogLeNet's module: 1x1 | 1x1 -> 3x3 | 1x1 -> 3x3 | max pool 3/1/1 (ceil_mode) -> 1x1; out = w0 + w2 + w4 + w5.
    The third branch's 3x3 is a 5x5 in the paper: torchvision keeps that known bug, and so does this table."""
    ch1x1, ch3x3red, ch3x3, ch5x5red, ch5x5, pool_proj = w
    parts = (
        basic_conv("branch1", cin, ch1x1),
        chain("branch2", cin, (ch3x3red, 1), (ch3x3, 3)),
        chain("branch3", cin, (ch5x5red, 1), (ch5x5, 3)),
        seq("branch4", Layer("pool", MaxPool2d((3, 3), (1, 1), (1, 1), ceil_mode=True)),
            basic_conv("conv", cin, pool_proj)),
    )
    return branches(name, parts), ch1x1 + ch3x3 + ch5x5 + pool_proj


def inception_a(name: str, cin: int, w: tuple[int, ...]) -> tuple[Cell, int]:
    """InceptionA (Mixed_5b-d): 1x1 | 1x1 -> 5x5 | 1x1 -> 3x3 -> 3x3 | avg pool -> 1x1; out = w0 + w2 + w4 + w5."""
    b1, r5, c5, r3, c3, pool = w
    parts = (
        basic_conv("branch1x1", cin, b1),
        chain("branch5x5", cin, (r5, 1), (c5, 5)),
        chain("branch3x3dbl", cin, (r3, 1), (c3, 3), (c3, 3)),
        pool_branch(cin, pool, AVG_3x3),
    )
    return branches(name, parts), b1 + c5 + c3 + pool


def inception_b(name: str, cin: int, w: tuple[int, ...]) -> tuple[Cell, int]:
    """InceptionB (Mixed_6a), halving the size: 3x3/2 | 1x1 -> 3x3 -> 3x3/2 | max pool 3/2; out = w0 + w2 + cin."""
    c3, r3dbl, c3dbl = w
    parts = (
        chain("branch3x3", cin, (c3, 3, 2, 0)),
        chain("branch3x3dbl", cin, (r3dbl, 1), (c3dbl, 3), (c3dbl, 3, 2, 0)),
        Layer("branch_pool", MAX_3x3_STRIDE_2),
    )
    return branches(name, parts), c3 + c3dbl + cin


def inception_c(name: str, cin: int, w: tuple[int, ...]) -> tuple[Cell, int]:
    """InceptionC (Mixed_6b-e), 7x7s factorised: 1x1 | 1x1 -> 1x7 -> 7x1 | 1x1 -> 7x1 -> 1x7 -> 7x1 -> 1x7 |
    avg pool -> 1x1; a 1x7 and a 7x1 conv c -> c' hold 7 * c * c' weights each; out = w0 + w2 + w4 + w5."""
    b1, r7, c7, r7dbl, c7dbl, pool = w
    parts = (
        basic_conv("branch1x1", cin, b1),
        chain("branch7x7", cin, (r7, 1), (r7, (1, 7)), (c7, (7, 1))),
        chain("branch7x7dbl", cin, (r7dbl, 1), (r7dbl, (7, 1)), (r7dbl, (1, 7)), (r7dbl, (7, 1)), (c7dbl, (1, 7))),
        pool_branch(cin, pool, AVG_3x3),
    )
    return branches(name, parts), b1 + c7 + c7dbl + pool


def inception_d(name: str, cin: int, w: tuple[int, ...]) -> tuple[Cell, int]:
    """InceptionD (Mixed_7a), halving the size: 1x1 -> 3x3/2 | 1x1 -> 1x7 -> 7x1 -> 3x3/2 | max pool 3/2;
    out = w1 + w3 + cin."""
    r3, c3, r7, c7 = w
    parts = (
        chain("branch3x3", cin, (r3, 1), (c3, 3, 2, 0)),
        chain("branch7x7x3", cin, (r7, 1), (r7, (1, 7)), (r7, (7, 1)), (c7, 3, 2, 0)),
        Layer("branch_pool", MAX_3x3_STRIDE_2),
    )
    return branches(name, parts), c3 + c7 + cin


def inception_e(name: str, cin: int, w: tuple[int, ...]) -> tuple[Cell, int]:
    """InceptionE (Mixed_7b-c): 1x1 | 1x1 -> (1x3, 3x1) | 1x1 -> 3x3 -> (1x3, 3x1) | avg pool -> 1x1, each fork
    concatenating its two convs; out = w0 + 2 * w2 + 2 * w4 + w5."""
    b1, r3, c3, r3dbl, c3dbl, pool = w
    parts = (
        basic_conv("branch1x1", cin, b1),
        seq("branch3x3", basic_conv("0", cin, r3), fork("1", r3, c3)),
        seq("branch3x3dbl", basic_conv("0", cin, r3dbl), basic_conv("1", r3dbl, c3dbl, 3), fork("2", c3dbl, c3dbl)),
        pool_branch(cin, pool, AVG_3x3),
    )
    return branches(name, parts), b1 + 2 * c3 + 2 * c3dbl + pool


# block kind: (builder, the names of its widths in order, how much it divides the input's height and width)
WIDTHS: dict[str, tuple[Callable, tuple[str, ...], int]] = {
    "inception": (googlenet_inception, ("ch1x1", "ch3x3red", "ch3x3", "ch5x5red", "ch5x5", "pool_proj"), 1),
    "inception_a": (inception_a, ("1x1", "5x5red", "5x5", "3x3dbl_red", "3x3dbl", "pool"), 1),
    "inception_b": (inception_b, ("3x3", "3x3dbl_red", "3x3dbl"), 2),
    "inception_c": (inception_c, ("1x1", "7x7red", "7x7", "7x7dbl_red", "7x7dbl", "pool"), 1),
    "inception_d": (inception_d, ("3x3red", "3x3", "7x7x3_red", "7x7x3"), 2),
    "inception_e": (inception_e, ("1x1", "3x3red", "3x3", "3x3dbl_red", "3x3dbl", "pool"), 1),
}


def _kind(block: str) -> StageKind:
    build_block, names, stride = WIDTHS[block]

    def build(ctx: StageContext) -> tuple[Cell, int]:
        widths = ctx.stage.widths
        if len(widths) != len(names):
            raise StageError(f"a {block!r} block takes {len(names)} widths ({', '.join(names)}), got {len(widths)}",
                             "widths")
        scaled = tuple(ctx.rules.channels(c, ctx.width) for c in widths)
        if min(scaled) < 1:
            raise StageError(f"width {ctx.width:g} leaves a branch with no channels (widths {list(widths)} become "
                             f"{list(scaled)})", "widths")
        return build_block(f"stage{ctx.index}", ctx.cin, scaled)

    return StageKind(("widths",), build, stride=lambda stage: stride, has_channels=False)


for _block in WIDTHS:
    register(_block, _kind(_block))


def _basic(channels: int, kernel: int = 3, stride: int = 1, padding: int = 0) -> Stage:
    """A BasicConv2d stage row (torchvision's default padding 0)."""
    return Stage("conv", channels, stride=stride, kernel=kernel, padding=padding, functional=True)


def _max_pool(kernel: int, ceil: bool) -> Stage:
    """An nn.MaxPool2d stage row: stride 2, no padding; ceil_mode rounds the output size up (GoogLeNet)."""
    return Stage("maxpool", kernel=kernel, stride=2, ceil=ceil)


# ---- GoogLeNet (Szegedy et al. 2015, Table 1; torchvision's layout) ---------------------------------------------
# an inception row's widths, Table 1's columns: #1x1, #3x3 reduce, #3x3, #5x5 reduce, #5x5 (a 3x3 here), pool proj
GOOGLENET = (
    _basic(64, kernel=7, stride=2, padding=3),                      # conv1
    _max_pool(3, ceil=True),                                         # maxpool1
    _basic(64, kernel=1),                                            # conv2
    _basic(192, kernel=3, padding=1),                                # conv3
    _max_pool(3, ceil=True),                                         # maxpool2
    Stage("inception", widths=(64, 96, 128, 16, 32, 32)),           # inception3a
    Stage("inception", widths=(128, 128, 192, 32, 96, 64)),         # inception3b
    _max_pool(3, ceil=True),                                         # maxpool3
    Stage("inception", widths=(192, 96, 208, 16, 48, 64)),          # inception4a
    Stage("inception", widths=(160, 112, 224, 24, 64, 64)),         # inception4b
    Stage("inception", widths=(128, 128, 256, 24, 64, 64)),         # inception4c
    Stage("inception", widths=(112, 144, 288, 32, 64, 64)),         # inception4d
    Stage("inception", widths=(256, 160, 320, 32, 128, 128)),       # inception4e
    _max_pool(2, ceil=True),                                         # maxpool4
    Stage("inception", widths=(256, 160, 320, 32, 128, 128)),       # inception5a
    Stage("inception", widths=(384, 192, 384, 48, 128, 128)),       # inception5b
)

# ---- Inception-v3 (Szegedy et al. 2016, Table 1 and Figures 5-7; torchvision's layout) --------------------------
# each module row's widths in the order WIDTHS names them
INCEPTION_V3 = (
    _basic(32, stride=2),                                            # Conv2d_1a_3x3
    _basic(32),                                                      # Conv2d_2a_3x3
    _basic(64, padding=1),                                           # Conv2d_2b_3x3
    _max_pool(3, ceil=False),                                        # maxpool1
    _basic(80, kernel=1),                                            # Conv2d_3b_1x1
    _basic(192),                                                     # Conv2d_4a_3x3
    _max_pool(3, ceil=False),                                        # maxpool2
    Stage("inception_a", widths=(64, 48, 64, 64, 96, 32)),          # Mixed_5b
    Stage("inception_a", widths=(64, 48, 64, 64, 96, 64)),          # Mixed_5c
    Stage("inception_a", widths=(64, 48, 64, 64, 96, 64)),          # Mixed_5d
    Stage("inception_b", widths=(384, 64, 96)),                     # Mixed_6a
    Stage("inception_c", widths=(192, 128, 192, 128, 192, 192)),    # Mixed_6b
    Stage("inception_c", widths=(192, 160, 192, 160, 192, 192)),    # Mixed_6c
    Stage("inception_c", widths=(192, 160, 192, 160, 192, 192)),    # Mixed_6d
    Stage("inception_c", widths=(192, 192, 192, 192, 192, 192)),    # Mixed_6e
    Stage("inception_d", widths=(192, 320, 192, 192)),              # Mixed_7a
    Stage("inception_e", widths=(320, 384, 384, 448, 384, 192)),    # Mixed_7b
    Stage("inception_e", widths=(320, 384, 384, 448, 384, 192)),    # Mixed_7c
)

ARCHS = (
    Arch("googlenet", "googlenet", 224, None, GOOGLENET, classifier=Classifier(), rules=INCEPTION_RULES),
    Arch("inception_v3", "inception_v3", 299, None, INCEPTION_V3, classifier=Classifier(), rules=INCEPTION_RULES),
)
