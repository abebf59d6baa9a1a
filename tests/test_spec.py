"""TOML architectures: same dataclasses as the built-ins, checked against torch's own counters; strict errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from costlab.nets.registry import ARCHS, analyze_arch
from costlab.errors import CostlabError
from costlab.nets.spec import load_arch

EXAMPLES = [Path(__file__).resolve().parent.parent / "specs" / "examples" / name
            for name in ("tiny_mbconv.toml", "mobilenet_v2_k5.toml")]

MOBILENET_V2_TOML = """
name = "my_mobilenet_v2"
resolution = 224
rules = "mobilenet_v2"
[stem]
channels = 32
{stages}
[head]
channels = 1280
scale = "width_at_least_1"
"""
STAGE = "[[stages]]\nblock = \"mbconv\"\nexpand = {t}\nchannels = {c}\nrepeats = {n}\nstride = {s}\n"
V2_TABLE = [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1)]


def _write(tmp_path, text: str, name: str = "arch.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_examples_load():
    assert EXAMPLES
    pytest.importorskip("torch")
    from conftest import n_params

    from costlab.traced.build import build_arch

    for path in EXAMPLES:
        arch = load_arch(path)
        assert arch.stages
        assert analyze_arch(str(path)).params == n_params(build_arch(str(path)))


def test_toml_mobilenet_v2_equals_torchvision(tmp_path):
    torch = pytest.importorskip("torch")
    torchvision = pytest.importorskip("torchvision")
    from torch.utils.flop_counter import FlopCounterMode

    stages = "".join(STAGE.format(t=t, c=c, n=n, s=s) for t, c, n, s in V2_TABLE)
    path = _write(tmp_path, MOBILENET_V2_TOML.format(stages=stages))
    assert load_arch(path).stages == ARCHS["mobilenet_v2"].stages
    for alpha in (0.5, 1.0, 1.4):
        with torch.device("meta"):
            model = torchvision.models.mobilenet_v2(weights=None, width_mult=alpha)
            with FlopCounterMode(display=False) as counter:
                model(torch.empty(1, 3, 160, 160))
        a = analyze_arch(str(path), alpha=alpha, resolution=160)
        assert a.params == sum(p.numel() for p in model.parameters())
        assert 2 * a.macs == counter.get_total_flops()


def test_what_if_variant_builds_and_traces():
    """MobileNetV2 with 5x5 kernels at alpha 0.6: the built module agrees with torch's counters."""
    torch = pytest.importorskip("torch")
    from torch.utils.flop_counter import FlopCounterMode

    from costlab.traced.build import build_arch

    path = str(Path(__file__).resolve().parent.parent / "specs" / "examples" / "mobilenet_v2_k5.toml")
    with torch.device("meta"):
        model = build_arch(path, alpha=0.6)
        with FlopCounterMode(display=False) as counter:
            model(torch.empty(1, 3, 224, 224))
    a = analyze_arch(path, alpha=0.6)
    assert a.params == sum(p.numel() for p in model.parameters())
    assert 2 * a.macs == counter.get_total_flops()
    assert {r.op.kernel for r in a.rows if r.type == "depthwise"} == {(5, 5)}


GOOD = """name = "t"
resolution = 64
rules = "efficientnet"

[stem]
channels = 16

[[stages]]
block = "mbconv"
channels = 16

[[stages]]
block = "mbconv"
channels = 24
stride = 2
expand = 4
"""


@pytest.mark.parametrize("edit, fragments", [
    (lambda t: t + "colour = 3\n", ["colour", "unknown key"]),
    (lambda t: t.replace('expand = 4', 'expand = 4\nkernal = 3'), ["stages[1].kernal", ":17:", "unknown key"]),
    (lambda t: t.replace('stride = 2', 'stride = "2"'), ["stages[1].stride", ":15:", "must be an integer"]),
    (lambda t: t.replace('resolution = 64', 'resolution = 6.5'), ["resolution", ":2:", "must be an integer"]),
    (lambda t: t.replace('channels = 16\n\n[[', 'channels = 0\n\n[['), ["stem", "channels must be a positive"]),
    (lambda t: t.replace('block = "mbconv"\nchannels = 24', 'block = "mbconvv"\nchannels = 24'),
     ["stages[1]", "unknown block 'mbconvv'"]),
    (lambda t: t.replace('rules = "efficientnet"', 'rules = "efficientnett"'), ["rules", "unknown preset"]),
    (lambda t: t.replace('name = "t"\n', ''), ["missing required key 'name'"]),
    (lambda t: t.replace('resolution = 64', 'resolution = 2') + '[[stages]]\nblock = "maxpool"\nkernel = 3\n',
     ["resolution 2 is too small, the smallest input it takes is 9"]),
    (lambda t: t + '[head]\nchannels = 64\nscale = "huge"\n', ["head", "unknown head scale 'huge'"]),
    (lambda t: t.replace('resolution = 64', 'resolution = = 64'), ["invalid TOML", "line 2"]),
    (lambda t: t.replace('expand = 4', 'expand = 4\n[[stages]]\nblock = "bottleneck"\nchannels = 64\ngroups = 5'),
     ["impossible shape", "groups 5"]),
])
def test_strict_errors_name_file_and_key(tmp_path, edit, fragments):
    path = _write(tmp_path, edit(GOOD))
    with pytest.raises(CostlabError) as info:
        load_arch(path)
    message = str(info.value)
    assert "\n" not in message and str(path) in message
    for fragment in fragments:
        assert fragment in message, message


def test_good_spec_loads(tmp_path):
    arch = load_arch(_write(tmp_path, GOOD))
    assert arch.name == "t" and arch.resolution == 64 and len(arch.stages) == 2


def test_rules_table_overrides_preset(tmp_path):
    text = GOOD.replace('rules = "efficientnet"\n', "") + '[rules]\npreset = "efficientnet"\nact = "relu6"\n'
    arch = load_arch(_write(tmp_path, text))
    assert arch.rules.act == "relu6" and arch.rules.se_act == "silu"


def test_missing_file():
    with pytest.raises(CostlabError, match="not found"):
        load_arch("no/such/arch.toml")


@pytest.mark.parametrize("edit, resolution, fragments", [
    # a pool without padding that meets a 1x1 map is named with its line, and the smallest input that works:
    # stem 3x3/2 pad 1 gives floor((r-1)/2)+1, the stride-2 MBConv floor((n-1)/2)+1, and the 3x3 pool needs 3 pixels,
    # so n >= 5 and r >= 9
    (lambda t: t + '[[stages]]\nblock = "maxpool"\nkernel = 3\nstride = 2\n', "8",
     ["stages[2]", ":17:", "kernel 3", "resolution 8 is too small, the smallest input it takes is 9"]),
    (lambda t: t.replace('expand = 4', 'expand = 4\n[[stages]]\nblock = "bottleneck"\nchannels = 64\ngroups = 5'),
     "64", ["stages[2].groups", ":20:", "groups 5 does not divide the bottleneck width 64"]),
    # a width that rounds a layer down to nothing names the multiplier
    (lambda t: t.replace('rules = "efficientnet"', 'rules = "mobilenet_v1"\nwidth_mult = 0.01'), "64",
     ["stem.channels", "width_mult 0.01 leaves the stem with 0 channels", "width_mult >= 0.0625"]),
])
def test_impossible_shapes_name_the_key_and_line(tmp_path, edit, resolution, fragments):
    path = _write(tmp_path, edit(GOOD).replace("resolution = 64", f"resolution = {resolution}"))
    with pytest.raises(CostlabError) as info:
        load_arch(path)
    message = str(info.value)
    assert "\n" not in message and str(path) in message and "impossible shape" in message
    for fragment in fragments:
        assert fragment in message, message


def test_unreadable_files_are_one_line_errors(tmp_path):
    bad = tmp_path / "x.toml"
    bad.write_bytes(b"\xff\xfe")
    with pytest.raises(CostlabError, match=r"x\.toml.*not UTF-8"):
        load_arch(bad)
    (tmp_path / "d.toml").mkdir()
    with pytest.raises(CostlabError, match=r"d\.toml' is a directory"):
        load_arch(tmp_path / "d.toml")


def test_one_toml_reader_for_every_user_file(tmp_path):
    """Architectures, budgets and device profiles report a syntax error in the same words."""
    from costlab.budget.schema import load_budgets
    from costlab.perf.devices import load_device_file

    path = _write(tmp_path, "a = = 1\n", "bad.toml")
    messages = []
    for loader in (load_arch, load_budgets, load_device_file):
        with pytest.raises(CostlabError) as info:
            loader(path)
        messages.append(str(info.value))
    assert all(m.startswith(f"{path}: invalid TOML: ") and "line 1, column 5" in m for m in messages), messages
