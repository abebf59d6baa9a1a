"""Latency budgets: `max_latency_ms` on a `device`, predicted by the roofline (deterministic, so CI can gate on it),
reported in the table, JSON, JUnit and the GitHub step summary beside MACs and params.

Every limit here is chosen so that pass or fail follows from hand arithmetic on the profile's numbers: a toy
profile whose per-op overhead dwarfs everything else, and the shipped jetson-nano profile's spec-sheet values as
its TOML writes them (peak 235.9e9 FLOP/s, 25.6e9 B/s, 10 us per op).
"""

import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from conftest import one_line_exit_2

import costlab
from costlab.budget.check import check_file

ROOT = Path(__file__).resolve().parent.parent

# 1 ms per op, and compute and bandwidth so fast (1e15/s) that everything else is below a microsecond per network
SLOW_DISPATCH = "peak_flops = 1e15\nmemory_bandwidth = 1e15\noverhead_s = 1e-3\n"
# MobileNetV1 (Howard et al. 2017, Table 1): 27 convs (a 3x3 stem, 13 depthwise, 13 pointwise), each with
# BatchNorm and ReLU, then average pool, flatten and the FC layer: 27 x 3 + 3 = 84 ops -> 84 ms plus under 0.01 ms
# (1.14 GFLOPs and ~0.1 GB at 1e15/s are ~1.2 us)
MOBILENET_V1_OPS = 84


@pytest.fixture(autouse=True)
def no_github(monkeypatch):
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)


@pytest.fixture
def files(tmp_path):
    (tmp_path / "slow.toml").write_text(SLOW_DISPATCH)

    def write(text: str, name: str = "b.toml") -> str:
        (tmp_path / name).write_text(text)
        return str(tmp_path / name)

    return write


def _budget(limit, device='"slow.toml"', model="mobilenet_v1", extra=""):
    return f'[[budget]]\nmodel = "{model}"\n{extra}max_latency_ms = {limit}\ndevice = {device}\n'


def test_a_latency_budget_passes_and_one_fails_by_hand(files, tmp_path):
    (ok,) = check_file(files(_budget(MOBILENET_V1_OPS + 0.5)))
    (bad,) = check_file(files(_budget(MOBILENET_V1_OPS - 0.5)))
    assert ok.ok and not bad.ok
    assert ok.actual == pytest.approx(MOBILENET_V1_OPS, abs=0.01) and ok.device == "slow"
    assert (ok.metric, ok.key, ok.limit) == ("latency_ms", "max_latency_ms", 84.5)
    # the same through the Python API, with the profile's path
    slow = str(tmp_path / "slow.toml")
    costlab.assert_budget("mobilenet_v1", max_latency_ms=84.5, device=slow)
    with pytest.raises(AssertionError, match=r"latency_ms 84\.00\d ms on slow exceeds max_latency_ms 83\.500 ms"):
        costlab.assert_budget("mobilenet_v1", max_latency_ms=83.5, device=slow)


def test_latency_scales_with_the_batch_of_the_input(files):
    # batch 2: the same 84 ops, each still one dispatch: still 84 ms plus microseconds
    (r,) = check_file(files(_budget(84.5, extra="input = [2, 3, 224, 224]\n")))
    assert r.ok and r.actual == pytest.approx(MOBILENET_V1_OPS, abs=0.01)


ONE_CONV = '''
from torch import nn


def build():
    return nn.Sequential(nn.Conv2d(3, 16, 3, padding=1, bias=False))
'''


def test_jetson_nano_latency_of_one_conv_by_hand(files, tmp_path, monkeypatch):
    """Conv 3 -> 16, 3x3, on 1x3x32x32, on jetson-nano as its TOML writes it: peak 235.9e9 FLOP/s, 25.6e9 B/s, 10 us.

    FLOPs 2 * 16*3*9*1024 = 884,736 -> 3.7505 us; bytes 4 * (3,072 + 16,384 + 432) = 79,552 -> 3.1075 us: compute-
    bound. A spec sheet pays no CPU eager copies (aten's im2col on a CPU): total 10 + 3.7505 = 13.7505 us.
    """
    pytest.importorskip("torch")
    (tmp_path / "oneconv_budget.py").write_text(ONE_CONV)
    monkeypatch.chdir(tmp_path)
    expected = 1e-3 * (10 + 884_736 / 235.9e9 * 1e6)
    assert expected == pytest.approx(0.0137505, rel=1e-5)
    budgets = "".join(f'[[budget]]\nname = "{limit}"\nmodel = "oneconv_budget:build"\ninput = [1, 3, 32, 32]\n'
                      f'max_latency_ms = {limit}\ndevice = "jetson-nano"\n' for limit in (0.0138, 0.0137))
    ok, bad = check_file(files(budgets))
    assert ok.actual == pytest.approx(expected, rel=1e-9) and ok.ok and not bad.ok


def test_the_readme_example_holds_mobilenet_v2_and_fails_the_widened_stage():
    results = check_file(ROOT / "specs/examples/latency_budget.toml")
    assert [(r.name, r.metric, r.ok) for r in results] == [
        ("mobilenet_v2 on jetson-nano", "macs", True), ("mobilenet_v2 on jetson-nano", "latency_ms", True),
        ("stage 5 widened 96 -> 144", "macs", True), ("stage 5 widened 96 -> 144", "latency_ms", False)]


def test_latency_budgets_of_built_in_models_do_not_import_torch():
    code = ("import sys; from costlab.budget.check import check_file; "
            f"check_file({str(ROOT / 'specs/examples/latency_budget.toml')!r}); "
            "print(sorted(m for m in ('torch', 'torchvision', 'fvcore') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_table_json_junit_and_step_summary_carry_the_latency(run, files, tmp_path, monkeypatch):
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    path = files('[[budget]]\nmodel = "mobilenet_v1"\nmax_macs = "570M"\nmax_latency_ms = 83.5\ndevice = "slow.toml"\n')
    junit = tmp_path / "junit.xml"
    result = run("check", path, "--junit", str(junit))
    assert result.exit_code == 1
    header, _, macs, latency = result.stdout.splitlines()[:4]
    assert header.split()[:3] == ["name", "metric", "device"]
    assert latency.split()[:5] == ["mobilenet_v1", "latency_ms", "slow", "83.500", "ms"] and "EXCEEDED" in latency
    assert "max_latency_ms 83.500 ms" in result.stderr and "on slow" in result.stderr
    cases = ET.parse(junit).getroot().findall(".//testcase")
    assert [c.get("name") for c in cases] == ["max_macs", "max_latency_ms"]
    assert not cases[0].findall("failure")
    (failure,) = cases[1].findall("failure")
    assert "device: slow" in failure.text and "limit: 83.5" in failure.text
    table = [[cell.strip() for cell in line.strip("|").split("|")] for line in summary.read_text().splitlines()
             if line.startswith("|")]
    assert table[0][:3] == ["name", "metric", "device"]
    assert table[3][1:5] == ["latency_ms", "slow", "83.500 ms", table[3][4]] and table[3][-1] == "EXCEEDED"
    assert table[3][4].endswith(" ms")
    rows = json.loads(run("check", path, "--format", "json").stdout)
    assert rows[1]["device"] == "slow" and rows[1]["limit"] == 83.5 and "device" not in rows[0]


@pytest.mark.parametrize("body, fragments", [
    ('max_latency_ms = 5\n', ("max_latency_ms", "line 3", "needs a 'device'")),
    ('max_latency_ms = 5\ndevice = "tpu9"\n', ("device", "line 4", "'tpu9'", "jetson-nano")),
    ('max_latency_ms = 5\ndevice = "host"\n', ("device", "line 4", "'host'", "runner")),
    ('max_latency_ms = 5\ndevice = "half.toml"\n', ("device", "line 4", "half.toml", "missing field 'memory_bandwidth'")),
    ('max_latency_ms = 5\ndevice = "none/there.toml"\n', ("device", "line 4", "not found")),
    ('max_latency_ms = -5\ndevice = "jetson-nano"\n', ("max_latency_ms", "line 3", "-5")),
    ('max_latency_ms = 0\ndevice = "jetson-nano"\n', ("max_latency_ms", "line 3", "got 0")),
    ('max_latency_ms = inf\ndevice = "jetson-nano"\n', ("max_latency_ms", "line 3", "inf")),
    ('max_latency_ms = 5e-324\ndevice = "jetson-nano"\n', ("max_latency_ms", "line 3", "5e-324", "between")),
    ('max_latency_ms = 1e30\ndevice = "jetson-nano"\n', ("max_latency_ms", "line 3", "1e+30", "between")),
    ('max_latency_ms = "5ms"\ndevice = "jetson-nano"\n', ("max_latency_ms", "line 3", "'5ms'")),
    ('max_macs = 5\ndevice = "jetson-nano"\n', ("device", "line 4", "max_latency_ms")),
])
def test_bad_latency_budgets_exit_2_naming_file_key_and_line(run, files, tmp_path, body, fragments):
    (tmp_path / "half.toml").write_text("peak_flops = 1e12\noverhead_s = 1e-6\n")
    path = files(f'[[budget]]\nmodel = "mobilenet_v1"\n{body}')
    junit = tmp_path / "j.xml"
    one_line_exit_2(run("check", path, "--junit", str(junit)), path, *fragments)
    assert not junit.exists()


def test_a_device_file_is_relative_to_the_budget_file(run, tmp_path, monkeypatch):
    (tmp_path / "sub" / "dev").mkdir(parents=True)
    (tmp_path / "sub" / "dev" / "slow.toml").write_text(SLOW_DISPATCH)
    (tmp_path / "sub" / "b.toml").write_text(_budget(84.5, '"dev/slow.toml"'))
    monkeypatch.chdir(tmp_path)
    result = run("check", "sub/b.toml")
    assert result.exit_code == 0, result.stderr
