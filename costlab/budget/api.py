"""`costlab.assert_budget`: a budget among a project's own pytest tests."""

from __future__ import annotations

import os
from typing import Any, Optional, Sequence

from ..core.conventions import CONVENTIONS, DEFAULT_CONVENTION
from ..errors import CostlabError
from .check import Result, measure
from .schema import LIMITS, default_name, parse_input, parse_limit, suggest


def assert_budget(model_or_name: Any, input: Optional[Sequence[int]] = None, resolution: Optional[int] = None,
                  alpha: Optional[float] = None, convention: str = DEFAULT_CONVENTION,
                  max_macs: Any = None, max_flops: Any = None, max_params: Any = None) -> list[Result]:
    """Raise AssertionError naming every exceeded limit; return the results when all hold.

    model_or_name: a built-in name, an architecture TOML path, 'MODULE:CALLABLE', or an nn.Module
    instance (the last two are traced with torch). Limits are ints or SI strings ('400M', '5.3M').
    """
    given = {"max_macs": max_macs, "max_flops": max_flops, "max_params": max_params}
    limits = [(LIMITS[k], parse_limit(v, k)) for k, v in given.items() if v is not None]
    if not limits:
        raise CostlabError("assert_budget needs at least one of max_macs, max_flops, max_params")
    if convention not in CONVENTIONS:
        raise CostlabError(f"unknown convention {convention!r}{suggest(str(convention), CONVENTIONS)}")
    input_shape = None if input is None else parse_input(input)
    model = os.fspath(model_or_name) if isinstance(model_or_name, os.PathLike) else model_or_name
    label = model if isinstance(model, str) else type(model).__name__
    name = default_name(label, resolution, alpha, input_shape, convention)
    analysis = measure(model, resolution, alpha, input_shape, convention)
    results = [Result(name, label, metric, limit, int(getattr(analysis, metric))) for metric, limit in limits]
    failed = [r for r in results if not r.ok]
    if failed:
        raise AssertionError("budget exceeded: " + "; ".join(r.message() for r in failed))
    return results
