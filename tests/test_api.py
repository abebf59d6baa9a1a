"""The pandas API (costlab.layers / by_stage / by_type / sweep / compare / list_archs) against torchvision and
FlopCounterMode run live: the frames hold the same exact integers the tools give, however large."""

from __future__ import annotations

import pytest

import costlab
from conftest import flop_counter_macs, n_params

torch = pytest.importorskip("torch")
torchvision = pytest.importorskip("torchvision")


def _meta(name: str, **kwargs):
    with torch.device("meta"):
        return getattr(torchvision.models, name)(**kwargs).eval()


def _macs(model, batch: int, size: int) -> int:
    with torch.device("meta"):
        x = torch.empty(batch, 3, size, size)
    return flop_counter_macs(model, x)


@pytest.mark.parametrize("name", ["resnet50", "densenet121", "googlenet"])
def test_frames_sum_to_torchvisions_counts(name):
    model = _meta(name, **({"aux_logits": False, "init_weights": False} if name == "googlenet" else {}))
    macs = _macs(model, 1, 224)
    layers = costlab.layers(name)
    assert int(layers["params"].sum()) == n_params(model)
    assert int(layers["macs"].sum()) == macs and int(layers["flops"].sum()) == 2 * macs
    assert int(costlab.by_stage(name)["macs"].sum()) == macs
    assert int(costlab.by_type(name)["params"].sum()) == n_params(model)


def test_by_type_of_resnet50_splits_3x3_and_1x1_convs_as_torch_has_them():
    """The 1x1 and the full (kxk) convs of torchvision's ResNet-50, priced one module at a time under
    FlopCounterMode: the frame's 'pointwise' and 'conv' rows hold the same sums."""
    from torch.utils.flop_counter import FlopCounterMode

    model = _meta("resnet50")
    sums = {"pointwise": [0, 0], "conv": [0, 0]}

    def hook(module, inputs, _output):
        with FlopCounterMode(display=False) as counter:
            torch.nn.functional.conv2d(inputs[0], module.weight, None, module.stride, module.padding)
        kind = "pointwise" if module.kernel_size == (1, 1) else "conv"
        sums[kind][0] += counter.get_total_flops() // 2
        sums[kind][1] += module.weight.numel()

    for module in model.modules():
        if isinstance(module, torch.nn.Conv2d):
            module.register_forward_hook(hook)
    with torch.device("meta"), torch.no_grad():
        model(torch.empty(1, 3, 224, 224))
    frame = costlab.by_type("resnet50")
    for kind, (macs, params) in sums.items():
        assert (int(frame.loc[kind, "macs"]), int(frame.loc[kind, "params"])) == (macs, params)


def test_sweep_frame_is_torchvisions_width_multiplier():
    frame = costlab.sweep("mobilenet_v2", [0.5, 1.0], [160, 224])
    for row in frame.itertuples():
        model = _meta("mobilenet_v2", width_mult=row.alpha)
        assert (row.params, row.macs) == (n_params(model), _macs(model, 1, row.resolution))


def test_a_count_past_int64_stays_exact_in_every_frame():
    """MobileNetV2 at 65536x65536 and batch 1,000,000: 2.56e19 MACs, past int64. FlopCounterMode on the meta device
    gives the exact Python int; the frames must hold it, not a wrapped uint64 or a rounded float."""
    macs = _macs(_meta("mobilenet_v2"), 1_000_000, 65536)
    assert macs > 2**63
    settings = {"resolution": 65536, "batch": 1_000_000}
    assert sum(costlab.layers("mobilenet_v2", **settings)["macs"]) == macs
    assert sum(costlab.by_stage("mobilenet_v2", **settings)["macs"]) == macs
    assert sum(costlab.by_type("mobilenet_v2", **settings)["flops"]) == 2 * macs
    assert costlab.arch("mobilenet_v2", **settings).macs == macs


def test_list_archs_names_torchvisions_models_with_their_default_resolution():
    frame = costlab.list_archs().set_index("name")
    for name in ("resnet50", "densenet121", "inception_v3", "efficientnet_b3"):
        weights = torchvision.models.get_model_weights(name).DEFAULT
        assert frame.loc[name, "resolution"] == weights.transforms().crop_size[0]


def test_compare_frame_is_the_seeds_depthwise_separable_count():
    """Seed 001 (MobileNet): a 3x3 conv M->N on DxD costs 9*M*N*D^2 MACs; depthwise separable 9*M*D^2 + M*N*D^2."""
    frame = costlab.compare(["conv", "dwsep"], cin=32, cout=64, size=56)
    assert int(frame.loc["conv", "macs"]) == 9 * 32 * 64 * 56 * 56
    assert int(frame.loc["dwsep", "macs"]) == 9 * 32 * 56 * 56 + 32 * 64 * 56 * 56


@pytest.mark.parametrize("call", [lambda: costlab.build("mobilenet_v2"),
                                  lambda: costlab.count("torchvision.models:resnet18", (1, 3, 32, 32))],
                         ids=["build", "count"])
def test_without_torch_the_traced_api_says_what_to_install(monkeypatch, call):
    import importlib.util

    from costlab.errors import CostlabError

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "torch" else real(name, *a))
    with pytest.raises(CostlabError, match=r"needs torch, which is not installed: pip install 'costlab\[trace\]'"):
        call()
