"""The cost model in a report: predicted latency per stage and per layer type on one shipped spec-sheet profile,
the roofline chart, and where the time goes that MACs miss, in numbers.

Predictions only (perf.latency.latency_report, the numbers `costlab latency NAME --device jetson-nano` prints), so a
report stays byte-reproducible; measured timings depend on the machine and stay out of reports/. why_profile says
why the Jetson Nano.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..core.analyze import Analysis
from ..core.vocab import LAYER_TYPES
from ..io.render import grouped_int, humanize, share
from ..perf.devices import Device, load_device
from ..perf.latency import LatencyReport, latency_report
from ..perf.roofline import LayerLatency
from .markdown import chart_link, md_table

PROFILE = "jetson-nano"


def why_profile(device: Device) -> str:
    """Why the reports predict on this profile, with its spec-sheet numbers."""
    return (f"costlab's users design networks for phones and edge boards, and `{device.name}` is the one shipped edge "
            f"profile. Its spec sheet ({device.peak_flops / 1e9:.1f} GFLOP/s fp32 on the GPU, "
            f"{device.memory_bandwidth / 1e9:.1f} GB/s of LPDDR4 shared with the CPU, no large cache to keep feature "
            f"maps in) puts the ridge point at {device.peak_flops / device.memory_bandwidth:.1f} FLOPs per byte, so "
            f"the layers that move many bytes per MAC (depthwise convs, batch norm, activations, joins) show the cost "
            f"they have on such a device. The two server-CPU profiles ship no cache model, which at batch 1 (feature "
            f"maps that fit a 60-256 MB L3) would misprice exactly those layers.")


# a layer type must take this much more of the time than of the MACs to be named as one MACs miss
NOTABLE = 0.005


@dataclass(frozen=True)
class TimeShare:
    """The layers of one stage or one layer type: how many, their MACs, predicted ms, how many are memory-bound."""

    label: str
    layers: int
    macs: int
    ms: float
    memory_bound: int


@dataclass(frozen=True)
class PredictedLatency:
    """A model's latency report on the report's profile (perf.latency), its layers grouped by stage and by type."""

    report: LatencyReport
    device: Device
    stages: tuple[TimeShare, ...]
    types: tuple[TimeShare, ...]

    @property
    def name(self) -> str:
        return self.report.name

    @property
    def resolution(self) -> int:
        return self.report.resolution

    @property
    def layers(self) -> list[LayerLatency]:
        return self.report.layers

    @property
    def total_ms(self) -> float:
        return self.report.predicted_total_ms

    @property
    def macs(self) -> int:
        return self.report.macs

    @property
    def memory_bound(self) -> list[LayerLatency]:
        return [r for r in self.layers if r.bound == "memory"]

    @property
    def ridge(self) -> float:
        """FLOPs per byte where the roofline turns: peak / memory bandwidth."""
        return self.device.peak_flops / self.device.memory_bandwidth

    @property
    def overhead_ms(self) -> float:
        """The profile's fixed cost per layer, summed over the layers."""
        return 1e3 * sum(self.device.overhead_for(r.type) for r in self.layers)


def _grouped(layers, labels) -> tuple[TimeShare, ...]:
    """TimeShares per label, in first-seen order; sums run in execution order, so the floats are reproducible."""
    groups: dict[str, list[LayerLatency]] = {}
    for layer, label in zip(layers, labels):
        groups.setdefault(label, []).append(layer)
    return tuple(TimeShare(label, len(g), sum(r.macs for r in g), sum(r.predicted_ms for r in g),
                           sum(1 for r in g if r.bound == "memory")) for label, g in groups.items())


def predicted_latency(name: str, analysis: Analysis) -> PredictedLatency:
    """`costlab latency NAME --device jetson-nano` (batch 1, native resolution), grouped by the analysis' stages."""
    device = load_device(PROFILE)
    report = latency_report(name, device)
    layers = report.layers
    if [r.name for r in layers] != [r.name for r in analysis.rows]:
        raise RuntimeError(f"{name}: the latency rows do not follow the analysis' rows")
    return PredictedLatency(report, device, _grouped(layers, [r.stage for r in analysis.rows]),
                            _grouped(layers, [r.type for r in layers]))


def _plural(layer_type: str) -> str:
    """'depthwise conv' -> 'depthwise convs', 'linear' -> 'linear layers'."""
    label = LAYER_TYPES.get(layer_type, layer_type)
    return label + "s" if label.endswith("conv") else label + " layers"


def where_time_goes(p: PredictedLatency) -> str:
    """Sentences computed from the prediction: the layer types whose share of the time exceeds their share of the
    MACs and what the layers with no MACs at all take; the type with the most MACs; then how much of the time is
    memory-bound and how much is fixed cost per layer."""
    total_ms, total_macs = p.total_ms or 1.0, p.macs or 1
    counted = [t for t in p.types if t.macs]
    over = sorted((t for t in counted if t.ms / total_ms - t.macs / total_macs >= NOTABLE),
                  key=lambda t: t.macs / total_macs - t.ms / total_ms)[:2]
    parts = [f"{_plural(t.label)} are {share(t.macs / total_macs)} of the MACs but {share(t.ms / total_ms)} of the "
             f"predicted time" for t in over]
    free = sorted((t for t in p.types if not t.macs and t.ms), key=lambda t: -t.ms)
    if free:
        names = ", ".join(LAYER_TYPES.get(t.label, t.label) for t in free)
        parts.append(f"layers that do no MACs at all ({names}) take {share(sum(t.ms for t in free) / total_ms)} of "
                     f"the time")
    sentences = ["; ".join(parts) if parts else "every layer type takes about its share of the MACs"]
    biggest = max(counted, key=lambda t: t.macs, default=None)
    if biggest is not None and biggest not in over:
        sentences.append(f"the {_plural(biggest.label)} carry {share(biggest.macs / total_macs)} of the MACs and "
                         f"take {share(biggest.ms / total_ms)} of the time")
    bound = p.memory_bound
    sentences.append(f"{len(bound)} of {len(p.layers)} layers are memory-bound (under the ridge point of "
                     f"{p.ridge:.1f} FLOPs/byte) and take {share(sum(r.predicted_ms for r in bound) / total_ms)} of "
                     f"the time; the fixed cost per layer adds up to {share(p.overhead_ms / total_ms)}")
    return " ".join(s[0].upper() + s[1:] + "." for s in sentences)


def _ms(x: float) -> str:
    return f"{x:.3f}"


def latency_markdown(p: PredictedLatency, chart: str, index_link: bool = True, cli: str = "") -> str:
    """The report's latency section: what is predicted and how, where the time goes, by layer type, by stage."""
    d = p.device
    total_ms, total_macs = p.total_ms or 1.0, p.macs or 1
    overhead = ("fixed costs per layer type" if d.overhead_by_type else f"an assumed {d.overhead_s * 1e6:g} us per layer")
    bound = p.memory_bound
    summary = md_table([
        {"what": "predicted total", "value": f"{_ms(p.total_ms)} ms"},
        {"what": "bytes moved (fp32)", "value": f"{grouped_int(p.report.bytes)} ({humanize(p.report.bytes)}B)"},
        {"what": "memory-bound layers", "value": f"{len(bound)} of {len(p.layers)}, "
                                                 f"{share(sum(r.predicted_ms for r in bound) / total_ms)} of the time"},
        {"what": "fixed cost per layer", "value": f"{_ms(p.overhead_ms)} ms, {share(p.overhead_ms / total_ms)} of "
                                                  f"the time"},
    ], [("what", ""), ("value", "value")], ["left", "right"])
    types = md_table([{"type": LAYER_TYPES.get(t.label, t.label), "layers": str(t.layers),
                       "macs_share": share(t.macs / total_macs), "ms": _ms(t.ms), "ms_share": share(t.ms / total_ms),
                       "memory": str(t.memory_bound)} for t in sorted(p.types, key=lambda t: -t.ms)],
                     [("type", "layer type"), ("layers", "layers"), ("macs_share", "MACs %"), ("ms", "predicted ms"),
                      ("ms_share", "time %"), ("memory", "memory-bound")],
                     ["left", "right", "right", "right", "right", "right"])
    stages = md_table([{"index": str(i), "stage": s.label, "layers": str(s.layers),
                        "macs_share": share(s.macs / total_macs), "ms": _ms(s.ms), "ms_share": share(s.ms / total_ms),
                        "memory": str(s.memory_bound)} for i, s in enumerate(p.stages)],
                      [("index", "#"), ("stage", "stage"), ("layers", "layers"), ("macs_share", "MACs %"),
                       ("ms", "predicted ms"), ("ms_share", "time %"), ("memory", "memory-bound")],
                      ["right", "left", "right", "right", "right", "right", "right"])
    return "\n".join([
        f"A roofline prediction on the shipped `{d.name}` profile ({d.description}; "
        f"{d.peak_flops / 1e9:.1f} GFLOP/s and {d.memory_bandwidth / 1e9:.1f} GB/s from the spec sheet, "
        f"{overhead}) at batch 1 and {p.resolution} x {p.resolution}: each layer takes its fixed cost plus "
        f"max(FLOPs / peak, bytes moved / bandwidth), plus the workspace copies `costlab latency` charges a conv. "
        f"Not a measurement: measured timings stay out of reports/ (`costlab latency {cli or p.name} --measure` times this "
        f"machine)." + (" [Why this profile](README.md#predicted-latency)" if index_link else ""),
        "",
        f"**Where the time goes that MACs miss.** {where_time_goes(p)}",
        "",
        summary,
        "",
        "By layer type (most time first):",
        "",
        types,
        "",
        "By stage (the stages of the cost tables above):",
        "",
        stages,
        "",
        chart_link(chart, f"{p.name}: every layer with MACs under the {d.name} roofline"),
        "",
        f"Layers that do no MACs (batch norm, activations, joins) have no arithmetic intensity and so no point on the "
        f"roofline. Reproduce: `costlab latency {cli or p.name} --device {d.name} --chart {p.name}-roofline.png`.",
    ])
