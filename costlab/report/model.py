"""One architecture's report: totals, cost by stage and by layer type, the costliest layers, the fvcore cross-check,
width x resolution scaling, and three charts. Tables come from the analysis' DataFrame."""

from __future__ import annotations

from dataclasses import dataclass

from ..core.analyze import Analysis
from ..core.conventions import CONVENTIONS, DEFAULT_CONVENTION
from ..core.vocab import LAYER_TYPES
from ..io.render import grouped_int, humanize, share
from .markdown import CHART_DIR, CHART_FORMAT, GENERATED, chart_link, exact, md_table

# width multipliers of the scaling grid (MobileNet's 0.25..1.0, and MobileNetV2's 1.4); resolutions around the native
ALPHAS = (0.25, 0.5, 0.75, 1.0, 1.4)
TOP_LAYERS = 10
# layer types in the order of MobileNetV1's Table 2 (1x1, depthwise, full conv, FC), then the rest
TYPE_ORDER = ("pointwise", "depthwise", "conv", "grouped", "linear", "se", "bn", "pool", "act", "add", "mul", "flatten")


@dataclass
class CrossCheckSummary:
    """What the report says about the fvcore cross-check: run or not, totals and mismatches."""

    status: str  # 'ok', 'mismatch', 'not run'
    reason: str = ""
    tracer: str = "fvcore"
    source: str = ""
    analytic_macs: int = 0
    traced_macs: int = 0
    analytic_params: int = 0
    traced_params: int = 0
    layers: int = 0
    mismatches: int = 0
    first_problems: tuple[str, ...] = ()


def scaling_grid(name: str, convention: str) -> list:
    """params and MACs for every (alpha, resolution) of the grid."""
    from ..nets.registry import get_arch, resolutions_around, sweep

    return sweep(name, list(ALPHAS), resolutions_around(get_arch(name).resolution), convention)


def run_crosscheck(name: str) -> CrossCheckSummary:
    """The model traced by fvcore (batch 1, native resolution) against the analytic rows; 'not run' without torch."""
    import importlib.util

    missing = [m for m in ("torch", "fvcore") if importlib.util.find_spec(m) is None]
    if missing:
        return CrossCheckSummary("not run", f"{' and '.join(missing)} not installed")
    from ..nets.registry import TORCHVISION_NAMES
    from ..traced.crosscheck import check_model

    source = "torchvision" if name in TORCHVISION_NAMES else "costlab"
    result = check_model(name, "fvcore", source=source)
    problems = tuple(f"`{c.name}`: {c.problem}" for c in result.layers if not c.ok)
    return CrossCheckSummary("ok" if result.ok else "mismatch", "", result.tracer, result.source,
                             result.analytic_macs, result.traced_macs, result.analytic_params, result.traced_params,
                             len(result.layers), result.mismatches, problems[:5])


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


def type_table(analysis: Analysis) -> list[dict]:
    """MobileNetV1 Table 2: share of MACs and of params per layer type (types with neither left out), and the total."""
    frame = analysis.frame()
    sums = frame.groupby("type", sort=False).agg(layers=("name", "size"), macs=("macs", "sum"), params=("params", "sum"))
    order = [t for t in TYPE_ORDER if t in sums.index] + [t for t in sums.index if t not in TYPE_ORDER]
    total_macs, total_params = analysis.macs, analysis.params
    rows = []
    for t in order:
        g = sums.loc[t]
        macs, params = int(g["macs"]), int(g["params"])
        if macs == 0 and params == 0:
            continue
        rows.append({"type": LAYER_TYPES.get(t, t), "layers": str(int(g["layers"])), "macs": grouped_int(macs),
                     "macs_share": share(macs / total_macs if total_macs else 0.0), "params": grouped_int(params),
                     "params_share": share(params / total_params if total_params else 0.0)})
    rows.append({"type": "**total**", "layers": str(len(frame)), "macs": grouped_int(total_macs),
                 "macs_share": "100.0%", "params": grouped_int(total_params), "params_share": "100.0%"})
    return rows


def stage_rows(analysis: Analysis) -> list[dict]:
    """Per stage, in execution order: output shape, layer count, params, MACs and shares."""
    frame = analysis.frame()
    stages = frame.groupby("stage", sort=False).agg(output=("output_shape", "last"), layers=("name", "size"))
    return [{"index": i, "stage": g.label, "output": stages.loc[g.label, "output"],
             "layers": int(stages.loc[g.label, "layers"]), "params": g.params, "params_share": g.params_share,
             "macs": g.macs, "macs_share": g.macs_share} for i, g in enumerate(analysis.grouped("stage"))]


def top_layers(analysis: Analysis, n: int = TOP_LAYERS) -> list[dict]:
    """The n layers with the most MACs (ties in execution order)."""
    top = analysis.frame().sort_values("macs", ascending=False, kind="stable").head(n)
    total = analysis.macs or 1
    return [{"rank": str(k + 1), "name": f"`{r.name}`", "type": LAYER_TYPES.get(r.type, r.type), "kernel": r.kernel,
             "stride": str(r.stride), "input": r.input_shape, "output": r.output_shape,
             "macs": grouped_int(r.macs), "share": share(r.macs / total), "params": grouped_int(r.params)}
            for k, r in enumerate(top.itertuples())]


def crosscheck_markdown(cc: CrossCheckSummary) -> str:
    if cc.status == "not run":
        return f"**not run** ({cc.reason}). Install torch and fvcore and regenerate to trace the model."
    verdict = ("**ok**: every layer agrees" if cc.status == "ok"
               else f"**MISMATCH**: {cc.mismatches} of {cc.layers} layers disagree")
    model = ("torchvision's model (`weights=None`)" if cc.source == "torchvision"
             else "costlab's own `nn.Module` build (torchvision has no such model)")
    lines = [
        f"{verdict}: fvcore `FlopCountAnalysis` of {model}, batch 1, against the analytic rows counted under "
        f"the `fvcore` convention (BatchNorm and pooling included, so the MACs differ from the summary's); "
        f"{cc.layers} layers aligned.",
        "",
        md_table([
            {"what": "parameters", "analytic": grouped_int(cc.analytic_params), "traced": grouped_int(cc.traced_params)},
            {"what": "MACs (fvcore convention)", "analytic": grouped_int(cc.analytic_macs),
             "traced": grouped_int(cc.traced_macs)},
        ], [("what", ""), ("analytic", "costlab (analytic)"), ("traced", "fvcore (traced)")],
            ["left", "right", "right"]),
    ]
    if cc.first_problems:
        lines += ["", "First disagreements:", ""] + [f"- {p}" for p in cc.first_problems]
    source = "" if cc.source == "torchvision" else f" --source {cc.source}"
    lines += ["", f"Per layer: `costlab crosscheck {{name}} --tracer fvcore{source}`."]
    return "\n".join(lines)


def model_markdown(analysis: Analysis, family: str, grid: list, cc: CrossCheckSummary,
                   charts: dict[str, str], index_link: bool = True) -> str:
    """The whole report of one model as Markdown text."""
    a = analysis
    name = a.name
    stages = stage_rows(a)
    with_macs = sum(1 for r in a.rows if r.macs)
    conv_note = CONVENTIONS[a.convention].summary
    parts = [
        f"# {name}",
        "",
        GENERATED,
        "",
        f"Family `{family}`, input {a.input_shape} (batch 1), counting convention `{a.convention}` "
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
            {"what": "stages", "value": str(len(stages))},
            {"what": "cross-check against fvcore", "value": cc.status},
        ], [("what", ""), ("value", "value")], ["left", "right"]),
        "",
        f"Reproduce: `costlab arch {name}` (per layer), `costlab report {name}` (this file).",
        "",
        "## Cross-check against fvcore",
        "",
        crosscheck_markdown(cc).replace("{name}", name),
        "",
        "## Cost by stage",
        "",
        md_table([{**s, "index": str(s["index"]), "layers": str(s["layers"]), "params": grouped_int(s["params"]),
                    "params_share": share(s["params_share"]), "macs": grouped_int(s["macs"]),
                    "macs_share": share(s["macs_share"])} for s in stages],
                  [("index", "#"), ("stage", "stage"), ("output", "output"), ("layers", "layers"),
                   ("params", "params"), ("params_share", "params %"), ("macs", "MACs"), ("macs_share", "MACs %")],
                  ["right", "left", "right", "right", "right", "right", "right", "right"]),
        "",
        chart_link(charts["stages"], f"{name}: MACs and parameters by stage"),
        "",
        "## Cost by layer type",
        "",
        "Share of MACs and of parameters per layer type, as in Table 2 of the MobileNetV1 paper "
        "(squeeze-excitation = the 1x1 convs inside SE blocks; types with neither MACs nor parameters left out).",
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
        "## Width and resolution scaling",
        "",
        "MACs for width multiplier alpha (on top of the model's own width) x input resolution; "
        "parameters depend on alpha only.",
        "",
        scaling_table(grid),
        "",
        chart_link(charts["scaling"], f"{name}: MACs against resolution for several width multipliers"),
        "",
    ]
    return "\n".join(parts)


def scaling_table(grid: list[dict]) -> str:
    alphas = sorted({r.alpha for r in grid})
    resolutions = sorted({r.resolution for r in grid})
    cell = {(r.alpha, r.resolution): r for r in grid}
    rows = []
    for alpha in alphas:
        row = {"alpha": f"{alpha:g}", "params": exact(cell[(alpha, resolutions[0])].params)}
        for res in resolutions:
            row[str(res)] = humanize(cell[(alpha, res)].macs)
        rows.append(row)
    columns = [("alpha", "alpha"), ("params", "params")] + [(str(r), f"MACs @ {r}") for r in resolutions]
    return md_table(rows, columns, ["left"] + ["right"] * (len(columns) - 1))


def model_files(name: str, convention: str = DEFAULT_CONVENTION, crosscheck: bool = True,
                index_link: bool = True) -> tuple[dict[str, bytes], ModelSummary]:
    """The Markdown file and charts of one model, and its line in the index (linked when there is one)."""
    from ..nets.registry import analyze_arch, get_arch
    from ..plots.arch import layer_chart, scaling_chart, stage_chart
    from ..plots.base import to_bytes

    arch = get_arch(name)
    analysis = analyze_arch(name, convention=convention)
    grid = scaling_grid(name, convention)
    cc = run_crosscheck(name) if crosscheck else CrossCheckSummary("not run", "disabled with --no-crosscheck")
    charts = {kind: f"{CHART_DIR}/{name}-{kind}.{CHART_FORMAT}" for kind in ("layers", "stages", "scaling")}
    subtitle = f"{name}, {analysis.resolution}x{analysis.resolution}, {convention} convention"
    files = {
        charts["layers"]: to_bytes(layer_chart(analysis.rows, f"MACs per layer: {subtitle}"), CHART_FORMAT),
        charts["stages"]: to_bytes(stage_chart(analysis.grouped("stage"), f"Cost by stage: {subtitle}"), CHART_FORMAT),
        charts["scaling"]: to_bytes(scaling_chart(grid, 1.0, arch.resolution,
                                                  f"Width x resolution: {name} ({convention} convention)"),
                                    CHART_FORMAT),
        f"{name}.md": model_markdown(analysis, arch.family, grid, cc, charts, index_link).encode(),
    }
    summary = ModelSummary(name, arch.family, analysis.resolution, analysis.params, analysis.macs, analysis.flops, cc)
    return files, summary


