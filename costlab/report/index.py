"""The family index reports/README.md: every model in one table with the Pareto chart, the depthwise-separable
ratio over N and k, and the 5x5 versus two 3x3 break-even."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Optional

from ..core.conventions import CONVENTIONS, DEFAULT_CONVENTION
from ..io.render import grouped_int
from .markdown import CHART_DIR, CHART_FORMAT, GENERATED, REGENERATE, chart_link, exact, md_table
from .model import CrossCheckSummary, ModelSummary

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
    from ..plots.base import to_bytes
    from ..plots.compare import breakeven_figure, ratio_chart
    from ..plots.index import pareto_chart

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
    rows = [{"name": f"[{s.name}]({s.name}.md)", "family": s.family, "resolution": str(s.resolution),
             "params": exact(s.params), "macs": exact(s.macs), "flops": exact(s.flops),
             "crosscheck": _cc_cell(s.crosscheck)} for s in summaries]
    all_agree = all(r.exact == r.closed for r in ratios)
    n256 = next(r for r in ratios if r.k == 3 and r.n == 256)
    sep_flips = _runs_text(runs(sep))
    full_lines = [f"N = M = {r.n}: one 5x5 {grouped_int(r.macs_5x5)} MACs, two 3x3 {grouped_int(r.macs_3x3x2)}"
                  for r in full]
    text = "\n".join([
        "# costlab architecture reports",
        "",
        GENERATED,
        "",
        f"Regenerate everything here with `{REGENERATE}` (byte-reproducible; CI fails when the committed "
        f"files differ). Counts use the `{convention}` convention ({CONVENTIONS[convention].summary}) at batch 1 and each "
        "model's native resolution; FLOPs = 2 x MACs.",
        "",
        "## The MBConv family",
        "",
        md_table(rows, [("name", "model"), ("family", "family"), ("resolution", "resolution"), ("params", "params"),
                         ("macs", "MACs"), ("flops", "FLOPs (= 2 x MACs)"), ("crosscheck", "fvcore cross-check")],
                  ["left", "left", "right", "right", "right", "right", "left"]),
        "",
        chart_link(charts["pareto"], "Parameters against MACs of every model, log-log, with the Pareto front"),
        "",
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


def _cc_cell(cc: CrossCheckSummary) -> str:
    if cc.status == "not run":
        return "not run"
    if cc.status == "ok":
        return f"ok ({cc.layers} layers)"
    return f"MISMATCH ({cc.mismatches} of {cc.layers})"


