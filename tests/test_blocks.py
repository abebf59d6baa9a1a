"""Blocks against torchvision's own implementations: params and FlopCounterMode MACs, to the integer."""

import pytest
import torch
from torch import nn
from conftest import flop_counter_macs, n_params
from torchvision.models.efficientnet import FusedMBConv, FusedMBConvConfig, MBConv, MBConvConfig
from torchvision.models.mobilenetv2 import InvertedResidual
from torchvision.models.resnet import Bottleneck
from torchvision.ops import SqueezeExcitation

from costlab.nets import blocks
from costlab.core.analyze import analyze
from costlab.core.shapes import Shape
from costlab.nets.scaling import make_divisible


def reference(module: nn.Module, shape: Shape) -> tuple[int, int]:
    module.eval()
    return n_params(module), flop_counter_macs(module, torch.zeros(1, shape.c, shape.h, shape.w))


def ours(node, shape: Shape) -> tuple[int, int]:
    result = analyze(node, shape)
    return result.params, result.macs


@pytest.mark.parametrize("cin,cout,k,stride,expand", [(16, 24, 3, 2, 6), (40, 40, 5, 1, 6), (32, 16, 3, 1, 1)])
def test_mbconv_matches_torchvision_efficientnet(cin, cout, k, stride, expand):
    shape = Shape(cin, 20, 20)
    expanded = make_divisible(cin * expand, 8)
    node = blocks.mbconv("b", cin, cout, k, stride, expanded, max(1, cin // 4), act="silu", se_act="silu")
    tv = MBConv(MBConvConfig(expand, k, stride, cin, cout, 1), 0.0, nn.BatchNorm2d)
    assert ours(node, shape) == reference(tv, shape)


@pytest.mark.parametrize("cin,cout,stride,expand", [(24, 48, 2, 4), (24, 24, 1, 1), (48, 64, 2, 4)])
def test_fused_mbconv_matches_torchvision(cin, cout, stride, expand):
    shape = Shape(cin, 16, 16)
    node = blocks.fused_mbconv("b", cin, cout, 3, stride, make_divisible(cin * expand, 8))
    tv = FusedMBConv(FusedMBConvConfig(expand, 3, stride, cin, cout, 1), 0.0, nn.BatchNorm2d)
    assert ours(node, shape) == reference(tv, shape)


@pytest.mark.parametrize("cin,cout,stride,expand", [(32, 16, 1, 1), (16, 24, 2, 6), (64, 64, 1, 6)])
def test_inverted_residual_matches_torchvision_mobilenet_v2(cin, cout, stride, expand):
    shape = Shape(cin, 14, 14)
    node = blocks.mbconv("b", cin, cout, 3, stride, int(round(cin * expand)))
    assert ours(node, shape) == reference(InvertedResidual(cin, cout, stride, expand), shape)


def test_squeeze_excitation_matches_torchvision():
    shape = Shape(96, 7, 7)
    assert ours(blocks.squeeze_excitation("se", 96, 24), shape) == reference(SqueezeExcitation(96, 24), shape)


@pytest.mark.parametrize("cin,planes,stride,groups,base_width", [(256, 64, 1, 1, 64), (256, 128, 2, 1, 64),
                                                                  (256, 128, 2, 32, 4)])
def test_bottleneck_matches_torchvision_resnet_and_resnext(cin, planes, stride, groups, base_width):
    shape = Shape(cin, 14, 14)
    cout, width = planes * 4, int(planes * base_width / 64) * groups
    downsample = None
    if stride != 1 or cin != cout:
        downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))
    tv = Bottleneck(cin, planes, stride, downsample, groups, base_width)
    assert ours(blocks.bottleneck("b", cin, width, cout, stride, groups), shape) == reference(tv, shape)


def test_depthwise_separable_matches_seed_003_module():
    # seed 003's PyTorch depthwise-separable module: depthwise 3x3 with bias, pointwise 1x1 with bias
    shape = Shape(32, 10, 10)
    tv = nn.Sequential(nn.Conv2d(32, 32, 3, padding=1, groups=32), nn.Conv2d(32, 64, 1))
    node = blocks.depthwise_separable("s", 32, 64, act=None, bn=False, bias=True)
    assert ours(node, shape) == reference(tv, shape)
    assert ours(node, shape)[0] == 2_432
