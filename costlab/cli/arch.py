"""`costlab arch`, `costlab sweep`, `costlab list`: whole networks, analytic, no torch."""

from __future__ import annotations

import click

from ..errors import CostlabError
from ..io.render import dims_text, emit, grouped_int, humanize, percent
from ..nets.registry import analyze_arch, get_arch, list_archs
from ..nets.registry import sweep as sweep_points
from .options import chart_option, convention_option, format_option


def _blank_zero(n: int) -> str:
    return grouped_int(n) if n else ""


@click.command()
@click.argument("name", metavar="NAME|FILE.toml")
@click.option("--alpha", type=float, default=None, help="Width multiplier, relative to the named variant.")
@click.option("--resolution", type=int, default=None, help="Input size R (square) [default: the paper's].")
@click.option("--rho", type=float, default=None, help="Resolution multiplier: R = round(rho * native).")
@click.option("--depth", type=float, default=None,
              help="Depth multiplier, relative to the variant's own: repeats per stage = ceil(n * depth).")
@convention_option
@click.option("--by", "by", type=click.Choice(["layer", "stage", "type"]), default="layer", show_default=True,
              help="One row per layer, per stage, or per layer type.")
@format_option
@click.option("--batch", type=int, default=1, show_default=True, help="Batch size (MACs scale, params do not).")
@chart_option(help="Also draw MACs per layer, coloured by layer type, to FILE.png|.svg.")
def arch(name, alpha, resolution, rho, depth, convention, by, fmt, batch, chart):
    """Whole-network cost: per-layer rows, totals, and the share of each layer type.

    Example: costlab arch mobilenet_v1 --alpha 0.75 --resolution 192
    """
    analysis = analyze_arch(name, alpha, resolution, rho, convention, batch, depth)
    data = analysis.to_dict()
    by_type = analysis.grouped("type")
    if by != "layer":
        data["groups"] = [g.to_dict() for g in analysis.grouped(by)]
    head = (f"{analysis.name}: input {analysis.batch}x{analysis.input_shape}, alpha {data['alpha']:g}, "
            f"convention {convention}")
    totals = (f"total: {grouped_int(analysis.params)} params ({humanize(analysis.params)}), "
              f"{grouped_int(analysis.macs)} MACs ({humanize(analysis.macs)}), "
              f"{grouped_int(analysis.flops)} FLOPs ({humanize(analysis.flops)})")
    shares = "MACs by layer type: " + ", ".join(
        f"{g.description} {percent(g.macs_share)}" for g in sorted(by_type, key=lambda g: -g.macs) if g.macs)
    if by == "layer":
        rows = data["layers"]
        display = [("name", "layer", None), ("type", "type", None), ("input_shape", "input", dims_text),
                   ("output_shape", "output", dims_text), ("kernel", "kernel", None), ("stride", "stride", str),
                   ("groups", "groups", str), ("params", "params", _blank_zero), ("macs", "MACs", _blank_zero)]
    else:
        rows = data["groups"]
        if by == "type":
            rows = [{**g.to_dict(), "label": g.description} for g in analysis.grouped("type")]
        display = [(by, by, None), *([("label", "what", None)] if by == "type" else []),
                   ("params", "params", grouped_int), ("params_share", "params %", percent),
                   ("macs", "MACs", grouped_int), ("macs_share", "MACs %", percent)]
    if by == "layer" and fmt in ("table", "markdown"):  # stride and groups only mean something for conv/pool rows
        rows = [{**r, "stride": r["stride"] if r["kernel"] else "", "groups": r["groups"] if r["kernel"] else ""}
                for r in rows]
    if fmt == "json":
        click.echo(emit(fmt, rows, display, json_data=data))
    elif fmt == "csv":
        click.echo(emit(fmt, rows, display))
    else:
        text = emit(fmt, rows, display, footer=f"{totals}\n{shares}")
        click.echo(f"{head}\n\n{text}")
    if chart:
        from ..plots.arch import layer_chart
        from ..plots.base import save

        save(layer_chart(analysis.rows, f"MACs per layer: {head}", analysis.batch), chart)


def _positive_list(text: str, what: str, kind: type) -> list:
    """'0.5,1.0' -> [0.5, 1.0] (kind float) or '128,224' -> [128, 224] (kind int); every value finite and > 0."""
    noun = "integers" if kind is int else "numbers"
    values = []
    for part in text.split(","):
        try:
            value = kind(part)
        except ValueError:
            raise CostlabError(f"{what} must be a comma-separated list of {noun}, got {part.strip()!r}") from None
        if not value > 0 or value == float("inf"):  # also refuses nan, which compares false
            raise CostlabError(f"{what} must be positive {noun}, got {part.strip()!r}")
        values.append(value)
    return values


@click.command()
@click.argument("name", metavar="NAME|FILE.toml")
@click.option("--alpha", "alphas", default="0.25,0.5,0.75,1.0", show_default=True, help="Width multipliers, comma-separated.")
@click.option("--resolution", "resolutions", default="128,160,192,224", show_default=True,
              help="Input sizes, comma-separated.")
@convention_option
@format_option
@chart_option(help="Also draw MACs and params against alpha and resolution to FILE.png|.svg.")
def sweep(name, alphas, resolutions, convention, fmt, chart):
    """alpha x resolution grid of params, MACs and FLOPs.

    Example: costlab sweep mobilenet_v1 --alpha 0.25,0.5,0.75,1.0 --resolution 128,160,192,224
    """
    alpha_list = _positive_list(alphas, "--alpha", float)
    resolution_list = _positive_list(resolutions, "--resolution", int)
    arch_ = get_arch(name)
    points = sweep_points(arch_, alpha_list, resolution_list, convention)
    rows = [p.to_dict() for p in points]
    display = [("alpha", "alpha", lambda a: f"{a:g}"), ("resolution", "resolution", str),
               ("params", "params", grouped_int), ("macs", "MACs", grouped_int), ("flops", "FLOPs", grouped_int)]
    text = emit(fmt, rows, display)
    click.echo(f"{arch_.name}, convention {convention}\n\n{text}" if fmt == "table" else text)
    if chart:
        from ..plots.arch import sweep_chart

        sweep_chart(points, chart, f"{arch_.name}: cost over width multiplier alpha and input resolution")


@click.command("list")
@format_option
def list_command(fmt):
    """Built-in architectures with their family and native (paper) resolution."""
    rows = [a.to_dict() for a in list_archs()]
    display = [("name", "name", None), ("family", "family", None), ("resolution", "resolution", str)]
    click.echo(emit(fmt, rows, display))
