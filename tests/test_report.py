"""costlab report: sections and numbers from outside costlab (torchvision's recorded metadata, the papers' tables,
the jetson-nano spec sheet with the roofline worked by hand), the index's family sections, byte-reproducibility,
bad input."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from costlab.nets.registry import analyze_arch, list_archs
from costlab.report.tables import scaling_grid, type_table

REPORTS = Path(__file__).resolve().parent.parent / "reports"
# torchvision's recorded metadata for MobileNet_V2_Weights.IMAGENET1K_V1: num_params and _ops (GFLOPS = GMACs)
TV_MOBILENET_V2_PARAMS = 3_504_872
TV_MOBILENET_V2_GMACS = 0.301
# MobileNetV1 paper, Table 2: share of mult-adds per layer type. Its 'Conv Full 1.19%' cannot be right:
# the four rows would sum to 99.29%; the remainder 100 - 94.86 - 3.06 - 0.18 = 1.90% is the stem's share.
MOBILENET_V1_TABLE2_MACS = {"1x1 conv": 94.86, "depthwise conv": 3.06, "linear": 0.18,
                            "full conv": round(100 - 94.86 - 3.06 - 0.18, 2)}
# jetson-nano's spec sheet (NVIDIA): 25.6 GB/s LPDDR4; the profile assumes 10 us per layer
NANO_BANDWIDTH = 25.6e9
NANO_OVERHEAD_S = 10e-6


def _section(text: str, title: str) -> str:
    """The body of one '## title' section."""
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", text, re.S | re.M)
    assert match, f"no section {title!r}"
    return match.group(1)


def _cells(table_text: str, first: str) -> list[str]:
    """The cells of the Markdown table row whose first cell is `first`."""
    for line in table_text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("|") and cells[0] == first:
            return cells
    raise AssertionError(f"no row {first!r}")


def _recorded(name: str) -> dict:
    """torchvision's recorded metadata of the model's first weights (num_params, _ops in GMACs)."""
    torchvision = pytest.importorskip("torchvision")
    return next(iter(torchvision.models.get_model_weights(name))).meta


def _report(tmp_path_factory, name: str, *options: str) -> tuple[Path, str]:
    from click.testing import CliRunner

    from costlab.cli import main

    out = tmp_path_factory.mktemp("reports")
    result = CliRunner().invoke(main, ["report", name, "--out", str(out), *options], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return out, (out / f"{name}.md").read_text()


@pytest.fixture(scope="module")
def v2_report(tmp_path_factory):
    """mobilenet_v2 reported once, with the fvcore cross-check (torch is installed here)."""
    return _report(tmp_path_factory, "mobilenet_v2")


@pytest.fixture(scope="module")
def googlenet_report(tmp_path_factory):
    """GoogLeNet, a branching net, reported once with the fvcore cross-check."""
    return _report(tmp_path_factory, "googlenet")


def test_summary_matches_torchvision(v2_report):
    _, text = v2_report
    summary = _section(text, "Summary")
    assert f"{TV_MOBILENET_V2_PARAMS:,} (3.50M)" in summary
    macs = int(re.search(r"MACs \(multiply-accumulates\)\s*\|\s*([\d,]+) \(", summary).group(1).replace(",", ""))
    flops = int(re.search(r"FLOPs \(= 2 x MACs\)\s*\|\s*([\d,]+) \(", summary).group(1).replace(",", ""))
    assert round(macs / 1e9, 3) == TV_MOBILENET_V2_GMACS
    assert flops == 2 * macs
    assert "224 x 224" in summary and "`paper`" in text


def test_sections_and_charts(v2_report):
    out, text = v2_report
    for title in ("Summary", "Cross-check against fvcore", "Cost by stage", "Cost by layer type",
                  "The 10 costliest layers", "Predicted latency on jetson-nano", "Width and resolution scaling"):
        _section(text, title)
    top = _section(text, "The 10 costliest layers")
    assert len(re.findall(r"^\|\s+\d+ \| `", top, re.M)) == 10
    # the head's 1x1 conv, 320 -> 1280 at 7x7, is MobileNetV2's costliest layer: 7*7*320*1280 MACs
    assert re.search(r"^\|\s+1 \| `[^`]*`\s+\| 1x1 conv .*\| 20,070,400 \|", top, re.M)
    stages = _section(text, "Cost by stage")
    assert "1000x1x1" in stages and "1,281,000" in stages  # the 1280 -> 1000 classifier: 1280*1000 + 1000
    # MobileNetV2's Table 2: t=6, c=24, n=2, s=2 is the second bottleneck row
    assert _cells(stages, "2")[2] == "mbconv 3x3 x2, stride 2"
    images = re.findall(r"!\[[^]]*\]\(([^)]+)\)", text)
    assert len(images) == 4 and any(i.endswith("mobilenet_v2-roofline.png") for i in images)
    for image in images:
        data = (out / image).read_bytes()
        assert data.startswith(b"\x89PNG") and 10_000 < len(data) < 400_000


def test_crosscheck_section_reports_fvcore(v2_report):
    _, text = v2_report
    section = _section(text, "Cross-check against fvcore")
    assert "not run" not in section and "batch 1, 224 x 224" in section
    # fvcore sees torchvision's own model: its parameter count is torchvision's recorded num_params
    assert re.search(rf"parameters\s*\|\s*{TV_MOBILENET_V2_PARAMS:,}\s*\|\s*{TV_MOBILENET_V2_PARAMS:,}", section)


def test_where_the_time_goes_is_computed_from_the_tables(v2_report):
    """The sentence quotes the layer-type table: depthwise convs, 6.9% of the MACs (MobileNetV2: 20,716,416 of
    300,774,272), take a larger share of the predicted time."""
    _, text = v2_report
    section = _section(text, "Predicted latency on jetson-nano")
    found = re.search(r"Depthwise convs are ([\d.]+%) of the MACs but ([\d.]+%) of the predicted time", section)
    assert found, section[:600]
    row = _cells(section, "depthwise conv")
    assert row[2] == found.group(1) == f"{100 * 20_716_416 / 300_774_272:.1f}%"
    assert row[4] == found.group(2) and float(row[4][:-1]) > float(row[2][:-1])


def test_branching_net_report(googlenet_report):
    """GoogLeNet (Szegedy et al. 2015, Table 1): nine Inception modules and four stride-2 max pools; the parameters
    are torchvision's recorded num_params, and nothing in the report speaks of MBConv blocks."""
    _, text = googlenet_report
    record = _recorded("googlenet")
    summary = _section(text, "Summary")
    params = int(re.search(r"parameters\s*\|\s*([\d,]+) \(", summary).group(1).replace(",", ""))
    macs = int(re.search(r"MACs \(multiply-accumulates\)\s*\|\s*([\d,]+) \(", summary).group(1).replace(",", ""))
    assert params == record["num_params"] and round(macs / 1e9, 3) == record["_ops"]
    stages = _section(text, "Cost by stage")
    blocks = [c[2] for c in (_cells(stages, str(i)) for i in range(17))]
    assert blocks.count("inception") == 9 and blocks.count("maxpool 3x3, stride 2") + \
        blocks.count("maxpool 2x2, stride 2") == 4
    for word in ("MobileNet", "depthwise", "Depthwise", "squeeze", "mbconv", "MBConv"):
        assert word not in text, word
    cc = _section(text, "Cross-check against fvcore")
    assert re.search(rf"parameters\s*\|\s*{record['num_params']:,}\s*\|\s*{record['num_params']:,}", cc)


def test_latency_section_worked_by_hand(googlenet_report):
    """Two layers priced by hand on the jetson-nano spec sheet (both memory-bound, so only the bandwidth counts):
    - stage2, GoogLeNet's first max pool, reads 64x112x112 and writes 64x56x56 floats: 4 x 1,003,520 bytes;
    - the classifier's fc 1024 -> 1000 reads 1,025,000 weights and 1024 inputs and writes 1000 outputs, 4 bytes each.
    Each takes 10 us + bytes / 25.6 GB/s."""
    _, text = googlenet_report
    section = _section(text, "Predicted latency on jetson-nano")
    pool_ms = 1e3 * (NANO_OVERHEAD_S + 4 * (64 * 112 * 112 + 64 * 56 * 56) / NANO_BANDWIDTH)
    stage2 = _cells(section, "1")  # #, stage, layers, MACs %, predicted ms, time %, memory-bound
    assert stage2[1:5] == ["stage2", "1", "0.0%", f"{pool_ms:.3f}"] and stage2[6] == "1"
    fc_ms = 1e3 * (NANO_OVERHEAD_S + 4 * (1024 * 1000 + 1000 + 1024 + 1000) / NANO_BANDWIDTH)
    assert _cells(section, "linear")[3] == f"{fc_ms:.3f}"
    # the stages add up to the total (each rounded to 3 decimals)
    total = float(re.search(r"predicted total\s*\|\s*([\d.]+) ms", section).group(1))
    stage_ms = [float(_cells(section, str(i))[4]) for i in range(17)]
    assert abs(sum(stage_ms) - total) <= 17 * 0.0005 + 0.0005


def test_layer_type_shares_match_mobilenet_v1_table2():
    rows = {r["type"]: r for r in type_table(analyze_arch("mobilenet_v1"))}
    for layer_type, paper in MOBILENET_V1_TABLE2_MACS.items():
        assert rows[layer_type]["macs_share"] == f"{paper:.1f}%"


def test_scaling_leaves_out_a_width_the_groups_do_not_divide():
    # ResNeXt-101 32x8d's first bottleneck is 256 channels wide; at alpha 1.4, make_divisible(358.4, 8) = 360,
    # and 360 / 32 groups = 11.25
    points, skipped = scaling_grid("resnext101_32x8d", "paper")
    assert [alpha for alpha, _ in skipped] == [1.4]
    assert "groups 32 does not divide the bottleneck width 360" in skipped[0][1]
    assert {p.alpha for p in points} == {0.25, 0.5, 0.75, 1.0}


def test_index_has_a_section_per_family(tmp_path):
    """Three models of three families: a section each, in the registry's order; parameters are torchvision's records,
    and the Pareto front follows from them (ShuffleNetV2 x0.5 has fewer MACs than SqueezeNet 1.1, MobileNetV3-Small
    more parameters and more MACs than ShuffleNetV2 x0.5)."""
    from costlab.report.generate import generate

    names = ["mobilenet_v3_small", "squeezenet1_1", "shufflenet_v2_x0_5"]
    generate(names, tmp_path, index=True, crosscheck=False)
    text = (tmp_path / "README.md").read_text()
    headings = re.findall(r"^## Family: (\S+)$", text, re.M)
    assert headings == ["mobilenet_v3", "squeezenet", "shufflenet_v2"]
    for name in names:
        record = _recorded(name)
        row = _cells(text, f"[{name}]({name}.md)")
        assert row[2].startswith(f"{record['num_params']:,} (")
        assert round(int(row[3].split(" ")[0].replace(",", "")) / 1e9, 3) == record["_ops"]
    front = re.search(r"On the Pareto front .*?: (.*)\.$", text, re.M).group(1)
    assert front == "[squeezenet1_1](squeezenet1_1.md), [shufflenet_v2_x0_5](shufflenet_v2_x0_5.md)"
    assert "## Predicted latency" in text and (tmp_path / "charts" / "pareto.png").is_file()


def test_committed_index_covers_every_builtin():
    """reports/README.md (CI regenerates it and fails on any difference) has every registered built-in in its family's
    section, the families in the registry's order."""
    text = (REPORTS / "README.md").read_text()
    families = list(dict.fromkeys(a.family for a in list_archs()))
    assert re.findall(r"^## Family: (\S+)$", text, re.M) == families
    for info in list_archs():
        assert f"[{info.name}]({info.name}.md)" in _section(text, f"Family: {info.family}"), info.name
        assert (REPORTS / f"{info.name}.md").is_file()


def test_same_bytes_twice(tmp_path, run):
    for out in ("a", "b"):
        assert run("report", "mobilenet_v3_small", "--out", str(tmp_path / out), "--no-crosscheck").exit_code == 0
    files_a = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*") if p.is_file())
    files_b = sorted(p.relative_to(tmp_path / "b") for p in (tmp_path / "b").rglob("*") if p.is_file())
    assert files_a == files_b and len(files_a) == 5
    for rel in files_a:
        assert (tmp_path / "a" / rel).read_bytes() == (tmp_path / "b" / rel).read_bytes(), rel


def test_unknown_model_exits_2_and_writes_nothing(tmp_path, run):
    out = tmp_path / "out"
    result = run("report", "mobilenet_v2", "mobilenet_v9", "--out", str(out))
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and "mobilenet_v9" in result.stderr
    assert not out.exists()


def test_unwritable_out_exits_2(tmp_path, run):
    blocker = tmp_path / "file.txt"
    blocker.write_text("not a directory")
    for out in (blocker, blocker / "sub"):
        result = run("report", "mobilenet_v2", "--out", str(out))
        assert result.exit_code == 2 and result.stderr.count("\n") == 1, result.stderr
    assert blocker.read_text() == "not a directory"


def test_names_and_all_are_exclusive(run, tmp_path):
    assert run("report", "--out", str(tmp_path)).exit_code == 2
    assert run("report", "mobilenet_v2", "--all", "--out", str(tmp_path)).exit_code == 2
    assert list(tmp_path.iterdir()) == []


def test_an_architecture_file_is_reported_under_its_own_name(tmp_path, run):
    # the example spec under another file name: the report is filed as the name inside it, every command it shows
    # names the file, and fvcore's live trace of its build agrees with the analytic rows
    torch = pytest.importorskip("torch")
    from costlab.traced.build import build_arch

    spec = tmp_path / "my net.toml"
    spec.write_text((Path(__file__).resolve().parent.parent / "specs/examples/tiny_mbconv.toml").read_text())
    out = tmp_path / "out"
    result = run("report", str(spec), "--out", str(out))
    assert result.exit_code == 0, result.stderr
    assert sorted(p.name for p in out.rglob("*") if p.is_file()) == [
        "tiny_mbconv-layers.png", "tiny_mbconv-roofline.png", "tiny_mbconv-scaling.png", "tiny_mbconv-stages.png",
        "tiny_mbconv.md"]
    text = (out / "tiny_mbconv.md").read_text()
    quoted = f"'{spec}'"
    assert f"<!-- generated by `costlab report {quoted}`" in text
    assert f"`costlab arch {quoted}` (per layer)" in text and f"`costlab crosscheck {quoted} --tracer fvcore" in text
    params = sum(p.numel() for p in build_arch(str(spec)).parameters())
    assert _cells(_section(text, "Summary"), "parameters")[1].startswith(f"{params:,} ")
    assert _cells(_section(text, "Summary"), "cross-check against fvcore")[1] == "ok"


def test_a_single_report_names_the_command_that_wrote_it(tmp_path, run):
    assert run("report", "mobilenet_v3_small", "--out", str(tmp_path), "--no-crosscheck",
               "--convention", "fvcore").exit_code == 0
    first = (tmp_path / "mobilenet_v3_small.md").read_text().splitlines()[2]
    assert first == ("<!-- generated by `costlab report mobilenet_v3_small --convention fvcore --no-crosscheck`; "
                     "do not edit by hand -->")


def test_two_inputs_that_would_write_one_report_are_refused(tmp_path, run):
    spec = tmp_path / "copy.toml"
    spec.write_text('name = "mobilenet_v2"\n' + "\n".join(
        line for line in (Path(__file__).resolve().parent.parent / "specs/examples/tiny_mbconv.toml").read_text()
        .splitlines() if not line.startswith("name =")))
    result = run("report", "mobilenet_v2", str(spec), "--out", str(tmp_path / "out"))
    assert result.exit_code == 2 and result.stderr.count("\n") == 1 and "'mobilenet_v2' is a built-in" in result.stderr
    twin = tmp_path / "twin.toml"
    twin.write_text(spec.read_text().replace('name = "mobilenet_v2"', 'name = "mine"'))
    (tmp_path / "twin2.toml").write_text(twin.read_text())
    result = run("report", str(twin), str(tmp_path / "twin2.toml"), "--out", str(tmp_path / "out"))
    assert result.exit_code == 2 and result.stderr.count("\n") == 1 and "both write mine.md" in result.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("name", ["/tmp/abs", "a/b", "../up", "", ".", "..", "README", "readme", "x" * 101, "tab\there"])
def test_a_file_whose_name_cannot_be_a_report_file_is_refused(tmp_path, run, name):
    spec = tmp_path / "t.toml"
    text = (Path(__file__).resolve().parent.parent / "specs/examples/tiny_mbconv.toml").read_text()
    spec.write_text(text.replace('name = "tiny_mbconv"', f"name = {json.dumps(name)}"))
    result = run("report", str(spec), "--out", str(tmp_path / "out"), "--no-crosscheck")
    assert result.exit_code == 2 and result.stderr.count("\n") == 1 and "cannot name a report file" in result.stderr
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["t.toml"]
