"""costlab: what a convolutional network, block or layer costs (params, MACs, FLOPs = 2 x MACs) and why."""

__version__ = "0.1.0"


def __getattr__(name: str):
    # Lazy, so `import costlab` stays light (no torch); assert_budget imports torch only for nn.Modules.
    if name == "assert_budget":
        from .budget import assert_budget

        return assert_budget
    raise AttributeError(f"module 'costlab' has no attribute {name!r}")
