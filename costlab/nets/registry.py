"""Architectures by name or TOML file: list them, turn them into a graph, analyse them, sweep alpha x resolution.

No torch here: the analytic path must answer in well under a second.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, replace
from fractions import Fraction
from pathlib import Path
from typing import Optional, Sequence, Union

from ..core.analyze import Analysis, analyze
from ..core.checks import MAX_BATCH, MAX_SIZE, multiplier, positive_int
from ..core.conventions import DEFAULT_CONVENTION
from ..core.cost import flops_of
from ..core.graph import Node, SizeError
from ..core.shapes import Shape
from ..errors import CostlabError, require
from .model import Arch
from .network import build_graph, width_of
from .scaling import WIDTH_RULES, choice, scale_size_round
from .stages import stage_kind
from .tables import ARCHS, TIMM_NAMES, TORCHVISION_NAMES

__all__ = ["ARCHS", "TORCHVISION_NAMES", "TIMM_NAMES", "is_module_spec", "ArchInfo", "SweepPoint", "list_archs",
           "default_source", "get_arch", "arch_graph", "analyze_arch", "sweep", "with_width_rule"]

ArchLike = Union[str, Path, Arch]


@dataclass(frozen=True)
class ArchInfo:
    """A built-in architecture as `costlab list` shows it."""

    name: str
    family: str
    resolution: int

    def to_dict(self) -> dict:
        return {"name": self.name, "family": self.family, "resolution": self.resolution}


@dataclass(frozen=True)
class SweepPoint:
    """One (alpha, resolution) of a sweep."""

    alpha: float
    resolution: int
    params: int
    macs: int

    @property
    def flops(self) -> int:
        return flops_of(self.macs)

    def to_dict(self) -> dict:
        return {"alpha": self.alpha, "resolution": self.resolution, "params": self.params, "macs": self.macs,
                "flops": self.flops}


@dataclass(frozen=True)
class Built:
    """An architecture's graph at a setting, its input shape, and the setting."""

    node: Node
    input_shape: Shape
    arch: Arch
    alpha: float
    width_mult: float

    @property
    def resolution(self) -> int:
        return self.input_shape.h


# resolutions as fractions of the native one: 224 -> 128, 160, 192, 224, 256, as in the MobileNet papers
RESOLUTION_FRACTIONS = (Fraction(4, 7), Fraction(5, 7), Fraction(6, 7), Fraction(1), Fraction(8, 7))


def resolutions_around(native: int) -> list[int]:
    """A scaling grid's resolutions: native * 4/7 .. 8/7, rounded to a multiple of 8, and native itself."""
    return sorted({max(8, int(round(native * f / 8)) * 8) for f in RESOLUTION_FRACTIONS} | {native})


def is_module_spec(model: str) -> bool:
    """MODULE:CALLABLE (e.g. 'torchvision.models:resnet18', a user's nn.Module, counted with torch), as opposed to a
    built-in name or an architecture .toml path."""
    return ":" in model and not model.lower().endswith(".toml")


def list_archs() -> list[ArchInfo]:
    """Every built-in architecture with its family and native (paper) resolution."""
    return [ArchInfo(a.name, a.family, a.resolution) for a in ARCHS.values()]


def default_source(name: str) -> str:
    """Where `crosscheck` and reports trace a model from unless told: torchvision's model where torchvision has it,
    timm's where timm has it and is installed (an optional test reference), costlab's own nn.Module build for the
    other built-ins and for FILE.toml architectures."""
    if name in TORCHVISION_NAMES:
        return "torchvision"
    if name in TIMM_NAMES:
        from importlib.util import find_spec

        if find_spec("timm") is not None:
            return "timm"
    return "costlab"


def get_arch(name_or_path: ArchLike) -> Arch:
    """A built-in architecture by name, or one loaded from a .toml file."""
    if isinstance(name_or_path, Arch):
        return name_or_path
    key = str(name_or_path)
    if key in ARCHS:
        return ARCHS[key]
    if key.endswith(".toml") or Path(key).exists():  # a FIFO or device is read (and refused) as a file, not a name
        from .spec import load_arch

        return load_arch(key)
    close = difflib.get_close_matches(key, list(ARCHS), n=3, cutoff=0.5)
    hint = f"; did you mean {', '.join(close)}?" if close else f"; known: {', '.join(ARCHS)}"
    raise CostlabError(f"unknown architecture {key!r}{hint} (or give a FILE.toml)")


def resolve_resolution(arch: Arch, resolution: Optional[int], rho: Optional[float]) -> int:
    """--resolution R, or round(rho * native), or the native (paper) resolution."""
    if resolution is not None and rho is not None:
        raise CostlabError("give either a resolution or rho, not both")
    if rho is not None:
        return positive_int(max(1, scale_size_round(arch.resolution, multiplier(rho, "rho"))),
                            f"resolution round(rho x {arch.resolution})", MAX_SIZE)
    if resolution is None:
        return arch.resolution
    return positive_int(resolution, "resolution", MAX_SIZE)


def smallest_resolution(arch: Arch, node: Node, runs_at: int) -> Optional[int]:
    """The smallest square input node takes, at most runs_at (None if it does not run at runs_at): a bisection of
    shape-only walks, as a network that runs at one size runs at every larger one. PyTorch's rule, not a policy: most
    networks take an input smaller than the product of their strides (ResNet-50 runs at 1x1)."""
    from ..core.graph import ShapeError, walk

    def runs(size: int) -> bool:
        try:
            walk(node, Shape(arch.in_channels, size, size))
            return True
        except ShapeError:
            return False

    low, high = 1, runs_at
    if not runs(high):
        return None
    while low < high:
        middle = (low + high) // 2
        low, high = (low, middle) if runs(middle) else (middle + 1, high)
    return high


def too_small(arch: Arch, node: Node, size: int, source: str, why: str) -> CostlabError:
    """The one-line error for an input the network cannot take, naming its smallest input where there is one."""
    given = f"resolution {size}" + (f" (from {source})" if source else "")
    smallest = smallest_resolution(arch, node, max(arch.resolution, size))
    need = f"; the smallest it takes is {smallest}" if smallest is not None and smallest > size else ""
    return CostlabError(f"{given} is too small for {arch.name}: {why}{need}")


def analyze_at(arch: Arch, node: Node, size: int, convention: str, batch: int, alpha: Optional[float],
               source: str = "", depth: Optional[float] = None) -> Analysis:
    """analyze node at a square input, a shape error below the native resolution told as the input being too small
    (a kernel larger than what is left of the input), with the smallest input the network takes; a size past a
    limit told with the options that drove it (alpha and depth as given)."""
    from ..core.graph import ShapeError

    try:
        return analyze(node, Shape(arch.in_channels, size, size), convention, arch.name, batch, alpha)
    except SizeError as exc:
        raise explain_size(arch, exc, alpha, depth) from None
    except ShapeError as exc:
        if size >= arch.resolution:
            raise
        raise too_small(arch, node, size, source, str(exc)) from None


def with_width_rule(arch: Arch, width_rule: Optional[str]) -> Arch:
    """arch with its width rule set to width_rule ('torchvision' or 'paper', scaling.WIDTH_RULES); None keeps its own."""
    if width_rule is None or width_rule == arch.rules.width_rule:
        return arch
    choice(width_rule, WIDTH_RULES, "width rule")
    require(_rules_differ(arch), f"width rule {width_rule!r} changes nothing for {arch.name}: the two rules differ "
                                 f"only where a table gives absolute expansion sizes, a per-input head, a hidden "
                                 f"classifier layer or a stem kept narrow (MobileNetV3's)")
    return replace(arch, rules=replace(arch.rules, width_rule=width_rule))


def _rules_differ(arch: Arch) -> bool:
    """Whether the paper and torchvision width rules can give arch different widths (nets/network.py reads the
    rule in exactly these places)."""
    return (any(stage.expanded is not None for stage in arch.stages) or arch.head.per_input is not None
            or bool(arch.classifier.hidden) or arch.rules.stem_kept_below > 0)


def arch_graph(name_or_toml_path: ArchLike, alpha: Optional[float] = None, resolution: Optional[int] = None,
               rho: Optional[float] = None, depth: Optional[float] = None, width_rule: Optional[str] = None) -> Built:
    """The graph of an architecture at width alpha and depth multiplier depth (each times the variant's own), and
    its input shape. Repeats per stage become ceil(n * depth_mult), EfficientNet's rule. width_rule: how alpha
    applies (scaling.WIDTH_RULES; None: the architecture's own, torchvision's for the built-ins)."""
    arch = with_width_rule(get_arch(name_or_toml_path), width_rule)
    if alpha is not None:
        multiplier(alpha, "alpha")
    if depth is not None:
        product = arch.depth_mult * multiplier(depth, "depth")
        multiplier(product, f"--depth {depth:g} x {arch.name}'s own depth multiplier {arch.depth_mult:g}")
        arch = replace(arch, depth_mult=product)
    size = resolve_resolution(arch, resolution, rho)
    try:
        node = build_graph(arch, alpha)
    except SizeError as exc:
        raise explain_size(arch, exc, alpha, depth) from None
    return Built(node, Shape(arch.in_channels, size, size), arch, 1.0 if alpha is None else alpha,
                 width_of(arch, alpha))


# the stage keys a width or a layer count grows from, as a TOML file names them
_GROWING_KEYS = ("channels", "expand", "expanded", "widths", "repeats")


def explain_size(arch: Arch, exc: SizeError, alpha: Optional[float] = None, depth: Optional[float] = None) -> SizeError:
    """exc told with what drove the size there: the options given (--alpha, --depth), the variant's own multipliers
    and the keys of the stage it happened in (a dense block's repeats x growth, an expansion ratio...)."""
    drivers = [f"--alpha {alpha:g}"] if alpha is not None and alpha != 1 else []
    drivers += [f"width_mult {arch.width_mult:g}"] if arch.width_mult != 1 else []
    drivers += [f"--depth {depth:g}"] if depth is not None and depth != 1 else []
    stage = re.match(r"stage(\d+)\b", exc.path)
    if stage and int(stage.group(1)) <= len(arch.stages):
        row = arch.stages[int(stage.group(1)) - 1]
        keys = stage_kind(row.block).keys
        given = [f"{key} {_text(getattr(row, key))}" for key in _GROWING_KEYS
                 if key in keys and getattr(row, key) not in (None, (), 1, 1.0)]
        drivers += [f"stage{stage.group(1)}'s " + ", ".join(given)] if given else []
    grown = f" (from {', '.join(drivers)})" if drivers else ""
    return SizeError(exc.path, f"{exc.detail}{grown}")


def _text(value) -> str:
    return f"{value:g}" if isinstance(value, float) else ",".join(map(str, value)) if isinstance(value, tuple) else str(value)


def _rho_source(arch: Arch, rho: Optional[float]) -> str:
    return f"rho {rho:g} x {arch.resolution}" if rho is not None else ""


def analyze_arch(name_or_toml_path: ArchLike, alpha: Optional[float] = None, resolution: Optional[int] = None,
                 rho: Optional[float] = None, convention: str = DEFAULT_CONVENTION, batch: int = 1,
                 depth: Optional[float] = None, width_rule: Optional[str] = None) -> Analysis:
    """Per-layer rows and totals of an architecture; the analysis names the width rule applied."""
    positive_int(batch, "batch", MAX_BATCH)
    built = arch_graph(name_or_toml_path, alpha, resolution, rho, depth, width_rule)
    analysis = analyze_at(built.arch, built.node, built.input_shape.h, convention, batch, built.alpha,
                          _rho_source(built.arch, rho), depth)
    return replace(analysis, width_rule=built.arch.rules.width_rule, depth=depth)


def sweep(name_or_toml_path: ArchLike, alphas: Sequence[float], resolutions: Sequence[int],
          convention: str = DEFAULT_CONVENTION, width_rule: Optional[str] = None) -> list[SweepPoint]:
    """One point per (alpha, resolution): params, macs, flops. The graph is built once per alpha."""
    arch = with_width_rule(get_arch(name_or_toml_path), width_rule)
    require(len(alphas) > 0 and len(resolutions) > 0, "a sweep needs at least one alpha and one resolution")
    points = []
    for alpha in alphas:
        node = arch_graph(arch, alpha, arch.resolution).node
        for size in resolutions:
            size = resolve_resolution(arch, size, None)
            a = analyze_at(arch, node, size, convention, 1, alpha)
            points.append(SweepPoint(alpha, size, a.params, a.macs))
    return points
