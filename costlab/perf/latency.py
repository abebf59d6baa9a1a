"""`costlab latency`: the roofline prediction for a network, and with --measure the same network timed.

A built-in name or an architecture TOML is analysed (no torch) and, to measure, built as an nn.Module whose module
names are the rows (traced.build); a MODULE:CALLABLE is traced (perf.traced_latency). Statistics come from pandas:
Spearman's rho is the Pearson correlation of pandas' average ranks.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional, Sequence

from ..core.checks import MAX_BATCH, positive_int
from ..core.traffic import DEFAULT_DTYPE_BYTES
from ..errors import CostlabError, require
from .devices import Device
from .roofline import LayerLatency, predict

MAX_THREADS = 1024


def spearman(x: Sequence[float], y: Sequence[float]) -> float:
    """rho = Pearson correlation of the (tie-averaged) ranks of x and y; NaN if either is constant."""
    import pandas as pd

    require(len(x) == len(y), f"spearman needs two sequences of the same length, got {len(x)} and {len(y)}")
    require(len(x) >= 2, f"spearman needs at least 2 pairs, got {len(x)}")
    ranks = pd.DataFrame({"x": list(x), "y": list(y)}, dtype="float64").rank(method="average")
    return float(ranks["x"].corr(ranks["y"]))


@dataclass
class LatencyReport:
    """Predicted (and measured) latency of a network at a batch, layer by layer."""

    name: str
    resolution: int
    device: str
    threads: int
    dtype_bytes: int
    macs: int
    layers: list[LayerLatency]
    measured: dict = field(default_factory=dict)  # measured_total_ms, torchvision_total_ms, spearman_* ...
    batch: int = 1
    # a traced model's ops that compute and that no rule prices (traced.trace.unpriced_op), by name; None when analysed
    unpriced: Optional[dict] = None
    counted_macs: Optional[int] = None  # a traced model's MACs as `analyze` counts them (paper), priced or not

    @property
    def bytes(self) -> int:
        return sum(r.bytes for r in self.layers)

    @property
    def predicted_total_ms(self) -> float:
        return sum(r.predicted_ms for r in self.layers)

    def frame(self):
        """The layers as a pandas DataFrame."""
        from ..io.frames import exact_frame

        return exact_frame(r.to_dict() for r in self.layers)

    def to_dict(self) -> dict:
        """JSON shape: name, resolution, batch, device, threads, dtype_bytes, macs, bytes, predicted_total_ms, the
        measurements with --measure, a traced model's unpriced_ops, layers."""
        unpriced = {} if self.unpriced is None else {"unpriced_ops": dict(self.unpriced)}
        if self.counted_macs is not None:
            unpriced["counted_macs"] = self.counted_macs
        return {"name": self.name, "resolution": self.resolution, "batch": self.batch, "device": self.device,
                "threads": self.threads, "dtype_bytes": self.dtype_bytes, "macs": self.macs, "bytes": self.bytes,
                "predicted_total_ms": self.predicted_total_ms, **self.measured, **unpriced,
                "layers": [r.to_dict() for r in self.layers]}


def check_run(name: str, threads: int, batch: int, dtype_bytes: int, measure: bool,
              input_dims: Optional[tuple[int, ...]] = None) -> None:
    """The settings every latency run takes, checked before any work: threads 1..MAX_THREADS, batch 1..MAX_BATCH;
    --measure times fp32; an input shape is for MODULE:CALLABLE models only."""
    from ..nets.registry import is_module_spec

    positive_int(threads, "--threads", MAX_THREADS)
    positive_int(batch, "--batch", MAX_BATCH)
    if measure and dtype_bytes != 4:
        raise CostlabError("--measure times fp32 torch eager; use the default dtype size 4")
    if input_dims is not None and not is_module_spec(name):
        raise CostlabError(f"--input is for MODULE:CALLABLE models; {name} takes --resolution and --batch")


def latency_report(name: str, device: Device, threads: int = 1, resolution: Optional[int] = None,
                   measure: bool = False, dtype_bytes: int = DEFAULT_DTYPE_BYTES, repeats: int = 15,
                   warmup: int = 3, torchvision_total: bool = True, batch: int = 1,
                   input_dims: Optional[tuple[int, ...]] = None, whole: bool = True) -> LatencyReport:
    """Predicted (and with measure, measured) per-layer latency of a built-in architecture, an architecture TOML or a
    MODULE:CALLABLE (input_dims N,C,H,W, default batch x 3 x resolution (224) squared) at a batch, fp32.

    measured_total_ms times the module measured per layer (costlab's build of an architecture, the user's model;
    a built network's only with whole);
    for a built-in that torchvision has, torchvision_total_ms times torchvision's model too (weights=None, eval).
    """
    from ..nets.registry import is_module_spec

    check_run(name, threads, batch, dtype_bytes, measure, input_dims)
    if is_module_spec(name):
        from .traced_latency import traced_report

        dims = input_dims or (batch, 3, resolution or 224, resolution or 224)
        return traced_report(name, device, threads, dims, measure, dtype_bytes, repeats, warmup)
    from ..core.conventions import DEFAULT_CONVENTION
    from ..nets.registry import analyze_at, arch_graph

    built = arch_graph(name, resolution=resolution)
    analysis = analyze_at(built.arch, built.node, built.input_shape.h, DEFAULT_CONVENTION, batch, None)
    report = LatencyReport(analysis.name, analysis.resolution, device.name, threads, dtype_bytes, analysis.macs,
                           predict(analysis, device, dtype_bytes, threads), batch=batch)
    if measure:
        from ..extras import require as require_extra

        require_extra("--measure", ("torch", "torchvision"))
        report.measured = _measure_built(name, built, analysis, report.layers, threads, repeats, warmup,
                                         torchvision_total, whole)
    return report


def _measure_built(name, built, analysis, layers: list[LayerLatency], threads, repeats, warmup,
                   torchvision_total, whole=True) -> dict:
    """Every row of a built network timed (perf.measure.measure_layers), the whole module, and torchvision's model."""
    import torch

    from ..nets.registry import TORCHVISION_NAMES
    from ..traced.build import build_module
    from .measure import measure_layers, measure_total, torch_threads, torchvision_model

    with torch_threads(threads):
        torch.manual_seed(0)
        model = build_module(built.node).eval()
        s = analysis.input_shape
        x = torch.randn(analysis.batch, s.c, s.h, s.w)
        measured = measure_layers(model, x, [r.name for r in layers], repeats, warmup)
        out = {"measured_total_ms": measure_total(model, x, repeats, warmup)} if whole else {}
        tv = torchvision_model(name) if torchvision_total and name in TORCHVISION_NAMES else None
        if tv is not None:
            out["torchvision_total_ms"] = measure_total(tv, x, repeats, warmup)
    for r in layers:
        r.measured_ms = measured[r.name]
    return {**out, **correlations(layers)}


def correlations(layers: Sequence[LayerLatency]) -> dict:
    """Of timed layers: measured_layers_ms (their sum), and the Spearman rho of measured time with the prediction and
    with MACs alone."""
    times = [r.measured_ms for r in layers]
    if len(times) < 2:  # one layer has no ranking: None (null in JSON)
        return {"measured_layers_ms": sum(times), "spearman_predicted": None, "spearman_macs": None}
    return {"measured_layers_ms": sum(times),
            "spearman_predicted": spearman([r.predicted_ms for r in layers], times),
            "spearman_macs": spearman([r.macs for r in layers], times)}


def shares_by_type(layers: Sequence[LayerLatency]) -> list[dict]:
    """Per layer type: share of all MACs and share of measured time, in first-seen order."""
    import pandas as pd

    frame = pd.DataFrame({"type": [r.type for r in layers], "macs": [r.macs for r in layers],
                          "measured_ms": [r.measured_ms for r in layers]})
    sums = frame.groupby("type", sort=False)[["macs", "measured_ms"]].sum()
    total_macs, total_time = sums["macs"].sum() or 1, sums["measured_ms"].sum() or 1.0
    return [{"type": t, "macs": int(row.macs), "macs_share": row.macs / total_macs, "measured_ms": row.measured_ms,
             "latency_share": row.measured_ms / total_time} for t, row in sums.iterrows()]
