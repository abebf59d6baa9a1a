"""Counting each budget's model and comparing it with the limits."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional, Sequence

from ..core.conventions import DEFAULT_CONVENTION
from ..errors import CostlabError
from .schema import Budget, is_module_spec, load_budgets


def measure(model: Any, resolution: Optional[int] = None, alpha: Optional[float] = None,
            input_shape: Optional[Sequence[int]] = None, convention: str = DEFAULT_CONVENTION,
            base_dir: Optional[Path] = None) -> Any:
    """Count a model: built-in name or architecture TOML analytically (no torch); MODULE:CALLABLE or an nn.Module via costlab.trace.

    Returns an object with .params, .macs and .flops (exact ints).
    """
    if isinstance(model, os.PathLike):
        model = os.fspath(model)
    if isinstance(model, str) and not is_module_spec(model):
        return _measure_arch(model, resolution, alpha, input_shape, convention, base_dir)
    if alpha is not None:
        raise CostlabError(f"alpha applies to built-in and TOML models only, not to {_describe(model)}")
    if input_shape is None:
        if resolution is None:
            raise CostlabError(f"{_describe(model)}: give an input shape N,C,H,W (or a resolution for a 3-channel input)")
        input_shape = (1, 3, resolution, resolution)
    return _trace(model, tuple(input_shape), convention)


def _measure_arch(model: str, resolution, alpha, input_shape, convention: str, base_dir: Optional[Path]):
    from ..nets.registry import analyze_arch  # analytic: no torch

    batch = 1
    if input_shape is not None:
        batch, _, h, w = input_shape
        if h != w:
            raise CostlabError(f"{model}: built-in and TOML models take square inputs, got {list(input_shape)}")
        if resolution is not None and resolution != h:
            raise CostlabError(f"{model}: input {list(input_shape)} disagrees with resolution {resolution}")
        resolution = h
    target = model
    if model.lower().endswith(".toml"):
        target = _resolve_toml(model, base_dir)
    analysis = analyze_arch(target, alpha=alpha, resolution=resolution, convention=convention, batch=batch)
    if input_shape is not None and analysis.input_shape.c != input_shape[1]:
        raise CostlabError(f"{model} takes {analysis.input_shape.c} input channels, but input gives {input_shape[1]}")
    return analysis


def _resolve_toml(model: str, base_dir: Optional[Path]) -> str:
    path = Path(model)
    if not path.is_absolute() and base_dir is not None:
        path = base_dir / path
    if not path.exists():  # a directory or an unreadable file gets its own message from the loader
        where = f" (relative to the budget file's folder {base_dir})" if base_dir is not None and not Path(model).is_absolute() else ""
        raise CostlabError(f"architecture file not found: {model}{where}")
    return str(path)


def _trace(model: Any, input_shape: tuple, convention: str):
    from ..extras import require

    require(f"counting {_describe(model)}", ("torch",))
    from ..traced.count import analyze_module  # torch only here: MODULE:CALLABLE budgets and nn.Module instances

    return analyze_module(model, input_shape, convention=convention)


def _describe(model: Any) -> str:
    return repr(model) if isinstance(model, str) else f"a {type(model).__name__} instance"


@dataclass(frozen=True)
class Result:
    """One limit of one budget: holds when actual <= limit."""

    name: str
    model: str
    metric: str
    limit: int
    actual: int
    line: Optional[int] = None

    @property
    def ok(self) -> bool:
        return self.actual <= self.limit

    @property
    def key(self) -> str:
        return f"max_{self.metric}"

    @property
    def headroom(self) -> int:
        """limit - actual: negative when exceeded."""
        return self.limit - self.actual

    @property
    def headroom_pct(self) -> Optional[float]:
        """100 * (limit - actual) / limit, or None for a zero limit."""
        return 100 * self.headroom / self.limit if self.limit else None

    def as_dict(self) -> dict:
        pct = self.headroom_pct
        return {"name": self.name, "model": self.model, "metric": self.metric, "limit": self.limit,
                "actual": self.actual, "headroom": self.headroom,
                "headroom_pct": None if pct is None else round(pct, 2), "ok": self.ok}

    def message(self) -> str:
        """One line naming model and metric: 'mobilenet_v1: macs 568,740,352 exceeds max_macs 500,000,000 by 68,740,352 (13.7%)'."""
        who = self.name if self.model in self.name else f"{self.name} [{self.model}]"
        if self.ok:
            return f"{who}: {self.metric} {self.actual:,} within {self.key} {self.limit:,}"
        over = -self.headroom
        share = f" ({100 * over / self.limit:.1f}%)" if self.limit else ""
        return f"{who}: {self.metric} {self.actual:,} exceeds {self.key} {self.limit:,} by {over:,}{share}"


def evaluate(budgets: Sequence[Budget]) -> list[Result]:
    """Count each budget's model (each distinct setting once) and compare with every limit."""
    cache: dict[tuple, Any] = {}
    results = []
    for b in budgets:
        key = (b.model, b.resolution, b.alpha, b.input, b.convention, b.base_dir)
        if key not in cache:
            try:
                cache[key] = measure(b.model, b.resolution, b.alpha, b.input, b.convention, b.base_dir)
            except CostlabError as exc:
                raise CostlabError(f"{b.where or repr(b.name)}: {exc}") from None
        analysis = cache[key]
        results.extend(Result(b.name, b.model, metric, limit, int(getattr(analysis, metric)), b.line)
                       for metric, limit in b.limits)
    return results


def check_file(path: str | os.PathLike) -> list[Result]:
    """Load, validate and evaluate a budget file."""
    return evaluate(load_budgets(path))
