"""`costlab latency --measure` on every kind of network: one built-in of each family, an architecture TOML and any
MODULE:CALLABLE nn.Module, at any --threads and --batch. Every row gets a measured time and the rows are the analytic
ones (or, for a traced model, the leaf calls and containers written out by hand below); the traced roofline is worked
by hand. No timing is asserted: timings depend on the machine and its load (benchmarks/bench_latency.py).
"""

import json
from pathlib import Path

import pytest

from conftest import one_line_exit_2

pytest.importorskip("torch")

ROOT = Path(__file__).resolve().parent.parent

# one built-in of each family of `costlab list`, at the smallest resolution of the sizes tried (Inception-v3's
# stride-2 stem and pools need 75); ResNet-50 is the issue's: its downsample shortcut and residual adds
FAMILIES = [("mobilenet_v1", 32), ("mobilenet_v2", 32), ("mobilenet_v3_small", 32), ("mnasnet0_5", 32),
            ("efficientnet_b0", 32), ("efficientnet_v2_s", 32), ("resnet50", 32), ("densenet121", 32),
            ("squeezenet1_1", 32), ("shufflenet_v2_x0_5", 32), ("googlenet", 32), ("inception_v3", 75)]


def _analytic_names(target: str, resolution: int) -> list[str]:
    from costlab.nets.registry import analyze_arch

    return [r.name for r in analyze_arch(target, resolution=resolution).rows]


def _measured(run, *args) -> dict:
    result = run("latency", *args, "--device", "jetson-nano", "--measure", "--repeats", "1", "--format", "json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


@pytest.mark.parametrize("name,resolution", FAMILIES, ids=[n for n, _ in FAMILIES])
def test_measure_times_every_analytic_row(run, name, resolution):
    data = _measured(run, name, "--resolution", str(resolution))
    layers = data["layers"]
    assert [r["name"] for r in layers] == _analytic_names(name, resolution)
    assert all(r["measured_ms"] is not None and r["measured_ms"] >= 0 for r in layers)
    # the joins are rows of their own, timed around the op: adds, SE multiplies, concats, channel splits
    kinds = {r["name"].rsplit(".", 1)[-1] for r in layers}
    expected = {"resnet50": {"add"}, "efficientnet_b0": {"add", "mul"}, "densenet121": {"concat"},
                "shufflenet_v2_x0_5": {"split", "concat"}, "googlenet": {"concat"}}.get(name, set())
    assert expected <= kinds


def test_measure_at_two_threads_and_batch_4_and_a_toml_spec(run):
    spec = str(ROOT / "specs/examples/small_densenet.toml")
    data = _measured(run, spec, "--resolution", "32", "--threads", "2", "--batch", "4")
    assert (data["threads"], data["batch"], data["resolution"]) == (2, 4, 32)
    assert [r["name"] for r in data["layers"]] == _analytic_names(spec, 32)
    assert all(r["measured_ms"] is not None for r in data["layers"])
    from costlab.nets.registry import analyze_arch

    assert data["macs"] == 4 * analyze_arch(spec, resolution=32).macs  # MACs scale with the batch


TINYNET = '''
import torch
import torch.nn.functional as F
from torch import nn


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(8, 8, 3, padding=1, bias=False)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x):
        y = self.relu(self.conv(x))
        y = self.relu(y)  # the same module called twice: two rows
        return torch.cat([x + y, F.relu(x)], 1)  # computed in the block's own forward


class Odd(nn.Module):
    """A leaf costlab has no op for."""

    def forward(self, x):
        return x.clamp(min=0)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 8, 3, padding=1, bias=False)
        self.block = Block()
        self.odd = Odd()
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.drop = nn.Dropout(0.2)
        self.fc = nn.Linear(16, 10)

    def forward(self, x):
        x = self.odd(self.block(self.stem(x)))
        return self.fc(self.drop(torch.flatten(self.pool(x), 1)))


def build():
    return Net()
'''
# peak 1 GFLOP/s, 1 GB/s, 1 us per op; no cache, no first-touch term
TOY = "peak_flops = 1e9\nmemory_bandwidth = 1e9\noverhead_s = 1e-6\ncpu_model = \"a calibrated CPU\"\n"  # eager CPU terms priced


@pytest.fixture
def tinynet(tmp_path, monkeypatch):
    (tmp_path / "tinynet_latency.py").write_text(TINYNET)
    (tmp_path / "toy.toml").write_text(TOY)
    monkeypatch.chdir(tmp_path)  # MODULE:CALLABLE imports from the working directory
    yield "tinynet_latency:build"


def test_module_callable_rows_are_leaf_calls_and_containers_own_forward(run, tinynet):
    result = run("latency", tinynet, "--device", "toy.toml", "--input", "2,3,16,16", "--measure", "--repeats", "2",
                 "--format", "json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    layers = {r["name"]: r for r in data["layers"]}
    # in execution order: the reused ReLU twice, the block's own add + relu + cat folded into one row named after it,
    # the unknown leaf with a note; Dropout computes nothing and is no row
    assert list(layers) == ["stem", "block.conv", "block.relu", "block.relu#2", "block", "odd", "pool", "fc"]
    assert all(r["measured_ms"] is not None for r in data["layers"])
    assert (data["batch"], data["resolution"]) == (2, 16)
    # MACs by hand, batch 2: stem 8*3*9*256 = 55,296 per image, block.conv 8*8*9*256 = 147,456, fc 16*10 = 160
    assert data["macs"] == 2 * (55_296 + 147_456 + 160) == 405_824
    # the stem by hand: FLOPs 2 * 110,592 = 221,184 -> 221.184 us at 1 GFLOP/s; bytes 4 * (2*768 + 2*2048 + 216) =
    # 23,392 -> 23.392 us at 1 GB/s, so compute-bound; oneDNN runs it (batch 2 > 1) and copies input and output into
    # its blocked layout, 4 * 2 * (768 + 2048) = 22,528 B written and read once: 45.056 us; plus 1 us overhead
    stem = layers["stem"]
    assert (stem["flops"], stem["bytes"], stem["bound"], stem["workspace_bytes"]) == (221_184, 23_392, "compute", 22_528)
    assert stem["predicted_ms"] == pytest.approx(1e-3 * (1 + 221.184 + 45.056))
    # the block's own forward: x + y reads 2 x 4,096 and writes 4,096 elements (49,152 B), F.relu(x) 4,096 + 4,096
    # (32,768 B), torch.cat 8,192 + 8,192 (65,536 B); 1 us each plus bytes at 1 GB/s
    own = layers["block"]
    assert own["bytes"] == 49_152 + 32_768 + 65_536
    assert own["predicted_ms"] == pytest.approx(1e-3 * (3 + 147.456))
    assert own["note"] == "own forward of block: Add, Activation, Concat"
    assert "not priced" in layers["odd"]["note"] and "clamp" in layers["odd"]["note"]
    assert layers["odd"]["predicted_ms"] == 0


def test_module_callable_bad_input(run, tinynet):
    one_line_exit_2(run("latency", tinynet, "--device", "toy.toml", "--input", "2,3,16"), "--input")
    one_line_exit_2(run("latency", tinynet, "--device", "toy.toml", "--input", "2,3,16,16", "--batch", "4"),
                    "--input", "--batch")
    one_line_exit_2(run("latency", "mobilenet_v2", "--device", "toy.toml", "--input", "1,3,64,64"),
                    "--input", "MODULE:CALLABLE")
    one_line_exit_2(run("latency", "tinynet_latency:nothing", "--device", "toy.toml"), "nothing")
