"""The reports' index chart: every model at (params, MACs), labelled without overlaps, with the Pareto front."""

from __future__ import annotations

from typing import Sequence

from .base import PALETTE, log_axis, pyplot


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


def pareto_chart(models: Sequence, title: str):
    """Each model as a point at (params, MACs) on log-log axes, labelled; the Pareto front (no model both smaller and cheaper) joined."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(10, 7))
    families = list(dict.fromkeys(m.family for m in models))
    markers = "osD^v<>p"
    for i, family in enumerate(families):
        group = [m for m in models if m.family == family]
        ax.scatter([m.params for m in group], [m.macs for m in group], s=36, zorder=3,
                   color=PALETTE[i % len(PALETTE)], marker=markers[i % len(markers)], label=family)
    front = sorted((m for m in models
                    if not any(o.params <= m.params and o.macs <= m.macs and
                               (o.params, o.macs) != (m.params, m.macs) for o in models)),
                   key=lambda m: m.params)
    ax.plot([m.params for m in front], [m.macs for m in front], color="#777777", linestyle="--", linewidth=1,
            zorder=2, label="Pareto front (fewest MACs for the params)")
    ax.set_xscale("log")
    ax.set_yscale("log")
    log_axis(ax.xaxis)
    log_axis(ax.yaxis)
    ax.set_xlabel("parameters (log scale)")
    ax.set_ylabel("MACs at the default resolution (batch 1, log scale)")
    ax.set_title(title)
    xs = [m.params for m in models]
    ys = [m.macs for m in models]
    ax.set_xlim(min(xs) / 1.5, max(xs) * 1.6)
    ax.set_ylim(min(ys) / 1.8, max(ys) * 1.8)
    ax.legend(loc="upper left", fontsize=9)
    fig.tight_layout()
    legend_box = ax.get_legend().get_window_extent(fig.canvas.get_renderer())
    place_labels(fig, ax, xs, ys, [m.name for m in models], fontsize=8, avoid=[legend_box])
    return fig
