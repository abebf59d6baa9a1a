"""`costlab latency`: the roofline prediction for a built-in network, and with --measure the same network timed.

Statistics come from pandas: Spearman's rho is the Pearson correlation of pandas' average ranks.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional, Sequence

from ..core.checks import positive_int
from ..core.traffic import DEFAULT_DTYPE_BYTES
from ..errors import CostlabError, require
from .devices import Device
from .roofline import LayerLatency, predict


def spearman(x: Sequence[float], y: Sequence[float]) -> float:
    """rho = Pearson correlation of the (tie-averaged) ranks of x and y; NaN if either is constant."""
    import pandas as pd

    require(len(x) == len(y), f"spearman needs two sequences of the same length, got {len(x)} and {len(y)}")
    require(len(x) >= 2, f"spearman needs at least 2 pairs, got {len(x)}")
    ranks = pd.DataFrame({"x": list(x), "y": list(y)}, dtype="float64").rank(method="average")
    return float(ranks["x"].corr(ranks["y"]))


@dataclass
class LatencyReport:
    """Predicted (and measured) latency of a network at batch 1, layer by layer."""

    name: str
    resolution: int
    device: str
    threads: int
    dtype_bytes: int
    macs: int
    layers: list[LayerLatency]
    measured: dict = field(default_factory=dict)  # measured_total_ms, torchvision_total_ms, spearman_* ...

    @property
    def bytes(self) -> int:
        return sum(r.bytes for r in self.layers)

    @property
    def predicted_total_ms(self) -> float:
        return sum(r.predicted_ms for r in self.layers)

    def frame(self):
        """The layers as a pandas DataFrame."""
        import pandas as pd

        return pd.DataFrame.from_records([r.to_dict() for r in self.layers])

    def to_dict(self) -> dict:
        """JSON shape: name, resolution, device, threads, dtype_bytes, macs, bytes, predicted_total_ms, the
        measurements with --measure, layers."""
        return {"name": self.name, "resolution": self.resolution, "device": self.device, "threads": self.threads,
                "dtype_bytes": self.dtype_bytes, "macs": self.macs, "bytes": self.bytes,
                "predicted_total_ms": self.predicted_total_ms, **self.measured,
                "layers": [r.to_dict() for r in self.layers]}


def latency_report(name: str, device: Device, threads: int = 1, resolution: Optional[int] = None,
                   measure: bool = False, dtype_bytes: int = DEFAULT_DTYPE_BYTES, repeats: int = 15,
                   warmup: int = 3, torchvision_total: bool = True) -> LatencyReport:
    """Predicted (and with measure, measured) per-layer latency of a built-in architecture at batch 1, fp32.

    measured_total_ms times costlab's own built module (the one measured per layer); when torchvision
    has a model of the same name, torchvision_total_ms times that one too (weights=None, eval).
    """
    from ..core.analyze import analyze
    from ..nets.registry import arch_graph

    positive_int(threads, "threads")
    built = arch_graph(name, resolution=resolution)
    analysis = analyze(built.node, built.input_shape, name=built.arch.name)
    report = LatencyReport(analysis.name, analysis.resolution, device.name, threads, dtype_bytes, analysis.macs,
                           predict(analysis, device, dtype_bytes, threads))
    if measure:
        if dtype_bytes != 4:
            raise CostlabError("--measure times fp32 torch eager; use the default dtype size 4")
        from ..extras import require

        require("--measure", ("torch", "torchvision"))
        report.measured = _measure(name, analysis, report.layers, threads, repeats, warmup, torchvision_total)
    return report


def _measure(name, analysis, layers: list[LayerLatency], threads, repeats, warmup, torchvision_total) -> dict:
    import torch

    from ..traced.build import build_arch
    from .measure import measure_layers, measure_total, torchvision_model

    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        torch.manual_seed(0)
        model = build_arch(name, resolution=analysis.resolution).eval()
        s = analysis.input_shape
        x = torch.randn(1, s.c, s.h, s.w)
        measured = measure_layers(model, x, [r.name for r in layers], repeats, warmup)
        out = {"measured_total_ms": measure_total(model, x, repeats, warmup)}
        tv = torchvision_model(name) if torchvision_total else None
        if tv is not None:
            out["torchvision_total_ms"] = measure_total(tv, x, repeats, warmup)
    finally:
        torch.set_num_threads(previous)
    for r in layers:
        r.measured_ms = measured[r.name]
    times = [r.measured_ms for r in layers]
    out["measured_layers_ms"] = sum(times)
    out["spearman_predicted"] = spearman([r.predicted_ms for r in layers], times)
    out["spearman_macs"] = spearman([r.macs for r in layers], times)
    return out


def shares_by_type(layers: Sequence[LayerLatency]) -> list[dict]:
    """Per layer type: share of all MACs and share of measured time, in first-seen order."""
    import pandas as pd

    frame = pd.DataFrame({"type": [r.type for r in layers], "macs": [r.macs for r in layers],
                          "measured_ms": [r.measured_ms for r in layers]})
    sums = frame.groupby("type", sort=False)[["macs", "measured_ms"]].sum()
    total_macs, total_time = sums["macs"].sum() or 1, sums["measured_ms"].sum() or 1.0
    return [{"type": t, "macs": int(row.macs), "macs_share": row.macs / total_macs, "measured_ms": row.measured_ms,
             "latency_share": row.measured_ms / total_time} for t, row in sums.iterrows()]
