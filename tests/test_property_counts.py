"""Property: for random conv / depthwise / pointwise / linear / MBConv configurations, costlab's analytic
MACs equal fvcore's FlopCountAnalysis (convention 'fvcore') and FlopCounterMode / 2 (convention 'paper')."""

import warnings

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

torch = pytest.importorskip("torch")

from costlab.core.analyze import analyze  # noqa: E402
from costlab.nets.blocks import conv, conv_bn_act, fused_mbconv, mbconv  # noqa: E402
from costlab.traced.build import build_module  # noqa: E402
from costlab.core.graph import Layer, seq  # noqa: E402
from costlab.core.ops import Linear  # noqa: E402
from costlab.core.shapes import Shape  # noqa: E402

with warnings.catch_warnings():
    warnings.simplefilter("ignore", FutureWarning)
    from fvcore.nn import FlopCountAnalysis  # noqa: E402
from torch.utils.flop_counter import FlopCounterMode  # noqa: E402

channels = st.integers(1, 16)
kernels = st.sampled_from([1, 3, 5, 7])
strides = st.sampled_from([1, 2])
sizes = st.integers(7, 10)


@st.composite
def configs(draw):
    kind = draw(st.sampled_from(["conv", "depthwise", "pointwise", "linear", "mbconv", "fused", "convbn"]))
    cin, cout = draw(channels), draw(channels)
    k, s, size = draw(kernels), draw(strides), draw(sizes)
    bias = draw(st.booleans())
    if kind == "conv":
        groups = draw(st.sampled_from([g for g in (1, 2, 3, 4) if cin % g == 0 and cout % g == 0]))
        return conv("c", cin, cout, k, s, groups=groups, bias=bias), Shape(cin, size, size)
    if kind == "depthwise":
        mult = draw(st.integers(1, 3))
        return conv("c", cin, cin * mult, k, s, groups=cin, bias=bias), Shape(cin, size, size)
    if kind == "pointwise":
        return conv("c", cin, cout, 1, s, bias=bias), Shape(cin, size, size)
    if kind == "linear":
        return Layer("fc", Linear(cin * 4, cout, bias)), Shape(cin * 4)
    if kind == "convbn":
        act = draw(st.sampled_from(["relu", "relu6", "silu", "hardswish"]))
        return conv_bn_act("c", cin, cout, k, s, act=act), Shape(cin, size, size)
    expanded = cin * draw(st.integers(1, 6))
    se = draw(st.integers(0, 4))
    act = draw(st.sampled_from(["relu6", "silu", "hardswish"]))
    if draw(st.booleans()):  # same channels so the residual add appears too
        cout = cin
    block = mbconv if kind == "mbconv" else fused_mbconv
    return block("b", cin, cout, k, s, expanded, se_channels=se, act=act), Shape(cin, size, size)


@settings(max_examples=2000, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(configs())
def test_analytic_equals_fvcore_and_flop_counter(config):
    node, shape = config
    net = seq("net", node)
    module = build_module(net).eval()
    x = torch.zeros(1, shape.c, shape.h, shape.w) if shape.h > 1 else torch.zeros(1, shape.c)
    fv = FlopCountAnalysis(module, x).unsupported_ops_warnings(False).uncalled_modules_warnings(False)
    fv.tracer_warnings("none")
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        module(x)
    assert analyze(net, shape, "fvcore").macs == fv.total()
    assert 2 * analyze(net, shape, "paper").macs == counter.get_total_flops()
    assert analyze(net, shape).params == sum(p.numel() for p in module.parameters())
