"""One architecture's report: totals, cost by stage and by layer type, the costliest layers, the fvcore cross-check,
width x resolution scaling, predicted latency on a spec-sheet profile, and four charts."""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from typing import Optional

from ..core.analyze import Analysis
from ..core.conventions import CONVENTIONS, DEFAULT_CONVENTION
from ..nets.model import Arch
from .crosscheck import CrossCheckSummary, crosscheck_markdown, run_crosscheck
from .latency import PROFILE, PredictedLatency, latency_markdown, predicted_latency
from .markdown import CHART_DIR, CHART_FORMAT, REGENERATE, chart_link, exact, generated, md_table
from .tables import (TOP_LAYERS, scaling_grid, scaling_table, stage_blocks, stage_rows, stage_table, top_layers,
                     type_intro, type_table)

CHARTS = ("layers", "stages", "scaling", "roofline")
LATENCY_TITLE = f"Predicted latency on {PROFILE}"


@dataclass(frozen=True)
class ModelSummary:
    """One model's line in the index."""

    name: str
    family: str
    resolution: int
    params: int
    macs: int
    flops: int
    crosscheck: CrossCheckSummary
    predicted_ms: Optional[float] = None
    blocks: tuple[str, ...] = ()  # the block kinds of its table, in order


def model_markdown(analysis: Analysis, arch: Arch, grid: tuple[list, list], cc: CrossCheckSummary,
                   latency: PredictedLatency, charts: dict[str, str], index_link: bool = True,
                   command: str = REGENERATE, cli: str = "") -> str:
    """The whole report of one model as Markdown text."""
    from ..nets.scaling import WIDTH_ROUNDING

    a = analysis
    name = a.name
    stages = stage_rows(a, arch)
    with_macs = sum(1 for r in a.rows if r.macs)
    conv_note = CONVENTIONS[a.convention].summary
    points, skipped = grid
    width_rule = WIDTH_ROUNDING[arch.rules.width].split(" (")[0].split(":")[0]
    parts = [
        f"# {name}",
        "",
        generated(command),
        "",
        f"Family `{arch.family}`, input {a.input_shape} (batch 1), counting convention `{a.convention}` "
        f"({conv_note})." + (" [All models](README.md)" if index_link else ""),
        "",
        "## Summary",
        "",
        md_table([
            {"what": "parameters", "value": exact(a.params)},
            {"what": "MACs (multiply-accumulates)", "value": exact(a.macs)},
            {"what": "FLOPs (= 2 x MACs)", "value": exact(a.flops)},
            {"what": "input resolution", "value": f"{a.resolution} x {a.resolution}"},
            {"what": "layers (rows) / with MACs", "value": f"{len(a.rows)} / {with_macs}"},
            {"what": "stages / block kinds", "value": f"{len(stages)} / {', '.join(block_kinds(arch))}"},
            {"what": "cross-check against fvcore", "value": cc.status},
            {"what": f"predicted latency ({latency.device.name}, batch 1)", "value": f"{latency.total_ms:.3f} ms"},
        ], [("what", ""), ("value", "value")], ["left", "right"]),
        "",
        f"Reproduce: `costlab arch {cli or name}` (per layer), `costlab report {cli or name}` (this file).",
        "",
        "## Cross-check against fvcore",
        "",
        crosscheck_markdown(cc, cli or name),
        "",
        "## Cost by stage",
        "",
        "One row per stage of the architecture's table; `blocks` says what the stage is (block kind, kernel, "
        "how many blocks, the stride it divides the input by). A branching block (an Inception module, a dense "
        "layer, a shuffle unit) counts every branch and join in its stage.",
        "",
        stage_table(stages),
        "",
        chart_link(charts["stages"], f"{name}: MACs and parameters by stage"),
        "",
        "## Cost by layer type",
        "",
        type_intro(a),
        "",
        md_table(type_table(a), [("type", "layer type"), ("layers", "layers"), ("macs", "MACs"),
                                  ("macs_share", "MACs %"), ("params", "params"), ("params_share", "params %")],
                  ["left", "right", "right", "right", "right", "right"]),
        "",
        chart_link(charts["layers"], f"{name}: MACs per layer, coloured by layer type"),
        "",
        f"## The {TOP_LAYERS} costliest layers",
        "",
        md_table(top_layers(a), [("rank", "#"), ("name", "layer"), ("type", "type"), ("kernel", "kernel"),
                                  ("stride", "stride"), ("input", "input"), ("output", "output"), ("macs", "MACs"),
                                  ("share", "MACs %"), ("params", "params")],
                  ["right", "left", "left", "left", "right", "right", "right", "right", "right", "right"]),
        "",
        f"## {LATENCY_TITLE}",
        "",
        latency_markdown(latency, charts["roofline"], index_link, cli),
        "",
        "## Width and resolution scaling",
        "",
        f"MACs for width multiplier alpha (on top of the model's own width: a layer's c channels become "
        f"`{width_rule}`) x input resolution; parameters depend on alpha only."
        + "".join(f" Alpha {alpha:g} is left out: {reason}." for alpha, reason in skipped),
        "",
        scaling_table(points),
        "",
        chart_link(charts["scaling"], f"{name}: MACs against resolution for several width multipliers"),
        "",
    ]
    return "\n".join(parts)


def block_kinds(arch: Arch) -> tuple[str, ...]:
    """The block kinds of an architecture's stages, each once, in order."""
    return tuple(dict.fromkeys(s.block for s in arch.stages))


def model_files(name: str, convention: str = DEFAULT_CONVENTION, crosscheck: bool = True,
                index_link: bool = True, command: str = REGENERATE) -> tuple[dict[str, bytes], ModelSummary]:
    """The Markdown file and charts of one model (a built-in name or an architecture .toml, filed under the name the
    architecture gives itself), and its line in the index (linked when there is one); command is what wrote it."""
    from ..nets.registry import analyze_arch, get_arch
    from ..plots.arch import layer_chart, scaling_chart, stage_chart
    from ..plots.base import to_bytes
    from ..plots.latency import roofline_figure

    arch = get_arch(name)
    analysis = analyze_arch(name, convention=convention)
    grid = scaling_grid(name, convention)
    latency = predicted_latency(name, analysis)
    cc = run_crosscheck(name) if crosscheck else CrossCheckSummary("not run", "disabled with --no-crosscheck")
    cli = "" if name == arch.name else shlex.quote(name)  # a .toml is reproduced by its path, filed by its own name
    name = arch.name
    charts = {kind: f"{CHART_DIR}/{name}-{kind}.{CHART_FORMAT}" for kind in CHARTS}
    subtitle = f"{name}, {analysis.resolution}x{analysis.resolution}, {convention} convention"
    files = {
        charts["layers"]: to_bytes(layer_chart(analysis.rows, f"MACs per layer: {subtitle}"), CHART_FORMAT),
        charts["stages"]: to_bytes(stage_chart(analysis.grouped("stage"), f"Cost by stage: {subtitle}",
                                               stage_blocks(arch)), CHART_FORMAT),
        charts["scaling"]: to_bytes(scaling_chart(grid[0], 1.0, arch.resolution,
                                                  f"Width x resolution: {name} ({convention} convention)"),
                                    CHART_FORMAT),
        charts["roofline"]: to_bytes(roofline_figure(
            latency.layers, latency.device, f"{name} at {latency.resolution}, batch 1: predicted on "
                                            f"{latency.device.name}"), CHART_FORMAT),
        f"{name}.md": model_markdown(analysis, arch, grid, cc, latency, charts, index_link, command, cli).encode(),
    }
    summary = ModelSummary(name, arch.family, analysis.resolution, analysis.params, analysis.macs, analysis.flops, cc,
                           latency.total_ms, block_kinds(arch))
    return files, summary
