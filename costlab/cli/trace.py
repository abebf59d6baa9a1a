"""`costlab crosscheck` and `costlab analyze`: real models traced and counted (torch is imported only when they run)."""

from __future__ import annotations

import sys

import click

from ..core.conventions import CONVENTIONS
from ..io.render import counts_text, dims_text, emit, grouped_int, humanize, to_json
from ..extras import require
from .options import INT, format_option

TRACER_HELP = ("fvcore: FlopCountAnalysis vs the 'fvcore' convention; torch: FlopCounterMode/2 vs 'paper'; "
               "ptflops, thop: those tools' own hooks vs the conventions of the same names.")


def _signed(n: int) -> str:
    return "0" if n == 0 else f"{n:+,}"


def _summary(result) -> str:
    verdict = "OK" if result.ok else f"{result.mismatches} MISMATCH{'ES' if result.mismatches > 1 else ''}"
    return (f"{result.name} @{result.resolution} [{result.source}, tracer {result.tracer} vs convention "
            f"{result.convention}]: analytic {grouped_int(result.analytic_macs)} MACs, traced "
            f"{grouped_int(result.traced_macs)} MACs, params {grouped_int(result.analytic_params)} / "
            f"{grouped_int(result.traced_params)}; {len(result.layers)} layers, {verdict}; "
            f"uncounted ops: {counts_text(result.uncounted)}" + "".join(f"\nnote: {n}" for n in result.notes))


LAYER_DISPLAY = [
    ("name", "layer", None),
    ("traced_name", "traced module", None),
    ("analytic_macs", "analytic MACs", grouped_int),
    ("traced_macs", "traced MACs", grouped_int),
    ("difference", "difference", _signed),
    ("problem", "problem", None),
]


@click.command()
@click.argument("name", metavar="NAME|all")
@click.option("--tracer", type=click.Choice(["fvcore", "torch", "ptflops", "thop"]), default="fvcore", show_default=True,
              help=TRACER_HELP)
@click.option("--resolution", type=INT, default=None, help="Input size  [default: each model's native resolution].")
@click.option("--source", type=click.Choice(["torchvision", "timm", "costlab"]), default=None,
              help="Trace torchvision's model (weights=None), timm's (pretrained=False: MixNet, Xception) or costlab's "
                   "own builder  [default: torchvision's or timm's where it has the model, costlab's for the others "
                   "and for FILE.toml].")
@click.option("--strict", is_flag=True, help="Also exit 1 if the tracer left any op uncounted (activations, add, mul...).")
@format_option
def crosscheck(name, tracer, resolution, source, strict, fmt):
    """Analytic MACs against a real trace, layer by layer; exit 1 on any mismatch.

    Builds the real model, traces it at batch 1, aligns traced leaf modules with costlab's analytic
    rows in execution order (op type and input/output shapes must agree, so a misalignment is
    reported, not hidden) and compares MACs and params per layer. Ops the tracer did not count are
    listed by name. `all` is every built-in model (`costlab list`), each traced from torchvision's
    model where torchvision has it, timm's for the models timm has (when timm is installed), and
    costlab's own build otherwise (`--source torchvision` / `timm`: only the models that source has); its table shows only mismatching layers (JSON has every layer).

    Example: costlab crosscheck mobilenet_v2 --tracer torch --resolution 224
    """
    from ..nets.registry import TIMM_NAMES, TORCHVISION_NAMES, default_source, get_arch, list_archs

    if name == "all":
        # every built-in, each from its default source unless one is named (then only the models it has)
        names = {"torchvision": list(TORCHVISION_NAMES), "timm": list(TIMM_NAMES)}.get(
            source, [a.name for a in list_archs()])
        if resolution is not None:
            _check_resolution_for_all(names, resolution)
    else:
        names = [get_arch(name)]  # a built-in name or an architecture FILE.toml
        source = source or default_source(name)
    require("costlab crosscheck")
    if source == "timm":
        require("--source timm", ("timm",), "pip install timm")
    if tracer in ("ptflops", "thop"):
        require(f"--tracer {tracer}", (tracer,), f"pip install {tracer}")
    from ..traced.crosscheck import check_model

    def check(n):
        return check_model(n, tracer, resolution, source or default_source(n))

    results = []
    if len(names) > 1 and sys.stderr.isatty():  # a progress bar is for a person watching, not for a log
        with click.progressbar(names, label="tracing", file=sys.stderr, show_pos=True,
                               item_show_func=lambda n: getattr(n, "name", n) or "") as bar:
            for n in bar:
                results.append(check(n))
    else:
        results.extend(check(n) for n in names)
    if fmt == "json":
        data = [r.to_dict() for r in results]
        click.echo(to_json(data if name == "all" else data[0]))
    else:
        blocks = []
        for r in results:
            rows = [layer.to_dict() for layer in r.layers]
            if name == "all":
                rows = [row for row in rows if not row["ok"]]
            if fmt == "csv":
                for row in rows:
                    row["model"] = r.name
                blocks.append(emit("csv", rows, LAYER_DISPLAY) if rows else "")
                continue
            text = emit(fmt, rows, LAYER_DISPLAY) + "\n\n" if rows else ""
            blocks.append(text + _summary(r))
        click.echo("\n\n".join(b for b in blocks if b))
        if fmt == "csv":
            for r in results:
                click.echo(_summary(r), err=True)
    failed = any(not r.ok for r in results) or (strict and any(r.uncounted for r in results))
    return 1 if failed else 0


def _check_resolution_for_all(names: list[str], resolution: int) -> None:
    """Refuse, before tracing anything, a --resolution that some of the models cannot take, naming each model's
    smallest input."""
    from ..errors import CostlabError
    from ..nets.registry import arch_graph, smallest_resolution

    smallest = {}
    for n in names:
        built = arch_graph(n)
        smallest[n] = smallest_resolution(built.arch, built.node, built.arch.resolution) or built.arch.resolution
    too_small = [f"{n} (at least {m})" for n, m in smallest.items() if resolution < m]
    if too_small:
        raise CostlabError(f"resolution {resolution} is too small for {', '.join(too_small)}; `crosscheck all` needs "
                           f"a resolution every model takes: at least {max(smallest.values())}")


ANALYZE_DISPLAY = [
    ("name", "layer", None),
    ("op", "module", None),
    ("type", "type", None),
    ("output_shape", "output", dims_text),
    ("params", "params", grouped_int),
    ("macs", "MACs", grouped_int),
]


@click.command()
@click.argument("target", metavar="MODULE:CALLABLE")
@click.option("--input", "input_text", default="1,3,224,224", show_default=True, help="Input tensor shape, batch first.")
@click.option("--tracer", type=click.Choice(["auto", "torch", "fvcore", "formulas", "ptflops", "thop"]), default="auto",
              show_default=True,
              help="auto: the convention's own (FlopCounterMode for 'paper', costlab's formulas on meta for 'fvcore', "
                   "the tools themselves for 'ptflops' and 'thop'); formulas prices any convention.")
@click.option("--convention", type=click.Choice(list(CONVENTIONS)), default=None,
              help="Counting rules  [default: the tracer's own, 'paper' for auto].")
@click.option("--device", type=click.Choice(["meta", "cpu"]), default=None,
              help="meta: no weights or activations are allocated; cpu: real tensors  [default: the tracer's: meta for "
                   "torch and formulas, cpu for fvcore, ptflops and thop].")
@click.option("--strict", is_flag=True,
              help="Exit 1 if any op is unpriced: it computes and no rule of the convention prices it (an FFT, a linalg "
                   "solver). Ops that are zero by the convention's own rule (activations under paper) do not fail it.")
@format_option
def analyze(target, input_text, tracer, convention, device, strict, fmt):
    """Count any nn.Module: MODULE:CALLABLE is called with no arguments and must return one.

    WARNING: this imports MODULE and runs CALLABLE and the model's forward: it executes that code
    with your permissions. Only point it at code you trust. The current directory is importable.

    Example: costlab analyze torchvision.models:efficientnet_b7 --input 32,3,600,600
    """
    from ..core.shapes import parse_input_shape

    from ..traced.models import split_spec
    from ..traced.tracers import pick_tracer

    dims = parse_input_shape(input_text, "--input")
    split_spec(target)
    pick_tracer(tracer, convention)  # refuse a tracer that cannot count the convention before importing torch
    require("costlab analyze", ("torch",))
    from ..traced.count import analyze_model

    result = analyze_model(target, dims, tracer, convention, device)
    data = result.to_dict()
    if fmt == "json":
        click.echo(to_json(data))
    else:
        footer = ("\n\n" if fmt == "markdown" else "\n").join([
            f"{data['name']} input {'x'.join(map(str, dims))}: params {grouped_int(data['params'])}, "
            f"MACs {grouped_int(data['macs'])} ({humanize(data['macs'])}), FLOPs {grouped_int(data['flops'])}; "
            f"tracer {data['tracer']}, convention {data['convention']}, device {data['device']}",
            f"uncounted ops (zero by the {data['convention']} convention's rule): {counts_text(data['uncounted_ops'])}",
            f"unpriced ops (no rule prices them; counted as 0): {counts_text(data['unpriced_ops'])}",
            *(f"note: {note}" for note in data["notes"])])
        if fmt == "csv":
            click.echo(emit("csv", data["layers"], ANALYZE_DISPLAY))
            click.echo(footer, err=True)
        else:
            click.echo(emit(fmt, data["layers"], ANALYZE_DISPLAY, footer=footer))
    if strict and data["unpriced_ops"]:
        click.echo(f"costlab: --strict: unpriced ops: {counts_text(data['unpriced_ops'])}", err=True)
        return 1
    return 0
