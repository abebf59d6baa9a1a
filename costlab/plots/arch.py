"""Charts of one network: MACs per layer, cost by stage, and width x resolution scaling."""

from __future__ import annotations

from typing import Optional, Sequence

from ..core.vocab import LAYER_TYPES as TYPE_LABELS
from ..io.render import humanize, share
from .base import PALETTE, log_axis, pyplot, si_formatter, type_colour, type_order


def _stage_spans(stages: Sequence[str]) -> list[tuple[str, int, int]]:
    """Consecutive runs of the same stage as (stage, first index, last index + 1)."""
    spans: list[tuple[str, int, int]] = []
    for i, stage in enumerate(stages):
        if spans and spans[-1][0] == stage:
            spans[-1] = (stage, spans[-1][1], i + 1)
        else:
            spans.append((stage, i, i + 1))
    return spans


STAGE_FONT = 8
STAGE_GAP_PX = 4.0  # least room between two stage numbers on one row


def _stage_rows(ax, renderer, centres: Sequence[float], labels: Sequence[str]) -> list[tuple[float, int]]:
    """Where each stage number goes: (x in display pixels, row from the top), first fit, left to right. A number
    keeps its stage's centre unless that would take it past the frame (it moves in just far enough); it goes on the
    first row where it clears every number already there by STAGE_GAP_PX."""
    frame = ax.get_window_extent(renderer)
    rows: list[list[tuple[float, float]]] = []
    placed = []
    for centre, label in zip(centres, labels):
        probe = ax.text(0, 0, label, fontsize=STAGE_FONT)
        half = probe.get_window_extent(renderer).width / 2
        probe.remove()
        x = ax.transData.transform((centre, 0))[0]
        x = min(max(x, frame.x0 + half + 1), frame.x1 - half - 1)
        lo, hi = x - half - STAGE_GAP_PX, x + half + STAGE_GAP_PX
        row = next((i for i, taken in enumerate(rows) if all(hi <= a or lo >= b for a, b in taken)), len(rows))
        if row == len(rows):
            rows.append([])
        rows[row].append((x - half, x + half))
        placed.append((x, row))
    return placed


def layer_chart(rows: Sequence, title: str, batch: int = 1):
    """MACs of every layer (Row) that has any, in execution order, one bar per layer coloured by layer type; stages
    shaded and numbered above the bars, on as many rows as the numbers need never to touch or leave the frame."""
    from matplotlib.patches import Patch
    from matplotlib.transforms import blended_transform_factory

    layers = [r for r in rows if r.macs]
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(10, 4.6))
    x = list(range(len(layers)))
    values = [layer.macs * batch for layer in layers]
    colours = [type_colour(layer.type) for layer in layers]
    # many thin bars: no antialiasing, or neighbouring bars blur into uneven stripes
    ax.bar(x, values, width=0.85 if len(layers) < 80 else 0.8, color=colours, linewidth=0,
           antialiased=len(layers) < 80)
    top = max(values) if values else 1
    spans = _stage_spans([layer.stage for layer in layers])
    # stages numbered as the stage tables number them, counting the stages without MACs (pools, a final BN + ReLU)
    number = {stage: i for i, stage in enumerate(dict.fromkeys(r.stage for r in rows))}
    for i, (stage, start, stop) in enumerate(spans):
        if i % 2:
            ax.axvspan(start - 0.5, stop - 0.5, color="#000000", alpha=0.06, linewidth=0)
    ax.set_xlim(-1.5, len(layers) + 0.5)
    ax.yaxis.set_major_formatter(si_formatter())
    ax.set_xlabel("layer (execution order; shaded bands and numbers above = stages, in order)")
    ax.set_ylabel("MACs per layer (batch 1)")
    ax.set_title(title)
    ax.grid(axis="x", visible=False)
    present = type_order(layer.type for layer in layers)
    ax.legend(handles=[Patch(color=type_colour(t), label=TYPE_LABELS.get(t, t)) for t in present], loc="upper left",
              ncol=len(present), fontsize=9, framealpha=0.9, bbox_to_anchor=(0, -0.13))
    centres = [(start + stop - 1) / 2 for _, start, stop in spans]
    labels = [str(number[stage]) for stage, _, _ in spans]
    # the rows of numbers need headroom above the tallest bar, and the headroom changes the tick labels and so the
    # axes' width and where the numbers fall: lay out until the number of rows settles
    renderer = fig.canvas.get_renderer()
    probe = ax.text(0, 0, "0", fontsize=STAGE_FONT)
    line = probe.get_window_extent(renderer).height
    probe.remove()
    fig.tight_layout()
    height = ax.get_window_extent(renderer).height or 1.0  # the title, x label and legend fix it: it stays
    needed, placed = 1, []
    for _ in range(4):
        band = (needed * line * 1.25 + line * 0.6) / height  # the rows, and a margin above the bars
        ax.set_ylim(0, top / (1 - band))
        fig.tight_layout()
        placed = _stage_rows(ax, renderer, centres, labels)
        rows_used = 1 + max((row for _, row in placed), default=0)
        if rows_used == needed:
            break
        needed = rows_used
    blend = blended_transform_factory(ax.transData, ax.transAxes)
    for (px, row), label in zip(placed, labels):
        x_data = ax.transData.inverted().transform((px, 0))[0]
        y = 1 - (line * 0.3 + (row + 0.5) * line * 1.25) / height
        ax.text(x_data, y, label, transform=blend, ha="center", va="center", fontsize=STAGE_FONT, color="#444444")
    return fig


def stage_chart(stages: Sequence, title: str, blocks: Optional[dict] = None):
    """Two horizontal bar panels, MACs and params per stage (Groups, top to bottom in execution order), each with its
    share; blocks (stage label -> what the stage is: 'inception_a', 'dense x6') goes beside each label."""
    from matplotlib.ticker import MaxNLocator

    plt = pyplot()
    blocks = blocks or {}
    labels = [f"{i}: {s.label}" + (f" ({blocks[s.label]})" if blocks.get(s.label) else "") for i, s in enumerate(stages)]
    fig, axes = plt.subplots(1, 2, figsize=(10, 0.32 * len(stages) + 1.6), sharey=True)
    for ax, key, label, colour in ((axes[0], "macs", "MACs (batch 1)", PALETTE[1]),
                                   (axes[1], "params", "Parameters", PALETTE[0])):
        values = [getattr(s, key) for s in stages]
        y = list(range(len(stages)))
        ax.barh(y, values, color=colour, height=0.7)
        total = sum(values) or 1
        for yi, value in zip(y, values):
            ax.annotate(share(value / total), (value, yi), xytext=(3, 0), textcoords="offset points", va="center",
                        fontsize=8)
        ax.set_xlim(0, max(values or [1]) * 1.22)
        ax.xaxis.set_major_locator(MaxNLocator(nbins=4))  # long SI labels ('400.0M') must not run together
        ax.xaxis.set_major_formatter(si_formatter())
        ax.set_xlabel(label)
        ax.set_title(label.split(" (")[0] + " by stage")
        ax.grid(axis="y", visible=False)
    axes[0].set_yticks(list(range(len(stages))), labels)
    axes[0].invert_yaxis()
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def scaling_chart(grid: Sequence, base_alpha: float, base_resolution: int, title: str):
    """MACs against input resolution, one line per width multiplier alpha (params in the legend); the default marked."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(8, 4.6))
    alphas = sorted({row.alpha for row in grid})
    markers = "osD^v<>"
    for i, alpha in enumerate(alphas):
        rows = sorted((r for r in grid if r.alpha == alpha), key=lambda r: r.resolution)
        params = rows[0].params
        ax.plot([r.resolution for r in rows], [r.macs for r in rows], marker=markers[i % len(markers)],
                color=PALETTE[i % len(PALETTE)], linewidth=1.8, label=f"alpha {alpha:g} ({humanize(params)} params)")
    base = [r for r in grid if r.alpha == base_alpha and r.resolution == base_resolution]
    if base:
        ax.plot([base[0].resolution], [base[0].macs], marker="*", markersize=16, color="#000000",
                linestyle="none", label=f"default ({base_resolution}, alpha {base_alpha:g})", zorder=5)
    ax.set_yscale("log")
    log_axis(ax.yaxis)
    resolutions = sorted({row.resolution for row in grid})
    ax.set_xticks(resolutions)
    ax.set_xlabel("input resolution (pixels, square)")
    ax.set_ylabel("MACs (batch 1, log scale)")
    ax.set_title(title)
    ax.legend(loc="upper left", fontsize=9, bbox_to_anchor=(1.01, 1.0))
    fig.tight_layout()
    return fig


def sweep_figure(rows: Sequence, title: str):
    """`costlab sweep --chart`: MACs against resolution (one line per alpha) and params against alpha (SweepPoints)."""
    plt = pyplot()
    alphas = sorted({r.alpha for r in rows})
    resolutions = sorted({r.resolution for r in rows})
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.4), gridspec_kw={"width_ratios": [3, 2]})
    markers = "osD^v<>p"
    for i, alpha in enumerate(alphas):
        line = sorted((r for r in rows if r.alpha == alpha), key=lambda r: r.resolution)
        left.plot([r.resolution for r in line], [float(r.macs) for r in line], marker=markers[i % len(markers)],
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
    params = [next(r.params for r in rows if r.alpha == a) for a in alphas]
    right.plot(alphas, params, marker="o", color=PALETTE[2], linewidth=1.8)
    for a, p in zip(alphas, params):
        right.annotate(humanize(p), (a, p), xytext=(0, 6), textcoords="offset points", ha="center", fontsize=9)
    right.yaxis.set_major_formatter(si_formatter())
    right.set_xticks(alphas)
    right.set_xlabel("width multiplier alpha")
    right.set_ylabel("parameters (any resolution)")
    right.set_title("Params depend on alpha only")
    right.margins(x=0.12, y=0.15)
    fig.suptitle(title)
    fig.tight_layout()
    return fig
