"""`costlab check`: exit codes, outputs, JUnit and GitHub integration.

Thresholds come from the MobileNetV1 paper (Howard et al. 2017, Tables 6 and 7): alpha 1.0 / 224:
569M mult-adds and 4.2M params; alpha 0.5: 149M, 1.3M; resolution 128: 186M. "Within budget"
limits sit just above those numbers, "exceeded" ones just below.
"""

import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from conftest import one_line_exit_2

WITHIN = """\
# MobileNetV1 paper, Table 6/7
[[budget]]
model = "mobilenet_v1"
max_macs = "570M"      # paper: 569M
max_params = "4.3M"    # paper: 4.2M

[[budget]]
model = "mobilenet_v1"
alpha = 0.5
max_macs = "150M"      # paper: 149M
max_params = "1.4M"    # paper: 1.3M

[[budget]]
name = "v1 at 128"
model = "mobilenet_v1"
resolution = 128
max_macs = "187M"      # paper: 186M
"""

EXCEEDED = """\
[[budget]]
model = "mobilenet_v1"
max_macs = "560M"      # paper: 569M -> exceeded
max_params = "4.3M"    # paper: 4.2M
max_flops = "1.2G"     # 2 x 569M

[[budget]]
model = "mobilenet_v1"
alpha = 0.5
max_macs = "150M"      # paper: 149M
"""


@pytest.fixture
def budget(tmp_path):
    def _write(text: str, name: str = "budgets.toml") -> str:
        path = tmp_path / name
        path.write_text(text)
        return str(path)

    return _write


@pytest.fixture(autouse=True)
def no_github(monkeypatch):
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)


def test_within_budget_exits_0(run, budget, tmp_path):
    junit = tmp_path / "junit.xml"
    result = run("check", budget(WITHIN), "--junit", str(junit))
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    assert "5 of 5 limits hold" in result.stdout
    assert "EXCEEDED" not in result.stdout
    root = ET.parse(junit).getroot()
    assert len(root.findall(".//testcase")) == 5 and not root.findall(".//failure")


def test_one_exceeded_limit_among_several(run, budget, tmp_path):
    junit = tmp_path / "junit.xml"
    result = run("check", budget(EXCEEDED), "--junit", str(junit))
    assert result.exit_code == 1
    (line,) = result.stderr.strip().splitlines()
    assert "mobilenet_v1" in line and "macs" in line and "max_macs 560,000,000" in line
    assert "EXCEEDED" in result.stdout and "3 of 4 limits hold; 1 exceeded" in result.stdout
    root = ET.parse(junit).getroot()
    cases = root.findall(".//testcase")
    assert [(c.get("classname"), c.get("name")) for c in cases] == [
        ("mobilenet_v1", "max_macs"), ("mobilenet_v1", "max_params"), ("mobilenet_v1", "max_flops"),
        ("mobilenet_v1 (alpha=0.5)", "max_macs")]
    failures = root.findall(".//failure")
    assert len(failures) == 1
    assert cases[0].find("failure") is failures[0]
    assert root.find("testsuite").get("failures") == "1"


def test_json_rows(run, budget):
    result = run("check", budget(EXCEEDED), "--format", "json")
    assert result.exit_code == 1
    rows = json.loads(result.stdout)
    assert [(r["name"], r["metric"], r["ok"]) for r in rows] == [
        ("mobilenet_v1", "macs", False), ("mobilenet_v1", "params", True), ("mobilenet_v1", "flops", True),
        ("mobilenet_v1 (alpha=0.5)", "macs", True)]
    for r in rows:
        assert {"name", "metric", "limit", "actual", "ok", "headroom", "headroom_pct"} <= set(r)
        assert isinstance(r["limit"], int) and isinstance(r["actual"], int)
        assert r["headroom"] == r["limit"] - r["actual"]
    assert rows[0]["limit"] == 560_000_000 and rows[1]["limit"] == 4_300_000
    assert rows[2]["actual"] == 2 * rows[0]["actual"]  # flops = 2 x macs
    assert 560_000_000 < rows[0]["actual"] < 570_000_000  # the paper's 569M


def test_csv_and_markdown(run, budget):
    path = budget(WITHIN)
    csv = run("check", path, "--format", "csv")
    assert csv.exit_code == 0
    lines = csv.stdout.strip().splitlines()
    assert lines[0].split(",")[:5] == ["name", "model", "metric", "limit", "actual"] and len(lines) == 6
    md = run("check", path, "--format", "markdown")
    assert md.exit_code == 0 and md.stdout.startswith("| name")


@pytest.mark.parametrize("text, needle", [
    ('[[budget]]\nmodel = "mobilenet_v1"\nmax_macs = "570M\n', "line 3"),
    ('[[budget]]\nmodel = "mobilenet_v1"\nmax_mcas = "570M"\n', "did you mean 'max_macs'"),
    ('[[budget]]\nmodel = "mobilenet_v1"\nmax_macs = "570M"\n[[budget]]\nmodel = "mobilenet_v9"\nmax_macs = 1\n',
     "mobilenet_v9"),
    ('[[budget]]\nmodel = "mobilenet_v1"\nmax_macs = "5.3.M"\n', "'5.3.M'"),
    ('[[budget]]\nmodel = "no_such_arch.toml"\nmax_macs = 1\n', "no_such_arch.toml"),
])
def test_bad_file_exits_2_with_one_line_and_writes_nothing(run, budget, tmp_path, monkeypatch, text, needle):
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    junit = tmp_path / "junit.xml"
    result = run("check", budget(text), "--junit", str(junit))
    assert result.exit_code == 2
    assert result.stdout == ""
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("costlab: error: ") and needle in line
    assert "Traceback" not in result.stderr
    assert not junit.exists() and not summary.exists()


def test_missing_file_exits_2(run, tmp_path):
    result = run("check", str(tmp_path / "nope.toml"))
    assert result.exit_code == 2 and "nope.toml" in result.stderr


def test_github_step_summary_and_annotations(run, budget, tmp_path, monkeypatch):
    summary = tmp_path / "summary.md"
    summary.write_text("earlier step\n")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    path = budget(EXCEEDED)
    result = run("check", path)
    assert result.exit_code == 1
    text = summary.read_text()
    assert text.startswith("earlier step\n")  # appended, not overwritten
    assert "1 of 4 limits exceeded" in text and "| mobilenet_v1 " in text and "EXCEEDED" in text
    assert "::error" not in result.stderr  # only inside GitHub Actions
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    result = run("check", path)
    errors = [line for line in result.stderr.splitlines() if line.startswith("::error ")]
    assert len(errors) == 1
    assert f"file={path}" in errors[0] and ",line=1," in errors[0] and "max_macs" in errors[0]


def test_check_of_built_in_models_does_not_import_torch(budget):
    path = budget(WITHIN)
    code = ("import sys\nfrom costlab.cli import main\ntry:\n    main(['check', sys.argv[1]])\nexcept SystemExit as e:\n"
            "    print('exit', e.code)\nprint(sorted(m for m in ('torch', 'torchvision', 'fvcore') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code, path], capture_output=True, text=True)
    assert out.stdout.strip().splitlines()[-2:] == ["exit 0", "[]"], out.stderr


ROOT = Path(__file__).resolve().parent.parent


def test_this_projects_budgets_hold(run):
    """Dogfood: the built-in reference architectures stay within specs/budgets.toml."""
    result = run("check", str(ROOT / "specs" / "budgets.toml"), "--format", "json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert len(rows) >= 20 and all(r["ok"] for r in rows)
    # "a little above": a budget far above the count would guard nothing
    assert all(r["actual"] <= r["limit"] <= r["actual"] * 1.025 for r in rows), rows


def test_project_budgets_sit_just_above_torchvision_metadata():
    """Every torchvision-cited limit is >= torchvision's recorded num_params / _ops and within 1% of it."""
    from torchvision.models import get_model_weights, list_models

    from costlab.budget.schema import load_budgets

    checked = 0
    for b in load_budgets(ROOT / "specs" / "budgets.toml"):
        if b.model not in list_models():
            continue
        meta = get_model_weights(b.model).DEFAULT.meta
        reference = {"params": meta["num_params"], "macs": meta["_ops"] * 1e9}  # _ops: GMACs, 3 decimals
        slack = {"params": 0, "macs": 0.0005e9}
        for metric, limit in b.limits:
            assert reference[metric] - slack[metric] <= limit <= reference[metric] * 1.01 + slack[metric], (b, metric)
            checked += 1
    assert checked >= 18


def test_example_budget_file_holds(run):
    result = run("check", str(ROOT / "specs" / "examples" / "budgets_example.toml"))
    assert result.exit_code == 0, result.output


def test_relative_architecture_toml_resolves_from_the_budget_file(run, tmp_path, monkeypatch):
    (tmp_path / "archs").mkdir()
    arch = tmp_path / "archs" / "tiny.toml"
    arch.write_text((ROOT / "specs" / "examples" / "tiny_mbconv.toml").read_text())
    (tmp_path / "ci").mkdir()
    path = tmp_path / "ci" / "budgets.toml"
    path.write_text('[[budget]]\nmodel = "../archs/tiny.toml"\nmax_macs = "10G"\n')
    monkeypatch.chdir(ROOT)  # anywhere but the budget file's folder
    result = run("check", str(path), "--format", "json")
    assert result.exit_code == 0, result.output
    (row,) = json.loads(result.stdout)
    torch = pytest.importorskip("torch")
    from conftest import flop_counter_macs

    from costlab.traced.build import build_arch

    resolution = 160  # the example's native resolution
    assert row["actual"] == flop_counter_macs(build_arch(str(arch)).eval(), torch.zeros(1, 3, resolution, resolution))


def test_module_callable_budget(run, budget):
    """torchvision's recorded MobileNetV3-Small numbers: num_params 2,542,856, _ops 0.057 GMACs."""
    path = budget('[[budget]]\nmodel = "torchvision.models:mobilenet_v3_small"\ninput = [1, 3, 224, 224]\n'
                  'max_macs = "57.5M"\nmax_params = "2.54M"\n')
    result = run("check", path, "--format", "json")
    assert result.exit_code == 1, result.output
    macs, params = json.loads(result.stdout)
    assert macs["ok"] and not params["ok"]
    assert "torchvision.models:mobilenet_v3_small" in result.stderr and "params" in result.stderr


# ------------------------------------------------------------------ nothing half-way

_one_line_exit_2 = one_line_exit_2


def test_junit_directory_is_refused_and_leaves_nothing(run, budget, tmp_path):
    path = budget(WITHIN)
    target = tmp_path / "reports"
    target.mkdir()
    before = sorted(p.name for p in tmp_path.rglob("*"))
    _one_line_exit_2(run("check", path, "--junit", str(target)), "reports", "is a directory")
    assert sorted(p.name for p in tmp_path.rglob("*")) == before  # no reports.tmp beside it


def test_junit_in_a_missing_directory_is_refused_not_created(run, budget, tmp_path):
    target = tmp_path / "missing" / "dir" / "j.xml"
    _one_line_exit_2(run("check", budget(WITHIN), "--junit", str(target)), "does not exist", "missing")
    assert not (tmp_path / "missing").exists()


@pytest.mark.parametrize("where", ["dir", "missing"])
def test_bad_step_summary_is_refused_before_the_junit_is_written(run, budget, tmp_path, monkeypatch, where):
    summary = tmp_path if where == "dir" else tmp_path / "missing" / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    junit = tmp_path / "j.xml"
    _one_line_exit_2(run("check", budget(WITHIN), "--junit", str(junit)), "GITHUB_STEP_SUMMARY")
    assert not junit.exists()
    assert not (tmp_path / "missing").exists()


def test_failed_junit_rename_restores_the_summary_and_leaves_no_temporary(tmp_path, monkeypatch):
    from costlab.budget.check import Result
    from costlab.budget.outputs import write_outputs
    from costlab.io import files as files_module
    from costlab.errors import CostlabError

    summary = tmp_path / "summary.md"
    summary.write_text("earlier step\n")
    fresh = tmp_path / "fresh.md"

    def refuse(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(files_module.os, "replace", refuse)
    results = [Result("m", "m", "macs", 10, 11)]
    for target in (summary, fresh):
        with pytest.raises(CostlabError, match="No space left"):
            write_outputs(results, tmp_path / "j.xml", target, "b.toml")
    assert summary.read_text() == "earlier step\n" and not fresh.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["summary.md"]


def test_non_utf8_budget_and_architecture_files_exit_2(run, budget, tmp_path):
    bad = tmp_path / "x.toml"
    bad.write_bytes(b"\xff\xfe")
    _one_line_exit_2(run("check", str(bad)), "x.toml", "UTF-8")
    _one_line_exit_2(run("check", budget('[[budget]]\nmodel = "x.toml"\nmax_macs = 1\n')), "budget 1", "x.toml", "UTF-8")
    (tmp_path / "d.toml").mkdir()
    _one_line_exit_2(run("check", budget('[[budget]]\nmodel = "d.toml"\nmax_macs = 1\n')), "d.toml", "is a directory")


def test_traced_budget_under_ptflops_is_ptflops_own_count(run, budget):
    """convention = "ptflops" on MODULE:CALLABLE runs ptflops itself: its live total is the budget's actual."""
    pytest.importorskip("torch")
    import torchvision

    from conftest import tool_counts

    macs, params = tool_counts(torchvision.models.resnet18(weights=None).eval(), (1, 3, 64, 64))["ptflops"]
    path = budget('[[budget]]\nmodel = "torchvision.models:resnet18"\ninput = [1, 3, 64, 64]\nconvention = "ptflops"\n'
                  f'max_macs = {macs}\nmax_params = {params - 1}\n')
    result = run("check", path, "--format", "json")
    assert result.exit_code == 1, result.output
    rows = json.loads(result.stdout)
    assert [(r["metric"], r["actual"], r["ok"]) for r in rows] == [("macs", macs, True), ("params", params, False)]
