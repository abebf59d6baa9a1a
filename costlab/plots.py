"""matplotlib charts. Imported lazily: only commands given --chart (and reports) pay for matplotlib.

Charts are reproducible byte for byte: no timestamps or software tags in the metadata, fixed SVG hash salt.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

from .errors import CostlabError

# Okabe-Ito: distinguishable with the common colour-vision deficiencies
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000"]
CHART_SUFFIXES = (".png", ".svg")


def check_chart_path(path: str | Path) -> Path:
    """Reject a chart path costlab cannot write before any work is done."""
    p = Path(path)
    if p.suffix.lower() not in CHART_SUFFIXES:
        raise CostlabError(f"chart file {str(path)!r} must end in .png or .svg")
    if p.parent and not p.parent.exists():
        raise CostlabError(f"chart directory {str(p.parent)!r} does not exist")
    return p


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


def save(fig, path: str | Path) -> Path:
    """Write fig without date or software metadata, so the same chart is the same bytes."""
    p = Path(path)
    metadata = {"Date": None, "Creator": None} if p.suffix.lower() == ".svg" else {"Software": None}
    fig.savefig(p, metadata=metadata, bbox_inches="tight")
    import matplotlib.pyplot as plt

    plt.close(fig)
    return p


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
    plt = _pyplot()
    n = [r["n"] for r in rows]
    exact = [r["macs_5x5"] / r["macs_3x3x2"] for r in rows]
    simple = [r["simplified_5x5"] / r["simplified_3x3x2"] for r in rows]
    fig, ax = plt.subplots(figsize=(7.5, 4.2))
    ax.plot(n, exact, color=PALETTE[0], linewidth=2, label="exact (second 3x3 sees N channels)")
    ax.plot(n, simple, color=PALETTE[1], linewidth=2, linestyle="--", label="MnasNet simplification")
    ax.axhline(1.0, color="#444444", linewidth=1)
    ax.text(n[-1], 1.0, " break-even", va="bottom", ha="right", color="#444444", fontsize=9)
    for prev, row, ratio in zip(rows, rows[1:], exact[1:]):
        if row["cheaper"] != prev["cheaper"]:
            ax.axvline(row["n"], color=PALETTE[3], linestyle=":", linewidth=1)
            ax.annotate(f"flips at N={prev['n']}->{row['n']}", (row["n"], ratio), xytext=(8, 12),
                        textcoords="offset points", color=PALETTE[3], fontsize=9)
    ax.set_xlabel("output channels N")
    ax.set_ylabel("MACs of one 5x5 / MACs of two 3x3")
    ax.set_title(title)
    ax.legend(loc="best")
    fig.tight_layout()
    return save(fig, path)


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
