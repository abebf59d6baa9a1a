"""Alignment catches what it must (wrong MACs, a missing layer, a shape or type mismatch) and the CLI contract."""

import json

import pytest

torch = pytest.importorskip("torch")

from costlab.core.analyze import analyze  # noqa: E402
from costlab.nets.blocks import conv_bn_act, mbconv  # noqa: E402
from costlab.traced.build import build_module  # noqa: E402
from costlab.traced.crosscheck import crosscheck  # noqa: E402
from costlab.core.graph import Layer, seq  # noqa: E402
from costlab.core.ops import AdaptiveAvgPool2d, Flatten, Linear  # noqa: E402
from costlab.core.shapes import Shape  # noqa: E402
from costlab.traced.tracers import run_tracer  # noqa: E402


def tiny(k=3, se=4, head=10):
    return seq("net", conv_bn_act("stem", 3, 16, 3, 2, act="silu"),
               mbconv("b1", 16, 16, k, 1, 64, se_channels=se, act="silu", se_act="silu"),
               Layer("pool", AdaptiveAvgPool2d()), Layer("flat", Flatten()), Layer("fc", Linear(16, head)))


def check(model_net, analytic_net, tracer="fvcore"):
    convention = "fvcore" if tracer == "fvcore" else "paper"
    trace = run_tracer(tracer, build_module(model_net).eval(), (1, 3, 32, 32))  # counted in the mode it is in
    return crosscheck(analyze(analytic_net, Shape(3, 32, 32), convention, "tiny"), trace, "costlab")


@pytest.mark.parametrize("tracer", ["fvcore", "torch"])
def test_same_graph_has_no_mismatch(tracer):
    result = check(tiny(), tiny(), tracer)
    assert result.ok and result.analytic_macs == result.traced_macs
    assert {layer.name for layer in result.layers if layer.module == "(functional)"} == {"b1.se.mul", "b1.add"}


def test_wrong_kernel_is_a_shape_preserving_mismatch():
    result = check(tiny(k=5), tiny(k=3))
    bad = [layer for layer in result.layers if not layer.ok]
    assert [layer.name for layer in bad] == ["b1.dw.conv"]
    assert bad[0].traced_macs - bad[0].analytic_macs == 64 * (25 - 9) * 16 * 16


def test_missing_layer_is_reported_as_misaligned():
    result = check(tiny(se=4), tiny(se=0))  # the model has an SE block the analysis lacks
    assert not result.ok
    assert any("misaligned" in layer.problem or "no analytic row" in layer.problem for layer in result.layers)


def test_wrong_head_is_caught_by_shape():
    result = check(tiny(head=10), tiny(head=12))
    bad = [layer for layer in result.layers if not layer.ok]
    assert bad and bad[0].name == "fc" and "shape" in bad[0].problem


# ---- CLI


def test_cli_crosscheck_json(run):
    result = run("crosscheck", "mnasnet0_5", "--tracer", "torch", "--resolution", "64", "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert {"name", "analytic_macs", "traced_macs", "mismatches", "layers"} <= set(data)
    assert data["mismatches"] == 0 and data["analytic_macs"] == data["traced_macs"]
    assert data["uncounted_ops"]["add"] == 10


def test_cli_crosscheck_table_and_strict(run):
    result = run("crosscheck", "mobilenet_v3_small", "--resolution", "64")
    assert result.exit_code == 0, result.output
    assert "features.0.0" in result.stdout and "uncounted ops: hardswish_ x19" in result.stdout
    assert run("crosscheck", "mobilenet_v3_small", "--resolution", "64", "--strict").exit_code == 1


def test_cli_crosscheck_all_is_every_builtin(run):
    """`all` is every built-in model, each traced from torchvision's model exactly when torchvision has one
    (torchvision.models.list_models()), else from timm's where timm has one (timm.list_models()), at 75
    (Inception-v3's smallest input); no mismatch, no progress line."""
    import timm
    import torchvision

    from costlab.nets.registry import list_archs

    result = run("crosscheck", "all", "--tracer", "torch", "--resolution", "75", "--format", "json")
    assert result.exit_code == 0 and result.stderr == "", result.stderr
    data = json.loads(result.stdout)
    assert [r["name"] for r in data] == [a.name for a in list_archs()]
    torchvision_has = set(torchvision.models.list_models())
    timm_name = {"mixnet_s": "mixnet_s", "mixnet_m": "mixnet_m", "nasnet_a_large": "nasnetalarge",
                 "xception": "legacy_xception"}
    timm_has = {name for name, theirs in timm_name.items() if theirs in timm.list_models()}
    expected = {r["name"]: "torchvision" if r["name"] in torchvision_has else "timm" if r["name"] in timm_has
                else "costlab" for r in data}
    assert {r["name"]: r["source"] for r in data} == expected
    # the paper's NASNet-A Mobile is in neither zoo; MobileNetV1 is in neither
    assert {r["name"] for r in data if r["source"] == "costlab"} == {"mobilenet_v1", "mobilenet_v1_full",
                                                                    "nasnet_a_mobile"}
    assert sum(r["mismatches"] for r in data) == 0 and all(r["resolution"] == 75 for r in data)


def test_cli_unknown_model_suggests(run):
    result = run("crosscheck", "mobilenet_v22")
    assert result.exit_code == 2 and "mobilenet_v2" in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_cli_analyze(run, tmp_path, monkeypatch):
    (tmp_path / "usernet.py").write_text(
        "import torch.nn as nn\n"
        "def net():\n    return nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8), nn.ReLU())\n"
        "def notmodule():\n    return 3\n"
        "value = 5\n")
    monkeypatch.chdir(tmp_path)
    result = run("analyze", "usernet:net", "--input", "2,3,10,10", "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["macs"] == 2 * 8 * 3 * 9 * 8 * 8 and data["params"] == 3 * 8 * 9 + 8 + 16
    assert data["tracer"] == "torch" and data["uncounted_ops"]["relu"] == 1
    fv = json.loads(run("analyze", "usernet:net", "--input", "2,3,10,10", "--convention", "fvcore",
                        "--format", "json").stdout)
    assert fv["macs"] == data["macs"] + 2 * 2 * 8 * 8 * 8 and fv["tracer"] == "formulas"
    for args, words in [(["nosuchmod:net"], "cannot import"), (["usernet:missing"], "no attribute"),
                        (["usernet:value"], "not callable"), (["usernet:notmodule"], "not a torch.nn.Module"),
                        (["usernet:net", "--input", "1,3,a"], "--input"), (["usernet"], "MODULE:CALLABLE")]:
        bad = run("analyze", *args)
        assert bad.exit_code == 2, (args, bad.output)
        assert words in bad.stderr and len(bad.stderr.strip().splitlines()) == 1


class _ConvTwice(torch.nn.Module):
    """One conv called on the input and on its every-other-pixel subsample: one module, two calls, two shapes."""

    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 8, 3, padding=1)

    def forward(self, x):
        return self.conv(x), self.conv(x[:, :, ::2, ::2])


@pytest.mark.parametrize("tracer", ["fvcore", "torch", "formulas", "ptflops", "thop"])
def test_reused_module_gets_each_calls_own_macs(tracer):
    """Each call carries what the tool counts for the conv run alone at that call's input (fvcore, per module
    only, is split by costlab's formulas: exact when they agree with fvcore per call)."""
    from conftest import flop_counter_macs, fvcore_total, tool_counts

    model = _ConvTwice().eval()
    trace = run_tracer(tracer, model, (1, 3, 32, 32))
    calls = [layer for layer in trace.layers if not layer.functional]

    def tool_alone(size):  # what the tool itself counts for the conv run alone (formulas: the paper count by hand)
        x = torch.zeros(1, 3, size, size)
        if tracer in ("ptflops", "thop"):
            return tool_counts(model.conv, (1, 3, size, size))[tracer][0]
        return {"torch": flop_counter_macs, "fvcore": fvcore_total}.get(tracer, lambda m, _: 8 * 27 * size * size)(
            model.conv, x)

    alone = [tool_alone(size) for size in (32, 16)]
    assert [c.name for c in calls] == ["conv", "conv"] and alone[0] == 4 * alone[1]
    assert [c.macs for c in calls] == alone and trace.total_macs == sum(alone)
    assert [c.params for c in calls] == [8 * 3 * 9 + 8, 0]
