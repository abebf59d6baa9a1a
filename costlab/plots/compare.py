"""Charts of `costlab compare` and `costlab breakeven`, and the depthwise-separable ratio of the reports' index."""

from __future__ import annotations

import math
from typing import Sequence

from .base import PALETTE, log_axis, pyplot, si_formatter

LOG_SPAN = 20.0  # largest / smallest bar beyond which a panel goes to a log axis


def ratio_text(ratio: float) -> str:
    """A bar's ratio to the first: '0.119x', '3.89x', '1,000x' (never '1e+03x'); below 0.001, '2.0e-05x'."""
    if ratio >= 1000:
        return f"{ratio:,.0f}x"
    return f"{ratio:.1e}x" if 0 < ratio < 0.001 else f"{ratio:.3g}x"


def compare_figure(rows: Sequence, title: str):
    """Two bar panels, params and MACs per KIND (Compared results), each bar labelled with its ratio to the first KIND;
    a panel whose bars span more than LOG_SPAN is drawn on a log axis, says so, and labels ticks in one SI form."""
    plt = pyplot()
    names = [r.name for r in rows]
    fig, axes = plt.subplots(1, 2, figsize=(max(7.0, 1.6 * len(rows) + 4), 4.2))
    for ax, key, label, colour in ((axes[0], "params", "Parameters", PALETTE[0]),
                                   (axes[1], "macs", "Multiply-accumulates (MACs)", PALETTE[1])):
        values = [float(getattr(r, key)) for r in rows]  # floats: matplotlib's integer paths stop at 2**63
        bars = ax.bar(names, values, color=colour)
        # bar heights read as ratios on a linear axis; a log axis only where the bars span more than LOG_SPAN
        # (and none is 0, which a log axis cannot draw)
        span = max(values) / min(values) if min(values) > 0 else 0.0
        if span > LOG_SPAN:
            ax.set_yscale("log")
            log_axis(ax.yaxis, math.log10(span))
        else:
            ax.yaxis.set_major_formatter(si_formatter())
        ax.set_ylabel(f"{label} (log scale)" if span > LOG_SPAN else label)
        ax.set_title(label)
        base = values[0] or 1
        for bar, value in zip(bars, values):
            ax.annotate(ratio_text(value / base), (bar.get_x() + bar.get_width() / 2, value),
                        ha="center", va="bottom", fontsize=9, xytext=(0, 2), textcoords="offset points")
        ax.tick_params(axis="x", rotation=20 if len(rows) > 3 else 0)
        ax.margins(y=0.15)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def breakeven_figure(rows: Sequence, title: str):
    """MAC ratio one 5x5 / two 3x3 against output width N (BreakEven rows): exact and MnasNet-simplified, 1.0 =
    break-even."""
    plt = pyplot()
    n = [r.n for r in rows]
    exact = [r.macs_5x5 / r.macs_3x3x2 for r in rows]
    simple = [r.simplified_5x5 / r.simplified_3x3x2 for r in rows]
    fig, ax = plt.subplots(figsize=(7.5, 4.2))
    ax.plot(n, exact, color=PALETTE[0], linewidth=2, label="exact (second 3x3 sees N channels)")
    ax.plot(n, simple, color=PALETTE[1], linewidth=2, linestyle="--", label="MnasNet simplification")
    ax.axhline(1.0, color="#444444", linewidth=1)
    ax.text(n[-1], 1.0, " break-even", va="bottom", ha="right", color="#444444", fontsize=9)
    # one note for all changes of the cheaper choice: an exact tie makes two flips one N apart
    from ..nets.compare import runs

    equal = [r.n for r in rows if r.cheaper == "equal"]
    changes = runs(list(rows))[1:]  # each new run starts where the cheaper choice changed
    for mark in equal or [run.first for run in changes]:
        ax.axvline(mark, color=PALETTE[3], linestyle=":", linewidth=1)
    if changes:
        lines = [f"equal cost at N={', '.join(map(str, equal))}"] if equal else []
        lines += [f"{run.choice} cheaper from N={run.first}" for run in changes if run.choice != "equal"]
        first = changes[0].first
        ax.annotate("\n".join(lines), (first, exact[n.index(first)]), xytext=(12, 14), textcoords="offset points",
                    color=PALETTE[3], fontsize=9)
    ax.set_xlabel("output channels N")
    ax.set_ylabel("MACs of one 5x5 / MACs of two 3x3")
    ax.set_title(title)
    ax.legend(loc="best")
    fig.tight_layout()
    return fig


def ratio_chart(rows: Sequence, title: str):
    """MACs of a kxk depthwise-separable conv over a full kxk conv, against output channels N, one line per k."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(8, 4.6))
    kernels = sorted({r.k for r in rows})
    for i, k in enumerate(kernels):
        line = sorted((r for r in rows if r.k == k), key=lambda r: r.n)
        colour = PALETTE[i % len(PALETTE)]
        ax.plot([r.n for r in line], [r.ratio for r in line], color=colour, linewidth=2, marker=".",
                label=f"k = {k}")
        ax.axhline(1 / k ** 2, color=colour, linestyle=":", linewidth=1)
        # at the left end the curves are far above their asymptotes, so the labels stay clear of them
        ax.text(line[0].n, 1 / k ** 2, f" limit 1/k^2 = 1/{k * k}", color=colour, ha="left", va="bottom",
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
