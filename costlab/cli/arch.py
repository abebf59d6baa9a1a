"""`costlab arch`, `costlab sweep`, `costlab list`: whole networks, analytic, no torch."""

from __future__ import annotations

import click

from ..core.checks import MAX_SIZE, multiplier, number_text, positive_int
from ..errors import CostlabError, require
from ..io.render import dims_text, emit, grouped_int, humanize, percent
from ..nets.registry import analyze_arch, get_arch, list_archs, with_width_rule
from ..nets.registry import sweep as sweep_points
from .options import FLOAT, INT, chart_option, convention_option, format_option, output, width_rule_option


def _plots():
    from ..plots import arch as charts

    return charts


def _blank_zero(n: int) -> str:
    return grouped_int(n) if n else ""


@click.command()
@click.argument("name", metavar="NAME|FILE.toml")
@click.option("--alpha", type=FLOAT, default=None, help="Width multiplier, relative to the named variant.")
@click.option("--resolution", type=INT, default=None, help="Input size R (square) [default: the paper's].")
@click.option("--rho", type=FLOAT, default=None, help="Resolution multiplier: R = round(rho * native).")
@click.option("--depth", type=FLOAT, default=None,
              help="Depth multiplier, relative to the variant's own: repeats per stage = ceil(n * depth).")
@width_rule_option
@convention_option
@click.option("--by", "by", type=click.Choice(["layer", "stage", "type"]), default="layer", show_default=True,
              help="One row per layer, per stage, or per layer type.")
@format_option
@click.option("--batch", type=INT, default=1, show_default=True, help="Batch size (MACs scale, params do not).")
@chart_option(help="Also draw MACs per layer, coloured by layer type, to FILE.png|.svg.")
def arch(name, alpha, resolution, rho, depth, width_rule, convention, by, fmt, batch, chart):
    """Whole-network cost: per-layer rows, totals, and the share of each layer type.

    Example: costlab arch mobilenet_v1 --alpha 0.75 --resolution 192
    """
    analysis = analyze_arch(name, alpha, resolution, rho, convention, batch, depth, width_rule)
    data = analysis.to_dict()
    by_type = analysis.grouped("type")
    if by != "layer":
        data["groups"] = [g.to_dict() for g in analysis.grouped(by)]
    rule = (f" (width rule {analysis.width_rule})"  # said whenever a width multiplier or rule was asked for
            if alpha is not None or width_rule is not None or analysis.width_rule != "torchvision" else "")
    depth_text = f", depth {depth:g}" if depth is not None else ""
    head = (f"{analysis.name}: input {analysis.batch}x{analysis.input_shape}, alpha {data['alpha']:g}{rule}"
            f"{depth_text}, convention {convention}")
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
        rows = [{**r, "stride": r["stride"] if r["kernel"] else "", "groups": r["groups"] if r["kernel"] else "",
                 "input_shape": row.in_shape.readable, "output_shape": row.out_shape.readable}
                for r, row in zip(rows, analysis.rows)]
        display[2:4] = [("input_shape", "input", None), ("output_shape", "output", None)]
    if fmt == "json":
        text = emit(fmt, rows, display, json_data=data)
    elif fmt == "csv":
        text = emit(fmt, rows, display)
    else:
        text = f"{head}\n\n" + emit(fmt, rows, display, footer=f"{totals}\n{shares}")
    output(text, (chart, lambda: _plots().layer_chart(analysis.rows, f"MACs per layer: {head}", analysis.batch)))


MAX_POINTS = 100  # values per list of a sweep


def _positive_list(text: str, what: str, kind: type) -> list:
    """'0.5,1.0' -> [0.5, 1.0] (kind float: multipliers) or '128,224' -> [128, 224] (kind int: resolutions)."""
    noun = "integers" if kind is int else "numbers"
    parts = text.split(",")
    require(len(parts) <= MAX_POINTS, f"{what} takes at most {MAX_POINTS} values, got {len(parts)}")
    values = []
    for part in parts:
        try:
            value = kind(number_text(part.strip(), what))
        except ValueError:
            raise CostlabError(f"{what} must be a comma-separated list of {noun}, got {part.strip()!r}") from None
        try:
            values.append(positive_int(value, what, MAX_SIZE) if kind is int else multiplier(value, what))
        except CostlabError as exc:  # name the value as typed, not as parsed (0, not 0.0)
            raise CostlabError(f"{str(exc).rsplit(', got', 1)[0]}, got {part.strip()!r}") from None
    return values


@click.command()
@click.argument("name", metavar="NAME|FILE.toml")
@click.option("--alpha", "alphas", default="0.25,0.5,0.75,1.0", show_default=True, help="Width multipliers, comma-separated.")
@click.option("--resolution", "resolutions", default=None,
              help="Input sizes, comma-separated  [default: the model's native resolution x 4/7 .. 8/7, as in reports].")
@width_rule_option
@convention_option
@format_option
@chart_option(help="Also draw MACs and params against alpha and resolution to FILE.png|.svg.")
def sweep(name, alphas, resolutions, width_rule, convention, fmt, chart):
    """alpha x resolution grid of params, MACs and FLOPs.

    Example: costlab sweep mobilenet_v1 --alpha 0.25,0.5,0.75,1.0 --resolution 128,160,192,224
    """
    alpha_list = _positive_list(alphas, "--alpha", float)
    arch_ = with_width_rule(get_arch(name), width_rule)
    if resolutions is None:
        from ..nets.registry import resolutions_around

        resolution_list = resolutions_around(arch_.resolution)
    else:
        resolution_list = _positive_list(resolutions, "--resolution", int)
    points = sweep_points(arch_, alpha_list, resolution_list, convention)
    rows = [p.to_dict() for p in points]
    display = [("alpha", "alpha", lambda a: f"{a:g}"), ("resolution", "resolution", str),
               ("params", "params", grouped_int), ("macs", "MACs", grouped_int), ("flops", "FLOPs", grouped_int)]
    text = emit(fmt, rows, display)
    heading = f"{arch_.name}, width rule {arch_.rules.width_rule}, convention {convention}"
    output(f"{heading}\n\n{text}" if fmt == "table" else text,
           (chart, lambda: _plots().sweep_figure(points, f"{arch_.name}: cost over width multiplier alpha and input "
                                                         f"resolution")))


@click.command("list")
@format_option
def list_command(fmt):
    """Built-in architectures with their family and native (paper) resolution."""
    rows = [a.to_dict() for a in list_archs()]
    display = [("name", "name", None), ("family", "family", None), ("resolution", "resolution", str)]
    click.echo(emit(fmt, rows, display))
