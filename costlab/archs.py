"""Architectures by name or TOML file: list them, turn them into a graph, analyse them, sweep alpha x resolution.

No torch here: the analytic path must answer in well under a second.
"""

from __future__ import annotations

import difflib
import math
from dataclasses import replace
from pathlib import Path
from typing import Optional, Sequence

from .analyze import Analysis, analyze
from .archs_model import Arch, build_graph, total_stride, width_of
from .archs_tables import ARCHS, TORCHVISION_NAMES
from .errors import CostlabError, require
from .formulas import DEFAULT_CONVENTION
from .graph import Node
from .shapes import Shape, scale_size_round

__all__ = ["ARCHS", "TORCHVISION_NAMES", "list_archs", "get_arch", "arch_graph", "analyze_arch", "sweep"]


def list_archs() -> list[dict]:
    """Rows with name, family and native (paper) resolution of every built-in architecture."""
    return [{"name": a.name, "family": a.family, "resolution": a.resolution} for a in ARCHS.values()]


def get_arch(name_or_path: str) -> Arch:
    """A built-in architecture by name, or one loaded from a .toml file."""
    key = str(name_or_path)
    if key in ARCHS:
        return ARCHS[key]
    if key.endswith(".toml") or Path(key).is_file():
        from .spec import load_arch

        return load_arch(key)
    close = difflib.get_close_matches(key, list(ARCHS), n=3, cutoff=0.5)
    hint = f"; did you mean {', '.join(close)}?" if close else f"; known: {', '.join(ARCHS)}"
    raise CostlabError(f"unknown architecture {key!r}{hint} (or give a FILE.toml)")


def _positive_number(value, what: str) -> float:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) and value > 0
    require(ok, f"{what} must be a number > 0, got {value!r}")
    return value


def resolve_resolution(arch: Arch, resolution: Optional[int], rho: Optional[float]) -> int:
    """--resolution R, or round(rho * native), or the native (paper) resolution."""
    if resolution is not None and rho is not None:
        raise CostlabError("give either a resolution or rho, not both")
    if rho is not None:
        return max(1, scale_size_round(arch.resolution, _positive_number(rho, "rho")))
    if resolution is None:
        return arch.resolution
    if isinstance(resolution, bool) or not isinstance(resolution, int) or resolution < 1:
        raise CostlabError(f"resolution must be a positive integer, got {resolution!r}")
    return resolution


def arch_graph(name_or_toml_path, alpha: Optional[float] = None, resolution: Optional[int] = None,
               rho: Optional[float] = None, depth: Optional[float] = None) -> tuple[Node, Shape, dict]:
    """The graph of an architecture at width alpha and depth multiplier depth (each times the variant's own),
    its input shape, and meta. Repeats per stage become ceil(n * depth_mult), EfficientNet's rule."""
    arch = name_or_toml_path if isinstance(name_or_toml_path, Arch) else get_arch(name_or_toml_path)
    if alpha is not None:
        _positive_number(alpha, "alpha")
    if depth is not None:
        arch = replace(arch, depth_mult=arch.depth_mult * _positive_number(depth, "depth"))
    size = resolve_resolution(arch, resolution, rho)
    check_resolution(arch, size)
    node = build_graph(arch, alpha)
    meta = {"name": arch.name, "family": arch.family, "alpha": 1.0 if alpha is None else alpha, "resolution": size,
            "width_mult": width_of(arch, alpha), "depth_mult": arch.depth_mult}
    return node, Shape(arch.in_channels, size, size), meta


def check_resolution(arch: Arch, size: int) -> None:
    """Every stride must see at least one pixel: the input has to be at least the product of the strides."""
    stride = total_stride(arch)
    require(size >= stride, f"resolution {size} is too small for {arch.name}: its strides divide the input by {stride}, "
                            f"so it needs at least {stride}")


def analyze_arch(name_or_toml_path, alpha: Optional[float] = None, resolution: Optional[int] = None,
                 rho: Optional[float] = None, convention: str = DEFAULT_CONVENTION, batch: int = 1,
                 depth: Optional[float] = None) -> Analysis:
    """Per-layer rows and totals of an architecture (costlab.analyze.Analysis)."""
    if isinstance(batch, bool) or not isinstance(batch, int) or batch < 1:
        raise CostlabError(f"batch must be a positive integer, got {batch!r}")
    node, shape, meta = arch_graph(name_or_toml_path, alpha, resolution, rho, depth)
    return analyze(node, shape, convention, meta["name"], batch, meta["alpha"])


def sweep(name_or_toml_path, alphas: Sequence[float], resolutions: Sequence[int],
          convention: str = DEFAULT_CONVENTION) -> list[dict]:
    """One row per (alpha, resolution): params, macs, flops. The graph is built once per alpha."""
    arch = get_arch(name_or_toml_path) if not isinstance(name_or_toml_path, Arch) else name_or_toml_path
    require(len(alphas) > 0 and len(resolutions) > 0, "a sweep needs at least one alpha and one resolution")
    rows = []
    for alpha in alphas:
        node, _, _ = arch_graph(arch, alpha, arch.resolution)
        for size in resolutions:
            size = resolve_resolution(arch, size, None)
            check_resolution(arch, size)
            a = analyze(node, Shape(arch.in_channels, size, size), convention, arch.name, 1, alpha)
            rows.append({"alpha": alpha, "resolution": size, "params": a.params, "macs": a.macs, "flops": a.flops})
    return rows
