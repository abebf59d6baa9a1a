"""Built-in architectures against torchvision's live models, torchvision's recorded metadata and the MobileNet paper.

torchvision models are built on the meta device (no memory, no weights) and run under FlopCounterMode
on meta tensors, so every big model at its native resolution stays cheap.
"""

from __future__ import annotations

import pytest

from costlab.nets.registry import ARCHS, TORCHVISION_NAMES, analyze_arch, arch_graph, list_archs
from costlab.errors import CostlabError

torch = pytest.importorskip("torch")
torchvision = pytest.importorskip("torchvision")

from conftest import flop_counter_macs, n_params  # noqa: E402

# families proven in their own test files (tests/test_classic_shufflenet_inception.py, tests/test_mixnet_xception.py);
# the tests here cover the rest
OWN_FILE_FAMILIES = {"shufflenet_v2", "googlenet", "inception_v3", "mixnet", "xception"}
COVERED_HERE = tuple(n for n in ARCHS if ARCHS[n].family not in OWN_FILE_FAMILIES)
TORCHVISION_HERE = tuple(n for n in TORCHVISION_NAMES if n in COVERED_HERE)

# native resolutions from the papers (EfficientNet Table/section 3.3; EfficientNetV2 eval sizes via torchvision)
NATIVE = {"efficientnet_b0": 224, "efficientnet_b1": 240, "efficientnet_b2": 260, "efficientnet_b3": 300,
          "efficientnet_b4": 380, "efficientnet_b5": 456, "efficientnet_b6": 528, "efficientnet_b7": 600,
          "efficientnet_v2_s": 384, "efficientnet_v2_m": 480, "efficientnet_v2_l": 480}


def _meta_model(name: str):
    with torch.device("meta"):
        return torchvision.models.get_model(name, weights=None).eval()


def _traced_macs(model, resolution: int) -> int:
    return flop_counter_macs(model, torch.empty(1, 3, resolution, resolution, device="meta"))


_params = n_params


def test_torchvision_names_cover_the_issue():
    expected = {"mobilenet_v2", "mobilenet_v3_large", "mobilenet_v3_small", "mnasnet0_5", "mnasnet0_75",
                "mnasnet1_0", "mnasnet1_3", *(f"efficientnet_b{i}" for i in range(8)),
                "efficientnet_v2_s", "efficientnet_v2_m", "efficientnet_v2_l", "resnet50", "resnext50_32x4d",
                *(f"shufflenet_v2_x{w}" for w in ("0_5", "1_0", "1_5", "2_0")), "googlenet", "inception_v3"}
    expected |= {"resnet18", "resnet34", "resnet101", "resnet152", "resnext101_32x8d", "resnext101_64x4d",
                 "wide_resnet50_2", "wide_resnet101_2", "densenet121", "densenet161", "densenet169", "densenet201",
                 "squeezenet1_0", "squeezenet1_1"}
    assert set(TORCHVISION_NAMES) == expected
    assert set(TORCHVISION_NAMES) <= set(torchvision.models.list_models())


@pytest.mark.parametrize("name", TORCHVISION_HERE)
def test_matches_torchvision_params_and_flop_counter(name):
    model = _meta_model(name)
    for resolution in sorted({224, NATIVE.get(name, 224)}):
        analysis = analyze_arch(name, resolution=resolution)
        assert analysis.params == _params(model)
        assert analysis.macs == _traced_macs(model, resolution), (name, resolution)
    assert ARCHS[name].resolution == NATIVE.get(name, 224)


@pytest.mark.parametrize("name", TORCHVISION_HERE)
def test_layer_order_matches_torchvision_forward(name):
    """The conv/linear layers run in torchvision's order with the same shapes (what the trace cross-check relies on)."""
    model = _meta_model(name)
    seen = []

    def hook(module, inputs, output):
        if isinstance(module, torch.nn.Conv2d):
            seen.append(("conv", module.in_channels, module.out_channels, module.kernel_size[0], module.stride[0],
                         module.groups, tuple(output.shape[1:])))
        else:
            seen.append(("linear", module.in_features, module.out_features, 0, 1, 1, tuple(output.shape[1:])))

    for m in model.modules():
        if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear)):
            m.register_forward_hook(hook)
    with torch.no_grad():
        model(torch.empty(1, 3, 224, 224, device="meta"))
    ours = []
    for row in analyze_arch(name, resolution=224).rows:
        if row.op_name == "Conv2d":
            y = row.out_shape
            ours.append(("conv", row.in_shape.c, y.c, row.op.kernel[0], row.op.stride[0], row.op.groups,
                         (y.c, y.h, y.w)))
        elif row.op_name == "Linear":
            ours.append(("linear", row.in_shape.numel, row.out_shape.c, 0, 1, 1, (row.out_shape.c,)))
    assert ours == seen


@pytest.mark.parametrize("name", TORCHVISION_HERE)
def test_torchvision_recorded_metadata(name):
    """num_params exactly; _ops (GFLOPS, really GMACs) to its 3 printed decimals at the weights' crop size."""
    weights = torchvision.models.get_model_weights(name).DEFAULT
    crop = weights.transforms.keywords["crop_size"]
    analysis = analyze_arch(name, resolution=crop)
    assert analysis.params == weights.meta["num_params"]
    assert round(analysis.macs / 1e9, 3) == pytest.approx(weights.meta["_ops"], abs=1e-9)


@pytest.mark.parametrize("name", ["mobilenet_v2", "mnasnet0_5", "efficientnet_b3", "efficientnet_v2_s",
                                  "resnext50_32x4d"])
def test_built_module_has_torchvision_params_and_macs(name):
    from costlab.traced.build import build_arch

    with torch.device("meta"):
        built = build_arch(name).eval()
    assert _params(built) == _params(_meta_model(name))
    assert _traced_macs(built, 224) == analyze_arch(name, resolution=224).macs


@pytest.mark.parametrize("name", COVERED_HERE)
def test_built_module_names_are_row_names(name):
    """Every built-in's nn.Module names each leaf as its analytic row (ResNet's downsample included), and its
    own trace by FlopCounterMode agrees row by row, names checked."""
    from costlab.traced.build import build_arch
    from costlab.traced.crosscheck import check_model

    with torch.device("meta"):
        built = build_arch(name)
    modules = {n for n, m in built.named_modules() if not list(m.children())}
    rows = {r.name for r in analyze_arch(name).rows if r.op_name not in ("Add", "Mul", "Concat")}  # container ops
    assert rows == modules
    result = check_model(name, "torch", resolution=64, source="costlab")
    assert result.ok, [c for c in result.layers if not c.ok][:3]


def test_mnasnet_global_pool_is_a_spatial_mean():
    rows = analyze_arch("mnasnet1_0").rows
    assert [r.op_name for r in rows if r.type == "pool"] == ["SpatialMean"]


# MobileNetV1 (Howard et al. 2017): Table 6 (width), Table 7 (resolution), Table 4 (full convolutions).
# The paper prints millions of MACs / params; we accept one unit of the last printed digit.
@pytest.mark.parametrize("alpha, macs_m, params_m", [(1.0, 569, 4.2), (0.75, 325, 2.6), (0.5, 149, 1.3),
                                                      (0.25, 41, 0.5)])
def test_mobilenet_v1_table6(alpha, macs_m, params_m):
    a = analyze_arch("mobilenet_v1", alpha=alpha)
    assert abs(a.macs / 1e6 - macs_m) < 1
    assert round(a.params / 1e6, 1) == params_m


@pytest.mark.parametrize("resolution, macs_m", [(224, 569), (192, 418), (160, 290), (128, 186)])
def test_mobilenet_v1_table7(resolution, macs_m):
    a = analyze_arch("mobilenet_v1", resolution=resolution)
    assert abs(a.macs / 1e6 - macs_m) < 1
    assert round(a.params / 1e6, 1) == 4.2


def test_mobilenet_v1_rho_is_rounded_resolution():
    assert analyze_arch("mobilenet_v1", rho=160 / 224).resolution == 160


def test_mobilenet_v1_full_convolution_table4():
    a = analyze_arch("mobilenet_v1_full")
    # Table 4: 4866M MACs, 29.3M params; the paper's figure leaves out the 1.02M-MAC classifier
    assert abs((a.macs - 1024 * 1000) / 1e6 - 4866) < 1
    assert round(a.params / 1e6, 1) == 29.3


def test_mobilenet_v1_pointwise_share_table2():
    shares = {g.label: g.macs_share for g in analyze_arch("mobilenet_v1").grouped("type")}
    assert round(100 * shares["pointwise"], 1) == pytest.approx(95, abs=0.2)  # Table 2: 94.86%


def test_list_archs_rows():
    rows = list_archs()
    assert {r.name for r in rows} >= set(TORCHVISION_NAMES) | {"mobilenet_v1"}
    assert all(set(r.to_dict()) == {"name", "family", "resolution"} for r in rows)


def test_meta_and_stages():
    built = arch_graph("efficientnet_b7")
    node, shape = built.node, built.input_shape
    assert (shape.c, shape.h, shape.w) == (3, 600, 600)
    assert built.arch.name == "efficientnet_b7" and built.arch.family == "efficientnet"
    assert built.alpha == 1.0 and built.resolution == 600
    assert [c.name for c in node.children] == ["stem", *(f"stage{i}" for i in range(1, 8)), "head", "classifier"]


@pytest.mark.parametrize("call, fragment", [
    (lambda: analyze_arch("mobilenetv2"), "mobilenet_v2"),
    (lambda: analyze_arch("mobilenet_v2", alpha=0), "alpha"),
    (lambda: analyze_arch("mobilenet_v2", alpha=-1), "alpha"),
    (lambda: analyze_arch("squeezenet1_1", resolution=16), "resolution 16 is too small for squeezenet1_1"),
    (lambda: analyze_arch("mobilenet_v2", resolution=224, rho=0.5), "rho"),
])
def test_bad_input(call, fragment):
    with pytest.raises(CostlabError, match=fragment):
        call()


@pytest.mark.parametrize("name", ["mobilenet_v3_small", "mnasnet0_5"])
def test_fvcore_convention_matches_fvcore(name):
    fvcore_nn = pytest.importorskip("fvcore.nn")
    import logging

    model = torchvision.models.get_model(name, weights=None).eval()
    logging.disable(logging.WARNING)
    try:
        counter = fvcore_nn.FlopCountAnalysis(model, torch.zeros(1, 3, 96, 96))
        counter.unsupported_ops_warnings(False)
        counter.uncalled_modules_warnings(False)
        traced = counter.total()
    finally:
        logging.disable(logging.NOTSET)
    assert analyze_arch(name, resolution=96, convention="fvcore").macs == traced
