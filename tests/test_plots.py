"""Charts: same bytes twice (PNG and SVG), labels that do not overlap, the --chart paths still drawing."""

from __future__ import annotations

import itertools

import pytest

from costlab.plots.base import to_bytes
from costlab.plots.compare import breakeven_figure
from costlab.plots.index import pareto_chart
from costlab.report.model import ModelSummary
from costlab.nets.registry import analyze_arch, list_archs
from costlab.nets.compare import breakeven


def _figure():
    return breakeven_figure(breakeven(True, list(range(1, 17))), "5x5 vs 3x3x2")


@pytest.mark.parametrize("fmt", ["png", "svg"])
def test_same_bytes_twice(fmt):
    first, second = to_bytes(_figure(), fmt), to_bytes(_figure(), fmt)
    assert first == second
    # no date and no software version in the file: a matplotlib upgrade alone must not change reports
    assert b"<dc:date>" not in first and b"Software" not in first and b"Matplotlib v" not in first


def test_pareto_labels_do_not_overlap():
    from matplotlib.text import Text

    models = []
    for info in list_archs():
        a = analyze_arch(info.name)
        models.append(ModelSummary(info.name, info.family, a.resolution, a.params, a.macs, a.flops, None))
    fig = pareto_chart(models, "Pareto")
    ax = fig.axes[0]
    renderer = fig.canvas.get_renderer()
    frame = ax.get_window_extent(renderer)
    fig.canvas.draw()
    boxes = [Text.get_window_extent(t, renderer) for t in ax.texts]  # the text alone, not its leader line
    assert sorted(t.get_text() for t in ax.texts) == sorted(m.name for m in models)
    for a, b in itertools.combinations(boxes, 2):
        assert not a.overlaps(b), (a, b)
    for box in boxes:
        assert frame.x0 <= box.x0 and box.x1 <= frame.x1 and frame.y0 <= box.y0 and box.y1 <= frame.y1
    # no label hides a model's marker, and the legend names every family once, in the registry's order
    points = [ax.transData.transform((m.params, m.macs)) for m in models]
    for box, (x, y) in itertools.product(boxes, points):
        assert not box.contains(x, y), (box, x, y)
    # no leader line runs through another label
    for t, own in zip(ax.texts, boxes):
        if t.arrow_patch is not None:
            line = t.arrow_patch.get_path().interpolated(50).vertices
            for box in boxes:
                if box is not own:
                    assert not any(box.contains(x, y) for x, y in line), (t.get_text(), box)
    families = list(dict.fromkeys(info.family for info in list_archs()))
    assert [t.get_text() for t in ax.get_legend().get_texts()] == families + ["Pareto front"]
    import matplotlib.pyplot as plt

    plt.close(fig)


def test_chart_options_still_draw(tmp_path, run):
    png, svg = tmp_path / "c.png", tmp_path / "b.svg"
    assert run("compare", "conv", "dwsep", "--cin", "3", "--cout", "256", "--chart", str(png)).exit_code == 0
    assert run("breakeven", "--n", "1..16", "--chart", str(svg)).exit_code == 0
    assert png.read_bytes().startswith(b"\x89PNG") and b"<svg" in svg.read_bytes()


def _rgb(colour) -> tuple:
    from matplotlib.colors import to_rgb

    return tuple(round(c, 4) for c in to_rgb(colour))


def test_a_layer_type_has_one_colour_in_every_chart():
    """The bars of the per-layer charts and the points of the rooflines (two nets, two profiles) of one layer type
    share one colour, whatever types come first in a chart; the reviewer saw 'pointwise' red-orange, green and
    yellow in three rooflines."""
    import matplotlib.pyplot as plt

    from costlab.core.vocab import LAYER_TYPES
    from costlab.perf.devices import Device, load_device
    from costlab.perf.latency import latency_report
    from costlab.plots.arch import layer_chart
    from costlab.plots.base import TYPE_COLOURS, type_colour
    from costlab.plots.latency import roofline_figure

    seen: dict[str, set] = {}
    for name in ("efficientnet_b0", "googlenet", "resnext50_32x4d"):
        rows = [r for r in analyze_arch(name).rows if r.macs]
        fig = layer_chart(analyze_arch(name).rows, name)
        bars = fig.axes[0].containers[0].patches
        assert len(bars) == len(rows)
        for row, bar in zip(rows, bars):
            seen.setdefault(row.type, set()).add(_rgb(bar.get_facecolor()))
        plt.close(fig)
        # a calibrated-like profile with its own depthwise and 1x1 ceilings, and the shipped spec-sheet one
        for device in (load_device("jetson-nano"), Device("test", 200e9, 40e9, 5e-6, depthwise_flops=90e9,
                                                          pointwise_flops=150e9, cache_bytes=8e6,
                                                          cache_bandwidth=120e9)):
            fig = roofline_figure(latency_report(name, device).layers, device, name)
            for collection in fig.axes[0].collections:
                label = collection.get_label().split(" (")[0]
                kind = next(t for t, text in LAYER_TYPES.items() if text == label)
                seen.setdefault(kind, set()).update(_rgb(c) for c in collection.get_facecolors())
            plt.close(fig)
    assert {"pointwise", "depthwise", "conv", "grouped", "se", "linear"} <= set(seen)
    for kind, colours in seen.items():
        assert colours == {_rgb(TYPE_COLOURS[kind])}, kind
    # every type of the vocabulary has its own colour; one outside it gets the same fallback every time
    assert set(TYPE_COLOURS) == set(LAYER_TYPES) and len(set(TYPE_COLOURS.values())) == len(TYPE_COLOURS)
    assert type_colour("some_new_op") == type_colour("some_new_op") and "some_new_op" not in TYPE_COLOURS


def test_roofline_labels_its_roofs_with_the_profile_numbers():
    """jetson-nano's spec sheet: 235.9 GFLOP/s fp32 and 25.6 GB/s (the legend said '26 GB/s'). The flat roof carries
    the peak, the slanted one its bandwidth, turned to the line's angle; both inside the axes."""
    import math

    import matplotlib.pyplot as plt

    from costlab.perf.devices import load_device
    from costlab.perf.latency import latency_report
    from costlab.plots.latency import rate, roofline_figure

    device = load_device("jetson-nano")
    fig = roofline_figure(latency_report("mobilenet_v2", device).layers, device, "mobilenet_v2")
    ax = fig.axes[0]
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    texts = {t.get_text(): t for t in ax.texts}
    assert set(texts) == {"peak 235.9 GFLOP/s", "memory 25.6 GB/s"}
    assert "roofline, memory bandwidth 25.6 GB/s" in [t.get_text() for t in ax.get_legend().get_texts()]
    frame = ax.get_window_extent(renderer)
    for text in texts.values():
        box = text.get_window_extent(renderer)
        assert frame.x0 <= box.x0 and box.x1 <= frame.x1 and frame.y0 <= box.y0 and box.y1 <= frame.y1
    line = ax.lines[0].get_xydata()
    (x0, y0), (x1, y1) = ax.transData.transform(line[0]), ax.transData.transform(line[10])
    assert abs(texts["memory 25.6 GB/s"].get_rotation() - math.degrees(math.atan2(y1 - y0, x1 - x0))) < 0.5
    plt.close(fig)
    # three significant digits, four where the profile states four, never fewer
    assert [rate(v, "B/s") for v in (25.6e9, 204.8e9, 38_524_850_406.1, 1e9)] == \
        ["25.6 GB/s", "204.8 GB/s", "38.5 GB/s", "1 GB/s"]
    assert [rate(v, "FLOP/s") for v in (235.9e9, 5.888e12, 5.0176e12)] == \
        ["235.9 GFLOP/s", "5.888 TFLOP/s", "5.02 TFLOP/s"]


@pytest.mark.parametrize("kinds, cin, cout, size, scale", [
    # the seed's 5x5 against two 3x3 on one channel: 25 vs 18 params, 1,225 vs 882 MACs, a 1.4x span: linear
    (["conv:5", "conv:3x2"], 1, 1, 7, "linear"),
    # 512 -> 512: a full 3x3 conv has 9 * 512 = 4,608 times a depthwise 3x3's 4,608 params: log
    (["conv", "depthwise"], 512, 512, 56, "log"),
])
def test_compare_panels_go_to_a_log_axis_only_over_a_wide_span(kinds, cin, cout, size, scale):
    from costlab.nets.compare import compare, make_setting
    from costlab.plots.compare import compare_figure

    rows = compare(kinds, make_setting(cin, cout, 3, size, size, 1, False, 1, 6, None, None, None, None))
    fig = compare_figure(rows, "t")
    assert [ax.get_yscale() for ax in fig.axes] == [scale, scale]
    assert all(("log scale" in ax.get_ylabel()) == (scale == "log") for ax in fig.axes)
    fig.canvas.draw()
    labels = [t.get_text() for ax in fig.axes for t in ax.get_yticklabels() if t.get_text()]
    assert labels and not any("times" in s or "^" in s or "e+" in s for s in labels)  # no 2x10^1 mathtext, no 1e+03


def test_compare_ratio_labels_stay_readable():
    from costlab.plots.compare import ratio_text

    # 512 -> 512 3x3: depthwise / full = 1 / 512 = 0.001953125; full / depthwise = 512; a 4,608-fold span
    assert [ratio_text(v) for v in (1.0, 1 / 512, 512.0, 4608.0, 1e-5)] == ["1x", "0.00195x", "512x", "4,608x",
                                                                           "1.0e-05x"]
