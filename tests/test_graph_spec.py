"""Graph blocks in TOML ([blocks.NAME] tables): the shipped examples against the same networks written independently
in torch (sum(numel), FlopCounterMode / 2 run live), their built modules traced clean, a two-input cell against a
hand-written torch cell, and a hostile set of bad graphs (each one line, exit 2, naming the node, the key and the
line)."""

from __future__ import annotations

from pathlib import Path

import pytest

from costlab.nets.registry import analyze_arch

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402

from conftest import flop_counter_macs, n_params, one_line_exit_2  # noqa: E402

EXAMPLES = Path(__file__).resolve().parent.parent / "specs" / "examples"
INCEPTION, DENSE = str(EXAMPLES / "inception_style.toml"), str(EXAMPLES / "dense_graph.toml")


def _macs(module, resolution: int) -> int:
    return flop_counter_macs(module.eval(), torch.zeros(1, 3, resolution, resolution))


# --- inception_style.toml, written again in torch ------------------------------------------------------------

def basic(cin: int, cout: int, kernel: int, stride: int = 1, padding=None) -> nn.Sequential:
    """GoogLeNet's BasicConv2d with a ReLU module: conv without bias, BatchNorm, ReLU."""
    return nn.Sequential(nn.Conv2d(cin, cout, kernel, stride, kernel // 2 if padding is None else padding, bias=False),
                         nn.BatchNorm2d(cout), nn.ReLU())


class InceptionModule(nn.Module):
    """1x1 | 1x1 -> 3x3 | 1x1 -> 5x5 | 3x3 max pool (stride 1, ceil_mode) -> 1x1, concatenated."""

    def __init__(self, cin: int, w: tuple[int, ...]) -> None:
        super().__init__()
        self.b1 = basic(cin, w[0], 1)
        self.b2 = nn.Sequential(basic(cin, w[1], 1), basic(w[1], w[2], 3))
        self.b3 = nn.Sequential(basic(cin, w[3], 1), basic(w[3], w[4], 5))
        self.b4 = nn.Sequential(nn.MaxPool2d(3, 1, 1, ceil_mode=True), basic(cin, w[5], 1))
        self.out = w[0] + w[2] + w[4] + w[5]

    def forward(self, x):
        return torch.cat([self.b1(x), self.b2(x), self.b3(x), self.b4(x)], 1)


def inception_style_in_torch() -> nn.Module:
    a = InceptionModule(96, (32, 48, 64, 8, 16, 16))
    b = InceptionModule(a.out, (64, 64, 96, 16, 48, 32))
    c = InceptionModule(b.out, (96, 48, 104, 8, 24, 32))
    d = InceptionModule(c.out, (96, 48, 104, 8, 24, 32))
    return nn.Sequential(basic(3, 32, 7, 2, 3), nn.MaxPool2d(3, 2, ceil_mode=True), basic(32, 64, 1),
                         basic(64, 96, 3, 1, 1), nn.MaxPool2d(3, 2, ceil_mode=True), a, b,
                         nn.MaxPool2d(3, 2, ceil_mode=True), c, d, nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                         nn.Linear(d.out, 10))


def dense_graph_in_torch() -> nn.Module:
    import torchvision

    return torchvision.models.DenseNet(growth_rate=12, block_config=(6, 6, 6), num_init_features=24, num_classes=10)


@pytest.mark.parametrize("path, reference", [(INCEPTION, inception_style_in_torch), (DENSE, dense_graph_in_torch)],
                         ids=["inception_style", "dense_graph"])
@pytest.mark.parametrize("resolution", [None, 64])
def test_example_equals_the_net_written_in_torch(path, reference, resolution):
    model = reference()
    analysis = analyze_arch(path, resolution=resolution)
    assert analysis.params == n_params(model)
    assert analysis.macs == _macs(model, analysis.resolution)


def test_dense_graph_counts_what_the_built_in_dense_kind_counts():
    # both files describe torchvision's DenseNet(12, (6, 6, 6), 24) (its numbers: the test above)
    graph, builtin = analyze_arch(DENSE), analyze_arch(str(EXAMPLES / "small_densenet.toml"))
    assert (graph.params, graph.macs) == (builtin.params, builtin.macs) == (n_params(dense_graph_in_torch()),
                                                                          _macs(dense_graph_in_torch(), 64))


@pytest.mark.parametrize("path", [INCEPTION, DENSE], ids=["inception_style", "dense_graph"])
@pytest.mark.parametrize("tracer", ["torch", "fvcore"])
def test_built_module_crosschecks_clean(path, tracer):
    from costlab.traced.crosscheck import check_model

    result = check_model(path, tracer, resolution=64, source="costlab")
    assert result.ok, [c.to_dict() for c in result.layers if not c.ok][:3]
    assert result.traced_macs == result.analytic_macs and result.traced_params == result.analytic_params


# --- a two-input cell: NASNet's wiring in TOML, against a torch cell ------------------------------------------

CELL_TOML = """
name = "two_input"
resolution = 32
rules = "nasnet"

[blocks.cell]
inputs = ["x", "x_prev"]
output = "out"
{passes}
[[blocks.cell.nodes]]
name = "left"
op = "conv"
inputs = ["x_prev"]
channels = "channels"
kernel = 1
bn = true
act = "relu"
order = "act-conv-bn"

[[blocks.cell.nodes]]
name = "right"
op = "conv"
inputs = ["x"]
channels = "channels"
kernel = 1

[[blocks.cell.nodes]]
name = "sep"
op = "sepconv"
inputs = ["right"]
channels = "channels"
kernel = 3

[[blocks.cell.nodes]]
name = "sum"
op = "sum"
inputs = ["sep", "left"]

[[blocks.cell.nodes]]
name = "out"
op = "concat"
inputs = ["left", "sum"]

[[stages]]
block = "conv"
channels = 16
stride = 2

[[stages]]
block = "conv"
channels = 24

[[stages]]
block = "cell"
channels = 8
repeats = 3

[classifier]
classes = 10
"""


class Cell(nn.Module):
    """left = ReLU-1x1 conv-BN(x_prev); right = 1x1 conv(x); out = concat(left, sep3x3(right) + left)."""

    def __init__(self, cin: int, cin_prev: int, c: int) -> None:
        super().__init__()
        self.left = nn.Sequential(nn.ReLU(), nn.Conv2d(cin_prev, c, 1, bias=False), nn.BatchNorm2d(c))
        self.right = nn.Conv2d(cin, c, 1, bias=False)
        self.sep = nn.Sequential(nn.Conv2d(c, c, 3, 1, 1, groups=c, bias=False), nn.Conv2d(c, c, 1, bias=False))

    def forward(self, x, x_prev):
        left = self.left(x_prev)
        return torch.cat([left, self.sep(self.right(x)) + left], 1)


class TwoInputNet(nn.Module):
    """Two conv stages, then three cells each reading (last output, the one before: or, passing x_prev, the same
    previous as the cell before it)."""

    def __init__(self, passes_prev: bool) -> None:
        super().__init__()
        conv = lambda cin, cout, s: nn.Sequential(nn.Conv2d(cin, cout, 3, s, 1, bias=False), nn.BatchNorm2d(cout),
                                                  nn.ReLU())
        self.stem, self.conv = conv(3, 16, 2), conv(16, 24, 1)
        self.passes_prev = passes_prev
        self.cells = nn.ModuleList([Cell(24, 16, 8), Cell(16, 16 if passes_prev else 24, 8), Cell(16, 16, 8)])
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(16, 10))

    def forward(self, x):
        prev = self.stem(x)
        cur = self.conv(prev)
        for cell in self.cells:
            out = cell(cur, prev)
            cur, prev = out, (prev if self.passes_prev else cur)
        return self.head(cur)


@pytest.mark.parametrize("passes", ["", 'passes = "x"', 'passes = "x_prev"'])
def test_two_input_cell_chains_like_the_torch_net(tmp_path, passes):
    path = tmp_path / "two.toml"
    path.write_text(CELL_TOML.replace("{passes}", passes))
    model = TwoInputNet(passes_prev=passes.endswith('"x_prev"'))
    analysis = analyze_arch(str(path))
    assert analysis.params == n_params(model)
    assert analysis.macs == _macs(model, 32)
    from costlab.traced.crosscheck import check_model

    assert check_model(str(path), "torch", source="costlab").ok


# --- hostile graphs ----------------------------------------------------------------------------------------------

BASE = """name = "bad"
resolution = 32
rules = "inception"

[blocks.blk]
output = "cat"

[[blocks.blk.nodes]]
name = "a"
op = "conv"
inputs = ["x"]
channels = 8
kernel = 3

[[blocks.blk.nodes]]
name = "b"
op = "conv"
inputs = ["x"]
channels = 8
kernel = 1

[[blocks.blk.nodes]]
name = "cat"
op = "concat"
inputs = ["a", "b"]

[[stages]]
block = "blk"
"""
EXTRA_NODE = '\n[[blocks.blk.nodes]]\nname = "d"\nop = "bn"\ninputs = ["a"]\n'
SPLIT = '\n\n[[blocks.blk.nodes]]\nname = "s"\nop = "split"\ninputs = ["b"]\nsizes = [{}, {}]'

# (case, [(replace this, with this), ...], the error's line holds this ('@2...': its second one), fragments the one
# error line must name)
HOSTILE = [
    ("unknown input", [('inputs = ["a", "b"]', 'inputs = ["a", "zz"]')], 'inputs = ["a", "zz"]',
     ["blocks.blk.nodes[2].inputs", "node 'cat'", "unknown input 'zz'"]),
    ("cycle", [('name = "a"\nop = "conv"\ninputs = ["x"]', 'name = "a"\nop = "conv"\ninputs = ["cat"]')],
     'inputs = ["cat"]', ["blocks.blk.nodes[0].inputs", "node 'a'", "cycle: a -> cat -> a"]),
    ("self loop", [('inputs = ["a", "b"]', 'inputs = ["cat", "b"]')], 'inputs = ["cat", "b"]',
     ["blocks.blk.nodes[2].inputs", "node 'cat'", "cycle: cat -> cat"]),
    ("duplicated name", [('name = "b"', 'name = "a"')], '@2name = "a"',
     ["blocks.blk.nodes[1].name", "node 'a'", "taken by an earlier node"]),
    ("unknown op", [('op = "concat"', 'op = "join"')], 'op = "join"',
     ["blocks.blk.nodes[2].op", "node 'cat'", "unknown op 'join'"]),
    ("unknown key", [("kernel = 1", "kernel = 1\nchanels = 4")], "chanels = 4",
     ["blocks.blk.nodes[1].chanels", "node 'b'", "does not apply to a 'conv' node"]),
    ("wrong type", [("channels = 8\nkernel = 1", "channels = 8.5\nkernel = 1")], "channels = 8.5",
     ["blocks.blk.nodes[1].channels", "node 'b'", "must be an integer or an expression"]),
    ("channel mismatch", [('op = "concat"', 'op = "sum"'), ("channels = 8\nkernel = 1", "channels = 4\nkernel = 1")],
     'inputs = ["a", "b"]', ["blocks.blk.nodes[2].inputs", "node 'cat'", "needs equal channels, its inputs have 8, 4"]),
    ("size mismatch", [("channels = 8\nkernel = 1", "channels = 8\nkernel = 1\nstride = 2")], 'inputs = ["a", "b"]',
     ["blocks.blk.nodes[2].inputs", "node 'cat'", "same height and width"]),
    ("kernel too large", [("kernel = 3", "kernel = 99\npadding = 0")], "kernel = 99",
     ["blocks.blk.nodes[0].kernel", "node 'a'", "larger than the padded input"]),
    ("unreachable node", [("[[stages]]", EXTRA_NODE + "\n[[stages]]")], 'name = "d"',
     ["blocks.blk.nodes[3].name", "node 'd'", "never reaches the output 'cat'"]),
    ("missing output node", [('output = "cat"', 'output = "result"')], 'output = "result"',
     ["blocks.blk.output", "output 'result' is not a node"]),
    ("unused input", [('output = "cat"', 'output = "cat"\ninputs = ["x", "x_prev"]')], 'inputs = ["x", "x_prev"]',
     ["blocks.blk.inputs", "input 'x_prev' is never read"]),
    ("unread split part", [('inputs = ["a", "b"]', 'inputs = ["a", "s:0"]' + SPLIT.format(4, 4))], "sizes = [4, 4]",
     ["blocks.blk.nodes[3].sizes", "node 's'", "part s:1 of the split is never read"]),
    ("split sizes", [('inputs = ["a", "b"]', 'inputs = ["a", "s:0", "s:1"]' + SPLIT.format(4, 5))], "sizes = [4, 5]",
     ["blocks.blk.nodes[3].sizes", "node 's'", "add up to 9, but the input has 8 channels"]),
    ("too few inputs", [('inputs = ["a", "b"]', 'inputs = ["a"]')], 'inputs = ["a"]',
     ["blocks.blk.nodes[2].inputs", "node 'cat'", "takes at least 2 inputs"]),
    ("expression", [("channels = 8\nkernel = 3", 'channels = "__import__(1)"\nkernel = 3')], "__import__",
     ["blocks.blk.nodes[0].channels", "node 'a'", "cannot use"]),
    ("expression not an integer", [("channels = 8\nkernel = 3", 'channels = "widths[0] / 3"\nkernel = 3'),
                                   ('block = "blk"', 'block = "blk"\nwidths = [8]')], "/ 3",
     ["blocks.blk.nodes[0].channels", "node 'a'", "is 2.66667, not an integer"]),
    ("stage lacks channels", [("channels = 8\nkernel = 3", 'channels = "channels"\nkernel = 3')], "[[stages]]",
     ["stages[0]", "a 'blk' stage needs channels"]),
    ("stage key the block never reads", [('block = "blk"', 'block = "blk"\nexpand = 2')], "expand = 2",
     ["stages[0].expand", "does not apply to a 'blk' block (it takes: repeats)"]),
    ("unknown block", [('block = "blk"', 'block = "bkl"')], 'block = "bkl"',
     ["stages[0].block", "unknown block 'bkl'", "this file's blk"]),
    ("built-in name", [("[blocks.blk]", "[blocks.conv]"), ("[[blocks.blk.nodes]]", "[[blocks.conv.nodes]]")],
     "[blocks.conv]", ["blocks.conv", "'conv' is a built-in block kind"]),
    ("inline nodes", [("[[stages]]", '[blocks.other]\noutput = "n"\nnodes = [{name = "n", op = "bn", inputs = ["x"]}]'
                                     "\n\n[[stages]]")], "nodes = [{name",
     ["blocks.other.nodes", "its own [[blocks.other.nodes]] table"]),
    ("passes with one input", [('output = "cat"', 'output = "cat"\npasses = "x"')], 'passes = "x"',
     ["blocks.blk.passes", "two inputs only"]),
    ("bad activation", [("kernel = 1", 'kernel = 1\nact = "relu9"')], 'act = "relu9"',
     ["blocks.blk.nodes[1].act", "node 'b'", "must be one of relu"]),
]


def _line(text: str, needle: str) -> int:
    """1-based line of the needle ('@2...': its second occurrence)."""
    nth, needle = (int(needle[1]), needle[2:]) if needle.startswith("@") else (1, needle)
    hits = [i for i, line in enumerate(text.splitlines(), 1) if needle in line]
    return hits[nth - 1]


@pytest.mark.parametrize("case", HOSTILE, ids=[c[0] for c in HOSTILE])
def test_bad_graph_is_one_line_naming_node_key_and_line(tmp_path, run, case):
    name, changes, at, fragments = case
    text = BASE
    for before, after in changes:
        assert before in text, before
        text = text.replace(before, after, 1) if not before.startswith("[[blocks") else text.replace(before, after)
    path = tmp_path / "bad.toml"
    path.write_text(text)
    line = one_line_exit_2(run("arch", str(path)), *fragments)
    assert line.startswith(f"costlab: error: {path}:{_line(text, at)}: "), (line, _line(text, at))


def test_a_long_cycle_is_found_without_recursion(tmp_path, run):
    nodes = "".join(f'\n[[blocks.ring.nodes]]\nname = "n{i}"\nop = "bn"\ninputs = ["n{(i + 1) % 900}"]\n'
                    for i in range(900))
    text = f'name = "ring"\nresolution = 32\n\n[blocks.ring]\noutput = "n0"\n{nodes}\n[[stages]]\nblock = "ring"\n'
    path = tmp_path / "ring.toml"
    path.write_text(text)
    line = one_line_exit_2(run("arch", str(path)), "blocks.ring.nodes[0].inputs", "is on a cycle: n0 -> n1 -> n2")
    assert line.startswith(f"costlab: error: {path}:{_line(text, 'inputs = [' + chr(34) + 'n1')}: ")


def test_too_many_nodes(tmp_path, run):
    sources = ["x"] + [f"n{i}" for i in range(1000)]
    nodes = "".join(f'\n[[blocks.big.nodes]]\nname = "n{i}"\nop = "bn"\ninputs = ["{sources[i]}"]\n'
                    for i in range(1001))
    path = tmp_path / "big.toml"
    path.write_text(f'name = "big"\nresolution = 32\n\n[blocks.big]\noutput = "n1000"\n{nodes}\n[[stages]]\n'
                    f'block = "big"\n')
    one_line_exit_2(run("arch", str(path)), "blocks.big.nodes", "has 1,001 nodes; a block has 1 to 1,000")
