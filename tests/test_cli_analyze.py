"""`costlab analyze` on user models: unpriced ops and --strict, notes where costlab disagrees with a tool on purpose,
the CPU fallback when the meta device cannot serve, and bad input (one line, exit 2).

Every MAC count asserted is the tool's own, run live here on the same model (FlopCounterMode / 2, fvcore's
FlopCountAnalysis, ptflops, thop), or arithmetic written out in the test.
"""

import importlib
import json
import textwrap
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

from conftest import flop_counter_macs, fvcore_total, n_params, one_line_exit_2, tool_counts  # noqa: E402

CONVENTIONS = ["paper", "fvcore", "ptflops", "thop"]

# a 3x3 conv 3 -> 4 with bias on 1x3x8x8: 6x6 outputs, 3*4*9*36 = 3,888 MACs; ptflops adds 4*36 = 144 bias adds
CONV = 3 * 4 * 9 * 36

MODELS = '''
import numpy as np
import torch
from torch import nn


class NumpySort(torch.autograd.Function):
    """A custom autograd Function computing with numpy: no torch op shows what it does."""

    @staticmethod
    def forward(ctx, x):
        return torch.from_numpy(np.sort(x.detach().cpu().numpy(), axis=-1))

    @staticmethod
    def backward(ctx, grad):
        return grad


class MatmulFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, w):
        return x @ w

    @staticmethod
    def backward(ctx, grad):
        return grad, grad


class Net(nn.Module):
    def __init__(self, tail, padding=0):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=padding)
        self.tail = tail

    def forward(self, x):
        return self.tail(self.conv(x))


class Gram(nn.Module):
    """Every sample against every other: (N, 256) @ (256, N), N*N*256 MACs, not linear in the batch; .item() keeps it
    off the meta device."""

    def forward(self, x):
        if x.sum().item() > 1e30:
            raise ValueError("unreachable")
        flat = x.flatten(1)
        return flat @ flat.T


class Broken(nn.Module):
    def forward(self, x):
        raise ValueError(f"bad forward {x.sum().item()}")


CALLS = __file__ + ".calls"  # a file: costlab runs the model in a child process


class Interrupted(nn.Module):
    def forward(self, x):
        with open(CALLS, "a") as fh:
            print(x.device.type, file=fh)
        raise KeyboardInterrupt


def fft():
    return Net(lambda y: torch.fft.rfft2(y).abs())


def numpy_function():
    return Net(NumpySort.apply)


def relu_and_add():
    return Net(lambda y: torch.relu(y) + y)


def same_padding():
    return Net(torch.nn.Identity(), padding="same")


class WithFunction(nn.Module):
    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(torch.zeros(8, 8))

    def forward(self, x):
        return MatmulFunction.apply(x, self.w)


def matmul_function():
    return WithFunction()


def gram():
    return Gram()


def broken():
    return Broken()


def interrupted():
    return Interrupted()


def fails_to_build():
    raise RuntimeError("no such width")


def _nothing_computed(y):
    """torch.eye, zeros, a complex tensor from real and imaginary parts, its real view and back, reshapes."""
    eye = torch.eye(6, device=y.device)
    z = torch.view_as_complex(torch.view_as_real(torch.complex(y, y)))
    blank = torch.zeros(1, device=y.device)
    return torch.view_as_real(z).reshape(1, -1).flatten(), eye, blank


def nothing_computed():
    return Net(_nothing_computed)
'''


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    """The module above, importable as 'costlab_user_models' (analyze imports it by MODULE:CALLABLE)."""
    folder = tmp_path_factory.mktemp("user_models")
    (folder / "costlab_user_models.py").write_text(textwrap.dedent(MODELS))
    with pytest.MonkeyPatch.context() as patch:
        patch.syspath_prepend(str(folder))
        yield importlib.import_module("costlab_user_models")


def _analyze(run, name, *options):
    return run("analyze", f"costlab_user_models:{name}", "--input", "1,3,8,8", *options)


def _json(run, name, *options):
    result = _analyze(run, name, "--format", "json", *options)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def _tool_macs(model, convention, dims=(1, 3, 8, 8)):
    x = torch.zeros(dims)
    if convention == "paper":
        return flop_counter_macs(model, x)
    if convention == "fvcore":
        return fvcore_total(model, x)
    return tool_counts(model, dims)[convention][0]


# ------------------------------------------------------------------------------------------------ unpriced ops

@pytest.mark.parametrize("convention", CONVENTIONS)
@pytest.mark.parametrize("name,op", [("fft", "_fft_r2c"), ("numpy_function", "NumpySort.apply")])
def test_an_op_nothing_prices_is_listed_and_fails_strict(run, models, name, op, convention):
    """An FFT, and a custom autograd Function computing in numpy: counted as 0 as every tool counts them (the tool's
    own total, run live, is the conv's alone), listed by name and count, and --strict exits 1 on exactly them."""
    model = getattr(models, name)().eval()
    data = _json(run, name, "--convention", convention)
    assert data["unpriced_ops"] == {op: 1}
    assert data["macs"] == _tool_macs(model, convention) == CONV + (144 if convention == "ptflops" else 0)
    assert data["params"] == n_params(model)
    table = _analyze(run, name, "--convention", convention)
    assert f"unpriced ops (no rule prices them; counted as 0): {op} x1" in table.stdout
    strict = _analyze(run, name, "--convention", convention, "--strict")
    assert strict.exit_code == 1
    assert strict.stderr.strip() == f"costlab: --strict: unpriced ops: {op} x1"


@pytest.mark.parametrize("convention", CONVENTIONS)
def test_strict_passes_on_ops_zero_by_the_conventions_rule(run, models, convention):
    """A ReLU and a residual add: uncounted under paper (and the add under every convention), never unpriced."""
    data = _json(run, "relu_and_add", "--convention", convention)
    assert data["unpriced_ops"] == {} and data["uncounted_ops"]
    assert _analyze(run, "relu_and_add", "--convention", convention, "--strict").exit_code == 0


# ------------------------------------------------------------------------------------------ disagreements, notes

def test_same_padding_under_fvcore_is_counted_and_said(run, models):
    """fvcore prices a padding='same' conv as 0 (no handle for aten::_convolution_mode): fvcore's own total here is 0;
    costlab counts the conv, 3*4*9*64 = 6,912 on 8x8 outputs, and says why it differs."""
    assert fvcore_total(models.same_padding().eval(), torch.zeros(1, 3, 8, 8)) == 0
    data = _json(run, "same_padding", "--convention", "fvcore")
    assert data["macs"] == 3 * 4 * 9 * 64
    (note,) = data["notes"]
    assert "padding='same'" in note and "aten::_convolution_mode" in note and note.endswith("(x1)")
    assert f"note: {note}" in _analyze(run, "same_padding", "--convention", "fvcore").stdout
    assert _json(run, "same_padding", "--convention", "paper")["notes"] == []


def test_custom_autograd_function_under_fvcore_is_counted_and_said(run, models):
    """fvcore sees a custom autograd Function as one prim::PythonOp and counts 0; costlab counts the 2x8 @ 8x8 its
    forward runs, 2*8*8 = 128 MACs (= FlopCounterMode / 2), and says so."""
    model = models.matmul_function().eval()
    assert fvcore_total(model, torch.zeros(2, 8)) == 0
    result = run("analyze", "costlab_user_models:matmul_function", "--input", "2,8", "--convention", "fvcore",
                 "--format", "json")
    data = json.loads(result.stdout)
    assert data["macs"] == 2 * 8 * 8 == flop_counter_macs(model, torch.zeros(2, 8))
    assert data["unpriced_ops"] == {} and ["prim::PythonOp" in note for note in data["notes"]] == [True]


# ------------------------------------------------------------------------------------ when meta cannot serve

def test_regnet_falls_back_to_cpu_and_scales_the_batch(run):
    """RegNet cannot be built on meta; counted on CPU at batch 1 (batch 2 checks linearity), scaled to batch 4, it
    equals FlopCounterMode / 2 run on batch 4 itself, per-layer rows and params included."""
    import torchvision

    result = run("analyze", "torchvision.models:regnet_y_400mf", "--input", "4,3,64,64", "--format", "json")
    data = json.loads(result.stdout)
    model = torchvision.models.regnet_y_400mf().eval()
    assert data["macs"] == flop_counter_macs(model, torch.zeros(4, 3, 64, 64))
    assert data["params"] == n_params(model) == sum(row["params"] for row in data["layers"])
    assert data["macs"] == sum(row["macs"] for row in data["layers"])
    assert data["device"] == "cpu" and data["batch"] == 4
    (note,) = data["notes"]
    assert "Cannot copy out of meta tensor" in note and "scaled to batch 4" in note


def test_meta_asked_for_is_meta_and_its_error_says_cpu_runs_it(run):
    one_line_exit_2(run("analyze", "torchvision.models:regnet_y_400mf", "--input", "1,3,64,64", "--device", "meta"),
                    "torchvision.models:regnet_y_400mf()", "Cannot copy out of meta tensor", "--device cpu")


def test_counts_not_linear_in_the_batch_are_never_scaled(run, models):
    """Gram's (N, 256) @ (256, N) is N*N*256 MACs: batch 3 is not 3 x batch 1. On CPU at batch 1 and 2 costlab sees it
    and refuses (one line naming why); --device cpu counts batch 3 itself: 3*3*256 = 2,304 = FlopCounterMode / 2."""
    line = one_line_exit_2(run("analyze", "costlab_user_models:gram", "--input", "3,4,8,8"),
                           "costlab_user_models:gram", "batch 3 is not scaled", "--device cpu")
    assert "256" in line and "1,024" in line  # batch 1: 256 MACs, batch 2: 1,024
    data = json.loads(run("analyze", "costlab_user_models:gram", "--input", "3,4,8,8", "--device", "cpu",
                          "--format", "json").stdout)
    assert data["macs"] == 3 * 3 * 256 == flop_counter_macs(models.gram(), torch.zeros(3, 4, 8, 8))


def test_a_model_failing_on_cpu_too_names_the_cpu_failure(run, models):
    one_line_exit_2(_analyze(run, "broken"), "costlab_user_models:broken on input 1,3,8,8 (cpu)",
                    "ValueError: bad forward 0.0")


def test_an_interrupted_model_is_not_run_again(run, models):
    calls = Path(models.CALLS)
    calls.unlink(missing_ok=True)
    one_line_exit_2(_analyze(run, "interrupted"), "costlab_user_models:interrupted", "KeyboardInterrupt")
    assert calls.read_text().split() == ["meta"]


# ------------------------------------------------------------------------------------------------- bad input

@pytest.mark.parametrize("spec,dims,fragments", [
    ("costlab_user_models:fails_to_build", "1,3,8,8",
     ("costlab_user_models:fails_to_build()", "RuntimeError: no such width")),
    ("costlab_user_models:broken", "1,3,8,8", ("costlab_user_models:broken on input 1,3,8,8", "ValueError")),
    ("costlab_user_models:fft", "1,5,8,8", ("costlab_user_models:fft on input 1,5,8,8", "channels")),
    ("costlab_user_models:nope", "1,3,8,8", ("costlab_user_models", "'nope'")),
    ("costlab_no_such_module:make", "1,3,8,8", ("costlab_no_such_module",)),
], ids=["fails-to-build", "fails-to-run", "wrong-input-shape", "callable-not-found", "module-not-found"])
def test_bad_input_is_one_line_exit_2(run, models, spec, dims, fragments):
    one_line_exit_2(run("analyze", spec, "--input", dims), *fragments)
