"""`costlab.assert_budget`: a budget among a project's own pytest tests."""

from __future__ import annotations

import os
import warnings
from typing import Any, Optional, Sequence

from ..core.conventions import CONVENTIONS, DEFAULT_CONVENTION
from ..errors import CostlabError
from ..perf.devices import Device
from .check import Result, limit_result, measure, model_label
from .schema import (LATENCY_KEY, LATENCY_METRIC, LIMITS, default_name, latency_device, parse_input, parse_latency,
                     parse_limit, suggest)


def assert_budget(model_or_name: Any, input: Optional[Sequence[int]] = None, resolution: Optional[int] = None,
                  alpha: Optional[float] = None, convention: str = DEFAULT_CONVENTION,
                  max_macs: Any = None, max_flops: Any = None, max_params: Any = None,
                  max_latency_ms: Optional[float] = None, device: Any = None, strict: bool = False) -> list[Result]:
    """Raise AssertionError naming every exceeded limit; return the results when all hold.

    A traced model that runs unpriced ops (no rule prices them; its MACs count them as 0) gets a warning naming them,
    and with strict=True an AssertionError, as `costlab check --strict` exits 1.

    model_or_name: a built-in name, an architecture TOML path, 'MODULE:CALLABLE', or an nn.Module
    instance (the last two are traced with torch). Limits are ints or SI strings ('400M', '5.3M');
    max_latency_ms is milliseconds predicted on device (a shipped profile name, a device TOML path or a Device).
    """
    given = {"max_macs": max_macs, "max_flops": max_flops, "max_params": max_params}
    limits = [(LIMITS[k], parse_limit(v, k)) for k, v in given.items() if v is not None]
    profile = device if isinstance(device, Device) else None
    if profile is None and (max_latency_ms is not None or device is not None):
        table = {k: v for k, v in ((LATENCY_KEY, max_latency_ms), ("device", device)) if v is not None}
        profile = latency_device(table, "assert_budget", None)
    if max_latency_ms is not None:
        limits.append((LATENCY_METRIC, parse_latency(max_latency_ms, LATENCY_KEY)))
    if not limits:
        raise CostlabError(f"assert_budget needs at least one of max_macs, max_flops, max_params, {LATENCY_KEY}")
    if convention not in CONVENTIONS:
        raise CostlabError(f"unknown convention {convention!r}{suggest(str(convention), CONVENTIONS)}")
    input_shape = None if input is None else parse_input(input)
    model = os.fspath(model_or_name) if isinstance(model_or_name, os.PathLike) else model_or_name
    name = default_name(model_label(model), resolution, alpha, input_shape, convention)
    analysis = measure(model, resolution, alpha, input_shape, convention)
    results = [limit_result(name, model, metric, limit, analysis, profile, input_shape, resolution)
               for metric, limit in limits]
    failed = [r for r in results if not r.ok]
    leaving_out = [r.unpriced_text() for r in results if r.unpriced]
    problems = ["budget exceeded: " + "; ".join(r.message() for r in failed)] if failed else []
    if strict and leaving_out:
        problems.append("strict: " + "; ".join(leaving_out))
    if problems:
        raise AssertionError("; ".join(problems))
    for text in leaving_out:
        warnings.warn(text, stacklevel=2)
    return results
