"""costlab report: sections and numbers from outside costlab, byte-reproducibility, bad input."""

from __future__ import annotations

import re

import pytest

from costlab.nets.registry import analyze_arch
from costlab.report.model import type_table

# torchvision's recorded metadata for MobileNet_V2_Weights.IMAGENET1K_V1: num_params and _ops (GFLOPS = GMACs)
TV_MOBILENET_V2_PARAMS = 3_504_872
TV_MOBILENET_V2_GMACS = 0.301
# MobileNetV1 paper, Table 2: share of mult-adds per layer type. Its 'Conv Full 1.19%' cannot be right:
# the four rows would sum to 99.29%; the remainder 100 - 94.86 - 3.06 - 0.18 = 1.90% is the stem's share.
MOBILENET_V1_TABLE2_MACS = {"1x1 conv": 94.86, "depthwise conv": 3.06, "linear": 0.18,
                            "full conv": round(100 - 94.86 - 3.06 - 0.18, 2)}


def _section(text: str, title: str) -> str:
    """The body of one '## title' section."""
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", text, re.S | re.M)
    assert match, f"no section {title!r}"
    return match.group(1)


@pytest.fixture(scope="module")
def v2_report(tmp_path_factory):
    """mobilenet_v2 reported once, with the fvcore cross-check (torch is installed here)."""
    from click.testing import CliRunner

    from costlab.cli import main

    out = tmp_path_factory.mktemp("reports")
    result = CliRunner().invoke(main, ["report", "mobilenet_v2", "--out", str(out)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return out, (out / "mobilenet_v2.md").read_text()


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
                  "The 10 costliest layers", "Width and resolution scaling"):
        _section(text, title)
    top = _section(text, "The 10 costliest layers")
    assert len(re.findall(r"^\|\s+\d+ \| `", top, re.M)) == 10
    # the head's 1x1 conv, 320 -> 1280 at 7x7, is MobileNetV2's costliest layer: 7*7*320*1280 MACs
    assert re.search(r"^\|\s+1 \| `[^`]*`\s+\| 1x1 conv .*\| 20,070,400 \|", top, re.M)
    stages = _section(text, "Cost by stage")
    assert "1000x1x1" in stages and "1,281,000" in stages  # the 1280 -> 1000 classifier: 1280*1000 + 1000
    for image in re.findall(r"!\[[^]]*\]\(([^)]+)\)", text):
        data = (out / image).read_bytes()
        assert data.startswith(b"\x89PNG") and 10_000 < len(data) < 400_000


def test_crosscheck_section_reports_fvcore(v2_report):
    _, text = v2_report
    section = _section(text, "Cross-check against fvcore")
    assert "not run" not in section
    # fvcore sees torchvision's own model: its parameter count is torchvision's recorded num_params
    assert re.search(rf"parameters\s*\|\s*{TV_MOBILENET_V2_PARAMS:,}\s*\|\s*{TV_MOBILENET_V2_PARAMS:,}", section)


def test_layer_type_shares_match_mobilenet_v1_table2():
    rows = {r["type"]: r for r in type_table(analyze_arch("mobilenet_v1"))}
    for layer_type, paper in MOBILENET_V1_TABLE2_MACS.items():
        assert rows[layer_type]["macs_share"] == f"{paper:.1f}%"


def test_same_bytes_twice(tmp_path, run):
    for out in ("a", "b"):
        assert run("report", "mobilenet_v3_small", "--out", str(tmp_path / out), "--no-crosscheck").exit_code == 0
    files_a = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*") if p.is_file())
    files_b = sorted(p.relative_to(tmp_path / "b") for p in (tmp_path / "b").rglob("*") if p.is_file())
    assert files_a == files_b and len(files_a) == 4
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
