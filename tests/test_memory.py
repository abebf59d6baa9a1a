"""Memory traffic against ShuffleNetV2's formula (worked by hand) and against the tensors torch really touches."""

import math

import pytest

from costlab.core.analyze import analyze
from costlab.nets.blocks import conv, mbconv
from costlab.core.graph import Layer, Seq
from costlab.core.traffic import DTYPE_BYTES, batch_norm, intensity, weighted
from costlab.core.ops import Activation, BatchNorm2d, Linear
from costlab.core.shapes import Shape


def _row(node, shape):
    (row,) = analyze(node, shape).rows
    return row


def row_traffic(row):
    return row.traffic


def row_bytes(row, dtype_bytes=4):
    return row.traffic.bytes(dtype_bytes)


def test_shufflenet_v2_1x1_formula_by_hand():
    # ShuffleNetV2 G1: a 1x1 conv c1 -> c2 on h x w touches MAC = hw(c1 + c2) + c1*c2 elements.
    # c1 = 64, c2 = 128, h = w = 28: 784 * 192 + 64 * 128 = 150,528 + 8,192 = 158,720 elements.
    row = _row(conv("pw", 64, 128, 1), Shape(64, 28, 28))
    traffic = row_traffic(row)
    assert traffic.read == 784 * 64 + 8_192
    assert traffic.written == 784 * 128
    assert traffic.total == 158_720
    assert row_bytes(row) == 4 * 158_720 == 634_880  # fp32 default
    assert row_bytes(row, DTYPE_BYTES["fp16"]) == 317_440
    # intensity = FLOPs / bytes = 2 * hw * c1 * c2 / bytes
    assert intensity(2 * row.macs, row_bytes(row)) == pytest.approx(2 * 784 * 64 * 128 / 634_880)


def test_shufflenet_v2_g1_equal_widths_minimise_traffic():
    # The paper's bound: for fixed FLOPs B = hw*c1*c2, MAC >= 2*sqrt(hw*B) + B/hw, with equality iff c1 == c2.
    hw = 14 * 14
    widths = [(16, 1024), (32, 512), (64, 256), (128, 128), (256, 64), (1024, 16)]
    macs = {}
    for c1, c2 in widths:
        row = _row(conv("pw", c1, c2, 1), Shape(c1, 14, 14))
        macs[(c1, c2)] = row_traffic(row).total
        b = hw * c1 * c2
        assert macs[(c1, c2)] >= 2 * math.sqrt(hw * b) + b / hw - 1e-9
    assert min(macs, key=macs.get) == (128, 128)
    b = hw * 128 * 128
    assert macs[(128, 128)] == pytest.approx(2 * math.sqrt(hw * b) + b / hw)


def test_kxk_grouped_depthwise_by_hand():
    # 3x3 stride-2 conv 32 -> 64 on 56x56 -> 28x28: input 32*56*56, weights 9*32*64, output 64*28*28
    assert weighted(32 * 56 * 56, 64 * 28 * 28, 9 * 32 * 64).total == 100_352 + 18_432 + 50_176
    row = _row(conv("c", 32, 64, 3, stride=2), Shape(32, 56, 56))
    assert row_traffic(row).total == 100_352 + 18_432 + 50_176
    # depthwise 3x3 on 144 x 56 x 56: weights are only 9 * 144
    row = _row(conv("dw", 144, 144, 3, groups=144), Shape(144, 56, 56))
    assert row_traffic(row).total == 2 * 144 * 56 * 56 + 9 * 144
    # grouped 3x3, 4 groups, 64 -> 64 on 8x8: weights 9 * 16 * 64
    row = _row(conv("g", 64, 64, 3, groups=4), Shape(64, 8, 8))
    assert row_traffic(row).total == 2 * 64 * 64 + 9 * 16 * 64
    # BatchNorm (eval) reads mean, var, gamma, beta per channel
    assert batch_norm(32, 100).total == 2 * 3200 + 4 * 32


def _torch_traffic(module, x):
    """Elements each leaf module reads (input + parameters + buffers) and writes (output), traced by hooks."""
    import torch

    out = {}

    def hook(name):
        def fn(m, inputs, output):
            state = sum(t.numel() for n, t in list(m.named_parameters(recurse=False)) + list(m.named_buffers(recurse=False))
                        if n != "num_batches_tracked")
            out[name] = (sum(i.numel() for i in inputs) + state, output.numel())
        return fn

    for name, m in module.named_modules():
        if name and not list(m.children()):
            m.register_forward_hook(hook(name))
    with torch.inference_mode():
        module.eval()(x)
    return out


def test_every_layer_matches_the_tensors_torch_touches():
    torch = pytest.importorskip("torch")
    from costlab.traced.build import build_module

    net = Seq("net", (
        mbconv("block", 16, 16, kernel=5, stride=1, expanded=64, se_channels=4, act="silu"),
        mbconv("down", 16, 24, kernel=3, stride=2, expanded=96),
        Layer("flatten_bn", BatchNorm2d(24)),
        Layer("act", Activation("hardswish")),
    ))
    shape = Shape(16, 12, 12)
    rows = analyze(net, shape).rows
    traced = _torch_traffic(build_module(net), torch.randn(1, 16, 12, 12))
    checked = 0
    for row in rows:
        t = row_traffic(row)
        if row.name in traced:
            assert (t.read, t.written) == traced[row.name], row.name
            checked += 1
        elif row.op_name == "Add":  # y + x: two inputs in, one out
            assert (t.read, t.written) == (2 * row.in_shape.numel, row.in_shape.numel)
        elif row.op_name == "Mul":  # x * gate: the map and a C-vector in, the map out
            assert (t.read, t.written) == (row.in_shape.numel + row.in_shape.c, row.in_shape.numel)
    assert checked == len(traced) >= 15


def test_linear_traffic_matches_torch():
    torch = pytest.importorskip("torch")
    from costlab.traced.build import build_module

    node = Layer("fc", Linear(1280, 1000))
    row = _row(node, Shape(1280))
    traced = _torch_traffic(torch.nn.Sequential(build_module(node)), torch.randn(1, 1280))
    assert (row_traffic(row).read, row_traffic(row).written) == traced["0"] == (1280 + 1280 * 1000 + 1000, 1000)


@pytest.mark.parametrize("cin,cout,k,stride,groups,size,threads", [
    (64, 128, 1, 1, 1, 28, 1),    # 1x1 stride 1 at 1 thread: native GEMM
    (64, 128, 1, 2, 1, 28, 1),    # strided 1x1: oneDNN
    (32, 32, 3, 1, 32, 28, 1),    # depthwise: oneDNN
    (8, 16, 3, 1, 1, 16, 1),      # dense 3x3 on 2048 input elements: native im2col
    (32, 32, 3, 1, 1, 28, 1),     # dense 3x3 on 25088 input elements: oneDNN
    (64, 128, 1, 1, 1, 28, 2),    # 1x1 at 2 threads: oneDNN
])
def test_conv_path_matches_the_kernel_torch_runs(cin, cout, k, stride, groups, size, threads):
    torch = pytest.importorskip("torch")
    from torch.profiler import ProfilerActivity, profile

    from costlab.perf.memory import conv_workspace, onednn_conv

    row = _row(conv("c", cin, cout, k, stride=stride, groups=groups), Shape(cin, size, size))
    module = torch.nn.Conv2d(cin, cout, k, stride, padding=k // 2, groups=groups, bias=False).eval()
    x = torch.randn(1, cin, size, size)
    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        with torch.inference_mode(), profile(activities=[ProfilerActivity.CPU]) as prof:
            module(x)
    finally:
        torch.set_num_threads(previous)
    ran = {e.key for e in prof.key_averages()}
    assert onednn_conv(row, threads) == ("aten::mkldnn_convolution" in ran)
    if "aten::mkldnn_convolution" in ran:
        assert conv_workspace(row, threads) == cin * size * size + row.out_shape.numel
