"""`costlab latency`: memory traffic, arithmetic intensity and roofline latency per layer; --measure checks it."""

from __future__ import annotations

import click
from click.core import ParameterSource

from ..errors import CostlabError
from ..io.render import counts_text, emit, grouped_int, humanize
from .options import INT, chart_option, format_option, output


def _ms(value) -> str:
    return "" if value is None else f"{value:.3f}"


def _rho(value) -> str:
    return "n/a" if value is None else f"{value:.3f}"


@click.command()
@click.argument("name")
@click.option("--device", default="host", show_default=True,
              help="Device profile: host (calibrated here, cached), a shipped profile (see the error for names) or FILE.toml.")
@click.option("--measure", is_flag=True, help="Also time every layer with torch eager on this CPU and correlate.")
@click.option("--threads", type=INT, default=1, show_default=True, help="torch CPU threads for calibration and timing.")
@click.option("--batch", type=INT, default=1, show_default=True, help="Images per forward pass.")
@click.option("--resolution", type=INT, default=None, help="Input height and width  [default: the model's; 224 for MODULE:CALLABLE].")
@click.option("--input", "input_text", default=None,
              help="MODULE:CALLABLE only: input shape N,C,H,W  [default: BATCH,3,RESOLUTION,RESOLUTION].")
@click.option("--dtype-bytes", type=INT, default=4, show_default=True, help="Bytes per element (fp32 = 4).")
@click.option("--repeats", type=INT, default=15, show_default=True, help="Timed forward passes (median) with --measure.")
@click.option("--recalibrate", is_flag=True, help="Measure the host profile again instead of using the cached one.")
@click.option("--strict", is_flag=True,
              help="MODULE:CALLABLE: exit 1 if the model runs an unpriced op (it computes and no rule prices it: an FFT, "
                   "a linalg solver, a custom autograd Function), as `costlab analyze --strict` does.")
@format_option
@chart_option(help="Draw the roofline to FILE.png|.svg.")
@chart_option("--share-chart", help="With --measure: MACs share vs latency share by layer type to FILE.png|.svg.")
def latency(name, device, measure, threads, batch, resolution, input_text, dtype_bytes, repeats, recalibrate, strict,
            fmt, chart, share_chart):
    """Per-layer MACs, bytes moved, intensity (FLOPs/byte), bound and roofline latency of NAME.

    \b
    NAME is a built-in architecture (costlab list), an architecture .toml, or MODULE:CALLABLE returning an nn.Module
    (traced with torch: one row per leaf module call, plus one per container that computes in its own forward).
    predicted_ms = overhead + max(FLOPs / peak, bytes / bandwidth) + workspace, weight-copy and first-touch terms, on
    the device profile; a conv's rate and fixed cost follow the kernel eager PyTorch picks for it (oneDNN or aten's
    own). With --measure, each row's median eager time (forward hooks; a container's add, multiply, concat or
    split timed around the op itself), the whole model's, and the Spearman rank correlation of per-layer time with
    the prediction and with MACs alone.

    \b
    The host profile (the default device) is calibrated, not looked up: torch microbenchmarks of generic shapes,
    never a network (dense, grouped and depthwise 3x3 convs, a grid of 16 1x1-conv GEMM shapes, 64 MiB and 4 MiB
    copies, each activation / BatchNorm / add / multiply / pool on a 1 MiB tensor, each layer type and a oneDNN conv
    on a tiny tensor, and a first-touch write of fresh pages): 1-3 s on a quiet machine, up to about 15 s at two
    threads on a busy one. It is cached as host-<threads>.toml in $COSTLAB_CACHE_DIR, else $XDG_CACHE_HOME/costlab,
    else ~/.cache/costlab, with the CPU model and torch version it was measured with; a cache from another CPU,
    torch version or thread count, or an older costlab, is stale and is measured again (a note on stderr says why).
    --recalibrate measures it again now.
    """
    from ..core.checks import MAX_SIZE, positive_int
    from ..core.shapes import parse_input_shape
    from ..core.traffic import check_dtype_bytes
    from ..perf.devices import load_device
    from ..perf.latency import check_run, latency_report

    check_dtype_bytes(dtype_bytes, "--dtype-bytes")
    positive_int(repeats, "--repeats", 10_000)
    if resolution is not None:
        positive_int(resolution, "--resolution", MAX_SIZE)
    dims = None if input_text is None else parse_input_shape(input_text, "--input", rank=4)
    check_run(name, threads, batch, dtype_bytes, measure, dims)
    if dims is not None and ((resolution is not None and dims[2:] != (resolution, resolution))
                             or batch not in (1, dims[0])):
        raise CostlabError(f"--input {input_text} disagrees with --batch {batch} or --resolution {resolution}; "
                           f"give one of them")
    if not measure and click.get_current_context().get_parameter_source("repeats") != ParameterSource.DEFAULT:
        raise CostlabError(f"--repeats {repeats} counts timed passes of --measure; without it nothing is timed")
    if share_chart and not measure:
        raise CostlabError("--share-chart needs --measure (it compares MACs with measured time)")
    if recalibrate and device != "host":
        raise CostlabError(f"--recalibrate measures the host profile; --device {device} is not calibrated here")
    profile = load_device(device, threads, recalibrate, notify=lambda note: click.echo(f"costlab: {note}", err=True))
    if not profile.eager_cpu and not measure and threads != 1:
        raise CostlabError(f"--threads {threads} changes nothing on {profile.name}, a spec sheet (the roofline and a "
                           f"fixed cost per op); it sets torch's threads for --measure and for the host profile")
    result = latency_report(name, profile, threads, resolution, measure, dtype_bytes, repeats, batch=batch,
                            input_dims=dims)
    report = result.to_dict()
    layers = report["layers"]
    display = [("name", "layer", None), ("type", "type", None), ("macs", "MACs", grouped_int),
               ("bytes", "bytes", grouped_int), ("intensity", "FLOPs/byte", lambda v: f"{v:.2f}"),
               ("bound", "bound", None), ("predicted_ms", "predicted ms", _ms)]
    if measure:
        display.append(("measured_ms", "measured ms", _ms))
    if any(r.get("note") for r in layers):
        display.append(("note", "note", None))
    if fmt == "json":
        text = emit(fmt, layers, display, json_data=report)
    elif fmt == "csv":
        columns = [k for k, _, _ in display]
        text = emit(fmt, [{k: r.get(k, "") for k in columns} for r in layers], display)
    else:
        align = None if display[-1][0] != "note" else ["left"] + ["right"] * (len(display) - 2) + ["left"]
        text = emit(fmt, [{"note": "", **r} for r in layers], display, footer=_footer(report, profile.eager_cpu),
                    align=align)

    def roofline():
        from ..plots.latency import roofline_figure

        return roofline_figure(result.layers, profile, f"{report['name']} at {report['resolution']} on {profile.name}")

    def shares():
        from ..perf.latency import shares_by_type
        from ..plots.latency import latency_share_figure

        return latency_share_figure(shares_by_type(result.layers),
                                    f"{report['name']}: share of MACs vs share of measured time ({threads} thread(s))")

    output(text, (chart, roofline), (share_chart, shares))
    if fmt == "csv" and "unpriced_ops" in report:
        click.echo(_unpriced_line(report), err=True)
    if strict and report.get("unpriced_ops"):
        click.echo(f"costlab: --strict: unpriced ops: {counts_text(report['unpriced_ops'])}", err=True)
        return 1
    return 0


def _unpriced_line(report: dict) -> str:
    return f"unpriced ops (no rule prices them; counted as 0): {counts_text(report['unpriced_ops'])}"


def _footer(report: dict, eager_cpu: bool) -> str:
    batch = f", batch {report['batch']}" if report["batch"] != 1 else ""
    measured = "measured_total_ms" in report
    threads = f", {report['threads']} thread(s)" if eager_cpu or measured else ""
    macs = f"{humanize(report['macs'])} MACs"
    if report.get("counted_macs", report["macs"]) != report["macs"]:  # some of what analyze counts has no time here
        macs = (f"{humanize(report['macs'])} MACs priced of the {humanize(report['counted_macs'])} counted "
                f"(the rest in unpriced ops)")
    lines = [f"{report['name']} at {report['resolution']}{batch}, device {report['device']}{threads}: "
             f"{macs}, {humanize(report['bytes'])}B moved, predicted {report['predicted_total_ms']:.2f} ms"]
    if measured:
        elsewhere = "" if eager_cpu else f"; predicted on {report['device']}, measured on this machine's CPU"
        lines.append(f"measured whole model {report['measured_total_ms']:.2f} ms "
                     f"(predicted / measured = {report['predicted_total_ms'] / report['measured_total_ms']:.3f}"
                     f"{elsewhere})")
        if "torchvision_total_ms" in report:
            lines.append(f"torchvision's {report['name']}: {report['torchvision_total_ms']:.2f} ms")
        lines.append(f"Spearman per layer: predicted vs measured {_rho(report['spearman_predicted'])}, "
                     f"MACs vs measured {_rho(report['spearman_macs'])}")
    if "unpriced_ops" in report:
        lines.append(_unpriced_line(report))
    return "\n".join(lines)
