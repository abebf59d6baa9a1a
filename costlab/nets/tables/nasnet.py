"""NASNet-A (Zoph et al. 2018, "Learning Transferable Architectures for Scalable Image Recognition") in the paper's
cell form: each cell a graph block of named nodes (nets/graph_block.py, the machinery of a TOML file's [blocks]),
written as timm 1.0.31's nasnet.py runs them, node for module and in its forward's order.

A cell reads the previous two cells' outputs: x (the last) and x_prev (the one before). It first brings both to
its width F (`channels`): x by ReLU-1x1 conv-BN, x_prev likewise or, when x_prev is twice x's size (the first cell
after a reduction), by the factorized reduction: ReLU, then two paths, a stride-2 1x1 average pool then a 1x1 conv
to F/2, the second path first shifted by one pixel (ZeroPad2d((-1, 1, -1, 1))), concatenated and normalised. Five
combinations of two ops each (separable 3x3/5x5/7x7 convs, 3x3 pools, identities) are summed pairwise and
concatenated: a normal cell keeps the size and returns 6F channels (x_prev's F with the five sums), a reduction cell
halves it and returns 4F. "Separable" is BranchSeparables: ReLU-sep-BN twice, the first at the cell's stride.

NASNet-A N@P: N cells per stack (a first cell and N - 1 normal ones), F = P / 24 in the first stack, doubled after
each of the two reduction cells; the ImageNet stem is a 3x3 stride-2 conv and two reduction cells (stem 0 on the
conv's output alone, stem 1 on it and stem 0's) at F/4 and F/2. Mobile: NASNet-A 4@1056 at 224, stem 32 channels
(Table 2: 5.3M params, 564M mult-adds); Large: 6@4032 at 331, stem 96 (timm's nasnetalarge). TensorFlow's configs
differ in one wire: after a reduction cell the Large model's next cell reads the cell before the reduction's input
again (skip_reduction_layer_input = 1, timm's forward), the Mobile one the reduction's input (0); the counts do not
depend on it. The stride-2 ops pad (k - 1) // 2 on each side where timm pads TensorFlow's 'SAME' (asymmetric on an
even input): every output size, and so every count, is the same, and on odd inputs the same numbers (timm's stride-2
average pools pad with zeros before pooling, so those zeros count here too). --alpha scales every width,
int(c * alpha); --depth the normal cells per stack (N - 1, ceil(x depth)), every other cell staying one.
"""

from __future__ import annotations

from ..graph_block import GraphBlock, GraphNode, node
from ..model import Arch, Classifier, Stage
from ..stages import register
from .rules import NASNET_RULES


def relu_conv_bn(name: str, source: str) -> GraphNode:
    """timm's ActConvBn: ReLU, 1x1 conv to F (no bias), BN: cin * F + 2F params."""
    return node(name, "conv", source, channels="channels", kernel=1, bn=True, act="relu", order="act-conv-bn")


def separables(name: str, source: str, kernel: int, stride: int = 1) -> tuple[GraphNode, ...]:
    """BranchSeparables: ReLU, separable kxk (stride) to F, BN, ReLU, separable kxk to F, BN; each separable a
    depthwise kxk then a pointwise 1x1, no bias: k^2 * cin + cin * F + 2F + k^2 * F + F^2 + 2F params."""
    sep = dict(channels="channels", kernel=kernel, bn=True, act="relu", order="act-conv-bn")
    return (node(f"{name}_1", "sepconv", source, stride=stride, **sep),
            node(f"{name}_2", "sepconv", f"{name}_1", **sep))


def factorized_reduction(source: str) -> tuple[GraphNode, ...]:
    """The path that halves x_prev to F channels: ReLU; path 1 a 1x1 stride-2 average pool and a 1x1 conv to F // 2;
    path 2 the same after a one-pixel shift, to the other F - F // 2; concatenated, BN: cin x F + 2F params. timm
    gives both paths F // 2, the same for every F of its nets (all even); an odd F, as --alpha's int(F x alpha) gives,
    would concatenate to F - 1 there and fail the cell's sums."""
    pool = dict(kernel=1, stride=2, padding=0, count_include_pad=False)
    return (node("act", "act", source, act="relu"),
            node("path_1_pool", "avgpool", "act", **pool),
            node("path_1_conv", "conv", "path_1_pool", channels="channels // 2", kernel=1),
            node("path_2_pad", "pad", "act", pad=(-1, 1, -1, 1)),
            node("path_2_pool", "avgpool", "path_2_pad", **pool),
            node("path_2_conv", "conv", "path_2_pool", channels="channels - channels // 2", kernel=1),
            node("path_cat", "concat", "path_1_conv", "path_2_conv"),
            node("final_path_bn", "bn", "path_cat"))


def normal_combinations(right: str, left: str) -> tuple[GraphNode, ...]:
    """The normal cell's five sums on its two F-channel inputs (timm's x_right from x, x_left from x_prev),
    concatenated after left: sep5(right) + sep3(left), sep5(left) + sep3(left), avg(right) + left,
    avg(left) + avg(left), sep3(right) + right. Six maps of F channels."""
    avg = dict(kernel=3, stride=1, count_include_pad=False)
    return (*separables("comb_iter_0_left", right, 5), *separables("comb_iter_0_right", left, 3),
            node("comb_iter_0", "sum", "comb_iter_0_left_2", "comb_iter_0_right_2"),
            *separables("comb_iter_1_left", left, 5), *separables("comb_iter_1_right", left, 3),
            node("comb_iter_1", "sum", "comb_iter_1_left_2", "comb_iter_1_right_2"),
            node("comb_iter_2_left", "avgpool", right, **avg),
            node("comb_iter_2", "sum", "comb_iter_2_left", left),
            node("comb_iter_3_left", "avgpool", left, **avg), node("comb_iter_3_right", "avgpool", left, **avg),
            node("comb_iter_3", "sum", "comb_iter_3_left", "comb_iter_3_right"),
            *separables("comb_iter_4_left", right, 3),
            node("comb_iter_4", "sum", "comb_iter_4_left_2", right),
            node("out", "concat", left, "comb_iter_0", "comb_iter_1", "comb_iter_2", "comb_iter_3", "comb_iter_4"))


def reduction_combinations(a: str, b: str) -> tuple[GraphNode, ...]:
    """The reduction cell's five sums, halving the size; a feeds each pair's left op (timm's x_right, from x), b its
    right op (from x_prev, or the raw input in stem 0): sep5/2(a) + sep7/2(b), max/2(a) + sep7/2(b),
    avg/2(a) + sep5/2(b), avg(sum 0) + sum 1, sep3(sum 0) + max/2(a); sums 1 to 4 concatenated, 4F channels."""
    # timm's stride-2 average pool pads with zeros before pooling, so the zeros count (count_include_pad)
    max2, avg2 = dict(kernel=3, stride=2), dict(kernel=3, stride=2, count_include_pad=True)
    return (*separables("comb_iter_0_left", a, 5, 2), *separables("comb_iter_0_right", b, 7, 2),
            node("comb_iter_0", "sum", "comb_iter_0_left_2", "comb_iter_0_right_2"),
            node("comb_iter_1_left", "maxpool", a, **max2), *separables("comb_iter_1_right", b, 7, 2),
            node("comb_iter_1", "sum", "comb_iter_1_left", "comb_iter_1_right_2"),
            node("comb_iter_2_left", "avgpool", a, **avg2), *separables("comb_iter_2_right", b, 5, 2),
            node("comb_iter_2", "sum", "comb_iter_2_left", "comb_iter_2_right_2"),
            node("comb_iter_3_right", "avgpool", "comb_iter_0", kernel=3, stride=1, count_include_pad=False),
            node("comb_iter_3", "sum", "comb_iter_3_right", "comb_iter_1"),
            *separables("comb_iter_4_left", "comb_iter_0", 3),
            node("comb_iter_4_right", "maxpool", a, **max2),
            node("comb_iter_4", "sum", "comb_iter_4_left_2", "comb_iter_4_right"),
            node("out", "concat", "comb_iter_1", "comb_iter_2", "comb_iter_3", "comb_iter_4"))


TWO = ("x", "x_prev")
CONV0 = GraphBlock("nasnet_conv0", (node("conv", "conv", "x", channels="channels", kernel=3, stride=2, padding=0,
                                         bn=True),), "conv", deepens=False)
STEM_0 = GraphBlock("nasnet_stem_0", (relu_conv_bn("conv_1x1", "x"), *reduction_combinations("conv_1x1", "x")), "out",
                    deepens=False)
STEM_1 = GraphBlock("nasnet_stem_1", (relu_conv_bn("conv_1x1", "x"), *factorized_reduction("x_prev"),
                                      *reduction_combinations("conv_1x1", "final_path_bn")), "out", TWO, deepens=False)
FIRST = GraphBlock("nasnet_first", (*factorized_reduction("x_prev"), relu_conv_bn("conv_1x1", "x"),
                                    *normal_combinations("conv_1x1", "final_path_bn")), "out", TWO, deepens=False)
NORMAL = GraphBlock("nasnet_normal", (relu_conv_bn("conv_prev_1x1", "x_prev"), relu_conv_bn("conv_1x1", "x"),
                                      *normal_combinations("conv_1x1", "conv_prev_1x1")), "out", TWO)


def reduction(passes: str) -> GraphBlock:
    """The reduction cell; passes: what the next cell reads as x_prev (x: Mobile; x_prev: Large, as timm)."""
    return GraphBlock(f"nasnet_reduction_passing_{passes}", (relu_conv_bn("conv_prev_1x1", "x_prev"),
                                                             relu_conv_bn("conv_1x1", "x"),
                                                             *reduction_combinations("conv_1x1", "conv_prev_1x1")),
                      "out", TWO, passes, deepens=False)


REDUCTION_MOBILE, REDUCTION_LARGE = reduction("x"), reduction("x_prev")
RELU = GraphBlock("nasnet_relu", (node("act", "act", "x", act="relu"),), "act", deepens=False)
for _block in (CONV0, STEM_0, STEM_1, FIRST, NORMAL, REDUCTION_MOBILE, REDUCTION_LARGE, RELU):
    register(_block.name, _block.kind())


def nasnet_a(cells: int, penultimate: int, stem: int, reduction_cell: GraphBlock) -> tuple[Stage, ...]:
    """NASNet-A N@P's rows: conv0, stem cells at F/4 and F/2, then three stacks of a first cell and N - 1 normal cells
    at F, 2F, 4F (F = P / 24) with a reduction cell before the second and third, and the final ReLU."""
    f = penultimate // 24
    rows = [Stage(CONV0.name, stem), Stage(STEM_0.name, f // 4), Stage(STEM_1.name, f // 2)]
    for i, width in enumerate((f, 2 * f, 4 * f)):
        if i:
            rows.append(Stage(reduction_cell.name, width))
        rows += [Stage(FIRST.name, width), Stage(NORMAL.name, width, repeats=cells - 1)]
    return (*rows, Stage(RELU.name))


ARCHS = (
    Arch("nasnet_a_mobile", "nasnet", 224, None, nasnet_a(4, 1056, 32, REDUCTION_MOBILE), classifier=Classifier(),
         rules=NASNET_RULES),
    Arch("nasnet_a_large", "nasnet", 331, None, nasnet_a(6, 4032, 96, REDUCTION_LARGE), classifier=Classifier(),
         rules=NASNET_RULES),
)
