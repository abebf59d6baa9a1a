"""The two ways a width multiplier applies to MobileNetV3's table: torchvision's (the default) and the paper's.

References, run live: torchvision 0.29's mobilenet_v3_large / _small(width_mult=...) and timm 1.0.31's
mobilenetv3_*_050 / _075 / _100 (pretrained=False), each sum(p.numel()) and FlopCounterMode / 2 at 224 on the meta
device; the MobileNetV3 paper's Table 3 (Large 0.75: 155M MAdds, 4.0M params).
"""

from __future__ import annotations

import json

import pytest

import costlab
from costlab.nets.registry import analyze_arch
from costlab.nets.tables.mobilenet import MOBILENET_V3_LARGE

torch = pytest.importorskip("torch")
torchvision = pytest.importorskip("torchvision")
timm = pytest.importorskip("timm")

from conftest import flop_counter_macs, n_params, one_line_exit_2  # noqa: E402


def _counts(model) -> tuple[int, int]:
    return n_params(model), flop_counter_macs(model.eval(), torch.empty(1, 3, 224, 224, device="meta"))


@pytest.mark.parametrize("name, alpha", [("mobilenet_v3_large", 0.75), ("mobilenet_v3_small", 0.75),
                                         ("mobilenet_v3_large", 0.5)])
def test_torchvision_rule_is_the_default_and_equals_torchvision_width_mult(name, alpha):
    with torch.device("meta"):
        model = torchvision.models.get_model(name, weights=None, width_mult=alpha)
    default = analyze_arch(name, alpha=alpha)
    assert default.width_rule == "torchvision"
    assert (default.params, default.macs) == _counts(model)
    assert analyze_arch(name, alpha=alpha, width_rule="torchvision") == default


@pytest.mark.parametrize("name, alpha, timm_name", [
    ("mobilenet_v3_large", 0.75, "mobilenetv3_large_075"), ("mobilenet_v3_small", 0.75, "mobilenetv3_small_075"),
    ("mobilenet_v3_small", 0.5, "mobilenetv3_small_050"), ("mobilenet_v3_large", 1.0, "mobilenetv3_large_100"),
    ("mobilenet_v3_small", 1.0, "mobilenetv3_small_100")])
def test_paper_rule_equals_timm(name, alpha, timm_name):
    with torch.device("meta"):
        model = timm.create_model(timm_name, pretrained=False)
    paper = analyze_arch(name, alpha=alpha, width_rule="paper")
    assert paper.width_rule == "paper"
    assert (paper.params, paper.macs) == _counts(model)


def test_the_numbers_and_the_papers_table_3():
    """torchvision's 0.75: 140.0M MACs, 3.38M params; the paper's Table 3 and timm: 155M / 4.0M."""
    tv = analyze_arch("mobilenet_v3_large", alpha=0.75)
    paper = analyze_arch("mobilenet_v3_large", alpha=0.75, width_rule="paper")
    assert (tv.macs, tv.params) == (140_033_816, 3_377_576)
    assert (paper.macs, paper.params) == (154_560_624, 3_993_528)
    assert (round(paper.macs / 1e6), round(paper.params / 1e6, 1)) == (155, 4.0)
    small = analyze_arch("mobilenet_v3_small", alpha=0.75, width_rule="paper")
    assert (small.macs, small.params) == (43_399_344, 2_041_872)


def test_what_the_paper_rule_changes_at_0_75():
    """Block 2 expands 16 -> 64 (x4) in the table: torchvision scales 64 to 48, the paper takes 4 x its scaled input
    16 = 64; the hidden classifier layer stays 1280 wide (torchvision: make_divisible(960) = 960)."""
    tv = {r.name: r for r in analyze_arch("mobilenet_v3_large", alpha=0.75).rows}
    paper = {r.name: r for r in analyze_arch("mobilenet_v3_large", alpha=0.75, width_rule="paper").rows}
    assert (tv["stage2.0.expand.conv"].op.cout, paper["stage2.0.expand.conv"].op.cout) == (48, 64)
    assert (tv["classifier.fc1"].op.fout, paper["classifier.fc1"].op.fout) == (960, 1280)
    assert tv["head.conv"].op.cout == paper["head.conv"].op.cout == 720


def test_cli_and_json_state_the_rule(run):
    table = run("arch", "mobilenet_v3_large", "--alpha", "0.75", "--width-rule", "paper", "--by", "stage")
    assert table.exit_code == 0
    assert "alpha 0.75 (width rule paper)" in table.stdout.splitlines()[0]
    assert "total: 3,993,528 params (3.99M), 154,560,624 MACs" in table.stdout
    data = json.loads(run("arch", "mobilenet_v3_small", "--alpha", "0.75", "--format", "json").stdout)
    assert (data["width_rule"], data["params"], data["macs"]) == ("torchvision", 1_653_920, 39_115_576)
    swept = run("sweep", "mobilenet_v3_large", "--alpha", "0.75", "--resolution", "224", "--width-rule", "paper",
                "--format", "csv")
    assert swept.stdout.splitlines()[1] == "0.75,224,3993528,154560624,309121248"


def test_python_api_takes_the_rule():
    assert costlab.arch("mobilenet_v3_small", alpha=0.75, width_rule="paper").params == 2_041_872
    assert list(costlab.sweep("mobilenet_v3_small", [0.75], [224], width_rule="paper")["macs"]) == [43_399_344]


def test_bad_rule_is_one_line(run):
    one_line_exit_2(run("arch", "mobilenet_v3_large", "--width-rule", "keras"), "--width-rule", "keras")


@pytest.mark.parametrize("name", ["resnet50", "mobilenet_v2", "densenet121"])
def test_paper_rule_where_it_cannot_differ_is_refused(run, name):
    """torchvision's width_mult and timm's paper rule agree on these nets (no absolute expansion sizes, no per-input
    head, no hidden classifier layer): the option would be a silent no-op, so it is refused in one line."""
    one_line_exit_2(run("arch", name, "--alpha", "0.5", "--width-rule", "paper"), "width rule 'paper'",
                    f"changes nothing for {name}")


def _v3_large_toml(rules: str) -> str:
    stages = "".join(f'\n[[stages]]\nblock = "mbconv"\nchannels = {s.channels}\nstride = {s.stride}\n'
                     f'kernel = {s.kernel}\nexpanded = {s.expanded}\nse = {str(s.se).lower()}\nact = "{s.act}"\n'
                     for s in MOBILENET_V3_LARGE)
    return (f'name = "v3"\nresolution = 224\nwidth_mult = 0.75\n{rules}\n[stem]\nchannels = 16\nact = "hardswish"\n'
            f'{stages}\n[head]\nper_input = 6\nact = "hardswish"\n\n[classifier]\nhidden = [1280]\n'
            f'hidden_act = "hardswish"\n')


def test_toml_rules_width_rule_field(tmp_path):
    """MobileNetV3-Large written as TOML at width_mult 0.75: [rules] width_rule = "paper" gives timm's 075."""
    with torch.device("meta"):
        model = timm.create_model("mobilenetv3_large_075", pretrained=False)
    path = tmp_path / "v3.toml"
    path.write_text(_v3_large_toml('[rules]\npreset = "mobilenet_v3"\nwidth_rule = "paper"\n'))
    analysis = analyze_arch(str(path))
    assert analysis.width_rule == "paper"
    assert (analysis.params, analysis.macs) == _counts(model)


def test_toml_bad_width_rule(run, tmp_path):
    path = tmp_path / "v3.toml"
    path.write_text(_v3_large_toml('[rules]\npreset = "mobilenet_v3"\nwidth_rule = "keras"\n'))
    one_line_exit_2(run("arch", str(path)), str(path), ":4:", "rules", "width_rule 'keras'")
