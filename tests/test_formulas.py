"""Formulas against the seed documents and against PyTorch itself (nn.Module params, FlopCounterMode)."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn
from conftest import flop_counter_macs, n_params

from costlab.core import formulas
from costlab.errors import CostlabError
from costlab.core.ops import AdaptiveAvgPool2d, BatchNorm2d, Conv2d, Linear
from costlab.core.shapes import Shape
from costlab.nets.scaling import make_divisible


torch_macs = flop_counter_macs


# --- seeds -----------------------------------------------------------------------------------------------

def test_seed_002_conv_vs_depthwise_separable_params():
    # seed 002: 3x3x3x256 = 6,912 versus 3x3x3 + 3x1x1x256 = 795
    assert formulas.conv(cin=3, cout=256, kernel=(3, 3), positions=1).params == 6_912
    depthwise = formulas.conv(cin=3, cout=3, kernel=(3, 3), positions=1, groups=3)
    assert depthwise.params + formulas.conv(cin=3, cout=256, kernel=(1, 1), positions=1).params == 795


def test_seed_003_pytorch_params_with_bias():
    # seed 003 prints 18496 for nn.Conv2d(32, 64, 3) and 2432 for depthwise 3x3 + pointwise 1x1
    assert formulas.conv(cin=32, cout=64, kernel=(3, 3), positions=1, bias=True).params == 18_496
    dw = formulas.conv(cin=32, cout=32, kernel=(3, 3), positions=1, groups=32, bias=True)
    pw = formulas.conv(cin=32, cout=64, kernel=(1, 1), positions=1, bias=True)
    assert (dw + pw).params == 2_432


def test_mobilenet_v1_section_3_3_layer():
    # MobileNetV1 paper section 3.3: k=3, M=N=512, 14x14 -> 462M vs 52.3M mult-adds, 2.36M vs 0.27M params
    conv = formulas.conv(cin=512, cout=512, kernel=(3, 3), positions=14 * 14)
    sep = (formulas.conv(cin=512, cout=512, kernel=(3, 3), positions=14 * 14, groups=512)
           + formulas.conv(cin=512, cout=512, kernel=(1, 1), positions=14 * 14))
    assert round(conv.macs / 1e6, 1) == 462.4 and round(conv.params / 1e6, 2) == 2.36
    assert round(sep.macs / 1e6, 1) == 52.3 and round(sep.params / 1e6, 2) == 0.27


def test_flops_are_twice_macs():
    cost = formulas.conv(cin=3, cout=256, kernel=(3, 3), positions=224 * 224)
    assert cost.flops == 2 * cost.macs == 693_633_024


# --- against PyTorch -------------------------------------------------------------------------------------

@pytest.mark.parametrize("cin,cout,k,stride,groups,bias,size", [
    (3, 256, 3, 1, 1, False, 32),
    (32, 64, 3, 1, 1, True, 17),
    (32, 32, 3, 2, 32, False, 28),     # depthwise, stride 2
    (32, 96, 5, 1, 32, True, 15),      # depthwise with channel multiplier 3
    (48, 24, 1, 1, 1, False, 9),       # pointwise
    (64, 128, 3, 2, 8, False, 14),     # grouped (ResNeXt-style)
])
def test_conv_matches_pytorch(cin, cout, k, stride, groups, bias, size):
    op = Conv2d(cin, cout, (k, k), (stride, stride), (k // 2, k // 2), (1, 1), groups, bias)
    x = Shape(cin, size, size)
    y = op.out_shape(x)
    cost = op.cost((x.batched(),), y.batched(), "paper")
    module = nn.Conv2d(cin, cout, k, stride, k // 2, 1, groups, bias)
    out = module(torch.zeros(1, cin, size, size))
    assert tuple(out.shape[1:]) == (y.c, y.h, y.w)
    assert cost.params == n_params(module)
    assert cost.macs == torch_macs(module, torch.zeros(1, cin, size, size))


def test_linear_and_batch_norm_match_pytorch():
    lin = Linear(1280, 1000)
    assert lin.cost(((1, 1280),), (1, 1000), "paper").params == n_params(nn.Linear(1280, 1000))
    assert lin.cost(((1, 1280),), (1, 1000), "paper").macs == torch_macs(nn.Linear(1280, 1000), torch.zeros(1, 1280))
    # a 3-d input: rows = batch x tokens, as torch's linear applies to the last dim
    assert lin.cost(((2, 7, 1280),), (2, 7, 1000), "paper").macs == torch_macs(nn.Linear(1280, 1000),
                                                                              torch.zeros(2, 7, 1280))
    bn = BatchNorm2d(96)
    assert bn.cost(((1, 96, 7, 7),), (1, 96, 7, 7), "paper").params == n_params(nn.BatchNorm2d(96))
    assert BatchNorm2d(96, affine=False).cost(((1, 96, 7, 7),), (1, 96, 7, 7), "paper").params == 0
    pool = AdaptiveAvgPool2d()
    assert pool.out_shape(Shape(96, 7, 7)) == Shape(96)


conv_configs = st.builds(
    dict,
    groups=st.integers(1, 4),
    cin_per_group=st.integers(1, 4),
    cout_per_group=st.integers(1, 4),
    kh=st.integers(1, 5),
    kw=st.integers(1, 5),
    sh=st.integers(1, 3),
    sw=st.integers(1, 3),
    ph=st.integers(0, 2),
    pw=st.integers(0, 2),
    dh=st.integers(1, 2),
    dw=st.integers(1, 2),
    bias=st.booleans(),
    h=st.integers(1, 12),
    w=st.integers(1, 12),
)


@settings(max_examples=200, deadline=None)
@given(conv_configs)
def test_property_conv_matches_pytorch(c):
    cin, cout = c["groups"] * c["cin_per_group"], c["groups"] * c["cout_per_group"]
    args = dict(kernel_size=(c["kh"], c["kw"]), stride=(c["sh"], c["sw"]), padding=(c["ph"], c["pw"]),
                dilation=(c["dh"], c["dw"]), groups=c["groups"], bias=c["bias"])
    op = Conv2d(cin, cout, args["kernel_size"], args["stride"], args["padding"], args["dilation"], c["groups"], c["bias"])
    module = nn.Conv2d(cin, cout, **args)
    x = torch.zeros(1, cin, c["h"], c["w"])
    try:
        out = module(x)
    except RuntimeError:
        # PyTorch refuses a kernel larger than the padded input; costlab must refuse it too
        with pytest.raises(CostlabError):
            op.out_shape(Shape(cin, c["h"], c["w"]))
        return
    y = op.out_shape(Shape(cin, c["h"], c["w"]))
    assert (y.c, y.h, y.w) == tuple(out.shape[1:])
    cost = op.cost(((1, cin, c["h"], c["w"]),), y.batched(), "paper")
    assert cost.params == n_params(module)
    assert cost.macs == torch_macs(module, x)


def test_make_divisible_matches_torchvision():
    from torchvision.models._utils import _make_divisible

    for value in [3.2, 8, 12, 15.9, 16, 23.99, 24 * 0.35, 32 * 1.4, 1280 * 0.75, 96 * 0.5, 4.1, 100]:
        assert make_divisible(value, 8) == _make_divisible(value, 8)


@pytest.mark.parametrize("kwargs,fragment", [
    (dict(cin=0, cout=4), "input channels must be a positive integer, got 0"),
    (dict(cin=6, cout=4, groups=4), "groups 4 does not divide input channels 6"),
    (dict(cin=4, cout=6, groups=4), "groups 4 does not divide output channels 6"),
    (dict(cin=4, cout=4, kernel=(0, 3)), "kernel must be integers >= 1"),
])
def test_bad_conv_is_a_clear_error(kwargs, fragment):
    with pytest.raises(CostlabError, match=fragment.replace("(", r"\(")):
        Conv2d(**kwargs)
