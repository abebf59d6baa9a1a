"""Real torchvision models (weights=None) traced by fvcore and FlopCounterMode, checked layer by layer."""

import pytest

torch = pytest.importorskip("torch")
torchvision = pytest.importorskip("torchvision")

from costlab.traced.crosscheck import build_model, check_model  # noqa: E402
from costlab.traced.count import analyze_module
from costlab.traced.tracers.flopcounter import trace_torch
from costlab.traced.tracers.fvcore import trace_fvcore  # noqa: E402

MODELS = ["mobilenet_v2", "mobilenet_v3_small", "mnasnet0_5", "efficientnet_b0", "efficientnet_v2_s"]


def _assert_clean(result):
    bad = [layer for layer in result.layers if not layer.ok]
    assert not bad, bad[:5]
    assert result.mismatches == 0
    assert result.analytic_macs == result.traced_macs
    assert result.analytic_params == result.traced_params


@pytest.mark.parametrize("tracer", ["fvcore", "torch"])
@pytest.mark.parametrize("name", MODELS)
def test_torchvision_models_agree_per_layer(name, tracer):
    """Small inputs keep this fast; every layer's output size still goes through PyTorch's rounding."""
    _assert_clean(check_model(name, tracer, resolution=96))


@pytest.mark.parametrize("name,tracer", [("mobilenet_v2", "fvcore"), ("efficientnet_b0", "torch"),
                                         ("efficientnet_b0", "fvcore")])
def test_agree_at_224(name, tracer):
    _assert_clean(check_model(name, tracer, resolution=224))


def test_costlab_builder_agrees_with_names():
    """--source costlab: costlab's own nn.Module, where module paths must equal row names too."""
    _assert_clean(check_model("mnasnet0_5", "fvcore", resolution=64, source="costlab"))


def test_trace_totals_are_the_tools_own_totals():
    """Per-module attribution loses nothing: totals equal FlopCountAnalysis.total() and FlopCounterMode / 2."""
    from fvcore.nn import FlopCountAnalysis
    from torch.utils.flop_counter import FlopCounterMode

    model = torchvision.models.mobilenet_v2(weights=None).eval()
    x = torch.zeros(1, 3, 224, 224)
    fv = FlopCountAnalysis(model, x).unsupported_ops_warnings(False).uncalled_modules_warnings(False)
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        model(x)
    traced_fv = trace_fvcore(model, (1, 3, 224, 224))
    traced_torch = trace_torch(model, (1, 3, 224, 224), device="cpu")
    assert traced_fv.total_macs == fv.total() == traced_fv.counted_macs
    assert traced_torch.total_macs == counter.get_total_flops() // 2 == traced_torch.counted_macs
    # the measurement: conv+linear 300.8M MACs, fvcore 314.2M on MobileNetV2 at 224
    assert round(traced_torch.total_macs / 1e5) == 3008 and round(traced_fv.total_macs / 1e5) == 3142
    # MobileNetV2 pools with F.adaptive_avg_pool2d in its own forward: fvcore puts those MACs on the root
    assert [(l.name, l.macs) for l in traced_fv.layers if l.functional] == [("", 1280 * 7 * 7)]


def test_uncounted_ops_are_listed():
    model = build_model("efficientnet_b0", "torchvision", device="meta")
    trace = trace_torch(model, (1, 3, 64, 64))
    # 49 Conv-BN-SiLU, 16 SE gates (sigmoid, multiply), 9 residual adds; BatchNorm is not in FlopCounterMode's table
    assert trace.uncounted["silu_"] == 49 and trace.uncounted["sigmoid"] == 16 and trace.uncounted["mul"] == 16
    assert trace.uncounted["add_"] == 9 and trace.uncounted["native_batch_norm"] == 49
    fv = trace_fvcore(build_model("mobilenet_v2", "torchvision", device="cpu"), (1, 3, 64, 64))
    assert fv.uncounted["hardtanh_"] == 35 and fv.uncounted["add"] == 10


def test_analyze_module_meta_batch_is_exact():
    """torchvision's EfficientNet-B7 on meta: 32 images cost exactly 32x one, params unchanged."""
    one = analyze_module("torchvision.models:efficientnet_b7", (1, 3, 600, 600))
    many = analyze_module("torchvision.models:efficientnet_b7", (32, 3, 600, 600))
    assert many.macs == 32 * one.macs and many.params == one.params == 66_347_960
    assert many.tracer == "torch"
    from conftest import fvcore_total

    fv = analyze_module("torchvision.models:efficientnet_b0", (2, 3, 64, 64), convention="fvcore")
    real = torchvision.models.efficientnet_b0(weights=None).eval()
    assert fv.tracer == "formulas" and fv.macs == fvcore_total(real, torch.zeros(2, 3, 64, 64))


def test_formulas_tracer_reproduces_fvcore_and_flopcounter():
    """costlab's own formulas on traced shapes (any model, meta device) equal both real tools."""
    from fvcore.nn import FlopCountAnalysis
    from torch.utils.flop_counter import FlopCounterMode

    for name in ("mobilenet_v2", "mnasnet0_5", "mobilenet_v3_small"):
        model = torchvision.models.get_model(name, weights=None).eval()
        x = torch.zeros(2, 3, 80, 80)
        fv = FlopCountAnalysis(model, x).unsupported_ops_warnings(False).uncalled_modules_warnings(False).total()
        with torch.no_grad(), FlopCounterMode(display=False) as counter:
            model(x)
        assert analyze_module(model, x.shape, convention="fvcore").macs == fv
        assert analyze_module(model, x.shape, convention="paper", tracer="formulas").macs == counter.get_total_flops() // 2
