"""What every chart shares: matplotlib set up headless and reproducible, the palette, saving without metadata.

matplotlib is imported only when a chart is drawn: only commands given --chart (and reports) pay for it.
Charts are reproducible byte for byte: no timestamps or software tags in the metadata, fixed SVG hash salt.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

from ..core.vocab import LAYER_TYPES
from ..errors import CostlabError
from ..io.files import writable_file, write_whole
from ..io.render import UNITS

# Okabe-Ito: distinguishable with the common colour-vision deficiencies
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000"]
CHART_SUFFIXES = (".png", ".svg")

# One colour per layer type (core.vocab.LAYER_TYPES), the same in every chart that colours by type. The types that
# carry MACs take Okabe-Ito's hues (its yellow is left out: too light on white); the rest Paul Tol's muted and dark
# hues, none repeated.
TYPE_COLOURS = {
    "pointwise": PALETTE[0],
    "depthwise": PALETTE[1],
    "conv": PALETTE[3],
    "grouped": PALETTE[4],
    "se": PALETTE[5],
    "linear": PALETTE[2],
    "bn": "#999933",
    "act": "#000000",
    "pool": "#661100",
    "add": "#44AA99",
    "mul": "#6699CC",
    "flatten": "#888888",
    "concat": "#117733",
    "split": "#AA4466",
    "shuffle": "#4477AA",
    "pad": "#BBBBBB",
    "transposed": "#882255",
    "matmul": "#332288",
    "attention": "#AA4499",
    "norm": "#DDCC77",
    "upsample": "#555555",
}
# a type outside the vocabulary (a tracer's new kind of layer): one of these, picked from its name's CRC, so it is
# the same colour in every chart and every run (Python's own hash() of a string changes from run to run)
FALLBACK_COLOURS = ("#7F7F7F", "#A6761D", "#1B9E77", "#7570B3", "#E7298A", "#66A61E")
assert set(TYPE_COLOURS) == set(LAYER_TYPES), "every layer type needs its colour"
assert len(set(TYPE_COLOURS.values())) == len(TYPE_COLOURS), "two layer types share a colour"


def type_colour(layer_type: str) -> str:
    """The colour of a layer type in every chart: its own, or a fixed fallback for a type outside the vocabulary."""
    if layer_type in TYPE_COLOURS:
        return TYPE_COLOURS[layer_type]
    import zlib

    return FALLBACK_COLOURS[zlib.crc32(layer_type.encode()) % len(FALLBACK_COLOURS)]


def type_order(types) -> list[str]:
    """Layer types each once, in the vocabulary's order (unknown ones after, alphabetically): legends list the
    types in the same order in every chart."""
    rank = {t: i for i, t in enumerate(LAYER_TYPES)}
    return sorted(set(types), key=lambda t: (rank.get(t, len(rank)), t))


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


def si_tick(value: float) -> str:
    """A tick label in one SI form for every axis: 0, 500, 10K, 40K, 2.5M, 1G; at most three significant digits,
    no trailing zeros."""
    if not value:
        return "0"
    size = abs(value)
    for limit, suffix in UNITS:
        text = f"{value / limit:.3g}"
        if size >= limit * 0.9995 and "e" not in text:
            return text + suffix
    return f"{value:.3g}"


def si_formatter():
    from matplotlib.ticker import FuncFormatter

    return FuncFormatter(lambda v, _pos: si_tick(v))


def plain_formatter():
    """Numbers as written (0.1, 1, 10, 100), not 10^k, for log axes of small numbers."""
    from matplotlib.ticker import FuncFormatter

    return FuncFormatter(lambda v, _pos: f"{v:g}")


def log_axis(axis, decades: float = 0.0) -> None:
    """Log-scale ticks with SI labels and no minor labels: at 1, 2 and 5 x 10^k over up to four decades (decades:
    the span of the data, log10(max / min)), at powers of ten over more, where 1-2-5 would crowd."""
    from matplotlib.ticker import LogLocator, NullFormatter

    axis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0) if decades <= 4 else (1.0,)))
    axis.set_major_formatter(si_formatter())
    axis.set_minor_formatter(NullFormatter())
