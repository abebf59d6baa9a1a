"""Charts of `costlab latency`: the roofline with every layer on it, and MACs share against time share."""

from __future__ import annotations

from typing import Sequence

from ..core.vocab import LAYER_TYPES
from .base import PALETTE, plain_formatter, pyplot, si_formatter, type_colour, type_order


def rate(value: float, unit: str) -> str:
    """A profile's rate as its spec states it: '25.6 GB/s', '235.9 GFLOP/s', '5.888 TFLOP/s'; three significant
    digits, four where that is the profile's number exactly, never rounded to fewer ('26 GB/s')."""
    for limit, prefix in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1.0, "")):
        if value >= limit or limit == 1.0:
            scaled = value / limit
            break
    text = f"{scaled:.3g}"
    four = f"{scaled:.4g}"
    if float(text) != scaled and float(four) == scaled:
        text = four
    if "e" in text:  # 1000 and more of the unit: the next unit's four digits would do, plain is clearer
        text = f"{scaled:.0f}"
    return f"{text} {prefix}{unit}"


def _along(ax, x: float, slope_points, text: str, colour: str) -> None:
    """A label just above a straight line of the (log-log) chart, turned to the line's angle on screen."""
    import math

    (x0, y0), (x1, y1) = (ax.transData.transform(p) for p in slope_points)
    angle = math.degrees(math.atan2(y1 - y0, x1 - x0))
    ax.annotate(text, (x, slope_points[0][1] * x / slope_points[0][0]), xytext=(0, 3), textcoords="offset points",
                rotation=angle, rotation_mode="anchor", ha="left", va="bottom", fontsize=8, color=colour)


def roofline_figure(layers: Sequence, device, title: str):
    """Layers as points (intensity = FLOPs/byte, achieved FLOP/s at the predicted time) under the device's roofline;
    each roof labelled with its number: the peak on the flat one, the bandwidth along the slanted one. A layer type's
    own ceiling (depthwise, 1x1 convs; often within a few percent of the peak) is drawn in that type's colour and
    numbered in the legend."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(8, 5))
    points = [r for r in layers if r.flops > 0 and r.bytes > 0]
    lo = min([r.intensity for r in points] + [0.1]) / 2
    hi = max([r.intensity for r in points] + [100.0]) * 2
    xs = [lo * (hi / lo) ** (i / 200) for i in range(201)]
    peak = device.peak_flops
    slopes = []
    for bw, label, style in ((device.memory_bandwidth, "memory bandwidth", "-"),
                             (device.cache_bandwidth, "cache bandwidth", "--")):
        if bw:
            ax.plot(xs, [min(peak, x * bw) for x in xs], color="#444444", linestyle=style, linewidth=1.2,
                    label=f"roofline, {label} {rate(bw, 'B/s')}")
            slopes.append((bw, label.split()[0]))
    ceilings = [(kind, flops) for kind, flops in (("depthwise", device.depthwise_flops),
                                                  ("pointwise", device.pointwise_flops)) if flops]
    for kind, flops in ceilings:
        ax.axhline(flops, color=type_colour(kind), linestyle="-.", linewidth=1,
                   label=f"{LAYER_TYPES[kind]} ceiling {rate(flops, 'FLOP/s')}")
    for kind in type_order(r.type for r in points):
        sel = [r for r in points if r.type == kind]
        key = "measured_ms" if all(r.measured_ms is not None for r in sel) else "predicted_ms"
        ax.scatter([r.intensity for r in sel], [r.flops / (getattr(r, key) / 1e3) for r in sel], s=22,
                   color=type_colour(kind), alpha=0.85,
                   label=f"{LAYER_TYPES.get(kind, kind)} ({'measured' if key == 'measured_ms' else 'predicted'})")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(lo / 1.3, hi * 1.3)
    bottom, _ = ax.get_ylim()
    ax.set_ylim(bottom, peak * 2.2)  # room for the peak's label above the flat roof
    ax.yaxis.set_major_formatter(si_formatter())
    ax.xaxis.set_major_formatter(plain_formatter())
    ax.set_xlabel("arithmetic intensity (FLOPs / byte moved)")
    ax.set_ylabel("FLOP/s achieved (FLOPs / layer time)")
    ax.set_title(title)
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    # the labels go on after the layout: a slanted label's angle is the line's angle on the final axes
    ax.annotate(f"peak {rate(peak, 'FLOP/s')}", (hi, peak), xytext=(0, 3), textcoords="offset points", ha="right",
                va="bottom", fontsize=8, color="#444444")
    for bw, which in slopes:
        _along(ax, lo * 1.15, ((lo, lo * bw), (peak / bw, peak)), f"{which} {rate(bw, 'B/s')}", "#444444")
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
