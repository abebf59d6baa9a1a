"""Device profiles for the roofline latency model: spec-sheet TOML files shipped in costlab/perf/profiles/, a user's
TOML file, or `host`, measured here.

A profile gives peak FLOP/s, memory bandwidth (bytes/s) and a fixed per-op overhead (s); optional
fields refine it: the throughput depthwise and 1x1 convolutions actually reach, the rate oneDNN reorders a conv's
weights at (every eager call), a fixed overhead per layer
type (table [overhead_by_type]: framework dispatch and kernel set-up differ a lot between a ReLU
and a oneDNN depthwise conv), and a cache size with the bandwidth traffic that fits in it sees.
Loading is strict: unknown or missing fields and non-positive numbers are CostlabErrors naming the
file and the field. `host` is calibrated by short torch microbenchmarks (calibrate.py) and cached per thread count,
with the CPU model and torch version it was measured with: a cache that differs in any of the three is stale.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional

from ..core.vocab import ACTIVATIONS, LAYER_TYPES
from ..errors import CostlabError
from ..io.files import write_whole
from ..io.toml import load as load_toml, parse as parse_toml

# the shipped spec-sheet profiles: package data, so a non-editable install has them too
PROFILES = "costlab.perf.profiles"
REQUIRED = ("peak_flops", "memory_bandwidth", "overhead_s")
OPTIONAL = ("depthwise_flops", "pointwise_flops", "grouped_flops", "cache_bytes", "cache_bandwidth",
            "first_touch_bandwidth", "reorder_bandwidth", "pack_bandwidth", "threads")
TEXT = ("name", "description", "source", "cpu_model", "torch_version")
TABLE = "overhead_by_type"
BW_TABLE = "bandwidth_by_kernel"
# windowed pooling, kernels of their own in [bandwidth_by_kernel] beside the layer types and activations, at a rate
# in output bytes/s: torch's NCHW kernels take a time per output, whatever its window (roofline.streamed_bytes)
MAX_POOL = "max_pool"
AVG_POOL = "avg_pool"
WINDOWED_POOLS = (MAX_POOL, AVG_POOL)
KERNELS = tuple(LAYER_TYPES) + ACTIVATIONS + WINDOWED_POOLS
# a key of its own in [overhead_by_type]: the fixed cost of a conv aten hands to oneDNN (its primitive and blocked
# copies set up per call: several times a native conv's), for every conv type but depthwise, which has its own
ONEDNN = "onednn"
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
    grouped_flops: Optional[float] = None
    cache_bytes: Optional[float] = None
    cache_bandwidth: Optional[float] = None
    first_touch_bandwidth: Optional[float] = None
    reorder_bandwidth: Optional[float] = None  # weight bytes/s oneDNN's per-call weight reorder runs at
    pack_bandwidth: Optional[float] = None  # weight bytes/s aten's native conv packs its weights for the GEMM at
    threads: Optional[int] = None
    description: str = ""
    source: str = ""
    cpu_model: str = ""  # a calibrated profile: the CPU and torch it was measured with (host_identity)
    torch_version: str = ""
    overhead_by_type: dict = field(default_factory=dict)
    bandwidth_by_kernel: dict = field(default_factory=dict)

    @property
    def eager_cpu(self) -> bool:
        """Whether the profile was measured on a CPU running torch eager (a calibrated host: it records the CPU), and
        so pays what eager PyTorch adds there: oneDNN's workspace copies, weight reorders, first-touch page faults. A
        spec sheet (a GPU, or a CPU's datasheet) prices the roofline and the fixed cost per op alone."""
        return bool(self.cpu_model)

    def flops_for(self, layer_type: str, onednn: bool = False) -> float:
        """FLOP/s a layer type can reach: depthwise and grouped convs their own if the profile has them; 1x1 convs
        (pointwise, SE) pointwise_flops on a GEMM (aten's native path), the peak in oneDNN (onednn: its 1x1 kernel
        is the dense convs' machinery, at their rate); everything else the peak."""
        own = {"depthwise": self.depthwise_flops, "grouped": self.grouped_flops}
        if not onednn:
            own.update(pointwise=self.pointwise_flops, se=self.pointwise_flops)
        return own.get(layer_type) or self.peak_flops

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

    def reorder_seconds(self, nbytes: float, onednn: bool = True) -> float:
        """Seconds to copy nbytes of a conv's weights into its kernel's layout: nbytes / reorder_bandwidth in oneDNN
        (its blocked layout), nbytes / pack_bandwidth on aten's native path (its GEMM's packing); 0 for a profile
        without the rate (a spec sheet says nothing of either)."""
        rate = self.reorder_bandwidth if onednn else self.pack_bandwidth
        return nbytes / rate if nbytes and rate else 0.0

    def overhead_for(self, layer_type: str, onednn: bool = False) -> float:
        """Fixed seconds per layer of a type: a conv in oneDNN (onednn, not depthwise) the profile's oneDNN overhead
        if it has one; else the type's own if it has one, else overhead_s."""
        keys = (ONEDNN,) if onednn and layer_type != "depthwise" else ()
        for key in keys + (layer_type, OVERHEAD_FALLBACK.get(layer_type)):
            if key in self.overhead_by_type:
                return self.overhead_by_type[key]
        return self.overhead_s


def _shipped() -> dict[str, object]:
    """Shipped profile name -> its resource."""
    from importlib.resources import files

    return {p.name[:-5]: p for p in files(PROFILES).iterdir() if p.name.endswith(".toml")}


def known_devices() -> list[str]:
    return ["host"] + sorted(_shipped())


# what a field can hold on any real machine: beyond it a value is a typo, and its predictions inf, 0 or 300 digits
RATE = (1e3, 1e18)  # FLOP/s and bytes/s
SECONDS = (1e-12, 1.0)  # a fixed cost per layer
RANGES = {"overhead_s": SECONDS, "cache_bytes": (1.0, 1e15), "threads": (1.0, 4096.0), TABLE: SECONDS}


def _number(data: dict, key: str, where: str, table: str = "") -> float:
    """A positive number within the field's range (RANGES, else RATE)."""
    value = data[key]
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0 or value == float("inf"):
        raise CostlabError(f"{where}: field {key!r} must be a positive number, got {value!r}")
    low, high = RANGES.get(table or key, RATE)
    if not low <= value <= high:
        raise CostlabError(f"{where}: field {key!r} must be between {low:g} and {high:g}, got {value!r}")
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
    overheads = _table(data, TABLE, tuple(LAYER_TYPES) + (ONEDNN,), "layer type = seconds", where)
    bandwidths = _table(data, BW_TABLE, KERNELS, "kernel = bytes/s", where)
    text = {key: data[key] for key in TEXT if key in data and key != "name"}
    return Device(name=data.get("name") or Path(where).stem, overhead_by_type=overheads,
                  bandwidth_by_kernel=bandwidths, **text, **values)


def _table(data: dict, table_name: str, keys: tuple, what: str, where: str) -> dict:
    table = data.get(table_name, {})
    if not isinstance(table, dict):
        raise CostlabError(f"{where}: {table_name!r} must be a table of {what}")
    for key in table:
        if key not in keys:
            raise CostlabError(f"{where}: unknown key {key!r} in [{table_name}]; known: {', '.join(keys)}")
    return {key: _number(table, key, f"{where}: [{table_name}]", table_name) for key in table}


def load_device_file(path: str | Path) -> Device:
    """A profile from a TOML file; every problem is a one-line CostlabError naming the file."""
    data, _ = load_toml(path, "device profile")
    return device_from_dict(data, str(path))


def load_device(spec: str, threads: int = 1, recalibrate: bool = False,
                notify: Optional[Callable[[str], None]] = None) -> Device:
    """`host` (calibrated, cached: host_device), a built-in profile name, or a path to a TOML profile."""
    if spec == "host":
        return host_device(threads, recalibrate, notify)
    shipped = _shipped()
    if spec in shipped:
        text = shipped[spec].read_text(encoding="utf-8")
        return device_from_dict(parse_toml(text, spec), spec)
    if spec.endswith(".toml") or os.sep in spec:
        return load_device_file(spec)  # says whether it is missing, a directory, not UTF-8 or not TOML
    raise CostlabError(f"unknown device profile {spec!r}; known: {', '.join(known_devices())} or a FILE.toml")


def cache_dir() -> Path:
    """$COSTLAB_CACHE_DIR, else $XDG_CACHE_HOME/costlab, else ~/.cache/costlab."""
    if os.environ.get("COSTLAB_CACHE_DIR"):
        return Path(os.environ["COSTLAB_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "costlab"


def cpu_model() -> str:
    """This machine's CPU model: /proc/cpuinfo's 'model name' (Linux), else platform.processor(), else the machine type."""
    import platform

    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            for line in f:
                key, _, value = line.partition(":")
                if key.strip() in ("model name", "Model") and value.strip():
                    return " ".join(value.split())
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def torch_version() -> str:
    """The installed torch's version from its package metadata (torch itself is not imported), '' without torch."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("torch")
    except PackageNotFoundError:
        return ""


# what calibrate_host measures today beyond the required fields: a cached profile without one is stale
CALIBRATED = ("depthwise_flops", "pointwise_flops", "grouped_flops", "cache_bytes", "first_touch_bandwidth",
              "reorder_bandwidth", "pack_bandwidth", "threads")
CALIBRATED_KEYS = ((TABLE, ONEDNN), (BW_TABLE, MAX_POOL), (BW_TABLE, AVG_POOL))


def stale_reason(device: Device, threads: int) -> str:
    """Why a cached host profile does not describe this run ('' when it does): measured at another thread count, on
    another CPU model or with another torch version, or by an older costlab (a field calibrate_host writes missing)."""
    here = {"thread count": threads, "CPU": cpu_model(), "torch version": torch_version() or "(no torch)"}
    there = {"thread count": device.threads, "CPU": device.cpu_model or None, "torch version": device.torch_version or None}
    for what, value in here.items():
        if there[what] != value:
            return f"{what} {there[what] if there[what] is not None else '(not recorded)'} there, {value} here"
    missing = [f for f in CALIBRATED if getattr(device, f) is None] + [
        f"{table}.{key}" for table, key in CALIBRATED_KEYS if key not in getattr(device, table)]
    if missing:  # written by an older costlab, whose model lacked these: its predictions would leave them out
        return f"written by an older costlab: no {missing[0]}"
    return ""


def host_device(threads: int = 1, recalibrate: bool = False, notify: Optional[Callable[[str], None]] = None) -> Device:
    """The host's profile for a thread count: read from the cache, else measured (1-3 s) and cached.

    A cached profile measured at another thread count, on another CPU model or with another torch version
    (stale_reason) is measured again, and notify (if given) is told why; recalibrate measures again regardless.
    """
    from ..extras import require

    # without torch no cache can match this run (each records the torch it was measured with): refuse first, in one line
    require("calibrating the host profile", ("torch",),
            f"pip install 'costlab[trace]', or use a shipped profile: --device "
            f"{' | '.join(d for d in known_devices() if d != 'host')}")
    path = cache_dir() / f"host-{threads}.toml"
    if path.is_file() and not recalibrate:
        try:  # a cache written by another costlab version, or damaged, is measured again like a stale one
            cached, reason = load_device_file(path), ""
        except CostlabError as exc:
            cached, reason = None, f"unreadable: {exc}"
        reason = reason or stale_reason(cached, threads)
        if not reason:
            return cached
        if notify is not None:
            notify(f"the cached host profile {path} is stale ({reason}); calibrating again")
    from ..isolate import run_isolated
    from .calibrate import calibrate_host

    # in a child too: torch's OpenMP threads, once started in costlab's process, would deadlock every later fork
    device = run_isolated(f"calibrating the host at {threads} thread(s)", calibrate_host, threads, culprit="torch")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_whole(path, device_toml(device), "device profile cache")
    except (OSError, CostlabError) as exc:  # an unwritable cache only costs a recalibration next time: said, not fatal
        if notify is not None:
            notify(f"the host profile could not be cached at {path} ({getattr(exc, 'strerror', None) or exc}); "
                   f"it is measured again next time")
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
