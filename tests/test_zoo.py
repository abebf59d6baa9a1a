"""`analyze` on a zoo nobody here wrote: timm 1.0.31 (pretrained=False) and torchvision (weights=None) models.

For each model, costlab's public path (`costlab.count("MODULE:CALLABLE", ...)`, the meta device by default, CPU
where meta cannot serve) against references computed here on the model built independently on CPU:
params = sum(p.numel()), paper MACs = FlopCounterMode / 2, fvcore MACs = FlopCountAnalysis(model, x).total(), and the
ptflops and thop conventions against those tools' own totals. Small inputs (64x64; 75x75 for Inception-v3, its
smallest) keep it fast; every layer still goes through PyTorch's rounding. The per-layer rows must sum to the totals,
params included.
"""

import importlib

import pytest

torch = pytest.importorskip("torch")
timm = pytest.importorskip("timm")

import costlab  # noqa: E402
from conftest import flop_counter_macs, fvcore_total, n_params, tool_counts  # noqa: E402

TIMM = ["mobilenetv3_large_100", "mobilenetv3_small_100", "mobilenetv3_large_075", "mobilenetv3_small_075",
        "tf_efficientnet_b0", "efficientnet_lite0", "mixnet_s", "mnasnet_100", "semnasnet_100", "fbnetc_100",
        "lcnet_100", "ghostnet_100", "tinynet_a", "efficientnetv2_rw_s", "resnet50"]
TORCHVISION = ["densenet121", "googlenet", "inception_v3", "shufflenet_v2_x1_0", "squeezenet1_0", "regnet_y_400mf"]
ZOO = [f"timm.models:{name}" for name in TIMM] + [f"torchvision.models:{name}" for name in TORCHVISION]


def _input(spec: str) -> tuple[int, ...]:
    size = 75 if spec.endswith("inception_v3") else 64
    return (1, 3, size, size)


class Zoo:
    """One model: the references, each from the tool that defines it, and costlab's analyses under each convention."""

    def __init__(self, spec: str) -> None:
        module, name = spec.split(":")
        model = getattr(importlib.import_module(module), name)().eval()  # timm: pretrained=False by default
        self.spec, self.dims = spec, _input(spec)
        x = torch.zeros(self.dims)
        self.params = n_params(model)
        self.paper = flop_counter_macs(model, x)
        self.fvcore = fvcore_total(model, x)
        self.tools = {convention: macs for convention, (macs, _) in tool_counts(model, self.dims).items()}
        self.costlab = {c: costlab.count(spec, self.dims, convention=c) for c in ("paper", "fvcore", "ptflops", "thop")}


@pytest.fixture(scope="module", params=ZOO, ids=lambda spec: spec.split(":")[1])
def zoo(request) -> Zoo:
    return Zoo(request.param)


def _rows_sum(analysis) -> tuple[int, int]:
    rows = analysis.row_dicts()
    return sum(r["params"] for r in rows), sum(r["macs"] for r in rows)


def test_params(zoo):
    for analysis in zoo.costlab.values():
        assert analysis.params == zoo.params


def test_paper_is_flop_counter_mode(zoo):
    analysis = zoo.costlab["paper"]
    assert analysis.macs == zoo.paper
    assert _rows_sum(analysis) == (zoo.params, zoo.paper)


def test_fvcore_is_flop_count_analysis(zoo):
    analysis = zoo.costlab["fvcore"]
    assert analysis.macs == zoo.fvcore
    assert _rows_sum(analysis) == (zoo.params, zoo.fvcore)
    assert analysis.unpriced == {} and analysis.tracer == "formulas"


@pytest.mark.parametrize("convention", ["ptflops", "thop"])
def test_tool_conventions_are_the_tools(zoo, convention):
    analysis = zoo.costlab[convention]
    assert analysis.macs == zoo.tools[convention]
    assert _rows_sum(analysis) == (zoo.params, zoo.tools[convention])


def test_regnet_falls_back_to_cpu_and_says_so():
    """torchvision's RegNet computes its widths with tensor ops while it is built: the meta device cannot build it."""
    analysis = costlab.count("torchvision.models:regnet_y_400mf", (1, 3, 64, 64))
    assert analysis.device == "cpu" and analysis.tracer == "torch"
    (note,) = analysis.notes
    assert "Cannot copy out of meta tensor" in note and "counted on cpu at batch 1" in note
