"""Optional dependencies: the analytic core needs click, pandas and matplotlib; tracing real models needs the
`trace` extra (torch, torchvision, fvcore). A feature that needs what is missing says so in one line."""

from __future__ import annotations

import importlib.util

from .errors import CostlabError

TRACE = ("torch", "torchvision", "fvcore")


def require(feature: str, modules: tuple[str, ...] = TRACE, install: str = "pip install 'costlab[trace]'") -> None:
    """Raise a CostlabError naming the missing modules and how to install them, if any is missing."""
    missing = [m for m in modules if importlib.util.find_spec(m) is None]
    if missing:
        verb = "is" if len(missing) == 1 else "are"
        raise CostlabError(f"{feature} needs {', '.join(missing)}, which {verb} not installed: {install}")
