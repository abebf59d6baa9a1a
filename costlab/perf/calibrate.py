"""Calibrating the `host` device profile: short torch microbenchmarks of this machine, 1-3 s in all.

Every probe is a generic shape (a channel / size grid, tensors of 1 MiB to 64 MiB): no network, built-in or user's,
is built or run here, so a calibrated profile is never fitted to the models its predictions are judged on.
"""

from __future__ import annotations

from typing import Optional

from ..core.cost import flops_of
from ..core.ops import Conv2d
from .devices import AVG_POOL, MAX_POOL, ONEDNN, Device, cpu_model, torch_version
from .memory import MMAP_THRESHOLD_MAX, conv_workspace, onednn_conv, reordered_weights


def _best_seconds(fn, repeats: int, warmup: int = 3, before=None) -> float:
    """Fewest seconds of fn() over repeats after warmup calls; before() runs untimed ahead of each call. The fastest
    call, not the median: another process on the machine only ever adds time (at two threads one preempted worker
    stalls oneDNN's barrier for a whole scheduler tick, 4 ms here), so the minimum is what the probe itself costs."""
    import time

    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        if before is not None:
            before()
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


# dense 3x3 convs (cin = cout, size), each large enough that aten runs it in oneDNN (more than 20480 input elements):
# a generic channel / size grid, not any model's layers; the small maps make the weight reorder a large share of a
# probe's time, the large ones the arithmetic, so both rates can be read off the grid
DENSE_PROBES = ((64, 28), (64, 56), (128, 14), (128, 28), (128, 56), (256, 9), (256, 14), (256, 28), (384, 8), (512, 8))
DEPTHWISE_PROBES = ((128, 56), (160, 28), (256, 14))  # (channels, size)
# 1x1 convs as GEMMs of generic shapes: 4x expansions and 4x reductions, small and wide, on 7..56 maps; those aten
# runs natively at the thread count set pointwise_flops (in oneDNN a 1x1 conv runs at the dense rate)
POINTWISE_PROBES = tuple((cin, cout, hw) for cin, cout in ((32, 128), (128, 32), (128, 512), (512, 128))
                         for hw in (7, 14, 28, 56))
# grouped 3x3 convs (channels, channels per group, size): group widths 4 to 16 on 7..28 maps
GROUPED_PROBES = ((128, 4, 28), (256, 8, 28), (256, 4, 14), (512, 16, 14), (512, 8, 7), (1024, 4, 7))


def calibrate_host(threads: int = 1) -> Device:
    """Measure this machine with torch eager at `threads` threads; each probe is the fastest of short repeats.

    overhead_by_type  each layer type's op on a tiny tensor (8 channels, 4x4): the fixed cost of one call; 'onednn' a
                      5x5 conv there, which aten runs in oneDNN (30-40 us here against 5-8 us for its own small convs)
    peak_flops, reorder_bandwidth  oneDNN's rate for dense convs and the rate it reorders their weights at (every
                      eager call copies the plain weights into its blocked layout): each DENSE_PROBES conv's time,
                      less the conv overhead and the time to copy its workspace as a prediction charges it (oneDNN's
                      blocked copies of input and output), is FLOPs / peak + weight bytes / reorder_bandwidth; the
                      two rates are the least-squares fit of that line over the grid, each probe's error relative
                      to its time (fit_rates)
    depthwise_flops   median over DEPTHWISE_PROBES (3x3 depthwise convs) of FLOPs / (time - overhead - workspace
                      copies - weight reorder)
    grouped_flops     the same over GROUPED_PROBES (3x3 convs of 4 to 16 channels per group: oneDNN runs them group
                      by group, far below the dense rate)
    pointwise_flops, pack_bandwidth  aten's GEMM rate and the rate it packs the weights at, fitted as peak and
                      reorder are over the POINTWISE_PROBES aten runs natively (memory.onednn_conv: at one thread all
                      of them, at two or more the small ones; the rest go to oneDNN's 1x1 kernel, priced at the dense
                      rate): a small map reuses each packed weight less, so runs below a large one
    memory_bandwidth  copy of a 64 MiB fp32 tensor (read + write: larger than any cache)
    cache_bandwidth   copy of a 4 MiB fp32 tensor; cache_bytes = its 8 MiB of traffic
    first_touch_bandwidth  64 MiB written into a fresh allocation (the allocator maps new pages, the kernel
                      faults and zeroes each) minus the same write into warm memory: bytes / extra seconds
    bandwidth_by_kernel  each activation function, BatchNorm, add, SE multiply and global pooling on a 1 MiB
                      (64x64x64) tensor: bytes moved / (time - its overhead); 3x3 stride-2 max pooling and 3x3
                      stride-1 average pooling there: output bytes / (time - its overhead)
    Each op probe runs after 8 MiB of unrelated writes (untimed), as a layer inside a network runs after
    the layers before it have pushed its data out of the core's own caches; a hot loop of one op would
    keep everything in L1/L2 and overstate what a network gets. A few seconds in all.

    A weight copy always costs something, so a fit that sees none (reorder or packing) says the run was slowed
    elsewhere (on a shared VM: episodes of tens of seconds in which small two-thread kernels run at half speed, so a
    run again a second later sees the same): half the cache bandwidth (a copy that stays in cache, read and written)
    stands in for the missing rate, and the description says so; --recalibrate measures again.
    """
    import statistics
    import time

    import torch
    from torch import nn

    began = time.perf_counter()
    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        with torch.inference_mode():
            scratch = torch.empty(2 << 20)

            def evict():
                scratch.fill_(1.0)

            # settle what the first calls of a process pay once: the thread pool's start, oneDNN's kernel generation
            # and glibc's mmap threshold, which rises as the first large buffers are freed (memory.Heap): raised to
            # its top here, so no probe's buffer is mapped afresh (a prediction charges page faults apart)
            torch.empty((MMAP_THRESHOLD_MAX - (1 << 20)) // 4)  # mapped, freed at once
            settle = nn.Conv2d(64, 64, 3, padding=1, bias=False).eval()
            for _ in range(5):
                settle(torch.randn(1, 64, 56, 56))
                evict()

            tiny = torch.randn(1, 8, 4, 4)
            probes = {
                "conv": nn.Conv2d(8, 8, 3, padding=1, bias=False),
                "pointwise": nn.Conv2d(8, 8, 1, bias=False),
                "depthwise": nn.Conv2d(8, 8, 3, padding=1, groups=8, bias=False),
                ONEDNN: nn.Conv2d(8, 8, 5, padding=2, bias=False),  # a kernel above 3x3: aten hands it to oneDNN
                "se": nn.Conv2d(8, 8, 1, bias=True),
                "bn": nn.BatchNorm2d(8).eval(),
                "act": nn.ReLU(),
                "pool": nn.AdaptiveAvgPool2d(1),
            }
            overheads = {kind: _best_seconds(lambda m=m: m(tiny), 40, 5, evict) for kind, m in probes.items()}
            flat = torch.randn(1, 8)
            lin = nn.Linear(8, 8)
            overheads["linear"] = _best_seconds(lambda: lin(flat), 40, 5, evict)
            overheads["add"] = _best_seconds(lambda: tiny + tiny, 40, 5, evict)
            gate = torch.randn(1, 8, 1, 1)
            overheads["mul"] = _best_seconds(lambda: tiny * gate, 40, 5, evict)
            overhead = overheads["act"]

            big, big_out = torch.randn(16 << 20), torch.empty(16 << 20)
            memory = 2 * big.numel() * 4 / _best_seconds(lambda: big_out.copy_(big), 7, 2)
            small, small_out = torch.randn(1 << 20), torch.empty(1 << 20)
            cache = 2 * small.numel() * 4 / _best_seconds(lambda: small_out.copy_(small), 15)
            copier = Device("copy", 1.0, memory, 1.0, cache_bytes=float(8 << 20), cache_bandwidth=cache)

            def timed(cin, cout, k, hw, groups, kind):
                """(FLOPs, weight bytes reordered, seconds less the overhead and workspace copies) of a probe conv;
                never less than a quarter of the seconds it took (net_seconds)."""
                conv = nn.Conv2d(cin, cout, k, padding=k // 2, groups=groups, bias=False).eval()
                x = torch.randn(1, cin, hw, hw)
                row = _probe_row(cin, cout, k, hw, groups)  # padding k // 2 keeps hw x hw
                # the probe's fixed cost and workspace copies are charged apart in a prediction, so not to its rate
                path = ONEDNN if kind != "depthwise" and onednn_conv(row, threads) else kind
                fixed = overheads[path] + copier.workspace_seconds(4 * conv_workspace(row, threads))
                return flops_of(row.macs), 4 * reordered_weights(row, threads), net_seconds(
                    _best_seconds(lambda: conv(x), 9, 3, evict), fixed)

            peak, reorder = fit_rates([timed(c, c, 3, hw, 1, "conv") for c, hw in DENSE_PROBES])
            # a rate left out would make the cached profile look written by an older costlab (stale_reason), so
            # measured again on every run: a copy that stays in cache stands in
            unseen = [] if reorder else ["weight reorder"]
            reorder = reorder or cache / 2
            fitted = Device("fit", peak, memory, 1.0, reorder_bandwidth=reorder)

            def throughput(cin, cout, k, hw, groups, kind):
                flops, reordered, seconds = timed(cin, cout, k, hw, groups, kind)
                return flops / net_seconds(seconds, fitted.reorder_seconds(reordered))

            dw_flops = statistics.median([throughput(c, c, 3, hw, c, "depthwise") for c, hw in DEPTHWISE_PROBES])
            grouped = statistics.median([throughput(c, c, 3, hw, c // width, "conv")
                                         for c, width, hw in GROUPED_PROBES])
            native = [p for p in POINTWISE_PROBES if not onednn_conv(_probe_row(p[0], p[1], 1, p[2], 1), threads)]
            pw_flops, pack = fit_rates([timed(ci, co, 1, hw, 1, "pointwise") for ci, co, hw in native])
            unseen += [] if pack else ["weight packing"]
            pack = pack or cache / 2
            bandwidths = _kernel_bandwidths(overheads, evict)
            warm = _best_seconds(lambda: big_out.copy_(big), 5, 1)
            fresh = _best_seconds(lambda: torch.empty_like(big).copy_(big), 5, 1)
            first_touch = big.numel() * 4 / net_seconds(fresh, warm)
    finally:
        torch.set_num_threads(previous)
    return Device(name=f"host-{threads}", peak_flops=peak, memory_bandwidth=memory, overhead_s=overhead,
                  depthwise_flops=dw_flops, pointwise_flops=pw_flops, grouped_flops=grouped,
                  cache_bytes=float(8 << 20), cache_bandwidth=cache,
                  first_touch_bandwidth=first_touch, reorder_bandwidth=reorder, pack_bandwidth=pack,
                  threads=threads, cpu_model=cpu_model(), torch_version=torch_version(),
                  description=f"this machine, torch {torch.__version__} eager fp32, {threads} thread(s), calibrated in "
                              f"{time.perf_counter() - began:.1f} s"
                              + (f"; no {' or '.join(unseen)} cost seen: half the cache rate stands in"
                                 if unseen else ""),
                  source="costlab.perf.calibrate.calibrate_host microbenchmarks", overhead_by_type=overheads,
                  bandwidth_by_kernel=bandwidths)


def net_seconds(seconds: float, fixed: float) -> float:
    """A probe's seconds less the fixed costs a prediction charges apart, max(seconds - fixed, seconds / 4): costs
    taken out that leave less than a quarter were themselves measured wrong (a probe stalled by another process), and
    the floor keeps one such probe from turning into a rate many times the machine's (the median over a grid then
    sets it aside)."""
    return max(seconds - fixed, seconds / 4)


def _probe_row(cin: int, cout: int, k: int, hw: int, groups: int):
    """The analysed row of a probe conv (stride 1, same padding) on a 1 x cin x hw x hw input."""
    from ..core.analyze import analyze
    from ..core.graph import Layer
    from ..core.shapes import Shape

    op = Conv2d(cin, cout, (k, k), padding=(k // 2, k // 2), groups=groups)
    (row,) = analyze(Layer("probe", op), Shape(cin, hw, hw)).rows
    return row


def fit_rates(probes: list[tuple[float, float, float]]) -> tuple[float, Optional[float]]:
    """(peak FLOP/s, reorder bytes/s) fitting seconds = FLOPs / peak + bytes / reorder over probes of (FLOPs, bytes,
    seconds): least squares of the relative error, sum over i of ((a * F_i + b * B_i) / t_i - 1)^2 in a = 1 / peak,
    b = 1 / reorder, solved by its 2x2 normal equations. A fit with b <= 0 (no reorder seen) is refitted with
    b = 0: a = sum(F_i / t_i) / sum((F_i / t_i)^2), and reorder is None."""
    rows = [(f / t, w / t) for f, w, t in probes if t > 0]
    suu = sum(u * u for u, _ in rows)
    suv = sum(u * v for u, v in rows)
    svv = sum(v * v for _, v in rows)
    su, sv = sum(u for u, _ in rows), sum(v for _, v in rows)
    det = suu * svv - suv * suv
    if det > 0:
        a, b = (su * svv - sv * suv) / det, (suu * sv - suv * su) / det
        if a > 0 and b > 0:
            return 1 / a, 1 / b
    return suu / su, None


def _kernel_bandwidths(overheads: dict, evict) -> dict:
    """Streaming rate of each elementwise kernel on a 1 MiB activation that sits in cache."""
    import torch
    from torch import nn

    from ..traced.bridge import ACTIVATION_MODULES

    x = torch.randn(1, 64, 64, 64)
    n = x.numel()
    gate = torch.randn(1, 64, 1, 1)
    kernels = {name: (cls(), 2 * n, "act") for name, cls in ACTIVATION_MODULES.items()}
    kernels["bn"] = (nn.BatchNorm2d(64).eval(), 2 * n + 4 * 64, "bn")
    kernels["add"] = (lambda t: t + t, 3 * n, "add")
    kernels["mul"] = (lambda t: t * gate, 2 * n + 64, "mul")
    kernels["pool"] = (nn.AdaptiveAvgPool2d(1), n + 64, "pool")
    # windowed pools at a rate per output (roofline.streamed_bytes): 3x3 stride 2 max (a quarter of the input out),
    # 3x3 stride 1 average
    kernels[MAX_POOL] = (nn.MaxPool2d(3, 2, 1), n // 4, "pool")
    kernels[AVG_POOL] = (nn.AvgPool2d(3, 1, 1, count_include_pad=False), n, "pool")
    out = {}
    for name, (fn, elements, kind) in kernels.items():
        out[name] = 4 * elements / net_seconds(_best_seconds(lambda fn=fn: fn(x), 15, 3, evict), overheads[kind])
    return out
