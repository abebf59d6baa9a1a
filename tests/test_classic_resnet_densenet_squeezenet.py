"""ResNet-18/34/101/152, ResNeXt-101, Wide ResNet, DenseNet-BC and SqueezeNet against torchvision 0.29.

References: torchvision's recorded weights.meta (num_params, _ops in GMACs to 3 decimals), torchvision's own models
(sum of numel, FlopCounterMode / 2 on the meta device), fvcore, ptflops and thop run live on them, PyTorch's own
pooling shapes, and torchvision's DenseNet class built with a small configuration.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from costlab.errors import CostlabError
from costlab.nets.registry import analyze_arch

torch = pytest.importorskip("torch")
torchvision = pytest.importorskip("torchvision")

from conftest import flop_counter_macs, n_params, one_line_exit_2, tool_counts  # noqa: E402

MODELS = ("resnet18", "resnet34", "resnet101", "resnet152", "resnext101_32x8d", "resnext101_64x4d",
          "wide_resnet50_2", "wide_resnet101_2", "densenet121", "densenet161", "densenet169", "densenet201",
          "squeezenet1_0", "squeezenet1_1")
# the smallest inputs each model takes. SqueezeNet 1.0 at 21: conv1 7x7/2 unpadded (21 - 7) // 2 + 1 = 8, then the
# ceil-mode 3x3/2 pools give ceil(5/2) + 1 = 4, ceil(1/2) + 1 = 2 and ceil(-1/2) + 1 = 1 (a window overhanging the
# 2x2 map by one pixel, which PyTorch clips); at 20 the conv gives 7 -> 3 -> 1 and the last pool has no window.
# SqueezeNet 1.1 at 17: 3x3/2 (17 - 3) // 2 + 1 = 8 -> 4 -> 2 -> 1; at 16: 7 -> 3 -> 1 -> none.
SMALLEST = {"squeezenet1_0": 21, "squeezenet1_1": 17}
SMALL = 64  # ResNet and DenseNet divide their input by 32: a 2x2 map before the global pool
SMALL_DENSENET = Path(__file__).resolve().parent.parent / "specs" / "examples" / "small_densenet.toml"


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """Counts do not depend on threads; one thread spares the real-tensor tracers (fvcore, ptflops, thop) OpenMP's
    spin-waits, which made a ResNet-152 forward at 64x64 take 9 s instead of 0.05 s on a shared 2-core machine."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


def _resolution(name: str) -> int:
    return SMALLEST.get(name, SMALL)


def _torchvision(name: str, device: str = "meta"):
    """torchvision's model, weights=None; on the CPU its storage is left uninitialised (counting reads no values)."""
    with torch.device("meta"):
        model = torchvision.models.get_model(name, weights=None).eval()
    return model if device == "meta" else model.to_empty(device=device)


def _meta(name: str) -> dict:
    return list(torchvision.models.get_model_weights(name))[0].meta


@pytest.mark.parametrize("name", MODELS)
def test_params_equal_torchvision_recorded_and_live(name):
    assert analyze_arch(name).params == _meta(name)["num_params"] == n_params(_torchvision(name))


@pytest.mark.parametrize("name", MODELS)
def test_macs_equal_flop_counter_and_recorded_ops(name):
    macs = analyze_arch(name, resolution=224).macs
    assert macs == flop_counter_macs(_torchvision(name), torch.empty(1, 3, 224, 224, device="meta"))
    assert round(macs / 1e9, 3) == pytest.approx(_meta(name)["_ops"], abs=1e-9)


@pytest.mark.parametrize("tracer", ["torch", "fvcore"])
@pytest.mark.parametrize("name", MODELS)
def test_every_layer_matches_torchvision_trace(name, tracer):
    from costlab.traced.crosscheck import check_model

    result = check_model(name, tracer, resolution=_resolution(name))
    assert result.mismatches == 0, [c.to_dict() for c in result.layers if not c.ok][:3]


@pytest.mark.parametrize("name", MODELS)
def test_costlab_module_names_are_row_names(name):
    from costlab.traced.crosscheck import check_model

    result = check_model(name, "torch", resolution=_resolution(name), source="costlab")
    assert result.ok, [c.to_dict() for c in result.layers if not c.ok][:3]


@pytest.mark.parametrize("name", MODELS)
def test_ptflops_and_thop_conventions_equal_the_tools(name):
    """Functional ops (DenseNet's F.relu and F.adaptive_avg_pool2d, torch.cat, torch.flatten) against module ops
    (nn.ReLU reused twice per ResNet block, SqueezeNet's ceil-mode pools): each tool's own total and params."""
    r = _resolution(name)
    counts = tool_counts(_torchvision(name, "cpu"), (1, 3, r, r))
    for convention in ("ptflops", "thop"):
        analysis = analyze_arch(name, resolution=r, convention=convention)
        assert (analysis.macs, analysis.params) == counts[convention], convention


@pytest.mark.parametrize("name", ["squeezenet1_0", "squeezenet1_1"])
def test_squeezenet_smallest_input_is_pytorchs(name):
    model, r = _torchvision(name), SMALLEST[name]
    assert model(torch.empty(1, 3, r, r, device="meta")).shape == (1, 1000)
    assert analyze_arch(name, resolution=r).rows[-2].in_shape.h == 1  # the global pool sees a 1x1 map
    with pytest.raises(RuntimeError):
        model(torch.empty(1, 3, r - 1, r - 1, device="meta"))
    with pytest.raises(CostlabError, match="pool kernel 3 is larger than the padded input 1"):
        analyze_arch(name, resolution=r - 1)


@pytest.mark.parametrize("ceil_mode", [False, True])
def test_pool_output_size_is_pytorchs(ceil_mode):
    """Every kernel 1-5, stride 1-3, legal padding and size 1-11: the same output size as PyTorch, or both refuse."""
    from costlab.core.ops import pool_output_size

    for kernel, stride, size in itertools.product(range(1, 6), range(1, 4), range(1, 12)):
        for padding in range(kernel // 2 + 1):
            x = torch.zeros(1, 1, size, 1)
            for pool in (torch.nn.functional.max_pool2d, torch.nn.functional.avg_pool2d):
                try:
                    expected = pool(x, (kernel, 1), (stride, 1), (padding, 0), ceil_mode=ceil_mode).shape[2]
                except RuntimeError:
                    expected = None
                try:
                    got = pool_output_size(size, kernel, stride, padding, ceil_mode)
                except CostlabError:
                    got = None
                assert got == expected, (pool.__name__, kernel, stride, padding, size, ceil_mode)


def test_densenet_alpha_is_torchvisions_growth_rate_and_stem():
    """--alpha 0.5 on densenet121 is torchvision's DenseNet with k = 16 and a 32-channel stem (int(c * alpha))."""
    with torch.device("meta"):
        model = torchvision.models.DenseNet(growth_rate=16, block_config=(6, 12, 24, 16), num_init_features=32).eval()
    analysis = analyze_arch("densenet121", alpha=0.5)
    assert analysis.params == n_params(model)
    assert analysis.macs == flop_counter_macs(model, torch.empty(1, 3, 224, 224, device="meta"))


def test_squeezenet_alpha_keeps_one_classifier_output_per_class():
    rows = [r for r in analyze_arch("squeezenet1_1", alpha=0.5).rows if r.op_name == "Conv2d"]
    assert rows[0].out_shape.c == 32  # make_divisible(64 * 0.5, 8)
    assert rows[-1].out_shape.c == 1000


def test_small_densenet_toml_is_torchvisions_densenet_class():
    """The example file, torchvision's DenseNet(growth_rate=12, block_config=(6, 6, 6), num_init_features=24,
    num_classes=10) and costlab's own build of the file: the same params and FlopCounterMode MACs."""
    from costlab.traced.build import build_arch
    from costlab.traced.crosscheck import check_model

    with torch.device("meta"):
        reference = torchvision.models.DenseNet(growth_rate=12, block_config=(6, 6, 6), num_init_features=24,
                                                num_classes=10).eval()
        built = build_arch(SMALL_DENSENET).eval()
    x = torch.empty(1, 3, 64, 64, device="meta")
    analysis = analyze_arch(SMALL_DENSENET)
    assert analysis.params == n_params(reference) == n_params(built)
    assert analysis.macs == flop_counter_macs(reference, x) == flop_counter_macs(built, x)
    result = check_model(SMALL_DENSENET, "torch", resolution=64, source="costlab")
    assert result.ok, [c.to_dict() for c in result.layers if not c.ok][:3]


@pytest.mark.parametrize("stage, fragments", [
    ('block = "fire"\nwidths = [16, 64]', ("net.toml:9: stages[0].widths: ", "a fire stage takes widths = [squeeze, "
                                                                          "expand1x1, expand3x3], got [16, 64]")),
    ('block = "transition"\nstride = 2', ("net.toml:9: stages[0].stride: does not apply to a 'transition' block",)),
    ('block = "dense"\nchannels = 12\nexpand = 0.05', ("net.toml:10: stages[0].expand: ", "expand 0.05 x growth rate "
                                                     "12 leaves the bottleneck with 0 channels")),
])
def test_bad_stage_is_one_line_naming_the_key(run, tmp_path, stage, fragments):
    path = tmp_path / "net.toml"
    path.write_text(f'name = "n"\nresolution = 64\nrules = "densenet"\n[stem]\nchannels = 16\n\n[[stages]]\n{stage}\n')
    one_line_exit_2(run("arch", str(path)), *fragments)
