"""Device profiles for the roofline latency model: TOML files in specs/devices/, or `host`, measured here.

A profile gives peak FLOP/s, memory bandwidth (bytes/s) and a fixed per-op overhead (s); optional
fields refine it: the throughput depthwise and 1x1 convolutions actually reach, a fixed overhead per layer
type (table [overhead_by_type]: framework dispatch and kernel set-up differ a lot between a ReLU
and a oneDNN depthwise conv), and a cache size with the bandwidth traffic that fits in it sees.
Loading is strict: unknown or missing fields and non-positive numbers are CostlabErrors naming the
file and the field. `host` is calibrated by short torch microbenchmarks and cached per thread count.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from . import formulas
from .errors import CostlabError
from .tomlfile import load as load_toml

DEVICES_DIR = Path(__file__).resolve().parent.parent / "specs" / "devices"
REQUIRED = ("peak_flops", "memory_bandwidth", "overhead_s")
OPTIONAL = ("depthwise_flops", "pointwise_flops", "cache_bytes", "cache_bandwidth", "first_touch_bandwidth", "threads")
TEXT = ("name", "description", "source")
TABLE = "overhead_by_type"
BW_TABLE = "bandwidth_by_kernel"
# a type without its own overhead borrows the one of the kernel that computes it
OVERHEAD_FALLBACK = {"se": "pointwise", "grouped": "conv"}


@dataclass(frozen=True)
class Device:
    name: str
    peak_flops: float
    memory_bandwidth: float
    overhead_s: float
    depthwise_flops: Optional[float] = None
    pointwise_flops: Optional[float] = None
    cache_bytes: Optional[float] = None
    cache_bandwidth: Optional[float] = None
    first_touch_bandwidth: Optional[float] = None
    threads: Optional[int] = None
    description: str = ""
    source: str = ""
    overhead_by_type: dict = field(default_factory=dict)
    bandwidth_by_kernel: dict = field(default_factory=dict)

    def flops_for(self, layer_type: str) -> float:
        """FLOP/s a layer type can reach: depthwise and 1x1 convs (pointwise, SE) their own if the profile
        has them, everything else the peak."""
        if layer_type == "depthwise" and self.depthwise_flops:
            return self.depthwise_flops
        if layer_type in ("pointwise", "se") and self.pointwise_flops:
            return self.pointwise_flops
        return self.peak_flops

    def bandwidth_for(self, nbytes: int, kernel: Optional[str] = None) -> float:
        """Bytes/s for a layer moving nbytes: the cache's if it fits in the cache, else memory's,
        capped by what the kernel itself streams at (an exp per element keeps SiLU below copy speed)."""
        bandwidth = self.memory_bandwidth
        if self.cache_bytes and self.cache_bandwidth and nbytes <= self.cache_bytes:
            bandwidth = self.cache_bandwidth
        if kernel in self.bandwidth_by_kernel:
            bandwidth = min(bandwidth, self.bandwidth_by_kernel[kernel])
        return bandwidth

    def workspace_seconds(self, nbytes: float) -> float:
        """Seconds to fill and drain a conv's workspace of nbytes (oneDNN's blocked copies of input and output,
        or an im2col buffer): each byte written once and read once, 2 * nbytes / bandwidth_for(2 * nbytes)."""
        return 2 * nbytes / self.bandwidth_for(2 * nbytes) if nbytes else 0.0

    def overhead_for(self, layer_type: str) -> float:
        """Fixed seconds per layer of a type: its own overhead if the profile has one, else overhead_s."""
        for key in (layer_type, OVERHEAD_FALLBACK.get(layer_type)):
            if key in self.overhead_by_type:
                return self.overhead_by_type[key]
        return self.overhead_s


def known_devices() -> list[str]:
    return ["host"] + sorted(p.stem for p in DEVICES_DIR.glob("*.toml"))


def _number(data: dict, key: str, where: str) -> float:
    value = data[key]
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0 or value == float("inf"):
        raise CostlabError(f"{where}: field {key!r} must be a positive number, got {value!r}")
    return float(value)


def device_from_dict(data: dict, where: str) -> Device:
    """Validate a parsed profile; where names the file in every error."""
    known = TEXT + REQUIRED + OPTIONAL + (TABLE, BW_TABLE)
    unknown = sorted(set(data) - set(known))
    if unknown:
        raise CostlabError(f"{where}: unknown field {unknown[0]!r}; known: {', '.join(known)}")
    for key in REQUIRED:
        if key not in data:
            raise CostlabError(f"{where}: missing field {key!r}")
    for key in TEXT:
        if key in data and not isinstance(data[key], str):
            raise CostlabError(f"{where}: field {key!r} must be a string, got {data[key]!r}")
    values = {key: _number(data, key, where) for key in REQUIRED + OPTIONAL if key in data}
    if ("cache_bytes" in values) != ("cache_bandwidth" in values):
        raise CostlabError(f"{where}: fields 'cache_bytes' and 'cache_bandwidth' go together")
    if "threads" in values:
        if not float(values["threads"]).is_integer():
            raise CostlabError(f"{where}: field 'threads' must be a positive integer, got {data['threads']!r}")
        values["threads"] = int(values["threads"])
    from .analyze import LAYER_TYPES
    from .ops import ACTIVATIONS

    overheads = _table(data, TABLE, tuple(LAYER_TYPES), "layer type = seconds", where)
    bandwidths = _table(data, BW_TABLE, tuple(LAYER_TYPES) + ACTIVATIONS, "kernel = bytes/s", where)
    name = data.get("name") or Path(where).stem
    return Device(name=name, description=data.get("description", ""), source=data.get("source", ""),
                  overhead_by_type=overheads, bandwidth_by_kernel=bandwidths, **values)


def _table(data: dict, table_name: str, keys: tuple, what: str, where: str) -> dict:
    table = data.get(table_name, {})
    if not isinstance(table, dict):
        raise CostlabError(f"{where}: {table_name!r} must be a table of {what}")
    for key in table:
        if key not in keys:
            raise CostlabError(f"{where}: unknown key {key!r} in [{table_name}]; known: {', '.join(keys)}")
    return {key: _number(table, key, f"{where}: [{table_name}]") for key in table}


def load_device_file(path: str | Path) -> Device:
    """A profile from a TOML file; every problem is a one-line CostlabError naming the file."""
    data, _ = load_toml(path, "device profile")
    return device_from_dict(data, str(path))


def load_device(spec: str, threads: int = 1, recalibrate: bool = False) -> Device:
    """`host` (calibrated, cached), a built-in profile name, or a path to a TOML profile."""
    if spec == "host":
        return host_device(threads, recalibrate)
    builtin = DEVICES_DIR / f"{spec}.toml"
    if builtin.is_file():
        return load_device_file(builtin)
    if spec.endswith(".toml") or os.sep in spec:
        return load_device_file(spec)  # says whether it is missing, a directory, not UTF-8 or not TOML
    raise CostlabError(f"unknown device profile {spec!r}; known: {', '.join(known_devices())} or a FILE.toml")


def cache_dir() -> Path:
    """$COSTLAB_CACHE_DIR, else $XDG_CACHE_HOME/costlab, else ~/.cache/costlab."""
    if os.environ.get("COSTLAB_CACHE_DIR"):
        return Path(os.environ["COSTLAB_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "costlab"


def host_device(threads: int = 1, recalibrate: bool = False) -> Device:
    """The host's profile for a thread count: read from the cache, else measured (a few seconds) and cached."""
    path = cache_dir() / f"host-{threads}.toml"
    if path.is_file() and not recalibrate:
        return load_device_file(path)
    device = calibrate_host(threads)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(device_toml(device), encoding="utf-8")
    except OSError:
        pass  # an unwritable cache only costs a recalibration next time
    return device


def device_toml(device: Device) -> str:
    """The profile as TOML that load_device_file reads back to the same Device."""
    lines = []
    for key in TEXT + REQUIRED + OPTIONAL:
        value = getattr(device, key)
        if value is None or value == "":
            continue
        lines.append(f'{key} = "{value}"' if isinstance(value, str) else f"{key} = {value!r}")
    for table, values in ((TABLE, device.overhead_by_type), (BW_TABLE, device.bandwidth_by_kernel)):
        if values:
            lines.append(f"\n[{table}]")
            lines += [f"{key} = {value!r}" for key, value in values.items()]
    return "\n".join(lines) + "\n"


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

    import torch
    from torch import nn

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
                flops = formulas.conv2d(cin, cout, k, k, hw, hw, groups).flops  # padding k // 2 keeps hw x hw
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
                  threads=threads,
                  description=f"this machine, torch {torch.__version__} eager fp32, {threads} thread(s)",
                  source="costlab.devices.calibrate_host microbenchmarks", overhead_by_type=overheads,
                  bandwidth_by_kernel=bandwidths)


def _probe_workspace(cin: int, cout: int, k: int, hw: int, groups: int, threads: int) -> int:
    """Elements of workspace a probe conv (stride 1, same padding) uses: memory.conv_workspace of its row."""
    from .analyze import analyze
    from .blocks import conv
    from .memory import conv_workspace
    from .shapes import Shape

    (row,) = analyze(conv("probe", cin, cout, k, groups=groups), Shape(cin, hw, hw)).rows
    return conv_workspace(row, threads)


def _kernel_bandwidths(overheads: dict, evict) -> dict:
    """Streaming rate of each elementwise kernel on a 1 MiB activation that sits in cache."""
    import torch
    from torch import nn

    from .build import _ACTIVATIONS

    x = torch.randn(1, 64, 64, 64)
    n = x.numel()
    gate = torch.randn(1, 64, 1, 1)
    kernels = {name: (cls(), 2 * n, "act") for name, cls in _ACTIVATIONS.items()}
    kernels["bn"] = (nn.BatchNorm2d(64).eval(), 2 * n + 4 * 64, "bn")
    kernels["add"] = (lambda t: t + t, 3 * n, "add")
    kernels["mul"] = (lambda t: t * gate, 2 * n + 64, "mul")
    kernels["pool"] = (nn.AdaptiveAvgPool2d(1), n + 64, "pool")
    out = {}
    for name, (fn, elements, kind) in kernels.items():
        seconds = _median_seconds(lambda fn=fn: fn(x), 15, 3, evict) - overheads[kind]
        out[name] = 4 * elements / max(seconds, 1e-7)
    return out
