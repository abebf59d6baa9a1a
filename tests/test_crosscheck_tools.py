"""`crosscheck --tracer ptflops|thop` on built-ins whose code the tools see in their own way: every layer agrees and
the totals equal the tool's own, run live here.

- Inception-v3's blocks call F.avg_pool2d in their own forward before branch_pool's BasicConv2d: ptflops charges it
  to the block (a functional pool, 1 per input element), and so must the check.
- ptflops and thop hook modules by their exact class: timm's BatchNormAct2d, Conv2dSame, MaxPool2dSame and
  AvgPool2dSame count only what the functions their forward calls count (BatchNorm and conv 0; a pool ptflops' 1 per
  element of its padded input), and the conventions' record (hooks_by_class) says so.
"""

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("ptflops")
pytest.importorskip("thop")

from conftest import tool_counts  # noqa: E402
from costlab.traced.crosscheck import build_model, check_model  # noqa: E402


def _tool(name, source, resolution, tracer):
    return tool_counts(build_model(name, source, device="cpu"), (1, 3, resolution, resolution))[tracer]


def test_inception_v3_functional_pool_is_charged_to_the_block():
    """At 75 the first Inception block (Mixed_5b) sees 192 x 7 x 7 (stem: 37, 35, 35, pool 17, 17, 15, pool 7):
    ptflops counts its functional 3x3 avg pool 192 * 49 = 9,408."""
    result = check_model("inception_v3", "ptflops", resolution=75)
    assert result.ok, [layer for layer in result.layers if not layer.ok][:5]
    (pool,) = [layer for layer in result.layers if layer.name == "stage8.branch_pool.pool"]
    assert (pool.traced_name, pool.analytic_macs) == ("Mixed_5b", 192 * 7 * 7)
    assert sum(layer.traced_macs for layer in result.layers if layer.traced_name == "Mixed_5b") == 192 * 7 * 7
    assert (result.analytic_macs, result.analytic_params) == (result.traced_macs, result.traced_params) \
        == _tool("inception_v3", "torchvision", 75, "ptflops")


@pytest.mark.parametrize("tracer", ["ptflops", "thop"])
def test_timm_batchnormact2d_is_what_the_tool_counts(tracer):
    """MixNet-S's 49 BatchNormAct2d: 0 under both tools (no hook for the subclass; F.batch_norm is not patched).
    thop counts the params of the modules it hooks only; costlab every one (README: where costlab differs)."""
    result = check_model("mixnet_s", tracer, resolution=64, source="timm")
    assert result.ok, [layer for layer in result.layers if not layer.ok][:5]
    macs, params = _tool("mixnet_s", "timm", 64, tracer)
    assert result.analytic_macs == result.traced_macs == macs
    model = build_model("mixnet_s", "timm", device="cpu")
    assert result.analytic_params == sum(p.numel() for p in model.parameters())
    if tracer == "ptflops":
        assert result.analytic_params == params
    assert [note.split(" (x")[0][-len("BatchNormAct2d"):] for note in result.notes] == ["BatchNormAct2d"]
    assert "(x49)" in result.notes[0]
    bn = [layer for layer in result.layers if layer.module == "BatchNormAct2d"]
    assert len(bn) == 49 and {(layer.analytic_macs, layer.traced_macs) for layer in bn} == {(0, 0)}


def test_timm_same_padding_modules_under_ptflops():
    """NASNet-A Large (timm) has 16 Conv2dSame (0 to ptflops), 8 MaxPool2dSame and 4 AvgPool2dSame (F.max_pool2d and
    F.avg_pool2d are patched: 1 per element of the padded input) and a BatchNormAct2d stem norm."""
    result = check_model("nasnet_a_large", "ptflops", resolution=96, source="timm")
    assert result.ok, [layer for layer in result.layers if not layer.ok][:5]
    assert (result.analytic_macs, result.analytic_params) == (result.traced_macs, result.traced_params) \
        == _tool("nasnet_a_large", "timm", 96, "ptflops")
    assert sorted(note.split(" has none for ")[1] for note in result.notes) == [
        "AvgPool2dSame (x4): counted as ptflops counts it, by the functions its forward calls",
        "BatchNormAct2d (x1): counted as ptflops counts it, by the functions its forward calls",
        "Conv2dSame (x16): counted as ptflops counts it, by the functions its forward calls",
        "MaxPool2dSame (x8): counted as ptflops counts it, by the functions its forward calls"]
