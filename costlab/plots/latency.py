"""Charts of `costlab latency`: the roofline with every layer on it, and MACs share against time share."""

from __future__ import annotations

from typing import Sequence

from ..core.vocab import LAYER_TYPES
from .base import PALETTE, pyplot, si_formatter, type_colour, type_order


def roofline_figure(layers: Sequence, device, title: str):
    """Layers as points (intensity = FLOPs/byte, achieved FLOP/s at the predicted time) under the device's roofline."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(8, 5))
    points = [r for r in layers if r.flops > 0 and r.bytes > 0]
    lo = min([r.intensity for r in points] + [0.1]) / 2
    hi = max([r.intensity for r in points] + [100.0]) * 2
    xs = [lo * (hi / lo) ** (i / 200) for i in range(201)]
    for peak, bw, label, style in ((device.peak_flops, device.memory_bandwidth, "memory bandwidth", "-"),
                                   (device.peak_flops, device.cache_bandwidth, "cache bandwidth", "--")):
        if bw:
            ax.plot(xs, [min(peak, x * bw) for x in xs], color="#444444", linestyle=style, linewidth=1.2,
                    label=f"roofline, {label} {bw / 1e9:.0f} GB/s")
    if device.depthwise_flops:
        ax.axhline(device.depthwise_flops, color="#888888", linestyle="-.", linewidth=1,
                   label=f"depthwise ceiling {device.depthwise_flops / 1e9:.1f} GFLOP/s")
    for kind in type_order(r.type for r in points):
        sel = [r for r in points if r.type == kind]
        key = "measured_ms" if all(r.measured_ms is not None for r in sel) else "predicted_ms"
        ax.scatter([r.intensity for r in sel], [r.flops / (getattr(r, key) / 1e3) for r in sel], s=22,
                   color=type_colour(kind), alpha=0.85,
                   label=f"{LAYER_TYPES.get(kind, kind)} ({'measured' if key == 'measured_ms' else 'predicted'})")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.yaxis.set_major_formatter(si_formatter())
    ax.set_xlabel("arithmetic intensity (FLOPs / byte moved)")
    ax.set_ylabel("FLOP/s achieved (FLOPs / layer time)")
    ax.set_title(title)
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    return fig



def latency_share_figure(shares: Sequence[dict], title: str):
    """Per layer type, side-by-side bars: share of all MACs and share of measured latency."""
    plt = pyplot()
    shares = sorted(shares, key=lambda s: -s["latency_share"])
    names = [s["type"] for s in shares]
    fig, ax = plt.subplots(figsize=(max(7.0, 0.8 * len(names) + 3), 4.5))
    idx = range(len(names))
    width = 0.4
    ax.bar([i - width / 2 for i in idx], [100 * s["macs_share"] for s in shares], width, color=PALETTE[0],
           label="share of MACs")
    bars = ax.bar([i + width / 2 for i in idx], [100 * s["latency_share"] for s in shares], width, color=PALETTE[1],
                  label="share of measured time")
    for bar, s in zip(bars, shares):
        ax.annotate(f"{100 * s['latency_share']:.0f}%", (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                    ha="center", va="bottom", fontsize=8, xytext=(0, 2), textcoords="offset points")
    ax.set_xticks(list(idx))
    ax.set_xticklabels(names, rotation=20)
    ax.set_ylabel("percent of the whole model")
    ax.set_title(title)
    ax.legend(loc="upper right")
    fig.tight_layout()
    return fig
