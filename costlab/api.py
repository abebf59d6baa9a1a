"""costlab's Python API: what the CLI does, as typed results and pandas DataFrames.

    import costlab
    a = costlab.arch("mobilenet_v2", alpha=0.75)       # Analysis: .params, .macs, .flops, .rows
    costlab.layers("mobilenet_v2")                      # one row per layer
    costlab.by_stage("efficientnet_b0")                 # totals per stage (by_type: per layer type)
    costlab.compare(["conv", "dwsep"], cin=3, cout=256) # kinds side by side
    costlab.sweep("mobilenet_v1", [0.5, 1.0], [160, 224])
    costlab.count("torchvision.models:resnet18", (1, 3, 224, 224), convention="fvcore")   # needs torch
    costlab.build("mobilenet_v2")                       # the same network as a torch.nn.Module

Counts are exact Python ints in the typed results; in the frames int64 columns, or Python ints (object dtype) where
a column's total would not fit in int64 (never a wrapped or rounded count); FLOPs = 2 x MACs.
pandas is imported by the functions that return frames, never at `import costlab`.
"""

from __future__ import annotations

from typing import Any, Optional, Sequence

from .core.analyze import Analysis
from .core.conventions import DEFAULT_CONVENTION

COLUMNS = ["params", "macs", "flops"]


def arch(name: Any, alpha: Optional[float] = None, resolution: Optional[int] = None, rho: Optional[float] = None,
         depth: Optional[float] = None, convention: str = DEFAULT_CONVENTION, batch: int = 1,
         width_rule: Optional[str] = None) -> Analysis:
    """A built-in architecture, a TOML file or an Arch, analysed: totals and one Row per layer. width_rule: how
    alpha applies, 'torchvision' or 'paper' (None: the architecture's own); the Analysis names it."""
    from .nets.registry import analyze_arch

    return analyze_arch(name, alpha, resolution, rho, convention, batch, depth, width_rule)


def layers(name: Any, **settings):
    """One DataFrame row per layer (name, stage, type, op, shapes, kernel, stride, groups, params, macs, flops)."""
    return arch(name, **settings).frame()


def _grouped(name: Any, key: str, settings: dict):
    frame = layers(name, **settings)
    return frame.groupby(key, sort=False)[COLUMNS].sum()


def by_stage(name: Any, **settings):
    """Totals per stage, in execution order, as a DataFrame indexed by stage."""
    return _grouped(name, "stage", settings)


def by_type(name: Any, **settings):
    """Totals per layer type (pointwise, depthwise, conv, linear, bn, ...), as a DataFrame indexed by type."""
    return _grouped(name, "type", settings)


def compare(kinds: Sequence[str], cin: int, cout: int, kernel: int = 3, size: int = 224, stride: int = 1,
            bias: bool = False, groups: int = 1, expand: int = 6, se: Optional[float] = None,
            alpha: Optional[float] = None, rho: Optional[float] = None, padding: Optional[int] = None,
            reduction: Optional[int] = None, cardinality: Optional[int] = None, layers: Optional[int] = None):
    """Layer and block KINDs side by side (`costlab compare`): a DataFrame indexed by kind. reduction, cardinality
    and layers are seed 004's r, c and d (None: the seed's default for each block)."""
    from .io.frames import exact_frame

    from .nets.compare import compare as compare_kinds, make_setting

    setting = make_setting(cin, cout, kernel, size, size, stride, bias, groups, expand, se, alpha, rho, padding,
                           reduction=reduction, cardinality=cardinality, layers=layers)
    return exact_frame(r.to_dict() for r in compare_kinds(list(kinds), setting)).set_index("name")


def sweep(name: Any, alphas: Sequence[float], resolutions: Sequence[int], convention: str = DEFAULT_CONVENTION,
          width_rule: Optional[str] = None):
    """params, macs, flops for every (alpha, resolution): a DataFrame with one row per point."""
    from .io.frames import exact_frame

    from .nets.registry import sweep as sweep_points

    points = sweep_points(name, alphas, resolutions, convention, width_rule)
    return exact_frame(p.to_dict() for p in points)


def list_archs():
    """The built-in architectures with their family and native resolution, as a DataFrame."""
    from .io.frames import exact_frame

    from .nets.registry import list_archs as infos

    return exact_frame(a.to_dict() for a in infos())


def count(model: Any, input: Sequence[int], convention: Optional[str] = None, tracer: str = "auto"):
    """Count a real model (an nn.Module, or 'MODULE:CALLABLE') on an input shape, batch first; needs torch.
    Returns a TracedAnalysis (.params, .macs, .flops, .uncounted, .unpriced, .notes, .frame()). An nn.Module is
    counted in the mode it is in (train or eval), as fvcore and FlopCounterMode count it."""
    from .core.shapes import parse_input_shape
    from .extras import require

    require("costlab.count")  # one line saying what to install, not a ModuleNotFoundError from deep inside
    from .traced.count import analyze_model, analyze_instance

    dims = parse_input_shape(list(input), "input")
    if isinstance(model, str):
        return analyze_model(model, dims, tracer, convention)
    return analyze_instance(model, dims, tracer, convention)


def build(name: Any, alpha: Optional[float] = None, resolution: Optional[int] = None, rho: Optional[float] = None,
          width_rule: Optional[str] = None):
    """The architecture as a real torch.nn.Module whose module names are the layer names; needs torch."""
    from .extras import require

    require("costlab.build", ("torch",))
    from .traced.build import build_arch

    return build_arch(name, alpha, resolution, rho, width_rule)
