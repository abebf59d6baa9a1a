"""fvcore's own test cases as costlab tests, with the numbers fvcore's tests assert: tests/test_jit_model_analysis.py.

Ported from facebookresearch/fvcore tests/test_jit_model_analysis.py: the module-level cases (nesting, repeated, shared
and unused modules, a call of a submodule's other method, recursion, DataParallel), each asserting fvcore's number as
written there, fvcore 0.1.5 run live, costlab's fvcore convention and its rows per module, and costlab's formulas under
paper against FlopCounterMode / 2 (conftest.fvcore_case). Not ported: custom op handles and the analyzer's
copy/warning/caching API (fvcore's own machinery, no op).
"""

import pytest

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402

from conftest import fvcore_case as _both  # noqa: E402


# ------------------------------------------------------------------------------ tests/test_jit_model_analysis.py

class NestedNetInnerModule(nn.Module):
    """fvcore's inner module: reshape to 2x5, Conv1d(2, 2, 1), flatten, Linear(10, 10), 3 * fc(x) + 1."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv1d(2, 2, 1)
        self.fc = nn.Linear(10, 10)

    def forward(self, x):
        x = torch.flatten(self.conv(x.reshape(-1, 2, 5)), 1)
        return 3 * self.fc(x) + 1


class NestedNet(nn.Module):
    """fvcore's NestedNet: Conv1d(4, 4, 3, padding 1) on 4x5, flatten, Linear(20, 10), the inner module, squared."""

    def __init__(self):
        super().__init__()
        self.submod = NestedNetInnerModule()
        self.fc = nn.Linear(20, 10)
        self.conv = nn.Conv1d(4, 4, 3, padding=1)

    def forward(self, x):
        x = self.fc(torch.flatten(self.conv(x), 1))
        return self.submod(x) ** 2


# fvcore's per-module numbers: conv 5 positions * 3 * 4 * 4 = 240, fc 20 * 10 = 200, submod.conv 5 * 1 * 2 * 2 = 20,
# submod.fc 10 * 10 = 100
NESTED = {"conv": 240, "fc": 200, "submod.conv": 20, "submod.fc": 100}


def test_nested_net_by_module():
    """fvcore tests/test_jit_model_analysis.py, test_total / test_by_module: NestedNet on 1x4x5, 560 in all, and
    per module; costlab's rows carry the same numbers under the same names. test_unsupported_ops: the inner module's
    aten::add and aten::mul and the outer aten::pow are fvcore's unsupported ops, costlab's uncounted ones."""
    from fvcore.nn import FlopCountAnalysis

    model = NestedNet()
    x = torch.randn(1, 4, 5)
    analysis = _both(model, (x,), 560)
    fv = FlopCountAnalysis(model, x).unsupported_ops_warnings(False)
    assert fv.total() == 560 and fv.by_module() == {"": 560, "submod": 120, **NESTED}
    assert {row["name"]: row["macs"] for row in analysis.row_dicts()} == NESTED
    assert fv.unsupported_ops() == {"aten::add": 1, "aten::mul": 1, "aten::pow": 1}
    assert analysis.uncounted == {"add": 1, "mul": 1, "pow": 1}


def test_nested_net_in_data_parallel():
    """fvcore tests/test_jit_model_analysis.py, test_data_parallel: NestedNet wrapped in nn.DataParallel (on CPU),
    the same 560 under the wrapper's names."""
    model = nn.DataParallel(NestedNet()).cpu()
    analysis = _both(model, (torch.randn(1, 4, 5),), 560)
    assert {row["name"]: row["macs"] for row in analysis.row_dicts()} == {f"module.{k}": v for k, v in NESTED.items()}


class UnusedNet(nn.Module):
    """fvcore's UnusedNet: fc1 (10 -> 10), ReLU, fc2 (10 -> 1); unused (20 -> 20) never runs."""

    def __init__(self):
        super().__init__()
        self.fc1, self.fc2, self.unused, self.act = nn.Linear(10, 10), nn.Linear(10, 1), nn.Linear(20, 20), nn.ReLU()

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


def test_unused_module():
    """fvcore tests/test_jit_model_analysis.py, test_unused_module: fc1 100 + fc2 10 = 110, unused 0; its 420 params
    are still the model's (sum(p.numel()) = 110 + 11 + 420 = 541) and costlab's rows carry them."""
    analysis = _both(UnusedNet(), (torch.randn(1, 10),), 100 + 10)
    assert analysis.params == 110 + 11 + 420 == sum(row["params"] for row in analysis.row_dicts())


class RepeatedNet(nn.Module):
    """fvcore's RepeatedNet: fc1 (10 -> 10) called 3 times, fc2 (10 -> 10) twice."""

    def __init__(self):
        super().__init__()
        self.fc1, self.fc2 = nn.Linear(10, 10), nn.Linear(10, 10)

    def forward(self, x):
        for _ in range(3):
            x = self.fc1(x)
        for _ in range(2):
            x = self.fc2(x)
        return x


def test_repeated_module():
    """fvcore tests/test_jit_model_analysis.py, test_repeated_module: fc1 3 * 100, fc2 2 * 100, 500 in all; costlab
    has one row per call."""
    analysis = _both(RepeatedNet(), (torch.randn(1, 10),), 3 * 100 + 2 * 100)
    assert [(row["name"], row["macs"]) for row in analysis.row_dicts()] == [("fc1", 100)] * 3 + [("fc2", 100)] * 2


class NonForwardInnerModule(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(10, 1)

    def forward(self, x):
        return x

    def other_func(self, x):
        return self.fc(x)


class NonForwardNet(nn.Module):
    """fvcore's NonForwardNet: fc (10 -> 10), then the submodule's other_func (its fc, 10 -> 1), not its forward."""

    def __init__(self):
        super().__init__()
        self.submod, self.fc = NonForwardInnerModule(), nn.Linear(10, 10)

    def forward(self, x):
        return self.submod.other_func(self.fc(x))


def test_non_forward_func_call():
    """fvcore tests/test_jit_model_analysis.py, test_non_forward_func_call: 100 + 10 = 110 in all, submod.fc 10."""
    analysis = _both(NonForwardNet(), (torch.randn(1, 10),), 100 + 10)
    assert {row["name"]: row["macs"] for row in analysis.row_dicts()} == {"fc": 100, "submod.fc": 10}


class SharedInnerModule(nn.Module):
    def __init__(self, submod):
        super().__init__()
        self.submod = submod

    def forward(self, x):
        return self.submod(x)


class SharedModuleNet(nn.Module):
    """fvcore's SharedModuleNet: one Linear(10, 10) inside two submodules, one Linear(10, 1) under two names."""

    def __init__(self):
        super().__init__()
        inner = nn.Linear(10, 10)
        self.submod1, self.submod2 = SharedInnerModule(inner), SharedInnerModule(inner)
        multiname = nn.Linear(10, 1)
        self.multiname1, self.multiname2 = multiname, multiname

    def forward(self, x):
        x = self.submod1(x) + self.submod2(x)
        return self.multiname1(x) + self.multiname2(x)


def test_shared_module():
    """fvcore tests/test_jit_model_analysis.py, test_shared_module: the shared Linear twice (2 * 100) and the
    multi-named one twice (2 * 10), 220 in all; their params once (110 + 11 = 121)."""
    analysis = _both(SharedModuleNet(), (torch.randn(1, 10),), 2 * 100 + 2 * 10)
    assert analysis.params == 121 == sum(row["params"] for row in analysis.row_dicts())


class RecursiveScopeNet(nn.Module):
    """fvcore's RecursiveScopeNet: calls itself three times, then its fc (10 -> 1)."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(10, 1)

    def forward(self, x, count: int = 3):
        if count > 0:
            return self(x, count - 1)
        return self.fc(x)


def test_recursive_scope():
    """fvcore tests/test_jit_model_analysis.py, test_recursive_scope: the fc once, 10."""
    _both(RecursiveScopeNet(), (torch.randn(1, 10),), 10)


def test_skip_uncalled_containers():
    """fvcore tests/test_jit_model_analysis.py, test_skip_uncalled_containers_warnings: a Linear(3, 3) reached through
    a ModuleList, plus 1, on 1x3: 9."""

    class A(nn.Module):
        def forward(self, x):
            return self.submod[0](x) + 1

    model = A()
    model.submod = nn.ModuleList([nn.Linear(3, 3)])
    _both(model, (torch.rand(1, 3),), 9)
