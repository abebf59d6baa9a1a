"""Shared fixtures and helpers: the CLI runner, the one-line/exit-2 contract, and the outside references every
count is checked against (FlopCounterMode, parameter counts, ptflops and thop run live).

Test modules import the helpers by name (`from conftest import one_line_exit_2`)."""

import io

import pytest
from click.testing import CliRunner


def pytest_configure(config):
    """One intra-op thread: the traced tests run small inputs, where a second thread on a busy 2-core runner costs
    far more in contention than it gains (a ResNet-152 forward at 64x64 went from 0.05 s to 9 s)."""
    try:
        import torch
    except ImportError:  # the torch-free install runs the analytic tests only
        return
    torch.set_num_threads(1)


@pytest.fixture
def run():
    """Invoke the costlab CLI in-process; returns the click Result (exit_code, stdout, stderr)."""
    from costlab.cli import main

    def _run(*args: str):
        return CliRunner().invoke(main, list(args), catch_exceptions=False)

    return _run


def one_line_exit_2(result, *fragments: str) -> str:
    """The bad-input contract: exit 2, nothing on stdout, exactly one 'costlab: error:' line naming every fragment."""
    assert result.exit_code == 2, (result.exit_code, result.output)
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("costlab: error: "), result.stderr
    assert "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


def flop_counter_macs(module, *inputs) -> int:
    """torch.utils.flop_counter.FlopCounterMode's total / 2 for one forward pass (asserting it is even)."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        module(*inputs)
    flops = counter.get_total_flops()
    assert flops % 2 == 0
    return flops // 2


def n_params(module) -> int:
    """sum(p.numel()) over the module's parameters: what PyTorch itself calls its size."""
    return sum(p.numel() for p in module.parameters())


def fvcore_total(module, *inputs) -> int:
    """fvcore.nn.FlopCountAnalysis(module, inputs).total() with its warnings off."""
    from fvcore.nn import FlopCountAnalysis

    analysis = FlopCountAnalysis(module, inputs if len(inputs) > 1 else inputs[0])
    analysis.unsupported_ops_warnings(False).uncalled_modules_warnings(False).tracer_warnings("none")
    return int(analysis.total())


def tool_counts(model, input_dims) -> dict:
    """{'ptflops': (macs, params), 'thop': (macs, params)} from the tools themselves, on CPU tensors."""
    import torch
    from ptflops import get_model_complexity_info
    from thop import profile

    macs, params = get_model_complexity_info(model, tuple(input_dims[1:]), print_per_layer_stat=False,
                                             as_strings=False, backend="pytorch", ost=io.StringIO())
    ops, thop_params = profile(model, (torch.zeros(input_dims),), verbose=False)
    assert float(ops).is_integer() and float(thop_params).is_integer()
    return {"ptflops": (int(macs), int(params)), "thop": (int(ops), int(thop_params))}


def fvcore_case(model, inputs, expected):
    """An fvcore test case (tests/test_fvcore_cases.py, tests/test_fvcore_module_cases.py): fvcore run live on its
    own model and inputs gives expected, and so does costlab's fvcore convention (its rows too, nothing unpriced, no
    note); costlab's paper convention priced by its formulas (not FlopCounterMode, the paper default) equals
    FlopCounterMode / 2 run live. A model of several inputs gets the others as buffers (costlab feeds one input).
    Returns costlab's fvcore analysis."""
    import costlab
    import torch

    class Bound(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model
            for i, other in enumerate(inputs[1:]):
                self.register_buffer(f"operand{i}", other)

        def forward(self, x):
            return self.model(x, *self.buffers())

    assert fvcore_total(model, *inputs) == expected
    runnable = Bound() if len(inputs) > 1 else model
    dims = tuple(inputs[0].shape)
    analysis = costlab.count(runnable, dims, convention="fvcore")
    assert analysis.macs == expected
    assert sum(row["macs"] for row in analysis.row_dicts()) == expected
    assert analysis.unpriced == {} and analysis.notes == []
    paper = costlab.count(runnable, dims, convention="paper", tracer="formulas")
    assert paper.macs == flop_counter_macs(runnable, inputs[0])
    return analysis
