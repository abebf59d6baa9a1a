"""Spearman against textbook examples and pandas, the roofline worked by hand, strict device profiles, the CLI.

No test asserts a timing: measured numbers depend on the machine and its load (see benchmarks/bench_latency.py).
"""

import json
import math
import random

import pytest

from conftest import one_line_exit_2

from costlab.core.analyze import analyze
from costlab.nets.blocks import conv, mbconv
from costlab.perf.devices import Device, device_toml, host_device, known_devices, load_device, load_device_file
from costlab.errors import CostlabError
from costlab.core.graph import Layer, Seq
from costlab.perf.latency import spearman
from costlab.perf.roofline import predict, predict_row
from costlab.core.ops import Activation, Flatten
from costlab.core.shapes import Shape


# --- Spearman -------------------------------------------------------------------------------------

def test_spearman_wikipedia_iq_tv_example():
    # Wikipedia, "Spearman's rank correlation coefficient", worked example: rho = -29/165 = -0.175757...
    iq = [106, 100, 86, 101, 99, 103, 97, 113, 112, 110]
    tv = [7, 27, 2, 50, 28, 29, 20, 12, 6, 17]
    assert spearman(iq, tv) == pytest.approx(-29 / 165)
    # no ties: rho = 1 - 6 sum d^2 / (n (n^2 - 1)), sum d^2 = 194
    assert spearman(iq, tv) == pytest.approx(1 - 6 * 194 / (10 * 99))


def test_spearman_ties_by_hand():
    # x ranks 1, 2.5, 2.5, 4 (tied values share the mean rank); y ranks 1, 3, 2, 4
    # Pearson of the ranks: sum dxdy = 4.5, sum dx^2 = 4.5, sum dy^2 = 5 -> 4.5 / sqrt(22.5) = 3 / sqrt(10)
    assert spearman([1, 2, 2, 3], [1, 3, 2, 4]) == pytest.approx(3 / math.sqrt(10))
    assert spearman([1, 2, 3], [10, 20, 30]) == pytest.approx(1.0)
    assert spearman([1, 2, 3], [1, 4, 9][::-1]) == pytest.approx(-1.0)
    assert math.isnan(spearman([1, 1, 1], [1, 2, 3]))


def _textbook_spearman(x, y):
    """Independent of costlab: average ranks by counting, then numpy's Pearson correlation."""
    np = pytest.importorskip("numpy")

    def rank(v):
        return [sum(w < a for w in v) + (sum(w == a for w in v) + 1) / 2 for a in v]

    return float(np.corrcoef(rank(x), rank(y))[0, 1])


def test_spearman_matches_the_textbook_definition_with_ties():
    rng = random.Random(7)
    for _ in range(20):
        n = rng.randint(3, 60)
        x = [rng.choice([0, 0, 1, 2.5, 3, rng.random()]) for _ in range(n)]
        y = [rng.randint(0, 5) + (0.5 * x[i] if i % 2 else 0) for i in range(n)]
        assert spearman(x, y) == pytest.approx(_textbook_spearman(x, y))


def test_spearman_matches_scipy_if_installed():
    stats = pytest.importorskip("scipy.stats")
    rng = random.Random(3)
    for _ in range(10):
        x = [rng.randint(0, 6) for _ in range(30)]
        y = [rng.random() + v for v in x]
        assert spearman(x, y) == pytest.approx(stats.spearmanr(x, y)[0])


def test_spearman_bad_input():
    with pytest.raises(CostlabError):
        spearman([1, 2], [1])
    with pytest.raises(CostlabError):
        spearman([1], [1])


# --- roofline worked by hand ------------------------------------------------------------------------

DEVICE = Device(name="toy", peak_flops=1e9, memory_bandwidth=1e8, overhead_s=1e-6,
                overhead_by_type={"pointwise": 5e-6})


def test_roofline_compute_bound_pointwise_by_hand():
    # 1x1 conv 256 -> 256 on 14x14: 12,845,056 MACs = 25,690,112 FLOPs; 25.69 ms at 1 GFLOP/s
    # bytes = 4 * (196*256*2 + 65,536) = 663,552 -> 6.64 ms at 100 MB/s; so compute-bound
    (row,) = analyze(conv("pw", 256, 256, 1), Shape(256, 14, 14)).rows
    p = predict_row(row, DEVICE)
    assert p.macs == 12_845_056 and p.bytes == 663_552
    assert p.intensity == pytest.approx(25_690_112 / 663_552)
    assert p.bound == "compute"
    assert p.predicted_ms == pytest.approx(1e3 * (5e-6 + 25_690_112 / 1e9))
    assert p.attainable_flops == 1e9


def test_roofline_memory_bound_activation_and_overhead_fallback():
    # ReLU on 32 x 112 x 112: 0 FLOPs, 2 * 401,408 * 4 = 3,211,264 bytes -> 32.11 ms at 100 MB/s, memory-bound
    (row,) = analyze(Layer("act", Activation("relu")), Shape(32, 112, 112)).rows
    p = predict_row(row, DEVICE)
    assert p.bytes == 3_211_264 and p.bound == "memory"
    assert p.predicted_ms == pytest.approx(1e3 * (1e-6 + 3_211_264 / 1e8))  # no 'act' overhead: overhead_s
    fast = Device(name="cached", peak_flops=1e9, memory_bandwidth=1e8, overhead_s=1e-6, cache_bytes=4e6,
                  cache_bandwidth=1e9, bandwidth_by_kernel={"silu": 5e8})
    assert predict_row(row, fast).predicted_ms == pytest.approx(1e3 * (1e-6 + 3_211_264 / 1e9))
    # a slower kernel caps the cache's bandwidth: SiLU's exp streams at 500 MB/s here
    (silu,) = analyze(Layer("act", Activation("silu")), Shape(32, 112, 112)).rows
    assert predict_row(silu, fast).predicted_ms == pytest.approx(1e3 * (1e-6 + 3_211_264 / 5e8))


def test_a_layer_that_moves_nothing_is_overhead_bound():
    # Flatten is a view: 0 FLOPs and 0 bytes, so only the fixed cost (1 us) is left, and neither roof binds it
    (row,) = analyze(Layer("flatten", Flatten()), Shape(512, 1, 1)).rows
    p = predict_row(row, DEVICE)
    assert p.bytes == 0 and p.macs == 0 and p.bound == "overhead"
    assert p.predicted_ms == pytest.approx(1e3 * 1e-6)


def test_weights_stream_from_memory_feature_maps_from_cache():
    # 1x1 conv 960 -> 160 on 7x7: feature maps 4 * 49 * 1120 = 219,520 B (fit the cache: 1 GB/s),
    # weights 4 * 153,600 = 614,400 B (from memory: 100 MB/s); 15,052,800 FLOPs at 1 TFLOP/s is 15 us
    dev = Device(name="d", peak_flops=1e12, memory_bandwidth=1e8, overhead_s=0.0 + 1e-9, cache_bytes=1e6,
                 cache_bandwidth=1e9)
    (row,) = analyze(conv("pw", 960, 160, 1), Shape(960, 7, 7)).rows
    p = predict_row(row, dev)
    assert p.bytes == 219_520 + 614_400 and p.bound == "memory"
    assert p.predicted_ms == pytest.approx(1e3 * (1e-9 + 219_520 / 1e9 + 614_400 / 1e8))
    # batch 4: four times the feature maps, the weights once
    assert predict_row(row, dev, batch=4).bytes == 4 * 219_520 + 614_400


MIB = 1 << 20
CPU = "a calibrated CPU"  # a profile measured on a CPU running torch eager pays its workspaces, reorders, page faults


def test_a_spec_sheet_prices_the_roofline_alone_whatever_the_threads_or_batch():
    # the same depthwise conv that pays oneDNN's workspace on a calibrated CPU profile (the test below) costs, on a
    # spec sheet, its fixed cost plus max(compute, memory): 1 ns + 201,856 B / 1e8 B/s (memory-bound), at any threads
    from costlab.nets.blocks import conv as bare_conv

    sheet = Device(name="sheet", peak_flops=1e15, memory_bandwidth=1e8, overhead_s=1e-9)
    net = Seq("net", (bare_conv("dw", 32, 32, 3, groups=32),))
    for threads in (1, 2, 8):
        (layer,) = predict(analyze(net, Shape(32, 28, 28)), sheet, threads=threads)
        assert (layer.workspace_bytes, layer.reorder_bytes, layer.first_touch_bytes) == (0, 0, 0)
        assert layer.predicted_ms == pytest.approx(1e3 * (1e-9 + 201_856 / 1e8))


def test_first_touch_of_memory_glibc_maps_afresh():
    from costlab.perf.memory import fresh_bytes

    # 1x1 convs at one thread (native GEMM: no workspace) on 1024x1024 maps; the input x is 4 MiB, a (8 channels)
    # 32 MiB, b (16) 64 MiB, c (2) 8 MiB. b is above glibc's 32 MiB mmap ceiling: mapped on every call, all fresh.
    # The rest live on the heap: its top reaches x + a = 36 MiB in the first pass, and a's free leaves 32 MiB free
    # under it, not more than the trim threshold 2 * 32 MiB (the largest heap request), so it is kept: in the
    # repeated pass a and c land in pages already mapped
    net = Seq("net", (conv("a", 1, 8, 1), conv("b", 8, 16, 1), conv("c", 16, 2, 1)))
    rows = analyze(net, Shape(1, 1024, 1024)).rows
    assert fresh_bytes(rows) == {"a": 0, "b": 64 * MIB, "c": 0}
    dev = Device(name="d", peak_flops=1e15, memory_bandwidth=1e15, overhead_s=1e-9, first_touch_bandwidth=1e9,
                 cpu_model=CPU)
    layers = {r.name: r for r in predict(analyze(net, Shape(1, 1024, 1024)), dev)}
    assert layers["b"].first_touch_bytes == 64 * MIB
    assert layers["b"].predicted_ms == pytest.approx(1e3 * 64 * MIB / 1e9, rel=1e-3)


def test_first_touch_of_a_heap_trimmed_after_a_concat():
    from costlab.core.graph import branches
    from costlab.perf.memory import fresh_bytes

    # three 1x1 branches 1 -> 6 channels on 1024x1024 (24 MiB each, on the heap) joined by a concat (72 MiB: mapped,
    # fresh every pass). The concat frees the branches: 72 MiB free above the 4 MiB input, more than the trim
    # threshold 2 * 24 MiB, so glibc returns it, and every pass maps the branches' 3 * 24 MiB again
    net = Seq("net", (branches("cell", tuple(conv(f"b{i}", 1, 6, 1) for i in (1, 2, 3))),))
    rows = analyze(net, Shape(1, 1024, 1024)).rows
    assert fresh_bytes(rows) == {"cell.b1": 24 * MIB, "cell.b2": 24 * MIB, "cell.b3": 24 * MIB,
                                 "cell.concat": 72 * MIB}
    # at batch 1 on 16x16 maps everything stays on the heap and below glibc's trim threshold: nothing fresh
    small = analyze(net, Shape(1, 16, 16)).rows
    assert set(fresh_bytes(small).values()) == {0}


def test_first_touch_of_a_channel_split_keeps_its_input_alive():
    from costlab.core.graph import split
    from costlab.perf.memory import fresh_bytes

    # x (4 channels at 1024x1024, 16 MiB) split into two 2-channel views (no memory), a 1x1 conv 2 -> 20 on each
    # (80 MiB out: mapped, fresh), then concat (160 MiB: mapped, fresh). The views take no memory of their own
    net = Seq("net", (split("cell", (2, 2), (conv("a", 2, 20, 1), conv("b", 2, 20, 1))),))
    rows = analyze(net, Shape(4, 1024, 1024)).rows
    assert fresh_bytes(rows) == {"cell.split": 0, "cell.a": 80 * MIB, "cell.b": 80 * MIB, "cell.concat": 160 * MIB}


def test_workspace_of_a_onednn_conv_is_copied_once_more():
    # depthwise 3x3 on 32x28x28 runs in oneDNN (aten's rule, see test_memory): blocked copies of input and
    # output, 2 * 4 * 25,088 B = 200,704 B, each written and read once: 401,408 B at the 1 GB/s cache bandwidth
    from costlab.nets.blocks import conv as bare_conv

    dev = Device(name="d", peak_flops=1e15, memory_bandwidth=1e8, overhead_s=1e-9, cache_bytes=1e6,
                 cache_bandwidth=1e9, pointwise_flops=1e14, cpu_model=CPU)
    net = Seq("net", (bare_conv("dw", 32, 32, 3, groups=32),))
    (layer,) = predict(analyze(net, Shape(32, 28, 28)), dev, threads=1)
    assert layer.workspace_bytes == 200_704
    base = predict_row(analyze(net, Shape(32, 28, 28)).rows[0], dev, fresh=layer.first_touch_bytes).predicted_ms
    assert layer.predicted_ms - base == pytest.approx(1e3 * 401_408 / 1e9, rel=1e-6)
    # a 1x1 stride-1 conv at 1 thread is a GEMM on the input as it is: no workspace; at 2 threads oneDNN's
    pw = Seq("net", (bare_conv("pw", 32, 64, 1),))
    assert predict(analyze(pw, Shape(32, 28, 28)), dev, threads=1)[0].workspace_bytes == 0
    assert predict(analyze(pw, Shape(32, 28, 28)), dev, threads=2)[0].workspace_bytes == 4 * (32 + 64) * 784
    # the profile's own 1x1 rate prices pointwise layers
    assert dev.flops_for("pointwise") == 1e14 and dev.flops_for("conv") == 1e15


def test_a_onednn_conv_reorders_its_weights_every_call():
    # a dense 3x3 conv 32 -> 32 on 32x28x28 (25,088 input elements: oneDNN) reorders its 32 * 32 * 9 = 9,216 weights,
    # 36,864 B, at the profile's 1e6 B/s: 36.864 ms on top of the same conv priced without a reorder rate
    from costlab.nets.blocks import conv as bare_conv

    fast = dict(name="d", peak_flops=1e15, memory_bandwidth=1e15, overhead_s=1e-9, cpu_model=CPU)
    net = Seq("net", (bare_conv("c", 32, 32, 3),))
    (with_reorder,) = predict(analyze(net, Shape(32, 28, 28)), Device(**fast, reorder_bandwidth=1e6))
    (without,) = predict(analyze(net, Shape(32, 28, 28)), Device(**fast))
    assert with_reorder.reorder_bytes == without.reorder_bytes == 36_864
    assert with_reorder.predicted_ms - without.predicted_ms == pytest.approx(36.864, rel=1e-9)
    # at batch 1 a 3x3 conv on 8x16x16 (2,048 input elements) runs natively (im2col + GEMM): its 8 * 8 * 9 = 576
    # weights, 2,304 B, are packed for the GEMM instead, at the native path's own rate: none given, no time
    small = Seq("net", (bare_conv("c", 8, 8, 3),))
    (native,) = predict(analyze(small, Shape(8, 16, 16)), Device(**fast, reorder_bandwidth=1e6))
    assert native.reorder_bytes == 2_304
    assert native.predicted_ms == pytest.approx(predict(analyze(small, Shape(8, 16, 16)), Device(**fast))[0].predicted_ms)


def test_a_native_1x1_conv_packs_its_weights_for_every_image():
    # a 1x1 conv 32 -> 64 on 32x28x28 at one thread and batch 4 is aten's GEMM, one per image (oneDNN only from
    # batch 16): 4 images x 2,048 weights x 4 B = 32,768 B packed, at the profile's 1e6 B/s pack rate: 32.768 ms
    from costlab.nets.blocks import conv as bare_conv

    fast = dict(name="d", peak_flops=1e15, memory_bandwidth=1e15, overhead_s=1e-9, cpu_model=CPU)
    net = analyze(Seq("net", (bare_conv("pw", 32, 64, 1),)), Shape(32, 28, 28), batch=4)
    (packed,) = predict(net, Device(**fast, pack_bandwidth=1e6, reorder_bandwidth=1e15), threads=1)
    (plain,) = predict(net, Device(**fast), threads=1)
    assert packed.reorder_bytes == 32_768
    assert packed.predicted_ms - plain.predicted_ms == pytest.approx(32.768, rel=1e-9)
    # at two threads the same conv is oneDNN's: its weights reordered once per call, at the reorder rate
    (reordered,) = predict(net, Device(**fast, pack_bandwidth=1e15, reorder_bandwidth=1e6), threads=2)
    assert reordered.reorder_bytes == 8_192


def test_rate_and_fixed_cost_follow_the_conv_path():
    # 1x1 conv 64 -> 64 on 64x28x28 (50,176 input elements): 2 * 64 * 64 * 784 = 6,422,528 FLOPs. At one thread aten's
    # GEMM at pointwise_flops 1e11 after the pointwise overhead 1 us: 0.001 + 0.0642... ms; at two threads oneDNN's
    # 1x1 kernel at the dense peak 1e12 after oneDNN's overhead 40 us. A grouped 3x3 conv (8 groups) takes
    # grouped_flops at any thread count: 2 * 64 * 8 * 9 * 784 = 7,225,344 FLOPs at 5e10, after oneDNN's overhead
    from costlab.nets.blocks import conv as bare_conv

    dev = Device(name="d", peak_flops=1e12, memory_bandwidth=1e15, overhead_s=1e-9, pointwise_flops=1e11,
                 grouped_flops=5e10, overhead_by_type={"pointwise": 1e-6, "onednn": 4e-5}, cpu_model=CPU)
    pw = analyze(Seq("net", (bare_conv("pw", 64, 64, 1),)), Shape(64, 28, 28))
    at = {t: predict(pw, dev, threads=t)[0] for t in (1, 2)}
    workspace = {t: dev.workspace_seconds(at[t].workspace_bytes) for t in (1, 2)}
    assert at[1].predicted_ms == pytest.approx(1e3 * (1e-6 + 6_422_528 / 1e11 + workspace[1]), rel=1e-9)
    assert at[2].predicted_ms == pytest.approx(1e3 * (4e-5 + 6_422_528 / 1e12 + workspace[2]), rel=1e-9)
    grouped = analyze(Seq("net", (bare_conv("g", 64, 64, 3, groups=8),)), Shape(64, 28, 28))
    (g,) = predict(grouped, dev, threads=1)
    assert g.type == "grouped"
    assert g.predicted_ms == pytest.approx(1e3 * (4e-5 + 7_225_344 / 5e10 + dev.workspace_seconds(g.workspace_bytes)),
                                           rel=1e-9)
    # a spec sheet has no paths: its pointwise rate and fixed cost whatever the thread count
    sheet = Device(name="s", peak_flops=1e12, memory_bandwidth=1e15, overhead_s=1e-6, pointwise_flops=1e11)
    assert predict(pw, sheet, threads=2)[0].predicted_ms == pytest.approx(1e3 * (1e-6 + 6_422_528 / 1e11))


def test_a_windowed_pool_is_priced_per_output_at_its_kernels_rate():
    # torch's NCHW pools take a time per output: 3x3 stride-2 max pooling of 64x112x112 (ResNet's stem) writes
    # 64 * 56 * 56 = 200,704 outputs, 802,816 B, at the profile's max_pool rate of 1e9 B/s: 0.802816 ms; 3x3 stride-1
    # average pooling of 32x28x28 writes 25,088, 100,352 B at avg_pool's 4e9: 0.025088 ms (plus 1 ns fixed)
    from costlab.core.ops import AvgPool2d, MaxPool2d

    dev = Device(name="d", peak_flops=1e15, memory_bandwidth=1e15, overhead_s=1e-9, cpu_model=CPU,
                 bandwidth_by_kernel={"max_pool": 1e9, "avg_pool": 4e9})
    (stem,) = predict(analyze(Layer("pool", MaxPool2d((3, 3), (2, 2), (1, 1))), Shape(64, 112, 112)), dev)
    assert stem.predicted_ms == pytest.approx(1e3 * (1e-9 + 802_816 / 1e9), rel=1e-9)
    avg = Layer("pool", AvgPool2d((3, 3), (1, 1), (1, 1), count_include_pad=False))
    assert predict(analyze(avg, Shape(32, 28, 28)), dev)[0].predicted_ms == pytest.approx(1e3 * (1e-9 + 100_352 / 4e9))
    # without a rate for the kernel (a spec sheet) a pool streams its bytes in and out like any layer
    sheet = Device(name="s", peak_flops=1e15, memory_bandwidth=1e9, overhead_s=1e-9)
    (plain,) = predict(analyze(Layer("pool", MaxPool2d((3, 3), (2, 2), (1, 1))), Shape(64, 112, 112)), sheet)
    assert plain.predicted_ms == pytest.approx(1e3 * (1e-9 + 4 * (64 * 112 * 112 + 200_704) / 1e9), rel=1e-9)


def test_the_heap_reuses_a_freed_chunk_by_best_fit_and_trims_its_top():
    from costlab.perf.memory import Heap

    # glibc's trim threshold is twice the largest request, 2 MiB here. a and b take 1 MiB each from the top (fresh);
    # a freed leaves a 1 MiB hole that c (512 KiB) fits in (nothing fresh); d (768 KiB) does not fit the 512 KiB left,
    # so comes from the top (fresh)
    heap = Heap(largest=1 << 20)
    a, fresh_a = heap.allocate(1 << 20)
    b, fresh_b = heap.allocate(1 << 20)
    heap.free(a)
    c, fresh_c = heap.allocate(512 << 10)
    d, fresh_d = heap.allocate(768 << 10)
    assert (fresh_a, fresh_b, fresh_c, fresh_d) == (1 << 20, 1 << 20, 0, 768 << 10)
    assert c == a
    # b and d freed coalesce with the hole into the top: 2.25 MiB free above c, more than 2 MiB, so it is returned
    # to the OS, and the next 1 MiB request maps 1 MiB afresh
    heap.free(b)
    heap.free(d)
    assert heap.allocate(1 << 20)[1] == 1 << 20
    # a request above glibc's 32 MiB mmap ceiling is mapped whole, every time
    assert heap.allocate(33 << 20) == (None, 33 << 20)


def test_calibration_fits_peak_and_reorder_rates_from_the_probe_line():
    from costlab.perf.calibrate import fit_rates

    # probes timed at exactly F / 2e11 + B / 1e10: 2e8 FLOPs + 1e6 B take 1.1 ms, 1e8 FLOPs + 4e6 B 0.9 ms
    peak, reorder = fit_rates([(2e8, 1e6, 1.1e-3), (1e8, 4e6, 0.9e-3)])
    assert peak == pytest.approx(2e11) and reorder == pytest.approx(1e10)
    # no time grows with the weights: no reorder rate, and the peak from the FLOPs alone
    peak, reorder = fit_rates([(2e8, 1e6, 1e-3), (1e8, 4e6, 0.5e-3)])
    assert peak == pytest.approx(2e11) and reorder is None


def test_predict_tells_activations_apart_by_function():
    net = Seq("net", (mbconv("b", 8, 8, 3, 1, 32, se_channels=2, act="silu", se_act="relu"),))
    dev = Device(name="d", peak_flops=1e9, memory_bandwidth=1e9, overhead_s=1e-6,
                 bandwidth_by_kernel={"silu": 1e8, "relu": 1e9, "sigmoid": 1e8})
    layers = {r.name: r for r in predict(analyze(net, Shape(8, 8, 8)), dev)}
    assert layers["b.expand.act"].predicted_ms == pytest.approx(
        1e3 * (1e-6 + 4 * 2 * 32 * 64 / 1e8) + 1e3 * layers["b.expand.act"].first_touch_bytes / 1e12, rel=1e-9)
    assert layers["b.se.act"].predicted_ms == pytest.approx(1e3 * (1e-6 + 4 * 2 * 2 / 1e9))


# --- device profiles --------------------------------------------------------------------------------

def test_shipped_profiles_match_their_spec_sheet_arithmetic():
    epyc = load_device("amd-epyc-7763")
    assert epyc.peak_flops == 64 * 2.45e9 * 32 and epyc.memory_bandwidth == 8 * 3200e6 * 8
    xeon = load_device("intel-xeon-platinum-8380")
    assert xeon.peak_flops == pytest.approx(40 * 2.3e9 * 64) and xeon.memory_bandwidth == 204.8e9
    nano = load_device("jetson-nano")
    assert nano.peak_flops == pytest.approx(472e9 / 2, rel=1e-3) and nano.memory_bandwidth == 25.6e9
    for name in known_devices()[1:]:
        assert load_device(name).source


GOOD = 'peak_flops = 1e9\nmemory_bandwidth = 1e9\noverhead_s = 1e-6\n'


@pytest.mark.parametrize("text, named", [
    ('memory_bandwidth = 1e9\noverhead_s = 1e-6\n', "peak_flops"),
    (GOOD.replace("1e9\nmemory", "0\nmemory"), "peak_flops"),
    (GOOD.replace("overhead_s = 1e-6", "overhead_s = -1e-6"), "overhead_s"),
    (GOOD.replace("overhead_s = 1e-6", 'overhead_s = "fast"'), "overhead_s"),
    (GOOD.replace("overhead_s = 1e-6", "overhead_s = true"), "overhead_s"),
    (GOOD + "peak_flop = 3\n", "peak_flop"),
    (GOOD + "cache_bytes = 1e6\n", "cache_bandwidth"),
    (GOOD + "threads = 1.5\n", "threads"),
    (GOOD + "[overhead_by_type]\nconvolution = 1e-6\n", "convolution"),
    (GOOD + "[bandwidth_by_kernel]\nsilu = 0\n", "silu"),
    # past what a real machine holds: the prediction would be inf, 0 or 300 digits of milliseconds
    (GOOD.replace("1e9\nmemory", "1e-300\nmemory"), "between"),
    (GOOD.replace("overhead_s = 1e-6", "overhead_s = 1e300"), "between"),
    (GOOD + "[bandwidth_by_kernel]\nsilu = 1e300\n", "between"),
    (GOOD + "[overhead_by_type]\nconv = 5.0\n", "between"),
    ("peak_flops = \n", "TOML"),
])
def test_bad_profiles_name_file_and_field(tmp_path, text, named):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(CostlabError) as err:
        load_device_file(path)
    assert str(path) in str(err.value) and named in str(err.value)
    assert "\n" not in str(err.value)


def _host_profile(threads_=3, **changes):
    """A calibrated-looking profile of this machine (its CPU model and torch version) at a thread count."""
    from costlab.perf.devices import cpu_model, torch_version

    fields = dict(name=f"host-{threads_}", peak_flops=5e10, memory_bandwidth=1.2e10, overhead_s=3e-6,
                  depthwise_flops=1e10, pointwise_flops=3e10, grouped_flops=2e10, cache_bytes=8e6,
                  cache_bandwidth=4e10, first_touch_bandwidth=3e9, reorder_bandwidth=1e10, pack_bandwidth=1.2e10,
                  threads=threads_, description="x", source="y", cpu_model=cpu_model(), torch_version=torch_version(),
                  overhead_by_type={"depthwise": 1e-4, "bn": 2e-5, "onednn": 4e-5},
                  bandwidth_by_kernel={"silu": 8e9, "max_pool": 2e8, "avg_pool": 6e8})
    return Device(**{**fields, **changes})


def test_profile_round_trips_and_host_is_read_from_cache(tmp_path, monkeypatch):
    dev = _host_profile(3)
    path = tmp_path / "host-3.toml"
    path.write_text(device_toml(dev))
    assert load_device_file(path) == dev
    monkeypatch.setenv("COSTLAB_CACHE_DIR", str(tmp_path))
    assert host_device(3) == dev  # cached: no calibration run
    assert load_device("host", threads=3) == dev


@pytest.mark.parametrize("changes, reason", [
    ({"cpu_model": "Some Other CPU 9000"}, "CPU Some Other CPU 9000 there"),
    ({"torch_version": "1.0.0"}, "torch version 1.0.0 there"),
    ({"threads": 2}, "thread count 2 there, 3 here"),
    ({"cpu_model": "", "torch_version": ""}, "(not recorded) there"),  # a cache written before both were recorded
    # a cache an older costlab wrote, before grouped convs, aten's weight packing and oneDNN's call had rates
    ({"grouped_flops": None}, "written by an older costlab: no grouped_flops"),
    ({"pack_bandwidth": None}, "written by an older costlab: no pack_bandwidth"),
    ({"overhead_by_type": {"bn": 2e-5}}, "written by an older costlab: no overhead_by_type.onednn"),
])
def test_a_stale_host_profile_is_calibrated_again(tmp_path, monkeypatch, changes, reason):
    from costlab.perf import calibrate

    fresh = _host_profile(3, peak_flops=7e10)
    runs = []
    monkeypatch.setattr(calibrate, "calibrate_host", lambda threads: runs.append(threads) or fresh)
    monkeypatch.setenv("COSTLAB_CACHE_DIR", str(tmp_path))
    (tmp_path / "host-3.toml").write_text(device_toml(_host_profile(3, **changes)))
    notes = []
    assert host_device(3, notify=notes.append) == fresh and runs == [3]
    (note,) = notes
    assert "is stale" in note and reason in note and str(tmp_path / "host-3.toml") in note
    assert load_device_file(tmp_path / "host-3.toml") == fresh  # the cache now holds the new calibration
    assert host_device(3, notify=notes.append) == fresh and runs == [3] and len(notes) == 1  # current: no rerun


def test_a_calibration_whose_fits_see_no_weight_copy_is_cached_as_current(tmp_path, monkeypatch):
    # a slowed run can fit no reorder or packing cost (fit_rates: None); the profile must still hold every rate
    # calibrate_host writes, or each later run would find its own cache stale and calibrate again
    pytest.importorskip("torch")
    from costlab.perf import calibrate

    real, calls = calibrate.fit_rates, []
    monkeypatch.setattr(calibrate, "fit_rates", lambda probes: calls.append(1) or (real(probes)[0], None))
    monkeypatch.setenv("COSTLAB_CACHE_DIR", str(tmp_path))
    fresh = host_device(1, recalibrate=True)
    assert len(calls) == 2  # the dense fit and the 1x1 GEMM fit
    assert fresh.reorder_bandwidth == fresh.pack_bandwidth == fresh.cache_bandwidth / 2
    assert "no weight reorder or weight packing cost seen" in fresh.description
    notes = []
    assert host_device(1, notify=notes.append) == fresh and notes == []


def test_without_torch_a_cached_host_profile_is_refused_in_one_line(run, tmp_path, monkeypatch):
    # the torch-free install with a cache left by another costlab: the refusal, not a stale-cache notice before it
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "torch" else real(name, *a))
    monkeypatch.setenv("COSTLAB_CACHE_DIR", str(tmp_path))
    (tmp_path / "host-1.toml").write_text("peak_flops = 1.0\nreorder_bandwidth = 2.0\n")
    result = run("latency", "mobilenet_v1", "--device", "host")
    assert result.exit_code == 2 and result.stdout == ""
    (line,) = result.stderr.splitlines()
    assert "costlab[trace]" in line and "stale" not in line


def test_a_cache_that_cannot_be_written_is_said_once_and_not_fatal(tmp_path, monkeypatch):
    from costlab.perf import calibrate

    monkeypatch.setattr(calibrate, "calibrate_host", lambda threads: _host_profile(threads))
    blocker = tmp_path / "file"
    blocker.write_text("")
    monkeypatch.setenv("COSTLAB_CACHE_DIR", str(blocker / "cache"))  # a folder under a file cannot be made
    notes = []
    assert host_device(1, notify=notes.append) == _host_profile(1)
    (note,) = notes
    assert "could not be cached" in note and str(blocker / "cache" / "host-1.toml") in note


def test_recalibrate_measures_again_and_is_for_the_host_only(run, tmp_path, monkeypatch):
    from costlab.perf import calibrate

    log = tmp_path / "runs"  # a file: the command line calibrates in a child process

    def fake(threads):
        with log.open("a") as fh:
            print(threads, file=fh)
        return _host_profile(threads)

    def runs():
        return log.read_text().split() if log.exists() else []

    monkeypatch.setattr(calibrate, "calibrate_host", fake)
    monkeypatch.setenv("COSTLAB_CACHE_DIR", str(tmp_path))
    (tmp_path / "host-1.toml").write_text(device_toml(_host_profile(1)))
    assert run("latency", "mobilenet_v1", "--resolution", "32").exit_code == 0 and runs() == []  # cached, current
    result = run("latency", "mobilenet_v1", "--resolution", "32", "--recalibrate")
    assert result.exit_code == 0 and runs() == ["1"]
    one_line_exit_2(run("latency", "mobilenet_v1", "--device", "jetson-nano", "--recalibrate"), "--recalibrate",
                    "jetson-nano")


def test_calibration_never_runs_a_network():
    """calibrate.py builds its probes from torch.nn layers of generic shapes: it imports nothing that makes a network
    (costlab.nets, traced.build, traced.models, torchvision), so no model a prediction is judged on is ever run."""
    import ast
    import inspect

    from costlab.perf import calibrate

    imported = set()
    for node in ast.walk(ast.parse(inspect.getsource(calibrate))):
        if isinstance(node, ast.ImportFrom):
            imported.add("." * node.level + (node.module or ""))
        elif isinstance(node, ast.Import):
            imported.update(a.name for a in node.names)
    assert imported == {"__future__", "typing", "..core.cost", "..core.ops", ".devices", ".memory", "statistics", "time",
                        "torch", "..core.analyze", "..core.graph", "..core.shapes", "..traced.bridge"}


def test_unknown_device_is_an_error():
    with pytest.raises(CostlabError, match="unknown device profile 'tpu9'"):
        load_device("tpu9")
    with pytest.raises(CostlabError, match="'missing/profile.toml' not found"):
        load_device("missing/profile.toml")


# --- CLI --------------------------------------------------------------------------------------------

_one_line_exit_2 = one_line_exit_2


def test_cli_bad_input(run, tmp_path):
    _one_line_exit_2(run("latency", "mobilenet_v2", "--device", "nope"), "nope")
    _one_line_exit_2(run("latency", "mobilenet_v2", "--device", "jetson-nano", "--threads", "0"), "--threads")
    _one_line_exit_2(run("latency", "mobilenet_v2", "--device", "jetson-nano", "--threads", "1025"), "--threads", "1,024")
    _one_line_exit_2(run("latency", "mobilenet_v2", "--device", "jetson-nano", "--batch", "0"), "--batch")
    _one_line_exit_2(run("latency", "mobilenet_v2", "--device", "jetson-nano", "--batch", "1000001"), "--batch",
                     "1,000,000")
    _one_line_exit_2(run("latency", "mobilenet_v2", "--device", "jetson-nano", "--resolution", "65537"),
                     "--resolution")
    _one_line_exit_2(run("latency", "mobilenet_v2", "--device", "jetson-nano", "--repeats", "10001"), "--repeats")
    _one_line_exit_2(run("latency", "mobilenet_v2", "--device", "jetson-nano", "--repeats", "3"), "--repeats 3",
                     "--measure")
    bad = tmp_path / "dev.toml"
    bad.write_text("peak_flops = 1e12\nmemory_bandwidth = 0\noverhead_s = 1e-6\n")
    _one_line_exit_2(run("latency", "mobilenet_v2", "--device", str(bad)), "memory_bandwidth", str(bad))
    bad.write_text("peak_flops = 1e12\noverhead_s = 1e-6\n")
    _one_line_exit_2(run("latency", "mobilenet_v2", "--device", str(bad)), "missing", "memory_bandwidth")
    _one_line_exit_2(run("latency", "no_such_net", "--device", "jetson-nano"), "no_such_net")


def test_cli_unreadable_profile_files(run, tmp_path):
    bad = tmp_path / "x.toml"
    bad.write_bytes(b"\xff\xfe")
    _one_line_exit_2(run("latency", "mobilenet_v2", "--device", str(bad)), str(bad), "not UTF-8")
    (tmp_path / "d.toml").mkdir()
    _one_line_exit_2(run("latency", "mobilenet_v2", "--device", str(tmp_path / "d.toml")), "is a directory")


def test_cli_json_contract(run):
    result = run("latency", "mobilenet_v2", "--device", "jetson-nano", "--format", "json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["threads"] == 1 and data["resolution"] == 224
    assert data["macs"] == 300_774_272  # torchvision's mobilenet_v2 _ops: 0.30 GMACs
    layers = data["layers"]
    for key in ("name", "macs", "bytes", "intensity", "bound", "predicted_ms"):
        assert all(key in r for r in layers)
    assert {r["bound"] for r in layers} == {"compute", "memory", "overhead"}
    assert data["predicted_total_ms"] == pytest.approx(sum(r["predicted_ms"] for r in layers))


def test_cli_measure_small(run, tmp_path):
    pytest.importorskip("torch")
    result = run("latency", "mobilenet_v2", "--device", "jetson-nano", "--resolution", "32", "--measure",
                 "--repeats", "2", "--format", "json", "--share-chart", str(tmp_path / "share.png"),
                 "--chart", str(tmp_path / "roof.svg"))
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert {"measured_total_ms", "torchvision_total_ms", "measured_layers_ms"} <= set(data)
    assert all(r["measured_ms"] is not None for r in data["layers"])
    assert any(r["name"].endswith(".add") for r in data["layers"])
    times = [r["measured_ms"] for r in data["layers"]]
    assert data["spearman_predicted"] == pytest.approx(
        _textbook_spearman([r["predicted_ms"] for r in data["layers"]], times))
    assert data["spearman_macs"] == pytest.approx(_textbook_spearman([r["macs"] for r in data["layers"]], times))
    assert (tmp_path / "share.png").stat().st_size > 0 and (tmp_path / "roof.svg").stat().st_size > 0


def test_measure_layers_times_every_row_including_add_and_mul():
    torch = pytest.importorskip("torch")
    from costlab.traced.build import build_module
    from costlab.perf.measure import measure_layers

    net = Seq("net", (mbconv("b", 8, 8, 3, 1, 32, se_channels=2, act="silu"),
                      mbconv("c", 8, 16, 3, 2, 32)))
    rows = analyze(net, Shape(8, 16, 16)).rows
    module = build_module(net).eval()
    x = torch.randn(1, 8, 16, 16)
    times = measure_layers(module, x, [r.name for r in rows], repeats=3, warmup=1)
    assert list(times) == [r.name for r in rows]
    assert {"b.se.mul", "b.add"} <= set(times)
    with pytest.raises(CostlabError, match="no module or container op named 'b.nothing'"):
        measure_layers(module, x, ["b.nothing"], repeats=1, warmup=0)


def test_host_calibration_gives_a_valid_profile(tmp_path, monkeypatch):
    pytest.importorskip("torch")
    monkeypatch.setenv("COSTLAB_CACHE_DIR", str(tmp_path))
    dev = host_device(1, recalibrate=True)  # a few seconds of microbenchmarks; values are not asserted
    assert dev.threads == 1 and dev.name == "host-1"
    assert load_device_file(tmp_path / "host-1.toml") == dev  # cached, and passes the strict loader
    from costlab.core.vocab import LAYER_TYPES

    assert set(dev.overhead_by_type) <= set(LAYER_TYPES) | {"onednn"} and {"depthwise", "onednn"} <= set(dev.overhead_by_type)
    assert dev.grouped_flops and dev.pointwise_flops
    assert {"silu", "relu6", "bn"} <= set(dev.bandwidth_by_kernel)
