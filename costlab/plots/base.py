"""What every chart shares: matplotlib set up headless and reproducible, the palette, saving without metadata.

matplotlib is imported only when a chart is drawn: only commands given --chart (and reports) pay for it.
Charts are reproducible byte for byte: no timestamps or software tags in the metadata, fixed SVG hash salt.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

from ..errors import CostlabError
from ..io.files import writable_file, write_whole
from ..io.render import humanize

# Okabe-Ito: distinguishable with the common colour-vision deficiencies
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000"]
CHART_SUFFIXES = (".png", ".svg")


def check_chart_path(path: str | Path) -> Path:
    """Reject a chart path costlab cannot write before any work is done."""
    if Path(path).suffix.lower() not in CHART_SUFFIXES:
        raise CostlabError(f"chart file {str(path)!r} must end in .png or .svg")
    return writable_file(path, "chart file")


def pyplot():
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


def to_bytes(fig, fmt: str = "png", dpi: Optional[int] = None) -> bytes:
    """The chart as file bytes without date or software metadata, so the same chart is the same bytes."""
    import io

    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    kwargs = {"dpi": dpi} if dpi else {}
    fig.savefig(buf, format=fmt, metadata=_metadata(fmt), bbox_inches="tight", **kwargs)
    plt.close(fig)
    return buf.getvalue()


def render(figure, path: str | Path) -> bytes:
    """The file bytes of the chart figure() draws, in the format path's suffix names; a chart matplotlib cannot draw
    (values beyond what it can place on an axis) is a CostlabError, not a traceback."""
    p = Path(path)
    try:
        return to_bytes(figure(), p.suffix.lower().lstrip("."))
    except (OverflowError, ValueError, MemoryError) as exc:
        import matplotlib.pyplot as plt

        plt.close("all")
        raise CostlabError(f"cannot draw chart {str(p)!r}: {type(exc).__name__}: {exc}") from None


def save(fig, path: str | Path) -> Path:
    """Render fig in memory, then write the file whole (io.files.write_whole): a failed write leaves nothing behind."""
    p = Path(path)
    return write_whole(p, to_bytes(fig, p.suffix.lower().lstrip(".")), "chart file")


def si_formatter():
    from matplotlib.ticker import FuncFormatter

    return FuncFormatter(lambda v, _pos: humanize(v) if v else "0")


def log_axis(axis) -> None:
    """Log-scale ticks at 1, 2 and 5 x 10^k with SI labels, no crowded minor labels."""
    from matplotlib.ticker import LogLocator, NullFormatter

    axis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    axis.set_major_formatter(si_formatter())
    axis.set_minor_formatter(NullFormatter())
