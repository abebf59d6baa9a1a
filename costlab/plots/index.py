"""The reports' index chart: every model at (params, MACs), labelled without overlaps, with the Pareto front."""

from __future__ import annotations

from typing import Sequence

from .base import log_axis, pyplot


def _overlaps(box, boxes) -> float:
    """Total overlapping area of a display-space box with a list of boxes."""
    area = 0.0
    for other in boxes:
        w = min(box.x1, other.x1) - max(box.x0, other.x0)
        h = min(box.y1, other.y1) - max(box.y0, other.y0)
        if w > 0 and h > 0:
            area += w * h
    return area


# label distances from the point tried, in points; neighbours within CROWD_PX pixels make a point crowded
RADII = (5, 12, 20, 30, 42, 56, 72, 90)
CROWD_PX = 60
LEADER_STEP_PX = 3.0  # a leader line is checked (and kept clear of later labels) at points this far apart


def _leader_points(box, point) -> list[tuple[float, float]]:
    """Points along the leader from a label's box centre to its point, outside the box and short of the point."""
    (x0, y0), (x1, y1) = ((box.x0 + box.x1) / 2, (box.y0 + box.y1) / 2), point
    n = max(2, int(((x1 - x0) ** 2 + (y1 - y0) ** 2) ** 0.5 / LEADER_STEP_PX))
    out = []
    for k in range(1, n - 1):
        x, y = x0 + (x1 - x0) * k / n, y0 + (y1 - y0) * k / n
        if not box.contains(x, y):
            out.append((x, y))
    return out


def place_labels(fig, ax, xs: Sequence[float], ys: Sequence[float], labels: Sequence[str], fontsize: int = 9,
                 avoid: Sequence = ()) -> None:
    """Label every point so that no label overlaps another label, a point, a leader line or the frame, and no
    leader line crosses a label or a point.

    Greedy and deterministic: the points with the most neighbours are labelled first (an isolated point
    finds room anywhere), each trying candidates at growing distances in eight directions; a label not
    right beside its point gets a thin leader line.
    """
    from matplotlib.transforms import Bbox

    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    frame = ax.get_window_extent(renderer)
    pts = [tuple(ax.transData.transform((x, y))) for x, y in zip(xs, ys)]
    pad = 4.0
    dots = [Bbox.from_extents(px - pad, py - pad, px + pad, py + pad) for px, py in pts]
    taken = list(avoid)  # placed labels, and boxes to keep clear
    leaders: list[tuple[float, float]] = []
    directions = [(1, 0, "left", "center"), (-1, 0, "right", "center"), (0, 1, "center", "bottom"),
                  (0, -1, "center", "top"), (1, 1, "left", "bottom"), (-1, 1, "right", "bottom"),
                  (1, -1, "left", "top"), (-1, -1, "right", "top")]
    crowd = [sum(1 for q in pts if abs(q[0] - p[0]) < CROWD_PX and abs(q[1] - p[1]) < CROWD_PX) for p in pts]
    order = sorted(range(len(labels)), key=lambda i: (-crowd[i], pts[i][0], pts[i][1]))
    for i in order:
        others = dots[:i] + dots[i + 1:]
        best = None
        for radius in RADII:
            for dx, dy, ha, va in directions:
                scale = 0.72 if dx and dy else 1.0
                offset = (dx * radius * scale, dy * radius * scale)
                text = ax.annotate(labels[i], (xs[i], ys[i]), xytext=offset, textcoords="offset points", ha=ha,
                                   va=va, fontsize=fontsize)
                box = text.get_window_extent(renderer).expanded(1.06, 1.12)
                text.remove()
                inside = frame.x0 <= box.x0 and box.x1 <= frame.x1 and frame.y0 <= box.y0 and box.y1 <= frame.y1
                score = _overlaps(box, taken + others) + (0 if inside else 1e9)
                score += 10 * sum(1 for x, y in leaders if box.contains(x, y))
                line = _leader_points(box, pts[i]) if radius > RADII[0] else []
                if score == 0 and line:  # a leader crossing a label or another point is as bad as an overlap
                    score += 10 * sum(1 for x, y in line for b in taken + others if b.contains(x, y))
                if best is None or score < best[0]:
                    best = (score, offset, ha, va, box, radius, line)
                if score == 0:
                    break
            if best[0] == 0:
                break
        _, offset, ha, va, box, radius, line = best
        arrow = ({"arrowstyle": "-", "color": "#777777", "linewidth": 0.6, "shrinkA": 0, "shrinkB": 3}
                 if radius > RADII[0] else None)
        ax.annotate(labels[i], (xs[i], ys[i]), xytext=offset, textcoords="offset points", ha=ha, va=va,
                    fontsize=fontsize, arrowprops=arrow)
        taken.append(box)
        leaders += line


def pareto_front(models: Sequence) -> list:
    """The models (anything with params and macs) no other model beats on both, one of them strictly; by params."""
    return sorted((m for m in models
                   if not any(o.params <= m.params and o.macs <= m.macs and (o.params, o.macs) != (m.params, m.macs)
                              for o in models)), key=lambda m: (m.params, m.macs))


# families told apart by colour and marker together: tab10's hues, six more dark ones (pale colours vanish on
# white), then tab20's light hues; with 11 markers the pairs stay distinct
FAMILY_COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22",
                  "#17becf", "#000000", "#b8860b", "#4b0082", "#008080", "#800000", "#556b2f", "#aec7e8", "#ffbb78",
                  "#98df8a", "#ff9896"]
FAMILY_MARKERS = "osD^v<>pPXh"


def pareto_chart(models: Sequence, title: str):
    """Each model as a point at (params, MACs) on log-log axes, coloured and shaped by family (legend outside the
    axes), labelled without overlaps; the Pareto front (no model both smaller and cheaper) joined."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(13, 9))
    families = list(dict.fromkeys(m.family for m in models))
    for i, family in enumerate(families):
        group = [m for m in models if m.family == family]
        ax.scatter([m.params for m in group], [m.macs for m in group], s=34, zorder=3,
                   color=FAMILY_COLOURS[i % len(FAMILY_COLOURS)], marker=FAMILY_MARKERS[i % len(FAMILY_MARKERS)],
                   label=family)
    front = pareto_front(models)
    ax.plot([m.params for m in front], [m.macs for m in front], color="#777777", linestyle="--", linewidth=1,
            zorder=2, label="Pareto front")
    ax.set_xscale("log")
    ax.set_yscale("log")
    log_axis(ax.xaxis)
    log_axis(ax.yaxis)
    ax.set_xlabel("parameters (log scale)")
    ax.set_ylabel("MACs at the default resolution (batch 1, log scale)")
    ax.set_title(title)
    xs = [m.params for m in models]
    ys = [m.macs for m in models]
    ax.set_xlim(min(xs) / 1.6, max(xs) * 1.8)
    ax.set_ylim(min(ys) / 1.8, max(ys) * 1.8)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=9, title="family", title_fontsize=9)
    fig.tight_layout()
    place_labels(fig, ax, xs, ys, [m.name for m in models], fontsize=7)
    return fig
