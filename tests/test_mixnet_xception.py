"""MixNet-S/M and Xception against timm 1.0.31, and the stage keys they need (kernel lists, grouped 1x1 convs, se
ratios, fixed head and classifier widths).

References, all run live in the tests: timm's models (pretrained=False; meta device for counts), sum(p.numel()),
FlopCounterMode / 2 at the native resolution, per-layer FlopCounterMode and fvcore traces of timm's models aligned
with the analytic rows at 64x64, timm's own MixedConv2d, ptflops and thop on timm's Xception, and arithmetic written
out here.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from costlab.nets.registry import ARCHS, TIMM_NAMES, analyze_arch

torch = pytest.importorskip("torch")
timm = pytest.importorskip("timm")

from conftest import flop_counter_macs, n_params, one_line_exit_2, tool_counts  # noqa: E402
from costlab.traced.crosscheck import check_model  # noqa: E402

EXAMPLES = Path(__file__).resolve().parent.parent / "specs" / "examples"
NATIVE = {"mixnet_s": 224, "mixnet_m": 224, "xception": 299}
SMALL = 64


def _timm(name: str, device: str = "meta"):
    with torch.device(device):
        return timm.create_model(name, pretrained=False).eval()


def _meta_input(resolution: int):
    return torch.empty(1, 3, resolution, resolution, device="meta")


# (costlab model or TOML file, alpha, timm model): mixnet_l is timm's _gen_mixnet_m at channel multiplier 1.3
CASES = [("mixnet_s", None, "mixnet_s"), ("mixnet_m", None, "mixnet_m"), ("mixnet_m", 1.3, "mixnet_l"),
         ("xception", None, "legacy_xception"), (str(EXAMPLES / "mixnet_s.toml"), None, "mixnet_s"),
         (str(EXAMPLES / "mixnet_m.toml"), None, "mixnet_m")]


@pytest.mark.parametrize("name, alpha, timm_name", CASES, ids=lambda v: Path(str(v)).name)
def test_params_and_macs_equal_timm_at_native_resolution(name, alpha, timm_name):
    model = _timm(timm_name)
    resolution = model.pretrained_cfg["input_size"][-1]
    analysis = analyze_arch(name, alpha=alpha)
    assert analysis.resolution == resolution
    assert analysis.params == n_params(model)
    assert analysis.macs == flop_counter_macs(model, _meta_input(resolution))


def test_the_numbers_themselves():
    """The totals the tests above prove, as timm 1.0.31 gives them (params, MACs at 224 / 299)."""
    assert (analyze_arch("mixnet_s").params, analyze_arch("mixnet_s").macs) == (4_134_606, 239_173_360)
    assert (analyze_arch("mixnet_m").params, analyze_arch("mixnet_m").macs) == (5_014_382, 339_172_672)
    assert (analyze_arch("mixnet_m", alpha=1.3).params, analyze_arch("mixnet_m", alpha=1.3).macs) == \
        (7_329_252, 555_251_792)
    assert (analyze_arch("xception").params, analyze_arch("xception").macs) == (22_855_952, 8_357_403_496)


def test_registry_and_timm_names():
    assert {n: (ARCHS[n].family, ARCHS[n].resolution) for n in TIMM_NAMES} == {
        "mixnet_s": ("mixnet", 224), "mixnet_m": ("mixnet", 224), "xception": ("xception", 299),
        "nasnet_a_large": ("nasnet", 331)}
    assert set(TIMM_NAMES.values()) <= set(timm.list_models())


@pytest.mark.parametrize("tracer", ["torch", "fvcore"])
@pytest.mark.parametrize("name", ["mixnet_s", "mixnet_m", "xception", str(EXAMPLES / "mixnet_m.toml")],
                         ids=lambda v: Path(v).name)
def test_per_layer_crosscheck_against_timm(name, tracer):
    result = check_model(name, tracer, SMALL, "timm")
    assert result.source == "timm"
    assert result.mismatches == 0, [c.to_dict() for c in result.layers if not c.ok][:3]
    assert result.analytic_macs == result.traced_macs and result.analytic_params == result.traced_params


@pytest.mark.parametrize("name", ["mixnet_s", "xception"])
def test_costlab_build_has_row_names_and_traces_equal(name):
    result = check_model(name, "torch", SMALL, "costlab")
    assert result.mismatches == 0


def test_xception_under_ptflops_and_thop_equals_the_tools():
    """Xception's modules are plain torch ones, so ptflops and thop count it as they count torchvision's models."""
    dims = (1, 3, SMALL, SMALL)
    model = _timm("legacy_xception", "cpu")
    counts = tool_counts(model, dims)
    for tool in ("ptflops", "thop"):
        analysis = analyze_arch("xception", resolution=SMALL, convention=tool)
        assert (analysis.macs, analysis.params) == counts[tool]


def test_mixed_conv_is_timms_mixed_conv2d():
    """timm's MixedConv2d(10, 10, [3, 5, 7], depthwise): channels (4, 3, 3), the remainder to the first group."""
    from timm.layers import MixedConv2d

    from costlab.core.graph import walk
    from costlab.core.shapes import Shape
    from costlab.nets.blocks import mixed_conv

    reference = MixedConv2d(10, 10, [3, 5, 7], depthwise=True)
    assert reference.splits == [4, 3, 3]
    node = mixed_conv("conv", 10, 10, (3, 5, 7), depthwise=True)
    rows, out = walk(node, Shape(10, 16, 16))
    assert [r.name for r in rows] == ["split", "0", "1", "2", "concat"]  # the root's own name is no part of a path
    assert [tuple(r.out_shape.dims) for r in rows[1:4]] == [(4, 16, 16), (3, 16, 16), (3, 16, 16)]
    params = 9 * 4 + 25 * 3 + 49 * 3  # = 258
    assert sum(r.params for r in rows) == params == n_params(reference)
    assert sum(r.macs for r in rows) == params * 16 * 16 == flop_counter_macs(reference, torch.zeros(1, 10, 16, 16))
    built = build_arch_module(node)
    assert [n for n, _ in built.named_modules() if n] == ["0", "1", "2"]  # torch.split / torch.cat run in forward


def build_arch_module(node):
    from costlab.traced.build import build_module

    return build_module(node)


def test_grouped_one_by_one_is_two_halves():
    """timm's a1.1: MixedConv2d(16, 96, [1, 1]), two 1x1 convs 8 -> 48: 2 * 8 * 48 = 768 weights."""
    from timm.layers import MixedConv2d

    from costlab.core.graph import walk
    from costlab.core.shapes import Shape
    from costlab.nets.blocks import mixed_conv

    rows, _ = walk(mixed_conv("conv", 16, 96, (1, 1)), Shape(16, 8, 8))
    assert sum(r.params for r in rows) == 2 * 8 * 48 == n_params(MixedConv2d(16, 96, [1, 1]))


def test_mixnet_block_names_and_se():
    """MixNet-S stage 4's first block: 24 -> 144 (t = 6), depthwise 3/5/7 on 48 channels each, SE 144 -> 12 -> 144
    (se 0.5 of the 24 input channels), project 144 -> 40; the SE pools with x.mean, as timm's SqueezeExcite."""
    rows = {r.name: r for r in analyze_arch("mixnet_s").rows if r.name.startswith("stage4.0.")}
    assert [rows[f"stage4.0.dw.conv.{i}"].op.kernel for i in range(3)] == [(3, 3), (5, 5), (7, 7)]
    assert {rows[f"stage4.0.dw.conv.{i}"].op.cin for i in range(3)} == {48}
    assert rows["stage4.0.se.fc1"].params == 144 * 12 + 12
    assert rows["stage4.0.se.avgpool"].op_name == "SpatialMean"
    assert rows["stage4.0.project.conv"].params == 144 * 40


def test_alpha_leaves_the_mixnet_head_fixed():
    rows = {r.name: r for r in analyze_arch("mixnet_m", alpha=1.3).rows}
    assert rows["head.conv"].op.cout == 1536 and rows["classifier.fc"].params == 1536 * 1000 + 1000


# --- the new stage keys in TOML ------------------------------------------------------------------------

TINY = """name = "tiny"
resolution = 32
rules = "mixnet"

[stem]
channels = 16

[[stages]]
block = "mbconv"
channels = 24
stride = 2
expand = 6
kernel = [3, 5, 7]
se = 0.5
expand_groups = 2
project_groups = 2

[classifier]
hidden = [100]
hidden_scale = "fixed"
"""


def _write(tmp_path, text: str) -> str:
    path = tmp_path / "tiny.toml"
    path.write_text(text)
    return str(path)


def test_new_keys_count_by_hand(tmp_path):
    """16 -> 96 (grouped 1x1: 2 x 8 x 48), depthwise 3/5/7 on 32 channels each, SE 96 -> 8 -> 96 (se 0.5 of 16),
    project 96 -> 24 (2 x 48 x 12); at alpha 0.5 the fixed hidden layer keeps its 100 units."""
    rows = {r.name: r for r in analyze_arch(_write(tmp_path, TINY)).rows}
    assert sum(rows[f"stage1.0.expand.conv.{i}"].params for i in range(2)) == 2 * 8 * 48
    assert [rows[f"stage1.0.dw.conv.{i}"].params for i in range(3)] == [9 * 32, 25 * 32, 49 * 32]
    assert rows["stage1.0.se.fc1"].params == 96 * 8 + 8
    assert sum(rows[f"stage1.0.project.conv.{i}"].params for i in range(2)) == 2 * 48 * 12
    assert rows["classifier.fc1"].params == 24 * 100 + 100
    half = {r.name: r for r in analyze_arch(_write(tmp_path, TINY), alpha=0.5).rows}
    assert half["classifier.fc1"].params == 16 * 100 + 100  # 24 x 0.5 -> make_divisible 16; the 100 kept


@pytest.mark.parametrize("old, new, fragments", [
    ("kernel = [3, 5, 7]", "kernel = [3, 4]", ["stages[0].kernel", ":13:", "odd, got 4"]),
    ("kernel = [3, 5, 7]", "kernel = [3, 0]", ["stages[0].kernel", ":13:", "positive integer, got 0"]),
    ("kernel = [3, 5, 7]", "kernel = []", ["stages[0].kernel", ":13:", "at least one"]),
    ("kernel = [3, 5, 7]", 'kernel = "3"', ["stages[0].kernel", ":13:", "an integer or a list of integers"]),
    ("se = 0.5", "se = 0", ["stages[0].se", ":14:", "above 0 and at most 1, got 0"]),
    ("se = 0.5", "se = -0.25", ["stages[0].se", ":14:", "above 0 and at most 1, got -0.25"]),
    ("se = 0.5", "se = 1.5", ["stages[0].se", ":14:", "above 0 and at most 1, got 1.5"]),
    ("se = 0.5", 'se = "half"', ["stages[0].se", ":14:", "true, false or a number"]),
    ("expand_groups = 2", "expand_groups = 5", ["stages[0].expand_groups", ":15:", "5 does not divide"]),
    ("project_groups = 2", "project_groups = 7", ["stages[0].project_groups", ":16:", "7 does not divide"]),
    ("expand = 6", "expand = 1", ["stages[0].expand_groups", ":15:", "needs an expand conv"]),
    ('block = "mbconv"', 'block = "dwsep"\nexpanded_x = 1', ["stages[0].expanded_x", "unknown key"]),
    ('hidden_scale = "fixed"', 'hidden_scale = "fixd"', ["classifier", "hidden_scale", "fixd"]),
    ('rules = "mixnet"', '[rules]\npreset = "mixnet"\nse_pool = "max"', ["rules", "se_pool", "'max'"]),
])
def test_bad_new_keys_exit_2_naming_file_key_and_line(run, tmp_path, old, new, fragments):
    assert old in TINY
    path = _write(tmp_path, TINY.replace(old, new))
    one_line_exit_2(run("arch", path), path, *fragments)


def test_kernel_list_refused_where_nothing_mixes(run, tmp_path):
    path = _write(tmp_path, TINY.split("[[stages]]")[0] + '[[stages]]\nblock = "dwsep"\nchannels = 24\nkernel = [3, 5]\n')
    one_line_exit_2(run("arch", path), path, "stages[0].kernel", ":11:", "applies to mbconv blocks")


def test_crosscheck_without_timm_says_install_in_one_line(run, monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "timm" else real(name, *a))
    one_line_exit_2(run("crosscheck", "mixnet_s", "--tracer", "torch", "--source", "timm"), "--source timm", "timm",
                    "pip install timm")


def test_crosscheck_without_timm_traces_costlabs_build_and_says_so(run, monkeypatch):
    """timm is an optional reference: without it the default source of a timm model is costlab's own build."""
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "timm" else real(name, *a))
    result = run("crosscheck", "mixnet_s", "--tracer", "torch", "--resolution", str(SMALL))
    assert result.exit_code == 0, result.output
    assert "mixnet_s @64 [costlab, tracer torch vs convention paper]" in result.stdout and ", OK;" in result.stdout


def test_crosscheck_cli_defaults_to_timm(run):
    result = run("crosscheck", "xception", "--tracer", "torch", "--resolution", str(SMALL))
    assert result.exit_code == 0, result.output
    assert "xception @64 [timm, tracer torch vs convention paper]" in result.stdout and ", OK;" in result.stdout
