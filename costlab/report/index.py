"""The index reports/README.md: every model on the Pareto chart, one section per family (in the registry's order,
so a family registered in costlab/nets/tables/ gets its section by itself), the profile the latencies are predicted
on, the depthwise-separable ratio over N and k, and the 5x5 versus two 3x3 break-even."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Optional

from ..core.conventions import CONVENTIONS, DEFAULT_CONVENTION
from ..io.render import grouped_int, humanize
from .crosscheck import crosscheck_cell
from .latency import PROFILE, why_profile
from .markdown import CHART_DIR, CHART_FORMAT, REGENERATE, chart_link, exact, generated, md_table
from .model import ModelSummary

RATIO_KERNELS = (3, 5, 7)
RATIO_N = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024)


@dataclass(frozen=True)
class RatioPoint:
    """MACs of a kxk depthwise-separable conv over a kxk conv at output width n: counted, and in closed form."""

    k: int
    n: int
    exact: Fraction
    closed: Optional[Fraction]

    @property
    def ratio(self) -> float:
        return float(self.exact)


def ratio_rows() -> list[RatioPoint]:
    """MACs of a kxk dwsep over a kxk conv for each N and k, counted by compare() (M = 32, 14x14; it cancels)."""
    from ..nets.compare import compare, make_setting

    rows = []
    for k in RATIO_KERNELS:
        for n in RATIO_N:
            conv, sep = compare([f"conv:{k}", f"dwsep:{k}"], make_setting(32, n, height=14, width=14))
            rows.append(RatioPoint(k, n, Fraction(sep.macs, conv.macs), sep.closed_form_macs_ratio))
    return rows


def index_files(summaries: list[ModelSummary], convention: str = DEFAULT_CONVENTION) -> dict[str, bytes]:
    """reports/README.md: every model in one table, the Pareto chart, the dwsep ratio and the 5x5 break-even."""
    from ..nets.compare import breakeven, runs
    from ..perf.devices import load_device
    from ..plots.base import to_bytes
    from ..plots.compare import breakeven_figure, ratio_chart
    from ..plots.index import pareto_chart, pareto_front

    charts = {"pareto": f"{CHART_DIR}/pareto.{CHART_FORMAT}", "ratio": f"{CHART_DIR}/dwsep-ratio.{CHART_FORMAT}",
              "breakeven": f"{CHART_DIR}/breakeven-5x5-vs-3x3.{CHART_FORMAT}"}
    ratios = ratio_rows()
    sep = breakeven(True, list(range(1, 65)), None, 56)
    full = breakeven(False, [16, 64, 256], None, 56)
    files = {
        charts["pareto"]: to_bytes(pareto_chart(
            summaries, f"Parameters vs MACs of the built-in models ({convention} convention, native resolutions)"),
            CHART_FORMAT),
        charts["ratio"]: to_bytes(ratio_chart(
            ratios, "Depthwise-separable kxk conv vs full kxk conv: MAC ratio"), CHART_FORMAT),
    }
    files[charts["breakeven"]] = to_bytes(breakeven_figure(
        sep, "One 5x5 vs two 3x3, depthwise-separable, M = N, 56x56"), CHART_FORMAT)
    all_agree = all(r.exact == r.closed for r in ratios)
    n256 = next(r for r in ratios if r.k == 3 and r.n == 256)
    sep_flips = _runs_text(runs(sep))
    full_lines = [f"N = M = {r.n}: one 5x5 {grouped_int(r.macs_5x5)} MACs, two 3x3 {grouped_int(r.macs_3x3x2)}"
                  for r in full]
    families = by_family(summaries)
    text = "\n".join([
        "# costlab architecture reports",
        "",
        generated(),
        "",
        f"Regenerate everything here with `{REGENERATE}` (byte-reproducible; CI fails when the committed "
        f"files differ). Counts use the `{convention}` convention ({CONVENTIONS[convention].summary}) at batch 1 and each "
        "model's native resolution; FLOPs = 2 x MACs.",
        "",
        f"{len(summaries)} models in {len(families)} families, one section each: "
        + ", ".join(f"[{f}](#family-{f}) ({len(ms)})" for f, ms in families.items()) + ".",
        "",
        "## Parameters against MACs",
        "",
        chart_link(charts["pareto"], "Parameters against MACs of every model, log-log, coloured by family, with the "
                                     "Pareto front"),
        "",
        "On the Pareto front (no other model has both fewer parameters and fewer MACs), from the fewest parameters "
        "up: " + ", ".join(f"[{m.name}]({m.name}.md)" for m in pareto_front(summaries)) + ".",
        "",
        "## Predicted latency",
        "",
        f"Each report predicts its model's latency per stage and per layer type on the shipped `{PROFILE}` profile "
        f"(batch 1, fp32, native resolution; a roofline from spec-sheet numbers, not a measurement), draws the "
        f"roofline and says where the time goes that MACs miss. Why this profile: {why_profile(load_device(PROFILE))}",
        "",
    ] + [family_section(f, ms) for f, ms in families.items()] + [
        "## Why depthwise-separable: MACs over a full convolution",
        "",
        "A kxk depthwise conv followed by a 1x1 pointwise conv costs HW(k^2 M + MN) MACs against HW k^2 MN for "
        "the full kxk conv, a ratio of 1/N + 1/k^2. The curves below are counted layer by layer with the formula "
        "registry (`costlab compare conv:K dwsep:K`), not drawn from the closed form; "
        + ("every point equals 1/N + 1/k^2 exactly." if all_agree else "SOME POINTS DIFFER FROM 1/N + 1/k^2.")
        + f" For k = 3 and N = 256 the separable layer needs {float(n256.exact):.4f} of the MACs "
        f"({float(1 / n256.exact):.2f}x fewer).",
        "",
        chart_link(charts["ratio"], "MAC ratio of depthwise-separable to full convolution against N, for k = 3, 5, 7"),
        "",
        "## One 5x5 or two 3x3 (same receptive field)",
        "",
        "Depthwise-separable, M = N, 56x56: MnasNet's simplification C5 = HWM(25 + N) against C3x2 = 2HWM(9 + N) "
        "says one 5x5 is cheaper exactly when N > 7. The exact count (the second 3x3 sees N channels) "
        f"agrees: {sep_flips}. `costlab breakeven --n 1..64 --size 56`",
        "",
        chart_link(charts["breakeven"], "MAC ratio of one 5x5 to two 3x3 separable convs against N"),
        "",
        "Standard convolutions, M = N: 25MN against 9MN + 9N^2 = 18N^2, so two 3x3 are always cheaper (the VGG "
        "argument): " + "; ".join(full_lines) + ". `costlab breakeven --kind conv`",
        "",
    ])
    files["README.md"] = text.encode()
    # PNG bytes depend on matplotlib's renderer: CI compares charts byte for byte only under this version
    import matplotlib

    files["GENERATED_WITH"] = f"matplotlib {matplotlib.__version__}\n".encode()
    return files


def _runs_text(runs) -> str:
    """'two 3x3 cheaper for N = 1..6; equal at N = 7; one 5x5 cheaper for N = 8..64'."""
    names = {"5x5": "one 5x5 cheaper", "3x3x2": "two 3x3 cheaper", "equal": "equal"}
    return "; ".join(f"{names[r.choice]} at N = {r.first}" if r.first == r.last
                     else f"{names[r.choice]} for N = {r.first}..{r.last}" for r in runs)


def by_family(summaries: list[ModelSummary]) -> dict[str, list[ModelSummary]]:
    """The models of each family, families in the order their first model comes (the registry's order)."""
    families: dict[str, list[ModelSummary]] = {}
    for m in summaries:
        families.setdefault(m.family, []).append(m)
    return families


def family_section(family: str, models: list[ModelSummary]) -> str:
    """One family's section: its block kinds and ranges, then one row per model."""
    blocks = ", ".join(dict.fromkeys(b for m in models for b in m.blocks))
    params = sorted(m.params for m in models)
    macs = sorted(m.macs for m in models)
    span = (f"parameters {humanize(params[0])}..{humanize(params[-1])}, MACs {humanize(macs[0])}..{humanize(macs[-1])}"
            if len(models) > 1 else f"{humanize(params[0])} parameters, {humanize(macs[0])} MACs")
    rows = [{"name": f"[{m.name}]({m.name}.md)", "resolution": str(m.resolution), "params": exact(m.params),
             "macs": exact(m.macs), "flops": exact(m.flops),
             "ms": "" if m.predicted_ms is None else f"{m.predicted_ms:.2f}",
             "crosscheck": crosscheck_cell(m.crosscheck)} for m in models]
    return "\n".join([
        f"## Family: {family}",
        "",
        f"{len(models)} model{'s' if len(models) > 1 else ''}; block kinds {blocks}; {span}.",
        "",
        md_table(rows, [("name", "model"), ("resolution", "resolution"), ("params", "params"), ("macs", "MACs"),
                        ("flops", "FLOPs (= 2 x MACs)"), ("ms", f"predicted ms ({PROFILE})"),
                        ("crosscheck", "fvcore cross-check")],
                 ["left", "right", "right", "right", "right", "right", "left"]),
        "",
    ])
