"""fvcore's own test cases as costlab tests, with the numbers fvcore's tests assert: tests/test_flop_count.py.

Ported from facebookresearch/fvcore tests/test_flop_count.py: every case about an op costlab prices (convolutions of
every rank and transposed, linear, matmul, bmm, einsum, batch/group norm, upsample, adaptive pooling); the module-level
cases of its tests/test_jit_model_analysis.py are in tests/test_fvcore_module_cases.py. Each test
asserts fvcore's number as written there (its arithmetic copied by hand, in MACs: fvcore's "flops"; its tests divide
by 1e9, these do not), that fvcore 0.1.5 run live here still gives it, and that costlab's fvcore convention gives it;
on the same models costlab's formulas under the paper convention equal FlopCounterMode / 2, run live
(conftest.fvcore_case). Not ported: custom op handles (fvcore's own machinery, no op). Models with two inputs (matmul,
bmm, einsum) are run by costlab with the second operand held as a buffer: `analyze` feeds a model one input.
"""

import pytest

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402
from torch.nn import functional as F  # noqa: E402

import costlab  # noqa: E402
from conftest import fvcore_case as _both, fvcore_total  # noqa: E402


def _fvcore(model, *inputs):
    """fvcore.nn.FlopCountAnalysis(model, inputs).total(), live."""
    return fvcore_total(model, *inputs)


def _costlab(model, x, convention="fvcore"):
    return costlab.count(model, tuple(x.shape), convention=convention)


# ------------------------------------------------------------------------------------- tests/test_flop_count.py

class ThreeNet(nn.Module):
    """fvcore's ThreeNet: a 1x1 conv, an adaptive average pool to 1x1 and two linear layers."""

    def __init__(self, input_dim, conv_dim, linear_dim):
        super().__init__()
        self.conv = nn.Conv2d(input_dim, conv_dim, 1, 1)
        self.pool = nn.AdaptiveAvgPool2d((1, 1))
        self.linear1 = nn.Linear(conv_dim, linear_dim)
        self.linear2 = nn.Linear(linear_dim, 1)

    def forward(self, x):
        return self.linear2(self.linear1(torch.flatten(self.pool(self.conv(x)), 1)))


class ConvNet(nn.Module):
    """fvcore's ConvNet: one Conv1d/2d/3d, or ConvTranspose1d/2d/3d with output_padding."""

    def __init__(self, conv_dim, input_dim, output_dim, kernel_size, stride, padding, groups, transpose=False,
                 output_padding=0):
        super().__init__()
        layers = [nn.ConvTranspose1d, nn.ConvTranspose2d, nn.ConvTranspose3d] if transpose else [nn.Conv1d, nn.Conv2d,
                                                                                                 nn.Conv3d]
        kwargs = {"output_padding": output_padding} if transpose else {}
        self.conv = layers[conv_dim - 1](input_dim, output_dim, kernel_size, stride, padding, groups=groups, **kwargs)

    def forward(self, x):
        return self.conv(x)


# (conv_dim, batch, input_dim, output_dim, spatial_dim, kernel, padding, stride, groups, transpose, output_padding),
# as TestFlopCountAnalysis.test_conv writes its nine cases; fvcore's gt_flop is
# batch * input_dim * output_dim * kernel^d * spatial_size^d / groups, spatial_size the input's when transposed, else
# (spatial_dim + 2 * padding - kernel) // stride + 1
CONV_CASES = {
    "2d": ((2, 5, 10, 3, 15, 3, 1, 1, 1, False, 0), 5 * 10 * 3 * 3 ** 2 * 15 ** 2),  # 303,750
    "2d-stride-2": ((2, 2, 10, 6, 20, 3, 1, 2, 1, False, 0), 2 * 10 * 6 * 3 ** 2 * 10 ** 2),  # (20+2-3)//2+1 = 10
    "2d-groups-4": ((2, 5, 16, 8, 15, 5, 2, 1, 4, False, 0), 5 * 16 * 8 * 5 ** 2 * 15 ** 2 // 4),  # 180,000
    "2d-depthwise": ((2, 5, 16, 8, 15, 3, 1, 1, 8, False, 0), 5 * 16 * 8 * 3 ** 2 * 15 ** 2 // 8),  # 162,000
    "1d": ((1, 5, 10, 3, 15, 3, 1, 1, 1, False, 0), 5 * 10 * 3 * 3 * 15),  # 6,750
    "3d": ((3, 5, 10, 3, 15, 3, 1, 1, 1, False, 0), 5 * 10 * 3 * 3 ** 3 * 15 ** 3),  # 13,668,750
    "transposed-2d": ((2, 5, 10, 3, 15, 3, 1, 1, 1, True, 0), 5 * 10 * 3 * 3 ** 2 * 15 ** 2),  # 303,750
    "transposed-2d-stride-2": ((2, 5, 10, 3, 15, 3, 1, 2, 1, True, 0), 5 * 10 * 3 * 3 ** 2 * 15 ** 2),
    "transposed-2d-stride-3-output-padding-2": ((2, 5, 10, 3, 15, 3, 1, 3, 1, True, 2), 5 * 10 * 3 * 3 ** 2 * 15 ** 2),
}


@pytest.mark.parametrize("case", CONV_CASES)
def test_conv(case):
    """fvcore tests/test_flop_count.py, TestFlopCountAnalysis.test_conv: 2-d, strided, grouped, depthwise, 1-d, 3-d
    and transposed 2-d (plain, strided, with output_padding) convolutions."""
    (d, batch, cin, cout, spatial, k, padding, stride, groups, transpose, output_padding), expected = CONV_CASES[case]
    model = ConvNet(d, cin, cout, k, stride, padding, groups, transpose, output_padding)
    x = torch.randn(batch, cin, *([spatial] * d))
    _both(model, (x,), expected)


def test_conv_transpose_1d_and_3d():
    """The transposed ranks test_conv does not list, by fvcore's transposed rule (batch * input positions * weights):
    ConvTranspose1d(10, 3, 3) on 5x10x15 is 5*15*10*3*3 = 6,750; ConvTranspose3d(4, 6, 2, stride 2, groups 2) on
    2x4x5x5x5 is 2*125*4*(6/2)*8 = 24,000."""
    _both(ConvNet(1, 10, 3, 3, 1, 1, 1, transpose=True), (torch.randn(5, 10, 15),), 5 * 15 * 10 * 3 * 3)
    _both(nn.ConvTranspose3d(4, 6, 2, stride=2, groups=2), (torch.randn(2, 4, 5, 5, 5),), 2 * 125 * 4 * 3 * 8)


def test_nn_and_linear():
    """fvcore tests/test_flop_count.py, test_nn (nn.Linear(8, 4) on 5x8: 5*8*4 = 160) and test_linear (LinearNet
    10 -> 20 on 5x10: 1,000; on 5x5x10: 5*10*5*20 = 5,000)."""
    _both(nn.Linear(8, 4), (torch.randn(5, 8),), 5 * 8 * 4)
    linear = nn.Linear(10, 20)
    _both(linear, (torch.randn(5, 10),), 5 * 10 * 20)
    _both(linear, (torch.randn(5, 5, 10),), 5 * 10 * 5 * 20)


class MatmulNet(nn.Module):
    def forward(self, x, y):
        return torch.matmul(x, y)


@pytest.mark.parametrize("a,b,expected", [
    ((20, 10), (10, 100), 20 * 10 * 100),  # test_matmul
    ((1, 20, 10), (1, 10, 100), 20 * 10 * 100),  # test_matmul_broadcast, its four cases
    ((2, 2, 20, 10), (2, 2, 10, 100), 4 * 20 * 10 * 100),
    ((1, 20, 10), (10, 100), 20 * 10 * 100),
    ((2, 20, 10), (10, 100), 2 * 20 * 10 * 100),
])
def test_matmul(a, b, expected):
    """fvcore tests/test_flop_count.py, test_matmul and test_matmul_broadcast (m=20, n=10, p=100)."""
    _both(MatmulNet(), (torch.randn(a), torch.randn(b)), expected)


class BMMNet(nn.Module):
    def forward(self, x, y):
        return torch.bmm(x, y)


def test_bmm():
    """fvcore tests/test_flop_count.py, test_bmm: n=2, c=5, t=2, p=12: n*t*p*c = 240."""
    _both(BMMNet(), (torch.randn(2, 5, 2), torch.randn(2, 2, 12)), 2 * 2 * 12 * 5)


class EinsumNet(nn.Module):
    def __init__(self, equation):
        super().__init__()
        self.eq = equation

    def forward(self, x, y):
        return torch.einsum(self.eq, x, y)


def test_einsum():
    """fvcore tests/test_flop_count.py, test_einsum: 'nct,ncp->ntp' with n=1, c=5, t=2, p=12: n*t*p*c = 120;
    'ntg,ncg->nct' with g=6: n*t*g*c = 60."""
    _both(EinsumNet("nct,ncp->ntp"), (torch.randn(1, 5, 2), torch.randn(1, 5, 12)), 1 * 2 * 12 * 5)
    _both(EinsumNet("ntg,ncg->nct"), (torch.randn(1, 2, 6), torch.randn(1, 5, 6)), 1 * 2 * 6 * 5)


def test_batchnorm():
    """fvcore tests/test_flop_count.py, test_batchnorm: BatchNorm1d(10, affine=False) in eval on 10x10: 1 per
    element, 100; BatchNorm2d and BatchNorm3d(10, affine=False) in training mode (batch statistics) on 10x10x5x5 and
    10x10x5x5x5: 4 per element, 10,000 and 50,000. costlab counts a model in the mode it is in, as fvcore, and says so."""
    _both(nn.BatchNorm1d(10, affine=False).eval(), (torch.randn(10, 10),), 10 * 10)
    for norm, x in ((nn.BatchNorm2d(10, affine=False), torch.randn(10, 10, 5, 5)),
                    (nn.BatchNorm3d(10, affine=False), torch.randn(10, 10, 5, 5, 5))):
        assert norm.training and _fvcore(norm, x) == 4 * x.numel()
        analysis = _costlab(norm, x)
        assert analysis.macs == 4 * x.numel()
        assert [note for note in analysis.notes if "BatchNorm in training mode" in note]
        assert norm.training  # counting does not switch the model to eval


def test_three_net():
    """fvcore tests/test_flop_count.py, test_threeNet and test_flop_counter_class: batch 4, 2 -> 5 channels at 10x10:
    conv 4*5*2*100 = 4,000, linear1 4*5*3 = 60, linear2 4*3*1 = 12, adaptive_avg_pool2d 4*5*100 = 2,000 (fvcore's
    2e-6 GFLOPs, and its by_module 'pool': flop1 // input_dim), 6,072 in all; costlab's rows per module say the same."""
    model = ThreeNet(2, 5, 3)
    analysis = _both(model, (torch.randn(4, 2, 10, 10),), 4000 + 60 + 12 + 2000)
    assert {row["name"]: row["macs"] for row in analysis.row_dicts()} == {"conv": 4000, "pool": 2000, "linear1": 60,
                                                                          "linear2": 12}


class Functional(nn.Module):
    """One torch function called in forward with fixed extra arguments (fvcore's TestFlopCountHandles traces the
    function alone)."""

    def __init__(self, function, *args, **kwargs):
        super().__init__()
        self.function, self.args, self.kwargs = function, args, kwargs

    def forward(self, x):
        return self.function(x, *self.args, **self.kwargs)


def test_batch_norm_handle():
    """fvcore tests/test_flop_count.py, TestFlopCountHandles.test_batch_norm: F.batch_norm on 2x2x2x2 (16 elements)
    with running stats, weight and bias: 32; without weight and bias: 16; training=True: 80."""
    vec = torch.rand(2)
    _both(Functional(F.batch_norm, vec, vec, vec, vec), (torch.rand(2, 2, 2, 2),), 32)
    _both(Functional(F.batch_norm, vec, vec, None, None), (torch.rand(2, 2, 2, 2),), 16)
    _both(Functional(F.batch_norm, vec, vec, vec, vec, True), (torch.rand(2, 2, 2, 2),), 80)


def test_group_norm_handle():
    """fvcore tests/test_flop_count.py, TestFlopCountHandles.test_group_norm: F.group_norm(x, 2, ...) on 2x2x2x2 with
    weight and bias: 80 (5 per element); without: 64 (4 per element)."""
    vec = torch.rand(2)
    _both(Functional(F.group_norm, 2, vec, vec), (torch.rand(2, 2, 2, 2),), 80)
    _both(Functional(F.group_norm, 2, None, None), (torch.rand(2, 2, 2, 2),), 64)


def test_upsample_handle():
    """fvcore tests/test_flop_count.py, TestFlopCountHandles.test_upsample: F.interpolate(x, None, 2, 'bilinear',
    False) on 2x2x2x2: 2 ** 4 * 4 * 4 = 256 (4 per output element)."""
    _both(Functional(F.interpolate, None, 2, "bilinear", False), (torch.rand(2, 2, 2, 2),), 2 ** 4 * 4 * 4)


def test_complicated_einsum_handle():
    """fvcore tests/test_flop_count.py, TestFlopCountHandles.test_complicated_einsum: 'nc,nchw->hw' on 3x4 and
    3x4x2x3: 72."""
    _both(EinsumNet("nc,nchw->hw"), (torch.rand(3, 4), torch.rand(3, 4, 2, 3)), 72)


@pytest.mark.parametrize("function", [torch.mm, torch.matmul], ids=["mm", "matmul"])
def test_torch_mm_handle(function):
    """fvcore tests/test_flop_count.py, TestFlopCountHandles.test_torch_mm: mm and matmul of 3x4 by 4x5: 60."""
    _both(Functional(function, torch.rand(4, 5)), (torch.rand(3, 4),), 60)


def test_skip_ops():
    """fvcore tests/test_flop_count.py, test_skip_ops: CustomNet (Linear 5 -> 4, then nn.Sigmoid) skips one
    aten::sigmoid; costlab lists it as uncounted (zero by fvcore's rule), not unpriced. The linear is 10*5*4 = 200."""
    model = nn.Sequential(nn.Linear(5, 4), nn.Sigmoid())
    x = torch.rand(10, 5)
    from fvcore.nn import FlopCountAnalysis

    fv = FlopCountAnalysis(model, x)
    assert fv.total() == 200 and fv.unsupported_ops() == {"aten::sigmoid": 1}
    analysis = _both(model, (x,), 200)
    assert analysis.uncounted == {"sigmoid": 1}


# --------------------------------------------------------------- fvcore's handle table on modules, every rank

@pytest.mark.parametrize("module,dims,expected", [
    (nn.Upsample(scale_factor=2), (1, 3, 4, 4), 3 * 8 * 8),  # upsample_nearest2d: 1 per output element
    (nn.Upsample(scale_factor=2, mode="bilinear"), (1, 3, 4, 4), 4 * 3 * 8 * 8),  # upsample_bilinear2d: 4
    (nn.Upsample(size=(7, 5), mode="bilinear", align_corners=True), (1, 3, 4, 4), 4 * 3 * 7 * 5),
    (nn.Upsample(scale_factor=2), (1, 3, 4), 0),  # upsample_nearest1d: no handle
    (nn.Upsample(scale_factor=2, mode="trilinear"), (1, 3, 4, 4, 4), 0),  # no handle
    (nn.Upsample(scale_factor=2, mode="bicubic"), (1, 3, 4, 4), 0),  # no handle
    (nn.LayerNorm(16), (2, 5, 16), 5 * 2 * 5 * 16),  # layer_norm: 5 per element with affine
    (nn.LayerNorm(16, elementwise_affine=False), (2, 5, 16), 4 * 2 * 5 * 16),
    (nn.GroupNorm(2, 4), (2, 4, 3, 3), 5 * 2 * 4 * 3 * 3),
    (nn.InstanceNorm2d(3), (2, 3, 4, 4), 4 * 2 * 3 * 4 * 4),  # affine=False by default
    (nn.InstanceNorm2d(3, affine=True), (2, 3, 4, 4), 5 * 2 * 3 * 4 * 4),
    (nn.BatchNorm2d(3, track_running_stats=False).eval(), (2, 3, 4, 4), 5 * 2 * 3 * 4 * 4),  # batch statistics
    (nn.BatchNorm2d(3).eval(), (2, 3, 4, 4), 2 * 2 * 3 * 4 * 4),
    (nn.AdaptiveAvgPool2d(2), (2, 3, 8, 8), 2 * 3 * 8 * 8),  # adaptive_avg_pool2d: 1 per input element
    (nn.AdaptiveAvgPool1d(1), (2, 3, 8), 0),  # no handle for other ranks
    (nn.AdaptiveAvgPool3d(1), (2, 3, 4, 4, 4), 0),
    (nn.MaxPool2d(2), (2, 3, 8, 8), 0),
    (nn.AvgPool2d(2), (2, 3, 8, 8), 0),
    (nn.Conv2d(3, 4, 3, padding=1, padding_mode="reflect"), (1, 3, 8, 8), 3 * 4 * 9 * 8 * 8),
    (nn.Conv2d(3, 4, 3, dilation=2), (1, 3, 8, 8), 3 * 4 * 9 * 4 * 4),
    (nn.ConvTranspose2d(4, 6, 3, stride=2, dilation=2, groups=2, output_padding=1), (1, 4, 5, 5), 25 * 4 * 3 * 9),
], ids=lambda v: type(v).__name__ if isinstance(v, nn.Module) else None)
def test_handle_table_on_modules(module, dims, expected):
    """Beyond fvcore's own tests: its handle table (fvcore/nn/flop_count.py _DEFAULT_SUPPORTED_OPS) on the modules
    of every rank and mode, fvcore run live equal to the arithmetic written here, and costlab's fvcore convention
    equal to both; ops fvcore has no handle for are 0 in both."""
    _both(module, (torch.zeros(dims),), expected)
