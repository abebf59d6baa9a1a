"""Sizes that grow out of the inputs, and keys or values that cannot go together: each refused in one line naming
what drove it (exit 2, no traceback), quickly. The torch check at the end proves NASNet's widths under --alpha."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from conftest import one_line_exit_2

EXAMPLES = Path(__file__).resolve().parents[1] / "specs" / "examples"
TINY = (EXAMPLES / "tiny_mbconv.toml").read_text()
QUICK = 2.0  # seconds: a refusal comes before any real work


@pytest.fixture
def refused(run, tmp_path):
    """Run costlab on argv (a file text given as {name: text} is written to tmp_path first, '{tmp}' in argv replaced);
    assert the one-line exit-2 contract naming every fragment, within QUICK seconds; return the line."""
    def _refused(argv, *fragments, files=None):
        for name, text in (files or {}).items():
            (tmp_path / name).write_text(text, encoding="utf-8")
        start = time.perf_counter()
        result = run(*[a.replace("{tmp}", str(tmp_path)) for a in argv])
        line = one_line_exit_2(result, *fragments)
        assert time.perf_counter() - start < QUICK, line
        return line
    return _refused


def _stages(n: int, repeats: int) -> str:
    return 'name = "deep"\nresolution = 32\n\n[stem]\nchannels = 8\n' + "".join(
        f'\n[[stages]]\nblock = "mbconv"\nchannels = 8\nrepeats = {repeats}\nexpand = 1\n' for _ in range(n))


# --- 1. derived widths --------------------------------------------------------------------------------------------

def test_expand_times_channels_past_the_width_limit_names_the_stage_keys(refused):
    text = TINY.replace("channels = 160", "channels = 900000").replace("expand = 6", "expand = 64")
    refused(["arch", "{tmp}/net.toml"], "net.toml:", "stages[4]", "57,600,000 channels", "1,000,000", "expand 64",
            files={"net.toml": text})


def test_dense_growth_under_alpha_and_depth_names_both_options(refused):
    refused(["arch", "densenet201", "--alpha", "64", "--depth", "20", "--resolution", "32"],
            "channels", "1,000,000", "--alpha 64", "--depth 20", "repeats 48")


def test_graph_block_channels_expression_past_the_limit(refused, tmp_path):
    refused(["arch", "{tmp}/g.toml"], "channels * 1000000", "1,000,000", files={"g.toml": GRAPH.replace(
        'channels = "channels"', 'channels = "channels * 1000000"')})


def test_compare_dense_block_past_the_width_limit_names_its_options(refused):
    refused(["compare", "dense", "--cin", "64", "--cout", "1000000", "--layers", "1000", "--size", "8"],
            "dense", "1,000,000", "--layers 1000", "--cout 1000000")


# --- 2. network and file size caps --------------------------------------------------------------------------------

def test_more_than_100k_layers_is_refused_before_the_walk(refused):
    refused(["arch", "{tmp}/deep.toml"], "deep.toml:", "layers", "100,000", "repeats 1000",
            files={"deep.toml": _stages(110, 1000)})


def test_a_toml_file_over_one_mib_is_refused_unread(refused):
    text = TINY + "#" * (1 << 20) + "\n"
    refused(["arch", "{tmp}/big.toml"], "big.toml", "1,048,576 bytes", files={"big.toml": text})
    refused(["check", "{tmp}/big.toml"], "big.toml", "1,048,576 bytes")


# --- 3. --depth ---------------------------------------------------------------------------------------------------

def test_depth_past_the_multiplier_limit_names_depth_not_an_internal_key(refused):
    line = refused(["arch", "efficientnet_b7", "--depth", "64"], "--depth 64", "3.1", "64")
    assert "depth x depth_mult" not in line


def test_depth_past_the_block_limit_names_depth(refused):
    refused(["arch", "resnet152", "--depth", "64"], "--depth", "2,304 blocks", "1,000")


@pytest.mark.parametrize("name", ["googlenet", "inception_v3"])
def test_depth_leaves_single_conv_stages_alone(name):
    """torchvision's depth_mult repeats blocks, never a stem-like conv: --depth 2 adds no conv stage's layer."""
    from costlab.nets.registry import analyze_arch

    plain, deep = analyze_arch(name), analyze_arch(name, depth=2)
    assert [r.name for r in plain.rows] == [r.name for r in deep.rows]  # no stage here has blocks to repeat


def test_depth_still_repeats_the_blocks():
    from costlab.nets.registry import analyze_arch

    assert len(analyze_arch("mobilenet_v2", depth=2).rows) > len(analyze_arch("mobilenet_v2").rows)


# --- 5. TOML: exclusive keys, ASCII digits, quoted keys, stride expressions ----------------------------------------

@pytest.mark.parametrize("old, new, fragments", [
    ("expand = 4\n", "expand = 4\nexpanded = 96\n", ("stages[1].expanded", "expand and expanded")),
    ("channels = 640\n", "channels = 640\nper_input = 4\n", ("head.per_input", "channels and per_input")),
    ("classes = 10\n", "classes = 10\nfc = false\n", ("classifier.fc", "classes and fc")),
    ("classes = 10\n", "classes = 10\nhidden_act = \"relu\"\n", ("classifier.hidden_act", "without hidden")),
])
def test_keys_that_cannot_go_together_name_both_and_the_line(refused, old, new, fragments):
    text = TINY.replace(old, new, 1)
    line = next(i for i, s in enumerate(text.splitlines(), 1) if s == new.splitlines()[-1])
    refused(["arch", "{tmp}/net.toml"], f"net.toml:{line}:", *fragments, files={"net.toml": text})


@pytest.mark.parametrize("argv, fragment", [
    (["compare", "conv", "--cin", "\uff11\uff12", "--cout", "8"], "--cin"),
    (["arch", "mobilenet_v2", "--resolution", "\uff13\uff12"], "--resolution"),
    (["arch", "mobilenet_v2", "--alpha", "\u0660.\u0665"], "--alpha"),
    (["sweep", "mobilenet_v2", "--resolution", "\uff13\uff12,64"], "--resolution"),
    (["compare", "conv", "--cin", "3", "--cout", "8", "--padding", "\u0662"], "--padding"),
    (["breakeven", "--n", "1..\uff16"], "--n"),
])
def test_non_ascii_digits_are_refused(refused, argv, fragment):
    refused(argv, fragment)


def test_non_ascii_digits_in_an_expression_are_refused(refused):
    refused(["arch", "{tmp}/g.toml"], "\uff11\uff12", "channels", files={"g.toml": GRAPH.replace(
        'channels = "channels"', 'channels = "\uff11\uff12"')})


def test_quoted_block_name_with_a_space_is_refused_cleanly(refused):
    text = (GRAPH.replace("[blocks.b]", '[blocks."a b"]').replace("blocks.b.nodes", 'blocks."a b".nodes')
            .replace('block = "b"', 'block = "a b"'))
    refused(["arch", "{tmp}/g.toml"], "'a b'", files={"g.toml": text})


@pytest.mark.parametrize("stride", ['"0 * stride"', '"stride - 5"'])
def test_graph_block_stride_expression_is_validated(refused, stride):
    refused(["arch", "{tmp}/g.toml"], "stride", files={"g.toml": GRAPH.replace('stride = "stride * 2"',
                                                                              f"stride = {stride}")})


def test_graph_block_stride_expression_counts_as_the_block_stride(tmp_path):
    from costlab.nets.spec import load_arch
    from costlab.nets.stages import stage_kind

    (tmp_path / "g.toml").write_text(GRAPH)
    stage = load_arch(tmp_path / "g.toml").stages[0]
    assert stage_kind(stage.block).stride(stage) == 2  # "stride * 2" at the stage's stride 1


# --- 6. a budget file given to arch, an architecture to check ------------------------------------------------------

def test_budget_file_to_arch_says_use_check(refused):
    refused(["arch", "{tmp}/b.toml"], "budget file", "costlab check",
            files={"b.toml": '[[budget]]\nmodel = "mobilenet_v2"\nmax_macs = "400M"\n'})


def test_architecture_file_to_check_says_use_arch(refused):
    refused(["check", "{tmp}/net.toml"], "architecture file", "costlab arch", files={"net.toml": TINY})


# --- 7. compare --padding and its JSON ----------------------------------------------------------------------------

def test_padding_that_some_kinds_would_ignore_is_refused(refused):
    refused(["compare", "conv", "bottleneck", "--cin", "8", "--cout", "8", "--size", "8", "--padding", "0"],
            "--padding 0", "bottleneck")


def test_compare_json_carries_its_settings(run):
    import json

    result = run("compare", "conv", "dwsep", "--cin", "8", "--cout", "8", "--size", "8", "--padding", "0",
                 "--format", "json")
    assert result.exit_code == 0, result.output
    for row in json.loads(result.stdout):
        assert (row["padding"], row["convention"], row["bias"], row["groups"]) == (0, "paper", False, 1)


# --- 8. a flatten row's shape -------------------------------------------------------------------------------------

def test_flat_rows_show_their_features_not_a_4d_shape(run):
    result = run("arch", "mobilenet_v2", "--resolution", "32")
    rows = {line.split()[0]: line.split()[1:4] for line in result.stdout.splitlines() if line.startswith("classifier")}
    assert rows["classifier.pool"] == ["pool", "1280x1x1", "1280x1x1"]
    assert rows["classifier.flatten"] == ["flatten", "1280x1x1", "1280"]
    assert rows["classifier.fc"] == ["linear", "1280", "1000"]


# --- 4. NASNet under --alpha against its torch build --------------------------------------------------------------

@pytest.mark.parametrize("name", ["nasnet_a_mobile", "nasnet_a_large"])
@pytest.mark.parametrize("alpha", [0.5, 0.3])
def test_nasnet_alpha_equals_its_torch_build(name, alpha):
    torch = pytest.importorskip("torch")
    from conftest import flop_counter_macs, n_params
    from costlab.nets.registry import analyze_arch
    from costlab.traced.build import build_arch

    a = analyze_arch(name, alpha=alpha, resolution=64)
    with torch.device("meta"):
        model = build_arch(name, alpha=alpha, resolution=64).eval()
    assert (a.params, a.macs) == (n_params(model), flop_counter_macs(model, torch.empty(1, 3, 64, 64, device="meta")))


GRAPH = '''name = "g"
resolution = 32

[stem]
channels = 8

[blocks.b]
output = "c"

[[blocks.b.nodes]]
name = "c"
op = "conv"
inputs = ["x"]
channels = "channels"
kernel = 3
stride = "stride * 2"

[[stages]]
block = "b"
channels = 16
stride = 1
'''
