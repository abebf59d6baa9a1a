"""`costlab compare` and `costlab breakeven` against the seeds' and the MobileNet/MnasNet papers' numbers."""

import json
import subprocess
import sys

import pytest


def rows_of(result):
    assert result.exit_code == 0, result.output
    return {row["name"]: row for row in json.loads(result.stdout)}


def test_seed_conv_vs_dwsep_3_to_256(run):
    rows = rows_of(run("compare", "conv", "dwsep", "--cin", "3", "--cout", "256", "--format", "json"))
    assert (rows["conv"]["params"], rows["dwsep"]["params"]) == (6_912, 795)
    assert (rows["conv"]["macs"], rows["dwsep"]["macs"]) == (346_816_512, 39_889_920)
    for row in rows.values():
        assert row["flops"] == 2 * row["macs"]
        assert isinstance(row["macs"], int) and isinstance(row["params"], int)
    # MobileNet's closed form for the MAC ratio: 1/N + 1/k^2
    assert rows["dwsep"]["macs_ratio"] == pytest.approx(1 / 256 + 1 / 9, rel=1e-12)
    assert rows["dwsep"]["closed_form_macs_ratio"] == pytest.approx(1 / 256 + 1 / 9, rel=1e-12)


def test_seed_003_with_bias(run):
    rows = rows_of(run("compare", "conv", "dwsep", "--cin", "32", "--cout", "64", "--bias", "--format", "json"))
    assert (rows["conv"]["params"], rows["dwsep"]["params"]) == (18_496, 2_432)


def test_mobilenet_v1_section_3_3(run):
    base = ["compare", "conv", "dwsep", "--cin", "512", "--cout", "512", "--size", "14", "--format", "json"]
    rows = rows_of(run(*base))
    assert (rows["conv"]["macs"], rows["dwsep"]["macs"]) == (462_422_016, 52_283_392)
    assert (rows["conv"]["params"], rows["dwsep"]["params"]) == (2_359_296, 266_752)
    rows = rows_of(run(*base, "--alpha", "0.75"))
    assert (rows["dwsep"]["macs"], rows["dwsep"]["params"]) == (29_578_752, 150_912)
    rows = rows_of(run(*base, "--alpha", "0.75", "--rho", "0.714"))
    assert rows["dwsep"]["macs"] == 15_091_200
    assert rows["dwsep"]["output_shape"] == [384, 10, 10]


def test_kernel_variants_keep_names_as_typed(run):
    rows = rows_of(run("compare", "dwsep:5", "dwsep:3x2", "conv:5", "conv:3x2", "--cin", "64", "--cout", "64",
                       "--size", "56", "--format", "json"))
    assert list(rows) == ["dwsep:5", "dwsep:3x2", "conv:5", "conv:3x2"]
    hw, m, n = 56 * 56, 64, 64
    # MnasNet: C5 = HWM(25 + N); exact two 3x3: HW(9M + MN) + HW(9N + N^2)
    assert rows["dwsep:5"]["macs"] == hw * m * (25 + n)
    assert rows["dwsep:3x2"]["macs"] == hw * (9 * m + m * n) + hw * (9 * n + n * n)
    # VGG: 25MN versus 9MN + 9N^2
    assert rows["conv:5"]["macs"] == 25 * hw * m * n
    assert rows["conv:3x2"]["macs"] == 9 * hw * m * n + 9 * hw * n * n


@pytest.mark.parametrize("fmt", ["table", "csv", "markdown"])
def test_other_formats_carry_the_numbers(run, fmt):
    result = run("compare", "conv", "dwsep", "--cin", "3", "--cout", "256", "--format", fmt)
    assert result.exit_code == 0
    exact = "346816512" if fmt == "csv" else "346,816,512"
    assert exact in result.stdout
    if fmt == "table":
        assert "1/256 + 1/9" in result.stdout


def test_chart_is_written(run, tmp_path):
    out = tmp_path / "cmp.png"
    result = run("compare", "conv", "dwsep", "--cin", "3", "--cout", "256", "--chart", str(out))
    assert result.exit_code == 0
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("args,named", [
    (["conv", "--cin", "0", "--cout", "4"], "--cin"),
    (["conv", "--cin", "-3", "--cout", "4"], "-3"),
    (["conv", "--cin", "3.5", "--cout", "4"], "3.5"),
    (["conv", "--cin", "3", "--cout", "4", "--size", "0"], "--size"),
    (["conv", "--cin", "6", "--cout", "4", "--groups", "4"], "--groups 4"),
    (["conv", "--cin", "4", "--cout", "4", "--kernel", "9", "--size", "3", "--padding", "0"], "kernel 9"),
    (["convolution", "--cin", "4", "--cout", "4"], "convolution"),
    (["conv", "--cin", "4", "--cout", "4", "--size", "8", "--height", "4"], "--size"),
    (["conv", "--cin", "4", "--cout", "4", "--alpha", "-1"], "--alpha"),
    (["conv", "--cin", "4", "--cout", "4", "--rho", "-0.5"], "--rho"),
    (["dwsep", "pointwise", "--cin", "4", "--cout", "4", "--groups", "2"], "--groups 2"),
    (["conv", "dwsep", "--cin", "4", "--cout", "4", "--se", "0.25"], "--se 0.25"),
    (["conv", "--cin", "4", "--cout", "4", "--expand", "4"], "--expand 4"),
    (["conv:3x2", "pointwise", "--cin", "4", "--cout", "4", "--kernel", "5"], "--kernel 5"),
    (["mbconv", "--cin", "4", "--cout", "4", "--padding", "0"], "--padding 0"),
    (["conv", "--cin", "4", "--cout", "4", "--chart", "out.pdf"], "out.pdf"),
    (["pointwise:3", "--cin", "4", "--cout", "4"], "pointwise:3"),
])
def test_bad_input_is_one_line_and_exit_2(run, args, named):
    result = run("compare", *args)
    assert result.exit_code == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("costlab: error:")
    assert named in lines[0]


def test_breakeven_separable_flips_after_n_7(run):
    rows = json.loads(run("breakeven", "--n", "1..64", "--format", "json").stdout)
    cheaper = {row["n"]: row["cheaper"] for row in rows}
    # MnasNet (seed 000): with M = N one 5x5 is cheaper exactly when N > 7
    assert cheaper[7] == "equal"
    assert all(cheaper[n] == "3x3x2" for n in range(1, 7))
    assert all(cheaper[n] == "5x5" for n in range(8, 65))
    table = run("breakeven", "--n", "1..64").stdout
    assert "equal cost at N = 7" in table and "5x5 is cheaper for every N from 8 to 64" in table


def test_breakeven_standard_two_3x3_always_cheaper(run):
    rows = json.loads(run("breakeven", "--kind", "conv", "--n", "1..256", "--format", "json").stdout)
    assert {row["cheaper"] for row in rows} == {"3x3x2"}
    # 25 N^2 versus 18 N^2 when M = N
    assert all(row["macs_5x5"] * 18 == row["macs_3x3x2"] * 25 for row in rows)


def test_analytic_commands_do_not_import_torch():
    code = (
        "import sys\n"
        "from costlab.cli import main\n"
        "for args in (['compare', 'conv', 'dwsep', 'mbconv', 'bottleneck', '--cin', '3', '--cout', '256'],\n"
        "             ['breakeven', '--format', 'csv']):\n"
        "    try:\n"
        "        main(args)\n"
        "    except SystemExit as e:\n"
        "        assert e.code == 0, e.code\n"
        "heavy = sorted(m for m in ('torch', 'torchvision', 'fvcore', 'matplotlib') if m in sys.modules)\n"
        "print('HEAVY=' + ','.join(heavy))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip().splitlines()[-1] == "HEAVY="


def test_options_apply_to_the_kinds_that_use_them(run):
    # --groups reaches conv (a grouped conv: weights / groups) and leaves dwsep alone
    rows = rows_of(run("compare", "conv", "dwsep", "--cin", "8", "--cout", "8", "--size", "4", "--groups", "2",
                       "--format", "json"))
    assert rows["conv"]["params"] == 3 * 3 * 8 * 8 // 2
    assert rows["dwsep"]["params"] == 3 * 3 * 8 + 8 * 8


def test_csv_carries_columns_only_later_rows_have(run):
    result = run("compare", "conv", "dwsep", "--cin", "3", "--cout", "256", "--format", "csv")
    header, conv, dwsep = result.stdout.strip().splitlines()
    assert "closed_form_macs_ratio" in header.split(",")
    assert dwsep.startswith("dwsep,795,39889920,")
