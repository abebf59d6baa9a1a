"""Unpriced ops (no rule prices them) are named by every command that counts a traced model, not by `analyze` alone:
`check` on a MODULE:CALLABLE budget, `latency MODULE:CALLABLE` and `assert_budget`, and --strict (strict=True) fails
on exactly them. Ops that compute nothing (torch.eye, a complex view, zeros) are neither unpriced nor uncounted.

Every MAC count asserted is the tools' own, run live here (FlopCounterMode / 2, fvcore, ptflops, thop), or arithmetic
written out in the test.
"""

import json
import textwrap

import pytest

torch = pytest.importorskip("torch")

from conftest import flop_counter_macs, fvcore_total, tool_counts  # noqa: E402
# the user models of test_cli_analyze, importable as 'costlab_user_models' (fft, numpy_function, relu_and_add: a 3x3
# conv 3 -> 4, then the tail; nothing_computed), and CONV: that conv's 3*4*9*36 = 3,888 MACs on 1x3x8x8
from test_cli_analyze import CONV, models  # noqa: E402,F401 - the fixture


def _budget(tmp_path, name, max_macs=10**6, convention="paper"):
    path = tmp_path / "budgets.toml"
    path.write_text(textwrap.dedent(f'''
        [[budget]]
        name = "{name}"
        model = "costlab_user_models:{name}"
        input = [1, 3, 8, 8]
        convention = "{convention}"
        max_macs = {max_macs}
        max_params = 1000
    '''))
    return str(path)


# ------------------------------------------------------------------------------------------------------- check

@pytest.mark.parametrize("name,op", [("fft", "_fft_r2c"), ("numpy_function", "NumpySort.apply")])
def test_check_names_unpriced_ops_and_strict_fails_on_them(run, models, tmp_path, name, op):
    """The budget holds (the conv's 3,888 MACs = FlopCounterMode / 2, which counts the FFT and the numpy Function
    as 0 too), but the output says the total leaves the op out; --strict exits 1 on it."""
    assert flop_counter_macs(getattr(models, name)().eval(), torch.zeros(1, 3, 8, 8)) == CONV
    path = _budget(tmp_path, name)
    result = run("check", path)
    assert result.exit_code == 0, result.output
    assert "2 of 2 limits hold; 1 leaves out unpriced ops (counted as 0, named on stderr)" in result.stdout
    line = f"{name} [costlab_user_models:{name}]: macs leaves out unpriced ops (no rule prices them; counted as 0): {op} x1"
    assert result.stderr.strip() == f"costlab: note: {line}"
    rows = json.loads(run("check", path, "--format", "json").stdout)
    assert [(r["metric"], r["actual"], r.get("unpriced_ops")) for r in rows] == [("macs", CONV, {op: 1}),
                                                                                ("params", 3 * 4 * 9 + 4, None)]
    strict = run("check", path, "--strict")
    assert strict.exit_code == 1
    assert strict.stderr.strip() == f"costlab: --strict: {line}"


@pytest.mark.parametrize("convention", ["paper", "fvcore"])
def test_check_strict_passes_on_ops_zero_by_rule(run, models, tmp_path, convention):
    """ReLU and a residual add are zero by the convention's rule (uncounted), never unpriced: --strict passes."""
    result = run("check", _budget(tmp_path, "relu_and_add", convention=convention), "--strict")
    assert result.exit_code == 0 and result.stderr == "", result.output


def test_assert_budget_warns_and_strict_raises(models):
    import costlab

    with pytest.warns(UserWarning, match=r"leaves out unpriced ops .*_fft_r2c x1"):
        (result, ) = costlab.assert_budget("costlab_user_models:fft", input=(1, 3, 8, 8), max_macs=10**6)
    assert result.actual == CONV and result.unpriced == (("_fft_r2c", 1),)
    with pytest.raises(AssertionError, match=r"^strict: .*_fft_r2c x1"):
        costlab.assert_budget("costlab_user_models:fft", input=(1, 3, 8, 8), max_macs=10**6, strict=True)


# ----------------------------------------------------------------------------------------------------- latency

@pytest.mark.parametrize("name,ops", [("fft", {"_fft_r2c": 1, "abs": 1}), ("numpy_function", {"NumpySort.apply": 1})])
def test_latency_names_unpriced_ops_and_strict_fails_on_them(run, models, name, ops):
    """A custom Function computing in numpy cannot run on meta: it is traced on CPU, as analyze does. The latency
    also names what the roofline gives no time: the FFT's .abs() after it (rfft2(y).abs(), one call each)."""
    args = ("latency", f"costlab_user_models:{name}", "--input", "1,3,8,8", "--device", "jetson-nano")
    listed = ", ".join(f"{op} x{n}" for op, n in ops.items())
    result = run(*args)
    assert result.exit_code == 0, result.output
    assert f"unpriced ops (no rule prices them; counted as 0): {listed}" in result.stdout
    data = json.loads(run(*args, "--format", "json").stdout)
    assert data["unpriced_ops"] == ops and data["macs"] == CONV
    strict = run(*args, "--strict")
    assert strict.exit_code == 1
    assert strict.stderr.strip() == f"costlab: --strict: unpriced ops: {listed}"


def test_latency_strict_passes_without_unpriced_ops(run, models):
    result = run("latency", "costlab_user_models:relu_and_add", "--input", "1,3,8,8", "--device", "jetson-nano",
                 "--strict")
    assert result.exit_code == 0, result.output
    assert "unpriced ops (no rule prices them; counted as 0): none" in result.stdout


# ----------------------------------------------------------------------------------------- ops computing nothing

@pytest.mark.parametrize("convention", ["paper", "fvcore", "ptflops", "thop"])
def test_eye_complex_and_views_are_neither_unpriced_nor_uncounted(run, models, convention):
    """torch.eye, torch.zeros, torch.complex, view_as_real / view_as_complex and reshapes compute nothing: 0 MACs
    under every tool (each run live: the total is the conv's alone), not listed as unpriced, and --strict passes."""
    model = models.nothing_computed().eval()
    x = torch.zeros(1, 3, 8, 8)
    tool = {"paper": lambda: flop_counter_macs(model, x), "fvcore": lambda: fvcore_total(model, x)}.get(
        convention, lambda: tool_counts(model, (1, 3, 8, 8))[convention][0])()
    conv = CONV + (4 * 36 if convention == "ptflops" else 0)  # ptflops adds the bias, 1 per output element
    assert tool == conv
    result = run("analyze", "costlab_user_models:nothing_computed", "--input", "1,3,8,8", "--convention",
                 convention, "--format", "json", "--strict")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["macs"] == conv and data["unpriced_ops"] == {} and data["uncounted_ops"] == {}


# ------------------------------------------------------------------------------------------- latency of an LSTM

LSTM_MODEL = '''
import torch


class Seq(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = torch.nn.LSTM(8, 16)

    def forward(self, x):  # (1, 8, 2, 2): 4 time steps of 8 features
        y, _ = self.lstm(x.flatten(2).permute(2, 0, 1))
        return y


def build():
    return Seq()
'''


def test_a_latency_that_cannot_price_an_lstm_says_so_and_strict_fails(run, tmp_path, monkeypatch):
    # the roofline has no rule for what an LSTM step runs: two addmm per step (input and hidden), 4 steps = 8, with
    # their gates; a latency limit on it would hold at 0 ms without a word. It is named, and --strict fails on it
    (tmp_path / "lstm_latency.py").write_text(LSTM_MODEL)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.chdir(tmp_path)
    (tmp_path / "b.toml").write_text('[[budget]]\nmodel = "lstm_latency:build"\ninput = [1, 8, 2, 2]\n'
                                     'max_latency_ms = 0.1\ndevice = "jetson-nano"\n')
    held = run("check", "b.toml")
    assert held.exit_code == 0 and "addmm x8" in held.stderr and "latency_ms leaves out unpriced ops" in held.stderr
    assert run("check", "b.toml", "--strict").exit_code == 1
    latency = run("latency", "lstm_latency:build", "--input", "1,8,2,2", "--device", "jetson-nano", "--format", "json")
    data = json.loads(latency.stdout)
    assert latency.exit_code == 0 and data["unpriced_ops"]["addmm"] == 8
    # what analyze counts (FlopCounterMode / 2 on the meta device, where the LSTM runs as its addmm steps; run live
    # here) is said beside the 0 MACs the roofline could price
    import lstm_latency

    with torch.device("meta"):
        counted = flop_counter_macs(lstm_latency.build(), torch.zeros(1, 8, 2, 2))
    assert counted == 4 * (4 * 16 * 8 + 4 * 16 * 16)  # 4 steps x (input and hidden products, 4 gates of 16)
    assert data["counted_macs"] == counted and data["macs"] == 0
    text = run("latency", "lstm_latency:build", "--input", "1,8,2,2", "--device", "jetson-nano").stdout
    assert "0 MACs priced of the" in text and "(the rest in unpriced ops)" in text
    assert run("latency", "lstm_latency:build", "--input", "1,8,2,2", "--device", "jetson-nano", "--strict").exit_code == 1
