"""Seed 004's Keras blocks as `costlab compare` KINDs against the same blocks written as plain torch modules here,
counted by PyTorch itself (sum of numel, FlopCounterMode / 2), and the seed's own arithmetic.

The seed's helpers: conv = Conv2D with bias, 'same' padding, ReLU; sepconv = SeparableConv2D (depthwise kxk without
bias, pointwise 1x1 with bias, then the activation); dense = Dense with bias; pools 3x3 stride 1 'same'.
"""

import json
import subprocess
import sys

import pytest
import torch
from conftest import flop_counter_macs, n_params, one_line_exit_2
from torch import nn
from torch.nn import functional as F

from costlab.nets.compare import kind_graph, make_setting, parse_kind
from costlab.traced.build import build_module

SIZE = 16


# --- the seed's blocks, written in torch ------------------------------------------------------------------------

def conv(cin, cout, k, bias, groups=1):
    return nn.Sequential(nn.Conv2d(cin, cout, k, padding=k // 2, groups=groups, bias=bias), nn.ReLU())


def sepconv(cin, cout, k, bias, act=True):
    parts = [nn.Conv2d(cin, cin, k, padding=k // 2, groups=cin, bias=False), nn.Conv2d(cin, cout, 1, bias=bias)]
    return nn.Sequential(*parts, *([nn.ReLU()] if act else []))


def bottleneck(cin, f, r, bias):
    return nn.Sequential(conv(cin, f // r, 1, bias), conv(f // r, f // r, 3, bias), conv(f // r, f, 1, bias))


class NaiveInception(nn.Module):
    def __init__(self, cin, f, bias):
        super().__init__()
        self.a, self.b, self.c = conv(cin, f, 1, bias), conv(cin, f, 3, bias), conv(cin, f, 5, bias)
        self.d = nn.MaxPool2d(3, 1, 1)

    def forward(self, x):
        return torch.cat([self.a(x), self.b(x), self.c(x), self.d(x)], 1)


class Inception(NaiveInception):
    def __init__(self, cin, f, r, bias):
        nn.Module.__init__(self)
        self.a = conv(cin, f, 1, bias)
        self.b = nn.Sequential(conv(cin, f // 3, 1, bias), conv(f // 3, f, 3, bias))
        self.c = nn.Sequential(conv(cin, f // r, 1, bias), conv(f // r, f, 5, bias))
        self.d = nn.Sequential(nn.MaxPool2d(3, 1, 1), conv(cin, f, 1, bias))


class PlusInput(nn.Module):
    """add([x, m(x)])."""

    def __init__(self, m):
        super().__init__()
        self.m = m

    def forward(self, x):
        return x + self.m(x)


class ResNeXt(nn.Module):
    def __init__(self, f, r, c, bias):
        super().__init__()
        self.paths = nn.ModuleList(bottleneck(f, f, c * r, bias) for _ in range(c))

    def forward(self, x):
        return x + sum(path(x) for path in self.paths)


def resnext_grouped(f, r, c, bias):
    return PlusInput(nn.Sequential(conv(f, f // r, 1, bias), conv(f // r, f // r, 3, bias, groups=c),
                                   conv(f // r, f, 1, bias)))


class Dense(nn.Module):
    def __init__(self, cin, f, d, bias):
        super().__init__()
        self.convs = nn.ModuleList(conv(cin + i * f, f, 3, bias) for i in range(d))

    def forward(self, x):
        joined = x
        for c in self.convs:
            joined = torch.cat([joined, c(joined)], 1)
        return joined


class SE(nn.Module):
    def __init__(self, f, rate, bias):
        super().__init__()
        self.fc1, self.fc2 = nn.Linear(f, f // rate, bias), nn.Linear(f // rate, f, bias)

    def forward(self, x):
        m = F.adaptive_avg_pool2d(x, 1).flatten(1)
        m = torch.sigmoid(self.fc2(F.relu(self.fc1(m))))
        return x * m[:, :, None, None]


class NASNetNormal(nn.Module):
    def __init__(self, f, bias):
        super().__init__()
        self.a1, self.a2 = sepconv(f, f, 3, bias), sepconv(f, f, 5, bias)
        self.d1, self.d2 = sepconv(f, f, 5, bias), sepconv(f, f, 3, bias)
        self.e2 = sepconv(f, f, 3, bias)
        self.pool = nn.AvgPool2d(3, 1, 1, count_include_pad=False)

    def forward(self, x1, x2):
        a = self.a1(x1) + self.a2(x1)
        b = self.pool(x1) + self.pool(x1)
        c = x1 + self.pool(x2)
        d = self.d1(x2) + self.d2(x1)
        e = x2 + self.e2(x2)
        return torch.cat([a, b, c, d, e], 1)


def inv_residual(f, r, bias):
    return PlusInput(nn.Sequential(conv(f, f * r, 1, bias), sepconv(f * r, f, 3, bias, act=False)))


# (KIND, --cin, --cout, options given, the torch block); no option given means the seed's default: r = 4
# (bottleneck, inception, residual, inv_residual), resnext r = 2 and c = 4, se rate = 16, dense d = 5
CASES = [
    ("bottleneck-seed", 32, 32, {}, lambda b: bottleneck(32, 32, 4, b)),
    ("bottleneck-seed", 16, 48, {"--reduction": 2}, lambda b: bottleneck(16, 48, 2, b)),
    ("bottleneck-seed", 24, 64, {"--reduction": 8}, lambda b: bottleneck(24, 64, 8, b)),
    ("inception-naive", 32, 32, {}, lambda b: NaiveInception(32, 32, b)),
    ("inception-naive", 12, 20, {}, lambda b: NaiveInception(12, 20, b)),
    ("inception", 32, 32, {}, lambda b: Inception(32, 32, 4, b)),
    ("inception", 16, 30, {"--reduction": 3}, lambda b: Inception(16, 30, 3, b)),
    ("inception", 24, 64, {"--reduction": 8}, lambda b: Inception(24, 64, 8, b)),
    ("residual", 32, 32, {}, lambda b: PlusInput(bottleneck(32, 32, 4, b))),
    ("residual", 48, 48, {"--reduction": 2}, lambda b: PlusInput(bottleneck(48, 48, 2, b))),
    ("residual", 64, 64, {"--reduction": 16}, lambda b: PlusInput(bottleneck(64, 64, 16, b))),
    ("resnext", 32, 32, {}, lambda b: ResNeXt(32, 2, 4, b)),
    ("resnext", 48, 48, {"--cardinality": 3, "--reduction": 2}, lambda b: ResNeXt(48, 2, 3, b)),
    ("resnext", 64, 64, {"--cardinality": 8, "--reduction": 1}, lambda b: ResNeXt(64, 1, 8, b)),
    ("resnext", 16, 16, {"--cardinality": 1, "--reduction": 4}, lambda b: ResNeXt(16, 4, 1, b)),
    ("resnext-grouped", 32, 32, {}, lambda b: resnext_grouped(32, 2, 4, b)),
    ("resnext-grouped", 48, 48, {"--cardinality": 3, "--reduction": 2}, lambda b: resnext_grouped(48, 2, 3, b)),
    ("resnext-grouped", 64, 64, {"--cardinality": 8, "--reduction": 1}, lambda b: resnext_grouped(64, 1, 8, b)),
    ("dense", 16, 8, {}, lambda b: Dense(16, 8, 5, b)),
    ("dense", 16, 8, {"--layers": 1}, lambda b: Dense(16, 8, 1, b)),
    ("dense", 32, 12, {"--layers": 3}, lambda b: Dense(32, 12, 3, b)),
    ("se", 64, 64, {}, lambda b: SE(64, 16, b)),
    ("se", 32, 32, {"--reduction": 4}, lambda b: SE(32, 4, b)),
    ("se", 48, 48, {"--reduction": 3}, lambda b: SE(48, 3, b)),
    ("nasnet-normal", 16, 16, {}, lambda b: NASNetNormal(16, b)),
    ("nasnet-normal", 24, 24, {}, lambda b: NASNetNormal(24, b)),
    ("inv-residual", 16, 16, {}, lambda b: inv_residual(16, 4, b)),
    ("inv-residual", 24, 24, {"--reduction": 6}, lambda b: inv_residual(24, 6, b)),
    ("inv-residual", 8, 8, {"--reduction": 1}, lambda b: inv_residual(8, 1, b)),
]


def compare_json(run, *args):
    result = run("compare", *map(str, args), "--format", "json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def inputs_of(kind, cin):
    return [torch.zeros(1, cin, SIZE, SIZE)] * (2 if kind == "nasnet-normal" else 1)


def flat(options):
    return [str(v) for pair in options.items() for v in pair]


@pytest.mark.parametrize("bias", [True, False], ids=["bias", "no-bias"])
@pytest.mark.parametrize("kind,cin,cout,options,torch_block", CASES,
                         ids=[f"{c[0]}-{c[1]}-{c[2]}-{'-'.join(map(str, c[3].values()))}" for c in CASES])
def test_kind_equals_the_torch_block(run, kind, cin, cout, options, torch_block, bias):
    reference = torch_block(bias).eval()
    xs = inputs_of(kind, cin)
    expected = (n_params(reference), flop_counter_macs(reference, *xs))
    (row,) = compare_json(run, kind, "--cin", cin, "--cout", cout, "--size", SIZE, *flat(options),
                          "--bias" if bias else "--no-bias")
    assert (row["params"], row["macs"]) == expected
    assert row["flops"] == 2 * row["macs"]
    with torch.no_grad():
        out = reference(*xs)
    assert row["output_shape"] == list(out.shape[1:])
    # and costlab's graph, built as an nn.Module, runs on the same inputs and PyTorch counts it the same
    setting = make_setting(cin, cout, height=SIZE, width=SIZE, bias=bias,
                           reduction=options.get("--reduction"), cardinality=options.get("--cardinality"),
                           layers=options.get("--layers"))
    built = build_module(kind_graph(parse_kind(kind), setting)).eval()
    assert (n_params(built), flop_counter_macs(built, *xs)) == expected
    with torch.no_grad():
        assert built(*xs).shape == out.shape


# --- what the seed argues ----------------------------------------------------------------------------------------

def test_seed_resnext_example_256_channels_c32_r2_four_per_path(run):
    # the seed: 256 channels, cardinality 32, reduction 2: each path gets 256 / (32 * 2) = 4 channels
    assert 256 // (32 * 2) == 4
    (resnext,) = compare_json(run, "resnext", "--cin", 256, "--cout", 256, "--cardinality", 32, "--reduction", 2)
    (resnet,) = compare_json(run, "residual", "--cin", 256, "--cout", 256, "--reduction", 4)
    # 32 paths of 1x1 256->4, 3x3 4->4, 1x1 4->256; the ResNet block 1x1 256->64, 3x3 64->64, 1x1 64->256
    assert resnext["params"] == 32 * (256 * 4 + 9 * 4 * 4 + 4 * 256) == 70_144
    assert resnet["params"] == 256 * 64 + 9 * 64 * 64 + 64 * 256 == 69_632  # "roughly the same parameter complexity"
    assert resnext["macs"] == 70_144 * 224 * 224
    table = run("compare", "resnext", "resnext-grouped", "--cin", "256", "--cout", "256", "--cardinality", "32",
                "--reduction", "2").stdout
    assert "32 paths of 1x1 256->4, 3x3 4->4, 1x1 4->256" in table
    assert "3x3 128->128 in 32 groups" in table


@pytest.mark.parametrize("cin,c,r", [(256, 32, 2), (64, 4, 2), (96, 3, 4)])
def test_resnext_paths_and_grouped_conv_differ_only_in_biases(run, cin, c, r):
    common = ("--cin", cin, "--cout", cin, "--size", 14, "--cardinality", c, "--reduction", r)
    paths, grouped = compare_json(run, "resnext", "resnext-grouped", *common)
    # without biases the c paths are the grouped 3x3 cut apart: equal params and MACs
    assert (paths["params"], paths["macs"]) == (grouped["params"], grouped["macs"])
    paths_b, grouped_b = compare_json(run, "resnext", "resnext-grouped", *common, "--bias")
    w = cin // (c * r)
    # biases: each path 2w + f, the grouped form 2cw + f: the paths carry (c - 1) * f more
    assert paths_b["params"] - paths["params"] == c * (2 * w + cin)
    assert grouped_b["params"] - grouped["params"] == 2 * c * w + cin
    assert paths_b["params"] - grouped_b["params"] == (c - 1) * cin
    assert paths_b["macs"] == grouped_b["macs"] == paths["macs"]  # bias adds are not MACs


def test_resnext_footer_gives_the_numbers(run):
    out = run("compare", "resnext", "resnext-grouped", "--cin", "256", "--cout", "256", "--size", "56",
              "--cardinality", "32", "--reduction", "2", "--bias").stdout
    # weights 32 * (256*4 + 9*16 + 4*256) = 70,144; MACs 70,144 * 56 * 56 = 219,971,584
    assert "= 70,144; MACs 219,971,584 and 219,971,584" in out
    # biases: paths 32 * (4 + 4 + 256) = 8,448, grouped 128 + 128 + 256 = 512
    assert "params 78,592 and 70,656" in out and "31 x 256 = 7,936 more" in out


def test_inception_reductions_against_the_naive_module(run):
    naive, reduced = compare_json(run, "inception-naive", "inception", "--cin", 192, "--cout", 32, "--size", 28)
    hw = 28 * 28
    # naive: 1x1, 3x3 and 5x5 convs 192 -> 32: 192 * 32 * (1 + 9 + 25) per pixel
    assert naive["macs"] == 192 * 32 * 35 * hw == 168_591_360
    # f//3 = 10, f//r = 32 // 4 = 8: a 192*32, b 192*10 + 9*10*32, c 192*8 + 25*8*32, d 192*32
    per_pixel = 192 * 32 + (192 * 10 + 9 * 10 * 32) + (192 * 8 + 25 * 8 * 32) + 192 * 32
    assert per_pixel == 25_024
    assert reduced["macs"] == per_pixel * hw == 19_618_816
    assert naive["output_shape"] == [3 * 32 + 192, 28, 28] and reduced["output_shape"] == [4 * 32, 28, 28]
    out = run("compare", "inception-naive", "inception", "--cin", "192", "--cout", "32", "--size", "28").stdout
    assert "MACs = 0.116369" in out and 25_024 / 215_040 == pytest.approx(0.116369, abs=5e-7)
    assert "naive 35Mf = 215,040" in out and "= 25,024" in out


@pytest.mark.parametrize("cin,f,size", [(16, 8, 16), (64, 32, 56)])
def test_dense_block_grows_quadratically_in_layers(run, cin, f, size):
    macs = [compare_json(run, "dense", "--cin", cin, "--cout", f, "--size", size, "--layers", d)[0]["macs"]
            for d in range(1, 9)]
    hw = size * size
    # conv d sees cin + (d - 1) f channels: 9 f HW (cin + (d - 1) f) MACs, so the block's first differences grow
    # linearly and its second differences are constant: 9 f^2 HW
    assert macs[0] == 9 * f * hw * cin
    assert [b - a for a, b in zip(macs, macs[1:])] == [9 * f * hw * (cin + (d - 1) * f) for d in range(2, 9)]
    second = [c - 2 * b + a for a, b, c in zip(macs, macs[1:], macs[2:])]
    assert second == [9 * f * f * hw] * 6
    if (cin, f, size) == (64, 32, 56):
        assert second[0] == 28_901_376 and macs[-1] == 1_271_660_544  # the README's table


def test_dense_footer(run):
    out = run("compare", "dense", "--cin", "64", "--cout", "32", "--size", "56", "--layers", "8").stdout
    # 9 * 32 * 56 * 56 * 64 = 57,802,752; 9 * 32 * 32 * 56 * 56 = 28,901,376
    assert "= 57,802,752 + (i-1) x 28,901,376 MACs" in out and "dense (d = 8)" in out


# --- the CLI contract --------------------------------------------------------------------------------------------

def test_json_and_csv_carry_the_options_each_kind_was_built_with(run):
    rows = compare_json(run, "conv", "resnext", "dense", "se", "--cin", 32, "--cout", 32, "--size", 8)
    conv_row, resnext, dense, se = rows
    assert (resnext["reduction"], resnext["cardinality"], resnext["layers"]) == (2, 4, None)  # the seed's defaults
    assert (dense["reduction"], dense["cardinality"], dense["layers"]) == (None, None, 5)
    assert se["reduction"] == 16
    assert (conv_row["reduction"], conv_row["cardinality"], conv_row["layers"]) == (None, None, None)
    rows = compare_json(run, "resnext", "dense", "--cin", 32, "--cout", 32, "--size", 8, "--reduction", 1,
                        "--cardinality", 8, "--layers", 3)
    assert [(r["reduction"], r["cardinality"], r["layers"]) for r in rows] == [(1, 8, None), (None, None, 3)]
    csv = run("compare", "resnext", "dense", "--cin", "32", "--cout", "32", "--size", "8", "--layers", "3",
              "--format", "csv").stdout.splitlines()
    header = csv[0].split(",")
    assert header[-3:] == ["reduction", "cardinality", "layers"]
    assert csv[1].split(",")[-3:] == ["2", "4", ""] and csv[2].split(",")[-3:] == ["", "", "3"]


def test_existing_kinds_carry_no_seed_columns(run):
    (row,) = compare_json(run, "conv", "--cin", 3, "--cout", 8, "--size", 8)
    assert not {"reduction", "cardinality", "layers"} & set(row)


def test_nasnet_cell_takes_two_inputs_of_cin_channels(run):
    # five branches of 16 channels: a, b, c, d, e; five separable convs 16 -> 16 (3, 5, 5, 3, 3)
    (row,) = compare_json(run, "nasnet-normal", "--cin", 16, "--cout", 16, "--size", 8)
    assert row["output_shape"] == [80, 8, 8]
    assert row["params"] == (9 + 25 + 25 + 9 + 9) * 16 + 5 * 16 * 16 == 2_512
    assert row["macs"] == 2_512 * 8 * 8


@pytest.mark.parametrize("args,named", [
    (["residual", "--cin", "32", "--cout", "32", "--reduction", "0"], "--reduction"),
    (["residual", "--cin", "32", "--cout", "32", "--reduction", "-4"], "--reduction"),
    (["residual", "--cin", "32", "--cout", "32", "--reduction", "2.5"], "--reduction"),
    (["residual", "--cin", "32", "--cout", "32", "--reduction", "1000001"], "--reduction"),
    (["resnext", "--cin", "32", "--cout", "32", "--cardinality", "0"], "--cardinality"),
    (["resnext", "--cin", "32", "--cout", "32", "--cardinality", "1001"], "--cardinality"),
    (["resnext", "--cin", "32", "--cout", "32", "--cardinality", "x"], "--cardinality"),
    (["dense", "--cin", "32", "--cout", "32", "--layers", "0"], "--layers"),
    (["dense", "--cin", "32", "--cout", "32", "--layers", "1001"], "--layers"),
    (["conv", "--cin", "32", "--cout", "32", "--reduction", "4"], "--reduction 4"),
    (["residual", "dense", "--cin", "32", "--cout", "32", "--cardinality", "4"], "--cardinality 4"),
    (["resnext", "--cin", "32", "--cout", "32", "--layers", "4"], "--layers 4"),
    (["inception-naive", "--cin", "32", "--cout", "32", "--reduction", "4"], "--reduction 4"),
    (["residual", "--cin", "30", "--cout", "30"], "--cout 30"),
    (["bottleneck-seed", "--cin", "30", "--cout", "30", "--reduction", "8"], "--cout 30"),
    (["resnext", "--cin", "32", "--cout", "32", "--cardinality", "3"], "--cout 32"),
    (["resnext-grouped", "--cin", "32", "--cout", "32", "--cardinality", "32"], "--cardinality 32"),
    (["se", "--cin", "40", "--cout", "40"], "--reduction 16"),
    (["inception", "--cin", "8", "--cout", "2", "--reduction", "2"], "--cout 2"),
    (["inv-residual", "--cin", "1000000", "--cout", "1000000", "--reduction", "2"], "--reduction 2"),
    (["residual", "--cin", "16", "--cout", "32"], "--cin 16"),
    (["nasnet-normal", "--cin", "16", "--cout", "32"], "--cin 16"),
    (["residual", "--cin", "32", "--cout", "32", "--stride", "2"], "--stride 2"),
    (["residual", "--cin", "32", "--cout", "32", "--kernel", "5"], "--kernel 5"),
    (["residual:5", "--cin", "32", "--cout", "32"], "residual:5"),
    (["resnext", "--cin", "32", "--cout", "32", "--groups", "2"], "--groups 2"),
])
def test_bad_values_are_one_line_and_exit_2(run, args, named):
    one_line_exit_2(run("compare", *args), named)


def test_seed_kinds_do_not_import_torch():
    code = ("import sys\nfrom costlab.cli import main\n"
            "try:\n    main(['compare', 'resnext', 'resnext-grouped', 'dense', 'se', 'nasnet-normal', 'inception',\n"
            "          '--cin', '32', '--cout', '32'])\nexcept SystemExit as e:\n    assert e.code == 0, e.code\n"
            "print('HEAVY=' + ','.join(m for m in ('torch', 'torchvision', 'fvcore') if m in sys.modules))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip().splitlines()[-1] == "HEAVY="
