"""What a report says about the fvcore cross-check: the model traced, its totals against the analytic rows."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from ..io.render import grouped_int
from .markdown import md_table


@dataclass
class CrossCheckSummary:
    """The fvcore cross-check of one model as a report shows it: run or not, totals and mismatches."""

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
    resolution: Optional[int] = None


def run_crosscheck(name: str) -> CrossCheckSummary:
    """The model traced by fvcore (batch 1, native resolution, one torch thread) against the analytic rows; 'not run'
    without torch. torchvision's model where torchvision has one, costlab's own build otherwise (as `crosscheck NAME`
    does)."""
    import importlib.util

    missing = [m for m in ("torch", "fvcore") if importlib.util.find_spec(m) is None]
    if missing:
        return CrossCheckSummary("not run", f"{' and '.join(missing)} not installed")
    import torch

    from ..nets.registry import default_source
    from ..traced.crosscheck import check_model

    previous = torch.get_num_threads()
    torch.set_num_threads(1)  # counting needs no parallel kernels; on a shared runner a second thread only stalls
    try:
        result = check_model(name, "fvcore", source=default_source(name))
    finally:
        torch.set_num_threads(previous)
    problems = tuple(f"`{c.name}`: {c.problem}" for c in result.layers if not c.ok)
    return CrossCheckSummary("ok" if result.ok else "mismatch", "", result.tracer, result.source,
                             result.analytic_macs, result.traced_macs, result.analytic_params, result.traced_params,
                             len(result.layers), result.mismatches, problems[:5], result.resolution)


def crosscheck_markdown(cc: CrossCheckSummary, name: str) -> str:
    """The report's cross-check section: verdict, totals side by side, the first disagreements, how to rerun."""
    if cc.status == "not run":
        return f"**not run** ({cc.reason}). Install torch and fvcore and regenerate to trace the model."
    verdict = ("**ok**: every layer agrees" if cc.status == "ok"
               else f"**MISMATCH**: {cc.mismatches} of {cc.layers} layers disagree")
    model = ("torchvision's model (`weights=None`)" if cc.source == "torchvision"
             else "costlab's own `nn.Module` build (torchvision has no such model)")
    lines = [
        f"{verdict}: fvcore `FlopCountAnalysis` of {model}, batch 1, {cc.resolution} x {cc.resolution}, against the "
        f"analytic rows counted under the `fvcore` convention (BatchNorm and pooling included, so the MACs differ "
        f"from the summary's); {cc.layers} layers aligned.",
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
    lines += ["", f"Per layer: `costlab crosscheck {name} --tracer fvcore{source}`."]
    return "\n".join(lines)


def crosscheck_cell(cc: CrossCheckSummary) -> str:
    """The index's one-cell verdict: 'ok (152 layers)', 'MISMATCH (2 of 152)' or 'not run'."""
    if cc.status == "not run":
        return "not run"
    if cc.status == "ok":
        return f"ok ({cc.layers} layers)"
    return f"MISMATCH ({cc.mismatches} of {cc.layers})"
