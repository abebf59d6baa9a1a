"""Budget files, SI limits and the assert_budget helper, with thresholds from the MobileNetV1 paper.

MobileNetV1 (Howard et al. 2017), Tables 6 and 7: alpha 1.0 / 224: 569M mult-adds, 4.2M params;
alpha 0.5: 149M, 1.3M; resolution 160: 290M. Limits just above pass, limits just below fail.
"""

import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest
from hypothesis import given
from hypothesis import strategies as st

import costlab
from costlab.budget.api import assert_budget
from costlab.budget.check import Result
from costlab.budget.outputs import github_annotations, junit_xml
from costlab.budget.schema import parse_budgets, parse_input, parse_limit
from costlab.errors import CostlabError


# ------------------------------------------------------------------ SI limits

@pytest.mark.parametrize("text, value", [
    ("400M", 400_000_000),
    ("5.3M", 5_300_000),
    ("1.2G", 1_200_000_000),
    ("12K", 12_000),
    ("12k", 12_000),
    ("0.5K", 500),
    (".5M", 500_000),
    ("2T", 2_000_000_000_000),
    ("569", 569),
    (" 3.36 M ", 3_360_000),
    ("1_000K", 1_000_000),
    ("4e6", 4_000_000),
    ("3.1e+08", 310_000_000),
    ("2.5E-1K", 250),
    (4_231_976, 4_231_976),
    (0, 0),
])
def test_parse_limit(text, value):
    assert parse_limit(text) == value
    assert type(parse_limit(text)) is int


@pytest.mark.parametrize("bad", ["5.3.M", "abc", "-4M", "1.2345K", "12X", "12m", "", "M", "4e", "1,000", -4,
                                 4.2e6, True, None, [1], "1e37", 10**37, "3e9999", "1.5e0"])
def test_parse_limit_rejects_naming_the_value(bad):
    with pytest.raises(CostlabError) as err:
        parse_limit(bad, "max_macs")
    assert "max_macs" in str(err.value)
    assert repr(bad) in str(err.value) or str(bad) in str(err.value)


def test_a_float_limit_is_refused_with_a_string_that_parses_to_it():
    with pytest.raises(CostlabError) as err:
        parse_limit(3.1e8, "max_macs")
    suggestion = str(err.value).split('e.g. "')[1].rstrip('"')
    assert parse_limit(suggestion) == 310_000_000


@given(st.integers(0, 10**15), st.sampled_from([("", 0), ("K", 3), ("M", 6), ("G", 9), ("T", 12)]), st.integers(0, 12))
def test_parse_limit_decimal_is_exact(n, suffix, decimals):
    # n * 10^-decimals written out in decimal, times the suffix: exact whenever the result is whole
    letter, exponent = suffix
    text = str(n) if decimals == 0 else f"{n // 10**decimals}.{n % 10**decimals:0{decimals}d}"
    if decimals <= exponent:
        assert parse_limit(text + letter) == n * 10 ** (exponent - decimals)
    elif n % 10 ** (decimals - exponent):
        with pytest.raises(CostlabError):
            parse_limit(text + letter)


def test_parse_input():
    assert parse_input("1,3,224,224") == (1, 3, 224, 224)
    assert parse_input([2, 3, 96, 128]) == (2, 3, 96, 128)
    for bad in ("1,3,224", "a,b,c,d", [1, 3, 0, 224], 224):
        with pytest.raises(CostlabError):
            parse_input(bad)


# ------------------------------------------------------------------ file validation

def error_of(text: str) -> str:
    with pytest.raises(CostlabError) as err:
        parse_budgets(text, "b.toml")
    message = str(err.value)
    assert "\n" not in message
    return message


def test_parse_budgets_reads_every_setting():
    (b,) = parse_budgets('[[budget]]\nname = "edge"\nmodel = "mobilenet_v1"\nresolution = 160\nalpha = 0.5\n'
                         'convention = "fvcore"\nmax_params = "1.4M"\nmax_macs = 80_000_000\n', "b.toml")
    assert (b.name, b.model, b.resolution, b.alpha, b.convention) == ("edge", "mobilenet_v1", 160, 0.5, "fvcore")
    assert b.limits == (("params", 1_400_000), ("macs", 80_000_000))  # file order
    assert b.line == 1


def test_misspelt_key_suggests_the_nearest():
    message = error_of('[[budget]]\nmodel = "mobilenet_v1"\nmax_mac = "600M"\n')
    assert "'max_mac'" in message and "did you mean 'max_macs'" in message
    assert "did you mean 'resolution'" in error_of('[[budget]]\nmodel = "m"\nresolutoin = 1\nmax_macs = 1\n')
    assert "did you mean 'budget'" in error_of('[[budgets]]\nmodel = "m"\nmax_macs = 1\n')


def test_syntax_error_names_line_and_column():
    message = error_of('[[budget]]\nmodel = "mobilenet_v1"\nmax_macs = = 5\n')
    assert "b.toml" in message and "line 3" in message and "column" in message


@pytest.mark.parametrize("text, needle", [
    ('[[budget]]\nmax_macs = 1\n', "missing 'model'"),
    ('[[budget]]\nmodel = "m"\n', "no limit"),
    ('[[budget]]\nmodel = "m"\nmax_macs = "lots"\n', "'lots'"),
    ('[[budget]]\nmodel = "m"\nmax_macs = 1\nalpha = -1\n', "alpha"),
    ('[[budget]]\nmodel = "m"\nmax_macs = 1\nresolution = 0\n', "resolution"),
    ('[[budget]]\nmodel = "m"\nmax_macs = 1\nconvention = "fvcor"\n', "did you mean 'fvcore'"),
    ('[[budget]]\nmodel = "m"\nmax_macs = 1\ninput = [1, 3, 224, 224]\nresolution = 160\n', "disagrees"),
    ('[[budget]]\nmodel = "pkg.mod:net"\nalpha = 0.5\nmax_macs = 1\n', "alpha"),
    ('[[budget]]\nmodel = "m"\nmax_macs = 1\n[[budget]]\nmodel = "m"\nmax_params = 1\n', "both named 'm'"),
    ('title = "x"\n', "unknown top-level key 'title'"),
    ('', "no budgets"),
])
def test_bad_files(text, needle):
    assert needle in error_of(text)


def test_default_names_tell_settings_apart():
    a, b = parse_budgets('[[budget]]\nmodel = "m"\nmax_macs = 1\n[[budget]]\nmodel = "m"\nalpha = 0.5\n'
                         'resolution = 160\nmax_macs = 1\n')
    assert (a.name, b.name) == ("m", "m (alpha=0.5, resolution=160)")


# ------------------------------------------------------------------ outputs

def test_junit_parses_back_with_one_failure_per_exceeded_limit():
    results = [Result("a & <b>", "m", "macs", 10, 11), Result("a & <b>", "m", "params", 10, 10),
               Result("c", "m", "flops", 0, 0)]
    root = ET.fromstring(junit_xml(results))
    cases = root.findall(".//testcase")
    assert [(c.get("classname"), c.get("name")) for c in cases] == [
        ("a & <b>", "max_macs"), ("a & <b>", "max_params"), ("c", "max_flops")]
    assert [len(c.findall("failure")) for c in cases] == [1, 0, 0]
    assert root.find("testsuite").get("failures") == "1" and root.find("testsuite").get("tests") == "3"


def test_github_annotation_escapes_and_points_at_the_budget():
    (line,) = github_annotations([Result("m", "m", "macs", 100, 150, line=7), Result("m", "m", "params", 1, 1)],
                                 "specs/b.toml")
    assert line.startswith("::error file=specs/b.toml,line=7,title=costlab budget exceeded%3A m max_macs::")
    assert line.endswith("(50.0%25)")


# ------------------------------------------------------------------ assert_budget

def test_assert_budget_passes_just_above_the_paper():
    results = assert_budget("mobilenet_v1", max_macs="570M", max_params="4.3M", max_flops="1.14G")
    assert {r.metric for r in results} == {"macs", "params", "flops"}
    assert all(r.ok for r in results)
    costlab.assert_budget("mobilenet_v1", alpha=0.5, max_macs="150M", max_params="1.4M")
    costlab.assert_budget("mobilenet_v1", resolution=160, max_macs="291M")
    costlab.assert_budget("mobilenet_v1", input=(1, 3, 160, 160), max_macs="291M")


def test_assert_budget_fails_just_below_the_paper():
    with pytest.raises(AssertionError) as err:
        assert_budget("mobilenet_v1", max_macs="560M", max_params="4.3M")
    message = str(err.value)
    assert "mobilenet_v1" in message and "macs" in message and "max_macs 560,000,000" in message
    assert "params" not in message
    with pytest.raises(AssertionError, match="alpha=0.5"):
        assert_budget("mobilenet_v1", alpha=0.5, max_params="1.2M")
    with pytest.raises(AssertionError):
        assert_budget("mobilenet_v1", resolution=160, max_macs="280M")
    with pytest.raises(AssertionError):  # batch 2 doubles the MACs
        assert_budget("mobilenet_v1", input="2,3,224,224", max_macs="1G")


def test_assert_budget_user_errors():
    with pytest.raises(CostlabError, match="at least one"):
        assert_budget("mobilenet_v1")
    with pytest.raises(CostlabError, match="mobilenet_v7"):
        assert_budget("mobilenet_v7", max_macs=1)
    with pytest.raises(CostlabError, match="'5.3.M'"):
        assert_budget("mobilenet_v1", max_macs="5.3.M")


def test_import_costlab_and_check_built_ins_without_torch():
    code = ("import sys, costlab; costlab.assert_budget('mobilenet_v1', max_macs='570M'); "
            "print(sorted(m for m in ('torch', 'torchvision', 'fvcore') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_module_spec_needs_an_input():
    assert "give 'input'" in error_of('[[budget]]\nmodel = "pkg.mod:net"\nmax_macs = 1\n')


def test_assert_budget_on_an_nn_module_instance():
    """torchvision's recorded MobileNetV2 numbers: num_params 3,504,872, _ops 0.301 GMACs."""
    from torchvision.models import mobilenet_v2

    model = mobilenet_v2(weights=None)
    assert_budget(model, input=(1, 3, 224, 224), max_macs="302M", max_params="3.51M")
    with pytest.raises(AssertionError, match="macs"):
        assert_budget(model, input=(1, 3, 224, 224), max_macs="300M")
    with pytest.raises(AssertionError, match="params"):
        assert_budget(model, resolution=224, max_params="3.5M")


# ------------------------------------------------------------------ conventions of traced models

@pytest.mark.parametrize("convention", ["ptflops", "thop"])
def test_traced_budgets_under_tool_conventions_count_what_the_tool_counts(convention):
    """An nn.Module under ptflops or thop is counted by that tool itself (core.conventions names its tracer)."""
    torch = pytest.importorskip("torch")
    from conftest import tool_counts

    model = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3, bias=True), torch.nn.ReLU()).eval()
    macs, params = tool_counts(model, (1, 3, 8, 8))[convention]
    (result,) = assert_budget(model, input=(1, 3, 8, 8), convention=convention, max_macs=macs)
    assert result.actual == macs
    with pytest.raises(AssertionError):
        assert_budget(model, input=(1, 3, 8, 8), convention=convention, max_macs=macs - 1)
    (result,) = assert_budget(model, input=(1, 3, 8, 8), convention=convention, max_params=params)
    assert result.actual == params == 224


@pytest.mark.parametrize("convention", ["paper", "fvcore", "ptflops", "thop"])
def test_analytic_models_accept_every_convention(convention):
    # parameters do not depend on the convention: torchvision records num_params 3,504,872 for MobileNetV2
    (b,) = parse_budgets(f'[[budget]]\nmodel = "mobilenet_v2"\nconvention = "{convention}"\nmax_params = 1\n')
    assert b.convention == convention
    assert_budget("mobilenet_v2", convention=convention, max_params=3_504_872)
    with pytest.raises(AssertionError):
        assert_budget("mobilenet_v2", convention=convention, max_params=3_504_871)
