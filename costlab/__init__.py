"""costlab: what a convolutional network, block or layer costs (params, MACs, FLOPs = 2 x MACs) and why.

The Python API (costlab.api) is reached lazily, so `import costlab` stays light: no torch, no pandas.
"""

__version__ = "0.1.0"

API = ("arch", "layers", "by_stage", "by_type", "compare", "sweep", "list_archs", "count", "build")


def __getattr__(name: str):
    if name == "assert_budget":
        from .budget.api import assert_budget

        return assert_budget
    if name in API:
        from . import api

        return getattr(api, name)
    raise AttributeError(f"module 'costlab' has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + ["assert_budget", *API])
