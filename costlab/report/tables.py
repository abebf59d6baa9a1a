"""The tables of one architecture's report, from its analysis and its table: cost by stage (with what each stage
is), by layer type, the costliest layers, and width x resolution scaling."""

from __future__ import annotations

from ..core.analyze import Analysis
from ..core.vocab import LAYER_TYPES
from ..errors import CostlabError
from ..io.render import grouped_int, humanize, share
from ..nets.model import Arch
from .markdown import exact, md_table

# width multipliers of the scaling grid (MobileNet's 0.25..1.0, and MobileNetV2's 1.4); resolutions around the native
ALPHAS = (0.25, 0.5, 0.75, 1.0, 1.4)
TOP_LAYERS = 10
# layer types in the order of MobileNetV1's Table 2 (1x1, depthwise, full conv, FC), then the rest
TYPE_ORDER = ("pointwise", "depthwise", "conv", "grouped", "linear", "se", "bn", "pool", "act", "add", "mul", "flatten")


def scaling_grid(name: str, convention: str) -> tuple[list, list[tuple[float, str]]]:
    """params and MACs for every (alpha, resolution) of the grid, and the alphas the architecture cannot be built at
    with the reason (ResNeXt's groups must divide every width: 1.4 x its bottlenecks does not)."""
    from ..nets.registry import get_arch, resolutions_around, sweep

    resolutions = resolutions_around(get_arch(name).resolution)
    points, skipped = [], []
    for alpha in ALPHAS:
        try:
            points += sweep(name, [alpha], resolutions, convention)
        except CostlabError as exc:
            skipped.append((alpha, str(exc)))
    return points, skipped


def stage_blocks(arch: Arch) -> dict[str, str]:
    """What each stage of the table is, by its stage label: 'mbconv 3x3 x2, stride 2', 'inception_a', 'dense x6',
    'bottleneck 3x3 x3, 32 groups', 'maxpool 3x3, stride 2'; the stem, head and classifier as nets.network builds
    them."""
    from ..nets.scaling import round_repeats
    from ..nets.stages import stage_kind

    out = {}
    if arch.stem is not None:
        s = arch.stem
        out["stem"] = f"conv {s.kernel}x{s.kernel}, stride {s.stride}" + (" + maxpool" if s.maxpool else "")
    for i, stage in enumerate(arch.stages, 1):
        kind = stage_kind(stage.block)
        text = stage.block
        if "kernel" in kind.keys:
            text += f" {stage.kernel}x{stage.kernel}"
        blocks = stage.repeats if not kind.deepens else round_repeats(stage.repeats, arch.depth_mult)
        blocks = blocks if "repeats" in kind.keys else 1
        if blocks > 1:
            text += f" x{blocks}"
        if "groups" in kind.keys and stage.groups > 1:
            text += f", {stage.groups} groups"
        if "se" in kind.keys and stage.se:
            text += " + SE"
        if kind.stride(stage) > 1:
            text += f", stride {kind.stride(stage)}"
        out[f"stage{i}"] = text
    out["head"] = "conv 1x1"
    fcs = len(arch.classifier.hidden) + (1 if arch.classifier.fc else 0)
    out["classifier"] = "pool" + ("" if not fcs else " + fc" if fcs == 1 else f" + fc x{fcs}")
    return out


def stage_rows(analysis: Analysis, arch: Arch) -> list[dict]:
    """Per stage, in execution order: what it is, output shape, layer count, params, MACs and shares."""
    frame = analysis.frame()
    stages = frame.groupby("stage", sort=False).agg(output=("output_shape", "last"), layers=("name", "size"))
    blocks = stage_blocks(arch)
    return [{"index": i, "stage": g.label, "block": blocks.get(g.label, ""), "output": stages.loc[g.label, "output"],
             "layers": int(stages.loc[g.label, "layers"]), "params": g.params, "params_share": g.params_share,
             "macs": g.macs, "macs_share": g.macs_share} for i, g in enumerate(analysis.grouped("stage"))]


def stage_table(stages: list[dict]) -> str:
    return md_table([{**s, "index": str(s["index"]), "layers": str(s["layers"]), "params": grouped_int(s["params"]),
                      "params_share": share(s["params_share"]), "macs": grouped_int(s["macs"]),
                      "macs_share": share(s["macs_share"])} for s in stages],
                    [("index", "#"), ("stage", "stage"), ("block", "blocks"), ("output", "output"),
                     ("layers", "layers"), ("params", "params"), ("params_share", "params %"), ("macs", "MACs"),
                     ("macs_share", "MACs %")],
                    ["right", "left", "left", "right", "right", "right", "right", "right", "right"])


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


def type_intro(analysis: Analysis) -> str:
    """The sentence above the layer-type table: MobileNetV1's Table 2 named only where there are depthwise convs,
    squeeze-excitation explained only where there is some."""
    types = {r.type for r in analysis.rows}
    text = "Share of MACs and of parameters per layer type"
    if "depthwise" in types:
        text += ", as in Table 2 of the MobileNetV1 paper"
    if "se" in types:
        text += " (squeeze-excitation = the 1x1 convs inside SE blocks)"
    return text + "; types with neither MACs nor parameters are left out."


def top_layers(analysis: Analysis, n: int = TOP_LAYERS) -> list[dict]:
    """The n layers with the most MACs (ties in execution order)."""
    top = analysis.frame().sort_values("macs", ascending=False, kind="stable").head(n)
    total = analysis.macs or 1
    return [{"rank": str(k + 1), "name": f"`{r.name}`", "type": LAYER_TYPES.get(r.type, r.type), "kernel": r.kernel,
             "stride": str(r.stride), "input": r.input_shape, "output": r.output_shape,
             "macs": grouped_int(r.macs), "share": share(r.macs / total), "params": grouped_int(r.params)}
            for k, r in enumerate(top.itertuples())]


def scaling_table(grid: list) -> str:
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
