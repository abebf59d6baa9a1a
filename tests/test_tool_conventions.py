"""The 'ptflops' and 'thop' conventions against the real tools, run live (ptflops pytorch backend, thop.profile).

Whole torchvision models (weights=None, batch 1, CPU) must come out exactly equal, MACs and params;
single ops pin down each rule (bias adds, BatchNorm, every activation, module vs functional pooling).
"""


import pytest

torch = pytest.importorskip("torch")
torchvision = pytest.importorskip("torchvision")


from costlab.core.analyze import analyze  # noqa: E402
from costlab.nets.registry import analyze_arch  # noqa: E402
from costlab.traced.build import build_module  # noqa: E402
from costlab.traced.crosscheck import build_model, check_model  # noqa: E402
from costlab.core.graph import Layer, seq  # noqa: E402
from costlab.core.vocab import ACTIVATIONS  # noqa: E402
from costlab.core.ops import Activation, AdaptiveAvgPool2d, BatchNorm2d, Conv2d, Linear, MaxPool2d  # noqa: E402
from costlab.core.shapes import Shape  # noqa: E402


from conftest import tool_counts  # noqa: E402


@pytest.mark.parametrize("name,resolution", [
    ("mobilenet_v2", 224), ("mobilenet_v3_small", 128), ("mobilenet_v3_large", 128), ("mnasnet0_5", 128),
    ("efficientnet_b0", 128), ("efficientnet_v2_s", 128), ("resnet50", 64),
])
def test_torchvision_totals_equal_the_tools(name, resolution):
    # ptflops must see real tensors: on the meta device torch's linear goes through a patched matmul
    # and ptflops counts every Linear twice
    counts = tool_counts(build_model(name, "torchvision", device="cpu"), (1, 3, resolution, resolution))
    for convention, (macs, params) in counts.items():
        analysis = analyze_arch(name, resolution=resolution, convention=convention)
        assert (analysis.macs, analysis.params) == (macs, params), convention


class FunctionalPool(torch.nn.Module):
    """Global average pooling the way torchvision's MobileNetV2 forward does it: not a module of its own."""

    def forward(self, x):
        return torch.nn.functional.adaptive_avg_pool2d(x, (1, 1))


OPS = [
    (Conv2d(8, 16, (3, 3), padding=(1, 1), bias=True), Shape(8, 10, 10)),
    (Conv2d(8, 8, (3, 3), (2, 2), (1, 1), groups=8, bias=True), Shape(8, 10, 10)),
    (Conv2d(8, 16, (1, 1)), Shape(8, 10, 10)),
    (BatchNorm2d(8), Shape(8, 10, 10)),
    (BatchNorm2d(8, affine=False), Shape(8, 10, 10)),
    (AdaptiveAvgPool2d(), Shape(8, 7, 5)),
    (AdaptiveAvgPool2d(functional=True), Shape(8, 7, 5)),
    (MaxPool2d(3, 2, 1), Shape(8, 10, 10)),
    (Linear(40, 12), Shape(40)),
    (Linear(40, 12, bias=False), Shape(40)),
] + [(Activation(f), Shape(8, 10, 10)) for f in ACTIVATIONS]


@pytest.mark.parametrize("op,shape", OPS, ids=lambda v: repr(v) if not isinstance(v, Shape) else "")
def test_each_op_equals_the_tools(op, shape):
    node = seq("net", Layer("op", op))
    model = torch.nn.Sequential(FunctionalPool()) if getattr(op, "functional", False) else build_module(node)
    dims = (1, shape.c) if shape.h == shape.w == 1 else (1, shape.c, shape.h, shape.w)
    for convention, (macs, params) in tool_counts(model.eval(), dims).items():
        analysis = analyze(node, shape, convention, "op")
        assert (analysis.macs, analysis.params) == (macs, params), convention


@pytest.mark.parametrize("tracer", ["ptflops", "thop"])
@pytest.mark.parametrize("name,source", [("mobilenet_v2", "torchvision"), ("mobilenet_v2", "costlab"),
                                         ("mobilenet_v3_small", "torchvision"), ("mnasnet0_5", "torchvision"),
                                         ("efficientnet_b0", "torchvision")])
def test_crosscheck_per_layer_with_the_tools_hooks(name, source, tracer):
    result = check_model(name, tracer, resolution=96, source=source)
    assert result.ok, [layer for layer in result.layers if not layer.ok][:5]
    model = build_model(name, source, device="cpu")
    tool = tool_counts(model, (1, 3, 96, 96))[tracer]
    assert (result.analytic_macs, result.analytic_params) == (result.traced_macs, result.traced_params) == tool


def test_uncounted_ops_are_listed():
    """EfficientNet-B0 has 16 SE blocks (sigmoid gate, multiply) and 9 residual adds; ptflops counts SiLU."""
    assert check_model("efficientnet_b0", "ptflops", resolution=64).uncounted == {"sigmoid": 16, "mul": 16, "add_": 9}
    assert check_model("efficientnet_b0", "thop", resolution=64).uncounted == {"silu": 49, "sigmoid": 16, "mul": 16,
                                                                                "add_": 9}


@pytest.mark.parametrize("tracer", ["ptflops", "fvcore"])
def test_reused_module_is_charged_per_call(tracer):
    """torchvision's Bottleneck calls one `relu` module three times (after conv1, conv2 and the residual add)."""
    result = check_model("resnet50", tracer, resolution=64)
    assert result.ok, [layer for layer in result.layers if not layer.ok][:5]
    relu = [layer.traced_macs for layer in result.layers if layer.traced_name == "layer1.0.relu"]
    if tracer == "ptflops":  # each call what ptflops counts for a lone nn.ReLU at that call's shape (stem 32, pool 16)
        lone = [tool_counts(torch.nn.ReLU(), (1, c, 16, 16))["ptflops"][0] for c in (64, 64, 256)]
        assert relu == lone == [2 * 64 * 16 * 16, 2 * 64 * 16 * 16, 2 * 256 * 16 * 16]
        assert (result.traced_macs, result.traced_params) == tool_counts(build_model("resnet50", "torchvision", "cpu"),
                                                                         (1, 3, 64, 64))["ptflops"]
    else:  # fvcore does not count relu
        assert relu == [0, 0, 0]


def test_formulas_tracer_prices_bias_adds_and_relu_under_ptflops():
    """A Conv2d(3, 8, 3, bias) + ReLU on 1x3x8x8: ptflops counts 7,776 conv MACs + 288 bias adds + 576 for the
    ReLU (its hook and the patched F.relu) = 8,640; costlab's formulas tracer and the analytic graph say the same."""
    from costlab.traced.count import analyze_module

    model = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3, bias=True), torch.nn.ReLU()).eval()
    ptflops_macs = tool_counts(model, (1, 3, 8, 8))["ptflops"][0]
    assert ptflops_macs == 8_640
    assert analyze_module(model, (1, 3, 8, 8), convention="ptflops", tracer="formulas").macs == ptflops_macs
    graph = seq("net", Layer("0", Conv2d(3, 8, (3, 3), bias=True)), Layer("1", Activation("relu")))
    assert analyze(graph, Shape(3, 8, 8), "ptflops").macs == ptflops_macs


def test_each_convention_names_tracers_that_reproduce_it():
    """core.conventions is the one record: 'auto' picks its first tracer, and a tool's tracer reproduces one convention."""
    from costlab.core.conventions import CONVENTIONS
    from costlab.traced.tracers import TRACERS, pick_tracer

    for name, record in CONVENTIONS.items():
        assert record.tracers and set(record.tracers) <= set(TRACERS)
        assert pick_tracer("auto", name) == (record.tracers[0], name)
    for tracer in TRACERS.values():
        reproduced = [c.name for c in CONVENTIONS.values() if tracer.name in c.tracers]
        assert len(reproduced) == 1 or tracer.any_convention, (tracer.name, reproduced)
