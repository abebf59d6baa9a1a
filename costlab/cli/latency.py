"""`costlab latency`: memory traffic, arithmetic intensity and roofline latency per layer; --measure checks it."""

from __future__ import annotations

import click

from ..errors import CostlabError
from ..io.render import emit, grouped_int, humanize
from .options import chart_option, format_option, output


def _ms(value) -> str:
    return "" if value is None else f"{value:.3f}"


def _rho(value) -> str:
    return f"{value:.3f}"


@click.command()
@click.argument("name")
@click.option("--device", default="host", show_default=True,
              help="Device profile: host (calibrated here, cached), a shipped profile (see the error for names) or FILE.toml.")
@click.option("--measure", is_flag=True, help="Also time every layer with torch eager on this CPU and correlate.")
@click.option("--threads", type=int, default=1, show_default=True, help="torch CPU threads for calibration and timing.")
@click.option("--resolution", type=int, default=None, help="Input height and width  [default: the model's].")
@click.option("--dtype-bytes", type=int, default=4, show_default=True, help="Bytes per element (fp32 = 4).")
@click.option("--repeats", type=int, default=15, show_default=True, help="Timed forward passes (median) with --measure.")
@click.option("--recalibrate", is_flag=True, help="Measure the host profile again instead of using the cached one.")
@format_option
@chart_option(help="Draw the roofline to FILE.png|.svg.")
@chart_option("--share-chart", help="With --measure: MACs share vs latency share by layer type to FILE.png|.svg.")
def latency(name, device, measure, threads, resolution, dtype_bytes, repeats, recalibrate, fmt, chart, share_chart):
    """Per-layer MACs, bytes moved, intensity (FLOPs/byte), bound and roofline latency of NAME at batch 1.

    predicted_ms = overhead + max(FLOPs / peak, bytes / bandwidth) on the device profile. With
    --measure, each layer's median eager time, the whole model's, and the Spearman rank correlation of
    per-layer time with the prediction and with MACs alone.
    """
    from ..core.checks import positive_int
    from ..core.traffic import check_dtype_bytes
    from ..perf.devices import load_device
    from ..perf.latency import latency_report

    positive_int(threads, "--threads", 1024)
    check_dtype_bytes(dtype_bytes, "--dtype-bytes")
    positive_int(repeats, "--repeats", 10_000)
    if share_chart and not measure:
        raise CostlabError("--share-chart needs --measure (it compares MACs with measured time)")
    profile = load_device(device, threads, recalibrate)
    result = latency_report(name, profile, threads, resolution, measure, dtype_bytes, repeats)
    report = result.to_dict()
    layers = report["layers"]
    display = [("name", "layer", None), ("type", "type", None), ("macs", "MACs", grouped_int),
               ("bytes", "bytes", grouped_int), ("intensity", "FLOPs/byte", lambda v: f"{v:.2f}"),
               ("bound", "bound", None), ("predicted_ms", "predicted ms", _ms)]
    if measure:
        display.append(("measured_ms", "measured ms", _ms))
    if fmt == "json":
        text = emit(fmt, layers, display, json_data=report)
    elif fmt == "csv":
        columns = [k for k, _, _ in display]
        text = emit(fmt, [{k: r[k] for k in columns} for r in layers], display)
    else:
        text = emit(fmt, layers, display, footer=_footer(report))

    def roofline():
        from ..plots.latency import roofline_figure

        return roofline_figure(result.layers, profile, f"{report['name']} at {report['resolution']} on {profile.name}")

    def shares():
        from ..perf.latency import shares_by_type
        from ..plots.latency import latency_share_figure

        return latency_share_figure(shares_by_type(result.layers),
                                    f"{report['name']}: share of MACs vs share of measured time ({threads} thread(s))")

    output(text, (chart, roofline), (share_chart, shares))


def _footer(report: dict) -> str:
    lines = [f"{report['name']} at {report['resolution']}, device {report['device']}, {report['threads']} thread(s): "
             f"{humanize(report['macs'])} MACs, {humanize(report['bytes'])}B moved, "
             f"predicted {report['predicted_total_ms']:.2f} ms"]
    if "measured_total_ms" in report:
        lines.append(f"measured whole model {report['measured_total_ms']:.2f} ms "
                     f"(predicted / measured = {report['predicted_total_ms'] / report['measured_total_ms']:.3f})")
        if "torchvision_total_ms" in report:
            lines.append(f"torchvision's {report['name']}: {report['torchvision_total_ms']:.2f} ms")
        lines.append(f"Spearman per layer: predicted vs measured {_rho(report['spearman_predicted'])}, "
                     f"MACs vs measured {_rho(report['spearman_macs'])}")
    return "\n".join(lines)
