"""Calibrating the `host` device profile: short torch microbenchmarks of this machine, 1-3 s in all.

Every probe is a generic shape (a channel / size grid, tensors of 1 MiB to 64 MiB): no network, built-in or user's,
is built or run here, so a calibrated profile is never fitted to the models its predictions are judged on.
"""

from __future__ import annotations

from ..core.ops import Conv2d
from .devices import Device, cpu_model, torch_version


def _median_seconds(fn, repeats: int, warmup: int = 3, before=None) -> float:
    """Median seconds of fn() over repeats after warmup calls; before() runs untimed ahead of each call."""
    import statistics
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
    return statistics.median(times)


# (cin, cout, kernel, size, groups, overhead type): generic channel/size grid, not any model's layers
DENSE_PROBES = ((64, 256, 1, 56, 1, "pointwise"), (256, 64, 1, 28, 1, "pointwise"), (128, 512, 1, 14, 1, "pointwise"),
                (64, 64, 3, 56, 1, "conv"), (128, 128, 3, 28, 1, "conv"))
DEPTHWISE_PROBES = ((128, 56), (160, 28), (256, 14))  # (channels, size)
# 1x1 convs as GEMMs of generic shapes: 4x expansions and 4x reductions, small and wide, on 7..56 maps
POINTWISE_PROBES = tuple((cin, cout, hw) for cin, cout in ((32, 128), (128, 32), (128, 512), (512, 128))
                         for hw in (7, 14, 28, 56))


def calibrate_host(threads: int = 1) -> Device:
    """Measure this machine with torch eager at `threads` threads; each probe is a median of short repeats.

    overhead_by_type  each layer type's op on a tiny tensor (8 channels, 4x4): the fixed cost of one call
    peak_flops        median over DENSE_PROBES (1x1 and 3x3 convs of mobile-network sizes) of
                      FLOPs / (time - that conv type's overhead - the time to copy its workspace, as a
                      prediction charges it: oneDNN's blocked copies of input and output)
    depthwise_flops   the same over DEPTHWISE_PROBES (3x3 depthwise convs)
    pointwise_flops   the same over POINTWISE_PROBES (1x1 convs: a GEMM's speed depends on its shape, and
                      small maps and narrow layers run well below the large shapes of DENSE_PROBES)
    memory_bandwidth  copy of a 64 MiB fp32 tensor (read + write: larger than any cache)
    cache_bandwidth   copy of a 4 MiB fp32 tensor; cache_bytes = its 8 MiB of traffic
    first_touch_bandwidth  64 MiB written into a fresh allocation (the allocator maps new pages, the kernel
                      faults and zeroes each) minus the same write into warm memory: bytes / extra seconds
    bandwidth_by_kernel  each activation function, BatchNorm, add, SE multiply and global pooling on a
                      1 MiB (64x64x64) tensor: bytes moved / (time - its overhead)
    Each op probe runs after 8 MiB of unrelated writes (untimed), as a layer inside a network runs after
    the layers before it have pushed its data out of the core's own caches; a hot loop of one op would
    keep everything in L1/L2 and overstate what a network gets. A few seconds in all.
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

            tiny = torch.randn(1, 8, 4, 4)
            probes = {
                "conv": nn.Conv2d(8, 8, 3, padding=1, bias=False),
                "pointwise": nn.Conv2d(8, 8, 1, bias=False),
                "depthwise": nn.Conv2d(8, 8, 3, padding=1, groups=8, bias=False),
                "se": nn.Conv2d(8, 8, 1, bias=True),
                "bn": nn.BatchNorm2d(8).eval(),
                "act": nn.ReLU(),
                "pool": nn.AdaptiveAvgPool2d(1),
            }
            overheads = {kind: _median_seconds(lambda m=m: m(tiny), 40, 5, evict) for kind, m in probes.items()}
            flat = torch.randn(1, 8)
            lin = nn.Linear(8, 8)
            overheads["linear"] = _median_seconds(lambda: lin(flat), 40, 5, evict)
            overheads["add"] = _median_seconds(lambda: tiny + tiny, 40, 5, evict)
            gate = torch.randn(1, 8, 1, 1)
            overheads["mul"] = _median_seconds(lambda: tiny * gate, 40, 5, evict)
            overhead = overheads["act"]

            big, big_out = torch.randn(16 << 20), torch.empty(16 << 20)
            memory = 2 * big.numel() * 4 / _median_seconds(lambda: big_out.copy_(big), 7, 2)
            small, small_out = torch.randn(1 << 20), torch.empty(1 << 20)
            cache = 2 * small.numel() * 4 / _median_seconds(lambda: small_out.copy_(small), 15)
            copier = Device("copy", 1.0, memory, 1.0, cache_bytes=float(8 << 20), cache_bandwidth=cache)

            def throughput(cin, cout, k, hw, groups, kind):
                conv = nn.Conv2d(cin, cout, k, padding=k // 2, groups=groups, bias=False).eval()
                x = torch.randn(1, cin, hw, hw)
                op = Conv2d(cin, cout, (k, k), padding=(k // 2, k // 2), groups=groups)
                flops = op.cost(((1, cin, hw, hw),), (1, cout, hw, hw), "paper").flops  # padding k // 2 keeps hw x hw
                # the probe's own workspace copies are charged apart in a prediction, so not to its FLOP rate
                fixed = overheads[kind] + copier.workspace_seconds(4 * _probe_workspace(cin, cout, k, hw, groups, threads))
                return flops / max(_median_seconds(lambda: conv(x), 9, 3, evict) - fixed, 1e-7)

            peak = statistics.median([throughput(*probe) for probe in DENSE_PROBES])
            dw_flops = statistics.median([throughput(c, c, 3, hw, c, "depthwise") for c, hw in DEPTHWISE_PROBES])
            pw_flops = statistics.median([throughput(ci, co, 1, hw, 1, "pointwise") for ci, co, hw in POINTWISE_PROBES])
            bandwidths = _kernel_bandwidths(overheads, evict)
            warm = _median_seconds(lambda: big_out.copy_(big), 5, 1)
            fresh = _median_seconds(lambda: torch.empty_like(big).copy_(big), 5, 1)
            first_touch = big.numel() * 4 / max(fresh - warm, 1e-7)
    finally:
        torch.set_num_threads(previous)
    return Device(name=f"host-{threads}", peak_flops=peak, memory_bandwidth=memory, overhead_s=overhead,
                  depthwise_flops=dw_flops, pointwise_flops=pw_flops, cache_bytes=float(8 << 20), cache_bandwidth=cache, first_touch_bandwidth=first_touch,
                  threads=threads, cpu_model=cpu_model(), torch_version=torch_version(),
                  description=f"this machine, torch {torch.__version__} eager fp32, {threads} thread(s), calibrated in "
                              f"{time.perf_counter() - began:.1f} s",
                  source="costlab.perf.calibrate.calibrate_host microbenchmarks", overhead_by_type=overheads,
                  bandwidth_by_kernel=bandwidths)


def _probe_workspace(cin: int, cout: int, k: int, hw: int, groups: int, threads: int) -> int:
    """Elements of workspace a probe conv (stride 1, same padding) uses: memory.conv_workspace of its row."""
    from ..core.analyze import analyze
    from ..core.graph import Layer
    from ..core.shapes import Shape
    from .memory import conv_workspace

    op = Conv2d(cin, cout, (k, k), padding=(k // 2, k // 2), groups=groups)
    (row,) = analyze(Layer("probe", op), Shape(cin, hw, hw)).rows
    return conv_workspace(row, threads)


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
    out = {}
    for name, (fn, elements, kind) in kernels.items():
        seconds = _median_seconds(lambda fn=fn: fn(x), 15, 3, evict) - overheads[kind]
        out[name] = 4 * elements / max(seconds, 1e-7)
    return out
