"""matplotlib charts. Imported lazily: only commands given --chart (and reports) pay for matplotlib.

Charts are reproducible byte for byte: no timestamps or software tags in the metadata, fixed SVG hash salt.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional, Sequence

from .analyze import LAYER_TYPES as TYPE_LABELS
from .errors import CostlabError
from .outputs import writable_file

# Okabe-Ito: distinguishable with the common colour-vision deficiencies
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000"]
CHART_SUFFIXES = (".png", ".svg")


def check_chart_path(path: str | Path) -> Path:
    """Reject a chart path costlab cannot write before any work is done."""
    if Path(path).suffix.lower() not in CHART_SUFFIXES:
        raise CostlabError(f"chart file {str(path)!r} must end in .png or .svg")
    return writable_file(path, "chart file")


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update({
        "svg.hashsalt": "costlab",
        "figure.dpi": 100,
        "savefig.dpi": 150,
        "font.size": 10,
        "axes.titlesize": 12,
        "axes.grid": True,
        "grid.alpha": 0.3,
        "axes.prop_cycle": matplotlib.cycler(color=PALETTE),
    })
    return plt


def _metadata(fmt: str) -> dict:
    return {"Date": None, "Creator": None} if fmt == "svg" else {"Software": None}


def save(fig, path: str | Path) -> Path:
    """Write fig without date or software metadata, so the same chart is the same bytes."""
    p = Path(path)
    fig.savefig(p, metadata=_metadata(p.suffix.lower().lstrip(".")), bbox_inches="tight")
    import matplotlib.pyplot as plt

    plt.close(fig)
    return p


def to_bytes(fig, fmt: str = "png", dpi: Optional[int] = None) -> bytes:
    """The chart as file bytes, metadata stripped as in save(); reports collect these before writing anything."""
    import io

    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    kwargs = {"dpi": dpi} if dpi else {}
    fig.savefig(buf, format=fmt, metadata=_metadata(fmt), bbox_inches="tight", **kwargs)
    plt.close(fig)
    return buf.getvalue()


def si_formatter():
    from matplotlib.ticker import FuncFormatter

    from .render import humanize

    return FuncFormatter(lambda v, _pos: humanize(v) if v else "0")


def compare_chart(rows: Sequence[dict], path: str | Path, title: str) -> Path:
    """Two bar panels, params and MACs per KIND, each bar labelled with its ratio to the first KIND."""
    plt = _pyplot()
    names = [r["name"] for r in rows]
    fig, axes = plt.subplots(1, 2, figsize=(max(7.0, 1.6 * len(rows) + 4), 4.2))
    for ax, key, label, colour in ((axes[0], "params", "Parameters", PALETTE[0]),
                                   (axes[1], "macs", "Multiply-accumulates (MACs)", PALETTE[1])):
        values = [r[key] for r in rows]
        bars = ax.bar(names, values, color=colour)
        ax.set_yscale("log")
        ax.yaxis.set_major_formatter(si_formatter())
        ax.set_ylabel(f"{label} (log scale)")
        ax.set_title(label)
        base = values[0] or 1
        for bar, value in zip(bars, values):
            ax.annotate(f"{value / base:.3g}x", (bar.get_x() + bar.get_width() / 2, value),
                        ha="center", va="bottom", fontsize=9, xytext=(0, 2), textcoords="offset points")
        ax.tick_params(axis="x", rotation=20 if len(rows) > 3 else 0)
        ax.margins(y=0.15)
    fig.suptitle(title)
    fig.tight_layout()
    return save(fig, path)


def breakeven_chart(rows: Sequence[dict], path: str | Path, title: str) -> Path:
    """MAC ratio one 5x5 / two 3x3 against output width N: exact and MnasNet-simplified, 1.0 = break-even."""
    return save(breakeven_figure(rows, title), path)


def breakeven_figure(rows: Sequence[dict], title: str):
    """The figure of breakeven_chart."""
    plt = _pyplot()
    n = [r["n"] for r in rows]
    exact = [r["macs_5x5"] / r["macs_3x3x2"] for r in rows]
    simple = [r["simplified_5x5"] / r["simplified_3x3x2"] for r in rows]
    fig, ax = plt.subplots(figsize=(7.5, 4.2))
    ax.plot(n, exact, color=PALETTE[0], linewidth=2, label="exact (second 3x3 sees N channels)")
    ax.plot(n, simple, color=PALETTE[1], linewidth=2, linestyle="--", label="MnasNet simplification")
    ax.axhline(1.0, color="#444444", linewidth=1)
    ax.text(n[-1], 1.0, " break-even", va="bottom", ha="right", color="#444444", fontsize=9)
    # one note for all changes of the cheaper choice: an exact tie makes two flips one N apart
    equal = [r["n"] for r in rows if r["cheaper"] == "equal"]
    changes = [(prev, row, ratio) for prev, row, ratio in zip(rows, rows[1:], exact[1:])
               if row["cheaper"] != prev["cheaper"]]
    for n in equal or [row["n"] for _, row, _ in changes]:
        ax.axvline(n, color=PALETTE[3], linestyle=":", linewidth=1)
    if changes:
        lines = [f"equal cost at N={', '.join(map(str, equal))}"] if equal else []
        lines += [f"{row['cheaper']} cheaper from N={row['n']}" for _, row, _ in changes if row["cheaper"] != "equal"]
        _, row, ratio = changes[0]
        ax.annotate("\n".join(lines), (row["n"], ratio), xytext=(12, 14), textcoords="offset points",
                    color=PALETTE[3], fontsize=9)
    ax.set_xlabel("output channels N")
    ax.set_ylabel("MACs of one 5x5 / MACs of two 3x3")
    ax.set_title(title)
    ax.legend(loc="best")
    fig.tight_layout()
    return fig


# --- architecture reports ------------------------------------------------------------------------------

# one colour per layer type, the same in every chart (the Okabe-Ito yellow is left out: too light on white)
TYPE_COLOURS = {
    "pointwise": PALETTE[0],
    "depthwise": PALETTE[1],
    "conv": PALETTE[3],
    "grouped": PALETTE[4],
    "linear": PALETTE[2],
    "se": PALETTE[5],
}


def _stage_spans(stages: Sequence[str]) -> list[tuple[str, int, int]]:
    """Consecutive runs of the same stage as (stage, first index, last index + 1)."""
    spans: list[tuple[str, int, int]] = []
    for i, stage in enumerate(stages):
        if spans and spans[-1][0] == stage:
            spans[-1] = (stage, spans[-1][1], i + 1)
        else:
            spans.append((stage, i, i + 1))
    return spans


def layer_chart(layers: Sequence[dict], title: str):
    """MACs of every layer that has any, in execution order, one bar per layer coloured by layer type; stages shaded."""
    from matplotlib.patches import Patch

    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(10, 4.6))
    x = list(range(len(layers)))
    values = [layer["macs"] for layer in layers]
    colours = [TYPE_COLOURS.get(layer["type"], "#777777") for layer in layers]
    # many thin bars: no antialiasing, or neighbouring bars blur into uneven stripes
    ax.bar(x, values, width=0.85 if len(layers) < 80 else 0.8, color=colours, linewidth=0,
           antialiased=len(layers) < 80)
    top = max(values) if values else 1
    spans = _stage_spans([layer["stage"] for layer in layers])
    narrow = max(3.0, len(layers) / 40)
    stagger = 0
    for i, (stage, start, stop) in enumerate(spans):
        if i % 2:
            ax.axvspan(start - 0.5, stop - 0.5, color="#000000", alpha=0.06, linewidth=0)
        # labels of narrow neighbouring stages alternate between two heights so they never touch
        stagger = stagger + 1 if stop - start < narrow else 0
        height = 1.10 if stagger and stagger % 2 == 0 else 1.19
        ax.text((start + stop - 1) / 2, top * height, str(i), ha="center", va="center", fontsize=8, color="#444444")
    ax.set_xlim(-1.5, len(layers) + 0.5)
    ax.set_ylim(0, top * 1.25)
    ax.yaxis.set_major_formatter(si_formatter())
    ax.set_xlabel("layer (execution order; shaded bands and numbers above = stages, in order)")
    ax.set_ylabel("MACs per layer (batch 1)")
    ax.set_title(title)
    ax.grid(axis="x", visible=False)
    present = [t for t in TYPE_COLOURS if any(layer["type"] == t for layer in layers)]
    ax.legend(handles=[Patch(color=TYPE_COLOURS[t], label=TYPE_LABELS[t]) for t in present], loc="upper left",
              ncol=len(present), fontsize=9, framealpha=0.9, bbox_to_anchor=(0, -0.13))
    fig.tight_layout()
    return fig


def stage_chart(stages: Sequence[dict], title: str):
    """Two horizontal bar panels, MACs and params per stage (top to bottom in execution order), each with its share."""
    plt = _pyplot()
    labels = [f"{i}: {s['stage']}" for i, s in enumerate(stages)]
    fig, axes = plt.subplots(1, 2, figsize=(10, 0.32 * len(stages) + 1.6), sharey=True)
    for ax, key, label, colour in ((axes[0], "macs", "MACs (batch 1)", PALETTE[1]),
                                   (axes[1], "params", "Parameters", PALETTE[0])):
        values = [s[key] for s in stages]
        y = list(range(len(stages)))
        ax.barh(y, values, color=colour, height=0.7)
        total = sum(values) or 1
        for yi, value in zip(y, values):
            share = value / total
            ax.annotate("<0.1%" if 0 < share < 0.001 else f"{100 * share:.1f}%", (value, yi), xytext=(3, 0), textcoords="offset points",
                        va="center", fontsize=8)
        ax.set_xlim(0, max(values or [1]) * 1.22)
        ax.xaxis.set_major_formatter(si_formatter())
        ax.set_xlabel(label)
        ax.set_title(label.split(" (")[0] + " by stage")
        ax.grid(axis="y", visible=False)
    axes[0].set_yticks(list(range(len(stages))), labels)
    axes[0].invert_yaxis()
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def scaling_chart(grid: Sequence[dict], base_alpha: float, base_resolution: int, title: str):
    """MACs against input resolution, one line per width multiplier alpha (params in the legend); the default marked."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(8, 4.6))
    alphas = sorted({row["alpha"] for row in grid})
    markers = "osD^v<>"
    from .render import humanize

    for i, alpha in enumerate(alphas):
        rows = sorted((r for r in grid if r["alpha"] == alpha), key=lambda r: r["resolution"])
        params = rows[0]["params"]
        ax.plot([r["resolution"] for r in rows], [r["macs"] for r in rows], marker=markers[i % len(markers)],
                color=PALETTE[i % len(PALETTE)], linewidth=1.8, label=f"alpha {alpha:g} ({humanize(params)} params)")
    base = [r for r in grid if r["alpha"] == base_alpha and r["resolution"] == base_resolution]
    if base:
        ax.plot([base[0]["resolution"]], [base[0]["macs"]], marker="*", markersize=16, color="#000000",
                linestyle="none", label=f"default ({base_resolution}, alpha {base_alpha:g})", zorder=5)
    ax.set_yscale("log")
    _log_axis(ax.yaxis)
    resolutions = sorted({row["resolution"] for row in grid})
    ax.set_xticks(resolutions)
    ax.set_xlabel("input resolution (pixels, square)")
    ax.set_ylabel("MACs (batch 1, log scale)")
    ax.set_title(title)
    ax.legend(loc="upper left", fontsize=9, bbox_to_anchor=(1.01, 1.0))
    fig.tight_layout()
    return fig


def _log_axis(axis) -> None:
    """Log-scale ticks at 1, 2 and 5 x 10^k with SI labels, no crowded minor labels."""
    from matplotlib.ticker import LogLocator, NullFormatter

    axis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    axis.set_major_formatter(si_formatter())
    axis.set_minor_formatter(NullFormatter())


def _overlaps(box, boxes) -> float:
    """Total overlapping area of a display-space box with a list of boxes."""
    area = 0.0
    for other in boxes:
        w = min(box.x1, other.x1) - max(box.x0, other.x0)
        h = min(box.y1, other.y1) - max(box.y0, other.y0)
        if w > 0 and h > 0:
            area += w * h
    return area


def place_labels(fig, ax, xs: Sequence[float], ys: Sequence[float], labels: Sequence[str], fontsize: int = 9,
                 avoid: Sequence = ()) -> None:
    """Label every point, nudging each label around its point until it overlaps no other label, point or the frame.

    Greedy and deterministic: candidates at growing distances in eight directions; a label placed
    away from its point gets a thin leader line.
    """
    from matplotlib.transforms import Bbox

    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    frame = ax.get_window_extent(renderer)
    pts = [ax.transData.transform((x, y)) for x, y in zip(xs, ys)]
    pad = 4.0
    taken = [Bbox.from_extents(px - pad, py - pad, px + pad, py + pad) for px, py in pts] + list(avoid)
    directions = [(1, 0, "left", "center"), (-1, 0, "right", "center"), (0, 1, "center", "bottom"),
                  (0, -1, "center", "top"), (1, 1, "left", "bottom"), (-1, 1, "right", "bottom"),
                  (1, -1, "left", "top"), (-1, -1, "right", "top")]
    order = sorted(range(len(labels)), key=lambda i: (pts[i][0], pts[i][1]))
    for i in order:
        best = None
        for radius in (5, 12, 20, 30, 42, 56):
            for dx, dy, ha, va in directions:
                scale = 0.72 if dx and dy else 1.0
                offset = (dx * radius * scale, dy * radius * scale)
                text = ax.annotate(labels[i], (xs[i], ys[i]), xytext=offset, textcoords="offset points", ha=ha,
                                   va=va, fontsize=fontsize)
                box = text.get_window_extent(renderer).expanded(1.06, 1.12)
                inside = frame.x0 <= box.x0 and box.x1 <= frame.x1 and frame.y0 <= box.y0 and box.y1 <= frame.y1
                score = _overlaps(box, taken) + (0 if inside else 1e9)
                text.remove()
                if best is None or score < best[0]:
                    best = (score, offset, ha, va, box, radius)
                if score == 0:
                    break
            if best[0] == 0:
                break
        _, offset, ha, va, box, radius = best
        arrow = {"arrowstyle": "-", "color": "#777777", "linewidth": 0.6, "shrinkA": 0, "shrinkB": 3} if radius > 12 else None
        ax.annotate(labels[i], (xs[i], ys[i]), xytext=offset, textcoords="offset points", ha=ha, va=va,
                    fontsize=fontsize, arrowprops=arrow)
        taken.append(box)


def pareto_chart(models: Sequence[dict], title: str):
    """Each model as a point at (params, MACs) on log-log axes, labelled; the Pareto front (no model both smaller and cheaper) joined."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(10, 7))
    families = list(dict.fromkeys(m["family"] for m in models))
    markers = "osD^v<>p"
    for i, family in enumerate(families):
        group = [m for m in models if m["family"] == family]
        ax.scatter([m["params"] for m in group], [m["macs"] for m in group], s=36, zorder=3,
                   color=PALETTE[i % len(PALETTE)], marker=markers[i % len(markers)], label=family)
    front = sorted((m for m in models
                    if not any(o["params"] <= m["params"] and o["macs"] <= m["macs"] and
                               (o["params"], o["macs"]) != (m["params"], m["macs"]) for o in models)),
                   key=lambda m: m["params"])
    ax.plot([m["params"] for m in front], [m["macs"] for m in front], color="#777777", linestyle="--", linewidth=1,
            zorder=2, label="Pareto front (fewest MACs for the params)")
    ax.set_xscale("log")
    ax.set_yscale("log")
    _log_axis(ax.xaxis)
    _log_axis(ax.yaxis)
    ax.set_xlabel("parameters (log scale)")
    ax.set_ylabel("MACs at the default resolution (batch 1, log scale)")
    ax.set_title(title)
    xs = [m["params"] for m in models]
    ys = [m["macs"] for m in models]
    ax.set_xlim(min(xs) / 1.5, max(xs) * 1.6)
    ax.set_ylim(min(ys) / 1.8, max(ys) * 1.8)
    ax.legend(loc="upper left", fontsize=9)
    fig.tight_layout()
    legend_box = ax.get_legend().get_window_extent(fig.canvas.get_renderer())
    place_labels(fig, ax, xs, ys, [m["name"] for m in models], fontsize=8, avoid=[legend_box])
    return fig


def ratio_chart(rows: Sequence[dict], title: str):
    """MACs of a kxk depthwise-separable conv over a full kxk conv, against output channels N, one line per k."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(8, 4.6))
    kernels = sorted({r["k"] for r in rows})
    for i, k in enumerate(kernels):
        line = sorted((r for r in rows if r["k"] == k), key=lambda r: r["n"])
        colour = PALETTE[i % len(PALETTE)]
        ax.plot([r["n"] for r in line], [r["ratio"] for r in line], color=colour, linewidth=2, marker=".",
                label=f"k = {k}")
        ax.axhline(1 / k ** 2, color=colour, linestyle=":", linewidth=1)
        # at the left end the curves are far above their asymptotes, so the labels stay clear of them
        ax.text(line[0]["n"], 1 / k ** 2, f" limit 1/k^2 = 1/{k * k}", color=colour, ha="left", va="bottom",
                fontsize=8)
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    from matplotlib.ticker import FuncFormatter

    from matplotlib.ticker import LogLocator, NullFormatter

    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _p: f"{v:g}"))
    ax.yaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _p: f"{v:g}"))
    ax.yaxis.set_minor_formatter(NullFormatter())
    ax.set_xlabel("output channels N (log scale)")
    ax.set_ylabel("MACs separable / MACs full conv (log scale)")
    ax.set_title(title)
    ax.legend(loc="upper right", fontsize=9)
    fig.tight_layout()
    return fig


def sweep_chart(rows: Sequence[dict], path: str | Path, title: str) -> Path:
    """`costlab sweep --chart`: MACs against resolution (one line per alpha) and params against alpha."""
    plt = _pyplot()
    alphas = sorted({r["alpha"] for r in rows})
    resolutions = sorted({r["resolution"] for r in rows})
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.4), gridspec_kw={"width_ratios": [3, 2]})
    markers = "osD^v<>p"
    for i, alpha in enumerate(alphas):
        line = sorted((r for r in rows if r["alpha"] == alpha), key=lambda r: r["resolution"])
        left.plot([r["resolution"] for r in line], [r["macs"] for r in line], marker=markers[i % len(markers)],
                  color=PALETTE[i % len(PALETTE)], linewidth=1.8, label=f"alpha {alpha:g}")
    from matplotlib.ticker import LogLocator, NullFormatter

    left.set_yscale("log")
    left.yaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
    left.yaxis.set_major_formatter(si_formatter())
    left.yaxis.set_minor_formatter(NullFormatter())
    left.set_xticks(resolutions)
    left.set_xlabel("input resolution (pixels, square)")
    left.set_ylabel("MACs per image (log scale)")
    left.set_title("MACs grow with alpha² and resolution²")
    left.legend(loc="lower right", fontsize=9)
    params = [next(r["params"] for r in rows if r["alpha"] == a) for a in alphas]
    right.plot(alphas, params, marker="o", color=PALETTE[2], linewidth=1.8)
    for a, p in zip(alphas, params):
        right.annotate(humanize_count(p), (a, p), xytext=(0, 6), textcoords="offset points", ha="center", fontsize=9)
    right.yaxis.set_major_formatter(si_formatter())
    right.set_xticks(alphas)
    right.set_xlabel("width multiplier alpha")
    right.set_ylabel("parameters (any resolution)")
    right.set_title("Params depend on alpha only")
    right.margins(x=0.12, y=0.15)
    fig.suptitle(title)
    fig.tight_layout()
    return save(fig, path)


def humanize_count(n: int) -> str:
    from .render import humanize

    return humanize(n)


def roofline_figure(layers: Sequence[dict], device, title: str):
    """Layers as points (intensity = FLOPs/byte, achieved FLOP/s at the predicted time) under the device's roofline."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(8, 5))
    points = [r for r in layers if r["flops"] > 0 and r["bytes"] > 0]
    lo = min([r["intensity"] for r in points] + [0.1]) / 2
    hi = max([r["intensity"] for r in points] + [100.0]) * 2
    xs = [lo * (hi / lo) ** (i / 200) for i in range(201)]
    for peak, bw, label, style in ((device.peak_flops, device.memory_bandwidth, "memory bandwidth", "-"),
                                   (device.peak_flops, device.cache_bandwidth, "cache bandwidth", "--")):
        if bw:
            ax.plot(xs, [min(peak, x * bw) for x in xs], color="#444444", linestyle=style, linewidth=1.2,
                    label=f"roofline, {label} {bw / 1e9:.0f} GB/s")
    if device.depthwise_flops:
        ax.axhline(device.depthwise_flops, color="#888888", linestyle="-.", linewidth=1,
                   label=f"depthwise ceiling {device.depthwise_flops / 1e9:.1f} GFLOP/s")
    types = list(dict.fromkeys(r["type"] for r in points))
    for colour, kind in zip(PALETTE * 3, types):
        sel = [r for r in points if r["type"] == kind]
        key = "measured_ms" if all("measured_ms" in r for r in sel) else "predicted_ms"
        ax.scatter([r["intensity"] for r in sel], [r["flops"] / (r[key] / 1e3) for r in sel], s=22, color=colour,
                   label=f"{kind} ({'measured' if key == 'measured_ms' else 'predicted'})", alpha=0.85)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.yaxis.set_major_formatter(si_formatter())
    ax.set_xlabel("arithmetic intensity (FLOPs / byte moved)")
    ax.set_ylabel("FLOP/s achieved (FLOPs / layer time)")
    ax.set_title(title)
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    return fig


def roofline_chart(layers: Sequence[dict], device, path: str | Path, title: str) -> Path:
    return save(roofline_figure(layers, device, title), path)


def latency_share_figure(shares: Sequence[dict], title: str):
    """Per layer type, side-by-side bars: share of all MACs and share of measured latency."""
    plt = _pyplot()
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


def latency_share_chart(shares: Sequence[dict], path: str | Path, title: str) -> Path:
    return save(latency_share_figure(shares, title), path)
