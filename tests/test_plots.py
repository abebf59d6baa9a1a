"""Charts: same bytes twice (PNG and SVG), labels that do not overlap, the --chart paths still drawing."""

from __future__ import annotations

import itertools

import pytest

from costlab.plots.base import to_bytes
from costlab.plots.compare import breakeven_figure
from costlab.plots.index import pareto_chart
from costlab.report.model import ModelSummary
from costlab.nets.registry import analyze_arch
from costlab.nets.compare import breakeven
from costlab.report.generate import mbconv_models


def _figure():
    return breakeven_figure(breakeven(True, list(range(1, 17))), "5x5 vs 3x3x2")


@pytest.mark.parametrize("fmt", ["png", "svg"])
def test_same_bytes_twice(fmt):
    first, second = to_bytes(_figure(), fmt), to_bytes(_figure(), fmt)
    assert first == second
    # no date and no software version in the file: a matplotlib upgrade alone must not change reports
    assert b"<dc:date>" not in first and b"Software" not in first and b"Matplotlib v" not in first


def test_pareto_labels_do_not_overlap():
    models = []
    for name in mbconv_models():
        a = analyze_arch(name)
        models.append(ModelSummary(name, name.rsplit("_", 1)[0], a.resolution, a.params, a.macs, a.flops, None))
    fig = pareto_chart(models, "Pareto")
    ax = fig.axes[0]
    renderer = fig.canvas.get_renderer()
    frame = ax.get_window_extent(renderer)
    boxes = [t.get_window_extent(renderer) for t in ax.texts]
    assert sorted(t.get_text() for t in ax.texts) == sorted(m.name for m in models)
    for a, b in itertools.combinations(boxes, 2):
        assert not a.overlaps(b), (a, b)
    for box in boxes:
        assert frame.x0 <= box.x0 and box.x1 <= frame.x1 and frame.y0 <= box.y0 and box.y1 <= frame.y1
    import matplotlib.pyplot as plt

    plt.close(fig)


def test_chart_options_still_draw(tmp_path, run):
    png, svg = tmp_path / "c.png", tmp_path / "b.svg"
    assert run("compare", "conv", "dwsep", "--cin", "3", "--cout", "256", "--chart", str(png)).exit_code == 0
    assert run("breakeven", "--n", "1..16", "--chart", str(svg)).exit_code == 0
    assert png.read_bytes().startswith(b"\x89PNG") and b"<svg" in svg.read_bytes()
