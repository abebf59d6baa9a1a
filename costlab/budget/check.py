"""Counting each budget's model and comparing it with the limits."""

from __future__ import annotations

from collections import Counter

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional, Sequence

from ..core.conventions import DEFAULT_CONVENTION
from ..errors import CostlabError
from ..core.analyze import Analysis
from ..core.traffic import DEFAULT_DTYPE_BYTES
from ..io.render import counts_text
from .schema import LATENCY_METRIC, Budget, is_module_spec, load_budgets


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
    """One limit of one budget: holds when actual <= limit. Counts are exact ints; a latency (metric latency_ms) is
    milliseconds predicted on `device`."""

    name: str
    model: str
    metric: str
    limit: float
    actual: float
    line: Optional[int] = None
    device: str = ""
    # ops of a traced model that compute and that no rule prices (traced.trace.unpriced_op): 0 in `actual`, by name
    unpriced: tuple[tuple[str, int], ...] = ()

    @property
    def ok(self) -> bool:
        return self.actual <= self.limit

    def text(self, value: float) -> str:
        """A limit, actual or headroom as printed: '300,774,272' for a count, '12.345 ms' for a latency."""
        return f"{value:,.3f} ms" if self.metric == LATENCY_METRIC else f"{value:,}"

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
        """JSON and CSV row; a latency row also names its device."""
        pct = self.headroom_pct
        out = {"name": self.name, "model": self.model, "metric": self.metric, "limit": self.limit,
               "actual": self.actual, "headroom": self.headroom,
               "headroom_pct": None if pct is None else round(pct, 2), "ok": self.ok}
        out = {**out, "device": self.device} if self.device else out
        return {**out, "unpriced_ops": dict(self.unpriced)} if self.unpriced else out

    def unpriced_text(self) -> str:
        """'fft [m:f]: macs leaves out unpriced ops (no rule prices them; counted as 0): _fft_r2c x1', '' if none."""
        if not self.unpriced:
            return ""
        who = self.name if self.model in self.name else f"{self.name} [{self.model}]"
        return f"{who}: {self.metric} leaves out unpriced ops (no rule prices them; counted as 0): " + \
            counts_text(dict(self.unpriced))

    def message(self) -> str:
        """One line naming model and metric: 'mobilenet_v1: macs 568,740,352 exceeds max_macs 500,000,000 by 68,740,352 (13.7%)';
        a latency adds its device: 'latency_ms 13.100 ms on jetson-nano exceeds max_latency_ms 12.000 ms by ...'."""
        who = self.name if self.model in self.name else f"{self.name} [{self.model}]"
        what = f"{self.metric} {self.text(self.actual)}" + (f" on {self.device}" if self.device else "")
        if self.ok:
            return f"{who}: {what} within {self.key} {self.text(self.limit)}"
        over = -self.headroom
        share = f" ({100 * over / self.limit:.1f}%)" if self.limit else ""
        return f"{who}: {what} exceeds {self.key} {self.text(self.limit)} by {self.text(over)}{share}"


def predicted_latency_ms(model: Any, analysis: Any, device, input_shape: Optional[Sequence[int]] = None,
                         resolution: Optional[int] = None) -> tuple[float, dict]:
    """(the roofline's whole-model prediction on device (fp32, at the device's thread count, else 1), the ops it
    could not price, by name): over an analysed network's rows (no torch; every row priced), or over a
    MODULE:CALLABLE's / nn.Module's traced ops (perf.traced_latency)."""
    threads = device.threads or 1
    if isinstance(analysis, Analysis):
        from ..perf.roofline import predict

        return sum(layer.predicted_ms for layer in predict(analysis, device, threads=threads)), {}
    from ..perf.traced_latency import traced_layers, unplaced_ops

    dims = tuple(input_shape) if input_shape is not None else (1, 3, resolution, resolution)
    trace, layers = traced_layers(model, dims, device, DEFAULT_DTYPE_BYTES, threads)
    return sum(layer.predicted_ms for layer in layers), unplaced_ops(trace)


def model_label(model: Any) -> str:
    """How a result names its model: the name or path as given, an nn.Module instance by its class."""
    return model if isinstance(model, str) else type(model).__name__


def limit_result(name: str, model: Any, metric: str, limit: float, analysis: Any, device=None, input_shape=None,
                 resolution=None, line: Optional[int] = None) -> Result:
    """One limit's Result. A count (macs, flops, params) is the analysis' own, with the ops its count left out (none
    for params); a latency (max_latency_ms) is the roofline's prediction on device, with the ops the count left out
    and those the roofline gives no time, each op once."""
    unpriced = () if metric == "params" else unpriced_of(analysis)
    if metric != LATENCY_METRIC:
        return Result(name, model_label(model), metric, limit, int(getattr(analysis, metric)), line,
                      unpriced=unpriced)
    actual, unplaced = predicted_latency_ms(model, analysis, device, input_shape, resolution)
    unpriced = tuple(sorted((Counter(dict(unpriced)) | Counter(unplaced)).items()))
    return Result(name, model_label(model), metric, limit, actual, line, device.name, unpriced)


def unpriced_of(analysis: Any) -> tuple[tuple[str, int], ...]:
    """A traced count's unpriced ops as sorted (name, count) pairs; () for an analysed network (every row priced)."""
    return tuple(sorted(dict(getattr(analysis, "unpriced", None) or {}).items()))


def evaluate(budgets: Sequence[Budget]) -> list[Result]:
    """Count each budget's model (each distinct setting once) and compare with every limit; a latency limit is the
    roofline's prediction on the budget's device."""
    cache: dict[tuple, Any] = {}
    results = []
    for b in budgets:
        key = (b.model, b.resolution, b.alpha, b.input, b.convention, b.base_dir)
        try:
            if key not in cache:
                cache[key] = measure(b.model, b.resolution, b.alpha, b.input, b.convention, b.base_dir)
            analysis = cache[key]
            results += [limit_result(b.name, b.model, metric, limit, analysis, b.device, b.input, b.resolution,
                                     b.line) for metric, limit in b.limits]
        except CostlabError as exc:
            raise CostlabError(f"{b.where or repr(b.name)}: {exc}") from None
    return results


def check_file(path: str | os.PathLike) -> list[Result]:
    """Load, validate and evaluate a budget file."""
    return evaluate(load_budgets(path))
