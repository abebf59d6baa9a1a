"""ShuffleNetV2 (x0_5, x1_0, x1_5, x2_0), GoogLeNet and Inception-v3 against torchvision 0.29.

References: torchvision's recorded num_params and _ops (first weights of each model), FlopCounterMode / 2 on its
models (meta device, so Inception-v3 at 299 stays cheap), fvcore and FlopCounterMode traces aligned layer by layer
with the analytic rows, costlab's own nn.Module traced with names checked, and ptflops / thop run live on CPU.
GoogLeNet and Inception-v3 are built without their auxiliary heads, which run only in training.
"""

from __future__ import annotations

import pytest

from costlab.errors import CostlabError
from costlab.nets.model import Arch, Stage
from costlab.nets.registry import ARCHS, analyze_arch
from costlab.nets.tables.rules import INCEPTION_RULES, SHUFFLENET_V2_RULES

torch = pytest.importorskip("torch")
torchvision = pytest.importorskip("torchvision")

from conftest import flop_counter_macs, n_params, tool_counts  # noqa: E402
from costlab.traced.build import build_arch  # noqa: E402
from costlab.traced.crosscheck import build_model, check_model  # noqa: E402

# native resolutions: the weights' crop size (Inception-v3 is trained at 299, the others at 224)
NATIVE = {"shufflenet_v2_x0_5": 224, "shufflenet_v2_x1_0": 224, "shufflenet_v2_x1_5": 224, "shufflenet_v2_x2_0": 224,
          "googlenet": 224, "inception_v3": 299}
NAMES = list(NATIVE)


def _record(name: str):
    """The first weights of torchvision's enum for the model (its num_params, _ops and transforms)."""
    return next(iter(torchvision.models.get_model_weights(name)))


def _small(name: str) -> int:
    """A small resolution the model accepts: 64, or torchvision's recorded min_size when larger (Inception-v3: 75)."""
    return max(64, _record(name).meta["min_size"][0])


def _meta_input(resolution: int):
    return torch.empty(1, 3, resolution, resolution, device="meta")


@pytest.mark.parametrize("name", [n for n in NAMES if n != "inception_v3"])
def test_params_equal_the_recorded_num_params(name):
    assert analyze_arch(name).params == _record(name).meta["num_params"]


def test_inception_v3_counts_the_eval_network_and_the_record_adds_its_aux_head():
    with torch.device("meta"):
        eval_net = torchvision.models.inception_v3(weights=None, aux_logits=False, init_weights=False)
        with_aux = torchvision.models.inception_v3(weights=None, aux_logits=True, init_weights=False)
    params = analyze_arch("inception_v3").params
    assert params == n_params(eval_net)
    # AuxLogits: 1x1 conv 768->128 + BN, 5x5 conv 128->768 + BN, fc 768->1000 with bias
    aux = n_params(with_aux.AuxLogits)
    assert aux == 768 * 128 + 2 * 128 + 5 * 5 * 128 * 768 + 2 * 768 + 768 * 1000 + 1000
    assert params + aux == _record("inception_v3").meta["num_params"] == 27_161_264


@pytest.mark.parametrize("name", NAMES)
def test_macs_equal_flop_counter_at_224_and_native(name):
    model = build_model(name, "torchvision")
    for resolution in sorted({224, NATIVE[name]}):
        assert analyze_arch(name, resolution=resolution).macs == flop_counter_macs(model, _meta_input(resolution))
    assert ARCHS[name].resolution == NATIVE[name]


@pytest.mark.parametrize("name", NAMES)
def test_macs_round_to_the_recorded_ops_at_the_crop_size(name):
    """_ops is GMACs to 3 decimals, recorded at the weights' crop size."""
    record = _record(name)
    crop = record.transforms.keywords["crop_size"]
    assert crop == NATIVE[name]
    assert round(analyze_arch(name, resolution=crop).macs / 1e9, 3) == record.meta["_ops"]


@pytest.mark.parametrize("tracer", ["torch", "fvcore"])
@pytest.mark.parametrize("name", NAMES)
def test_torchvision_trace_aligns_layer_by_layer(name, tracer):
    result = check_model(name, tracer, resolution=_small(name))
    assert result.mismatches == 0, [c.to_dict() for c in result.layers if not c.ok][:3]


@pytest.mark.parametrize("name", NAMES)
def test_costlab_module_names_are_row_names_and_its_trace_agrees(name):
    with torch.device("meta"):
        built = build_arch(name)
    modules = {n for n, m in built.named_modules() if not list(m.children())}
    container_ops = ("Add", "Mul", "Concat", "Split")  # computed in a container's forward, not modules
    assert {r.name for r in analyze_arch(name).rows if r.op_name not in container_ops} == modules
    result = check_model(name, "torch", resolution=_small(name), source="costlab")
    assert result.ok, [c.to_dict() for c in result.layers if not c.ok][:3]


@pytest.mark.parametrize("name", NAMES)
def test_ptflops_and_thop_conventions_equal_the_tools(name):
    resolution = _small(name)
    counts = tool_counts(build_model(name, "torchvision", device="cpu"), (1, 3, resolution, resolution))
    for convention, (macs, params) in counts.items():
        analysis = analyze_arch(name, resolution=resolution, convention=convention)
        assert (analysis.macs, analysis.params) == (macs, params), convention


@pytest.mark.parametrize("alpha, channels", [
    # make_divisible(c * alpha, 2) of 1.0x's 24, 116, 232, 464 by hand; conv5 stays 1024
    (0.5, [12, 58, 116, 232, 1024]),
    (0.75, [18, 88, 174, 348, 1024]),  # 116 * 0.75 = 87, rounded to the even 88
])
def test_shufflenet_alpha_is_torchvisions_class_with_even_channels(alpha, channels):
    with torch.device("meta"):
        model = torchvision.models.ShuffleNetV2([4, 8, 4], channels).eval()
    analysis = analyze_arch("shufflenet_v2_x1_0", alpha=alpha)
    assert analysis.params == n_params(model)
    assert analysis.macs == flop_counter_macs(model, _meta_input(224))


def test_inception_v3_needs_torchvisions_min_size():
    smallest = _record("inception_v3").meta["min_size"][0]
    assert analyze_arch("inception_v3", resolution=smallest).resolution == smallest
    with pytest.raises(CostlabError, match="stage"):
        analyze_arch("inception_v3", resolution=smallest - 1)


@pytest.mark.parametrize("stage, rules, fragment", [
    (Stage("inception_a", widths=(64, 48, 64)), INCEPTION_RULES, "takes 6 widths"),
    (Stage("shuffle", 57, 2, 2), INCEPTION_RULES, "even"),  # int(c * 1) keeps 57; ShuffleNetV2's rule would give 58
    (Stage("shuffle", 64, 1, 1), SHUFFLENET_V2_RULES, "as many input channels as output channels"),
])
def test_bad_stage_names_its_key(stage, rules, fragment):
    arch = Arch("bad", "custom", 64, None, (Stage("conv", 32, stride=2), stage), rules=rules)
    with pytest.raises(CostlabError, match=fragment):
        analyze_arch(arch)
